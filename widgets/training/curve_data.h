// SPDX-License-Identifier: Apache-2.0
// The data behind the training curves: a series keeps every point it was given (never
// downsampled), each with the three places it can be drawn at — global step, epoch, wall time —
// plus TensorBoard's smoothing and a series' CSV form. No widgets. Layer: widgets.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace netwright::widgets {

// What the curves' x-axis counts.
enum class CurveAxis { Step, Epoch, Samples, WallTime };

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// One point of a series. epoch: fractional, 1.0 is the end of the first epoch; wallTime: seconds
// since the Unix epoch (as TensorBoard's CSV); samples: the training samples seen up to and with
// this step (the sum of the batch sizes); NaN where the source does not say.
struct CurvePoint {
    int64_t step = 0;
    double epoch = kUnknown, wallTime = kUnknown;
    double value = 0;
    double samples = kUnknown;
};

// The index of the point of `points` (ascending keys) whose key is nearest to `key`; -1 if none.
template <typename KeyOf>
int nearestPoint(const std::vector<CurvePoint> &points, double key, KeyOf keyOf)
{
    if (points.empty())
        return -1;
    const auto it = std::lower_bound(points.begin(), points.end(), key, [&](const CurvePoint &p, double k) { return keyOf(p) < k; });
    if (it == points.end())
        return static_cast<int>(points.size()) - 1;
    if (it != points.begin() && std::abs(keyOf(*(it - 1)) - key) <= std::abs(keyOf(*it) - key))
        return static_cast<int>(it - points.begin()) - 1;
    return static_cast<int>(it - points.begin());
}

// TensorBoard's smoothing: an exponential moving average with `weight` in [0, 1), divided by
// (1 - weight^n) so that it starts at the first value instead of at 0; a non-finite value is
// passed through and does not enter the average. Same length as `values`.
std::vector<double> smoothDebiased(const std::vector<double> &values, double weight);

// The same average one value at a time (a live run's steps).
class DebiasedEma {
public:
    explicit DebiasedEma(double weight = 0) : m_weight(weight) {}
    double push(double value);

private:
    double m_weight, m_last = 0;
    int64_t m_counted = 0;
};

// The series as CSV: a header `step,epoch,samples,wall_time,value`, then one row per point, numbers with
// round-trip precision, unknown fields empty, non-finite values as `nan`/`inf`.
std::string curveCsv(const std::vector<CurvePoint> &points);

} // namespace netwright::widgets

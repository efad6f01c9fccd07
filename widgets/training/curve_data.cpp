// SPDX-License-Identifier: Apache-2.0
#include "training/curve_data.h"

#include <charconv>
#include <cmath>

namespace netwright::widgets {

double DebiasedEma::push(double value)
{
    if (!std::isfinite(value))
        return value;
    m_last = m_weight * m_last + (1 - m_weight) * value;
    ++m_counted;
    const double debias = m_weight > 0 ? 1 - std::pow(m_weight, static_cast<double>(m_counted)) : 1;
    return debias > 0 ? m_last / debias : value;
}

std::vector<double> smoothDebiased(const std::vector<double> &values, double weight)
{
    std::vector<double> out;
    out.reserve(values.size());
    DebiasedEma ema(weight);
    for (const double v : values)
        out.push_back(ema.push(v));
    return out;
}

namespace {

void appendNumber(std::string &out, double v)
{
    if (std::isnan(v)) {
        out += "nan";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "inf" : "-inf";
        return;
    }
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v); // shortest round-trip form
    out.append(buffer, r.ptr);
}

} // namespace

std::string curveCsv(const std::vector<CurvePoint> &points)
{
    std::string out = "step,epoch,samples,wall_time,value\n";
    for (const CurvePoint &p : points) {
        out += std::to_string(p.step);
        out += ',';
        if (std::isfinite(p.epoch))
            appendNumber(out, p.epoch);
        out += ',';
        if (std::isfinite(p.samples))
            appendNumber(out, p.samples);
        out += ',';
        if (std::isfinite(p.wallTime))
            appendNumber(out, p.wallTime);
        out += ',';
        appendNumber(out, p.value);
        out += '\n';
    }
    return out;
}

} // namespace netwright::widgets

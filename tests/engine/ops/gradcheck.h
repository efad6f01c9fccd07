// SPDX-License-Identifier: Apache-2.0
// Test support: finite-difference gradient checks of one node through the real Executor, plus
// small helpers for random tensors and element-wise comparison.
#pragma once

#include "core/rng.h"
#include "graph/graph.h"

#include <set>
#include <string>
#include <vector>

namespace netwright::testing {

Tensor randomTensor(const Shape &shape, Rng &rng, float lo = -1.0f, float hi = 1.0f);

struct GradCheckResult {
    double maxError = 0.0; // max over elements of |analytic − numeric| / (atol + rtol·max(|a|,|n|))
    std::string worst;     // where the worst element is, for the failure message
    int checked = 0;
};

// Builds {inputs as initializers} → node → Σ r·output, and compares d/d(input) from
// Executor::backward with central differences for every input index in `wrt`. A result with
// maxError ≤ 1 passes. training selects BatchNormalization/Dropout mode (Dropout's stream is
// reset before every evaluation so the mask is fixed).
GradCheckResult gradCheck(const Node &node, const std::vector<Tensor> &inputs, const std::set<size_t> &wrt,
                          bool training = false, double eps = 1e-2, double atol = 2e-3, double rtol = 2e-2);

// Runs the node forward (inference unless training) and returns its first output.
Tensor runNode(const Node &node, const std::vector<Tensor> &inputs, bool training = false);

// max |a − b| over elements; shapes must match (QVERIFY in the caller).
double maxAbsDiff(const Tensor &a, const Tensor &b);

} // namespace netwright::testing

#define NW_GRADCHECK(node, inputs, wrt, ...)                                                                               \
    do {                                                                                                                   \
        const auto r_ = netwright::testing::gradCheck(node, inputs, wrt, ##__VA_ARGS__);                                   \
        QVERIFY2(r_.checked > 0, "no gradient element was checked");                                                       \
        QVERIFY2(r_.maxError <= 1.0, qPrintable(QString::fromStdString(r_.worst)));                                        \
    } while (0)

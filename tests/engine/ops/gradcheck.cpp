// SPDX-License-Identifier: Apache-2.0
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/error.h"

#include <cmath>

namespace netwright::testing {

Tensor randomTensor(const Shape &shape, Rng &rng, float lo, float hi)
{
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = lo + (hi - lo) * rng.uniform();
    return t;
}

namespace {

struct Harness {
    Graph graph;
    std::vector<std::string> inputNames;
    std::unique_ptr<Executor> exec;
    Rng dropout{1234};

    Harness(const Node &node, const std::vector<Tensor> &inputs, const std::set<size_t> &wrt, bool withLoss)
    {
        graph.name = "gradcheck";
        Node n = node;
        for (size_t i = 0; i < inputs.size(); ++i) {
            const std::string name = "x" + std::to_string(i);
            inputNames.push_back(name);
            if (!inputs[i].defined()) {
                n.inputs.push_back("");
                continue;
            }
            graph.addParameter(name, inputs[i].clone(), wrt.count(i) != 0);
            n.inputs.push_back(name);
        }
        if (n.outputs.empty())
            n.outputs = {"y"};
        graph.nodes.push_back(n);
        if (withLoss) {
            graph.addNode("Flatten", "flat", {n.outputs[0]}, {"yflat"}, {{"axis", int64_t(0)}});
            graph.addNode("Gemm", "dot", {"yflat", "r"}, {"loss"});
        }
    }
    void build() { exec = std::make_unique<Executor>(graph); exec->setDropoutRng(&dropout); }
    void forward(bool training)
    {
        dropout.reseed(1234);
        exec->forward({}, training);
    }
};

} // namespace

Tensor runNode(const Node &node, const std::vector<Tensor> &inputs, bool training)
{
    Harness h(node, inputs, {}, false);
    h.build();
    h.forward(training);
    return h.exec->value(h.graph.nodes[0].outputs[0]).clone();
}

GradCheckResult gradCheck(const Node &node, const std::vector<Tensor> &inputs, const std::set<size_t> &wrt, bool training,
                          double eps, double atol, double rtol)
{
    // Output shape first, to size the random projection r.
    const Tensor y = runNode(node, inputs, training);
    Harness h(node, inputs, wrt, true);
    Rng rng(99);
    h.graph.addParameter("r", randomTensor({y.numel(), 1}, rng), false);
    h.build();
    h.forward(training);
    h.exec->backward("loss");
    GradCheckResult result;
    for (size_t i : wrt) {
        const std::string &name = h.inputNames[i];
        const Tensor analytic = h.exec->gradient(name).clone();
        Tensor &x = h.graph.initializers.at(name);
        for (int64_t k = 0; k < x.numel(); ++k) {
            const float keep = x.data()[k];
            x.data()[k] = keep + static_cast<float>(eps);
            h.forward(training);
            const double plus = h.exec->value("loss").data()[0];
            x.data()[k] = keep - static_cast<float>(eps);
            h.forward(training);
            const double minus = h.exec->value("loss").data()[0];
            x.data()[k] = keep;
            const double numeric = (plus - minus) / (2.0 * eps);
            const double a = analytic.data()[k];
            const double err = std::abs(a - numeric) / (atol + rtol * std::max(std::abs(a), std::abs(numeric)));
            ++result.checked;
            if (err > result.maxError) {
                result.maxError = err;
                result.worst = node.opType + ": d/d input " + std::to_string(i) + " [" + std::to_string(k)
                               + "]: analytic " + std::to_string(a) + ", numeric " + std::to_string(numeric);
            }
        }
    }
    return result;
}

double maxAbsDiff(const Tensor &a, const Tensor &b)
{
    check(a.numel() == b.numel(), "maxAbsDiff: sizes differ");
    double m = 0.0;
    for (int64_t i = 0; i < a.numel(); ++i)
        m = std::max(m, static_cast<double>(std::abs(a.data()[i] - b.data()[i])));
    return m;
}

} // namespace netwright::testing

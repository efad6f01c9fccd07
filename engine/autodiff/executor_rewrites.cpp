// SPDX-License-Identifier: Apache-2.0
// The executor's graph rewrites, made once when it is built (engine/autodiff/executor.h): node
// patterns that one existing kernel computes whole replace their nodes in the compiled list, the
// graph itself unchanged (exports and inspection see what the file holds). NETWRIGHT_FUSION=0
// turns them off; executor_test holds each to the values and gradients of the nodes one by one.
#include "autodiff/executor.h"

#include "core/error.h"
#include "ops/op.h"

#include <algorithm>
#include <cmath>
#include <exception>

namespace netwright {

const Tensor *Executor::constantScalar(int id) const
{
    if (id < 0)
        return nullptr;
    const auto it = m_graph.initializers.find(m_names[id]);
    if (it == m_graph.initializers.end() || m_graph.trainable.count(it->first) || it->second.rank() != 0)
        return nullptr;
    return &it->second;
}

void Executor::readersAndWriters(std::vector<std::vector<size_t>> &consumers, std::vector<long> &producer) const
{
    consumers.assign(m_names.size(), {});
    for (size_t i = 0; i < m_nodes.size(); ++i)
        for (int id : m_nodes[i].inputs)
            if (id >= 0)
                consumers[id].push_back(i);
    for (const auto &out : m_graph.outputs)
        if (auto it = m_ids.find(out.name); it != m_ids.end())
            consumers[it->second].push_back(m_nodes.size());
    producer.assign(m_names.size(), -1);
    for (size_t i = 0; i < m_nodes.size(); ++i)
        for (int id : m_nodes[i].outputs)
            if (id >= 0)
                producer[id] = static_cast<long>(i);
}

void Executor::dropNodes(const std::vector<char> &drop)
{
    std::vector<CompiledNode> kept;
    kept.reserve(m_nodes.size());
    for (size_t i = 0; i < m_nodes.size(); ++i)
        if (!drop[i])
            kept.push_back(std::move(m_nodes[i]));
    m_nodes = std::move(kept);
}

// GELU written out, 0.5·x·(1 + erf(x/√2)) in five nodes (PyTorch's ONNX export before opset 20,
// and the two other usual orders), runs as one Gelu node: one pass over x each way instead of five
// and no intermediate values kept. Only where each intermediate value has no other reader.
void Executor::fuseGelus()
{
    if (m_device.type != DeviceType::Cpu)
        return;
    std::vector<std::vector<size_t>> consumers;
    std::vector<long> producer;
    readersAndWriters(consumers, producer);
    // A constant scalar (float32 or float64) near `want`: a rank ≥ 1 one could broadcast x to
    // another shape, which the fused node would not.
    auto isConstant = [&](int id, double want) {
        const Tensor *t = constantScalar(id);
        if (!t || (t->dtype() != DType::Float32 && t->dtype() != DType::Float64))
            return false;
        const double v = t->dtype() == DType::Float32 ? t->data()[0] : t->dataAs<double>()[0];
        return std::abs(v - want) <= 1e-6 * want;
    };
    // The node reading value `id` (a single output, float32) if it is its only reader and has type `op`.
    auto soleReader = [&](int id, const char *op) -> long {
        if (id < 0 || consumers[id].size() != 1 || consumers[id][0] >= m_nodes.size())
            return -1;
        const CompiledNode &c = m_nodes[consumers[id][0]];
        return c.node->opType == op && c.outputs.size() == 1 && c.outputs[0] >= 0 && m_types[c.outputs[0]] == DType::Float32
                   ? static_cast<long>(consumers[id][0])
                   : -1;
    };
    // A binary node's operand other than `id` (-2 when it has not exactly two, one of them `id`).
    auto otherOperand = [&](size_t node, int id) {
        const auto &in = m_nodes[node].inputs;
        return in.size() != 2 ? -2 : in[0] == id ? in[1] : in[1] == id ? in[0] : -2;
    };
    constexpr double kSqrt2 = 1.4142135623730951;
    std::vector<char> drop(m_nodes.size(), 0);
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        const CompiledNode &first = m_nodes[i];
        if (drop[i] || first.inputs.size() != 2 || first.outputs.size() != 1 || first.outputs[0] < 0)
            continue;
        int x = -1; // x/√2 or x·(1/√2)
        if (first.node->opType == "Div" && isConstant(first.inputs[1], kSqrt2))
            x = first.inputs[0];
        else if (first.node->opType == "Mul" && isConstant(first.inputs[1], 1.0 / kSqrt2))
            x = first.inputs[0];
        else if (first.node->opType == "Mul" && isConstant(first.inputs[0], 1.0 / kSqrt2))
            x = first.inputs[1];
        if (x < 0 || m_types[x] != DType::Float32 || m_types[first.outputs[0]] != DType::Float32)
            continue;
        const long erf = soleReader(first.outputs[0], "Erf");
        const long add = erf < 0 ? -1 : soleReader(m_nodes[erf].outputs[0], "Add");
        if (add < 0 || !isConstant(otherOperand(add, m_nodes[erf].outputs[0]), 1.0))
            continue;
        const int onePlusErf = m_nodes[add].outputs[0];
        const long m1 = soleReader(onePlusErf, "Mul");
        if (m1 < 0)
            continue;
        const int o1 = otherOperand(m1, onePlusErf);
        std::vector<size_t> chain{i, static_cast<size_t>(erf), static_cast<size_t>(add), static_cast<size_t>(m1)};
        long last = -1;
        if (o1 == x || isConstant(o1, 0.5)) { // (x·(1 + erf))·0.5 (PyTorch's export), or ((1 + erf)·0.5)·x
            const long m2 = soleReader(m_nodes[m1].outputs[0], "Mul");
            const int o2 = m2 < 0 ? -2 : otherOperand(m2, m_nodes[m1].outputs[0]);
            if (m2 < 0 || !(o1 == x ? isConstant(o2, 0.5) : o2 == x))
                continue;
            chain.push_back(static_cast<size_t>(m2));
            last = m2;
        } else if (o1 >= 0 && producer[o1] >= 0 && soleReader(o1, "Mul") == m1) { // (0.5·x)·(1 + erf)
            const auto half = static_cast<size_t>(producer[o1]);
            if (drop[half] || m_nodes[half].node->opType != "Mul"
                || !((m_nodes[half].inputs.size() == 2 && m_nodes[half].inputs[0] == x && isConstant(m_nodes[half].inputs[1], 0.5))
                     || (m_nodes[half].inputs.size() == 2 && m_nodes[half].inputs[1] == x && isConstant(m_nodes[half].inputs[0], 0.5))))
                continue;
            chain.push_back(half);
            last = m1;
        } else {
            continue;
        }
        const int y = m_nodes[last].outputs[0];
        Node &gelu = m_fusedNodes.emplace_back();
        gelu.name = m_nodes[last].node->name + " (GELU of " + m_names[x] + ")";
        gelu.opType = "Gelu";
        gelu.inputs = {m_names[x]};
        gelu.outputs = {m_names[y]};
        CompiledNode fused{&gelu, &kernelFor("Gelu", m_device.type, gelu), {x}, {y}, {DType::Float32}, {}, false};
        for (size_t n : chain)
            drop[n] = 1;
        drop[static_cast<size_t>(last)] = 0;
        m_nodes[static_cast<size_t>(last)] = std::move(fused);
    }
    dropNodes(drop);
}

// Attention's head split and merge around the per-head products, as PyTorch exports them:
// Transpose (1,0,2) or (1,2,0) of a rank-3 value, optionally scaled by a constant (q/√d), into a
// MatMul, and the product's Transpose (1,0,2) back. The MatMul then reads its operands and writes
// its result through strides (transposedMatMulKernel): no copies each way, in forward and backward.
// Only where each folded value has no other reader; the rest of the graph is unchanged.
void Executor::fuseHeadTransposes()
{
    if (m_device.type != DeviceType::Cpu)
        return;
    std::vector<std::vector<size_t>> consumers;
    std::vector<long> producer;
    readersAndWriters(consumers, producer);
    std::vector<char> drop(m_nodes.size(), 0);
    // Node n, if it is a one-output float32 node of type op whose output `reader` alone reads.
    auto soleOutputTo = [&](long n, const char *op, size_t reader) {
        if (n < 0 || drop[static_cast<size_t>(n)])
            return false;
        const CompiledNode &c = m_nodes[static_cast<size_t>(n)];
        return c.node->opType == op && c.outputs.size() == 1 && c.outputs[0] >= 0 && m_types[c.outputs[0]] == DType::Float32
               && consumers[c.outputs[0]].size() == 1 && consumers[c.outputs[0]][0] == reader;
    };
    // A Transpose's perm where it has a strided view: three entries, the last input dim not first.
    auto foldablePerm = [&](size_t n) -> std::vector<int64_t> {
        const CompiledNode &c = m_nodes[n];
        if (c.inputs.size() != 1 || c.inputs[0] < 0 || m_types[c.inputs[0]] != DType::Float32)
            return {};
        auto perm = c.node->attrInts("perm", {});
        std::vector<int64_t> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        return sorted == std::vector<int64_t>{0, 1, 2} && perm[0] != 2 ? perm : std::vector<int64_t>{};
    };
    // A constant float32 scalar, finite and not 0; its value in `v`.
    auto scalarConstant = [&](int id, float &v) {
        const Tensor *t = constantScalar(id);
        if (!t || t->dtype() != DType::Float32)
            return false;
        v = t->data()[0];
        return std::isfinite(v) && v != 0.0f;
    };
    // A MatMul next to a Transpose: without one, nothing to fold and no shape probe.
    const bool candidates = std::any_of(m_nodes.begin(), m_nodes.end(), [&](const CompiledNode &c) {
        if (c.node->opType != "MatMul")
            return false;
        for (int id : c.inputs)
            if (id >= 0 && producer[id] >= 0 && m_nodes[static_cast<size_t>(producer[id])].node->opType == "Transpose")
                return true;
        return c.outputs.size() == 1 && c.outputs[0] >= 0 && consumers[c.outputs[0]].size() == 1
               && consumers[c.outputs[0]][0] < m_nodes.size() && m_nodes[consumers[c.outputs[0]][0]].node->opType == "Transpose";
    });
    if (!candidates)
        return;
    // Each value's shape at a probe batch (every free input dim 2), as far as the shape rules give
    // it: the product reads through strides only rank-3 operands of one batch size, so a MatMul
    // whose operands are not known to be such keeps its nodes (its kernel would run them one by
    // one anyway, with extra copies).
    std::map<std::string, Shape> probe;
    try {
        std::map<std::string, Shape> inputs;
        for (const ValueInfo &v : m_graph.inputs) {
            Shape s = v.shape;
            for (int64_t &d : s)
                d = d < 0 ? 2 : d;
            inputs[v.name] = s;
        }
        probe = m_graph.inferShapes(inputs);
    } catch (const std::exception &) {
        return; // shapes unknown ahead of a run: nothing is folded
    }
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        const CompiledNode &mm = m_nodes[i];
        if (mm.node->opType != "MatMul" || mm.inputs.size() != 2 || mm.inputs[0] < 0 || mm.inputs[1] < 0 || mm.outputs.size() != 1
            || mm.outputs[0] < 0 || m_types[mm.outputs[0]] != DType::Float32 || m_types[mm.inputs[0]] != DType::Float32
            || m_types[mm.inputs[1]] != DType::Float32)
            continue;
        std::vector<size_t> folded;
        int scalar = -1; // the constant A was divided or multiplied by
        bool divides = false;
        std::vector<int64_t> perms[2], permY;
        int operand[2] = {mm.inputs[0], mm.inputs[1]};
        for (int k = 0; k < 2; ++k) {
            size_t reader = i;
            if (k == 0) { // A scaled by a constant: Div(x, c), Mul(x, c) or Mul(c, x)
                const long s = producer[operand[0]];
                float c = 0.0f;
                if (soleOutputTo(s, "Div", i) || soleOutputTo(s, "Mul", i)) {
                    const CompiledNode &sc = m_nodes[static_cast<size_t>(s)];
                    const bool div = sc.node->opType == "Div";
                    if (sc.inputs.size() == 2 && sc.inputs[0] >= 0 && m_types[sc.inputs[0]] == DType::Float32
                        && scalarConstant(sc.inputs[1], c) && (!div || std::isnormal(1.0f / c))) {
                        scalar = sc.inputs[1];
                        divides = div;
                        operand[0] = sc.inputs[0];
                    } else if (!div && sc.inputs.size() == 2 && sc.inputs[1] >= 0 && m_types[sc.inputs[1]] == DType::Float32
                               && scalarConstant(sc.inputs[0], c)) {
                        scalar = sc.inputs[0];
                        operand[0] = sc.inputs[1];
                    }
                    if (operand[0] != mm.inputs[0]) {
                        folded.push_back(static_cast<size_t>(s));
                        reader = static_cast<size_t>(s);
                    }
                }
            }
            const long t = producer[operand[k]];
            if (soleOutputTo(t, "Transpose", reader)) {
                perms[k] = foldablePerm(static_cast<size_t>(t));
                if (!perms[k].empty()) {
                    folded.push_back(static_cast<size_t>(t));
                    operand[k] = m_nodes[static_cast<size_t>(t)].inputs[0];
                }
            }
        }
        int y = mm.outputs[0];
        if (consumers[y].size() == 1 && consumers[y][0] < m_nodes.size()) {
            const size_t t = consumers[y][0];
            const auto perm = m_nodes[t].node->opType == "Transpose" ? foldablePerm(t) : std::vector<int64_t>{};
            if (!drop[t] && perm.size() == 3 && perm[2] == 2 && m_nodes[t].outputs.size() == 1 && m_nodes[t].outputs[0] >= 0) {
                permY = perm;
                folded.push_back(t);
                y = m_nodes[t].outputs[0];
            }
        }
        if (perms[0].empty() && perms[1].empty() && permY.empty())
            continue; // a scale alone is not worth a node of its own
        const auto sa = probe.find(m_names[operand[0]]), sb = probe.find(m_names[operand[1]]);
        if (sa == probe.end() || sb == probe.end() || sa->second.size() != 3 || sb->second.size() != 3
            || sa->second[perms[0].empty() ? 0 : static_cast<size_t>(perms[0][0])]
                   != sb->second[perms[1].empty() ? 0 : static_cast<size_t>(perms[1][0])])
            continue;
        Node &fused = m_fusedNodes.emplace_back();
        fused.name = mm.node->name + " (with its transposes)";
        fused.opType = "MatMul";
        fused.inputs = {m_names[operand[0]], m_names[operand[1]]};
        std::vector<int> inputs{operand[0], operand[1]};
        if (scalar >= 0) { // read at every run: an initializer written after the build is seen
            fused.inputs.push_back(m_names[scalar]);
            inputs.push_back(scalar);
            fused.attributes["scale"] = std::string(divides ? "div" : "mul");
        }
        fused.outputs = {m_names[y]};
        if (!perms[0].empty())
            fused.attributes["perm_a"] = perms[0];
        if (!perms[1].empty())
            fused.attributes["perm_b"] = perms[1];
        if (!permY.empty())
            fused.attributes["perm_y"] = permY;
        m_nodes[i] = CompiledNode{&fused, &transposedMatMulKernel(), inputs, {y}, {DType::Float32}, {}, false};
        for (size_t n : folded)
            drop[n] = 1;
    }
    dropNodes(drop);
}

} // namespace netwright

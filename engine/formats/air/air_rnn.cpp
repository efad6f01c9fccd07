// SPDX-License-Identifier: Apache-2.0
// LSTM, GRU and RNN as their exact step-by-step composition, as the MindIR writer maps them
// (mindir_rnn.cpp): GE's DynamicRNN/DynamicGRUV2 take one weight in their own layout and gate
// order, which would make the weights differ from the model's; here W, R and B stay the model's
// values and every step is GatherV2 of x_t, MatMulV2 (transpose_x2) + BiasAdd, StridedSlice per
// gate, Sigmoid/Tanh, Mul/Add/Sub; the outputs are Unsqueeze + ConcatD of the steps.
#include "formats/air/air_writer.h"

namespace netwright::air::exporter {

namespace {

bool allZero(const Tensor *t)
{
    return t && t->dtype() == DType::Float32 && std::all_of(t->data(), t->data() + t->numel(), [](float v) { return v == 0.0f; });
}

} // namespace

// True when `v` is zeros computed, not held as a weight: folded, or the ConstantOfShape of 0,
// or zeros selected and repeated (PyTorch's Slice and Expand of a zero tensor to the batch).
bool Writer::zeroFilled(const std::string &v, bool weightIsZeros) const
{
    const std::string &s = m_ig.source(v);
    if (const Tensor *w = m_ig.initializer(s))
        return weightIsZeros && allZero(w);
    if (const auto it = m_folded.find(s); it != m_folded.end())
        return allZero(&it->second);
    const auto producer = std::find_if(m_ig.nodes.begin(), m_ig.nodes.end(), [&](const Node *n) {
        return std::find(n->outputs.begin(), n->outputs.end(), s) != n->outputs.end();
    });
    if (producer == m_ig.nodes.end())
        return false;
    const Node &p = **producer;
    static const std::set<std::string> selecting{"Expand", "Slice", "Gather", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Tile", "Flatten"};
    if (selecting.count(p.opType))
        return !p.inputs.empty() && !p.inputs[0].empty() && zeroFilled(p.inputs[0], true);
    if (p.opType == "ConstantOfShape") {
        const auto value = p.attributes.find("value");
        return value == p.attributes.end() || allZero(std::get_if<Tensor>(&value->second)); // ONNX's default fill is a float 0
    }
    return false;
}

void Writer::rnn(const Node &n)
{
    const std::string &op = n.opType;
    const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
    const int64_t hidden = n.attrInt("hidden_size", 0);
    const std::string direction = n.attrString("direction", "forward");
    const int64_t dirs = direction == "bidirectional" ? 2 : 1;
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    const Shape &xs = shapeOf(n.inputs[0]);
    if (const std::string problem = recurrentProblem(n, xs); !problem.empty())
        return void(fail(n, problem));
    const bool usedY = !n.outputs.empty() && !n.outputs[0].empty() && m_used.count(n.outputs[0]);
    const bool usedH = n.outputs.size() > 1 && !n.outputs[1].empty() && m_used.count(n.outputs[1]);
    const bool usedC = op == "LSTM" && n.outputs.size() > 2 && !n.outputs[2].empty() && m_used.count(n.outputs[2]);
    const int64_t steps = xs[0], batch = xs[1], inputSize = xs[2], gh = gates * hidden;
    const bool linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
    const Shape bh{batch, hidden}, bg{batch, gh}, one{1, batch, hidden};
    const Port none{};
    auto absent = [](const Port &p) { return p.ref.empty(); };
    // A zero initial state filled in to the batch (ConstantOfShape, or PyTorch's Expand of
    // zeros) is written as none: the same computation. A state the model holds as a weight
    // stays, and is read.
    auto state = [&](size_t i) { return !has(i) || zeroFilled(n.inputs[i]) ? none : port(n.inputs[i]); };
    const Port X = port(n.inputs[0]), W = port(n.inputs[1]), R = port(n.inputs[2]);
    const Port B = has(3) ? port(n.inputs[3]) : none, H0 = state(5), C0 = op == "LSTM" ? state(6) : none;

    // Integer operands, one Const each per node.
    std::map<std::pair<bool, std::vector<int64_t>>, Port> operands;
    auto operandOf = [&](const std::vector<int64_t> &v, bool scalar) {
        const auto key = std::make_pair(scalar, v);
        if (const auto it = operands.find(key); it != operands.end())
            return it->second;
        const Tensor t = scalar ? Tensor::fromInt64({}, v) : int64s(v);
        return operands[key] = operandConst(n, "operand" + std::to_string(operands.size()), t);
    };
    std::string at = n.name; // the op names' prefix: the node, its direction and step
    auto name = [&](const std::string &what) { return at + "/" + what; };
    auto gather = [&](const Port &x, int64_t index, const Shape &s) {
        auto &g = compute("GatherV2", name("GatherV2"), {x, operandOf({index}, true), operandOf({0}, true)}, {s});
        integer(g, "batch_dims", 0);
        return out0(g, s);
    };
    // x[begin:end] on every axis, those whose mask bit is set taken whole.
    auto slice = [&](const Port &x, const std::vector<int64_t> &begin, const std::vector<int64_t> &end, int64_t mask, const Shape &s) {
        auto &o = compute("StridedSlice", name("StridedSlice"),
                          {x, operandOf(begin, false), operandOf(end, false), operandOf(std::vector<int64_t>(begin.size(), 1), false)}, {s});
        integer(o, "begin_mask", mask);
        integer(o, "end_mask", mask);
        integer(o, "ellipsis_mask", 0);
        integer(o, "new_axis_mask", 0);
        integer(o, "shrink_axis_mask", 0);
        return out0(o, s);
    };
    // x · wᵀ (+ bias along axis 1).
    auto dense = [&](const Port &x, const Port &w, const Port &bias, const Shape &s) {
        auto &mm = compute("MatMulV2", name("MatMulV2"), {x, w}, {s});
        boolean(mm, "transpose_x1", false);
        boolean(mm, "transpose_x2", true);
        integer(mm, "offset_x", 0);
        if (absent(bias))
            return out0(mm, s);
        auto &b = compute("BiasAdd", name("BiasAdd"), {out0(mm, s), bias}, {s});
        text(b, "data_format", "NCHW");
        return out0(b, s);
    };
    auto unsqueeze = [&](const Port &x, int64_t axis, const Shape &s) {
        auto &o = compute("Unsqueeze", name("Unsqueeze"), {x}, {s});
        ints(o, "axes", {axis});
        return out0(o, s);
    };
    auto concat = [&](const std::vector<Port> &parts, int64_t axis, const Shape &s) {
        if (parts.size() == 1)
            return parts[0];
        auto &o = compute("ConcatD", name("ConcatD"), parts, {s});
        integer(o, "concat_dim", axis);
        integer(o, "N", static_cast<int64_t>(parts.size()));
        return out0(o, s);
    };
    auto un = [&](const std::string &type, const Port &x) { return unary(type, name(type), x, bh); };
    auto bin = [&](const std::string &type, const Port &a, const Port &b, const Shape &s) { return binary(type, name(type), a, b, s); };
    // Gate k of a [batch, G·H] value.
    auto gate = [&](const Port &v, int64_t k) { return slice(v, {0, k * hidden}, {0, (k + 1) * hidden}, 1, bh); };
    auto range = [&](const Port &v, int64_t from, int64_t to) { return slice(v, {from}, {to}, 0, {to - from}); };

    const Port oneConst = op == "GRU" ? scalar(n, "one", 1.0f) : none;
    std::vector<Port> ys, hs, cs;
    for (int64_t d = 0; d < dirs; ++d) {
        const std::string dir = n.name + (dirs > 1 ? "/d" + std::to_string(d) : "");
        at = dir;
        const bool reverse = direction == "reverse" || d == 1;
        const Port w = gather(W, d, {gh, inputSize});
        Port r = gather(R, d, {gh, hidden});
        Port wb, rb, rbh, rh;
        if (!absent(B)) {
            const Port b = gather(B, d, {2 * gh});
            wb = range(b, 0, gh);
            rb = range(b, gh, 2 * gh);
        }
        if (op == "GRU" && !linearBeforeReset) {
            // (r ⊙ h)·Rhᵀ: the reset gate before the recurrent product of the hidden gate.
            rh = slice(r, {2 * hidden, 0}, {3 * hidden, 0}, 2, {hidden, hidden});
            r = slice(r, {0, 0}, {2 * hidden, 0}, 2, {2 * hidden, hidden});
            if (!absent(rb)) {
                rbh = range(rb, 2 * hidden, 3 * hidden);
                rb = range(rb, 0, 2 * hidden);
            }
        }
        Port h = absent(H0) ? none : gather(H0, d, bh);
        Port c = absent(C0) ? none : gather(C0, d, bh);
        std::vector<Port> outs(static_cast<size_t>(steps));
        for (int64_t s = 0; s < steps; ++s) {
            const int64_t t = reverse ? steps - 1 - s : s;
            at = dir + "/t" + std::to_string(t);
            const Port xt = gather(X, t, {batch, inputSize});
            const Port gx = dense(xt, w, wb, bg);
            const Shape rgShape{batch, op == "GRU" && !linearBeforeReset ? 2 * hidden : gh};
            // The recurrent term; with no initial state the first step's is the bias alone.
            const Port hr = !absent(h) ? dense(h, r, rb, rgShape) : rb;
            if (op == "RNN") {
                h = un("Tanh", absent(hr) ? gx : bin("Add", gx, hr, bg));
            } else if (op == "LSTM") {
                const Port a = absent(hr) ? gx : bin("Add", gx, hr, bg);
                const Port i = un("Sigmoid", gate(a, 0)), o = un("Sigmoid", gate(a, 1));
                const Port f = un("Sigmoid", gate(a, 2)), g = un("Tanh", gate(a, 3));
                const Port ig = bin("Mul", i, g, bh);
                c = absent(c) ? ig : bin("Add", bin("Mul", f, c, bh), ig, bh);
                h = bin("Mul", o, un("Tanh", c), bh);
            } else {
                auto sum = [&](const Port &a, const Port &b) { return absent(b) ? a : bin("Add", a, b, bh); };
                // The bias alone (no state yet) is [G·H]: sliced as a vector.
                auto part = [&](const Port &v, int64_t k) {
                    if (absent(v))
                        return none;
                    return !absent(h) ? gate(v, k) : range(v, k * hidden, (k + 1) * hidden);
                };
                const Port z = un("Sigmoid", sum(gate(gx, 0), part(hr, 0)));
                const Port rg = un("Sigmoid", sum(gate(gx, 1), part(hr, 1)));
                Port hn;
                if (linearBeforeReset) {
                    const Port hh = part(hr, 2);
                    hn = absent(hh) ? gate(gx, 2) : bin("Add", gate(gx, 2), bin("Mul", rg, hh, bh), bh);
                } else {
                    const Port rec = !absent(h) ? dense(bin("Mul", rg, h, bh), rh, rbh, bh) : rbh;
                    hn = sum(gate(gx, 2), rec);
                }
                hn = un("Tanh", hn);
                const Port keep = bin("Mul", bin("Sub", oneConst, z, bh), hn, bh);
                h = absent(h) ? keep : bin("Add", keep, bin("Mul", z, h, bh), bh);
            }
            if (usedY)
                outs[static_cast<size_t>(t)] = unsqueeze(h, 0, one);
        }
        at = dir;
        if (usedY)
            ys.push_back(unsqueeze(concat(outs, 0, {steps, batch, hidden}), 1, {steps, 1, batch, hidden}));
        if (usedH)
            hs.push_back(unsqueeze(h, 0, one));
        if (usedC && !absent(c))
            cs.push_back(unsqueeze(c, 0, one));
    }
    at = n.name;
    if (usedC && cs.size() != static_cast<size_t>(dirs))
        return void(fail(n, "Y_c of a zero-length state"));
    if (usedY)
        m_ports[n.outputs[0]] = concat(ys, 1, {steps, dirs, batch, hidden});
    if (usedH)
        m_ports[n.outputs[1]] = concat(hs, 0, {dirs, batch, hidden});
    if (usedC)
        m_ports[n.outputs[2]] = concat(cs, 0, {dirs, batch, hidden});
}

} // namespace netwright::air::exporter

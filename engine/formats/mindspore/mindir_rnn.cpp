// SPDX-License-Identifier: Apache-2.0
// The MindIR mapping of LSTM, GRU and RNN, as their exact step-by-step composition: MindSpore's
// own LSTM/GRU primitives take one flattened weight in their own gate order, which would make the
// weights differ from the model's; here W, R and B stay the model's tensors and every step is
// MatMul(transpose_b) + BiasAdd, StridedSlice per gate, Sigmoid/Tanh, Mul/Add.
#include "formats/mindspore/mindir_writer.h"

namespace netwright::mindspore::mindir {

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
        return refuse(n, problem);
    const int64_t steps = xs[0], batch = xs[1], gh = gates * hidden;
    const bool linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
    const Shape bh{batch, hidden}, bg{batch, gh};
    const std::string X = value(n.inputs[0]), W = value(n.inputs[1]), R = value(n.inputs[2]);
    // A zero initial state computed from the free batch (ConstantOfShape) is written as none:
    // the same computation.
    auto state = [&](size_t i) { return has(i) && !filledOf(n.inputs[i]) ? value(n.inputs[i]) : std::string(); };
    const std::string B = has(3) ? value(n.inputs[3]) : "", H0 = state(5);
    const std::string C0 = op == "LSTM" ? state(6) : "";
    const int64_t inputSize = xs[2];
    // Gate k of a [batch, G·H] value.
    auto gate = [&](const std::string &v, int64_t k) {
        return stridedSlice(v, {0, k * hidden}, {0, (k + 1) * hidden}, {1, 1}, 1, 1, bh);
    };
    std::vector<std::string> ys(static_cast<size_t>(dirs)), hs(static_cast<size_t>(dirs)), cs(static_cast<size_t>(dirs));
    for (int64_t d = 0; d < dirs; ++d) {
        m_debug = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "");
        const bool reverse = direction == "reverse" || d == 1;
        const std::string w = gather(W, indexConst(d), 0, {gh, inputSize});
        std::string r = gather(R, indexConst(d), 0, {gh, hidden});
        std::string wb, rb, rbh, rh;
        if (!B.empty()) {
            const std::string b = gather(B, indexConst(d), 0, {2 * gh});
            wb = stridedSlice(b, {0}, {gh}, {1}, 0, 0, {gh});
            rb = stridedSlice(b, {gh}, {2 * gh}, {1}, 0, 0, {gh});
        }
        if (op == "GRU" && !linearBeforeReset) {
            // (r ⊙ h)·Rhᵀ: the reset gate before the recurrent product of the hidden gate.
            rh = stridedSlice(r, {2 * hidden, 0}, {3 * hidden, 0}, {1, 1}, 2, 2, {hidden, hidden});
            r = stridedSlice(r, {0, 0}, {2 * hidden, 0}, {1, 1}, 2, 2, {2 * hidden, hidden});
            if (!rb.empty()) {
                rbh = stridedSlice(rb, {2 * hidden}, {3 * hidden}, {1}, 0, 0, {hidden});
                rb = stridedSlice(rb, {0}, {2 * hidden}, {1}, 0, 0, {2 * hidden});
            }
        }
        std::string h = H0.empty() ? "" : gather(H0, indexConst(d), 0, bh);
        std::string c = C0.empty() ? "" : gather(C0, indexConst(d), 0, bh);
        std::vector<std::string> outs(static_cast<size_t>(steps));
        for (int64_t s = 0; s < steps; ++s) {
            const int64_t t = reverse ? steps - 1 - s : s;
            m_debug = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "") + ".t" + std::to_string(t);
            const std::string xt = gather(X, indexConst(t), 0, {batch, inputSize});
            const std::string gx = dense(xt, w, wb, bg);
            const Shape rgShape{batch, op == "GRU" && !linearBeforeReset ? 2 * hidden : gh};
            // The recurrent term; with no initial state the first step's is the bias alone.
            std::string hr = !h.empty() ? dense(h, r, rb, rgShape) : rb;
            if (op == "RNN") {
                h = unary("Tanh", hr.empty() ? gx : binary("Add", gx, hr, bg), bh);
            } else if (op == "LSTM") {
                const std::string a = hr.empty() ? gx : binary("Add", gx, hr, bg);
                const std::string i = unary("Sigmoid", gate(a, 0), bh), o = unary("Sigmoid", gate(a, 1), bh);
                const std::string f = unary("Sigmoid", gate(a, 2), bh), g = unary("Tanh", gate(a, 3), bh);
                const std::string ig = binary("Mul", i, g, bh);
                c = c.empty() ? ig : binary("Add", binary("Mul", f, c, bh), ig, bh);
                h = binary("Mul", o, unary("Tanh", c, bh), bh);
            } else {
                auto sum = [&](const std::string &a, const std::string &b) { return b.empty() ? a : binary("Add", a, b, bh); };
                // Bias alone (no state yet) is [G·H]: sliced as a vector.
                auto part = [&](const std::string &v, int64_t k) {
                    if (v.empty())
                        return std::string();
                    if (!h.empty())
                        return gate(v, k);
                    return stridedSlice(v, {k * hidden}, {(k + 1) * hidden}, {1}, 0, 0, {hidden});
                };
                const std::string z = unary("Sigmoid", sum(gate(gx, 0), part(hr, 0)), bh);
                const std::string rg = unary("Sigmoid", sum(gate(gx, 1), part(hr, 1)), bh);
                std::string hn;
                if (linearBeforeReset) {
                    const std::string hh = part(hr, 2);
                    hn = hh.empty() ? gate(gx, 2) : binary("Add", gate(gx, 2), binary("Mul", rg, hh, bh), bh);
                } else {
                    std::string rec = !h.empty() ? dense(binary("Mul", rg, h, bh), rh, rbh, bh) : rbh;
                    hn = sum(gate(gx, 2), rec);
                }
                hn = unary("Tanh", hn, bh);
                const std::string keep = binary("Mul", binary("Sub", scalarConst(1.0f), z, bh), hn, bh);
                h = h.empty() ? keep : binary("Add", keep, binary("Mul", z, h, bh), bh);
            }
            outs[static_cast<size_t>(t)] = expandDims(h, 0, {1, batch, hidden});
        }
        m_debug = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "");
        if (!n.outputs.empty() && !n.outputs[0].empty() && m_used.count(n.outputs[0]))
            ys[static_cast<size_t>(d)] = expandDims(concat(outs, std::vector<Shape>(outs.size(), {1, batch, hidden}), 0, {steps, batch, hidden}),
                                                    1, {steps, 1, batch, hidden});
        hs[static_cast<size_t>(d)] = expandDims(h, 0, {1, batch, hidden});
        if (!c.empty())
            cs[static_cast<size_t>(d)] = expandDims(c, 0, {1, batch, hidden});
    }
    m_debug = n.name;
    auto join = [&](const std::vector<std::string> &parts, const Shape &one, int64_t axis, const Shape &all) {
        return parts.size() == 1 ? parts[0] : concat(parts, {one, one}, axis, all);
    };
    if (!ys[0].empty())
        m_names[n.outputs[0]] = join(ys, {steps, 1, batch, hidden}, 1, {steps, dirs, batch, hidden});
    if (n.outputs.size() > 1 && !n.outputs[1].empty())
        m_names[n.outputs[1]] = join(hs, {1, batch, hidden}, 0, {dirs, batch, hidden});
    if (n.outputs.size() > 2 && !n.outputs[2].empty() && m_used.count(n.outputs[2])) {
        if (cs[0].empty())
            return refuse(n, "Y_c of a zero-length state");
        m_names[n.outputs[2]] = join(cs, {1, batch, hidden}, 0, {dirs, batch, hidden});
    }
}

} // namespace netwright::mindspore::mindir

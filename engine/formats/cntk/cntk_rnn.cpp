// SPDX-License-Identifier: Apache-2.0
// LSTM, GRU and RNN written to CNTK unrolled, step by step (see Writer::rnn).
#include "formats/cntk/cntk_writer.h"

#include <algorithm>

namespace netwright::cntk::v2 {

// LSTM, GRU and RNN as their exact step-by-step composition over the model's own W, R, B (and
// P), as the MindIR writer unrolls them: per direction and step TransposeTimes by the
// direction's matrices (sliced from W and R), Plus of the biases, one Slice per gate,
// Sigmoid/Tanh/ReLU (Clip first under `clip`), ElementTimes, Plus and Minus. The sequence X is
// a batched value whose sample is [T, I]: layout 1's [B, T, I], or layout 0's [T, B, I] with the
// batch (CNTK's dynamic axis) on axis 1, as PyTorch's batch-first layers transpose their input.
// Y's sample is [T, D, H] and Y_h's and Y_c's [D, H] in both layouts.
bool Writer::rnn(const Node &n)
{
    const std::string &op = n.opType;
    const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1, hidden = n.attrInt("hidden_size", 0);
    const std::string direction = n.attrString("direction", "forward");
    const int64_t dirs = direction == "bidirectional" ? 2 : 1, layout = n.attrInt("layout", 0), gh = gates * hidden;
    const bool linearBeforeReset = op == "GRU" && n.attrInt("linear_before_reset", 0) != 0;
    const bool inputForget = op == "LSTM" && n.attrInt("input_forget", 0) != 0;
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    const std::string &X = n.inputs.at(0);
    const int64_t batchAt = layout == 0 ? 1 : 0; // where X, Y_h and Y_c carry the batch
    if (!batched(X))
        return fail(n, "its sequence X is not computed from the model's input");
    if (batchAxis(X) != batchAt)
        return fail(n, "layout " + std::to_string(layout) + " reads X as " + (layout == 0 ? "[T, B, I]" : "[B, T, I]")
                           + ", but the model's batch (CNTK's dynamic batch axis) is X's axis " + std::to_string(batchAxis(X))
                           + ": its sequence axis would be the batch, not a static axis of the sample");
    for (size_t i : {size_t(1), size_t(2), size_t(3), size_t(7)})
        if (has(i) && batched(n.inputs[i]))
            return fail(n, "its weights are computed from the model's input; CNTK's Times is written for constant matrices only");
    // Activations: ONNX's defaults, or any of Sigmoid, Tanh and Relu (CNTK primitives) per slot.
    const size_t perDirection = op == "LSTM" ? 3 : op == "GRU" ? 2 : 1;
    std::vector<std::string> acts = n.attrStrings("activations", {});
    if (n.hasAttribute("activation_alpha") || n.hasAttribute("activation_beta"))
        return fail(n, "activations with alpha/beta parameters are not written to CNTK (Sigmoid, Tanh and Relu are)");
    if (acts.empty())
        for (int64_t d = 0; d < dirs; ++d)
            for (size_t k = 0; k < perDirection; ++k)
                acts.push_back(op == "RNN" || k > 0 ? "Tanh" : "Sigmoid");
    static const std::map<std::string, uint64_t> cntkActs{{"Sigmoid", Sigmoid}, {"Tanh", Tanh}, {"Relu", ReLU}};
    for (const auto &a : acts)
        if (!cntkActs.count(a))
            return fail(n, "the activation \"" + a + "\" is not written to CNTK (Sigmoid, Tanh and Relu are)");
    if (acts.size() != perDirection * static_cast<size_t>(dirs))
        return fail(n, "its activations do not give one function per gate and direction");
    if (has(4)) {
        const Tensor *lens = known(n.inputs[4]);
        const auto ints = lens ? asInts(*lens) : std::nullopt;
        const int64_t steps = shape(X).at(layout == 0 ? 0 : 1);
        if (!ints || std::any_of(ints->begin(), ints->end(), [&](int64_t l) { return l != steps; }))
            return fail(n, "per-sample sequence lengths are not written to CNTK (a length per batch item would index CNTK's dynamic batch axis)");
    }
    // An initial state: none (absent, or a zero the model computes: the same computation), or
    // a batched [D, H] sample.
    auto state = [&](size_t i, std::string &uid) {
        uid.clear();
        if (!has(i))
            return true;
        const std::string &v = n.inputs[i];
        const bool parameter = m_g.initializers.count(v) && m_g.trainable.count(v);
        if (const Tensor *t = known(v); t && !parameter) {
            const auto f = asFloat32(*t);
            if (f && std::all_of(f->data(), f->data() + f->numel(), [](float x) { return x == 0.0f; }))
                return true;
        }
        if (!batched(v))
            return fail(n, "only a zero initial state or one computed from the model's input is written to CNTK");
        if (batchAxis(v) != batchAt)
            return fail(n, "its initial state carries the batch on axis " + std::to_string(batchAxis(v)) + ", where layout "
                               + std::to_string(layout) + " puts it on axis " + std::to_string(batchAt));
        uid = value(v);
        return true;
    };
    std::string H0, C0;
    if (!state(5, H0) || (op == "LSTM" && !state(6, C0)))
        return false;
    if (hidden <= 0)
        return fail(n, "hidden_size must be positive");
    Shape xs = shape(X);
    xs.erase(xs.begin() + batchAt);
    const int64_t steps = xs.at(0);

    // Building blocks over CNTK uids; shapes are the sample's, row-major.
    auto fn = [&](uint64_t cntkOp, const std::string &name, std::vector<std::string> inputs) {
        return addFunction(cntkOp, name, inputs, dict::make());
    };
    auto slice = [&](const std::string &name, const std::string &x, int64_t axis, int64_t begin, int64_t end) {
        Dictionary a = dict::make();
        dict::put(a, "axis", staticAxis(axis));
        dict::put(a, "beginIndex", dict::integer(static_cast<int32_t>(begin)));
        dict::put(a, "endIndex", dict::integer(static_cast<int32_t>(end)));
        dict::put(a, "sliceStrides", dict::integer(1));
        return addFunction(Slice, name, {x}, std::move(a));
    };
    auto reshape = [&](const std::string &name, const std::string &x, const Shape &to) {
        Dictionary a = dict::make();
        dict::put(a, "newShape", dict::shape(dict::reversed(to)));
        return addFunction(Reshape, name, {x}, std::move(a));
    };
    // Item k of the first axis of a value whose sample (or constant) shape is `s`.
    auto item = [&](const std::string &name, const std::string &x, const Shape &s, int64_t k) {
        const auto r = static_cast<int64_t>(s.size());
        const std::string one = s.at(0) == 1 ? x : slice(name + ".slice", x, r - 1, k, k + 1);
        return reshape(name, one, Shape(s.begin() + 1, s.end()));
    };
    auto times = [&](const std::string &name, const std::string &w, const std::string &x) { // x·wᵀ, w [rows, x's size]
        Dictionary a = dict::make();
        dict::put(a, "outputRank", dict::sizeT(1));
        return addFunction(TransposeTimes, name, {w, x}, std::move(a));
    };
    auto plus = [&](const std::string &name, const std::string &a, const std::string &b) { return b.empty() ? a : fn(Plus, name, {a, b}); };
    auto part = [&](const std::string &name, const std::string &v, int64_t k, int64_t size) { // entries [k·size, (k+1)·size) of a vector
        return v.empty() ? v : slice(name, v, 0, k * size, (k + 1) * size);
    };
    std::string clipMin, clipMax;
    if (n.hasAttribute("clip")) {
        const float clip = n.attrFloat("clip", 0.0f);
        clipMin = scalarConstant(n.name + ".clip_min", -clip);
        clipMax = scalarConstant(n.name + ".clip_max", clip);
    }
    std::string one; // 1 − z (GRU), 1 − i (input_forget)
    if (op == "GRU" || inputForget)
        one = scalarConstant(n.name + ".one", 1.0f);
    const std::string W = value(n.inputs.at(1)), R = value(n.inputs.at(2)), B = has(3) ? value(n.inputs[3]) : "";
    const std::string P = op == "LSTM" && has(7) ? value(n.inputs[7]) : "";
    const Shape wShape = shape(n.inputs[1]), rShape = shape(n.inputs[2]);
    const Shape bShape = has(3) ? shape(n.inputs[3]) : Shape{}, pShape = P.empty() ? Shape{} : shape(n.inputs[7]);
    const Shape hShape{dirs, hidden};

    const bool useY = !n.outputs.at(0).empty() && m_used.count(n.outputs[0]) != 0;
    std::vector<std::string> ys, hs, cs;
    for (int64_t d = 0; d < dirs; ++d) {
        const std::string dn = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "");
        const bool reverse = direction == "reverse" || d == 1;
        auto act = [&](size_t k, const std::string &name, const std::string &x) {
            const std::string in = clipMin.empty() ? x : fn(Clip, name + ".clip", {x, clipMin, clipMax});
            return fn(cntkActs.at(acts.at(static_cast<size_t>(d) * perDirection + k)), name, {in});
        };
        const std::string w = item(dn + ".W", W, wShape, d);
        std::string r = item(dn + ".R", R, rShape, d), rh, wb, rb, rbh;
        if (!B.empty()) {
            const std::string b = item(dn + ".B", B, bShape, d);
            wb = slice(dn + ".Wb", b, 0, 0, gh);
            rb = slice(dn + ".Rb", b, 0, gh, 2 * gh);
        }
        if (op == "GRU" && !linearBeforeReset) {
            // (r ⊙ h)·Rhᵀ: the reset gate before the recurrent product of the hidden gate.
            rh = slice(dn + ".Rh", r, 1, 2 * hidden, 3 * hidden);
            r = slice(dn + ".Rzr", r, 1, 0, 2 * hidden);
            if (!rb.empty()) {
                rbh = part(dn + ".Rbh", rb, 2, hidden);
                rb = slice(dn + ".Rbzr", rb, 0, 0, 2 * hidden);
            }
        }
        std::string pi, po, pf;
        if (!P.empty()) {
            const std::string p = item(dn + ".P", P, pShape, d);
            pi = part(dn + ".Pi", p, 0, hidden), po = part(dn + ".Po", p, 1, hidden), pf = part(dn + ".Pf", p, 2, hidden);
        }
        std::string h = H0.empty() ? "" : item(dn + ".h0", H0, hShape, d);
        std::string c = C0.empty() ? "" : item(dn + ".c0", C0, hShape, d);
        std::vector<std::string> outs(static_cast<size_t>(steps));
        for (int64_t s = 0; s < steps; ++s) {
            const int64_t t = reverse ? steps - 1 - s : s;
            const std::string tn = dn + ".t" + std::to_string(t);
            const std::string xt = item(tn + ".x", value(X), xs, t);
            const std::string gx = plus(tn + ".gx", times(tn + ".xW", w, xt), wb);
            // The recurrent term; with no state yet it is the bias alone (or nothing).
            const std::string hr = h.empty() ? rb : plus(tn + ".hr", times(tn + ".hR", r, h), rb);
            auto gate = [&](const std::string &v, int64_t k, const char *name) { return part(tn + "." + name, v, k, hidden); };
            if (op == "RNN") {
                h = act(0, tn + ".h", plus(tn + ".a", gx, hr));
            } else if (op == "LSTM") {
                const std::string a = plus(tn + ".a", gx, hr);
                std::string ai = gate(a, 0, "ai"), ao = gate(a, 1, "ao"), af = gate(a, 2, "af");
                if (!pi.empty() && !c.empty()) {
                    ai = fn(Plus, tn + ".ai_p", {ai, fn(ElementTimes, tn + ".pi_c", {pi, c})});
                    af = fn(Plus, tn + ".af_p", {af, fn(ElementTimes, tn + ".pf_c", {pf, c})});
                }
                const std::string i = act(0, tn + ".i", ai);
                const std::string f = inputForget ? fn(Minus, tn + ".f", {one, i}) : act(0, tn + ".f", af);
                const std::string g = act(1, tn + ".g", gate(a, 3, "ag"));
                const std::string ig = fn(ElementTimes, tn + ".ig", {i, g});
                c = c.empty() ? ig : fn(Plus, tn + ".c", {fn(ElementTimes, tn + ".fc", {f, c}), ig});
                if (!po.empty())
                    ao = fn(Plus, tn + ".ao_p", {ao, fn(ElementTimes, tn + ".po_c", {po, c})});
                h = fn(ElementTimes, tn + ".h", {act(0, tn + ".o", ao), act(2, tn + ".hc", c)});
            } else {
                const std::string z = act(0, tn + ".z", plus(tn + ".az", gate(gx, 0, "gxz"), gate(hr, 0, "hrz")));
                const std::string rg = act(0, tn + ".r", plus(tn + ".ar", gate(gx, 1, "gxr"), gate(hr, 1, "hrr")));
                std::string hn;
                if (linearBeforeReset) {
                    const std::string hh = gate(hr, 2, "hrh");
                    hn = hh.empty() ? gate(gx, 2, "gxh") : fn(Plus, tn + ".ah", {gate(gx, 2, "gxh"), fn(ElementTimes, tn + ".rhh", {rg, hh})});
                } else {
                    const std::string rec = h.empty() ? rbh : plus(tn + ".rec", times(tn + ".rhR", rh, fn(ElementTimes, tn + ".rh", {rg, h})), rbh);
                    hn = plus(tn + ".ah", gate(gx, 2, "gxh"), rec);
                }
                hn = act(1, tn + ".hn", hn);
                const std::string keep = fn(ElementTimes, tn + ".keep", {fn(Minus, tn + ".1-z", {one, z}), hn});
                h = h.empty() ? keep : fn(Plus, tn + ".h", {keep, fn(ElementTimes, tn + ".zh", {z, h})});
            }
            if (useY)
                outs[static_cast<size_t>(t)] = reshape(tn + ".y", h, {1, 1, hidden});
        }
        auto splice = [&](const std::string &name, const std::vector<std::string> &parts, int64_t axis) {
            if (parts.size() == 1)
                return parts[0];
            std::vector<std::string> in(parts.begin(), parts.end());
            Dictionary a = dict::make();
            dict::put(a, "axis", staticAxis(axis));
            return addFunction(Splice, name, in, std::move(a));
        };
        if (useY)
            ys.push_back(splice(dn + ".Y", outs, 2)); // [T, 1, H]: T is CNTK axis 2
        if (h.empty() || (op == "LSTM" && c.empty()))
            return fail(n, "a sequence of length 0 has no state to write");
        hs.push_back(reshape(dn + ".Y_h", h, {1, hidden}));
        if (op == "LSTM")
            cs.push_back(reshape(dn + ".Y_c", c, {1, hidden}));
    }
    auto join = [&](const std::string &name, const std::vector<std::string> &parts) { // along D, CNTK axis 1
        if (parts.size() == 1)
            return parts[0];
        Dictionary a = dict::make();
        dict::put(a, "axis", staticAxis(1));
        return addFunction(Splice, name, parts, std::move(a));
    };
    const std::vector<std::pair<size_t, std::vector<std::string> *>> outputs{{0, &ys}, {1, &hs}, {2, &cs}};
    for (const auto &[k, parts] : outputs) {
        if (k >= n.outputs.size() || n.outputs[k].empty() || !m_used.count(n.outputs[k]) || parts->empty())
            continue;
        m_values[n.outputs[k]] = join(n.name + (k == 0 ? ".Y" : k == 1 ? ".Y_h" : ".Y_c"), *parts);
        setBatchAxis(n.outputs[k], layout == 0 ? (k == 0 ? 2 : 1) : 0);
    }
    return true;
}

} // namespace netwright::cntk::v2

// SPDX-License-Identifier: Apache-2.0
// CNTK mappings of the reshaping, joining, slicing and indexing ops: Flatten/Reshape/Squeeze/
// Unsqueeze (around a batch that is not the first axis too), Cast, Transpose (TransposeAxes),
// Slice and Split, Pad, Gather, Concat (Splice) and Identity.
#include "formats/cntk/cntk_writer.h"

#include <algorithm>
#include <iterator>
#include <set>

namespace netwright::cntk::v2 {

std::optional<bool> Writer::mapShapeOp(const Node &n)
{
    const std::string &y = n.outputs.at(0);
    auto in = [&](size_t i) { return value(n.inputs.at(i)); };
    const std::string &op = n.opType;
    std::string out;
    if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze") {
        if (batchAxis(n.inputs[0]) != 0)
            return reshapeAround(n);
        if (shape(n.inputs[0]) == shape(y))
            return alias(n, n.inputs[0]);
        Dictionary a = dict::make();
        dict::put(a, "newShape", dict::shape(cntkShape(y)));
        out = addFunction(Reshape, n.name, {in(0)}, std::move(a));
    } else if (op == "Cast") {
        // CNTK computes in float32: a Cast to float of a float or of a comparison's 0/1 is the value itself.
        const DType from = typeOf(n.inputs[0]);
        if (n.attrInt("to", 1) != 1 || (from != DType::Float32 && from != DType::Bool))
            return fail(n, "CNTK computes in float32 only; a Cast to or from another type has no CNTK equivalent");
        return alias(n, n.inputs[0]);
    } else if (op == "Transpose") {
        return transpose(n);
    } else if (op == "Slice" || op == "Split") {
        return slice(n);
    } else if (op == "Pad") {
        return pad(n);
    } else if (op == "Gather") {
        return gather(n);
    } else if (op == "Concat") {
        // Splice along a static axis of batched values, or of constants (a recurrent layer's
        // weights PyTorch reorders gate by gate).
        const auto axis = cntkAxis(y, n.attrInt("axis", 0));
        const bool constants = std::none_of(n.inputs.begin(), n.inputs.end(), [&](const std::string &i) { return batched(i); });
        if (!axis || (!batched(y) && !constants))
            return fail(n, "only a concatenation of batched values along a sample axis (not the batch) is written to CNTK");
        std::vector<std::string> operands;
        for (size_t i = 0; i < n.inputs.size(); ++i) {
            if (!batched(n.inputs[i]) && !constants)
                return fail(n, "it concatenates a constant with batched values, which CNTK would broadcast over the batch");
            operands.push_back(in(i));
        }
        Dictionary a = dict::make();
        dict::put(a, "axis", staticAxis(*axis));
        out = addFunction(Splice, n.name, operands, std::move(a));
    } else if (op == "Identity") {
        return alias(n, n.inputs[0]);
    } else {
        return std::nullopt;
    }
    m_values[y] = out;
    return true;
}

// A reshape of a value whose batch is not its first axis. The batch stays an axis of its own
// where the output's leading axes hold as many elements as the input's before the batch: every
// sample then keeps its elements in the same order, and the reshape is one of the sample.
bool Writer::reshapeAround(const Node &n)
{
    const std::string &x = n.inputs[0], &y = n.outputs[0];
    const auto b = static_cast<size_t>(batchAxis(x));
    auto candidates = [&](const std::map<std::string, Shape> &shapes) {
        std::set<size_t> ks;
        const Shape &in = shapes.at(x), &out = shapes.at(y);
        int64_t before = 1, prod = 1;
        for (size_t i = 0; i < b; ++i)
            before *= in[i];
        for (size_t k = 0; k < out.size(); prod *= out[k], ++k)
            if (prod == before && out[k] == in.at(b))
                ks.insert(k);
        return ks;
    };
    std::set<size_t> ks = candidates(m_shapes);
    if (!m_shapes2.empty()) {
        const std::set<size_t> two = candidates(m_shapes2);
        std::set<size_t> both;
        std::set_intersection(ks.begin(), ks.end(), two.begin(), two.end(), std::inserter(both, both.begin()));
        ks = both;
    }
    if (ks.empty())
        return fail(n, "it merges the batch axis with others, which CNTK keeps as a dynamic axis of its own");
    setBatchAxis(y, static_cast<int64_t>(*ks.begin()));
    if (cntkShape(x) == cntkShape(y)) {
        m_values[y] = value(x);
        return true;
    }
    Dictionary a = dict::make();
    dict::put(a, "newShape", dict::shape(cntkShape(y)));
    m_values[y] = addFunction(Reshape, n.name, {value(x)}, std::move(a));
    return true;
}

// Whether every reader of `v` is a recurrent layer reading it as its sequence X or an initial
// state (PyTorch's batch-first layers transpose their input to [T, B, I] for ONNX's layout 0).
bool Writer::feedsRecurrentOnly(const std::string &v) const
{
    for (const auto &o : m_g.outputs)
        if (o.name == v)
            return false;
    bool any = false;
    for (const auto &n : m_g.nodes)
        for (size_t i = 0; i < n.inputs.size(); ++i)
            if (n.inputs[i] == v) {
                if (n.opType == "Shape" || n.opType == "Size")
                    continue; // computed here at a fixed batch, else refused on its own
                if ((i != 0 && i != 5 && i != 6) || (n.opType != "LSTM" && n.opType != "GRU" && n.opType != "RNN"))
                    return false;
                any = true;
            }
    return any;
}

// Transpose as CNTK's TransposeAxes with a permutation (axisVec): output axis i is input axis
// perm[i], both counted column-major, so engine perm p over a sample of rank r is
// i ↦ r − p[r − i] (batched; the batch stays first) or i ↦ r−1 − p[r−1−i] (a constant).
bool Writer::transpose(const Node &n)
{
    const std::string &x = n.inputs[0];
    const auto rank = static_cast<int64_t>(shape(x).size());
    std::vector<int64_t> perm = n.attrInts("perm", {});
    if (perm.empty())
        for (int64_t i = rank - 1; i >= 0; --i)
            perm.push_back(i);
    if (static_cast<int64_t>(perm.size()) != rank)
        return fail(n, "its permutation does not fit its input's rank");
    // The batch may move only into a recurrent layer's time-major input, or out of (and
    // around) a recurrent layer's time-major output: the sample's own axes are permuted.
    const int64_t b = batched(x) ? batchAxis(x) : -1;
    const auto to = std::find(perm.begin(), perm.end(), b);
    const int64_t ob = batched(x) ? static_cast<int64_t>(to - perm.begin()) : -1;
    if (batched(x) && b == 0 && ob != 0 && !feedsRecurrentOnly(n.outputs[0]))
        return fail(n, "it moves the batch axis, which CNTK keeps as a dynamic axis of its own");
    std::vector<int64_t> sample; // the permutation of the sample's axes
    for (int64_t i = 0; i < rank; ++i)
        if (i != ob)
            sample.push_back(perm[static_cast<size_t>(i)] - (b >= 0 && perm[static_cast<size_t>(i)] > b ? 1 : 0));
    bool identity = true;
    for (size_t i = 0; i < sample.size(); ++i)
        identity = identity && sample[i] == static_cast<int64_t>(i);
    if (batched(x))
        setBatchAxis(n.outputs[0], ob);
    if (identity) {
        m_values[n.outputs[0]] = value(x);
        return true;
    }
    const int64_t r = sampleRank(x);
    std::vector<Value> axes;
    for (int64_t i = 0; i < r; ++i)
        axes.push_back(staticAxis(r - 1 - sample.at(static_cast<size_t>(r - 1 - i))));
    Dictionary a = dict::make();
    dict::put(a, "axisVec", dict::vector(std::move(axes)));
    m_values[n.outputs[0]] = addFunction(TransposeAxes, n.name, {value(x)}, std::move(a));
    return true;
}

// One CNTK Slice (axis, beginIndex, endIndex, sliceStrides) per sliced axis; Split as a Slice
// per output.
std::string Writer::sliceAxis(const std::string &name, const std::string &x, const std::string &engineValue, int64_t axis, int64_t begin,
                      int64_t end, int64_t step)
{
    Dictionary a = dict::make();
    dict::put(a, "axis", staticAxis(*cntkAxis(engineValue, axis)));
    dict::put(a, "beginIndex", dict::integer(static_cast<int32_t>(begin)));
    dict::put(a, "endIndex", dict::integer(static_cast<int32_t>(end)));
    dict::put(a, "sliceStrides", dict::integer(static_cast<int32_t>(step)));
    return addFunction(Slice, name, {x}, std::move(a));
}

bool Writer::slice(const Node &n)
{
    const std::string &x = n.inputs[0];
    const Shape &s = shape(x);
    const auto rank = static_cast<int64_t>(s.size());
    if (n.opType == "Split") {
        int64_t axis = n.attrInt("axis", 0);
        axis = axis < 0 ? axis + rank : axis;
        if (!cntkAxis(x, axis))
            return fail(n, "it splits the batch axis, which CNTK keeps as a dynamic axis");
        int64_t begin = 0;
        for (const auto &o : n.outputs) {
            const int64_t size = shape(o).at(static_cast<size_t>(axis));
            if (!o.empty())
                m_values[o] = size == s[static_cast<size_t>(axis)] ? value(x) : sliceAxis(n.name + "." + o, value(x), x, axis, begin, begin + size, 1);
            begin += size;
        }
        return true;
    }
    const auto starts = constInts(n, 1, "starts"), ends = constInts(n, 2, "ends");
    auto axes = constInts(n, 3, "axes");
    auto steps = constInts(n, 4, "steps");
    if (!starts || !ends || !axes || !steps)
        return fail(n, "CNTK's Slice takes constant bounds only");
    if (axes->empty())
        for (int64_t i = 0; i < static_cast<int64_t>(starts->size()); ++i)
            axes->push_back(i);
    if (steps->empty())
        steps->assign(starts->size(), 1);
    std::string out = value(x);
    for (size_t i = 0; i < starts->size(); ++i) {
        const int64_t axis = axes->at(i) < 0 ? axes->at(i) + rank : axes->at(i);
        if (axis < 0 || axis >= rank)
            return fail(n, "an axis is out of range");
        const int64_t dim = s[static_cast<size_t>(axis)], step = steps->at(i);
        if (step <= 0)
            return fail(n, "CNTK's Slice steps forward only (a negative step has no CNTK equivalent)");
        auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + dim : v, int64_t(0), dim); };
        const int64_t begin = clamp(starts->at(i)), end = clamp(ends->at(i));
        if (begin == 0 && end == dim && step == 1)
            continue;
        if (!cntkAxis(x, axis))
            return fail(n, "it slices the batch axis, which CNTK keeps as a dynamic axis");
        if (begin >= end)
            return fail(n, "an empty slice has no CNTK equivalent");
        out = sliceAxis(i + 1 == starts->size() ? n.name : n.name + "." + std::to_string(i), out, x, axis, begin, end, step);
    }
    m_values[n.outputs[0]] = out;
    return true;
}

// Pad: paddingHead/paddingFoot per sample axis (column-major), constant or reflect.
bool Writer::pad(const Node &n)
{
    const std::string &x = n.inputs[0];
    const auto rank = static_cast<int64_t>(shape(x).size());
    auto pads = constInts(n, 1, "pads");
    if (pads && pads->empty())
        pads = n.attrInts("paddings", {});
    if (!pads || static_cast<int64_t>(pads->size()) != 2 * rank)
        return fail(n, "CNTK's Pad takes constant pads for every axis");
    if (n.inputs.size() > 3 && !n.inputs[3].empty())
        return fail(n, "Pad with an axes operand is not written to CNTK");
    const std::string mode = n.attrString("mode", "constant");
    if (mode != "constant" && mode != "reflect")
        return fail(n, "CNTK pads with a constant, reflect or symmetric values; \"" + mode + "\" has no CNTK equivalent");
    float constant = n.attrFloat("value", 0.0f);
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
        const auto c = constFloat(n.inputs[2]);
        if (!c)
            return fail(n, "CNTK's Pad takes a constant padding value only");
        constant = *c;
    }
    std::vector<Value> head, foot;
    for (int64_t a = rank - 1; a >= 0; --a) {
        const int64_t lo = pads->at(static_cast<size_t>(a)), hi = pads->at(static_cast<size_t>(a + rank));
        if (lo < 0 || hi < 0)
            return fail(n, "CNTK's Pad does not crop (negative pads)");
        if (batched(x) && a == 0) {
            if (lo != 0 || hi != 0)
                return fail(n, "it pads the batch axis, which CNTK keeps as a dynamic axis");
            continue;
        }
        head.push_back(dict::sizeT(static_cast<uint64_t>(lo)));
        foot.push_back(dict::sizeT(static_cast<uint64_t>(hi)));
    }
    Dictionary a = dict::make();
    dict::put(a, "paddingHead", dict::vector(std::move(head)));
    dict::put(a, "paddingFoot", dict::vector(std::move(foot)));
    dict::put(a, "paddingMode", dict::sizeT(mode == "constant" ? 0 : 1));
    dict::put(a, "paddingConstantValue", dict::real(constant));
    m_values[n.outputs[0]] = addFunction(Pad, n.name, {value(x)}, std::move(a));
    return true;
}

// Gather with constant indices: CNTK's Gather(indices, reference) along `axis`, the indices a
// float Constant (negative ones resolved here; CNTK does not count from the end).
bool Writer::gather(const Node &n)
{
    const std::string &x = n.inputs[0];
    const Tensor *indices = known(n.inputs.at(1));
    const auto ints = indices ? asInts(*indices) : std::nullopt;
    if (!ints || batched(n.inputs[1]))
        return fail(n, "CNTK's Gather is written with constant indices only");
    int64_t axis = n.attrInt("axis", 0);
    const auto k = cntkAxis(x, axis);
    if (!k)
        return fail(n, "it gathers along the batch axis, which CNTK keeps as a dynamic axis");
    const auto rank = static_cast<int64_t>(shape(x).size());
    const int64_t dim = shape(x).at(static_cast<size_t>(axis < 0 ? axis + rank : axis));
    Tensor idx(indices->shape(), DType::Float32);
    for (size_t i = 0; i < ints->size(); ++i) {
        const int64_t v = (*ints)[i] < 0 ? (*ints)[i] + dim : (*ints)[i];
        if (v < 0 || v >= dim)
            return fail(n, "an index is out of range");
        idx.data()[i] = static_cast<float>(v);
    }
    const std::string c = addVariable("Constant", n.name + ".indices", idx, dict::reversed(idx.shape()));
    Dictionary a = dict::make();
    dict::put(a, "axis", staticAxis(*k));
    m_values[n.outputs[0]] = addFunction(Gather, n.name, {c, value(x)}, std::move(a));
    return true;
}

} // namespace netwright::cntk::v2

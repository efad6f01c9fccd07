// SPDX-License-Identifier: Apache-2.0
// MindIR mappings of the layers: Gemm and MatMul, Conv and ConvTranspose, the pools, the
// reductions, BatchNormalization and LayerNormalization.
#include "formats/mindspore/mindir_writer.h"

namespace netwright::mindspore::mindir {

namespace {

// Conv2D's and Conv2DBackpropInput's attributes (pads in (t,b,l,r) order).
void convAttrs(Prim &p, const Window2d &w, int64_t outChannel, int64_t group)
{
    tupleAttr(p, "kernel_size", w.kernel);
    intAttr(p, "mode", 1);
    intAttr(p, "out_channel", outChannel);
    stringAttr(p, "pad_mode", "pad");
    tupleAttr(p, "pad", w.pads);
    tupleAttr(p, "pad_list", w.pads);
    tupleAttr(p, "stride", {1, 1, w.strides[0], w.strides[1]});
    tupleAttr(p, "dilation", {1, 1, w.dilations[0], w.dilations[1]});
    intAttr(p, "group", group);
    intAttr(p, "groups", group);
    stringAttr(p, "format", "NCHW");
}

} // namespace

bool Writer::mapLayer(const Node &n, const Site &site, std::string &result)
{
    [[maybe_unused]] const auto &[out, y, yt, rank] = site;
    const std::string &op = n.opType;
    auto in = [&](size_t i) { return value(n.inputs.at(i)); };
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    if (op == "Gemm") {
        if (n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
            return refused(n, "alpha/beta other than 1 have no MindIR equivalent");
        auto &mm = primitive("MatMul", {"x1", "x2"});
        const bool ta = n.attrInt("transA", 0) != 0, tb = n.attrInt("transB", 0) != 0;
        boolAttr(mm, "transpose_a", ta);
        boolAttr(mm, "transpose_b", tb);
        boolAttr(mm, "transpose_x1", ta);
        boolAttr(mm, "transpose_x2", tb);
        result = cnode(mm, {in(0), in(1)}, {y});
        if (has(2)) {
            const Shape &c = shapeOf(n.inputs[2]);
            if (c.size() == 1 && c[0] == y[1])
                result = biasAdd(result, in(2), y);
            else
                result = binary("Add", result, in(2), y);
        }
    } else if (op == "MatMul") {
        const Shape &a = shapeOf(n.inputs[0]), &w = shapeOf(n.inputs[1]);
        if (a.size() == 2 && w.size() == 2) {
            auto &mm = primitive("MatMul", {"x1", "x2"});
            for (const char *t : {"transpose_a", "transpose_b", "transpose_x1", "transpose_x2"})
                boolAttr(mm, t, false);
            result = cnode(mm, {in(0), in(1)}, {y});
        } else if (a.size() == w.size() && a.size() >= 3 && std::equal(a.begin(), a.end() - 2, w.begin())) {
            auto &mm = primitive("BatchMatMul", {"x1", "x2"});
            boolAttr(mm, "transpose_a", false);
            boolAttr(mm, "transpose_b", false);
            result = cnode(mm, {in(0), in(1)}, {y});
        } else if (a.size() >= 3 && w.size() == 2 && reshapeable(y)) {
            // [..., K] × [K, N]: rows flattened, one MatMul, the leading dimensions restored.
            const Shape flat{-1, a.back()}, flatOut{-1, w.back()};
            auto &mm = primitive("MatMul", {"x1", "x2"});
            for (const char *t : {"transpose_a", "transpose_b", "transpose_x1", "transpose_x2"})
                boolAttr(mm, t, false);
            const std::string rows = reshape(in(0), {-1, a.back()}, flat);
            result = reshape(cnode(mm, {rows, in(1)}, {flatOut}), std::vector<int64_t>(y.begin(), y.end()), y);
        } else {
            return refused(n, "broadcasting MatMul of shapes " + shapeToString(a) + " and " + shapeToString(w)
                                 + " has no MindSpore primitive (MatMul is 2-D, BatchMatMul needs equal batch dimensions)");
        }
    } else if (op == "Conv" || op == "ConvTranspose") {
        Window2d w;
        if (const std::string p = netwright::window2d(n, m_ig, w); !p.empty())
            return refused(n, p);
        const Tensor *wt = m_ig.initializer(n.inputs.at(1));
        if (!wt)
            return refused(n, "the weight must be a parameter");
        const int64_t group = n.attrInt("group", 1);
        if (op == "Conv") {
            auto &conv = primitive("Conv2D", {"x", "w"});
            convAttrs(conv, w, wt->shape()[0], group);
            result = cnode(conv, {in(0), in(1)}, {y});
        } else {
            if (!isStatic(y))
                return refused(n, "Conv2DBackpropInput takes the output size as a constant; export with a fixed batch");
            // Conv2DBackpropInput is the gradient of the Conv2D whose input is this node's output:
            // its weight layout [C_in, C_out/group, kh, kw] is ConvTranspose's, and input_size
            // (the output shape) fixes output_padding.
            auto &ct = primitive("Conv2DBackpropInput", {"out_backprop", "filter", "input_sizes"});
            convAttrs(ct, w, wt->shape()[1] * group, group);
            result = cnode(ct, {in(0), in(1), constantTuple(std::vector<int64_t>(y.begin(), y.end()))}, {y});
        }
        if (has(2))
            result = biasAdd(result, in(2), y);
    } else if (op == "MaxPool" || op == "AveragePool") {
        Window2d w;
        if (const std::string p = netwright::window2d(n, m_ig, w); !p.empty())
            return refused(n, p);
        if (n.outputs.size() > 1 && !n.outputs[1].empty() && m_used.count(n.outputs[1]))
            return refused(n, "the argmax output is not exported");
        const auto &k = w.kernel, &s = w.strides, &p = w.pads;
        if (w.dilations != std::vector<int64_t>{1, 1})
            return refused(n, "dilated pooling has no MindIR equivalent");
        const bool padded = p != std::vector<int64_t>{0, 0, 0, 0};
        const bool ceilMode = n.attrInt("ceil_mode", 0) != 0;
        if (padded && op == "AveragePool")
            return refused(n, "MindSpore's AvgPool pads only as SAME/VALID; explicit pads are not exported");
        if (padded && (p[0] != p[1] || p[2] != p[3]))
            return refused(n, "asymmetric pads have no MindIR max-pooling equivalent");
        if (padded || ceilMode) {
            // Explicit symmetric padding or ceil_mode (squeezenet's pooling): MaxPoolWithArgmaxV2
            // (what ops.max_pool2d compiles to), whose first output is the pooled tensor.
            auto &mp = primitive("MaxPoolWithArgmaxV2", {"x"});
            tupleAttr(mp, "kernel_size", {1, 1, k[0], k[1]});
            tupleAttr(mp, "strides", {1, 1, s[0], s[1]});
            tupleAttr(mp, "pads", {1, 1, p[0], p[2]});
            tupleAttr(mp, "dilation", {1, 1, 1, 1});
            boolAttr(mp, "ceil_mode", ceilMode);
            intAttr(mp, "argmax_type", 35); // mindspore.int64
            const std::string both = cnode(mp, {in(0)}, {y, y}, {DType::Float32, DType::Int64});
            result = cnode(primitive("TupleGetItem", {"input", "index"}), {both, constantInt(0)}, {y});
        } else {
            auto &pool = primitive(op == "MaxPool" ? "MaxPool" : "AvgPool", {"x"});
            tupleAttr(pool, "kernel_size", {1, 1, k[0], k[1]});
            tupleAttr(pool, "strides", {1, 1, s[0], s[1]});
            stringAttr(pool, "pad_mode", "VALID");
            stringAttr(pool, "format", "NCHW");
            result = cnode(pool, {in(0)}, {y});
        }
    } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
        std::vector<int64_t> axes;
        for (size_t i = 2; i < rank; ++i)
            axes.push_back(static_cast<int64_t>(i));
        result = reduce(op == "GlobalAveragePool" ? "ReduceMean" : "ReduceMax", in(0), axes, true, y);
    } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd") {
        std::vector<int64_t> a;
        bool noop = false;
        if (!reduceAxes(n, rank, a, noop))
            return refused(n, "the axes must be constants");
        if (noop) {
            m_names[out] = in(0);
            return true;
        }
        result = reduce(op, in(0), a, n.attrInt("keepdims", 1) != 0, y, yt);
    } else if (op == "BatchNormalization") {
        if (rank != 4 && rank != 2)
            return refused(n, "MindSpore's BatchNorm takes 2-D or 4-D input");
        auto &bn = primitive("BatchNorm", {"x", "scale", "offset", "mean", "variance"});
        // An export is an inference graph (as ONNX's, AIR's and CNTK's are): the running
        // statistics, whatever training_mode a training-mode import carries.
        boolAttr(bn, "is_training", false);
        floatAttr(bn, "epsilon", n.attrFloat("epsilon", 1e-5f));
        floatAttr(bn, "momentum", 1.0f - n.attrFloat("momentum", 0.9f)); // MindSpore weighs the batch statistics
        stringAttr(bn, "format", "NCHW");
        const Shape c{shapeOf(n.inputs[1])};
        const std::string all = cnode(bn, {in(0), in(1), in(2), in(3), in(4)}, {y, c, c, c, c});
        result = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(0)}, {y});
    } else if (op == "LayerNormalization") {
        for (size_t k = 1; k < n.outputs.size(); ++k)
            if (!n.outputs[k].empty() && m_used.count(n.outputs[k]))
                return refused(n, "the mean and inverse-deviation outputs are not exported");
        if (!has(2))
            return refused(n, "MindSpore's LayerNorm needs a bias (beta) input");
        if (n.attrInt("stash_type", 1) != 1)
            return refused(n, "stash_type other than float32 is not exported");
        const int64_t axis = normAxis(n.attrInt("axis", -1), rank);
        auto &ln = primitive("LayerNorm", {"input_x", "gamma", "beta"});
        intAttr(ln, "begin_norm_axis", axis);
        intAttr(ln, "begin_params_axis", axis);
        floatAttr(ln, "epsilon", n.attrFloat("epsilon", 1e-5f));
        Shape stat(y);
        for (size_t i = static_cast<size_t>(axis); i < stat.size(); ++i)
            stat[i] = 1;
        const std::string all = cnode(ln, {in(0), in(1), in(2)}, {y, stat, stat});
        result = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(0)}, {y});
    } else {
        return false;
    }
    return true;
}

} // namespace netwright::mindspore::mindir

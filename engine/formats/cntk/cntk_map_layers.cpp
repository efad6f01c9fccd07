// SPDX-License-Identifier: Apache-2.0
// CNTK mappings of the layers: Gemm and MatMul (Times/TransposeTimes), Conv and ConvTranspose
// (Convolution), the pools, BatchNormalization, Dropout and the reductions (ReduceElements).
#include "formats/cntk/cntk_writer.h"

#include <algorithm>

namespace netwright::cntk::v2 {

std::optional<bool> Writer::mapLayer(const Node &n)
{
    const std::string &y = n.outputs.at(0);
    auto in = [&](size_t i) { return value(n.inputs.at(i)); };
    const std::string &op = n.opType;
    std::string out;
    if (op.rfind("Reduce", 0) == 0) {
        return reduce(n);
    } else if (op == "MatMul") {
        return matmul(n);
    } else if (op == "ConvTranspose") {
        return convTranspose(n);
    } else if (op == "Dropout") {
        Dictionary a = dict::make();
        dict::put(a, "dropoutRate", dict::real(n.attrFloat("ratio", 0.5f)));
        dict::put(a, "rngSeed", dict::sizeT(0));
        dict::put(a, "rngOffset", dict::sizeT(0));
        out = addFunction(Dropout, n.name, {in(0)}, std::move(a));
        Dictionary rng = dict::make();
        dict::put(rng, "rng_seed", dict::sizeT(0));
        dict::put(rng, "rng_offset", dict::sizeT(0));
        dict::put(m_state, out.substr(0, out.find("_Output_")), dict::dictionary(std::move(rng)));
    } else if (op == "Gemm") {
        if (n.attrInt("transA", 0) != 0 || n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
            return fail(n, "transA, alpha and beta other than 0, 1, 1 have no CNTK Times equivalent");
        if (!batched(n.inputs[0]) || batched(n.inputs[1]))
            return fail(n, "CNTK's Times is written for a batched input times a constant matrix only");
        // W is [out,in] (transB) or [in,out] row-major; its CNTK shape is the reverse, so
        // W[out,in] needs TransposeTimes and W[in,out] plain Times.
        Dictionary a = dict::make();
        dict::put(a, "outputRank", dict::sizeT(1));
        if (n.attrInt("transB", 0) == 0)
            dict::put(a, "inferInputRankToMap", dict::integer(-1));
        out = addFunction(n.attrInt("transB", 0) ? TransposeTimes : Times, n.name + ".matmul", {in(1), in(0)}, std::move(a));
        if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
            const auto c = elementwise(n, n.inputs[2], y);
            if (!c)
                return false;
            out = addFunction(Plus, n.name, {out, *c}, dict::make());
        }
    } else if (op == "Conv") {
        const Tensor *w = initializer(n.inputs.at(1));
        Window2d win;
        InferenceGraph none;
        none.graph = &m_g;
        if (!w || w->rank() != 4)
            return fail(n, "CNTK's Convolution is written for a 2-D constant kernel only");
        if (const std::string problem = window2d(n, none, win); !problem.empty())
            return fail(n, problem);
        const auto pads = n.attrInts("pads", {0, 0, 0, 0});
        const auto groups = static_cast<uint64_t>(n.attrInt("group", 1));
        const auto channels = static_cast<uint64_t>(w->dim(1)) * groups;
        Dictionary a = dict::make();
        dict::put(a, "strides", dict::shape(pair(win.strides, channels)));
        dict::put(a, "dilation", dict::shape(pair(win.dilations, 1)));
        dict::put(a, "sharing", dict::vector(bools(3, true)));
        dict::put(a, "autoPadding", dict::vector(bools(3, false)));
        dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]}, 0)));
        dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]}, 0)));
        dict::put(a, "transpose", dict::boolean(false));
        dict::put(a, "maxTempMemSizeInSamples", dict::sizeT(0));
        dict::put(a, "groups", dict::sizeT(groups));
        out = addFunction(Convolution, n.name + ".conv", {in(1), in(0)}, std::move(a));
        if (n.inputs.size() > 2 && !n.inputs[2].empty())
            out = convBias(n, out);
    } else if (op == "MaxPool" || op == "AveragePool") {
        const auto kernel = n.attrInts("kernel_shape", {});
        const auto pads = n.attrInts("pads", {0, 0, 0, 0});
        if (kernel.size() != 2 || pads.size() != 4)
            return fail(n, "CNTK's Pooling is written for 2-D windows only");
        if (n.attrString("auto_pad", "NOTSET") != "NOTSET")
            return fail(n, "auto_pad is not written to CNTK; use explicit pads");
        if (n.attrInts("dilations", {1, 1}) != std::vector<int64_t>{1, 1})
            return fail(n, "CNTK's Pooling has no dilation");
        Dictionary a = dict::make();
        dict::put(a, "poolingType", dict::sizeT(op == "MaxPool" ? 0 : 1));
        dict::put(a, "poolingWindowShape", dict::shape(pair(kernel)));
        dict::put(a, "strides", dict::shape(pair(n.attrInts("strides", {1, 1}))));
        dict::put(a, "autoPadding", dict::vector(bools(2, false)));
        dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]})));
        dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]})));
        dict::put(a, "ceilOutDim", dict::boolean(n.attrInt("ceil_mode", 0) != 0));
        dict::put(a, "includePad", dict::boolean(n.attrInt("count_include_pad", 0) != 0));
        out = addFunction(Pooling, n.name, {in(0)}, std::move(a));
    } else if (op == "BatchNormalization") {
        Dictionary a = dict::make();
        dict::put(a, "spatial", dict::boolean(true));
        dict::put(a, "normalizationTimeConstant", dict::real(0.0));
        dict::put(a, "blendTimeConstant", dict::real(0.0));
        dict::put(a, "epsilon", dict::real(n.attrFloat("epsilon", 1e-5f)));
        dict::put(a, "useCuDNNEngine", dict::boolean(false));
        // CNTK's sixth operand counts the samples the running statistics have seen.
        const std::string count = addVariable("Constant", n.name + ".run_count", Tensor::zeros({}), {});
        out = addFunction(BatchNormalization, n.name, {in(0), in(1), in(2), in(3), in(4), count}, std::move(a));
    } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
        // Pooling over the whole feature map.
        const Shape &x = shape(n.inputs.at(0));
        if (x.size() != 4)
            return fail(n, "CNTK's Pooling is written for 2-D windows only");
        Dictionary a = dict::make();
        dict::put(a, "poolingType", dict::sizeT(op == "GlobalMaxPool" ? 0 : 1));
        dict::put(a, "poolingWindowShape", dict::shape(pair({x[2], x[3]})));
        dict::put(a, "strides", dict::shape(pair({x[2], x[3]})));
        dict::put(a, "autoPadding", dict::vector(bools(2, false)));
        dict::put(a, "lowerPad", dict::shape(pair({0, 0})));
        dict::put(a, "upperPad", dict::shape(pair({0, 0})));
        dict::put(a, "ceilOutDim", dict::boolean(false));
        dict::put(a, "includePad", dict::boolean(false));
        out = addFunction(Pooling, n.name, {in(0)}, std::move(a));
    } else {
        return std::nullopt;
    }
    m_values[y] = out;
    return true;
}

// ReduceSum/Mean/Max/Min/Prod/LogSumExp as ReduceElements over sample axes (axis, or axisVec
// for several), reductionKeepDimensions as keepdims.
bool Writer::reduce(const Node &n)
{
    static const std::map<std::string, std::string> names{{"ReduceSum", "Sum"}, {"ReduceMean", "Mean"}, {"ReduceMax", "Max"},
                                                          {"ReduceMin", "Min"}, {"ReduceProd", "Prod"}, {"ReduceLogSumExp", "LogSum"}};
    const auto name = names.find(n.opType);
    if (name == names.end())
        return fail(n, refusal(n.opType));
    const std::string &x = n.inputs[0];
    const auto axes = constInts(n, 1, "axes");
    if (!axes)
        return fail(n, "CNTK's ReduceElements takes constant axes only");
    if (axes->empty() && n.attrInt("noop_with_empty_axes", 0) != 0)
        return alias(n, x);
    std::vector<int64_t> cntk;
    const auto rank = static_cast<int64_t>(shape(x).size());
    for (int64_t a = 0; a < rank; ++a)
        if (axes->empty() || std::find_if(axes->begin(), axes->end(), [&](int64_t b) { return (b < 0 ? b + rank : b) == a; }) != axes->end()) {
            const auto k = cntkAxis(x, a);
            if (!k)
                return fail(n, "it reduces over the batch axis; CNTK reduces within a sample");
            cntk.push_back(*k);
        }
    Dictionary a = dict::make();
    dict::put(a, "reductionOpName", dict::string(name->second));
    if (cntk.size() == 1) {
        dict::put(a, "axis", staticAxis(cntk[0]));
    } else {
        std::vector<Value> v;
        for (int64_t k : cntk)
            v.push_back(staticAxis(k));
        dict::put(a, "axisVec", dict::vector(std::move(v)));
    }
    dict::put(a, "reductionKeepDimensions", dict::boolean(n.attrInt("keepdims", 1) != 0));
    m_values[n.outputs[0]] = addFunction(ReduceElements, n.name, {value(x)}, std::move(a));
    return true;
}

// MatMul a·b as CNTK's Times(b, a) with outputRank 1: b's sample (or constant) is a matrix
// [K, N]; it contracts a's last axis. Per sample this is ONNX's product where the batch is
// the only broadcast axis: a batched a of any rank times a constant matrix, a batched [B,M,K]
// times a batched [B,K,N], or a constant [M,K] times a batched [B,K,N].
bool Writer::matmul(const Node &n)
{
    const std::string &a = n.inputs[0], &b = n.inputs[1];
    const size_t ra = shape(a).size(), rb = shape(b).size();
    bool ok = false;
    if (!batched(b))
        ok = rb == 2 && ra >= (batched(a) ? 2u : 1u);
    else
        ok = rb == 3 && ((batched(a) && ra == 3) || (!batched(a) && ra == 2));
    if (!ok)
        return fail(n, "CNTK's Times multiplies one matrix per sample; this product broadcasts over more axes than the batch");
    Dictionary at = dict::make();
    dict::put(at, "outputRank", dict::sizeT(1));
    dict::put(at, "inferInputRankToMap", dict::integer(-1));
    m_values[n.outputs[0]] = addFunction(Times, n.name, {value(b), value(a)}, std::move(at));
    return true;
}

// ConvTranspose as CNTK's Convolution with transpose = true: the kernel [C_in, C_out, kH, kW]
// as it is, lowerPad/upperPad ONNX's begin/end pads and outputShape the output's (W, H, C),
// which also carries ONNX's output_padding.
bool Writer::convTranspose(const Node &n)
{
    const Tensor *w = initializer(n.inputs.at(1));
    if (!w || w->rank() != 4)
        return fail(n, "CNTK's transposed Convolution is written for a 2-D constant kernel only");
    if (n.attrInt("group", 1) != 1)
        return fail(n, "CNTK's transposed Convolution has no groups");
    if (n.attrString("auto_pad", "NOTSET") != "NOTSET" || n.hasAttribute("output_shape"))
        return fail(n, "auto_pad and output_shape are not written to CNTK; use explicit pads");
    const auto pads = n.attrInts("pads", {0, 0, 0, 0});
    if (pads.size() != 4)
        return fail(n, "CNTK's transposed Convolution is written for 2-D windows only");
    const Shape &y = shape(n.outputs[0]);
    const auto channels = static_cast<uint64_t>(w->dim(1));
    Dictionary a = dict::make();
    dict::put(a, "strides", dict::shape(pair(n.attrInts("strides", {1, 1}), channels)));
    dict::put(a, "dilation", dict::shape(pair(n.attrInts("dilations", {1, 1}), 1)));
    dict::put(a, "sharing", dict::vector(bools(3, true)));
    dict::put(a, "autoPadding", dict::vector(bools(3, false)));
    dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]}, 0)));
    dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]}, 0)));
    dict::put(a, "transpose", dict::boolean(true));
    dict::put(a, "outputShape", dict::shape(pair({y.at(2), y.at(3)}, static_cast<uint64_t>(y.at(1)))));
    dict::put(a, "maxTempMemSizeInSamples", dict::sizeT(0));
    dict::put(a, "groups", dict::sizeT(1));
    std::string out = addFunction(Convolution, n.name + ".conv", {value(n.inputs[1]), value(n.inputs[0])}, std::move(a));
    if (n.inputs.size() > 2 && !n.inputs[2].empty())
        out = convBias(n, out);
    m_values[n.outputs[0]] = out;
    return true;
}

// CNTK's convolution bias is [1, 1, C]; the bytes are the same as our [C].
std::string Writer::convBias(const Node &n, const std::string &conv)
{
    const std::string bias = source(n.inputs[2]);
    if (const Tensor *b = initializer(bias)) {
        rebindAsParameter(bias, {1, 1, static_cast<uint64_t>(b->numel())});
        return addFunction(Plus, n.name, {conv, value(bias)}, dict::make());
    }
    fail(n, "CNTK's convolution bias is written as a constant only");
    return "?";
}

} // namespace netwright::cntk::v2

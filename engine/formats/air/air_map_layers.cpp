// SPDX-License-Identifier: Apache-2.0
// AIR mappings of the layers: Gemm and MatMul, Conv and ConvTranspose, the pools, the reductions,
// BatchNormalization and LayerNormalization.
#include "formats/air/air_writer.h"

namespace netwright::air::exporter {

bool Writer::mapLayer(const Node &n, const Site &site)
{
    [[maybe_unused]] const auto &[out, y, yt, rank] = site;
    const std::string &op = n.opType;
    [[maybe_unused]] auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    [[maybe_unused]] auto in = [&](size_t i) { return port(n.inputs.at(i)); };
    ge::proto::OpDef *result = nullptr;
    [[maybe_unused]] Port alias; // a result that is another op's port (a chain's last link, an identity)
    if (op == "Gemm") {
        if (n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
            return refused(n, "alpha/beta other than 1 have no GE MatMulV2 equivalent");
        const bool hasBias = has(2);
        auto &mm = compute("MatMulV2", hasBias ? n.name + "/MatMulV2" : n.name, {in(0), in(1)}, {y});
        boolean(mm, "transpose_x1", n.attrInt("transA", 0) != 0);
        boolean(mm, "transpose_x2", n.attrInt("transB", 0) != 0);
        integer(mm, "offset_x", 0);
        result = &mm;
        if (hasBias) {
            const Shape &c = shapeOf(n.inputs[2]);
            if (c.size() == 1 && c[0] == y[1]) {
                result = &compute("BiasAdd", n.name, {out0(mm, y), in(2)}, {y});
                text(*result, "data_format", "NCHW");
            } else {
                result = &compute("Add", n.name, {out0(mm, y), in(2)}, {y});
            }
        }
    } else if (op == "MatMul") {
        const Shape &a = shapeOf(n.inputs[0]), &w = shapeOf(n.inputs[1]);
        if (a.size() < 2 || w.size() < 2)
            return refused(n, "a 1-D operand has no GE MatMulV2/BatchMatMulV2 form");
        if (a.size() == 2 && w.size() == 2) {
            result = &compute("MatMulV2", n.name, {in(0), in(1)}, {y});
            boolean(*result, "transpose_x1", false);
            boolean(*result, "transpose_x2", false);
            integer(*result, "offset_x", 0);
        } else {
            // Batched, the batch dimensions broadcast (TensorFlow's BatchMatMulV2).
            result = &compute("BatchMatMulV2", n.name, {in(0), in(1)}, {y});
            boolean(*result, "adj_x1", false);
            boolean(*result, "adj_x2", false);
        }
    } else if (op == "Conv") {
        std::vector<int64_t> k, s, p, d;
        if (!window2d(n, k, s, p, d))
            return true;
        std::vector<Port> ports{in(0), in(1)};
        if (has(2))
            ports.push_back(in(2));
        result = &compute("Conv2D", n.name, ports, {y});
        ints(*result, "strides", {1, 1, s[0], s[1]});
        ints(*result, "pads", p);
        ints(*result, "dilations", {1, 1, d[0], d[1]});
        integer(*result, "groups", n.attrInt("group", 1));
        text(*result, "data_format", "NCHW");
        integer(*result, "offset_x", 0);
    } else if (op == "ConvTranspose") {
        // Conv2DTransposeD: the filter in ONNX's [C_in, C_out/group, kh, kw] layout, the output
        // size (input_size) fixed, which fixes output_padding too.
        Node sized = n;
        if (!sized.hasAttribute("kernel_shape") && m_ig.initializer(n.inputs.at(1))) {
            const Shape &ws = m_ig.initializer(n.inputs[1])->shape();
            sized.attributes["kernel_shape"] = std::vector<int64_t>(ws.begin() + std::min<size_t>(2, ws.size()), ws.end());
        }
        Window2d w;
        if (const std::string problem = netwright::window2d(sized, m_ig, w); !problem.empty())
            return refused(n, problem);
        if (y.size() != 4 || !isStatic(y))
            return refused(n, "Conv2DTransposeD takes the output size as an attribute; export with --static-batch");
        if (n.hasAttribute("output_shape"))
            return refused(n, "output_shape is not exported; give pads and output_padding");
        const auto op2 = n.attrInts("output_padding", {0, 0});
        if (op2.size() != 2)
            return refused(n, "output_padding must have 2 values");
        std::vector<Port> ports{in(0), in(1)};
        if (has(2))
            ports.push_back(in(2));
        result = &compute("Conv2DTransposeD", n.name, ports, {y});
        ints(*result, "input_size", std::vector<int64_t>(y.begin(), y.end()));
        ints(*result, "strides", {1, 1, w.strides[0], w.strides[1]});
        ints(*result, "pads", w.pads);
        ints(*result, "dilations", {1, 1, w.dilations[0], w.dilations[1]});
        integer(*result, "groups", n.attrInt("group", 1));
        text(*result, "data_format", "NCHW");
        ints(*result, "output_padding", {0, 0, op2[0], op2[1]});
        integer(*result, "offset_x", 0);
    } else if (op == "MaxPool" || op == "AveragePool") {
        std::vector<int64_t> k, s, p, d;
        if (!window2d(n, k, s, p, d))
            return true;
        if (d != std::vector<int64_t>{1, 1})
            return refused(n, "dilated pooling is not exported to GE");
        if (n.outputs.size() > 1 && !n.outputs[1].empty() && m_used.count(n.outputs[1]))
            return refused(n, "the argmax output is not exported");
        const bool ceilMode = n.attrInt("ceil_mode", 0) != 0; // MaxPool only (window2d)
        // Explicit pads and ceil_mode are attributes of MaxPoolV3 and AvgPoolV2.
        const bool calculated = p != std::vector<int64_t>{0, 0, 0, 0} || ceilMode;
        const bool max = op == "MaxPool";
        result = &compute(calculated ? (max ? "MaxPoolV3" : "AvgPoolV2") : (max ? "MaxPool" : "AvgPool"), n.name, {in(0)}, {y});
        ints(*result, "ksize", {1, 1, k[0], k[1]});
        ints(*result, "strides", {1, 1, s[0], s[1]});
        text(*result, "data_format", "NCHW");
        if (calculated) {
            text(*result, "padding_mode", "CALCULATED");
            ints(*result, "pads", p);
            boolean(*result, "global_pooling", false);
            boolean(*result, "ceil_mode", ceilMode);
            if (!max)
                boolean(*result, "exclusive", n.attrInt("count_include_pad", 0) == 0);
        } else {
            text(*result, "padding", "VALID");
        }
    } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
        std::vector<int64_t> axes;
        for (size_t i = 2; i < rank; ++i)
            axes.push_back(static_cast<int64_t>(i));
        result = &compute(op == "GlobalAveragePool" ? "ReduceMeanD" : "ReduceMaxD", n.name, {in(0)}, {y});
        ints(*result, "axes", axes);
        boolean(*result, "keep_dims", true);
    } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd") {
        std::vector<int64_t> a;
        bool noop = false;
        if (!reduceAxes(n, rank, a, noop))
            return refused(n, "the axes must be constants");
        if (noop) {
            m_ports[out] = in(0);
            return true;
        }
        std::sort(a.begin(), a.end());
        result = &compute(op + "D", n.name, {in(0)}, {y}, {yt});
        ints(*result, "axes", a);
        boolean(*result, "keep_dims", n.attrInt("keepdims", 1) != 0);
    } else if (op == "BatchNormalization") {
        if (n.outputs.size() > 1 && std::any_of(n.outputs.begin() + 1, n.outputs.end(), [&](const std::string &o) { return !o.empty() && m_used.count(o); }))
            return refused(n, "the running-statistics outputs are not exported");
        const Shape c = shapeOf(n.inputs.at(1));
        result = &compute("BatchNorm", n.name, {in(0), in(1), in(2), in(3), in(4)}, {y, c, c, c, c});
        real(*result, "epsilon", n.attrFloat("epsilon", 1e-5f));
        text(*result, "data_format", "NCHW");
        boolean(*result, "is_training", false);
    } else if (op == "LayerNormalization") {
        for (size_t k = 1; k < n.outputs.size(); ++k)
            if (!n.outputs[k].empty() && m_used.count(n.outputs[k]))
                return refused(n, "the mean and inverse-deviation outputs are not exported (GE's LayerNorm returns the variance)");
        if (n.attrInt("stash_type", 1) != 1)
            return refused(n, "stash_type other than float32 is not exported");
        const int64_t axis = normAxis(n.attrInt("axis", -1), rank);
        const Port beta = has(2) ? in(2) : operandConst(n, "beta", Tensor::zeros(shapeOf(n.inputs.at(1))));
        Shape stat(y);
        for (size_t i = static_cast<size_t>(axis); i < stat.size(); ++i)
            stat[i] = 1;
        result = &compute("LayerNorm", n.name, {in(0), in(1), beta}, {y, stat, stat});
        integer(*result, "begin_norm_axis", axis);
        integer(*result, "begin_params_axis", axis);
        real(*result, "epsilon", n.attrFloat("epsilon", 1e-5f));
    } else {
        return false;
    }
    setOutput(site, result, alias);
    return true;
}

} // namespace netwright::air::exporter

// SPDX-License-Identifier: Apache-2.0
// AIR mappings of the reshaping, joining, slicing and indexing ops: Flatten, Reshape, Transpose,
// Concat, Squeeze/Unsqueeze, Slice, Gather, Expand, Tile, Split and Pad.
#include "formats/air/air_writer.h"

#include <climits>

namespace netwright::air::exporter {

bool Writer::mapShapeOp(const Node &n, const Site &site)
{
    [[maybe_unused]] const auto &[out, y, yt, rank] = site;
    const std::string &op = n.opType;
    [[maybe_unused]] auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    [[maybe_unused]] auto in = [&](size_t i) { return port(n.inputs.at(i)); };
    ge::proto::OpDef *result = nullptr;
    [[maybe_unused]] Port alias; // a result that is another op's port (a chain's last link, an identity)
    if (op == "Flatten") {
        result = &compute("Flatten", n.name, {in(0)}, {y}, {yt});
        integer(*result, "axis", n.attrInt("axis", 1));
    } else if (op == "Reshape") {
        const auto target = intsOf(n.inputs.at(1));
        if (!target)
            return refused(n, "the target shape must be a constant (export with --static-batch)");
        // GE's Reshape takes the shape as an input; ONNX's 0 ("copy this dimension") is resolved.
        std::vector<int64_t> shape = *target;
        const Shape &x = shapeOf(n.inputs[0]);
        for (size_t i = 0; i < shape.size(); ++i)
            if (shape[i] == 0 && n.attrInt("allowzero", 0) == 0 && i < x.size())
                shape[i] = x[i];
        if (std::count(shape.begin(), shape.end(), int64_t(-1)) > 1)
            return refused(n, "the target shape has more than one free dimension; export with --static-batch");
        result = &compute("Reshape", n.name, {in(0), operandConst(n, "shape", int64s(shape))}, {y}, {yt});
        integer(*result, "axis", 0);
        integer(*result, "num_axes", -1);
    } else if (op == "Transpose") {
        std::vector<int64_t> perm = n.attrInts("perm", {});
        if (perm.empty())
            for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i)
                perm.push_back(i);
        result = &compute("TransposeD", n.name, {in(0)}, {y}, {yt});
        ints(*result, "perm", perm);
    } else if (op == "Concat") {
        std::vector<Port> parts;
        for (size_t i = 0; i < n.inputs.size(); ++i)
            if (has(i) && !(isStatic(shapeOf(n.inputs[i])) && shapeNumel(shapeOf(n.inputs[i])) == 0))
                parts.push_back(in(i));
        result = &compute("ConcatD", n.name, parts, {y}, {yt});
        integer(*result, "concat_dim", normAxis(n.attrInt("axis", 0), rank));
        integer(*result, "N", static_cast<int64_t>(parts.size()));
    } else if (op == "Squeeze" || op == "Unsqueeze") {
        const auto axes = operand(n, 1, "axes");
        if (!axes)
            return refused(n, "the axes must be constants");
        std::vector<int64_t> a;
        for (int64_t x : *axes)
            a.push_back(normAxis(x, op == "Squeeze" ? rank : y.size()));
        if (op == "Squeeze" && a.empty()) {
            const Shape &x = shapeOf(n.inputs[0]);
            for (size_t i = 0; i < x.size(); ++i) {
                if (x[i] < 0)
                    return refused(n, "squeezing every unit axis of a shape with a free dimension");
                if (x[i] == 1)
                    a.push_back(static_cast<int64_t>(i));
            }
        }
        std::sort(a.begin(), a.end());
        result = &compute(op, n.name, {in(0)}, {y}, {yt});
        ints(*result, op == "Squeeze" ? "axis" : "axes", a);
    } else if (op == "Slice") {
        const Shape &x = shapeOf(n.inputs[0]);
        std::vector<int64_t> starts, ends, axes, steps;
        if (!sliceOperands(n, starts, ends, axes, steps))
            return refused(n, "starts, ends, axes and steps must be constants (export with --static-batch)");
        if (axes.size() != starts.size() || ends.size() != starts.size() || steps.size() != starts.size())
            return refused(n, "starts, ends, axes and steps differ in length");
        if (rank > 62)
            return refused(n, "StridedSlice's masks hold at most 62 axes");
        StridedSliceArgs s;
        switch (stridedSliceArgs(x, starts, ends, axes, steps, s)) {
        case SliceProblem::AxisOutOfRange: return refused(n, "an axis is out of range");
        case SliceProblem::FreeDimensionFromEnd: return refused(n, "slicing a free dimension from its end; export with --static-batch");
        case SliceProblem::None: break;
        }
        result = &compute("StridedSlice", n.name,
                          {in(0), operandConst(n, "begin", int64s(s.begin)), operandConst(n, "end", int64s(s.end)),
                           operandConst(n, "strides", int64s(s.strides))},
                          {y}, {yt});
        integer(*result, "begin_mask", s.beginMask);
        integer(*result, "end_mask", s.endMask);
        integer(*result, "ellipsis_mask", 0);
        integer(*result, "new_axis_mask", 0);
        integer(*result, "shrink_axis_mask", 0);
    } else if (op == "Gather") {
        const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
        const auto idx = intsOf(n.inputs.at(1));
        const int64_t dim = shapeOf(n.inputs[0]).at(static_cast<size_t>(axis));
        if (!idx || dim < 0)
            return refused(n, "only constant indices into a fixed dimension are exported (ONNX's negative indices count from the end)");
        std::vector<int64_t> v = *idx; // written normalised
        for (auto &i : v)
            i = i < 0 ? i + dim : i;
        result = &compute("GatherV2", n.name,
                          {in(0), operandConst(n, "indices", Tensor::fromInt64(shapeOf(n.inputs[1]), v)),
                           operandConst(n, "axis", Tensor::fromInt64({}, {axis}))},
                          {y}, {yt});
        integer(*result, "batch_dims", 0);
    } else if (op == "Expand") {
        const auto shape = intsOf(n.inputs.at(1));
        if (!shape)
            return refused(n, "the shape must be a constant (export with --static-batch)");
        result = &compute("Expand", n.name, {in(0), operandConst(n, "shape", int64s(*shape))}, {y}, {yt});
    } else if (op == "Tile") {
        const auto reps = intsOf(n.inputs.at(1));
        if (!reps)
            return refused(n, "the repeats must be constants");
        result = &compute("Tile", n.name, {in(0), operandConst(n, "multiples", int64s(*reps))}, {y}, {yt});
    } else if (op == "Split") {
        const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
        std::vector<int64_t> sizes;
        std::vector<Shape> shapes;
        for (const auto &o : n.outputs) {
            shapes.push_back(shapeOf(o));
            sizes.push_back(shapes.back().at(static_cast<size_t>(axis)));
        }
        if (std::any_of(sizes.begin(), sizes.end(), [](int64_t s) { return s < 0; }))
            return refused(n, "splitting a free dimension");
        const bool equal = std::all_of(sizes.begin(), sizes.end(), [&](int64_t s) { return s == sizes[0]; });
        const auto count = static_cast<int64_t>(sizes.size());
        ge::proto::OpDef *split = nullptr;
        if (equal) {
            split = &compute("SplitD", n.name, {in(0)}, shapes, {yt});
            integer(*split, "split_dim", axis);
        } else {
            split = &compute("SplitV", n.name,
                             {in(0), operandConst(n, "size_splits", int64s(sizes)), operandConst(n, "split_dim", Tensor::fromInt64({}, {axis}))},
                             shapes, {yt});
        }
        integer(*split, "num_split", count);
        for (size_t k = 0; k < n.outputs.size(); ++k)
            if (!n.outputs[k].empty())
                m_ports[n.outputs[k]] = {split->name() + ":" + std::to_string(k), shapes[k], yt};
        return true;
    } else if (op == "Pad") {
        if (n.attrString("mode", "constant") != "constant")
            return refused(n, "only constant padding maps to GE's PadD");
        const auto pads = operand(n, 1, "pads");
        if (!pads || pads->size() != 2 * rank)
            return refused(n, "the pads must be constants");
        if (has(3))
            return refused(n, "padding chosen axes is not exported");
        if (has(2) || n.hasAttribute("value")) {
            const Tensor *v = has(2) ? known(n.inputs[2]) : nullptr;
            const bool zero = has(2) ? (v && v->numel() == 1 && v->dtype() == DType::Float32 && v->data()[0] == 0.0f) : n.attrFloat("value", 0) == 0;
            if (!zero)
                return refused(n, "GE's PadD pads with zeros only");
        }
        result = &compute("PadD", n.name, {in(0)}, {y}, {yt});
        auto *lists = (*result->mutable_attr())["paddings"].mutable_list_list_int();
        for (size_t i = 0; i < rank; ++i) {
            if ((*pads)[i] < 0 || (*pads)[i + rank] < 0)
                return refused(n, "negative pads (cropping) are not exported");
            auto *pair = lists->add_list_list_i();
            pair->add_list_i((*pads)[i]);
            pair->add_list_i((*pads)[i + rank]);
        }
    } else {
        return false;
    }
    setOutput(site, result, alias);
    return true;
}

} // namespace netwright::air::exporter

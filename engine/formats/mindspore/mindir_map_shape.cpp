// SPDX-License-Identifier: Apache-2.0
// MindIR mappings of the shape and indexing ops: Flatten, Reshape, Squeeze/Unsqueeze, Transpose,
// Concat, Split, Slice (as StridedSlice), Gather, Expand, Tile, Pad, DepthToSpace/SpaceToDepth.
#include "formats/mindspore/mindir_writer.h"

#include <algorithm>
#include <climits>

namespace netwright::mindspore::mindir {

bool Writer::mapShapeOp(const Node &n, const Site &site, std::string &result)
{
    [[maybe_unused]] const auto &[out, y, yt, rank] = site;
    const std::string &op = n.opType;
    auto in = [&](size_t i) { return value(n.inputs.at(i)); };
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    if (op == "Flatten") {
        const int64_t axis = normAxis(n.attrInt("axis", 1), rank);
        if (axis == 1)
            result = cnode(primitive("Flatten", {"input_x"}), {in(0)}, {y}, {yt});
        else if (reshapeable(y))
            result = reshape(in(0), std::vector<int64_t>(y.begin(), y.end()), y, yt);
        else
            return refused(n, "the flattened shape has more than one free dimension");
    } else if (op == "Reshape") {
        // A target computed from the free batch (partial): its unknown entries are -1.
        const auto target = asPartial(n.inputs.at(1));
        if (!target || target->scalar)
            return refused(n, "the target shape must be a constant (export with --static-batch)");
        std::vector<int64_t> shape;
        for (const auto &d : target->v)
            shape.push_back(d ? *d : -1);
        const Shape &x = shapeOf(n.inputs[0]);
        for (size_t i = 0; i < shape.size(); ++i)
            if (target->v[i] == 0 && n.attrInt("allowzero", 0) == 0 && i < x.size())
                shape[i] = x[i] < 0 ? -1 : x[i]; // ONNX's "copy this dimension"
        if (std::count(shape.begin(), shape.end(), int64_t(-1)) > 1) {
            if (!reshapeable(y) || y.size() != shape.size())
                return refused(n, "the target shape has more than one free dimension; export with --static-batch");
            shape.assign(y.begin(), y.end());
        }
        result = reshape(in(0), shape, y, yt);
    } else if (op == "Squeeze" || op == "Unsqueeze") {
        const auto axes = operand(n, 1, "axes");
        if (!axes)
            return refused(n, "the axes must be constants");
        std::vector<int64_t> a;
        const size_t r = op == "Squeeze" ? rank : y.size();
        for (int64_t x : *axes)
            a.push_back(normAxis(x, r));
        std::sort(a.begin(), a.end());
        if (op == "Squeeze") {
            if (a.empty()) {
                const Shape &x = shapeOf(n.inputs[0]);
                for (size_t i = 0; i < x.size(); ++i) {
                    if (x[i] < 0)
                        return refused(n, "squeezing every unit axis of a shape with a free dimension");
                    if (x[i] == 1)
                        a.push_back(static_cast<int64_t>(i));
                }
            }
            auto &p = primitive("Squeeze", {"x"});
            tupleAttr(p, "axis", a);
            result = cnode(p, {in(0)}, {y}, {yt});
        } else {
            result = in(0);
            Shape s = shapeOf(n.inputs[0]);
            for (int64_t ax : a) {
                s.insert(s.begin() + ax, 1);
                result = expandDims(result, ax, s, yt);
            }
        }
    } else if (op == "Transpose") {
        std::vector<int64_t> perm = n.attrInts("perm", {});
        if (perm.empty())
            for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i)
                perm.push_back(i);
        result = cnode(primitive("Transpose", {"x", "perm"}), {in(0), constantTuple(perm)}, {y}, {yt});
    } else if (op == "Concat") {
        std::vector<std::string> parts;
        std::vector<Shape> partShapes;
        for (size_t i = 0; i < n.inputs.size(); ++i) {
            if (!has(i) || (isStatic(shapeOf(n.inputs[i])) && shapeNumel(shapeOf(n.inputs[i])) == 0))
                continue;
            parts.push_back(in(i));
            partShapes.push_back(shapeOf(n.inputs[i]));
        }
        result = concat(parts, partShapes, normAxis(n.attrInt("axis", 0), rank), y, yt);
    } else if (op == "Split") {
        const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
        std::vector<int64_t> sizes;
        std::vector<Shape> shapes;
        for (const auto &o : n.outputs) {
            shapes.push_back(shapeOf(o));
            sizes.push_back(shapes.back()[static_cast<size_t>(axis)]);
        }
        if (std::any_of(sizes.begin(), sizes.end(), [](int64_t s) { return s < 0; }))
            return refused(n, "splitting a free dimension");
        const bool equal = std::all_of(sizes.begin(), sizes.end(), [&](int64_t s) { return s == sizes[0]; });
        auto &p = primitive(equal ? "Split" : "SplitV", {"x"});
        if (equal) {
            intAttr(p, "axis", axis);
            intAttr(p, "output_num", static_cast<int64_t>(sizes.size()));
        } else {
            tupleAttr(p, "size_splits", sizes);
            intAttr(p, "split_dim", axis);
            intAttr(p, "num_split", static_cast<int64_t>(sizes.size()));
        }
        const std::string all = cnode(p, {in(0)}, shapes, {yt});
        for (size_t k = 0; k < n.outputs.size(); ++k)
            m_names[n.outputs[k]] = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(static_cast<int64_t>(k))},
                                          {shapes[k]}, {yt});
        return true;
    } else if (op == "Slice") {
        const Shape &x = shapeOf(n.inputs[0]);
        std::vector<int64_t> starts, ends, axes, steps;
        if (!sliceOperands(n, starts, ends, axes, steps))
            return refused(n, "starts, ends, axes and steps must be constants (export with a fixed batch)");
        StridedSliceArgs s;
        switch (stridedSliceArgs(x, starts, ends, axes, steps, s)) {
        case SliceProblem::AxisOutOfRange: return refused(n, "an axis is out of range");
        case SliceProblem::FreeDimensionFromEnd: return refused(n, "slicing a free dimension from its end");
        case SliceProblem::None: break;
        }
        result = stridedSlice(in(0), s.begin, s.end, s.strides, s.beginMask, s.endMask, y, yt);
    } else if (op == "Gather") {
        const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
        std::string indices;
        if (const auto idx = intsOf(n.inputs[1]); idx && shapeOf(n.inputs[0])[static_cast<size_t>(axis)] > 0) {
            // Negative indices count from the end in ONNX; written normalised.
            const int64_t dim = shapeOf(n.inputs[0])[static_cast<size_t>(axis)];
            std::vector<int64_t> v = *idx;
            for (auto &i : v)
                i = i < 0 ? i + dim : i;
            indices = constantTensor(Tensor::fromInt64(shapeOf(n.inputs[1]), v));
        } else {
            indices = in(1);
        }
        result = gather(in(0), indices, axis, y, yt);
    } else if (op == "Expand") {
        std::vector<int64_t> target(y.begin(), y.end());
        result = cnode([&]() -> Prim & {
            auto &p = primitive("BroadcastTo", {"x"});
            tupleAttr(p, "shape", target);
            return p;
        }(),
                       {in(0)}, {y}, {yt});
    } else if (op == "Tile") {
        const auto reps = intsOf(n.inputs.at(1));
        if (!reps)
            return refused(n, "the repeats must be constants");
        result = cnode(primitive("Tile", {"x", "multiples"}), {in(0), constantTuple(*reps)}, {y}, {yt});
    } else if (op == "Pad") {
        if (n.attrString("mode", "constant") != "constant")
            return refused(n, "only constant padding maps to MindSpore's Pad");
        const auto pads = operand(n, 1, "pads");
        if (!pads || pads->size() != 2 * rank)
            return refused(n, "the pads must be constants");
        if (has(3))
            return refused(n, "padding chosen axes is not exported");
        if (has(2)) {
            const Tensor *v = known(n.inputs[2]);
            if (!v || v->numel() != 1 || v->dtype() != DType::Float32 || v->data()[0] != 0.0f)
                return refused(n, "MindSpore's Pad pads with zeros only");
        }
        auto &p = primitive("Pad", {"x"});
        A *a = p.add_attribute();
        a->set_name("paddings");
        a->set_type(A::TUPLE);
        for (size_t i = 0; i < rank; ++i) {
            if ((*pads)[i] < 0 || (*pads)[i + rank] < 0)
                return refused(n, "negative pads (cropping) are not exported");
            fillIntTuple(*a->add_values(), {(*pads)[i], (*pads)[i + rank]});
        }
        result = cnode(p, {in(0)}, {y}, {yt});
    } else if (op == "DepthToSpace" || op == "SpaceToDepth") {
        if (op == "DepthToSpace" && n.attrString("mode", "DCR") != "DCR")
            return refused(n, "MindSpore's DepthToSpace is the DCR arrangement; CRD is not");
        auto &p = primitive(op, {"x"});
        intAttr(p, "block_size", n.attrInt("blocksize", 2));
        stringAttr(p, "format", "NCHW");
        result = cnode(p, {in(0)}, {y});
    } else {
        return false;
    }
    return true;
}

} // namespace netwright::mindspore::mindir

// SPDX-License-Identifier: Apache-2.0
// AIR mappings of the element-wise ops: GE's unary and binary operators of the same meaning (the
// variadic Sum/Max/Min and Mean chained), Log, Clip, the softmaxes, the activations written as GE
// operators or, for Gelu, as their exact composition, Cast and Where.
#include "formats/air/air_writer.h"

#include "formats/air/air_reader.h"

#include <cmath>

namespace netwright::air::exporter {

bool Writer::mapElementwise(const Node &n, const Site &site)
{
    [[maybe_unused]] const auto &[out, y, yt, rank] = site;
    const std::string &op = n.opType;
    [[maybe_unused]] auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    [[maybe_unused]] auto in = [&](size_t i) { return port(n.inputs.at(i)); };
    ge::proto::OpDef *result = nullptr;
    [[maybe_unused]] Port alias; // a result that is another op's port (a chain's last link, an identity)
    if (const auto u = unaryOps().find(op); u != unaryOps().end()) {
        result = &compute(u->second, n.name, {in(0)}, {y}, {yt});
    } else if (op == "Log") {
        result = &compute("Log", n.name, {in(0)}, {y}, {yt});
        real(*result, "base", -1.0f); // natural logarithm of (shift + scale·x)
        real(*result, "scale", 1.0f);
        real(*result, "shift", 0.0f);
    } else if (const auto b = binaryOps().find(op); b != binaryOps().end()) {
        if (op == "Div" && typeOf(n.inputs[0]) != DType::Float32)
            return refused(n, "integer division truncates in ONNX; GE's RealDiv is float division");
        Port acc = in(0);
        for (size_t i = 1; i < n.inputs.size(); ++i) {
            const bool last = i + 1 == n.inputs.size();
            acc = binary(b->second, last ? n.name : n.name + "/" + std::to_string(i), acc, in(i), last ? y : broadcastShape(i, n), yt);
        }
        alias = acc;
    } else if (op == "Mean") {
        if (yt != DType::Float32)
            return refused(n, "only float Mean is exported");
        Port acc = in(0);
        for (size_t i = 1; i < n.inputs.size(); ++i)
            acc = binary("Add", n.name + "/" + std::to_string(i), acc, in(i), broadcastShape(i, n));
        alias = binary("RealDiv", n.name, acc, scalar(n, "count", static_cast<float>(n.inputs.size())), y);
    } else if (op == "LeakyRelu") {
        result = &compute("LeakyRelu", n.name, {in(0)}, {y});
        real(*result, "negative_slope", n.attrFloat("alpha", 0.01f));
    } else if (op == "Clip") {
        std::optional<float> lo, hi;
        if (!clipBounds(n, lo, hi))
            return refused(n, "the bounds must be float32 constants");
        if (lo == 0.0f && hi == 6.0f) {
            result = &compute("Relu6", n.name, {in(0)}, {y});
        } else if (lo && hi) {
            result = &compute("ClipByValue", n.name,
                              {in(0), has(1) ? in(1) : scalar(n, "min", *lo), has(2) ? in(2) : scalar(n, "max", *hi)}, {y});
        } else if (lo) {
            alias = binary("Maximum", n.name, in(0), has(1) ? in(1) : scalar(n, "min", *lo), y);
        } else if (hi) {
            alias = binary("Minimum", n.name, in(0), has(2) ? in(2) : scalar(n, "max", *hi), y);
        } else {
            alias = in(0);
        }
    } else if (op == "Softmax" || op == "LogSoftmax") {
        result = &compute(op == "Softmax" ? "SoftmaxV2" : "LogSoftmaxV2", n.name, {in(0)}, {y});
        ints(*result, "axes", {n.attrInt("axis", -1)});
    } else if (op == "HardSigmoid") {
        result = &compute("HardSigmoid", n.name, {in(0)}, {y}); // max(0, min(1, alpha·x + beta))
        real(*result, "alpha", n.attrFloat("alpha", 0.2f));
        real(*result, "beta", n.attrFloat("beta", 0.5f));
    } else if (op == "Elu") {
        result = &compute("Elu", n.name, {in(0)}, {y});
        real(*result, "alpha", n.attrFloat("alpha", 1.0f));
    } else if (op == "Selu") {
        if (std::abs(n.attrFloat("alpha", 1.67326319217681884765625f) - 1.67326319217681884765625f) > 1e-6f
            || std::abs(n.attrFloat("gamma", 1.05070102214813232421875f) - 1.05070102214813232421875f) > 1e-6f)
            return refused(n, "GE's Selu has fixed alpha and gamma");
        result = &compute("Selu", n.name, {in(0)}, {y});
    } else if (op == "PRelu") {
        // GE's PRelu takes one slope or one per channel (axis 1) as a vector.
        const Shape &slope = shapeOf(n.inputs[1]);
        const int64_t count = shapeNumel(slope);
        const Shape &x = shapeOf(n.inputs[0]);
        const bool perChannel = rank >= 2 && !slope.empty() && slope[0] == x[1] && count == slope[0]
                                && (slope.size() + 1 == rank || (rank == 2 && slope.size() == 1));
        if (count != 1 && !perChannel)
            return refused(n, "only a slope per channel (or one slope) maps to GE's PRelu");
        const Port flat = out0(compute("Reshape", n.name + "/slope", {in(1), operandConst(n, "slope_shape", int64s({count}))}, {{count}}), {count});
        result = &compute("PRelu", n.name, {in(0), flat}, {y});
    } else if (op == "Gelu") {
        // 0.5·x·(1 + erf(x/√2)), or the tanh form, as written: GE's Gelu is one approximation.
        const Port x = in(0);
        Port inner;
        if (n.attrString("approximate", "none") == "tanh") {
            const Port cube = binary("Mul", n.name + "/x3", binary("Mul", n.name + "/x2", x, x, y), x, y);
            const Port poly = binary("Add", n.name + "/poly", x, binary("Mul", n.name + "/c", cube, scalar(n, "c", 0.044715f), y), y);
            inner = unary("Tanh", n.name + "/tanh", binary("Mul", n.name + "/scaled", poly, scalar(n, "k", 0.7978845608028654f), y), y);
        } else {
            inner = unary("Erf", n.name + "/erf", binary("Mul", n.name + "/scaled", x, scalar(n, "k", 0.70710678118654752f), y), y);
        }
        const Port onePlus = binary("Add", n.name + "/one_plus", inner, scalar(n, "one", 1.0f), y);
        alias = binary("Mul", n.name, binary("Mul", n.name + "/x_times", x, onePlus, y), scalar(n, "half", 0.5f), y);
    } else if (op == "Cast" || op == "CastLike") {
        const int64_t dst = cppTypeOf(yt);
        if (dst < 0)
            return refused(n, "GE's Cast has no target type for " + dtypeName(yt));
        result = &compute("Cast", n.name, {in(0)}, {y}, {yt});
        (*result->mutable_attr())["dst_type"].set_dt(dst); // ge::DataType (C++ numbering)
    } else if (op == "Where") {
        // Select takes operands of one shape; SelectV2 broadcasts them as ONNX's Where does.
        const bool same = shapeOf(n.inputs[0]) == y && shapeOf(n.inputs[1]) == y && shapeOf(n.inputs[2]) == y;
        result = &compute(same ? "Select" : "SelectV2", n.name, {in(0), in(1), in(2)}, {y}, {yt});
    } else {
        return false;
    }
    setOutput(site, result, alias);
    return true;
}

Shape Writer::broadcastShape(size_t i, const Node &n) const
{
    Shape s;
    for (size_t k = 0; k <= i; ++k) {
        const Shape &x = shapeOf(n.inputs[k]);
        if (x.size() > s.size())
            s.insert(s.begin(), x.size() - s.size(), 1);
        for (size_t d = 0; d < x.size(); ++d) {
            int64_t &t = s[s.size() - x.size() + d];
            t = t == 1 ? x[d] : t;
        }
    }
    return s;
}

} // namespace netwright::air::exporter

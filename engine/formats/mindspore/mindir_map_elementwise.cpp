// SPDX-License-Identifier: Apache-2.0
// MindIR mappings of the element-wise ops: the unary and binary primitives of the same meaning,
// Clip, the softmaxes, the activations written as primitives or composed, Where.
#include "formats/mindspore/mindir_writer.h"

#include <cmath>

namespace netwright::mindspore::mindir {

bool Writer::mapElementwise(const Node &n, const Site &site, std::string &result)
{
    [[maybe_unused]] const auto &[out, y, yt, rank] = site;
    const std::string &op = n.opType;
    auto in = [&](size_t i) { return value(n.inputs.at(i)); };
    if (const auto u = unaryOps().find(op); u != unaryOps().end()) {
        result = cnode(primitive(u->second, {"x"}), {in(0)}, {y}, {yt});
    } else if (const auto b = binaryOps().find(op); b != binaryOps().end()) {
        if (op == "Div" && typeOf(n.inputs[0]) != DType::Float32)
            return refused(n, "integer division truncates in ONNX; MindSpore's RealDiv is float division");
        if ((op == "Sum" || op == "Max" || op == "Min") && n.inputs.size() == 1) {
            m_names[out] = in(0);
            return true;
        }
        result = in(0);
        for (size_t i = 1; i < n.inputs.size(); ++i)
            result = cnode(primitive(b->second, {"x", "y"}), {result, in(i)}, {y}, {yt});
    } else if (op == "Clip") {
        std::optional<float> lo, hi;
        if (!clipBounds(n, lo, hi))
            return refused(n, "the bounds must be float32 constants");
        if (lo == 0.0f && hi == 6.0f) {
            result = unary("ReLU6", in(0), y);
        } else if (lo == 0.0f && !hi) {
            result = unary("ReLU", in(0), y);
        } else {
            result = in(0);
            if (lo)
                result = binary("Maximum", result, scalarConst(*lo), y);
            if (hi)
                result = binary("Minimum", result, scalarConst(*hi), y);
        }
    } else if (op == "Softmax") {
        auto &sm = primitive("Softmax", {"x"});
        tupleAttr(sm, "axis", {n.attrInt("axis", -1)});
        result = cnode(sm, {in(0)}, {y});
    } else if (op == "LogSoftmax") {
        auto &sm = primitive("LogSoftmax", {"logits"});
        intAttr(sm, "axis", n.attrInt("axis", -1));
        result = cnode(sm, {in(0)}, {y});
    } else if (op == "HardSigmoid") {
        const float alpha = n.attrFloat("alpha", 0.2f), beta = n.attrFloat("beta", 0.5f);
        if (alpha == 1.0f / 6.0f && beta == 0.5f) {
            result = unary("HSigmoid", in(0), y); // relu6(x + 3) / 6
        } else {
            // max(0, min(1, alpha·x + beta)), as written
            const std::string t = binary("Add", binary("Mul", in(0), scalarConst(alpha), y), scalarConst(beta), y);
            result = binary("Maximum", binary("Minimum", t, scalarConst(1.0f), y), scalarConst(0.0f), y);
        }
    } else if (op == "LeakyRelu") {
        // MindSpore's nn.LeakyReLU computes max(x, αx) (min for α > 1): the same values.
        const float alpha = n.attrFloat("alpha", 0.01f);
        if (alpha < 0)
            return refused(n, "a negative slope has no max/min form");
        result = binary(alpha <= 1 ? "Maximum" : "Minimum", in(0), binary("Mul", in(0), scalarConst(alpha), y), y);
    } else if (op == "Elu") {
        auto &p = primitive("Elu", {"x"});
        floatAttr(p, "alpha", n.attrFloat("alpha", 1.0f));
        result = cnode(p, {in(0)}, {y});
    } else if (op == "Celu") {
        auto &p = primitive("CeLU", {"x"});
        floatAttr(p, "alpha", n.attrFloat("alpha", 1.0f));
        result = cnode(p, {in(0)}, {y});
    } else if (op == "Selu") {
        if (std::abs(n.attrFloat("alpha", 1.67326319217681884765625f) - 1.67326319217681884765625f) > 1e-6f
            || std::abs(n.attrFloat("gamma", 1.05070102214813232421875f) - 1.05070102214813232421875f) > 1e-6f)
            return refused(n, "MindSpore's SeLU has fixed alpha and gamma");
        result = unary("SeLU", in(0), y);
    } else if (op == "Gelu") {
        // 0.5·x·(1 + erf(x/√2)) as written (MindSpore's GeLU primitive is approximated on some
        // backends); the tanh form likewise.
        if (n.attrString("approximate", "none") != "none")
            return refused(n, "the tanh approximation is not exported");
        const std::string e = unary("Erf", binary("Mul", in(0), scalarConst(0.70710678118654752f), y), y);
        result = binary("Mul", binary("Mul", in(0), binary("Add", e, scalarConst(1.0f), y), y), scalarConst(0.5f), y);
    } else if (op == "PRelu") {
        const Shape &slope = shapeOf(n.inputs[1]);
        const int64_t count = shapeNumel(slope);
        const bool perChannel = rank >= 2 && !slope.empty() && slope[0] == shapeOf(n.inputs[0])[1] && count == slope[0]
                                && (slope.size() + 1 == rank || (rank == 2 && slope.size() == 1));
        if (count != 1 && !perChannel)
            return refused(n, "only a slope per channel (or one slope) maps to PReLU");
        result = call("PReLU", {"x", "weight"}, {in(0), reshape(in(1), {count}, {count})}, y);
    } else if (op == "Where") {
        result = cnode(primitive("Select", {"cond", "x", "y"}), {in(0), in(1), in(2)}, {y}, {yt});
    } else {
        return false;
    }
    return true;
}

} // namespace netwright::mindspore::mindir

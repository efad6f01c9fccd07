// SPDX-License-Identifier: Apache-2.0
// CNTK mappings of the element-wise ops: the unary and binary primitives, Sum, Where, Ceil, the
// ELU family (Elu, LeakyRelu, PRelu), HardSigmoid, Softmax/LogSoftmax/Hardmax and Clip.
#include "formats/cntk/cntk_writer.h"

#include <limits>

namespace netwright::cntk::v2 {

std::optional<bool> Writer::mapElementwise(const Node &n)
{
    const std::string &y = n.outputs.at(0);
    auto in = [&](size_t i) { return value(n.inputs.at(i)); };
    const std::string &op = n.opType;
    std::string out;
    if (const auto u = unaryOps().find(op); u != unaryOps().end()) {
        out = addFunction(u->second, n.name, {in(0)}, dict::make());
        setBatchAxis(y, batchAxis(n.inputs[0]));
    } else if (op == "Ceil") {
        // ceil(x) = −floor(−x), exactly (signed zeros and NaN included).
        const std::string neg = addFunction(Negate, n.name + ".neg", {in(0)}, dict::make());
        out = addFunction(Negate, n.name, {addFunction(Floor, n.name + ".floor", {neg}, dict::make())}, dict::make());
    } else if (const auto b = binaryOps().find(op); b != binaryOps().end() || op == "Sum") {
        std::vector<std::string> operands;
        for (const auto &i : n.inputs) {
            const auto v = elementwise(n, i, y);
            if (!v)
                return false;
            operands.push_back(*v);
        }
        if (op == "Sum") { // left to right, as the engine adds
            out = operands.at(0);
            for (size_t i = 1; i < operands.size(); ++i)
                out = addFunction(Plus, i + 1 == operands.size() ? n.name : n.name + "." + std::to_string(i), {out, operands[i]}, dict::make());
            if (operands.size() == 1)
                return alias(n, n.inputs[0]);
        } else {
            out = addFunction(b->second, n.name, {operands.at(0), operands.at(1)}, dict::make());
        }
    } else if (op == "Where") {
        std::vector<std::string> operands;
        for (const auto &i : n.inputs) {
            const auto v = elementwise(n, i, y);
            if (!v)
                return false;
            operands.push_back(*v);
        }
        out = addFunction(Select, n.name, operands, dict::make());
    } else if (op == "Elu" || op == "LeakyRelu" || op == "PRelu") {
        // CNTK's ELU has alpha 1; other alphas, LeakyRelu and PRelu are x < 0 ? a·x : x, as
        // CNTK's own leaky_relu composes it (Select of Less).
        const float alpha = n.attrFloat("alpha", op == "Elu" ? 1.0f : 0.01f);
        if (op == "Elu" && alpha == 1.0f) {
            out = addFunction(ELU, n.name, {in(0)}, dict::make());
        } else {
            std::string slope;
            if (op == "PRelu") {
                const auto s = elementwise(n, n.inputs.at(1), y);
                if (!s)
                    return false;
                slope = *s;
            } else {
                slope = scalarConstant(n.name + ".alpha", alpha);
            }
            const std::string negative = addFunction(Less, n.name + ".negative", {in(0), scalarConstant(n.name + ".zero", 0.0f)}, dict::make());
            const std::string x = op == "Elu" ? addFunction(ELU, n.name + ".elu", {in(0)}, dict::make()) : in(0);
            const std::string scaled = addFunction(ElementTimes, n.name + ".scaled", {x, slope}, dict::make());
            out = addFunction(Select, n.name, {negative, scaled, in(0)}, dict::make());
        }
    } else if (op == "HardSigmoid") {
        // max(0, min(1, alpha·x + beta)) = Clip(alpha·x + beta, 0, 1), operation for operation.
        const std::string scaled =
            addFunction(ElementTimes, n.name + ".scaled", {in(0), scalarConstant(n.name + ".alpha", n.attrFloat("alpha", 0.2f))}, dict::make());
        const std::string shifted =
            addFunction(Plus, n.name + ".shifted", {scaled, scalarConstant(n.name + ".beta", n.attrFloat("beta", 0.5f))}, dict::make());
        out = addFunction(Clip, n.name, {shifted, scalarConstant(n.name + ".min", 0.0f), scalarConstant(n.name + ".max", 1.0f)}, dict::make());
    } else if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
        const auto axis = cntkAxis(n.inputs[0], n.attrInt("axis", -1));
        if (!axis)
            return fail(n, "it normalises along the batch axis, which CNTK keeps as a dynamic axis");
        Dictionary a = dict::make();
        if (op == "Hardmax") {
            if (sampleRank(n.inputs[0]) != 1)
                return fail(n, "CNTK's Hardmax takes the whole sample, not one axis of a sample of rank above 1");
        } else if (sampleRank(n.inputs[0]) > 1) {
            dict::put(a, "axis", staticAxis(*axis));
        }
        out = addFunction(op == "Softmax" ? Softmax : op == "LogSoftmax" ? LogSoftmax : Hardmax, n.name, {in(0)}, std::move(a));
    } else if (op == "Clip") {
        // CNTK's Clip(operand, min, max) takes its bounds as operands, as ONNX Clip does since
        // opset 11 (ReLU6 is Clip(x, 0, 6)); a bound left out, or given as an attribute by an
        // older opset, becomes a scalar Constant (±infinity when absent).
        std::vector<std::string> operands{in(0)};
        for (size_t i = 1; i <= 2; ++i) {
            if (i < n.inputs.size() && !n.inputs[i].empty()) {
                operands.push_back(in(i));
                continue;
            }
            const std::string key = i == 1 ? "min" : "max";
            const float infinity = std::numeric_limits<float>::infinity();
            operands.push_back(scalarConstant(n.name + "." + key, n.attrFloat(key, i == 1 ? -infinity : infinity)));
        }
        out = addFunction(Clip, n.name, operands, dict::make());
    } else {
        return std::nullopt;
    }
    m_values[y] = out;
    return true;
}

} // namespace netwright::cntk::v2

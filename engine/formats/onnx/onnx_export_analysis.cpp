// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_export_analysis.h"

#include "core/error.h"
#include "ops/op.h"

#include <cstring>

namespace netwright::onnx_format::exporter {

Analysis seedAnalysis(const std::map<std::string, Tensor> &initializers, const std::map<std::string, ValueInfo> &inputs)
{
    Analysis a;
    for (const auto &[name, v] : inputs) {
        a.shapes[name] = v.shape;
        a.types[name] = v.dtype;
    }
    for (const auto &[name, t] : initializers) {
        a.shapes[name] = t.shape();
        a.types[name] = t.dtype();
        if (t.device().type == DeviceType::Cpu)
            a.constants[name] = t;
    }
    return a;
}

void analyse(Analysis &a, const std::vector<const Node *> &nodes)
{
    constexpr int64_t kFoldLimit = 1 << 16;
    for (const Node *n : nodes) {
        if (!hasKernel(n->opType))
            continue; // its outputs stay unknown
        const OpKernel &op = kernelFor(n->opType, DeviceType::Cpu, *n);
        std::vector<Shape> in;
        std::vector<DType> types;
        std::vector<const Tensor *> constIn;
        bool allShapes = true, allTypes = true, allConstant = true;
        for (const auto &i : n->inputs) {
            if (i.empty()) {
                in.emplace_back();
                types.push_back(DType::Float32);
                constIn.push_back(nullptr);
                continue;
            }
            const auto s = a.shapes.find(i);
            const auto t = a.types.find(i);
            const auto c = a.constants.find(i);
            allShapes = allShapes && s != a.shapes.end();
            allTypes = allTypes && t != a.types.end();
            in.push_back(s != a.shapes.end() ? s->second : Shape{});
            types.push_back(t != a.types.end() ? t->second : DType::Float32);
            constIn.push_back(c == a.constants.end() ? nullptr : &c->second);
            allConstant = allConstant && c != a.constants.end();
        }
        if (!allTypes)
            continue; // an input after an op without a kernel
        try {
            const std::vector<DType> outTypes = op.outputTypes(*n, types);
            for (size_t k = 0; k < n->outputs.size() && k < outTypes.size(); ++k)
                if (!n->outputs[k].empty())
                    a.types[n->outputs[k]] = outTypes[k];
        } catch (const Error &) {
            continue;
        }
        if (!allShapes)
            continue;
        std::vector<Shape> out;
        try {
            out = op.inferShapes(*n, in, constIn);
        } catch (const Error &) {
            continue;
        }
        for (size_t k = 0; k < n->outputs.size() && k < out.size(); ++k)
            if (!n->outputs[k].empty())
                a.shapes[n->outputs[k]] = out[k];
        std::vector<Tensor> values;
        if (auto v = op.valueFromShapes(*n, in)) {
            values.push_back(std::move(*v));
        } else if (allConstant && !n->outputs.empty() && n->opType != "Dropout") {
            int64_t total = 0;
            for (const Shape &s : out)
                total += shapeNumel(s);
            if (total <= kFoldLimit) {
                try {
                    values = evaluateNode(*n, constIn);
                } catch (const Error &) {
                    values.clear();
                }
            }
        }
        for (size_t k = 0; k < values.size() && k < n->outputs.size(); ++k)
            if (!n->outputs[k].empty() && values[k].defined())
                a.constants[n->outputs[k]] = std::move(values[k]);
    }
}

bool sameTensor(const Tensor &a, const Tensor &b)
{
    return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

} // namespace netwright::onnx_format::exporter

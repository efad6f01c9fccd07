// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/op_documentation.h"

#include <onnx/defs/schema.h>

#include <climits>
#include <mutex>

namespace netwright {

namespace {

std::string attributeType(onnx::AttributeProto::AttributeType t)
{
    switch (t) {
    case onnx::AttributeProto::FLOAT: return "float";
    case onnx::AttributeProto::INT: return "int";
    case onnx::AttributeProto::STRING: return "string";
    case onnx::AttributeProto::TENSOR: return "tensor";
    case onnx::AttributeProto::GRAPH: return "graph";
    case onnx::AttributeProto::FLOATS: return "float[]";
    case onnx::AttributeProto::INTS: return "int[]";
    case onnx::AttributeProto::STRINGS: return "string[]";
    case onnx::AttributeProto::GRAPHS: return "graph[]";
    default: return "";
    }
}

std::string defaultText(const onnx::AttributeProto &a)
{
    switch (a.type()) {
    case onnx::AttributeProto::FLOAT: {
        std::string s = std::to_string(a.f());
        while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.')
            s.pop_back();
        return s;
    }
    case onnx::AttributeProto::INT: return std::to_string(a.i());
    case onnx::AttributeProto::STRING: return "\"" + a.s() + "\"";
    case onnx::AttributeProto::INTS: {
        std::string s = "[";
        for (int i = 0; i < a.ints_size(); ++i)
            s += (i ? "," : "") + std::to_string(a.ints(i));
        return s + "]";
    }
    default: return "";
    }
}

std::vector<OpDocumentation::Item> formals(const std::vector<onnx::OpSchema::FormalParameter> &list)
{
    std::vector<OpDocumentation::Item> out;
    for (const auto &p : list) {
        OpDocumentation::Item item;
        item.name = p.GetName();
        item.type = p.GetTypeStr();
        item.description = p.GetDescription();
        item.optional = p.GetOption() == onnx::OpSchema::Optional;
        item.variadic = p.GetOption() == onnx::OpSchema::Variadic;
        out.push_back(std::move(item));
    }
    return out;
}

} // namespace

std::optional<OpDocumentation> onnxOpDocumentation(const std::string &opType, int opset)
{
    std::string domain, op = opType;
    if (const size_t colons = opType.rfind("::"); colons != std::string::npos) {
        domain = opType.substr(0, colons);
        op = opType.substr(colons + 2);
    }
    if (domain == "ai.onnx")
        domain.clear();
    // libonnx builds its registry on first use; one thread at a time does that.
    static std::mutex mutex;
    const std::lock_guard lock(mutex);
    const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(op, opset > 0 ? opset : INT_MAX, domain);
    if (!schema)
        return std::nullopt;
    OpDocumentation d;
    d.opType = op;
    d.domain = domain;
    d.sinceVersion = schema->since_version();
    d.doc = schema->doc() ? schema->doc() : "";
    d.inputs = formals(schema->inputs());
    d.outputs = formals(schema->outputs());
    for (const auto &[name, a] : schema->attributes()) {
        OpDocumentation::Item item;
        item.name = name;
        item.type = attributeType(a.type);
        item.description = a.description;
        item.required = a.required;
        if (a.default_value.type() != onnx::AttributeProto::UNDEFINED)
            item.defaultValue = defaultText(a.default_value);
        d.attributes.push_back(std::move(item));
    }
    return d;
}

int onnxOpset(const std::string &opsetImport)
{
    // "ai.onnx 17, ai.onnx.ml 3"
    size_t at = 0;
    while ((at = opsetImport.find("ai.onnx ", at)) != std::string::npos) {
        const size_t number = at + 8;
        if (at == 0 || opsetImport[at - 1] == ' ')
            return std::atoi(opsetImport.c_str() + number);
        at = number;
    }
    return 0;
}

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
// The CNTK model-v2 writer (cntk_writer.h): variables and functions, constants and folded shape
// arithmetic, the batch axis a value carries, the building blocks the mappings compose, and the
// per-node dispatch to the mapping groups.
#include "formats/cntk/cntk_writer.h"

#include "core/error.h"
#include "formats/cntk/cntk_model.h"
#include "ops/op.h"

#include <algorithm>

namespace netwright::cntk::v2 {

std::vector<Value> bools(size_t n, bool v)
{
    return std::vector<Value>(n, dict::boolean(v));
}

std::optional<Tensor> asFloat32(const Tensor &t)
{
    if (t.dtype() == DType::Float32)
        return t;
    Tensor out(t.shape(), DType::Float32);
    for (int64_t i = 0; i < t.numel(); ++i) {
        double v = 0;
        switch (t.dtype()) {
        case DType::Int64: v = static_cast<double>(t.dataAs<int64_t>()[i]); break;
        case DType::Int32: v = t.dataAs<int32_t>()[i]; break;
        case DType::Bool: v = t.dataAs<bool>()[i] ? 1.0 : 0.0; break;
        case DType::Float64: v = t.dataAs<double>()[i]; break;
        default: return std::nullopt;
        }
        out.data()[i] = static_cast<float>(v);
        if (static_cast<double>(out.data()[i]) != v)
            return std::nullopt;
    }
    return out;
}

std::optional<std::vector<int64_t>> asInts(const Tensor &t)
{
    std::vector<int64_t> out;
    for (int64_t i = 0; i < t.numel(); ++i) {
        if (t.dtype() == DType::Int64)
            out.push_back(t.dataAs<int64_t>()[i]);
        else if (t.dtype() == DType::Int32)
            out.push_back(t.dataAs<int32_t>()[i]);
        else
            return std::nullopt;
    }
    return out;
}

Value staticAxis(int64_t index)
{
    return dict::axis(static_cast<int32_t>(index), "staticAxis_" + std::to_string(index), false);
}

bool Writer::keepsTheBatch(const Node &n)
{
    for (const auto &o : n.outputs) {
        if (o.empty() || !m_batched.count(o) || !m_shapes.count(o) || !m_values.count(o))
            continue; // BatchNormalization's running statistics, Dropout's mask: not written
        const Shape &a = m_shapes.at(o);
        const auto k = static_cast<size_t>(batchAxis(o));
        bool ok = a.size() > k && a[k] == m_batch;
        if (ok && !m_shapes2.empty()) {
            const Shape &b = m_shapes2.at(o);
            ok = b.size() == a.size() && b[k] == 2;
            for (size_t i = 0; ok && i < a.size(); ++i)
                ok = i == k || a[i] == b[i];
        }
        if (!ok)
            return fail(n, "it moves or merges the batch axis, which CNTK keeps as a dynamic axis of its own");
    }
    return true;
}

bool Writer::readsItsBatch(const Node &n)
{
    static const std::set<std::string> movers{"Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "LSTM", "GRU", "RNN"};
    if (movers.count(n.opType) || unaryOps().count(n.opType))
        return true;
    for (const auto &i : n.inputs)
        if (!i.empty() && batchAxis(i) != 0)
            return fail(n, "its input \"" + i + "\" carries the batch on axis " + std::to_string(batchAxis(i))
                               + " (time-major, as a recurrent layer's [T, B, …]), where CNTK keeps the batch as a dynamic axis of its own "
                                 "(only Transpose, the reshapes, functions of one operand and the recurrent layers are written over such a value)");
    return true;
}

bool Writer::fold(const Node &n)
{
    if (isRandomOp(n.opType) || n.opType == "Identity" || isTrainingLoss(n.opType) || !hasKernel(n.opType))
        return false;
    const OpKernel &k = kernelFor(n.opType, DeviceType::Cpu, n);
    std::vector<Shape> shapes;
    std::vector<const Tensor *> values;
    bool all = true, batched = false;
    for (const auto &i : n.inputs) {
        if (i.empty()) {
            shapes.emplace_back();
            values.push_back(nullptr);
            continue;
        }
        if (const auto it = m_g.initializers.find(i); it != m_g.initializers.end() && it->second.dtype() == DType::Float32 && m_g.trainable.count(i))
            return false;
        batched = batched || m_batched.count(i);
        shapes.push_back(m_shapes.count(i) ? m_shapes.at(i) : Shape{});
        const Tensor *t = known(i);
        values.push_back(t);
        all = all && t;
    }
    std::vector<Tensor> out;
    // The shape of a batched value is a constant only where the model fixes the batch.
    if (!batched || m_shapes2.empty())
        if (auto v = k.valueFromShapes(n, shapes))
            out.push_back(std::move(*v));
    if (out.empty() && all)
        out = evaluateSmall(n, values, [&](const std::string &o) -> int64_t { return m_shapes.count(o) ? shapeNumel(m_shapes.at(o)) : 0; });
    return keepFolded(n, std::move(out), m_folded);
}

const Tensor *Writer::known(const std::string &v) const
{
    if (const auto it = m_folded.find(v); it != m_folded.end())
        return &it->second;
    if (const auto it = m_g.initializers.find(v); it != m_g.initializers.end())
        return &it->second;
    return nullptr;
}

std::optional<std::vector<int64_t>> Writer::constInts(const Node &n, size_t input, const char *attribute)
{
    if (input < n.inputs.size() && !n.inputs[input].empty()) {
        const Tensor *t = known(n.inputs[input]);
        return t ? asInts(*t) : std::nullopt;
    }
    if (attribute && n.hasAttribute(attribute))
        return n.attrInts(attribute, {});
    return std::vector<int64_t>{};
}

std::optional<float> Writer::constFloat(const std::string &v) const
{
    const Tensor *t = known(v);
    if (!t || t->numel() != 1)
        return std::nullopt;
    const auto f = asFloat32(*t);
    return f ? std::optional<float>(f->data()[0]) : std::nullopt;
}

std::string Writer::addInput(const std::string &name, const Shape &sampleShape)
{
    Dictionary v = variable("Input", name, 0);
    dict::put(v, "dynamic_axis", dict::vector({dict::axis(kDynamicAxis, "defaultBatchAxis", false)}));
    dict::put(v, "needs_gradient", dict::boolean(false));
    dict::put(v, "shape", dict::shape(dict::reversed(sampleShape)));
    return finishVariable(std::move(v));
}

std::string Writer::addVariable(const std::string &kind, const std::string &name, const Tensor &t, const std::vector<uint64_t> &cntkShape)
{
    Dictionary v = variable(kind, name, kind == "Parameter" ? 2 : 3);
    dict::put(v, "dynamic_axis", dict::vector({}));
    dict::put(v, "needs_gradient", dict::boolean(kind == "Parameter"));
    dict::put(v, "shape", dict::shape(cntkShape));
    dict::put(v, "value", dict::array(t, cntkShape));
    return finishVariable(std::move(v));
}

std::string Writer::scalarConstant(const std::string &name, float value)
{
    return addVariable("Constant", name, Tensor::full({}, value), {});
}

Dictionary Writer::variable(const std::string &kind, const std::string &name, uint64_t kindValue)
{
    Dictionary v = dict::make();
    m_uid = kind + std::to_string(m_counter++);
    dict::put(v, "version", dict::sizeT(1));
    dict::put(v, "type", dict::string("Variable"));
    dict::put(v, "uid", dict::string(m_uid));
    dict::put(v, "kind", dict::sizeT(kindValue));
    dict::put(v, "data_type", dict::sizeT(1)); // Float
    dict::put(v, "is_sparse", dict::boolean(false));
    if (!name.empty())
        dict::put(v, "name", dict::string(name));
    return v;
}

std::string Writer::finishVariable(Dictionary v)
{
    m_inputs.push_back(dict::dictionary(std::move(v)));
    return m_uid;
}

std::string Writer::addFunction(uint64_t op, const std::string &name, const std::vector<std::string> &inputs, Dictionary attributes)
{
    const std::string uid = primitiveOpName(op) + std::to_string(m_counter++);
    Dictionary f = dict::make();
    dict::put(f, "version", dict::sizeT(kPrimitiveFunctionVersion));
    dict::put(f, "type", dict::string("PrimitiveFunction"));
    dict::put(f, "uid", dict::string(uid));
    dict::put(f, "op", dict::sizeT(op));
    if (!name.empty())
        dict::put(f, "name", dict::string(name));
    std::vector<Value> in;
    for (const auto &i : inputs)
        in.push_back(dict::string(i));
    dict::put(f, "inputs", dict::vector(std::move(in)));
    dict::put(f, "attributes", dict::dictionary(std::move(attributes)));
    m_functions.push_back(dict::dictionary(std::move(f)));
    return uid + "_Output_0";
}

std::vector<uint64_t> Writer::pair(const std::vector<int64_t> &hw, std::optional<uint64_t> channels)
{
    std::vector<uint64_t> out{static_cast<uint64_t>(hw.at(1)), static_cast<uint64_t>(hw.at(0))};
    if (channels)
        out.push_back(*channels);
    return out;
}

std::string Writer::value(const std::string &v)
{
    if (const auto it = m_values.find(v); it != m_values.end())
        return it->second;
    if (const Tensor *t = known(v))
        if (const auto f = asFloat32(*t))
            return m_values[v] = addVariable("Constant", v, *f, dict::reversed(f->shape()));
    return "?";
}

std::vector<uint64_t> Writer::cntkShape(const std::string &v) const
{
    Shape s = shape(v);
    if (batched(v))
        s.erase(s.begin() + batchAxis(v));
    return dict::reversed(s);
}

int64_t Writer::batchAxis(const std::string &v) const
{
    const auto it = m_batchAxis.find(v);
    return it == m_batchAxis.end() ? 0 : it->second;
}

void Writer::setBatchAxis(const std::string &v, int64_t axis)
{
    if (axis == 0)
        m_batchAxis.erase(v);
    else
        m_batchAxis[v] = axis;
}

std::optional<int64_t> Writer::cntkAxis(const std::string &v, int64_t a) const
{
    const auto rank = static_cast<int64_t>(shape(v).size());
    if (a < 0)
        a += rank;
    const int64_t b = batchAxis(v);
    if (a < 0 || a >= rank || (batched(v) && a == b))
        return std::nullopt;
    return sampleRank(v) - 1 - (a - (batched(v) && a > b ? 1 : 0));
}

std::optional<std::string> Writer::elementwise(const Node &n, const std::string &v, const std::string &out)
{
    const Shape &s = shape(v), &o = shape(out);
    if (batched(v)) {
        if (s.size() != o.size()) {
            fail(n, "it broadcasts a batched value of lower rank against the batch axis, which CNTK does not");
            return std::nullopt;
        }
        return value(v);
    }
    if (!batched(out) || s.size() < o.size())
        return value(v);
    const size_t extra = s.size() - (o.size() - 1);
    for (size_t k = 0; k < extra; ++k)
        if (s[k] != 1) {
            fail(n, "a constant operand varies along the batch axis, which CNTK broadcasts over");
            return std::nullopt;
        }
    Dictionary a = dict::make();
    dict::put(a, "newShape", dict::shape(dict::reversed(Shape(s.begin() + static_cast<std::ptrdiff_t>(extra), s.end()))));
    return addFunction(Reshape, n.name + "." + std::to_string(m_counter) + ".rank", {value(v)}, std::move(a));
}

bool Writer::alias(const Node &n, const std::string &from)
{
    m_values[n.outputs[0]] = value(from);
    setBatchAxis(n.outputs[0], batchAxis(from));
    return true;
}

DType Writer::typeOf(const std::string &v)
{
    if (const Tensor *t = known(v))
        return t->dtype();
    for (const auto &n : m_g.nodes)
        for (size_t k = 0; k < n.outputs.size(); ++k)
            if (n.outputs[k] == v) {
                std::vector<DType> in;
                for (const auto &i : n.inputs)
                    in.push_back(i.empty() ? DType::Float32 : typeOf(i));
                try {
                    const auto out = kernelFor(n.opType, DeviceType::Cpu, n).outputTypes(n, in);
                    return k < out.size() ? out[k] : DType::Float32;
                } catch (const Error &) {
                    return DType::Float32;
                }
            }
    return DType::Float32;
}

std::string Writer::source(const std::string &v) const
{
    std::string name = v;
    for (int hops = 0; hops < 64 && !m_g.initializers.count(name); ++hops) {
        const auto n = std::find_if(m_g.nodes.begin(), m_g.nodes.end(), [&](const Node &x) { return !x.outputs.empty() && x.outputs[0] == name; });
        if (n == m_g.nodes.end() || n->opType != "Identity")
            break;
        name = n->inputs.at(0);
    }
    return name;
}

const Tensor *Writer::initializer(const std::string &v) const
{
    const auto it = m_g.initializers.find(source(v));
    return it != m_g.initializers.end() && it->second.dtype() == DType::Float32 ? &it->second : nullptr;
}

void Writer::rebindAsParameter(const std::string &name, const std::vector<uint64_t> &cntkShape)
{
    const std::string &uid = m_values.at(name);
    for (auto &v : m_inputs) {
        auto *d = v.mutable_dictionary_value();
        const Value *u = dict::find(*d, "uid");
        if (u && u->string_value() == uid) {
            dict::put(*d, "shape", dict::shape(cntkShape));
            auto *shape = (*d->mutable_data())["value"].mutable_nd_array_view_value()->mutable_shape();
            shape->clear_shape_dim();
            for (uint64_t x : cntkShape)
                shape->add_shape_dim(x);
        }
    }
}

bool Writer::addNode(const Node &n)
{
    if (const auto written = mapElementwise(n))
        return *written;
    if (const auto written = mapLayer(n))
        return *written;
    if (const auto written = mapShapeOp(n))
        return *written;
    if (n.opType == "LSTM" || n.opType == "GRU" || n.opType == "RNN")
        return rnn(n);
    return fail(n, refusal(n.opType));
}

} // namespace netwright::cntk::v2

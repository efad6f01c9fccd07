// SPDX-License-Identifier: Apache-2.0
// The AIR writer: the ModelDef and its graph, GE ops with their descriptors, Const ops, the
// building blocks the mappings compose, and the per-node dispatch.
#include "formats/air/air_writer.h"

#include "core/error.h"
#include "formats/air/air_reader.h"
#include "formats/format_util.h"
#include "ops/op.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace netwright::air::exporter {

using ge::proto::AttrDef;

void fillDesc(ge::proto::TensorDescriptor &d, DType dtype, const Shape &shape)
{
    d.set_dtype(static_cast<ge::proto::DataType>(protoTypeOf(dtype)));
    auto *s = d.mutable_shape();
    for (int64_t x : shape)
        s->add_dim(x);
    d.set_layout(shape.size() == 4 ? "NCHW" : "ND");
}

Tensor int64s(const std::vector<int64_t> &v)
{
    return Tensor::fromInt64({static_cast<int64_t>(v.size())}, v);
}

Writer::Writer(const InferenceGraph &ig) : OpTableWriter(ig)
{
    m_graph = m_model.add_graph();
    m_graph->set_name(m_g.name.empty() ? "graph" : m_g.name);
    // What ge::Model::Init records (air.md section 3.1).
    auto &attrs = *m_model.mutable_attr();
    for (const char *k : {"event_num", "label_num", "memory_size", "p2p_memory_size", "stream_num", "weight_size"})
        attrs[k].set_i(0);
    attrs["target_type"].set_s("MINI");
}

std::string Writer::run()
{
    auto &data = op("Data", m_ig.input.name);
    data.mutable_attr()->operator[]("index").set_i(0);
    fillDesc(*data.add_input_desc(), m_ig.input.dtype, m_ig.input.shape);
    fillDesc(*data.add_output_desc(), m_ig.input.dtype, m_ig.input.shape);
    m_ports[m_ig.input.name] = {m_ig.input.name + ":0", m_ig.input.shape, m_ig.input.dtype};
    m_types[m_ig.input.name] = m_ig.input.dtype;
    m_graph->add_input(m_ig.input.name + ":0");
    for (const Node *n : m_ig.nodes)
        for (const auto &i : n->inputs)
            if (!i.empty())
                m_used.insert(m_ig.source(i));
    for (const auto &o : m_ig.outputs)
        m_used.insert(o.name);
    for (const Node *n : m_ig.nodes) {
        inferTypes(*n);
        if (fold(*n))
            continue;
        emit(*n);
        for (const auto &o : n->outputs)
            if (!o.empty() && !m_ports.count(o))
                m_ports[o] = {"?", {}, DType::Float32}; // not mapped: listed in m_problems
    }
    m_problems.raise(m_g, "AIR");
    for (const auto &out : m_ig.outputs)
        m_graph->add_output(port(out.name).ref);
    std::string bytes;
    {
        google::protobuf::io::StringOutputStream raw(&bytes);
        google::protobuf::io::CodedOutputStream coded(&raw);
        coded.SetSerializationDeterministic(true); // map entries sorted by key
        m_model.SerializeToCodedStream(&coded);
    }
    return bytes;
}

// ---- ops ------------------------------------------------------------------------------------

ge::proto::OpDef &Writer::op(const std::string &type, const std::string &name)
{
    std::string unique = name;
    for (int k = 1; !m_opNames.insert(unique).second; ++k)
        unique = name + "_" + std::to_string(k);
    auto *o = m_graph->add_op();
    o->set_name(unique);
    o->set_type(type);
    o->set_id(m_nextId++);
    return *o;
}

Writer::Port Writer::port(const std::string &engineName)
{
    const std::string &name = m_ig.source(engineName);
    if (const auto it = m_ports.find(name); it != m_ports.end())
        return it->second;
    if (const auto it = m_folded.find(name); it != m_folded.end())
        return constant(name, it->second);
    const auto w = m_g.initializers.find(name);
    check(w != m_g.initializers.end(), "AIR export: value \"" + name + "\" has no producer.");
    return constant(name, w->second);
}

Writer::Port Writer::constant(const std::string &name, const Tensor &t)
{
    auto &c = op("Const", name + "_const");
    auto *def = (*c.mutable_attr())["value"].mutable_t();
    fillDesc(*def->mutable_desc(), t.dtype(), t.shape());
    def->set_data(static_cast<const char *>(t.raw()), t.byteSize()); // little-endian, C order
    fillDesc(*c.add_output_desc(), t.dtype(), t.shape());
    return m_ports[name] = {c.name() + ":0", t.shape(), t.dtype()};
}

ge::proto::OpDef &Writer::compute(const std::string &type, const std::string &name, const std::vector<Port> &inputs,
                                  const std::vector<Shape> &outputs, const std::vector<DType> &types)
{
    auto &o = op(type, name);
    for (const auto &in : inputs) {
        o.add_input(in.ref);
        fillDesc(*o.add_input_desc(), in.dtype, in.shape);
    }
    for (size_t i = 0; i < outputs.size(); ++i)
        fillDesc(*o.add_output_desc(), i < types.size() ? types[i] : types.empty() ? DType::Float32 : types.back(), outputs[i]);
    return o;
}

void Writer::ints(ge::proto::OpDef &o, const std::string &k, const std::vector<int64_t> &v)
{
    auto *l = (*o.mutable_attr())[k].mutable_list();
    for (int64_t x : v)
        l->add_i(x);
    l->set_val_type(AttrDef::ListValue::VT_LIST_INT);
}

void Writer::setOutput(const Site &site, const ge::proto::OpDef *result, const Port &alias)
{
    m_ports[site.out] = result ? Port{result->name() + ":0", site.y, site.yt} : Port{alias.ref, site.y, site.yt};
}

void Writer::emit(const Node &n)
{
    const std::string &op = n.opType;
    const std::string &out = n.outputs.at(0);
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    for (size_t i = 0; i < n.inputs.size(); ++i)
        if (has(i) && m_ports.count(m_ig.source(n.inputs[i])) && m_ports.at(m_ig.source(n.inputs[i])).ref == "?")
            return; // an input already refused: that node is named
    if (op == "LSTM" || op == "GRU" || op == "RNN")
        return rnn(n); // its Y may be unnamed
    const Shape &y = shapeOf(out);
    const DType yt = typeOf(out);
    const size_t rank = has(0) ? shapeOf(n.inputs[0]).size() : 0;

    const Site site{out, y, yt, rank};
    if (mapElementwise(n, site) || mapLayer(n, site) || mapShapeOp(n, site))
        return;
    if (op == "Resize" || op == "Upsample") {
        return void(fail(n, "GE's resize operators are not exported (their coordinate rules were not matched to ONNX's)"));
    } else if (op == "Shape" || op == "Size" || op == "ConstantOfShape" || op == "Range" || op == "Constant") {
        return void(fail(n, "its value is computed from the free batch dimension; export with --static-batch"));
    } else {
        return void(fail(n, "no AIR equivalent"));
    }
}

} // namespace netwright::air::exporter

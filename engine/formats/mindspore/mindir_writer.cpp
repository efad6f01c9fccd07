// SPDX-License-Identifier: Apache-2.0
// The MindIR writer: the model and graph protos, values (parameters, constants, folded values),
// primitives and CNodes, the building blocks the mappings compose, and the per-node dispatch.
#include "formats/mindspore/mindir_writer.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "ops/op.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>

namespace netwright::mindspore::mindir {

Writer::Writer(const InferenceGraph &ig, const MindirExportOptions &options) : OpTableWriter(ig)
{
    m_graphName = (m_g.name.empty() ? std::string("Net") : m_g.name) + "_construct_1";
    m_model.set_ir_version("0.1.1");
    m_model.set_producer_name("MindSpore");
    m_model.set_model_version(options.modelVersion);
    m_external = options.externalData.get();
    if (m_external)
        m_external->reset();
    m_model.set_little_endian(true);
    m_model.set_mind_ir_version(1);
    for (const auto &[k, v] : options.userInfo)
        (*m_model.mutable_user_info())[k] = v;
    m_graph = m_model.mutable_graph();
    m_graph->set_name(m_graphName);
    m_graph->set_bprop_hash("");
    m_graph->set_bprop_filepath("");
}

std::string Writer::run()
{
    const std::string in = prefixed(m_ig.input.name);
    m_names[m_ig.input.name] = in;
    m_types[m_ig.input.name] = m_ig.input.dtype;
    auto *vi = m_graph->add_input();
    vi->set_name(in);
    auto *t = vi->add_tensor();
    for (int64_t d : m_ig.input.shape)
        t->add_dims(d);
    t->set_data_type(onnxElementNumber(m_ig.input.dtype));
    for (const Node *n : m_ig.nodes)
        for (const auto &i : n->inputs)
            if (!i.empty())
                m_used.insert(m_ig.source(i));
    for (const auto &o : m_ig.outputs)
        m_used.insert(o.name);
    for (const Node *n : m_ig.nodes) {
        inferTypes(*n);
        if (symbolic(*n) || fold(*n))
            continue;
        emit(*n);
        for (const auto &o : n->outputs)
            if (!o.empty() && !m_names.count(o))
                m_names[o] = "?"; // not mapped: listed in the problems
    }
    for (const auto &out : m_ig.outputs)
        if (const std::string &o = m_ig.source(out.name); m_partial.count(o) || m_filled.count(o))
            refuseDynamic(out.name, o, "the output \"" + out.name + "\"");
    throwGrouped();
    for (const auto &out : m_ig.outputs) {
        auto *o = m_graph->add_output();
        o->set_name(value(out.name));
        auto *ot = o->add_tensor();
        for (int64_t d : out.shape)
            ot->add_dims(d);
        ot->set_data_type(onnxElementNumber(out.dtype));
    }
    std::string bytes;
    {
        google::protobuf::io::StringOutputStream raw(&bytes);
        google::protobuf::io::CodedOutputStream coded(&raw);
        coded.SetSerializationDeterministic(true);
        m_model.SerializeToCodedStream(&coded);
    }
    return bytes;
}

std::string Writer::value(const std::string &engineName)
{
    const std::string &name = m_ig.source(engineName);
    if (const auto it = m_names.find(name); it != m_names.end())
        return it->second;
    if (const auto it = m_folded.find(name); it != m_folded.end())
        return m_names[name] = constantTensor(it->second);
    if (const auto it = m_g.initializers.find(name); it != m_g.initializers.end()) {
        const Tensor &w = it->second;
        auto *p = m_graph->add_parameter();
        for (int64_t d : w.shape())
            p->add_dims(d);
        p->set_data_type(onnxElementNumber(w.dtype()));
        p->set_name(prefixed(name));
        if (ExternalDataPlan *plan = m_external) { // the split layout (models over 1 GiB)
            auto *e = p->mutable_external_data();
            e->set_location(plan->location);
            e->set_offset(static_cast<int64_t>(plan->add(w)));
            e->set_length(static_cast<int64_t>(w.byteSize()));
        } else {
            p->set_raw_data(static_cast<const char *>(w.raw()), w.byteSize()); // little-endian, C order
        }
        p->set_ref_key(name);
        p->set_compression_type(::mind_ir::TensorProto::NO_COMPRESSION);
        return m_names[name] = prefixed(name);
    }
    throw Error("MindIR export: value \"" + name + "\" has no producer."); // validate() rules this out
}

Prim &Writer::primitive(const std::string &opType, const std::vector<std::string> &inputNames)
{
    auto *p = m_model.add_primitives();
    p->set_name(opType + ":" + std::to_string(++m_id));
    p->set_op_type(opType);
    namesAttr(*p, "input_names", inputNames);
    namesAttr(*p, "output_names", {"output"});
    return *p;
}

std::string Writer::cnode(const Prim &prim, const std::vector<std::string> &inputs, const std::vector<Shape> &outputShapes,
                  const std::vector<DType> &types)
{
    auto *n = m_graph->add_node();
    for (const auto &i : inputs)
        n->add_input(i);
    const std::string name = prefixed(m_debug + ":" + std::to_string(++m_id));
    n->add_output(name);
    n->set_name(name);
    n->set_op_type("REF::" + prim.name());
    A *shape = n->add_attribute();
    shape->set_name("shape");
    auto type = [&](size_t i) { return i < types.size() ? types[i] : types.empty() ? DType::Float32 : types.back(); };
    if (outputShapes.size() == 1) {
        fillShape(*shape, outputShapes[0], type(0));
    } else {
        shape->set_type(A::TUPLE);
        for (size_t i = 0; i < outputShapes.size(); ++i)
            fillShape(*shape->add_values(), outputShapes[i], type(i));
    }
    n->set_domain("Default/" + m_scope + "/" + prim.op_type() + "-op" + std::to_string(m_opIndex++));
    return name;
}

template<typename Fill>
std::string Writer::constant(Fill set)
{
    auto *n = m_graph->add_node();
    const std::string name = prefixed("[ValueNode]" + std::to_string(++m_id));
    n->add_output(name);
    n->set_name(name);
    n->set_op_type("Constant");
    A *a = n->add_attribute();
    a->set_name("value");
    set(*a);
    return name;
}

std::string Writer::constantTuple(const std::vector<int64_t> &values)
{
    return constant([&](A &a) { fillIntTuple(a, values); });
}

std::string Writer::constantInt(int64_t v)
{
    return constant([&](A &a) {
        a.set_type(A::INT64);
        a.set_i(v);
    });
}

std::string Writer::constantTensor(const Tensor &t)
{
    return constant([&](A &a) {
        a.set_type(A::TENSORS);
        auto *x = a.add_tensors();
        for (int64_t d : t.shape())
            x->add_dims(d);
        x->set_data_type(onnxElementNumber(t.dtype()));
        x->set_name("value0");
        x->set_raw_data(static_cast<const char *>(t.raw()), t.byteSize());
    });
}

std::string Writer::call(const std::string &op, const std::vector<std::string> &names, const std::vector<std::string> &inputs,
                 const Shape &shape, DType type)
{
    return cnode(primitive(op, names), inputs, {shape}, {type});
}

std::string Writer::binary(const std::string &op, const std::string &x, const std::string &y, const Shape &s)
{
    return call(op, {"x", "y"}, {x, y}, s);
}

std::string Writer::dense(const std::string &x, const std::string &w, const std::string &bias, const Shape &s)
{
    auto &mm = primitive("MatMul", {"x1", "x2"});
    boolAttr(mm, "transpose_a", false);
    boolAttr(mm, "transpose_b", true);
    boolAttr(mm, "transpose_x1", false);
    boolAttr(mm, "transpose_x2", true);
    std::string r = cnode(mm, {x, w}, {s});
    if (!bias.empty())
        r = biasAdd(r, bias, s);
    return r;
}

std::string Writer::biasAdd(const std::string &x, const std::string &b, const Shape &s)
{
    auto &ba = primitive("BiasAdd", {"x", "b"});
    stringAttr(ba, "format", "NCHW");
    stringAttr(ba, "data_format", "NCHW");
    return cnode(ba, {x, b}, {s});
}

std::string Writer::stridedSlice(const std::string &x, std::vector<int64_t> begin, std::vector<int64_t> end, std::vector<int64_t> strides,
                         int64_t beginMask, int64_t endMask, const Shape &s, DType type)
{
    auto &p = primitive("StridedSlice", {"x", "begin", "end", "strides"});
    intAttr(p, "begin_mask", beginMask);
    intAttr(p, "end_mask", endMask);
    intAttr(p, "ellipsis_mask", 0);
    intAttr(p, "new_axis_mask", 0);
    intAttr(p, "shrink_axis_mask", 0);
    return cnode(p, {x, constantTuple(begin), constantTuple(end), constantTuple(strides)}, {s}, {type});
}

std::string Writer::gather(const std::string &x, const std::string &indices, int64_t axis, const Shape &s, DType type)
{
    auto &p = primitive("Gather", {"input_params", "input_indices", "axis"});
    intAttr(p, "batch_dims", 0);
    return cnode(p, {x, indices, constantInt(axis)}, {s}, {type});
}

std::string Writer::expandDims(const std::string &x, int64_t axis, const Shape &s, DType type)
{
    return cnode(primitive("ExpandDims", {"x", "axis"}), {x, constantInt(axis)}, {s}, {type});
}

std::string Writer::concat(const std::vector<std::string> &parts, const std::vector<Shape> &shapes, int64_t axis, const Shape &s,
                   DType type)
{
    const std::string tuple = cnode(primitive("MakeTuple", {}), parts, shapes, {type});
    auto &cat = primitive("Concat", {"x"});
    intAttr(cat, "axis", axis);
    return cnode(cat, {tuple}, {s}, {type});
}

std::string Writer::reshape(const std::string &x, const std::vector<int64_t> &shape, const Shape &s, DType type)
{
    return cnode(primitive("Reshape", {"tensor", "shape"}), {x, constantTuple(shape)}, {s}, {type});
}

std::string Writer::reduce(const std::string &op, const std::string &x, const std::vector<int64_t> &axes, bool keep, const Shape &s,
                   DType type)
{
    auto &p = primitive(op, {"input_x", "axis"});
    boolAttr(p, "keep_dims", keep);
    return cnode(p, {x, constantTuple(axes)}, {s}, {type});
}

void Writer::emit(const Node &n)
{
    m_scope = n.name + "-" + n.opType;
    m_debug = n.name;
    if (n.opType == "LSTM" || n.opType == "GRU" || n.opType == "RNN")
        return rnn(n); // Y may be omitted
    const std::string &out = n.outputs.at(0);
    const Shape &y = shapeOf(out);
    const DType yt = typeOf(out);
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    const std::string &op = n.opType;
    for (size_t i = 0; i < n.inputs.size(); ++i)
        if (has(i) && m_names.count(m_ig.source(n.inputs[i])) && m_names.at(m_ig.source(n.inputs[i])) == "?")
            return; // an input already refused: that node is named
    const size_t rank = has(0) ? shapeOf(n.inputs[0]).size() : 0;

    const Site site{out, y, yt, rank};
    std::string result;
    if (mapElementwise(n, site, result) || mapLayer(n, site, result) || mapShapeOp(n, site, result)) {
        if (!result.empty()) // empty: refused, or the outputs already named
            m_names[out] = result;
        return;
    }
    if (op == "Cast" || op == "CastLike") {
        return refuse(n, "MindSpore's Cast takes its target type as a type object, which this writer does not encode");
    } else if (op == "ArgMax" || op == "ArgMin") {
        return refuse(n, "MindSpore's Argmax/Argmin return int32 indices (ONNX: int64) and have no select_last_index");
    } else if (op == "Shape" || op == "Size" || op == "ConstantOfShape" || op == "Range") {
        return refuse(n, "its operands are computed from the free batch dimension; export with --static-batch");
    } else {
        return refuse(n, "no MindIR equivalent");
    }
}

} // namespace netwright::mindspore::mindir

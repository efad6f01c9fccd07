// SPDX-License-Identifier: Apache-2.0
// The ONNX export driver: the inference graph's nodes through the writer, then the model's inputs,
// outputs and initializers, serialized deterministically.
#include "formats/onnx/onnx_export.h"

#include "core/error.h"
#include "formats/onnx/onnx_export_writer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <functional>

namespace netwright::onnx_format {

namespace exporter {

std::string Writer::run()
{
    check(V >= 11 && V <= 17, "ONNX export writes opsets 11–17, not " + std::to_string(V) + ".");
    // The inference graph: no loss, and no input only a loss reads.
    std::set<std::string> dropped{"labels"}, lossReads;
    std::vector<const Node *> nodes;
    for (const auto &n : m_model.nodes) {
        if (isTrainingLoss(n.opType)) {
            dropped.insert(n.outputs.begin(), n.outputs.end());
            lossReads.insert(n.inputs.begin(), n.inputs.end());
            continue;
        }
        nodes.push_back(&n);
        m_read.insert(n.inputs.begin(), n.inputs.end());
    }
    for (const auto &out : m_model.outputs)
        m_read.insert(out.name);
    std::vector<ValueInfo> inputs;
    for (const auto &in : m_model.inputs)
        if (!dropped.count(in.name) && !m_model.initializers.count(in.name) && (m_read.count(in.name) || !lossReads.count(in.name)))
            inputs.push_back(in);
    // A graph of constants alone (no data input) is a valid ONNX model too.

    // Every value name the model and its subgraphs use, so that the values a rewrite adds are new
    // (ONNX wants a name defined once across a graph and its subgraphs); what subgraphs read.
    std::function<void(const Graph &, bool)> names = [&](const Graph &g, bool sub) {
        for (const auto &in : g.inputs)
            m_names.insert(in.name);
        for (const auto &out : g.outputs) {
            m_names.insert(out.name);
            if (sub)
                m_read.insert(out.name);
        }
        for (const auto &[k, v] : g.initializers)
            m_names.insert(k);
        for (const auto &n : g.nodes) {
            m_names.insert(n.inputs.begin(), n.inputs.end());
            m_names.insert(n.outputs.begin(), n.outputs.end());
            if (sub)
                m_read.insert(n.inputs.begin(), n.inputs.end());
            for (const auto &[k, v] : n.attributes)
                if (const auto *body = std::get_if<std::shared_ptr<Graph>>(&v); body && *body)
                    names(**body, true);
        }
    };
    names(m_model, false);

    // Shapes, types and constants at two settings of the free dimensions (batch 1 and 2, or the
    // batch the input fixes): what differs follows them.
    std::vector<int64_t> batches;
    for (const auto &in : inputs)
        batches.push_back(exportBatch(in, m_options.dynamicBatch));
    auto settingOf = [&](int64_t free) {
        std::map<std::string, ValueInfo> s;
        for (size_t i = 0; i < inputs.size(); ++i) {
            ValueInfo v = inputs[i];
            for (size_t d = 0; d < v.shape.size(); ++d)
                if (d == 0)
                    v.shape[d] = batches[i] > 0 ? batches[i] : free;
                else if (v.shape[d] < 0)
                    v.shape[d] = free;
            s[v.name] = v;
        }
        return s;
    };
    try {
        m_top.a = seedAnalysis(m_model.initializers, settingOf(1));
        analyse(*m_top.a, nodes);
        m_top.a2 = seedAnalysis(m_model.initializers, settingOf(2));
        analyse(*m_top.a2, nodes);
    } catch (const Error &e) {
        m_top.a.reset();
        m_top.a2.reset();
        m_analysisError = e.what();
    }

    onnx::ModelProto m;
    if (m_options.externalData) // a plan filled anew by each run
        m_options.externalData->reset();
    m.set_ir_version(irVersionFor(V));
    m.set_producer_name("Netwright");
    m.set_producer_version(m_options.producerVersion);
    auto *opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(V);
    for (const auto &[k, v] : m_options.metadata) {
        auto *p = m.add_metadata_props();
        p->set_key(k);
        p->set_value(v);
    }
    m_top.graph = &m_model;
    m_top.proto = m.mutable_graph();
    onnx::GraphProto *const g = m_top.proto;
    g->set_name(m_model.name);

    for (const Node *n : nodes)
        write(*n);
    m_problems.raise(m_model, "ONNX opset " + std::to_string(V));

    const bool anyFreeBatch = std::find(batches.begin(), batches.end(), -1) != batches.end();
    auto typeProto = [&](onnx::ValueInfoProto &v, const std::string &name, DType dtype, const std::optional<Shape> &shape,
                         const std::function<void(onnx::TensorShapeProto_Dimension &, size_t, int64_t)> &dim) {
        v.set_name(name);
        auto *t = v.mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnxType(dtype));
        if (!shape)
            return;
        auto *s = t->mutable_shape();
        for (size_t i = 0; i < shape->size(); ++i)
            dim(*s->add_dim(), i, (*shape)[i]);
    };
    for (size_t i = 0; i < inputs.size(); ++i)
        typeProto(*g->add_input(), inputs[i].name, inputs[i].dtype, inputs[i].shape,
                  [&](onnx::TensorShapeProto_Dimension &d, size_t k, int64_t v) {
                      if (k == 0 && batches[i] < 0)
                          d.set_dim_param("batch");
                      else if (k == 0)
                          d.set_dim_value(batches[i]);
                      else if (v < 0)
                          d.set_dim_param(inputs[i].name + "_dim" + std::to_string(k));
                      else
                          d.set_dim_value(v);
                  });
    for (const auto &out : m_model.outputs) {
        if (dropped.count(out.name))
            continue;
        // The shape as analysed, else as the model declares it (-1: unknown); the declared type.
        std::optional<Shape> shape = out.shape;
        if (m_top.a && m_top.a->shapes.count(out.name))
            shape = m_top.a->shapes.at(out.name);
        const DType dtype = out.dtype;
        typeProto(*g->add_output(), out.name, dtype, shape, [&](onnx::TensorShapeProto_Dimension &d, size_t k, int64_t v) {
            const auto fixed = staticDim(out.name, static_cast<int>(k));
            if (fixed)
                d.set_dim_value(*fixed);
            else if (k == 0 && anyFreeBatch)
                d.set_dim_param("batch");
            else if (v >= 0 && !(m_top.a && m_top.a->shapes.count(out.name)))
                d.set_dim_value(v);
        });
    }
    for (const auto &[name, t] : m_model.initializers)
        if (m_top.usedInitializers.count(name))
            fillInitializer(*g->add_initializer(), name, t, m_options.externalData.get());
    for (const auto &[name, t] : m_top.newInitializers)
        fillInitializer(*g->add_initializer(), name, t, m_options.externalData.get());

    std::string bytes;
    {
        google::protobuf::io::StringOutputStream raw(&bytes);
        google::protobuf::io::CodedOutputStream coded(&raw);
        coded.SetSerializationDeterministic(true);
        m.SerializeToCodedStream(&coded);
    }
    return bytes;
}

} // namespace exporter

std::vector<std::string> exportableOps()
{
    std::vector<std::string> out;
    for (const auto &[op, v] : exporter::onnxOps())
        if (!isTrainingLoss(op))
            out.push_back(op);
    return out;
}

int64_t firstExportOpset(const std::string &opType)
{
    const auto it = exporter::onnxOps().find(opType);
    return it == exporter::onnxOps().end() ? 0 : it->second;
}

std::string exportOnnx(const Graph &model, const OnnxExportOptions &options)
{
    return exporter::Writer(model, options).run();
}

} // namespace netwright::onnx_format

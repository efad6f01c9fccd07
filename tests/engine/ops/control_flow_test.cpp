// SPDX-License-Identifier: Apache-2.0
// Control flow (If, Loop, Scan) through the ONNX importer and the Executor: models are built as
// ONNX protobufs here, so the importer's subgraph import and outer-scope capture are tested with
// the kernels. Values against formulas; the Loop limit and an unknown outer name are refused
// with messages naming the node, and so is an export.
#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "formats/onnx/onnx_export.h"
#include "formats/onnx/onnx_import.h"
#include "support/error_of.h"

#include <onnx/onnx_pb.h>

#include <QTest>

#include <cstdlib>

using namespace netwright;
using netwright::testing::errorOf;

namespace {

using Names = std::vector<std::string>;

onnx::NodeProto *addNode(onnx::GraphProto &g, const std::string &op, const Names &in, const Names &out, const std::string &name = {})
{
    auto *n = g.add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + out.at(0) : name);
    for (const auto &i : in)
        n->add_input(i);
    for (const auto &o : out)
        n->add_output(o);
    return n;
}

void setType(onnx::ValueInfoProto *v, const std::string &name, int elemType, const std::vector<int64_t> &dims)
{
    v->set_name(name);
    auto *t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elemType);
    auto *s = t->mutable_shape();
    for (int64_t d : dims)
        s->add_dim()->set_dim_value(d);
}

void input(onnx::GraphProto &g, const std::string &name, int elemType, const std::vector<int64_t> &dims)
{
    setType(g.add_input(), name, elemType, dims);
}

void output(onnx::GraphProto &g, const std::string &name, int elemType, const std::vector<int64_t> &dims)
{
    setType(g.add_output(), name, elemType, dims);
}

void floats(onnx::TensorProto *t, const std::string &name, const std::vector<int64_t> &dims, const std::vector<float> &values)
{
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
        t->add_dims(d);
    for (float v : values)
        t->add_float_data(v);
}

void int64s(onnx::TensorProto *t, const std::string &name, const std::vector<int64_t> &dims, const std::vector<int64_t> &values)
{
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims)
        t->add_dims(d);
    for (int64_t v : values)
        t->add_int64_data(v);
}

// A Constant node in g holding an int64 scalar.
void constantInt(onnx::GraphProto &g, const std::string &name, int64_t value)
{
    auto *n = addNode(g, "Constant", {}, {name});
    auto *a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    int64s(a->mutable_t(), name, {}, {value});
}

void graphAttribute(onnx::NodeProto *n, const std::string &key, const onnx::GraphProto &g)
{
    auto *a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = g;
}

void intAttribute(onnx::NodeProto *n, const std::string &key, int64_t v)
{
    auto *a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
}

void intsAttribute(onnx::NodeProto *n, const std::string &key, const std::vector<int64_t> &v)
{
    auto *a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
        a->add_ints(x);
}

std::string model(const onnx::GraphProto &g, int64_t opset = 13)
{
    onnx::ModelProto m;
    m.set_ir_version(7);
    auto *o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    *m.mutable_graph() = g;
    return m.SerializeAsString();
}

Tensor boolScalar(bool v)
{
    Tensor t(Shape{}, DType::Bool);
    t.dataAs<uint8_t>()[0] = v ? 1 : 0;
    return t;
}

std::vector<float> valuesOf(const Tensor &t)
{
    return std::vector<float>(t.data(), t.data() + t.numel());
}

// then: x + y; else: y − x·k (k the branch's own initializer) — x, y from the outer graph.
onnx::GraphProto ifModel()
{
    onnx::GraphProto g;
    g.set_name("if_capture");
    input(g, "cond", onnx::TensorProto::BOOL, {});
    input(g, "x", onnx::TensorProto::FLOAT, {3});
    floats(g.add_initializer(), "y", {3}, {10, 20, 30});
    output(g, "res", onnx::TensorProto::FLOAT, {3});
    onnx::GraphProto thenG, elseG;
    thenG.set_name("then");
    addNode(thenG, "Add", {"x", "y"}, {"then_out"});
    output(thenG, "then_out", onnx::TensorProto::FLOAT, {3});
    elseG.set_name("else");
    floats(elseG.add_initializer(), "k", {1}, {2});
    addNode(elseG, "Mul", {"x", "k"}, {"xk"});
    addNode(elseG, "Sub", {"y", "xk"}, {"else_out"});
    output(elseG, "else_out", onnx::TensorProto::FLOAT, {3});
    auto *n = addNode(g, "If", {"cond"}, {"res"}, "choose");
    graphAttribute(n, "then_branch", thenG);
    graphAttribute(n, "else_branch", elseG);
    return g;
}

// Loop: M trips at most, stops once i ≥ 3; carried a += x (outer), b += i; scan output a.
onnx::GraphProto loopModel(bool bounded)
{
    onnx::GraphProto g;
    g.set_name("loop");
    input(g, "M", onnx::TensorProto::INT64, {});
    input(g, "a0", onnx::TensorProto::FLOAT, {2});
    floats(g.add_initializer(), "x", {2}, {1, -2});
    int64s(g.add_initializer(), "b0", {}, {100});
    output(g, "a", onnx::TensorProto::FLOAT, {2});
    output(g, "b", onnx::TensorProto::INT64, {});
    output(g, "scan", onnx::TensorProto::FLOAT, {-1, 2});
    onnx::GraphProto body;
    body.set_name("body");
    input(body, "i", onnx::TensorProto::INT64, {});
    input(body, "cond_in", onnx::TensorProto::BOOL, {});
    input(body, "a_in", onnx::TensorProto::FLOAT, {2});
    input(body, "b_in", onnx::TensorProto::INT64, {});
    if (bounded) {
        constantInt(body, "three", 3);
        addNode(body, "Less", {"i", "three"}, {"cond_out"});
    } else {
        addNode(body, "Identity", {"cond_in"}, {"cond_out"});
    }
    addNode(body, "Add", {"a_in", "x"}, {"a_out"});
    addNode(body, "Add", {"b_in", "i"}, {"b_out"});
    addNode(body, "Identity", {"a_out"}, {"scan_out"});
    output(body, "cond_out", onnx::TensorProto::BOOL, {});
    output(body, "a_out", onnx::TensorProto::FLOAT, {2});
    output(body, "b_out", onnx::TensorProto::INT64, {});
    output(body, "scan_out", onnx::TensorProto::FLOAT, {2});
    auto *n = addNode(g, "Loop", {bounded ? "M" : "", "", "a0", "b0"}, {"a", "b", "scan"}, "repeat");
    graphAttribute(n, "body", body);
    return g;
}

// Scan-9 over axis 1 of x [2, L] in reverse: the running sum of the columns, last column first.
onnx::GraphProto scanModel()
{
    onnx::GraphProto g;
    g.set_name("scan");
    input(g, "init", onnx::TensorProto::FLOAT, {2});
    input(g, "x", onnx::TensorProto::FLOAT, {2, 4});
    output(g, "sum", onnx::TensorProto::FLOAT, {2});
    output(g, "partial", onnx::TensorProto::FLOAT, {4, 2});
    onnx::GraphProto body;
    body.set_name("body");
    input(body, "sum_in", onnx::TensorProto::FLOAT, {2});
    input(body, "next", onnx::TensorProto::FLOAT, {2});
    addNode(body, "Add", {"sum_in", "next"}, {"sum_out"});
    addNode(body, "Identity", {"sum_out"}, {"scan_out"});
    output(body, "sum_out", onnx::TensorProto::FLOAT, {2});
    output(body, "scan_out", onnx::TensorProto::FLOAT, {2});
    auto *n = addNode(g, "Scan", {"init", "x"}, {"sum", "partial"}, "accumulate");
    graphAttribute(n, "body", body);
    intAttribute(n, "num_scan_inputs", 1);
    intsAttribute(n, "scan_input_axes", {1});
    intsAttribute(n, "scan_input_directions", {1});
    return g;
}

struct LoopLimit {
    explicit LoopLimit(const char *v) { qputenv("NETWRIGHT_LOOP_LIMIT", v); }
    ~LoopLimit() { qunsetenv("NETWRIGHT_LOOP_LIMIT"); }
};

} // namespace

class ControlFlowTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { setThreadCount(2); }

    void ifCapturesOuterValuesInBothBranches()
    {
        auto imported = onnx_format::importOnnx(model(ifModel()), "if.onnx");
        QVERIFY(imported.missingOps.empty());
        Graph &g = imported.graph;
        QCOMPARE(g.nodes.size(), size_t(1));
        const Node &n = g.nodes[0];
        QCOMPARE(n.implicitInputs, size_t(2)); // x and y, read by the branches
        QCOMPARE(n.inputs, (Names{"cond", "x", "y"}));
        // The branches agree on the shape: known ahead of a run without the condition.
        QCOMPARE(g.inferShapes({{"cond", {}}, {"x", {3}}}).at("res"), (Shape{3}));
        const Tensor x = Tensor::fromVector({3}, {1, 2, 3});
        Executor ex(g);
        ex.forward({{"cond", boolScalar(true)}, {"x", x}}, false);
        QCOMPARE(valuesOf(ex.value("res")), (std::vector<float>{11, 22, 33}));
        ex.forward({{"cond", boolScalar(false)}, {"x", x}}, false);
        QCOMPARE(valuesOf(ex.value("res")), (std::vector<float>{8, 16, 24}));
        // Inference only: nothing trains through the branches.
        QVERIFY(g.trainable.empty());
        // The ONNX exporter writes it with its branches, which name x and y themselves: read back,
        // the node has the same implicit inputs and computes the same.
        auto back = onnx_format::importOnnx(onnx_format::exportOnnx(g, {}), "if-export.onnx");
        QCOMPARE(back.graph.nodes.at(0).inputs, (Names{"cond", "x", "y"}));
        QCOMPARE(back.graph.nodes.at(0).implicitInputs, size_t(2));
        Executor again(back.graph);
        again.forward({{"cond", boolScalar(false)}, {"x", x}}, false);
        QCOMPARE(valuesOf(again.value("res")), (std::vector<float>{8, 16, 24}));
    }

    void nestedIf()
    {
        // outer: c1 ? (t = −x; c2 ? t·x : x + w) : x   — the inner If reads t (outer branch) and
        // x, w (top graph); the outer else passes the top graph's x straight through.
        onnx::GraphProto g;
        g.set_name("nested");
        input(g, "c1", onnx::TensorProto::BOOL, {});
        input(g, "c2", onnx::TensorProto::BOOL, {});
        input(g, "x", onnx::TensorProto::FLOAT, {3});
        floats(g.add_initializer(), "w", {3}, {5, 6, 7});
        output(g, "res", onnx::TensorProto::FLOAT, {3});
        onnx::GraphProto innerThen, innerElse, outerThen, outerElse;
        innerThen.set_name("inner_then");
        addNode(innerThen, "Mul", {"t", "x"}, {"tx"});
        output(innerThen, "tx", onnx::TensorProto::FLOAT, {3});
        innerElse.set_name("inner_else");
        addNode(innerElse, "Add", {"x", "w"}, {"xw"});
        output(innerElse, "xw", onnx::TensorProto::FLOAT, {3});
        outerThen.set_name("outer_then");
        addNode(outerThen, "Neg", {"x"}, {"t"});
        auto *inner = addNode(outerThen, "If", {"c2"}, {"inner_out"}, "inner");
        graphAttribute(inner, "then_branch", innerThen);
        graphAttribute(inner, "else_branch", innerElse);
        output(outerThen, "inner_out", onnx::TensorProto::FLOAT, {3});
        outerElse.set_name("outer_else");
        output(outerElse, "x", onnx::TensorProto::FLOAT, {3});
        auto *outer = addNode(g, "If", {"c1"}, {"res"}, "outer");
        graphAttribute(outer, "then_branch", outerThen);
        graphAttribute(outer, "else_branch", outerElse);

        auto imported = onnx_format::importOnnx(model(g), "nested.onnx");
        const Node &n = imported.graph.nodes.at(0);
        QCOMPARE(n.inputs, (Names{"c1", "x", "c2", "w"})); // in order of first use; t is the outer branch's own
        Executor ex(imported.graph);
        const Tensor x = Tensor::fromVector({3}, {1, -2, 3});
        const struct {
            bool c1, c2;
            std::vector<float> want;
        } cases[] = {{true, true, {-1, -4, -9}}, {true, false, {6, 4, 10}}, {false, true, {1, -2, 3}}, {false, false, {1, -2, 3}}};
        for (const auto &c : cases) {
            ex.forward({{"c1", boolScalar(c.c1)}, {"c2", boolScalar(c.c2)}, {"x", x}}, false);
            QCOMPARE(valuesOf(ex.value("res")), c.want);
        }
    }

    void loopCarriedValuesAndScanOutputs()
    {
        auto imported = onnx_format::importOnnx(model(loopModel(true)), "loop.onnx");
        QVERIFY(imported.missingOps.empty());
        Executor ex(imported.graph);
        const Tensor a0 = Tensor::fromVector({2}, {0.5f, 4});
        for (int64_t m : {0, 2, 10}) {
            ex.forward({{"M", Tensor::fromInt64({}, {m})}, {"a0", a0}}, false);
            // Iterations run while i < M and the previous condition held: the body's condition
            // (i < 3) turns false after i = 3, so min(M, 4) iterations.
            const int64_t iters = std::min<int64_t>(m, 4);
            std::vector<float> wantA{0.5f + iters * 1.0f, 4 - 2.0f * iters};
            QCOMPARE(valuesOf(ex.value("a")), wantA);
            QCOMPARE(ex.value("b").dataAs<int64_t>()[0], 100 + iters * (iters - 1) / 2);
            const Tensor &scan = ex.value("scan");
            QCOMPARE(scan.shape(), (Shape{iters, 2}));
            for (int64_t i = 0; i < iters; ++i) {
                QCOMPARE(scan.data()[2 * i], 0.5f + (i + 1));
                QCOMPARE(scan.data()[2 * i + 1], 4 - 2.0f * (i + 1));
            }
        }
    }

    void loopWithoutEndIsStoppedAtTheLimit()
    {
        LoopLimit limit("1000");
        auto imported = onnx_format::importOnnx(model(loopModel(false)), "endless.onnx");
        Executor ex(imported.graph);
        const QString e = errorOf([&] { ex.forward({{"M", Tensor::fromInt64({}, {0})}, {"a0", Tensor::zeros({2})}}, false); });
        QVERIFY2(e.contains("Node \"repeat\" (Loop)") && e.contains("1000 iterations") && e.contains("NETWRIGHT_LOOP_LIMIT")
                     && e.contains("trip count is absent"),
                 qPrintable(e));
    }

    void loopRunsUpToTheLimit()
    {
        // The same endless body with a trip count: exactly M iterations, the limit not reached.
        LoopLimit limit("1000");
        onnx::GraphProto g = loopModel(false);
        g.mutable_node(0)->set_input(0, "M");
        auto imported = onnx_format::importOnnx(model(g), "bounded.onnx");
        Executor ex(imported.graph);
        ex.forward({{"M", Tensor::fromInt64({}, {1000})}, {"a0", Tensor::zeros({2})}}, false);
        QCOMPARE(ex.value("scan").shape(), (Shape{1000, 2}));
        QCOMPARE(valuesOf(ex.value("a")), (std::vector<float>{1000, -2000}));
        QCOMPARE(ex.value("b").dataAs<int64_t>()[0], 100 + 999 * 1000 / 2);
        // A trip count over the limit with a condition that never turns false: refused at the limit.
        const QString e = errorOf([&] { ex.forward({{"M", Tensor::fromInt64({}, {1001})}, {"a0", Tensor::zeros({2})}}, false); });
        QVERIFY2(e.contains("Node \"repeat\" (Loop)") && e.contains("trip count is 1001"), qPrintable(e));
    }

    void scanSumAgainstFormula()
    {
        auto imported = onnx_format::importOnnx(model(scanModel()), "scan.onnx");
        QVERIFY(imported.missingOps.empty());
        Graph &g = imported.graph;
        QCOMPARE(g.inferShapes({{"init", {2}}, {"x", {2, 4}}}).at("partial"), (Shape{4, 2}));
        Executor ex(g);
        const Tensor init = Tensor::fromVector({2}, {100, 200});
        const Tensor x = Tensor::fromVector({2, 4}, {1, 2, 3, 4, 10, 20, 30, 40});
        ex.forward({{"init", init}, {"x", x}}, false);
        // Reverse scan over the columns: step t reads column 3 − t; partial[t] = init + Σ columns 3..3−t.
        std::vector<float> want;
        float s0 = 100, s1 = 200;
        for (int t = 0; t < 4; ++t) {
            s0 += x.data()[3 - t];
            s1 += x.data()[4 + 3 - t];
            want.push_back(s0);
            want.push_back(s1);
        }
        QCOMPARE(valuesOf(ex.value("partial")), want);
        QCOMPARE(valuesOf(ex.value("sum")), (std::vector<float>{s0, s1}));
    }

    void scan8BatchForm()
    {
        // Opset 8: sequence_lens first (omitted), every input with a batch axis.
        onnx::GraphProto g = scanModel();
        g.mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
        auto *xDims = g.mutable_input(1)->mutable_type()->mutable_tensor_type()->mutable_shape();
        xDims->clear_dim();
        for (int64_t d : {2, 2, 2})
            xDims->add_dim()->set_dim_value(d);
        auto *n = g.mutable_node(0);
        n->clear_input();
        for (const char *i : {"", "init", "x"})
            n->add_input(i);
        n->clear_attribute();
        graphAttribute(n, "body", scanModel().node(0).attribute(0).g());
        intAttribute(n, "num_scan_inputs", 1);
        auto imported = onnx_format::importOnnx(model(g, 8), "scan8.onnx");
        Executor ex(imported.graph);
        // batch of 2: init [2, 2], x [2, L=2, 2]
        const Tensor init = Tensor::fromVector({2, 2}, {0, 0, 1, 1});
        const Tensor x = Tensor::fromVector({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
        ex.forward({{"init", init}, {"x", x}}, false);
        QCOMPARE(ex.value("partial").shape(), (Shape{2, 2, 2}));
        QCOMPARE(valuesOf(ex.value("partial")), (std::vector<float>{1, 2, 4, 6, 6, 7, 13, 15}));
        QCOMPARE(valuesOf(ex.value("sum")), (std::vector<float>{4, 6, 13, 15}));
    }

    void unknownOuterNameIsRefusedNamingTheNode()
    {
        onnx::GraphProto g = ifModel();
        auto *thenG = g.mutable_node(0)->mutable_attribute(0)->mutable_g();
        thenG->mutable_node(0)->set_input(1, "nowhere");
        const QString e = errorOf([&] { onnx_format::importOnnx(model(g), "unknown.onnx"); });
        QVERIFY2(e.contains("Node \"choose\" (If)") && e.contains("\"nowhere\"") && e.contains("enclosing graph"), qPrintable(e));
        // Built by hand, the same: validate refuses an implicit input nothing defines.
        Graph h;
        h.name = "hand";
        h.inputs.push_back(ValueInfo{"c", {}, DType::Bool});
        Node &n = h.addNode("If", "by_hand", {"c", "ghost"}, {"out"});
        n.implicitInputs = 1;
        const QString e2 = errorOf([&] { h.validate(); });
        QVERIFY2(e2.contains("Node \"by_hand\" (If)") && e2.contains("\"ghost\""), qPrintable(e2));
    }
};

QTEST_APPLESS_MAIN(ControlFlowTest)
#include "control_flow_test.moc"

// SPDX-License-Identifier: Apache-2.0
// Comparisons (bool outputs, broadcast, NaN compares false), And/Or/Xor, BitShift on unsigned
// types, Where on float32 (with gradients to X and Y by finite differences, none to the
// condition), int64 and float16 (bits moved unchanged), and refusals that name the node.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

Tensor run(const char *op, const std::vector<Tensor> &inputs, std::map<std::string, Attribute> attrs = {})
{
    return runNode(Node{op, op, {}, {}, std::move(attrs)}, inputs);
}

} // namespace

class CompareTest : public QObject {
    Q_OBJECT
private slots:
    void comparisonsBroadcastToBool()
    {
        // [2,3] against [3]: every pair of -1, 0, 1, NaN appears.
        const Tensor a = Tensor::fromVector({2, 3}, {-1.0f, 0.0f, 1.0f, std::nanf(""), 1.0f, 0.0f});
        const Tensor b = Tensor::fromVector({3}, {0.0f, 0.0f, 0.0f});
        const std::vector<std::pair<const char *, std::vector<uint8_t>>> cases{
            {"Equal", {0, 1, 0, 0, 0, 1}},        {"Less", {1, 0, 0, 0, 0, 0}},           {"Greater", {0, 0, 1, 0, 1, 0}},
            {"LessOrEqual", {1, 1, 0, 0, 0, 1}}, {"GreaterOrEqual", {0, 1, 1, 0, 1, 1}},
        };
        for (const auto &[op, want] : cases) {
            const Tensor y = run(op, {a, b});
            QCOMPARE(y.dtype(), DType::Bool);
            QCOMPARE(y.shape(), (Shape{2, 3}));
            QVERIFY2(valuesOf<uint8_t>(y) == want, op);
        }
        // Integers, compared exactly (values beyond float precision).
        const Tensor i = typed<int64_t>({2}, DType::Int64, {(int64_t(1) << 60) + 1, -5});
        const Tensor j = typed<int64_t>({2}, DType::Int64, {int64_t(1) << 60, -5});
        QCOMPARE(valuesOf<uint8_t>(run("Equal", {i, j})), (std::vector<uint8_t>{0, 1}));
        QCOMPARE(valuesOf<uint8_t>(run("Greater", {i, j})), (std::vector<uint8_t>{1, 0}));
        const Tensor u = typed<uint32_t>({2}, DType::UInt32, {4000000000u, 1u});
        const Tensor v = typed<uint32_t>({1}, DType::UInt32, {2u});
        QCOMPARE(valuesOf<uint8_t>(run("Less", {u, v})), (std::vector<uint8_t>{0, 1}));
        const Tensor p = typed<uint8_t>({2}, DType::Bool, {1, 0}), q = typed<uint8_t>({2}, DType::Bool, {1, 1});
        QCOMPARE(valuesOf<uint8_t>(run("Equal", {p, q})), (std::vector<uint8_t>{1, 0}));
    }

    void logic()
    {
        const Tensor p = typed<uint8_t>({2, 2}, DType::Bool, {0, 0, 1, 1}), q = typed<uint8_t>({2}, DType::Bool, {0, 1});
        QCOMPARE(valuesOf<uint8_t>(run("And", {p, q})), (std::vector<uint8_t>{0, 0, 0, 1}));
        QCOMPARE(valuesOf<uint8_t>(run("Or", {p, q})), (std::vector<uint8_t>{0, 1, 1, 1}));
        QCOMPARE(valuesOf<uint8_t>(run("Xor", {p, q})), (std::vector<uint8_t>{0, 1, 1, 0}));
        QCOMPARE(run("Xor", {p, q}).dtype(), DType::Bool);
    }

    void bitShift()
    {
        const Tensor x8 = typed<uint8_t>({4}, DType::UInt8, {16, 4, 1, 255}), s8 = typed<uint8_t>({4}, DType::UInt8, {1, 2, 3, 8});
        const Tensor l = run("BitShift", {x8, s8}, {{"direction", std::string("LEFT")}});
        const Tensor r = run("BitShift", {x8, s8}, {{"direction", std::string("RIGHT")}});
        QCOMPARE(l.dtype(), DType::UInt8);
        QCOMPARE(valuesOf<uint8_t>(l), (std::vector<uint8_t>{32, 16, 8, 0})); // high bits fall off; a full-width shift gives 0
        QCOMPARE(valuesOf<uint8_t>(r), (std::vector<uint8_t>{8, 1, 0, 0}));
        const Tensor x64 = typed<uint64_t>({2}, DType::UInt64, {1, uint64_t(1) << 63}), s64 = typed<uint64_t>({1}, DType::UInt64, {63});
        QCOMPARE(valuesOf<uint64_t>(run("BitShift", {x64, s64}, {{"direction", std::string("LEFT")}})),
                 (std::vector<uint64_t>{uint64_t(1) << 63, 0}));
        QCOMPARE(valuesOf<uint64_t>(run("BitShift", {x64, s64}, {{"direction", std::string("RIGHT")}})), (std::vector<uint64_t>{0, 1}));
        try {
            run("BitShift", {x8, s8}, {{"direction", std::string("UP")}});
            QFAIL("BitShift accepted direction UP");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("\"BitShift\""), e.what());
        }
    }

    void whereValuesAndGradients()
    {
        setThreadCount(2);
        Rng rng(4);
        // condition [2,1,4], X [3,1], Y [2,3,4]: all three broadcast.
        Tensor c({2, 1, 4}, DType::Bool);
        for (int64_t i = 0; i < c.numel(); ++i)
            c.dataAs<uint8_t>()[i] = rng.uniform() < 0.5f ? 1 : 0;
        const Tensor x = randomTensor({3, 1}, rng), y = randomTensor({2, 3, 4}, rng);
        Node n{"w", "Where", {}, {}, {}};
        const Tensor out = runNode(n, {c, x, y});
        QCOMPARE(out.shape(), (Shape{2, 3, 4}));
        QCOMPARE(out.dtype(), DType::Float32);
        for (int64_t i0 = 0; i0 < 2; ++i0)
            for (int64_t i1 = 0; i1 < 3; ++i1)
                for (int64_t i2 = 0; i2 < 4; ++i2) {
                    const bool cond = c.dataAs<uint8_t>()[i0 * 4 + i2] != 0;
                    const float want = cond ? x.data()[i1] : y.data()[(i0 * 3 + i1) * 4 + i2];
                    QCOMPARE(out.data()[(i0 * 3 + i1) * 4 + i2], want);
                }
        NW_GRADCHECK(n, (std::vector<Tensor>{c, x, y}), (std::set<size_t>{1, 2}));

        // Other element types: the bits are moved unchanged.
        const Tensor c2 = typed<uint8_t>({3}, DType::Bool, {1, 0, 1});
        const Tensor xi = typed<int64_t>({3}, DType::Int64, {1, 2, int64_t(1) << 62}), yi = typed<int64_t>({1}, DType::Int64, {-9});
        const Tensor oi = runNode(n, {c2, xi, yi});
        QCOMPARE(oi.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(oi), (std::vector<int64_t>{1, -9, int64_t(1) << 62}));
        const Tensor xh = typed<uint16_t>({3}, DType::Float16, {0x3c00, 0x4000, 0x4200}), yh = typed<uint16_t>({3}, DType::Float16, {0xbc00, 0, 0});
        const Tensor oh = runNode(n, {c2, xh, yh});
        QCOMPARE(oh.dtype(), DType::Float16);
        QCOMPARE(valuesOf<uint16_t>(oh), (std::vector<uint16_t>{0x3c00, 0, 0x4200}));
    }

    void refusedTypesNameTheNode()
    {
        try {
            runNode(Node{"and_floats", "And", {}, {}, {}}, {Tensor::fromVector({1}, {1.0f}), Tensor::fromVector({1}, {0.0f})});
            QFAIL("And accepted float32");
        } catch (const Error &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("and_floats") && m.contains("float32"), e.what());
        }
        try {
            runNode(Node{"float_condition", "Where", {}, {}, {}},
                    {Tensor::fromVector({1}, {1.0f}), Tensor::fromVector({1}, {1.0f}), Tensor::fromVector({1}, {0.0f})});
            QFAIL("Where accepted a float32 condition");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("float_condition"), e.what());
        }
        try {
            runNode(Node{"signed_shift", "BitShift", {}, {}, {{"direction", std::string("LEFT")}}},
                    {typed<int32_t>({1}, DType::Int32, {1}), typed<int32_t>({1}, DType::Int32, {1})});
            QFAIL("BitShift accepted int32");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("signed_shift"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(CompareTest)
#include "compare_test.moc"

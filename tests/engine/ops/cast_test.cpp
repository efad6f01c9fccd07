// SPDX-License-Identifier: Apache-2.0
// Cast and CastLike: float16 and bfloat16 against their definitions (every bit pattern decodes
// and re-encodes to itself; every midpoint between neighbours rounds to the even one; overflow,
// subnormals and NaN), float → integer truncation and saturation, integer wrap-around, bool both
// ways, output types from `to` and from CastLike's second input, the float32 gradient passing
// through, and the refusal of string casts naming the node.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>

using namespace netwright;
using namespace netwright::testing;

namespace {

// ONNX's element type numbers.
constexpr int64_t kFloat = 1, kUInt8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7, kBool = 9, kFloat16 = 10, kDouble = 11, kBFloat16 = 16;

Tensor cast(const Tensor &x, int64_t to)
{
    return runNode(Node{"cast", "Cast", {}, {}, {{"to", to}}}, {x});
}

uint32_t floatBits(float f)
{
    uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

} // namespace

class CastTest : public QObject {
    Q_OBJECT
private slots:
    void float16EveryBitPattern()
    {
        setThreadCount(2);
        // Decode all 65536 patterns, then encode them back: identical except NaNs (any NaN → a NaN).
        Tensor h({65536}, DType::Float16);
        for (uint32_t i = 0; i < 65536; ++i)
            h.dataAs<uint16_t>()[i] = static_cast<uint16_t>(i);
        const Tensor f = cast(h, kFloat);
        QCOMPARE(f.dtype(), DType::Float32);
        const Tensor back = cast(f, kFloat16);
        QCOMPARE(back.dtype(), DType::Float16);
        for (uint32_t i = 0; i < 65536; ++i) {
            const bool nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff) != 0;
            QCOMPARE(std::isnan(f.data()[i]), nan);
            if (nan)
                QVERIFY((back.dataAs<uint16_t>()[i] & 0x7c00) == 0x7c00 && (back.dataAs<uint16_t>()[i] & 0x3ff) != 0);
            else
                QCOMPARE(back.dataAs<uint16_t>()[i], static_cast<uint16_t>(i));
        }
        // The definition of the value: (-1)^s · 2^(e-15) · 1.m, subnormals 2^-14 · 0.m.
        QCOMPARE(f.data()[0x3c00], 1.0f);
        QCOMPARE(f.data()[0xc000], -2.0f);
        QCOMPARE(f.data()[0x7bff], 65504.0f);
        QCOMPARE(f.data()[0x0001], std::ldexp(1.0f, -24));
        QCOMPARE(f.data()[0x03ff], std::ldexp(1023.0f, -24));
        QCOMPARE(f.data()[0x7c00], std::numeric_limits<float>::infinity());

        // Every midpoint between two neighbouring positive finite halves goes to the even one; a
        // hair above it goes up. Through double too (one rounding, not two).
        std::vector<float> mid, above;
        std::vector<uint16_t> wantMid, wantAbove;
        for (uint32_t i = 0; i < 0x7bff; ++i) {
            const double lo = f.data()[i], hi = f.data()[i + 1], m = (lo + hi) / 2;
            mid.push_back(static_cast<float>(m));
            wantMid.push_back(static_cast<uint16_t>((i & 1) ? i + 1 : i));
            above.push_back(std::nextafter(static_cast<float>(m), 1e9f));
            wantAbove.push_back(static_cast<uint16_t>(i + 1));
        }
        const Tensor m = Tensor::fromVector({static_cast<int64_t>(mid.size())}, mid);
        QCOMPARE(valuesOf<uint16_t>(cast(m, kFloat16)), wantMid);
        QCOMPARE(valuesOf<uint16_t>(cast(Tensor::fromVector({static_cast<int64_t>(above.size())}, above), kFloat16)), wantAbove);
        QCOMPARE(valuesOf<uint16_t>(cast(cast(m, kDouble), kFloat16)), wantMid);

        // Overflow, underflow, sign, NaN.
        const float inf = std::numeric_limits<float>::infinity();
        const Tensor edge = Tensor::fromVector({9}, {65519.0f, 65520.0f, 1e6f, -1e6f, 2.9e-8f, 3.0e-8f, -0.0f, inf, std::nanf("")});
        const std::vector<uint16_t> want{0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0000, 0x0001, 0x8000, 0x7c00};
        const std::vector<uint16_t> got = valuesOf<uint16_t>(cast(edge, kFloat16));
        for (size_t i = 0; i < want.size(); ++i)
            QCOMPARE(got[i], want[i]);
        QVERIFY((got[8] & 0x7c00) == 0x7c00 && (got[8] & 0x3ff) != 0);
    }

    void bfloat16()
    {
        // Decoding is the upper half of a float32; encoding rounds to nearest even.
        Tensor b({65536}, DType::BFloat16);
        for (uint32_t i = 0; i < 65536; ++i)
            b.dataAs<uint16_t>()[i] = static_cast<uint16_t>(i);
        const Tensor f = cast(b, kFloat);
        for (uint32_t i = 0; i < 65536; ++i)
            if (!std::isnan(f.data()[i]))
                QCOMPARE(floatBits(f.data()[i]), i << 16);
        const Tensor back = cast(f, kBFloat16);
        QCOMPARE(back.dtype(), DType::BFloat16);
        for (uint32_t i = 0; i < 65536; ++i)
            if (!std::isnan(f.data()[i]))
                QCOMPARE(back.dataAs<uint16_t>()[i], static_cast<uint16_t>(i));
        // Ties to even, above a tie up, below it down; overflow to inf; 1/3.
        const auto fromBits = [](uint32_t bits) { float v; std::memcpy(&v, &bits, sizeof v); return v; };
        const Tensor x = Tensor::fromVector({7}, {fromBits(0x3f808000), fromBits(0x3f818000), fromBits(0x3f808001), fromBits(0x3f807fff),
                                                  fromBits(0x7f7fffff), 1.0f / 3.0f, -1.0f / 3.0f});
        QCOMPARE(valuesOf<uint16_t>(cast(x, kBFloat16)), (std::vector<uint16_t>{0x3f80, 0x3f82, 0x3f81, 0x3f80, 0x7f80, 0x3eab, 0xbeab}));
        // CastLike takes the type of its second input.
        const Tensor like = runNode(Node{"cl", "CastLike", {}, {}, {}}, {x, Tensor({1}, DType::BFloat16)});
        QCOMPARE(like.dtype(), DType::BFloat16);
        QCOMPARE(valuesOf<uint16_t>(like)[5], uint16_t(0x3eab));
    }

    void integersAndBools()
    {
        const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
        const Tensor f = Tensor::fromVector({8}, {2.7f, -2.7f, 0.5f, -0.0f, 1e10f, -1e10f, nan, inf});
        const Tensor i32 = cast(f, kInt32);
        QCOMPARE(i32.dtype(), DType::Int32);
        const int32_t mx = std::numeric_limits<int32_t>::max(), mn = std::numeric_limits<int32_t>::min();
        QCOMPARE(valuesOf<int32_t>(i32), (std::vector<int32_t>{2, -2, 0, 0, mx, mn, 0, mx})); // truncation, saturation, NaN → 0
        QCOMPARE(valuesOf<uint8_t>(cast(f, kUInt8)), (std::vector<uint8_t>{2, 0, 0, 0, 255, 0, 0, 255}));
        const Tensor bools = cast(f, kBool);
        QCOMPARE(bools.dtype(), DType::Bool);
        QCOMPARE(valuesOf<uint8_t>(bools), (std::vector<uint8_t>{1, 1, 1, 0, 1, 1, 1, 1}));

        const Tensor i64 = typed<int64_t>({4}, DType::Int64, {300, -129, (int64_t(1) << 53) + 1, 0});
        QCOMPARE(valuesOf<int8_t>(cast(i64, kInt8)), (std::vector<int8_t>{44, 127, 1, 0})); // wraps around
        QCOMPARE(valuesOf<double>(cast(i64, kDouble)), (std::vector<double>{300.0, -129.0, 9007199254740992.0, 0.0}));
        QCOMPARE(valuesOf<uint8_t>(cast(i64, kBool)), (std::vector<uint8_t>{1, 1, 1, 0}));
        const Tensor u8 = typed<uint8_t>({2}, DType::UInt8, {200, 7});
        QCOMPARE(valuesOf<int8_t>(cast(u8, kInt8)), (std::vector<int8_t>{-56, 7}));
        QCOMPARE(valuesOf<int64_t>(cast(u8, kInt64)), (std::vector<int64_t>{200, 7}));

        const Tensor b = typed<uint8_t>({2}, DType::Bool, {1, 0});
        QCOMPARE(valuesOf<float>(cast(b, kFloat)), (std::vector<float>{1.0f, 0.0f}));
        QCOMPARE(valuesOf<int64_t>(cast(b, kInt64)), (std::vector<int64_t>{1, 0}));
        QCOMPARE(valuesOf<uint16_t>(cast(b, kFloat16)), (std::vector<uint16_t>{0x3c00, 0}));

        const Tensor d = typed<double>({2}, DType::Float64, {0.1, 1e300});
        const Tensor df = cast(d, kFloat);
        QCOMPARE(df.data()[0], 0.1f);
        QVERIFY(std::isinf(df.data()[1]));
        QCOMPARE(valuesOf<uint16_t>(cast(d, kFloat16)), (std::vector<uint16_t>{0x2e66, 0x7c00}));
        QCOMPARE(valuesOf<uint16_t>(cast(d, kBFloat16)), (std::vector<uint16_t>{0x3dcd, 0x7f80}));
    }

    void gradientPassesThroughFloat32()
    {
        Rng rng(2);
        const Tensor x = randomTensor({2, 3}, rng);
        Node n{"same", "Cast", {}, {}, {{"to", kFloat}}};
        QCOMPARE(maxAbsDiff(runNode(n, {x}), x), 0.0);
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
        Node like{"like", "CastLike", {}, {}, {}};
        NW_GRADCHECK(like, (std::vector<Tensor>{x, Tensor::fromVector({1}, {0.0f})}), (std::set<size_t>{0}));
    }

    void stringCastIsRefusedNamingTheNode()
    {
        try {
            runNode(Node{"to_text", "Cast", {}, {}, {{"to", int64_t(8)}}}, {Tensor::fromVector({1}, {1.0f})});
            QFAIL("Cast to string accepted");
        } catch (const Error &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("to_text") && m.contains("string"), e.what());
        }
        try {
            runNode(Node{"no_to", "Cast", {}, {}, {}}, {Tensor::fromVector({1}, {1.0f})});
            QFAIL("Cast without `to` accepted");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("no_to"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(CastTest)
#include "cast_test.moc"

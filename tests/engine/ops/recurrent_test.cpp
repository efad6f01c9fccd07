// SPDX-License-Identifier: Apache-2.0
// RNN, GRU and LSTM: gradients by finite differences through every input that trains (X, W, R, B,
// the initial states, LSTM's peepholes), over both directions with ragged sequence lengths, and
// the standard LSTM's own path (activated gates kept, vectorised cells) against the general one
// (which a clip forces) on the same data: every output equal. Values against ONNX's reference
// are the ONNX node tests' (onnx_backend_test), training against PyTorch training_parity_test's.
#include "engine/ops/gradcheck.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

namespace {

constexpr int64_t T = 5, B = 3, I = 4, H = 6;

// X [T, B, I], W, R, bias, sequence_lens {5, 3, 1}, initial_h, initial_c, P for D directions.
std::vector<Tensor> inputsFor(int gates, int D, bool lstm, bool peepholes, uint64_t seed)
{
    Rng rng(seed);
    std::vector<Tensor> in{randomTensor({T, B, I}, rng), randomTensor({D, gates * H, I}, rng, -0.5f, 0.5f),
                           randomTensor({D, gates * H, H}, rng, -0.5f, 0.5f), randomTensor({D, 2 * gates * H}, rng, -0.3f, 0.3f)};
    Tensor lens({B}, DType::Int32);
    const int32_t l[] = {5, 3, 1};
    for (int64_t b = 0; b < B; ++b)
        lens.dataAs<int32_t>()[b] = l[b];
    in.push_back(lens);
    in.push_back(randomTensor({D, B, H}, rng, -0.5f, 0.5f));
    if (lstm) {
        in.push_back(randomTensor({D, B, H}, rng, -0.5f, 0.5f));
        in.push_back(peepholes ? randomTensor({D, 3 * H}, rng, -0.5f, 0.5f) : Tensor());
    }
    return in;
}

Node recurrentNode(const std::string &op, const std::string &direction)
{
    Node n{"rec", op, {}, {"y", "yh"}, {}};
    if (op == "LSTM")
        n.outputs.push_back("yc");
    n.attributes["hidden_size"] = H;
    n.attributes["direction"] = direction;
    return n;
}

} // namespace

class RecurrentTest : public QObject {
    Q_OBJECT

private slots:
    void standardLstmMatchesTheGeneralPath()
    {
        // Y holds every step's hidden state (Y_h and Y_c are copies of the last ones).
        for (const std::string direction : {"forward", "reverse", "bidirectional"}) {
            const int D = direction == "bidirectional" ? 2 : 1;
            const auto in = inputsFor(4, D, true, false, 11);
            const Node fast = recurrentNode("LSTM", direction);
            Node general = fast;
            general.attributes["clip"] = 1e30f; // any clip takes the general path; this one never bites
            const Tensor a = runNode(fast, in), b = runNode(general, in);
            QCOMPARE(a.shape(), (Shape{T, D, B, H}));
            QCOMPARE(b.shape(), a.shape());
            const double diff = maxAbsDiff(a, b);
            QVERIFY2(diff < 2e-6, qPrintable(QString("%1: the two paths differ by %2").arg(direction.c_str()).arg(diff)));
            // Past a sample's length its outputs are zero.
            QCOMPARE(a.data()[((4 * D + 0) * B + 2) * H], 0.0f);
        }
    }

    void lstmGradients()
    {
        for (const std::string direction : {"forward", "bidirectional"})
            for (bool peepholes : {false, true}) { // without peepholes: the standard path
                const int D = direction == "bidirectional" ? 2 : 1;
                const auto in = inputsFor(4, D, true, peepholes, 21);
                std::set<size_t> wrt{0, 1, 2, 3, 5, 6};
                if (peepholes)
                    wrt.insert(7);
                NW_GRADCHECK(recurrentNode("LSTM", direction), in, wrt);
            }
    }

    void gruGradients()
    {
        for (const std::string direction : {"forward", "reverse", "bidirectional"})
            for (int64_t linearBeforeReset : {0, 1}) {
                const int D = direction == "bidirectional" ? 2 : 1;
                Node n = recurrentNode("GRU", direction);
                n.attributes["linear_before_reset"] = linearBeforeReset;
                NW_GRADCHECK(n, inputsFor(3, D, false, false, 31), (std::set<size_t>{0, 1, 2, 3, 5}));
            }
    }

    void rnnGradients()
    {
        for (const std::string direction : {"forward", "bidirectional"}) {
            const int D = direction == "bidirectional" ? 2 : 1;
            NW_GRADCHECK(recurrentNode("RNN", direction), inputsFor(1, D, false, false, 41), (std::set<size_t>{0, 1, 2, 3, 5}));
        }
    }
};

QTEST_GUILESS_MAIN(RecurrentTest)
#include "recurrent_test.moc"

// SPDX-License-Identifier: Apache-2.0
// The recurrent layers (ONNX): RNN, GRU, LSTM — forward, reverse and bidirectional, layout 0
// ([T, B, I]) and 1 ([B, T, I]), per-sample sequence_lens, initial states, every output, clip,
// the activations attribute (with activation_alpha/beta), GRU's linear_before_reset, LSTM's
// peepholes and input_forget. Gate order is ONNX's: GRU z, r, h; LSTM i, o, f, c.
//
// The input projection of the whole sequence is one GEMM (X·Wᵀ for all T·B rows); each step then
// multiplies the state by Rᵀ. Backward is backpropagation through time over the pre-activations
// forward kept: per step only dA·R runs, and dW, dR and dX are again one GEMM each over the whole
// sequence. Float32 only; sequence_lens gets no gradient. The LSTM as frameworks export it
// (sigmoid/tanh/tanh, no clip, peepholes or input_forget) keeps its activated gates instead
// (lstmForward/lstmBackward), so that backward computes no transcendental function at all.
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace netwright {

namespace {

enum class Cell { Rnn, Gru, Lstm };

enum class ActKind { Sigmoid, Tanh, Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus };

struct Activation {
    ActKind kind = ActKind::Tanh;
    float alpha = 0, beta = 0;

    float apply(float x) const
    {
        switch (kind) {
        case ActKind::Sigmoid: return vm::sigmoid(x);
        case ActKind::Tanh: return vm::tanh(x);
        case ActKind::Relu: return x > 0 ? x : 0.0f;
        case ActKind::Affine: return alpha * x + beta;
        case ActKind::LeakyRelu: return x >= 0 ? x : alpha * x;
        case ActKind::ThresholdedRelu: return x > alpha ? x : 0.0f;
        case ActKind::ScaledTanh: return alpha * vm::tanh(beta * x);
        case ActKind::HardSigmoid: return std::clamp(alpha * x + beta, 0.0f, 1.0f);
        case ActKind::Elu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0f);
        case ActKind::Softsign: return x / (1.0f + std::abs(x));
        case ActKind::Softplus: return x > 20.0f ? x : std::log1p(std::exp(x));
        }
        return x;
    }
    // d apply / dx at x, given y = apply(x).
    float derivative(float x, float y) const
    {
        switch (kind) {
        case ActKind::Sigmoid: return y * (1.0f - y);
        case ActKind::Tanh: return 1.0f - y * y;
        case ActKind::Relu: return x > 0 ? 1.0f : 0.0f;
        case ActKind::Affine: return alpha;
        case ActKind::LeakyRelu: return x >= 0 ? 1.0f : alpha;
        case ActKind::ThresholdedRelu: return x > alpha ? 1.0f : 0.0f;
        case ActKind::ScaledTanh: {
            const float t = vm::tanh(beta * x);
            return alpha * beta * (1.0f - t * t);
        }
        case ActKind::HardSigmoid: {
            const float v = alpha * x + beta;
            return v > 0.0f && v < 1.0f ? alpha : 0.0f;
        }
        case ActKind::Elu: return x >= 0 ? 1.0f : y + alpha;
        case ActKind::Softsign: {
            const float d = 1.0f + std::abs(x);
            return 1.0f / (d * d);
        }
        case ActKind::Softplus: return x >= 0 ? 1.0f / (1.0f + std::exp(-x)) : std::exp(x) / (1.0f + std::exp(x));
        }
        return 1.0f;
    }
};

// What a node asks for, resolved once per call.
struct Config {
    Cell cell = Cell::Lstm;
    int64_t T = 0, B = 0, I = 0, H = 0;
    int D = 1;      // directions
    int G = 4;      // gates
    bool reverseOnly = false, batchFirst = false, linearBeforeReset = false, inputForget = false;
    float clip = std::numeric_limits<float>::infinity();
    std::vector<Activation> acts; // per direction: f (, g (, h))
    int actsPerDirection = 1;

    const Activation &act(int d, int k) const { return acts[static_cast<size_t>(d * actsPerDirection + k)]; }
    bool reversed(int d) const { return reverseOnly || d == 1; }
};

Cell cellOf(const std::string &op)
{
    return op == "RNN" ? Cell::Rnn : op == "GRU" ? Cell::Gru : Cell::Lstm;
}

ActKind activationKind(const Node &node, std::string name)
{
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::pair<const char *, ActKind> kinds[] = {
        {"sigmoid", ActKind::Sigmoid},   {"tanh", ActKind::Tanh},
        {"relu", ActKind::Relu},         {"affine", ActKind::Affine},
        {"leakyrelu", ActKind::LeakyRelu}, {"thresholdedrelu", ActKind::ThresholdedRelu},
        {"scaledtanh", ActKind::ScaledTanh}, {"hardsigmoid", ActKind::HardSigmoid},
        {"elu", ActKind::Elu},           {"softsign", ActKind::Softsign},
        {"softplus", ActKind::Softplus},
    };
    for (const auto &[n, k] : kinds)
        if (name == n)
            return k;
    throw Error(node.describe() + ": activation \"" + name + "\" is not one ONNX defines for recurrent layers.");
}

Config configure(const Node &node, const std::vector<Shape> &in)
{
    Config c;
    c.cell = cellOf(node.opType);
    c.G = c.cell == Cell::Rnn ? 1 : c.cell == Cell::Gru ? 3 : 4;
    c.actsPerDirection = c.cell == Cell::Rnn ? 1 : c.cell == Cell::Gru ? 2 : 3;
    check(in.size() >= 3 && !in[0].empty() && !in[1].empty() && !in[2].empty(), node.describe() + ": needs inputs X, W and R.");
    shape_rules::expectRank(node, "input X", in[0], 3);
    shape_rules::expectRank(node, "input W", in[1], 3);
    shape_rules::expectRank(node, "input R", in[2], 3);
    const std::string direction = node.attrString("direction", "forward");
    check(direction == "forward" || direction == "reverse" || direction == "bidirectional",
          node.describe() + ": direction \"" + direction + "\" is not forward, reverse or bidirectional.");
    c.D = direction == "bidirectional" ? 2 : 1;
    c.reverseOnly = direction == "reverse";
    c.batchFirst = node.attrInt("layout", 0) == 1;
    c.T = c.batchFirst ? in[0][1] : in[0][0];
    c.B = c.batchFirst ? in[0][0] : in[0][1];
    c.I = in[0][2];
    c.H = node.attrInt("hidden_size", in[2][2]);
    check(c.H > 0, node.describe() + ": hidden_size must be positive.");
    const Shape wantW{c.D, c.G * c.H, c.I}, wantR{c.D, c.G * c.H, c.H};
    check(in[1] == wantW, node.describe() + ": W has shape " + shapeToString(in[1]) + ", expected " + shapeToString(wantW) + ".");
    check(in[2] == wantR, node.describe() + ": R has shape " + shapeToString(in[2]) + ", expected " + shapeToString(wantR) + ".");
    auto optional = [&](size_t k, const Shape &want, const char *name) {
        if (k < in.size() && !in[k].empty() && !node.inputs[k].empty())
            check(in[k] == want, node.describe() + ": " + name + " has shape " + shapeToString(in[k]) + ", expected " + shapeToString(want) + ".");
    };
    optional(3, {c.D, 2 * c.G * c.H}, "B");
    optional(4, {c.B}, "sequence_lens");
    const Shape state = c.batchFirst ? Shape{c.B, c.D, c.H} : Shape{c.D, c.B, c.H};
    optional(5, state, "initial_h");
    if (c.cell == Cell::Lstm) {
        optional(6, state, "initial_c");
        optional(7, {c.D, 3 * c.H}, "P");
    }
    if (node.hasAttribute("clip")) {
        c.clip = node.attrFloat("clip", 0.0f);
        check(c.clip > 0, node.describe() + ": clip must be positive.");
    }
    c.linearBeforeReset = c.cell == Cell::Gru && node.attrInt("linear_before_reset", 0) != 0;
    c.inputForget = c.cell == Cell::Lstm && node.attrInt("input_forget", 0) != 0;

    std::vector<std::string> names = node.attrStrings("activations", {});
    if (names.empty()) {
        for (int d = 0; d < c.D; ++d) {
            if (c.cell == Cell::Rnn)
                names.insert(names.end(), {"Tanh"});
            else if (c.cell == Cell::Gru)
                names.insert(names.end(), {"Sigmoid", "Tanh"});
            else
                names.insert(names.end(), {"Sigmoid", "Tanh", "Tanh"});
        }
    }
    check(static_cast<int>(names.size()) == c.actsPerDirection * c.D,
          node.describe() + ": " + std::to_string(names.size()) + " activations given, " + std::to_string(c.actsPerDirection * c.D)
              + " expected (" + std::to_string(c.actsPerDirection) + " per direction).");
    const std::vector<float> alphas = node.attrFloats("activation_alpha", {}), betas = node.attrFloats("activation_beta", {});
    size_t nextAlpha = 0, nextBeta = 0;
    for (const std::string &name : names) {
        Activation a;
        a.kind = activationKind(node, name);
        // ONNX's defaults of the corresponding operators; the lists are consumed in order by the
        // activations that take the parameter.
        float da = 0, db = 0;
        bool takesAlpha = true, takesBeta = false;
        switch (a.kind) {
        case ActKind::Affine: da = 1, db = 0, takesBeta = true; break;
        case ActKind::LeakyRelu: da = 0.01f; break;
        case ActKind::ThresholdedRelu: da = 1.0f; break;
        case ActKind::ScaledTanh: da = 1, db = 1, takesBeta = true; break;
        case ActKind::HardSigmoid: da = 0.2f, db = 0.5f, takesBeta = true; break;
        case ActKind::Elu: da = 1.0f; break;
        default: takesAlpha = false; break;
        }
        a.alpha = takesAlpha && nextAlpha < alphas.size() ? alphas[nextAlpha++] : da;
        a.beta = takesBeta && nextBeta < betas.size() ? betas[nextBeta++] : db;
        c.acts.push_back(a);
    }
    return c;
}

// Time index of processing step s for sample b, or −1 when the sample's sequence has ended.
inline int64_t timeOf(const Config &c, int d, int64_t s, int64_t len)
{
    if (s >= len)
        return -1;
    return c.reversed(d) ? len - 1 - s : s;
}

// [B, T, …] ↔ [T, B, …] for layout 1.
Tensor swapFirstTwo(const Tensor &x)
{
    Shape s = x.shape();
    std::swap(s[0], s[1]);
    Tensor y(s, x.dtype());
    const int64_t a = x.dim(0), b = x.dim(1), inner = x.numel() / std::max<int64_t>(1, a * b);
    const float *src = x.data();
    float *dst = y.data();
    for (int64_t i = 0; i < a; ++i)
        for (int64_t j = 0; j < b; ++j)
            std::memcpy(dst + (j * a + i) * inner, src + (i * b + j) * inner, static_cast<size_t>(inner) * sizeof(float));
    return y;
}

// The LSTM PyTorch and most frameworks export — sigmoid/tanh/tanh, no clip, no peepholes, no
// input_forget — takes a path of its own: forward keeps the activated gates and tanh(c) instead
// of the pre-activations, so backward computes no transcendental at all, and every per-element
// loop runs over contiguous gate blocks with vm:: functions the compiler vectorises.
bool standardLstm(const Config &c, bool peepholes)
{
    if (c.cell != Cell::Lstm || peepholes || c.inputForget || std::isfinite(c.clip))
        return false;
    for (int d = 0; d < c.D; ++d)
        if (c.act(d, 0).kind != ActKind::Sigmoid || c.act(d, 1).kind != ActKind::Tanh || c.act(d, 2).kind != ActKind::Tanh)
            return false;
    return true;
}

// What the standard LSTM's forward keeps per direction for backward.
struct LstmTape {
    Tensor gates; // [T, B, 4H] i, o, f, c after their activations, by processing step
    Tensor hs;    // [T + 1, B, H] the hidden state before each step, and after the last
    Tensor cs;    // [T + 1, B, H] the cell state likewise
    Tensor tc;    // [T, B, H] tanh of the new cell state
};

// One sample's cell update over its activated gates (i, o, f, c in a row of 4H): the new cell
// state, its tanh and the new hidden state. The pointers never overlap (__restrict lets GCC
// vectorise without run-time alias checks, of which it allows only a few).
inline void lstmCellForward(int64_t H, const float *__restrict gates, const float *__restrict cPrev, float *__restrict cNext,
                            float *__restrict tanhC, float *__restrict hNext)
{
    const float *__restrict gi = gates, *__restrict go = gates + H, *__restrict gf = gates + 2 * H, *__restrict gc = gates + 3 * H;
    for (int64_t j = 0; j < H; ++j) {
        const float cell = gf[j] * cPrev[j] + gi[j] * gc[j];
        const float th = vm::tanh(cell);
        cNext[j] = cell;
        tanhC[j] = th;
        hNext[j] = go[j] * th;
    }
}

// Its gradient: dh (the state's gradient from later steps) + dy (the output's) and dc in; the
// pre-activations' gradient dA (4H) out, and dc becomes the gradient of the previous cell state.
inline void lstmCellBackward(int64_t H, const float *__restrict gates, const float *__restrict cPrev, const float *__restrict tanhC,
                             const float *__restrict dh, const float *__restrict dy, float *__restrict dc, float *__restrict dA)
{
    const float *__restrict gi = gates, *__restrict go = gates + H, *__restrict gf = gates + 2 * H, *__restrict gc = gates + 3 * H;
    for (int64_t j = 0; j < H; ++j) {
        const float dH = dh[j] + dy[j];
        const float i = gi[j], o = go[j], f = gf[j], cand = gc[j], th = tanhC[j];
        const float dC = dc[j] + dH * o * (1.0f - th * th);
        dA[j] = dC * cand * i * (1.0f - i);
        dA[H + j] = dH * th * o * (1.0f - o);
        dA[2 * H + j] = dC * cPrev[j] * f * (1.0f - f);
        dA[3 * H + j] = dC * i * (1.0f - cand * cand);
        dc[j] = dC * f;
    }
}

// One direction of the standard LSTM. xproj [T·B, 4H] is X·Wᵀ + Wb + Rb by time; h0/c0 point at
// this direction's [B, H] initial states (null: zeros). Writes Y's rows [T, D, B, H] for d.
LstmTape lstmForward(const Config &c, int d, const std::vector<int64_t> &lens, const Tensor &xprojT, const float *R,
                     const float *h0, const float *c0, float *Y)
{
    const int64_t H = c.H, GH = 4 * H, BH = c.B * H;
    // Processing step s is time s for every sample when the direction runs forward over
    // full-length sequences: the projections then become the gates in place (no copy).
    bool inOrder = !c.reversed(d);
    for (int64_t l : lens)
        inOrder = inOrder && l == c.T;
    const float *xproj = xprojT.data();
    LstmTape tape{inOrder ? xprojT : Tensor({c.T, c.B, GH}), Tensor({c.T + 1, c.B, H}), Tensor({c.T + 1, c.B, H}), Tensor({c.T, c.B, H})};
    float *hs = tape.hs.data(), *cs = tape.cs.data();
    if (h0)
        std::memcpy(hs, h0, static_cast<size_t>(BH) * sizeof(float));
    else
        std::fill(hs, hs + BH, 0.0f);
    if (c0)
        std::memcpy(cs, c0, static_cast<size_t>(BH) * sizeof(float));
    else
        std::fill(cs, cs + BH, 0.0f);
    for (int64_t s = 0; s < c.T; ++s) {
        float *g = tape.gates.data() + s * c.B * GH;
        // This step's input projections, then += h·Rᵀ in the same buffer.
        for (int64_t b = 0; b < c.B && !inOrder; ++b) {
            const int64_t t = timeOf(c, d, s, lens[static_cast<size_t>(b)]);
            if (t >= 0)
                std::memcpy(g + b * GH, xproj + (t * c.B + b) * GH, static_cast<size_t>(GH) * sizeof(float));
            else
                std::fill(g + b * GH, g + (b + 1) * GH, 0.0f);
        }
        const float *hPrev = hs + s * BH, *cPrev = cs + s * BH;
        float *hNext = hs + (s + 1) * BH, *cNext = cs + (s + 1) * BH, *tcs = tape.tc.data() + s * BH;
        blas::gemm(false, true, c.B, GH, H, 1.0f, hPrev, H, R, H, 1.0f, g, GH);
        for (int64_t b = 0; b < c.B; ++b) {
            const int64_t t = timeOf(c, d, s, lens[static_cast<size_t>(b)]);
            float *gb = g + b * GH, *hn = hNext + b * H, *cn = cNext + b * H, *tcb = tcs + b * H;
            const float *cp = cPrev + b * H;
            if (t < 0) { // this sample's sequence has ended: the state stays
                std::memcpy(hn, hPrev + b * H, static_cast<size_t>(H) * sizeof(float));
                std::memcpy(cn, cp, static_cast<size_t>(H) * sizeof(float));
                std::fill(gb, gb + GH, 0.0f);
                std::fill(tcb, tcb + H, 0.0f);
                continue;
            }
            vm::sigmoidInPlace(gb, 3 * H); // i, o, f
            vm::tanhInPlace(gb + 3 * H, H); // the candidate
            lstmCellForward(H, gb, cp, cn, tcb, hn);
            std::memcpy(Y + ((t * c.D + d) * c.B + b) * H, hn, static_cast<size_t>(H) * sizeof(float));
        }
    }
    return tape;
}

// Backpropagation through one direction of the standard LSTM. dY is [T, D, B, H]; dh, dc hold
// d loss / d (final h, c) on entry and d loss / d (h0, c0) on return. Returns dA [T, B, 4H], the
// gradient of the pre-activations by processing step (zero rows where a sequence had ended): the
// input projection and the recurrent one get the same gradient in an LSTM.
Tensor lstmBackward(const Config &c, int d, const std::vector<int64_t> &lens, const LstmTape &tape, const float *R, const float *dY,
                    std::vector<float> &dh, std::vector<float> &dc)
{
    const int64_t H = c.H, GH = 4 * H, BH = c.B * H;
    Tensor dA({c.T, c.B, GH});
    std::vector<float> dhPrev(static_cast<size_t>(BH));
    for (int64_t s = c.T - 1; s >= 0; --s) {
        const float *g = tape.gates.data() + s * c.B * GH, *cPrev = tape.cs.data() + s * BH, *tcs = tape.tc.data() + s * BH;
        float *da = dA.data() + s * c.B * GH;
        std::fill(dhPrev.begin(), dhPrev.end(), 0.0f);
        for (int64_t b = 0; b < c.B; ++b) {
            const int64_t t = timeOf(c, d, s, lens[static_cast<size_t>(b)]);
            float *dhb = dh.data() + b * H, *dcb = dc.data() + b * H, *dab = da + b * GH;
            if (t < 0) { // ended: the state passed through unchanged
                std::memcpy(dhPrev.data() + b * H, dhb, static_cast<size_t>(H) * sizeof(float));
                std::fill(dab, dab + GH, 0.0f);
                continue;
            }
            const float *dy = dY + ((t * c.D + d) * c.B + b) * H;
            lstmCellBackward(H, g + b * GH, cPrev + b * H, tcs + b * H, dhb, dy, dcb, dab);
        }
        // dh_prev = dA·R (plus the pass-through of ended samples, whose dA rows are zero).
        blas::gemm(false, false, c.B, H, GH, 1.0f, da, GH, R, H, 1.0f, dhPrev.data(), H);
        dh.swap(dhPrev);
    }
    return dA;
}

class Recurrent final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        const Config c = configure(node, in);
        const Shape y = c.batchFirst ? Shape{c.B, c.T, c.D, c.H} : Shape{c.T, c.D, c.B, c.H};
        const Shape state = c.batchFirst ? Shape{c.B, c.D, c.H} : Shape{c.D, c.B, c.H};
        if (c.cell == Cell::Lstm)
            return {y, state, state};
        return {y, state};
    }
    bool differentiable(size_t input) const override { return input != 4; }

    void forward(KernelContext &ctx) const override
    {
        std::vector<Shape> shapes;
        for (const Tensor *t : ctx.inputs)
            shapes.push_back(t ? t->shape() : Shape{});
        const Config c = configure(ctx.node, shapes);
        const std::vector<int64_t> lens = sequenceLengths(ctx, c);
        const Tensor X = c.batchFirst ? swapFirstTwo(ctx.in(0)) : ctx.in(0);
        const int64_t GH = c.G * c.H, TB = c.T * c.B;
        Tensor Y({c.T, c.D, c.B, c.H});
        Y.fill(0.0f);
        Tensor Yh({c.D, c.B, c.H}), Yc({c.D, c.B, c.H});
        ctx.saved.assign(static_cast<size_t>(4 * c.D), Tensor());
        const bool fast = standardLstm(c, ctx.hasInput(7));
        Tensor h0, c0;
        if (ctx.hasInput(5))
            h0 = c.batchFirst ? swapFirstTwo(ctx.in(5)) : ctx.in(5);
        if (c.cell == Cell::Lstm && ctx.hasInput(6))
            c0 = c.batchFirst ? swapFirstTwo(ctx.in(6)) : ctx.in(6);

        for (int d = 0; d < c.D; ++d) {
            const float *W = ctx.in(1).data() + d * GH * c.I, *R = ctx.in(2).data() + d * GH * c.H;
            const float *Wb = ctx.hasInput(3) ? ctx.in(3).data() + d * 2 * GH : nullptr;
            const float *Rb = Wb ? Wb + GH : nullptr;
            const float *P = c.cell == Cell::Lstm && ctx.hasInput(7) ? ctx.in(7).data() + d * 3 * c.H : nullptr;
            // The input projection of every time step at once, biases folded in (except GRU's
            // recurrent h bias under linear_before_reset, which the reset gate scales).
            Tensor xproj({TB, GH});
            blas::gemm(false, true, TB, GH, c.I, 1.0f, X.data(), c.I, W, c.I, 0.0f, xproj.data(), GH);
            if (Wb) {
                float *xp = xproj.data();
                std::vector<float> bias(static_cast<size_t>(GH));
                for (int64_t j = 0; j < GH; ++j) {
                    const bool scaledByReset = c.linearBeforeReset && j >= 2 * c.H;
                    bias[static_cast<size_t>(j)] = Wb[j] + (scaledByReset ? 0.0f : Rb[j]);
                }
                parallelFor(TB, [&](int64_t r0, int64_t r1, int) {
                    for (int64_t r = r0; r < r1; ++r)
                        for (int64_t j = 0; j < GH; ++j)
                            xp[r * GH + j] += bias[static_cast<size_t>(j)];
                }, 64);
            }
            if (fast) {
                LstmTape tape = lstmForward(c, d, lens, xproj, R, h0.defined() ? h0.data() + d * c.B * c.H : nullptr,
                                            c0.defined() ? c0.data() + d * c.B * c.H : nullptr, Y.data());
                std::memcpy(Yh.data() + d * c.B * c.H, tape.hs.data() + c.T * c.B * c.H, static_cast<size_t>(c.B * c.H) * sizeof(float));
                std::memcpy(Yc.data() + d * c.B * c.H, tape.cs.data() + c.T * c.B * c.H, static_cast<size_t>(c.B * c.H) * sizeof(float));
                ctx.saved[static_cast<size_t>(4 * d)] = tape.gates;
                ctx.saved[static_cast<size_t>(4 * d + 1)] = tape.hs;
                ctx.saved[static_cast<size_t>(4 * d + 2)] = tape.cs;
                ctx.saved[static_cast<size_t>(4 * d + 3)] = tape.tc;
                continue;
            }
            Tensor A({c.T, c.B, GH});       // pre-activations per processing step (before clip)
            Tensor Hs({c.T + 1, c.B, c.H}); // the state before each step, and after the last
            Tensor Cs({c.T + 1, c.B, c.H}); // LSTM: the cell state likewise
            Tensor Ex;                      // GRU: linear_before_reset ? h·Rhᵀ + Rbh : r ⊙ h
            if (c.cell == Cell::Gru)
                Ex = Tensor({c.T, c.B, c.H});
            float *hs = Hs.data(), *cs = Cs.data();
            if (h0.defined())
                std::memcpy(hs, h0.data() + d * c.B * c.H, static_cast<size_t>(c.B * c.H) * sizeof(float));
            else
                std::fill(hs, hs + c.B * c.H, 0.0f);
            if (c0.defined())
                std::memcpy(cs, c0.data() + d * c.B * c.H, static_cast<size_t>(c.B * c.H) * sizeof(float));
            else
                std::fill(cs, cs + c.B * c.H, 0.0f);
            Tensor rec({c.B, GH});
            for (int64_t s = 0; s < c.T; ++s) {
                const float *hPrev = hs + s * c.B * c.H;
                float *hNext = hs + (s + 1) * c.B * c.H;
                const float *cPrev = cs + s * c.B * c.H;
                float *cNext = cs + (s + 1) * c.B * c.H;
                float *a = A.data() + s * c.B * GH;
                // The recurrent projection: GRU without linear_before_reset multiplies r ⊙ h by Rh
                // later, once r is known.
                const int64_t recCols = c.cell == Cell::Gru && !c.linearBeforeReset ? 2 * c.H : GH;
                blas::gemm(false, true, c.B, recCols, c.H, 1.0f, hPrev, c.H, R, c.H, 0.0f, rec.data(), GH);
                float *ex = c.cell == Cell::Gru ? Ex.data() + s * c.B * c.H : nullptr;
                for (int64_t b = 0; b < c.B; ++b) {
                    const int64_t t = timeOf(c, d, s, lens[static_cast<size_t>(b)]);
                    float *ab = a + b * GH;
                    const float *hp = hPrev + b * c.H;
                    if (t < 0) { // this sample's sequence has ended: the state stays
                        std::memcpy(hNext + b * c.H, hp, static_cast<size_t>(c.H) * sizeof(float));
                        std::memcpy(cNext + b * c.H, cPrev + b * c.H, static_cast<size_t>(c.H) * sizeof(float));
                        std::fill(ab, ab + GH, 0.0f);
                        if (ex)
                            std::fill(ex + b * c.H, ex + (b + 1) * c.H, 0.0f);
                        continue;
                    }
                    const float *xp = xproj.data() + (t * c.B + b) * GH;
                    const float *rb = rec.data() + b * GH;
                    for (int64_t j = 0; j < recCols; ++j)
                        ab[j] = xp[j] + rb[j];
                    float *hn = hNext + b * c.H;
                    if (c.cell == Cell::Rnn) {
                        for (int64_t j = 0; j < c.H; ++j)
                            hn[j] = c.act(d, 0).apply(clipped(c, ab[j]));
                    } else if (c.cell == Cell::Gru) {
                        const Activation &f = c.act(d, 0), &g = c.act(d, 1);
                        float *exb = ex + b * c.H;
                        std::vector<float> rVal(static_cast<size_t>(c.H));
                        for (int64_t j = 0; j < c.H; ++j)
                            rVal[static_cast<size_t>(j)] = f.apply(clipped(c, ab[c.H + j]));
                        if (c.linearBeforeReset) {
                            for (int64_t j = 0; j < c.H; ++j) {
                                exb[j] = rb[2 * c.H + j] + (Rb ? Rb[2 * c.H + j] : 0.0f);
                                ab[2 * c.H + j] = xp[2 * c.H + j] + rVal[static_cast<size_t>(j)] * exb[j];
                            }
                        } else {
                            for (int64_t j = 0; j < c.H; ++j)
                                exb[j] = rVal[static_cast<size_t>(j)] * hp[j];
                            for (int64_t j = 0; j < c.H; ++j) {
                                const float *rh = R + (2 * c.H + j) * c.H;
                                float acc = 0;
                                for (int64_t k = 0; k < c.H; ++k)
                                    acc += exb[k] * rh[k];
                                ab[2 * c.H + j] = xp[2 * c.H + j] + acc;
                            }
                        }
                        for (int64_t j = 0; j < c.H; ++j) {
                            const float z = f.apply(clipped(c, ab[j])), hh = g.apply(clipped(c, ab[2 * c.H + j]));
                            hn[j] = (1.0f - z) * hh + z * hp[j];
                        }
                    } else {
                        const Activation &f = c.act(d, 0), &g = c.act(d, 1), &hAct = c.act(d, 2);
                        const float *cp = cPrev + b * c.H;
                        float *cn = cNext + b * c.H;
                        for (int64_t j = 0; j < c.H; ++j) {
                            if (P) {
                                ab[j] += P[j] * cp[j];               // i
                                ab[2 * c.H + j] += P[2 * c.H + j] * cp[j]; // f
                            }
                            const float i = f.apply(clipped(c, ab[j]));
                            const float fg = c.inputForget ? 1.0f - i : f.apply(clipped(c, ab[2 * c.H + j]));
                            const float cand = g.apply(clipped(c, ab[3 * c.H + j]));
                            cn[j] = fg * cp[j] + i * cand;
                            if (P)
                                ab[c.H + j] += P[c.H + j] * cn[j]; // o sees the new cell state
                            const float o = f.apply(clipped(c, ab[c.H + j]));
                            hn[j] = o * hAct.apply(cn[j]);
                        }
                    }
                    std::memcpy(Y.data() + ((t * c.D + d) * c.B + b) * c.H, hn, static_cast<size_t>(c.H) * sizeof(float));
                }
            }
            std::memcpy(Yh.data() + d * c.B * c.H, hs + c.T * c.B * c.H, static_cast<size_t>(c.B * c.H) * sizeof(float));
            std::memcpy(Yc.data() + d * c.B * c.H, cs + c.T * c.B * c.H, static_cast<size_t>(c.B * c.H) * sizeof(float));
            ctx.saved[static_cast<size_t>(4 * d)] = A;
            ctx.saved[static_cast<size_t>(4 * d + 1)] = Hs;
            ctx.saved[static_cast<size_t>(4 * d + 2)] = c.cell == Cell::Gru ? Ex : Cs;
        }
        auto emit = [&](size_t k, const Tensor &v) {
            if (k < ctx.outputs.size() && ctx.outputs[k])
                ctx.out(k).copyFrom(c.batchFirst ? swapFirstTwo(v) : v);
        };
        if (ctx.outputs[0]) {
            if (c.batchFirst) { // [T, D, B, H] → [B, T, D, H]
                float *y = ctx.out(0).data();
                for (int64_t t = 0; t < c.T; ++t)
                    for (int d = 0; d < c.D; ++d)
                        for (int64_t b = 0; b < c.B; ++b)
                            std::memcpy(y + ((b * c.T + t) * c.D + d) * c.H, Y.data() + ((t * c.D + d) * c.B + b) * c.H,
                                        static_cast<size_t>(c.H) * sizeof(float));
            } else {
                ctx.out(0).copyFrom(Y);
            }
        }
        emit(1, Yh);
        if (c.cell == Cell::Lstm)
            emit(2, Yc);
    }

    void backward(KernelContext &ctx) const override
    {
        std::vector<Shape> shapes;
        for (const Tensor *t : ctx.inputs)
            shapes.push_back(t ? t->shape() : Shape{});
        const Config c = configure(ctx.node, shapes);
        check(!c.inputForget, ctx.node.describe() + ": training through input_forget is not supported.");
        const std::vector<int64_t> lens = sequenceLengths(ctx, c);
        const int64_t GH = c.G * c.H, BH = c.B * c.H;
        const Tensor X = c.batchFirst ? swapFirstTwo(ctx.in(0)) : ctx.in(0);
        // Output gradients in layout 0: dY [T, D, B, H], dYh and dYc [D, B, H] (zeros when none).
        Tensor dY = Tensor::zeros({c.T, c.D, c.B, c.H});
        if (ctx.gradOutputs.size() > 0 && ctx.gradOutputs[0]) {
            const float *g = ctx.gradOutputs[0]->data();
            for (int64_t t = 0; t < c.T; ++t)
                for (int d = 0; d < c.D; ++d)
                    for (int64_t b = 0; b < c.B; ++b)
                        std::memcpy(dY.data() + ((t * c.D + d) * c.B + b) * c.H,
                                    g + (c.batchFirst ? ((b * c.T + t) * c.D + d) : ((t * c.D + d) * c.B + b)) * c.H,
                                    static_cast<size_t>(c.H) * sizeof(float));
        }
        auto stateGrad = [&](size_t k) {
            if (k < ctx.gradOutputs.size() && ctx.gradOutputs[k])
                return c.batchFirst ? swapFirstTwo(*ctx.gradOutputs[k]) : ctx.gradOutputs[k]->clone();
            return Tensor::zeros({c.D, c.B, c.H});
        };
        const Tensor dYh = stateGrad(1), dYc = c.cell == Cell::Lstm ? stateGrad(2) : Tensor();

        Tensor dX = Tensor::zeros({c.T, c.B, c.I});
        Tensor dW = Tensor::zeros(ctx.in(1).shape()), dR = Tensor::zeros(ctx.in(2).shape());
        Tensor dB = Tensor::zeros({c.D, 2 * GH}), dH0 = Tensor::zeros({c.D, c.B, c.H}), dC0 = Tensor::zeros({c.D, c.B, c.H});
        Tensor dP = Tensor::zeros({c.D, 3 * c.H});
        const bool fast = standardLstm(c, ctx.hasInput(7));
        for (int d = 0; d < c.D; ++d) {
            const float *R = ctx.in(2).data() + d * GH * c.H;
            if (fast) {
                const LstmTape tape{ctx.saved[static_cast<size_t>(4 * d)], ctx.saved[static_cast<size_t>(4 * d + 1)],
                                    ctx.saved[static_cast<size_t>(4 * d + 2)], ctx.saved[static_cast<size_t>(4 * d + 3)]};
                std::vector<float> dh(dYh.data() + d * BH, dYh.data() + (d + 1) * BH), dc(dYc.data() + d * BH, dYc.data() + (d + 1) * BH);
                const Tensor dA = lstmBackward(c, d, lens, tape, R, dY.data(), dh, dc);
                std::memcpy(dH0.data() + d * BH, dh.data(), static_cast<size_t>(BH) * sizeof(float));
                std::memcpy(dC0.data() + d * BH, dc.data(), static_cast<size_t>(BH) * sizeof(float));
                parameterGradients(c, d, lens, ctx, X, dA, dA, tape.hs.data(), nullptr, dX, dW, dR, dB);
                continue;
            }
            const float *P = c.cell == Cell::Lstm && ctx.hasInput(7) ? ctx.in(7).data() + d * 3 * c.H : nullptr;
            const float *A = ctx.saved[static_cast<size_t>(4 * d)].data();
            const float *hs = ctx.saved[static_cast<size_t>(4 * d + 1)].data();
            const float *aux = ctx.saved[static_cast<size_t>(4 * d + 2)].data(); // GRU: Ex; LSTM: cell states
            Tensor dIn = Tensor::zeros({c.T, c.B, GH});  // d loss / d (input projection), by processing step
            Tensor dRec = Tensor::zeros({c.T, c.B, GH}); // d loss / d (what multiplies R), by processing step
            std::vector<float> dh(dYh.data() + d * BH, dYh.data() + (d + 1) * BH);
            std::vector<float> dc = c.cell == Cell::Lstm ? std::vector<float>(dYc.data() + d * BH, dYc.data() + (d + 1) * BH)
                                                         : std::vector<float>(static_cast<size_t>(BH), 0.0f);
            std::vector<float> dhPrev(static_cast<size_t>(BH)), dRhIn(static_cast<size_t>(BH));
            for (int64_t s = c.T - 1; s >= 0; --s) {
                const float *a = A + s * c.B * GH, *hPrev = hs + s * BH;
                float *din = dIn.data() + s * c.B * GH, *drec = dRec.data() + s * c.B * GH;
                std::fill(dhPrev.begin(), dhPrev.end(), 0.0f);
                for (int64_t b = 0; b < c.B; ++b) {
                    const int64_t t = timeOf(c, d, s, lens[static_cast<size_t>(b)]);
                    float *dhb = dh.data() + b * c.H, *dcb = dc.data() + b * c.H, *dpb = dhPrev.data() + b * c.H;
                    if (t < 0) { // ended: the state passed through unchanged
                        for (int64_t j = 0; j < c.H; ++j)
                            dpb[j] = dhb[j];
                        continue;
                    }
                    const float *dy = dY.data() + ((t * c.D + d) * c.B + b) * c.H;
                    for (int64_t j = 0; j < c.H; ++j)
                        dhb[j] += dy[j];
                    const float *ab = a + b * GH, *hp = hPrev + b * c.H;
                    float *dib = din + b * GH, *drb = drec + b * GH;
                    if (c.cell == Cell::Rnn) {
                        const Activation &f = c.act(d, 0);
                        for (int64_t j = 0; j < c.H; ++j) {
                            const float x = clipped(c, ab[j]);
                            dib[j] = drb[j] = dhb[j] * f.derivative(x, f.apply(x)) * inClip(c, ab[j]);
                        }
                    } else if (c.cell == Cell::Gru) {
                        const Activation &f = c.act(d, 0), &g = c.act(d, 1);
                        const float *exb = aux + (s * c.B + b) * c.H;
                        for (int64_t j = 0; j < c.H; ++j) {
                            const float xz = clipped(c, ab[j]), xr = clipped(c, ab[c.H + j]), xh = clipped(c, ab[2 * c.H + j]);
                            const float z = f.apply(xz), r = f.apply(xr), hh = g.apply(xh);
                            const float daz = dhb[j] * (hp[j] - hh) * f.derivative(xz, z) * inClip(c, ab[j]);
                            const float dah = dhb[j] * (1.0f - z) * g.derivative(xh, hh) * inClip(c, ab[2 * c.H + j]);
                            dpb[j] += dhb[j] * z;
                            dib[j] = drb[j] = daz;
                            dib[2 * c.H + j] = dah;
                            float dr;
                            if (c.linearBeforeReset) {
                                dr = dah * exb[j];        // a_h = x_h + r ⊙ (h·Rhᵀ + Rbh)
                                drb[2 * c.H + j] = dah * r; // d (h·Rhᵀ + Rbh)
                            } else {
                                drb[2 * c.H + j] = dah; // a_h = x_h + (r ⊙ h)·Rhᵀ + Rbh
                                dr = 0;                 // from d(r ⊙ h), below
                            }
                            const float dar = dr * f.derivative(xr, r) * inClip(c, ab[c.H + j]);
                            dib[c.H + j] = drb[c.H + j] = dar;
                        }
                        if (!c.linearBeforeReset) {
                            // d(r ⊙ h) = dah · Rh; its share to r (then a_r) and to h.
                            for (int64_t k = 0; k < c.H; ++k) {
                                float acc = 0;
                                for (int64_t j = 0; j < c.H; ++j)
                                    acc += drb[2 * c.H + j] * R[(2 * c.H + j) * c.H + k];
                                dRhIn[static_cast<size_t>(b * c.H + k)] = acc;
                            }
                            for (int64_t j = 0; j < c.H; ++j) {
                                const float xr = clipped(c, ab[c.H + j]), r = f.apply(xr);
                                const float drs = dRhIn[static_cast<size_t>(b * c.H + j)];
                                dpb[j] += drs * r;
                                const float dar = drs * hp[j] * f.derivative(xr, r) * inClip(c, ab[c.H + j]);
                                dib[c.H + j] = drb[c.H + j] = dar;
                            }
                        }
                    } else {
                        const Activation &f = c.act(d, 0), &g = c.act(d, 1), &hAct = c.act(d, 2);
                        const float *cp = aux + s * BH + b * c.H, *cn = aux + (s + 1) * BH + b * c.H;
                        for (int64_t j = 0; j < c.H; ++j) {
                            const float xi = clipped(c, ab[j]), xo = clipped(c, ab[c.H + j]), xf = clipped(c, ab[2 * c.H + j]),
                                        xc = clipped(c, ab[3 * c.H + j]);
                            const float i = f.apply(xi), o = f.apply(xo), fg = f.apply(xf), cand = g.apply(xc);
                            const float hc = hAct.apply(cn[j]);
                            const float dao = dhb[j] * hc * f.derivative(xo, o) * inClip(c, ab[c.H + j]);
                            float dC = dcb[j] + dhb[j] * o * hAct.derivative(cn[j], hc) + (P ? dao * P[c.H + j] : 0.0f);
                            const float dai = dC * cand * f.derivative(xi, i) * inClip(c, ab[j]);
                            const float daf = dC * cp[j] * f.derivative(xf, fg) * inClip(c, ab[2 * c.H + j]);
                            const float dac = dC * i * g.derivative(xc, cand) * inClip(c, ab[3 * c.H + j]);
                            dcb[j] = dC * fg + (P ? dai * P[j] + daf * P[2 * c.H + j] : 0.0f);
                            dib[j] = drb[j] = dai;
                            dib[c.H + j] = drb[c.H + j] = dao;
                            dib[2 * c.H + j] = drb[2 * c.H + j] = daf;
                            dib[3 * c.H + j] = drb[3 * c.H + j] = dac;
                            if (P) {
                                float *dp = dP.data() + d * 3 * c.H;
                                dp[j] += dai * cp[j];
                                dp[c.H + j] += dao * cn[j];
                                dp[2 * c.H + j] += daf * cp[j];
                            }
                        }
                    }
                }
                // dh_prev += dRec·R over the gates that multiply h itself (GRU without
                // linear_before_reset: its h gate multiplies r ⊙ h, handled above).
                const int64_t recCols = c.cell == Cell::Gru && !c.linearBeforeReset ? 2 * c.H : GH;
                blas::gemm(false, false, c.B, c.H, recCols, 1.0f, drec, GH, R, c.H, 1.0f, dhPrev.data(), c.H);
                // Ended samples pass their gradient through (set above) and have zero rows in drec.
                dh.assign(dhPrev.begin(), dhPrev.end()); // an ended sample's dc passed through untouched
            }
            std::memcpy(dH0.data() + d * BH, dh.data(), static_cast<size_t>(BH) * sizeof(float));
            std::memcpy(dC0.data() + d * BH, dc.data(), static_cast<size_t>(BH) * sizeof(float));

            parameterGradients(c, d, lens, ctx, X, dIn, dRec, hs, aux, dX, dW, dR, dB);
        }
        auto give = [&](size_t k, const Tensor &g, bool swap) {
            if (ctx.wantsGrad(k))
                ctx.gradInputs[k]->copyFrom(swap ? swapFirstTwo(g) : g);
        };
        give(0, dX, c.batchFirst);
        give(1, dW, false);
        give(2, dR, false);
        give(3, dB, false);
        give(5, dH0, c.batchFirst);
        if (c.cell == Cell::Lstm) {
            give(6, dC0, c.batchFirst);
            give(7, dP, false);
        }
    }

private:
    // The whole-sequence gradients of one direction, from the gradients of the input projection
    // (dIn) and of the recurrent one (dRec), both by processing step: dX += dIn·W and dW = dInᵀ·X
    // (rows reordered by time), dR = dRecᵀ·h (GRU without linear_before_reset: its h gate's rows
    // against r ⊙ h, `aux`), and the two bias halves as column sums.
    static void parameterGradients(const Config &c, int d, const std::vector<int64_t> &lens, const KernelContext &ctx, const Tensor &X,
                                   const Tensor &dIn, const Tensor &dRec, const float *hs, const float *aux, Tensor &dX, Tensor &dW,
                                   Tensor &dR, Tensor &dB)
    {
        const int64_t GH = c.G * c.H, TB = c.T * c.B;
        // By time: processing step s is time s for every sample when the direction runs forward
        // over full-length sequences; otherwise the rows are reordered (zero where none).
        bool inOrder = !c.reversed(d);
        for (int64_t l : lens)
            inOrder = inOrder && l == c.T;
        Tensor reordered;
        if (!inOrder) {
            reordered = Tensor::zeros({TB, GH});
            for (int64_t s = 0; s < c.T; ++s)
                for (int64_t b = 0; b < c.B; ++b) {
                    const int64_t t = timeOf(c, d, s, lens[static_cast<size_t>(b)]);
                    if (t >= 0)
                        std::memcpy(reordered.data() + (t * c.B + b) * GH, dIn.data() + (s * c.B + b) * GH, static_cast<size_t>(GH) * sizeof(float));
                }
        }
        const float *dInT = inOrder ? dIn.data() : reordered.data();
        const float *W = ctx.in(1).data() + d * GH * c.I;
        blas::gemm(false, false, TB, c.I, GH, 1.0f, dInT, GH, W, c.I, 1.0f, dX.data(), c.I);
        blas::gemm(true, false, GH, c.I, TB, 1.0f, dInT, GH, X.data(), c.I, 0.0f, dW.data() + d * GH * c.I, c.I);
        const int64_t hCols = c.cell == Cell::Gru && !c.linearBeforeReset ? 2 * c.H : GH;
        blas::gemm(true, false, hCols, c.H, TB, 1.0f, dRec.data(), GH, hs, c.H, 0.0f, dR.data() + d * GH * c.H, c.H);
        if (hCols < GH)
            blas::gemm(true, false, c.H, c.H, TB, 1.0f, dRec.data() + 2 * c.H, GH, aux, c.H, 0.0f, dR.data() + d * GH * c.H + 2 * c.H * c.H, c.H);
        // Wb's gradient sums dIn's columns, Rb's dRec's: the same sums when they are one tensor (LSTM).
        float *db = dB.data() + d * 2 * GH;
        const float *din = dIn.data(), *drec = dRec.data();
        const bool shared = din == drec;
        for (int64_t r = 0; r < TB; ++r)
            for (int64_t j = 0; j < GH; ++j)
                db[j] += din[r * GH + j];
        if (shared)
            std::memcpy(db + GH, db, static_cast<size_t>(GH) * sizeof(float));
        else
            for (int64_t r = 0; r < TB; ++r)
                for (int64_t j = 0; j < GH; ++j)
                    db[GH + j] += drec[r * GH + j];
    }

    static float clipped(const Config &c, float x) { return std::clamp(x, -c.clip, c.clip); }
    static float inClip(const Config &c, float x) { return x >= -c.clip && x <= c.clip ? 1.0f : 0.0f; }

    static std::vector<int64_t> sequenceLengths(const KernelContext &ctx, const Config &c)
    {
        std::vector<int64_t> lens(static_cast<size_t>(c.B), c.T);
        if (ctx.hasInput(4)) {
            lens = intValues(ctx.node, ctx.in(4), "sequence_lens");
            for (int64_t l : lens)
                check(l >= 0 && l <= c.T, ctx.node.describe() + ": a sequence length of " + std::to_string(l) + " is outside [0, "
                                              + std::to_string(c.T) + "].");
        }
        return lens;
    }
};

} // namespace

void registerRecurrentOps(KernelTable &t)
{
    t["RNN"] = std::make_unique<Recurrent>();
    t["GRU"] = std::make_unique<Recurrent>();
    t["LSTM"] = std::make_unique<Recurrent>();
}

} // namespace netwright

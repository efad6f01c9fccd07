// SPDX-License-Identifier: Apache-2.0
// A Conv → Relu → MaxPool chain trained as one block on oneDNN's primitives (the executor's one
// fusion, engine/autodiff/executor.cpp). The convolution's output stays in oneDNN's blocked layout
// from the convolution (ReLU as its post-op) through the pooling (2×2 windows over sixteen-channel
// blocks by our own AVX-512 loops, ops/pool_isa.h, which run at memory speed where oneDNN's do
// not), and one reorder writes the pooled result NCHW; backward masks the pooled gradient by the ReLU (a quarter of the cells, for 2×2
// windows) and keeps it blocked from the pooling's gradient to both convolution gradients. Unfused, the same chain writes, reads and reorders the convolution's
// full-size output six more times per step. The results are those of the three kernels run one by
// one (max pooling picks the first maximum of a window, as they do), deterministic for a given
// thread count and precision (blas::precision(): bf16 rounds the convolution's inputs).
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <memory>

namespace netwright {

struct Node;

class ConvReluPoolBlock {
public:
    // The block for three nodes that form the chain (conv's output feeds relu, relu's feeds pool),
    // or nullptr where they are not a chain it runs: a 2-D Conv of one group, a Relu, a MaxPool
    // whose windows do not overlap (kernel_shape = strides, no pads, dilations or ceil_mode) and
    // whose Indices output is unused.
    static std::unique_ptr<ConvReluPoolBlock> match(const Node &conv, const Node &relu, const Node &pool);
    ~ConvReluPoolBlock();

    // Two blocks in a row, where the first's pooled output feeds the second's convolution and
    // nothing else: `prev` is the block this one reads from, `next` the block this one feeds.
    // Linked, the pooled output stays in oneDNN's layout between them, in both directions.
    struct Link {
        const ConvReluPoolBlock *prev = nullptr;
        const ConvReluPoolBlock *next = nullptr;
    };
    // Whether `next`, run on this block's output, can read it in this block's layout (and give
    // its gradient back in it): this block's input x and weights w (with a bias or not), and
    // next's weights and bias, as the two forwards will get them. Makes both blocks' primitives.
    bool canFeed(ConvReluPoolBlock &next, const Shape &x, const Shape &w, bool bias, const Shape &nextW, bool nextBias);

    // y = MaxPool(Relu(Conv(x, w, b))) in training; b may be null. Returns false, having written
    // nothing, where oneDNN has no implementation for the geometry at the CPU level and precision
    // in use (the caller then runs the three kernels). Keeps what backward needs. With link.next
    // (canFeed said yes) y is left unwritten; with link.prev x's contents are not read (its shape
    // is), prev's output is.
    bool forward(const Tensor &x, const Tensor &w, const Tensor *b, Tensor &y, const Link &link);
    // Writes y after a forward that left it unwritten for a next block that then could not run.
    void writeOutput(Tensor &y);
    // After a forward that returned true, with the same x, w, y and link: the gradients of x, w
    // and b from dy, each overwritten where not null. With link.prev the gradient of x is left in
    // this block's layout for prev (dx is not written); with link.next dy and y are not read, the
    // gradient comes from next.
    void backward(const Tensor &x, const Tensor &w, const Tensor &y, const Tensor &dy, Tensor *dx, Tensor *dw, Tensor *db,
                  const Link &link);

    // How many forwards so far pooled with the sixteen-channel loops of ops/pool_isa.h (AVX-512,
    // where oneDNN blocks the convolution's output by sixteen) rather than oneDNN's pooling; for tests.
    static int64_t lanePoolings();

private:
    struct Impl;
    explicit ConvReluPoolBlock(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
// Runs a Graph forward and differentiates it backward (reverse-mode autodiff over the IR).
// Layer: engine/autodiff. The executor aliases the graph's initializers (so optimizer updates
// are seen at once) and keeps every activation and gradient buffer between steps, reusing it
// when shapes repeat — a training step allocates nothing once warm. Not thread-safe: one
// executor per thread; kernels parallelise inside. On a device (Device::cuda), every float32
// value, gradient and parameter lives in device memory; integer values stay on the host.
#pragma once

#include "core/rng.h"
#include "core/tensor.h"
#include "graph/graph.h"

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace netwright {

class ConvReluPoolBlock;
class OpKernel;

class Executor {
public:
    // graph must outlive the executor; it is validated (and topologically sorted) here. On a
    // device, the graph's float32 initializers are moved there (the graph then holds device
    // tensors: read them with Tensor::to(Device::cpu())); the device's backend must be started.
    explicit Executor(Graph &graph, Device device = Device::cpu());
    ~Executor();

    // On the CPU, a training forward runs each Conv → Relu → MaxPool chain whose intermediate
    // values feed nothing else as one fused block (ops/conv_block.h), and backward differentiates
    // it as one; value() of the chain's two intermediate values is then empty, and so is that of
    // a chain's output that the next chain's block read in oneDNN's layout. On by default (off
    // where the environment sets NETWRIGHT_FUSION=0); off runs every chain node by node.
    // Independently of this setter (decided when the executor is built), GELU written out as five nodes (x/√2 → Erf → +1 → ·x → ·0.5, as
    // PyTorch exports it) runs as one Gelu node, in training and evaluation alike, its
    // intermediate values then empty; NETWRIGHT_FUSION=0 also turns that off. Likewise attention's
    // head split and merge: a Transpose (1,0,2) or (1,2,0) of a rank-3 value into a MatMul (with
    // a constant scale of A between, q/√d), and a Transpose (1,0,2) of its result, run inside the
    // product, which reads and writes through strides; the transposed values are then empty.
    // Only where the graph's shape rules, at a probe batch, give both operands rank 3 and one batch.
    void setFusion(bool enabled) { m_fusionEnabled = enabled; }
    // How many chains the last forward ran fused, and how many of those fed the next chain's
    // block directly (its pooled output, a value then left unwritten, kept in oneDNN's layout).
    int fusedLastForward() const;
    int linkedLastForward() const;

    // Feeds graph inputs by name (aliased when already on the executor's device, else copied there)
    // and runs every node. training selects the batch statistics in BatchNormalization and the
    // random mask in Dropout.
    void forward(const std::map<std::string, Tensor> &feeds, bool training);
    // The value of any graph value after forward(); aliases the executor's buffer, which the next
    // forward() overwrites. Left empty: the intermediate values of a fused chain, and the extra
    // outputs nothing reads of a Dropout that ran as the identity (its input aliased).
    const Tensor &value(const std::string &name) const;

    // Gradients of the scalar `loss` (a value computed by the last forward) with respect to every
    // trainable initializer. Overwrites the previous step's gradients.
    void backward(const std::string &loss);
    // d loss / d param for a trainable initializer, after backward().
    const Tensor &gradient(const std::string &param) const;

    // The stream Dropout draws from in training mode (owned by the caller, e.g. the Trainer).
    void setDropoutRng(Rng *rng) { m_dropoutRng = rng; }
    // Data-parallel: the fed batch is rows [offset, …) of the global minibatch (see KernelContext).
    void setRowOffset(int64_t offset) { m_rowOffset = offset; }
    Graph &graph() { return m_graph; }
    Device device() const { return m_device; }

private:
    struct CompiledNode {
        const Node *node;
        const OpKernel *kernel;
        std::vector<int> inputs;  // value ids, -1 for omitted
        std::vector<int> outputs; // value ids, -1 for omitted
        std::vector<DType> outTypes;
        std::vector<Tensor> saved;
        bool needsBackward = false;
    };
    // A fused chain: node indices; the chains it reads from and feeds alone (-1: none), whose
    // blocks it can link to; whether the last forward ran it fused, and linked to `next`.
    struct Fusion {
        size_t conv = 0, relu = 0, pool = 0;
        int prev = -1, next = -1;
        std::unique_ptr<ConvReluPoolBlock> block;
        bool ran = false, feeds = false;
    };
    void findFusions();
    // Per value: the nodes that read it (node indices; m_nodes.size() for a graph output, and a
    // node once per input that reads it) and the node that writes it (-1: none).
    void readersAndWriters(std::vector<std::vector<size_t>> &consumers, std::vector<long> &producer) const;
    // Removes the nodes marked in drop (indices into m_nodes), keeping the order of the rest.
    void dropNodes(const std::vector<char> &drop);
    // Value `id` if it is a non-trainable rank-0 initializer (a constant scalar), else nullptr.
    const Tensor *constantScalar(int id) const;
    // The build-time rewrites (autodiff/executor_rewrites.cpp).
    void fuseGelus();
    void fuseHeadTransposes();
    bool runFused(Fusion &f);
    void backwardFused(Fusion &f);
    // Where node c's backward writes each input's gradient: the value's own buffer, or a scratch
    // tensor added into it afterwards (accumulate[k] = the value id) when it already has one.
    // Inputs marked in `shared` already have theirs (passesGradient) and get none. With `adds`,
    // an input whose kernel accumulatesGradient gets the value's own buffer and adds[k] set.
    void gradTargets(const CompiledNode &c, std::vector<Tensor *> &gradInputs, std::vector<Tensor> &scratch, std::vector<int> &accumulate,
                     const std::vector<char> *shared = nullptr, std::vector<char> *adds = nullptr);
    void commitGrads(const CompiledNode &c, const std::vector<Tensor *> &gradInputs, const std::vector<Tensor> &scratch,
                     const std::vector<int> &accumulate);
    int idOf(const std::string &name) const;
    // Where a value of this type lives: float32 on the executor's device, the rest on the host.
    Device placeOf(DType dtype) const { return dtype == DType::Float32 ? m_device : Device::cpu(); }
    void ensure(Tensor &t, const Shape &shape, DType dtype) const;
    void addInto(Tensor &dst, const Tensor &src) const;

    Graph &m_graph;
    Device m_device;
    std::vector<Tensor> m_feedBuffers; // per graph input, on the device (unused on the CPU)
    std::map<std::string, int> m_ids;
    std::vector<std::string> m_names;
    std::vector<Tensor> m_values;
    std::vector<DType> m_types; // each value's element type, known before the first run
    std::vector<Tensor> m_grads;
    std::vector<char> m_gradReady;
    std::vector<char> m_requiresGrad;
    std::vector<int> m_inputIds;
    std::deque<Node> m_fusedNodes; // the nodes fuseGelus and fuseHeadTransposes made (CompiledNode points at them)
    // Per value: whether a node output may take its single consumer's output gradient as its own
    // (passesGradient): read by exactly one node input, not a graph output, input or initializer.
    std::vector<char> m_canShareGrad;
    std::vector<char> m_unread; // values no node reads and the graph does not output
    std::vector<int> m_sharedGrads; // the values whose gradient the last backward shared
    std::vector<int> m_forwardedValues; // the values the last forward aliased (forwardsInput)
    std::vector<CompiledNode> m_nodes;
    std::vector<Fusion> m_fusions;
    std::vector<int> m_fusionOf; // per node: its index in m_fusions, or -1
    bool m_fusionEnabled = true;
    Tensor m_scratch;
    Rng *m_dropoutRng = nullptr;
    int64_t m_rowOffset = 0;
    bool m_forwardDone = false;
    bool m_lastTraining = false;
};

} // namespace netwright

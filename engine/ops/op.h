// SPDX-License-Identifier: Apache-2.0
// The kernel contract every op implements, and the registry that finds a kernel for a node.
// Layer: engine/ops. Semantics (attribute names, defaults, broadcasting, NCHW) are ONNX's.
// Kernels are registered per device type; the executor owns all buffers and calls them.
#pragma once

#include "core/device.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "graph/graph.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netwright {

struct KernelContext {
    const Node &node;
    // Inputs in node order; nullptr where an optional input is omitted. Kernels read them;
    // only BatchNormalization writes (its running statistics, in training mode).
    std::vector<Tensor *> inputs;
    // Outputs, allocated by the executor with the inferred shapes; nullptr where omitted. For a
    // kernel that allocatesOutputs(), empty slots the kernel assigns.
    std::vector<Tensor *> outputs;
    // Whatever forward keeps for backward (masks, argmax, batch statistics), per node.
    std::vector<Tensor> &saved;
    bool training = false;
    Rng *rng = nullptr; // the dropout stream; advanced only in training mode

    // Backward only: the gradient of each output (nullptr when none flows; output 0, when the node
    // has it and it is float32, always gets one — zeros when only a later output has a gradient) and a buffer per
    // input to OVERWRITE with its gradient (nullptr when that gradient is not needed).
    std::vector<const Tensor *> gradOutputs;
    std::vector<Tensor *> gradInputs;
    // Data-parallel: the global row of this batch's first row (Dropout draws by global position,
    // so a sample gets the same mask whichever rank trains it).
    int64_t rowOffset = 0;
    // Backward only: where accumulate[k] is set (only ever at an input whose kernel says
    // accumulatesGradient(k)), gradInputs[k] already holds the gradient the input's other readers
    // sent, and backward ADDS its own into it instead of overwriting.
    std::vector<char> accumulate{};

    const Tensor &in(size_t i) const { return *inputs[i]; }
    bool hasInput(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
    Tensor &out(size_t i) const { return *outputs[i]; }
    bool wantsGrad(size_t i) const { return i < gradInputs.size() && gradInputs[i] != nullptr; }
    bool accumulates(size_t i) const { return i < accumulate.size() && accumulate[i] != 0; }
};

class OpKernel {
public:
    virtual ~OpKernel() = default;
    // Output shapes for these input shapes (an empty Shape marks an omitted input). `constants`
    // holds input tensors whose values are known (initializers, or every input at run time);
    // Reshape reads its shape operand there. Throws Error starting with node.describe().
    virtual std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &inputs,
                                           const std::vector<const Tensor *> &constants) const = 0;
    // The element type of each output for these input types (Float32 where an input is
    // omitted). The default, for the float ops: every output float32.
    virtual std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &inputs) const;
    // Whether this kernel computes with `type` at input `input`. The default, for the float ops:
    // float32 where a gradient can flow, anything at the other inputs (shapes, labels, indices).
    // The executor checks every node before running it and names the node and the type.
    virtual bool acceptsType(size_t input, DType type) const { return !differentiable(input) || type == DType::Float32; }
    // Shape and Size: the output value from the input shapes alone (no data needed), so that
    // shape computations (Shape → Gather → Concat → Reshape) fold to constants ahead of a run.
    virtual std::optional<Tensor> valueFromShapes(const Node &, const std::vector<Shape> &) const { return std::nullopt; }
    virtual void forward(KernelContext &ctx) const = 0;
    virtual void backward(KernelContext &ctx) const = 0;
    // Whether a gradient can flow to this input (false for shapes, labels, running statistics).
    virtual bool differentiable(size_t /*input*/) const { return true; }
    // True for ops whose single output is input 0 with another shape (Flatten, Reshape,
    // Identity): the executor then aliases the storage instead of calling forward().
    virtual bool outputAliasesInput() const { return false; }
    // Whether this run's output 0 is input 0 unchanged (a Dropout at ratio 0 or outside training),
    // its other outputs unread: the executor then aliases it, as for outputAliasesInput, calls
    // neither forward() nor inferShapes and clears `saved`. inputs[k] is null where omitted.
    virtual bool forwardsInput(const Node &, const std::vector<const Tensor *> & /*inputs*/, bool /*training*/) const
    {
        return false;
    }
    // Whether input `input`'s gradient is output 0's gradient itself, reshaped to the input's
    // shape (the views, an Add operand of the output's shape, a Dropout that ran as the identity):
    // the executor may then hand that gradient on, sharing its storage, instead of having
    // backward() copy it. inShape and outShape are this run's; saved is what forward() kept.
    virtual bool passesGradient(size_t /*input*/, const Shape & /*inShape*/, const Shape & /*outShape*/,
                                const std::vector<Tensor> & /*saved*/) const
    {
        return false;
    }
    // Whether backward() can add input `input`'s gradient into a buffer that already holds other
    // readers' (KernelContext::accumulate): Slice, whose gradient is zero outside its window, then
    // adds the window alone instead of the executor clearing a whole scratch tensor, filling the
    // window and adding the scratch into the sum (an attention in-projection's three slices).
    virtual bool accumulatesGradient(size_t /*input*/) const { return false; }
    // True for ops whose output shapes depend on the data (If, Loop, Scan): the executor calls
    // neither inferShapes nor allocates for them at run time; forward() assigns each output slot
    // (`*ctx.outputs[k] = result`, on the host) and the executor checks its type. inferShapes
    // still serves Graph::inferShapes ahead of a run, as far as the shapes are known then.
    virtual bool allocatesOutputs() const { return false; }
    // True when forward() writes into its inputs (BatchNormalization's running statistics).
    virtual bool writesInputs() const { return false; }
    // A device kernel may cover only some attribute settings of its op (symmetric pads, no
    // optional outputs …): false sends this node to the CPU kernel through host copies.
    virtual bool supports(const Node &) const { return true; }
};

// The kernel for node.opType on a device; throws Error naming the node and the op type when the
// engine cannot run it. On a device, a node without a device kernel that supports it gets the
// CPU kernel behind host copies (inputs down, outputs and gradients up): every op the CPU runs
// runs on every device, the same bits, only slower.
const OpKernel &kernelFor(const std::string &opType, DeviceType device, const Node &node);
// The CPU kernel of the product with folded Transposes that Executor::fuseHeadTransposes makes
// (ops/matmul.cpp): internal, never in the kernel table, so no model file can name it.
const OpKernel &transposedMatMulKernel();
// How many times that kernel has run its nodes one by one (operands it cannot read through
// strides) since the program started: for tests.
int64_t transposedMatMulFallbacks();
// Whether `device` can run the op (natively or through host copies).
bool hasKernel(const std::string &opType, DeviceType device = DeviceType::Cpu);
// Whether `node` runs on a device kernel of its own (no host copies).
bool runsNatively(const Node &node, DeviceType device);
std::vector<std::string> supportedOps(DeviceType device = DeviceType::Cpu);
// The CPU kernel of node.opType behind host copies, for tensors on any device: what a device
// kernel delegates to for the shapes it does not cover.
const OpKernel &hostFallbackFor(const Node &node);
// A device backend's kernel for opType (registered when the backend starts; replaces any earlier
// one). Its inferShapes and outputTypes must agree with the CPU kernel's.
void registerDeviceKernel(DeviceType device, const std::string &opType, std::unique_ptr<OpKernel> kernel);

// Runs the CPU kernel of `node` forward in inference mode on host tensors (every input given,
// nullptr for an omitted one) and returns its outputs: constant folding, and op tests.
std::vector<Tensor> evaluateNode(const Node &node, const std::vector<const Tensor *> &inputs);

// Shared shape helpers for kernels.
namespace shape_rules {
// Error unless the shape has exactly `rank` dims.
void expectRank(const Node &node, const char *what, const Shape &shape, int rank);
// ONNX multidirectional broadcasting; throws Error naming the node when shapes do not fit.
Shape broadcast(const Node &node, const Shape &a, const Shape &b);
int64_t normalizeAxis(const Node &node, int64_t axis, int rank);
} // namespace shape_rules

} // namespace netwright

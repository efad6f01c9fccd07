// SPDX-License-Identifier: Apache-2.0
// Ascend AIR export (../shared/formats/air.md section 7): one binary ge.proto.ModelDef whose
// graph[0] holds a Data op per input (attr index, input/output descriptors), a Const op per
// weight ("<name>_const", value = TensorDef with the raw little-endian bytes), and GE operators
// wired by "<op>:<port>" inputs, each with input/output descriptors in the proto DataType
// numbering; the outputs are listed in GraphDef.output (GE adds NetOutput when it compiles).
// Engine ops map as MindSpore's GE adapters convert the equivalent MindSpore primitives (GE
// operator and attribute names as those adapters write them): Gemm → MatMulV2 + BiasAdd, MatMul →
// MatMulV2 or BatchMatMulV2, Conv → Conv2D (bias on port 2), ConvTranspose → Conv2DTransposeD,
// MaxPool/AveragePool → MaxPool/AvgPool or, with explicit pads, MaxPoolV3/AvgPoolV2,
// BatchNormalization → BatchNorm, LayerNormalization → LayerNorm, Softmax → SoftmaxV2, Div →
// RealDiv, Transpose → TransposeD, Concat → ConcatD, Slice → StridedSlice, Gather → GatherV2,
// Split → SplitD/SplitV, Pad → PadD, Reduce* → Reduce*D, Where → Select/SelectV2, the unary math,
// activations and comparisons to GE's op of the same name (Max → Maximum, And → LogicalAnd, …);
// Gelu as its exact Erf (or tanh) composition. Shape arithmetic on known values is folded into
// Const ops. Pre-flight lists every node that does not map; nothing is produced then.
// Layer: engine/formats.
#pragma once

#include <string>

namespace netwright {
class Graph;
}

namespace netwright::air {

struct AirExportOptions {
    bool dynamicBatch = true; // -1 (unknown) unless the input fixes the batch; false: that batch, else 1
};

std::string exportAir(const Graph &model, const AirExportOptions &options);

} // namespace netwright::air

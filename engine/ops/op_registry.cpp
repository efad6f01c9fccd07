// SPDX-License-Identifier: Apache-2.0
// The kernel table: every CPU kernel is listed here explicitly (static registrars would be
// dropped by the static-library linker).
#include "ops/op.h"

#include "core/error.h"
#include "ops/kernels.h"

#include <map>
#include <memory>

namespace netwright {

namespace {
using Table = std::map<std::string, std::unique_ptr<OpKernel>>;

const Table &cpuTable()
{
    static const Table table = [] {
        Table t;
        registerGemm(t);
        registerMatMul(t);
        registerBinaryOps(t);
        registerConv(t);
        registerMaxPool(t);
        registerAveragePools(t);
        registerBatchNormalization(t);
        registerActivations(t);
        registerSoftmaxOps(t);
        registerShapeOps(t);
        registerTranspose(t);
        registerConcat(t);
        registerClip(t);
        registerDropout(t);
        registerSoftmaxCrossEntropyLoss(t);
        return t;
    }();
    return table;
}
} // namespace

const OpKernel &kernelFor(const std::string &opType, DeviceType device, const Node &node)
{
    check(device == DeviceType::Cpu, node.describe() + ": no kernels for this device in this build.");
    const auto &t = cpuTable();
    auto it = t.find(opType);
    if (it == t.end())
        throw Error(node.describe() + ": the engine has no kernel for op type \"" + opType + "\".");
    return *it->second;
}

bool hasKernel(const std::string &opType, DeviceType device)
{
    return device == DeviceType::Cpu && cpuTable().count(opType) != 0;
}

std::vector<std::string> supportedOps(DeviceType device)
{
    std::vector<std::string> names;
    if (device == DeviceType::Cpu)
        for (const auto &[k, v] : cpuTable())
            names.push_back(k);
    return names;
}

namespace shape_rules {

void expectRank(const Node &node, const char *what, const Shape &shape, int rank)
{
    check(static_cast<int>(shape.size()) == rank, node.describe() + ": " + what + " must have rank " + std::to_string(rank)
                                                    + ", got shape " + shapeToString(shape) + ".");
}

Shape broadcast(const Node &node, const Shape &a, const Shape &b)
{
    const size_t r = std::max(a.size(), b.size());
    Shape out(r);
    for (size_t i = 0; i < r; ++i) {
        const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
        const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
        check(da == db || da == 1 || db == 1, node.describe() + ": shapes " + shapeToString(a) + " and " + shapeToString(b)
                                                  + " cannot be broadcast together.");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

int64_t normalizeAxis(const Node &node, int64_t axis, int rank)
{
    check(rank >= 1 && axis >= -rank && axis < rank,
          node.describe() + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) + ".");
    return axis < 0 ? axis + rank : axis;
}

} // namespace shape_rules

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
#include "formats/model_summary.h"

#include <algorithm>
#include <cctype>

namespace netwright {

namespace {

bool isFloating(const ValueDescription &v)
{
    if (v.value)
        return v.value->dtype() == DType::Float32 || v.value->dtype() == DType::Float64 || v.value->dtype() == DType::Float16
               || v.value->dtype() == DType::BFloat16;
    std::string t = v.dtype;
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return t.find("float") != std::string::npos || t.find("half") != std::string::npos || t.find("double") != std::string::npos;
}

} // namespace

ParameterTotals parameterTotals(const std::vector<ValueDescription> &parameters)
{
    ParameterTotals t;
    for (const auto &p : parameters) {
        int64_t n = p.value ? p.value->numel() : 0;
        if (!p.value && p.shapeKnown && p.text.empty()) {
            n = 1;
            for (int64_t d : p.shape)
                n = d < 0 ? 0 : n * d;
        }
        if (isFloating(p))
            t.values += n;
        if (p.value)
            t.bytes += static_cast<int64_t>(p.value->byteSize());
        t.heldByNodes += !p.heldBy.empty();
    }
    return t;
}

std::map<std::string, int> opHistogram(const ModelDescription &d)
{
    std::map<std::string, int> ops;
    for (const auto &n : d.nodes)
        ++ops[n.opType];
    return ops;
}

} // namespace netwright

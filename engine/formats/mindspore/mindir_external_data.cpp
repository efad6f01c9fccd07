// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_external_data.h"

#include "core/error.h"
#include "mind_ir.pb.h"

#include <filesystem>

namespace netwright::mindspore {

Tensor readMindirExternal(ExternalDataReader &reader, const ::mind_ir::TensorProto &t, DType type, const std::string &what)
{
    const auto &e = t.external_data();
    const auto view = reader.file(e.location(), what);
    check(view->size() >= 64, what + ": its data file \"" + view->path() + "\" is shorter than the 64-byte header MindSpore writes.");
    check(view->bytes()[0] == 1, what + ": its data file \"" + view->path() + "\" was written on a big-endian machine (byte 0 is "
                                     + std::to_string(static_cast<int>(view->bytes()[0])) + "), which Netwright does not read.");
    check(e.offset() >= 0 && e.length() >= 0, what + ": its external data has a negative offset or length.");
    return reader.read(e.location(), static_cast<uint64_t>(e.offset()), static_cast<uint64_t>(e.length()), type,
                       {t.dims().begin(), t.dims().end()}, what);
}

MindirSplit mindirSplit(const std::string &path)
{
    const std::filesystem::path p(path);
    std::string prefix = p.filename().string();
    if (prefix.size() > 7 && prefix.compare(prefix.size() - 7, 7, ".mindir") == 0)
        prefix.resize(prefix.size() - 7);
    MindirSplit s;
    s.graphPath = (p.parent_path() / (prefix + "_graph.mindir")).string();
    s.plan = std::make_shared<ExternalDataPlan>();
    s.plan->location = prefix + "_variables/data_0";
    s.plan->threshold = 0;
    s.plan->header = std::string(64, '\0');
    s.plan->header[0] = 1; // little-endian
    s.plan->reset();
    s.dataPath = (p.parent_path() / s.plan->location).string();
    return s;
}

} // namespace netwright::mindspore

// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/checkpoint_convert.h"

#include "checkpoint/training_state.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_io.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/registry.h"
#include "formats/safetensors/safetensors_file.h"

#include <cstring>
#include <filesystem>

namespace netwright {

namespace {

// The first difference between what was read and what the written bytes hold, or "".
std::string firstDifference(const TrainingState &a, const TrainingState &b)
{
    if (a.size() != b.size())
        return std::to_string(a.size()) + " entries became " + std::to_string(b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        const StateEntry &x = a[i], &y = b[i];
        if (x.name != y.name)
            return "entry " + std::to_string(i) + " \"" + x.name + "\" became \"" + y.name + "\"";
        if (x.isString != y.isString || (x.isString && x.text != y.text))
            return "the string entry \"" + x.name + "\" changed";
        if (x.isString)
            continue;
        if (x.tensor.dtype() != y.tensor.dtype() || x.tensor.shape() != y.tensor.shape())
            return "\"" + x.name + "\" (" + dtypeName(x.tensor.dtype()) + " " + shapeToString(x.tensor.shape()) + ") became "
                   + dtypeName(y.tensor.dtype()) + " " + shapeToString(y.tensor.shape());
        if (x.tensor.byteSize() > 0 && std::memcmp(x.tensor.hostCopy().raw(), y.tensor.raw(), x.tensor.byteSize()) != 0)
            return "the bytes of \"" + x.name + "\" changed";
    }
    return {};
}

} // namespace

std::string checkpointFormatForPath(const std::string &path)
{
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".ckpt")
        return "mindspore";
    if (ext == ".safetensors")
        return "safetensors";
    return {};
}

CheckpointConversion convertCheckpoint(const std::string &in, const std::string &out)
{
    const std::string target = checkpointFormatForPath(out);
    check(!target.empty(), "\"" + out + "\": a checkpoint is converted to a .ckpt or a .safetensors file.");
    std::error_code ec;
    check(!std::filesystem::equivalent(in, out, ec), "\"" + out + "\" is the input file; write the conversion to another file.");
    CheckpointConversion r;
    r.inputFormat = detectFormat(readFilePrefix(in, 1 << 16, "checkpoint"), regularFileSize(in, "checkpoint"), in).name;
    const TrainingState entries = readTrainingStateFile(in);
    std::string bytes;
    TrainingState back;
    if (target == "safetensors") {
        r.outputFormat = "safetensors";
        bytes = safetensors::encodeSafetensorsState(entries);
        back = safetensors::stateFromSafetensors(safetensors::decodeSafetensors(bytes, out), out);
    } else {
        r.outputFormat = "MindSpore checkpoint";
        bytes = mindspore::encodeCkpt(entries);
        back = mindspore::decodeCkpt(bytes, out, true).entries;
    }
    if (const std::string diff = firstDifference(entries, back); !diff.empty())
        throw Error("Converting \"" + in + "\" to \"" + out + "\" would not be lossless: " + diff + "; nothing was written.");
    writeFileAtomically(out, bytes);
    r.bytes = bytes.size();
    r.entries = static_cast<int64_t>(entries.size());
    for (const auto &e : entries)
        ++(e.isString ? r.strings : r.tensors);
    return r;
}

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for one file reader, chosen at compile time (NETWRIGHT_FUZZ_<READER>): the
// bytes go through the reader (and, for graph formats, the importer) exactly as a file's would.
// A clean netwright::Error is the expected answer to bad input; anything else — another
// exception, a crash, a sanitizer report, an allocation over libFuzzer's -rss_limit_mb or
// -malloc_limit_mb — is a finding. Built by the sanitize preset; tests/fuzz/run.sh runs one for longer.
#include "core/error.h"
#include "data/image_file.h"
#include "formats/air/air_import.h"
#include "formats/air/air_reader.h"
#include "formats/cntk/cntk_model.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/graph_meta.h"
#include "formats/mindspore/mindir_import.h"
#include "formats/mindspore/mindir_reader.h"
#include "formats/onnx/onnx_import.h"
#include "formats/onnx/onnx_reader.h"
#include "formats/npy/npy_file.h"
#include "formats/mindspore/ms_encryption.h"
#include "formats/pytorch/pytorch_file.h"
#include "formats/safetensors/safetensors_file.h"
#include "formats/registry.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace netwright;

namespace {

void read(std::string_view bytes)
{
    const std::string source = "fuzz-input";
#if defined(NETWRIGHT_FUZZ_CKPT)
    mindspore::decodeCkpt(bytes, source, true);
#elif defined(NETWRIGHT_FUZZ_ONNX)
    onnx_format::describeOnnx(bytes, source);
    onnx_format::importOnnx(bytes, source);
#elif defined(NETWRIGHT_FUZZ_MINDIR)
    mindspore::describeMindir(bytes, source);
    mindspore::importMindir(bytes, source);
#elif defined(NETWRIGHT_FUZZ_GRAPH_META)
    mindspore::describeGraphMeta(bytes, source);
#elif defined(NETWRIGHT_FUZZ_AIR)
    air::describeAir(bytes, source);
    air::importAir(bytes, source);
#elif defined(NETWRIGHT_FUZZ_CNTK)
    cntk::decodeModel(bytes, source);
    cntk::importModel(bytes, source);
#elif defined(NETWRIGHT_FUZZ_DETECT)
    detectFormat(bytes, bytes.size(), source);
#elif defined(NETWRIGHT_FUZZ_NPY)
    decodeNpy(std::string(bytes), source);
#elif defined(NETWRIGHT_FUZZ_PYTORCH)
    pytorch::decodePytorch(bytes, source);
#elif defined(NETWRIGHT_FUZZ_SAFETENSORS)
    safetensors::stateFromSafetensors(safetensors::decodeSafetensors(bytes, source), source);
#elif defined(NETWRIGHT_FUZZ_ENCRYPTED)
    // the block walker and decryption of encrypted MindSpore files, with the seeds' key
    mindspore::EncryptionKey key;
    key.bytes = "0123456789ABCDEF";
    mindspore::decodeCkpt(mindspore::decryptMindspore(bytes, key, source), source, true);
#elif defined(NETWRIGHT_FUZZ_IMAGE)
    decodeImage(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), source);
#else
#error "define one NETWRIGHT_FUZZ_<READER>"
#endif
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        read(std::string_view(reinterpret_cast<const char *>(data), size));
    } catch (const Error &) {
        // the reader's answer to a damaged file
    }
    return 0;
}

// SPDX-License-Identifier: Apache-2.0
// Writes small, valid seed files for the fuzz targets of the formats ../shared/fixtures has no
// files of (ONNX, AIR) and extra ones for MindIR and CNTK: zoo models on tiny inputs, exported
// with Netwright's own writers; small .npy arrays for the training-data reader; two torch.save
// files for the PyTorch reader (pytorch_seeds.h); a safetensors state and encrypted .ckpt files. Usage:
// fuzz_make_seeds OUT_DIR (writes OUT_DIR/<reader>/…).
#include "core/error.h"
#include "formats/graph_formats.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/ms_encryption.h"
#include "formats/safetensors/safetensors_file.h"
#include "formats/npy/npy_file.h"
#include "pytorch_seeds.h"
#include "zoo/model_zoo.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace netwright;

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_seeds OUT_DIR\n");
        return 2;
    }
    const std::filesystem::path out = argv[1];
    const std::pair<const char *, const char *> readers[] = {{"onnx", "onnx"}, {"mindir", "mindir"}, {"air", "air"}, {"cntk-model", "cntk"}};
    int written = 0;
    try {
        for (const auto &[model, size] : {std::pair{"mlp", 4}, std::pair{"cnn-bn", 8}}) {
            const Graph g = buildZooModel({model, 1, size, size, 3}, InitScheme::KaimingUniform, 1);
            for (const auto &[format, reader] : readers) {
                std::filesystem::create_directories(out / reader);
                const std::string bytes = exportGraph(*graphFormat(format), g, {});
                std::ofstream(out / reader / (std::string(model) + graphFormat(format)->extension), std::ios::binary) << bytes;
                ++written;
            }
        }
        // .npy arrays of a few dtypes and ranks (the training-data reader)
        std::filesystem::create_directories(out / "npy");
        const Tensor arrays[] = {Tensor::fromVector({3, 4}, std::vector<float>(12, 0.5f)), Tensor::fromInt64({5}, {0, 1, 2, 3, 4}),
                                 Tensor::zeros({2, 1, 2, 2})};
        for (size_t i = 0; i < std::size(arrays); ++i) {
            std::ofstream(out / "npy" / ("a" + std::to_string(i) + ".npy"), std::ios::binary) << encodeNpy(arrays[i]);
            ++written;
        }
        // torch.save files, zip and legacy (the PyTorch reader)
        std::filesystem::create_directories(out / "pytorch");
        std::ofstream(out / "pytorch" / "zip.pt", std::ios::binary) << fuzz::kTorchZipSeed;
        std::ofstream(out / "pytorch" / "legacy.pt", std::ios::binary) << fuzz::kTorchLegacySeed;
        written += 2;
        // a small training state as safetensors, and as a .ckpt encrypted with the fuzz target's
        // key in every mode (the encrypted-file reader)
        TrainingState state;
        state.push_back(StateEntry::ofTensor("fc.weight", Tensor::fromVector({2, 3}, {1, 2, 3, 4, 5, 6})));
        state.push_back(StateEntry::ofTensor("global_step", Tensor::fromInt64({1}, {7})));
        std::filesystem::create_directories(out / "safetensors");
        std::ofstream(out / "safetensors" / "state.safetensors", std::ios::binary) << safetensors::encodeSafetensorsState(state);
        std::filesystem::create_directories(out / "encrypted");
        for (const auto mode : {mindspore::EncMode::AesGcm, mindspore::EncMode::AesCbc, mindspore::EncMode::Sm4Cbc}) {
            mindspore::EncryptionKey key;
            key.bytes = "0123456789ABCDEF";
            key.mode = mode;
            std::ofstream(out / "encrypted" / (mindspore::encModeName(mode) + ".ckpt"), std::ios::binary)
                << mindspore::encryptMindspore(mindspore::encodeCkpt(state), key);
            ++written;
        }
        written += 1;
        std::printf("%d seed files in %s\n", written, out.c_str());
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
        return 1;
    }
}

// SPDX-License-Identifier: Apache-2.0
// Samples read from disk when a minibatch needs them, for datasets larger than memory: image files
// decoded on demand, or fixed-size records of a raw file (a .npy array, CIFAR-10 batches, an
// uncompressed IDX file) read with pread. Only the labels stay in memory. Layer: engine/data.
// Every read is safe from several threads at once; errors name the file and the sample.
#pragma once

#include "core/tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace netwright {

class SampleStore {
public:
    virtual ~SampleStore() = default;
    virtual int64_t size() const = 0;
    virtual Shape sampleShape() const = 0;
    virtual DType dtype() const = 0; // UInt8 (pixels) or Float32
    // Sample i's values (sampleShape, C order) into dst.
    virtual void read(int64_t i, void *dst) const = 0;
    // A short description for errors and `data inspect` ("1500 PNG/JPEG files in …").
    virtual std::string describe() const = 0;

    int64_t sampleElements() const;
    size_t sampleBytes() const { return static_cast<size_t>(sampleElements()) * dtypeSize(dtype()); }
};

// The geometry every image is brought to: channels, then resize to height × width (bilinear), then
// a centre crop (crop 0: none). The store's samples are uint8 [channels, crop or height, … width].
struct ImageTarget {
    int64_t channels = 1, height = 0, width = 0, cropHeight = 0, cropWidth = 0;
};
std::shared_ptr<SampleStore> imageFileStore(std::vector<std::string> files, ImageTarget target);

// Records of `recordBytes` from `firstOffset` on in `path`, each holding one sample of `shape` and
// `dtype` (little-endian, C order) at `sampleOffset` within the record. `count` records.
std::shared_ptr<SampleStore> recordFileStore(std::string path, uint64_t firstOffset, uint64_t recordBytes, uint64_t sampleOffset,
                                             int64_t count, Shape shape, DType dtype);

// The samples of an in-memory tensor [N, sample…] (uint8 or float32).
std::shared_ptr<SampleStore> memoryStore(Tensor features);

// uint8 images [C,H,W] of `parent` brought to `target` (channels, resize, centre crop), as an image
// folder's are: what CIFAR batches and IDX files get from data.resize or a model file's input.
std::shared_ptr<SampleStore> transformedImageStore(std::shared_ptr<const SampleStore> parent, ImageTarget target);

// The samples `indices` of `parent`, in that order (a split of a streamed dataset).
std::shared_ptr<SampleStore> subsetStore(std::shared_ptr<const SampleStore> parent, std::vector<int64_t> indices);

// The samples [first, first + count) of every store, one after the other (CIFAR's five batches).
std::shared_ptr<SampleStore> concatStore(std::vector<std::shared_ptr<const SampleStore>> parts);

} // namespace netwright

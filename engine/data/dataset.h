// SPDX-License-Identifier: Apache-2.0
// An in-memory labelled dataset and the readers that fill it: IDX (optionally gzip'd, through
// zlib) and CSV (label first). Layer: engine/data. Every reader error names the file and what
// was wrong (truncated, bad magic, inconsistent counts, a label outside the classes).
#pragma once

#include "core/tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace netwright {

class SampleStore;

struct Dataset {
    std::string name;
    Tensor features; // [N, sample…] as uint8 (raw pixels) or float32; undefined when streamed
    // Streamed: the samples are read from disk when a minibatch needs them (data/sample_store.h).
    std::shared_ptr<const SampleStore> store;
    // Classes: [N] int64. Values (regression targets, multilabel 0/1 labels): [N, T] float32.
    Tensor labels;
    // Classes: the class count. Values: T, the targets per sample.
    int64_t classes = 0;
    std::vector<std::string> classNames;  // one per class where the source names them (folders, strings)
    std::vector<std::string> targetNames; // value targets: one per column where the source names them
    std::vector<std::string> featureNames; // tables: the feature columns' names

    bool hasClassLabels() const { return labels.defined() && labels.dtype() == DType::Int64; }

    int64_t size() const { return labels.defined() ? labels.dim(0) : 0; }
    bool streamed() const { return store != nullptr; }
    Shape sampleShape() const;
    DType featureType() const; // UInt8 or Float32
    // Sample i's values (sampleShape, C order, featureType) into dst; from memory or from disk.
    void readSample(int64_t i, void *dst) const;
};

// Reads one IDX file (magic 0x0000, a type byte, the rank, big-endian int32 dims, then the
// data); gzip'd or plain. Returns uint8, int32, float32 or float64 tensors as stored.
Tensor readIdx(const std::string &path);

// Pairs an IDX images file with an IDX labels file; images [N,H,W] become [N,1,H,W].
Dataset loadIdxDataset(const std::string &imagesPath, const std::string &labelsPath);

// One sample a row: the class label, then the feature values; features become float32 [N, D].
Dataset loadCsvDataset(const std::string &path, bool hasHeader);

// The directory Debian's dataset-fashion-mnist package installs to.
std::string defaultFashionMnistDir();

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
// The image sources behind data/data_source.h — image folders (DIR/<class>/*.png|jpg|jpeg, the
// DIR/train + DIR/test layout), CIFAR-10 binary batches and IDX images brought to the requested
// geometry — and what every reader shares: the path tests and the choice between streaming a
// SampleStore and reading it into memory. Internal to engine/data (data_source.cpp is the one
// user); the public entry points are in data/data_source.h.
#pragma once

#include "data/data_source.h"
#include "data/sample_store.h"

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netwright::data_detail {

std::string extensionOf(const std::string &path); // lower case, with the dot
bool isDirectory(const std::string &path);
bool exists(const std::string &path);
// The first of `names` that exists in `dir` (as dir/name), or "".
std::string firstExisting(const std::string &dir, std::initializer_list<const char *> names);

// data.stream: "on", or "auto" for samples larger than 2 GiB in all.
bool shouldStream(const DataSettings &s, int64_t bytes);
// Every sample of `store` in memory (read on the engine's threads; the first failing sample's
// error is the one thrown).
Tensor readAll(const SampleStore &store);
// The features of `store`: kept on disk when the settings stream them, else read into memory.
void setFeatures(Dataset &ds, std::shared_ptr<SampleStore> store, const DataSettings &s);

// The sorted class folders of an image folder (hidden ones left out).
std::vector<std::string> classFolders(const std::string &dir);
// The images of `classes` under `dir` (a missing class folder holds none), labelled by their
// index in `classes`, brought to the geometry.
Dataset imageDataset(const std::string &dir, const std::vector<std::string> &classes, const ImageGeometry &g, const DataSettings &s);
// DIR/train (+ DIR/test or DIR/val …) when the folder is laid out in splits.
struct FolderSplits {
    std::string train, test;
};
std::optional<FolderSplits> folderSplits(const std::string &dir);

// CIFAR-10: the class names of batches.meta.txt beside the batches (empty when absent), the
// training batches data_batch_1.bin … data_batch_5.bin present in `dir`, and the samples of
// `files` (records of a label byte and 3072 pixel bytes) brought to the geometry.
std::vector<std::string> cifarClassNames(const std::string &dir);
std::vector<std::string> cifarTrainFiles(const std::string &dir);
Dataset cifarDataset(const std::vector<std::string> &files, const std::vector<std::string> &classNames, const DataSettings &s,
                     const ImageGeometry &g);
// An IDX dataset's images brought to the geometry (in memory).
Dataset idxWithGeometry(Dataset ds, const ImageGeometry &g);

} // namespace netwright::data_detail

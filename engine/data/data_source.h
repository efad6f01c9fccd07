// SPDX-License-Identifier: Apache-2.0
// The data users bring, read from a path (data.dataset "path"): an image folder, NumPy .npz/.npy,
// a CSV table with a header row, CIFAR-10 binary batches or a directory of IDX files — detected
// from the path; the test split (its own path, a seeded stratified fraction, or the source's
// own); the targets made fit for the task; the feature normalisation resolved on the training
// split. Layer: engine/data. Every reader error names the file and the line or sample, and a
// refused load writes nothing anywhere.
#pragma once

#include "config/run_config.h"
#include "data/dataset.h"
#include "data/minibatch_source.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netwright {

// What a path holds, as `data inspect` and the window's data section name it.
enum class DataKind { ImageFolder, Npz, Npy, CsvTable, Cifar, IdxDirectory };
std::string dataKindName(DataKind kind);
// Detects the kind of `path` (a folder's layout, a file's extension and first bytes); throws
// Error naming the path and what it expected.
DataKind detectDataKind(const std::string &path);

// Per-channel (images [C,H,W]: k = (element / inner) mod C) or per-feature (the last dimension)
// statistics of a dataset's features after `scale`: population mean and std, min and max. One
// pass over the samples (from disk when streamed), the same sums whatever the thread count.
struct FeatureSummary {
    std::vector<double> mean, std, min, max;
    int64_t inner = 1;
};
FeatureSummary summarizeFeatures(const Dataset &data, float scale);
// Standardisation with those statistics (a constant feature keeps std 1, as scikit-learn does).
FeatureNormalization computeStandardization(const Dataset &data, float scale);

// What the images of a folder, CIFAR or IDX source are turned into before training.
struct ImageGeometry {
    std::vector<int> resize, centerCrop; // [H, W] or empty
    int channels = 0;                    // 0: as stored
};

// The loaded data of a run.
struct LoadedData {
    DataKind kind = DataKind::ImageFolder;
    std::shared_ptr<Dataset> train, test;
    FeatureNormalization normalization;
    std::string splitNote; // how the test split was made ("data/test (600 samples)", "20 % of … (seed 1, stratified)")
};

// Loads dataset "path" for `task` (classification, regression, multilabel): the source, the test
// split, the targets checked against the task, the normalisation resolved. `geometry` overrides
// the config's image geometry where given (the model file's input size). Throws Error.
LoadedData loadDataPath(const DataSettings &settings, const std::string &task, uint64_t seed,
                        const std::optional<ImageGeometry> &geometry = std::nullopt);

// One source read as it is, with no task applied (`data inspect`, `data stats`): its samples and,
// where the source has one (DIR/test, test_batch.bin, x_test in an .npz, t10k files), its own test
// split. Labels are classes where the source says so (folders, text, integer arrays), else values.
struct DataSourceContents {
    DataKind kind = DataKind::ImageFolder;
    Dataset train;
    std::optional<Dataset> test;
};
DataSourceContents readDataSource(const std::string &path, const DataSettings &settings, const ImageGeometry &geometry);

// Splits `data` into (train, test) with `fraction` of the samples in test: seeded; for class
// labels stratified (each class split in the same proportion, at least one sample kept on the
// training side). Throws Error when a side would be empty.
std::pair<Dataset, Dataset> splitDataset(const Dataset &data, double fraction, uint64_t seed);

// The targets of `raw` made fit for `task`: classification → int64 [N] classes (whole numbers
// ≥ 0, or the classes the reader found); regression → float32 [N, T]; multilabel → float32
// [N, T] of 0 and 1. Throws Error naming the source and the first sample that does not fit.
// A training split whose whole-number targets number mostly absent classes (25 … 346, 214 of them
// present) is refused as a classification: it is a numeric target (--task regression). A test
// split may lack classes.
enum class TargetRole { Training, Test };
void applyTask(Dataset &raw, const std::string &task, TargetRole role = TargetRole::Training);

} // namespace netwright

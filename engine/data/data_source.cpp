// SPDX-License-Identifier: Apache-2.0
#include "data/data_source.h"

#include "core/error.h"
#include "core/file_io.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/tensor_stats.h"
#include "data/csv_table.h"
#include "data/image_sources.h"
#include "data/sample_store.h"
#include "formats/npy/npy_file.h"
#include "formats/npy/npz_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

namespace netwright {

namespace fs = std::filesystem;
using namespace data_detail;

namespace {

// ---------------------------------------------------------------------------------------------
// NumPy

// Features as the trainer keeps them: uint8 stays (pixels, scaled later), the rest float32.
Tensor featuresFrom(const Tensor &x, const std::string &what)
{
    check(x.rank() >= 2, "\"" + what + "\": the features must be [N, …] with at least one value per sample, found "
                             + shapeToString(x.shape()) + ".");
    for (int64_t d = 1; d < x.rank(); ++d)
        check(x.dim(d) > 0, "\"" + what + "\": the samples have shape " + shapeToString(Shape(x.shape().begin() + 1, x.shape().end()))
                                + ", which holds no values.");
    if (x.dtype() == DType::UInt8)
        return x;
    if (x.dtype() == DType::Float32) {
        const int64_t n = x.numel(), per = n / std::max<int64_t>(1, x.dim(0));
        for (int64_t i = 0; i < n; ++i)
            if (!std::isfinite(x.data()[i]))
                throw Error("\"" + what + "\": sample " + std::to_string(i / per) + " holds a value that is not a finite number.");
        return x;
    }
    Tensor f(x.shape());
    float *dst = f.data();
    const int64_t n = x.numel(), per = n / std::max<int64_t>(1, x.dim(0));
    for (int64_t i = 0; i < n; ++i) {
        const double v = elementAsDouble(x, i);
        if (!std::isfinite(v))
            throw Error("\"" + what + "\": sample " + std::to_string(i / per) + " holds a value that is not a finite number.");
        dst[i] = static_cast<float>(v);
    }
    return f;
}

bool isIntegerType(DType t)
{
    return t == DType::Int64 || t == DType::Int32 || t == DType::Int16 || t == DType::Int8 || t == DType::UInt8
           || t == DType::UInt16 || t == DType::UInt32 || t == DType::UInt64;
}

// Integer vectors become classes; anything else becomes float32 values [N, T].
void setTargets(Dataset &ds, const Tensor &y, const std::string &what)
{
    check(y.rank() >= 1 && y.rank() <= 2, "\"" + what + "\": the targets must be [N] or [N, T], found " + shapeToString(y.shape()) + ".");
    check(y.rank() == 1 || y.dim(1) > 0, "\"" + what + "\": the targets " + shapeToString(y.shape()) + " hold no values.");
    const int64_t n = y.dim(0);
    if (y.rank() == 1 && isIntegerType(y.dtype())) {
        ds.labels = Tensor({n}, DType::Int64);
        int64_t maxLabel = -1;
        for (int64_t i = 0; i < n; ++i) {
            const double raw = elementAsDouble(y, i);
            if (raw > 1e6)
                throw Error("\"" + what + "\": sample " + std::to_string(i) + " has the class label " + std::to_string(static_cast<uint64_t>(raw))
                            + "; class labels are 0, 1, 2, … (at most a million classes).");
            const auto v = static_cast<int64_t>(raw);
            if (v < 0)
                throw Error("\"" + what + "\": sample " + std::to_string(i) + " has the class label " + std::to_string(v)
                            + "; class labels are 0, 1, 2, ….");
            ds.labels.dataAs<int64_t>()[i] = v;
            maxLabel = std::max(maxLabel, v);
        }
        ds.classes = maxLabel + 1;
        return;
    }
    const Tensor v = y.rank() == 1 ? y.reshaped({n, 1}) : y;
    ds.labels = Tensor(v.shape());
    for (int64_t i = 0; i < v.numel(); ++i)
        ds.labels.data()[i] = static_cast<float>(elementAsDouble(v, i));
    ds.classes = ds.labels.dim(1);
}

// Images stored channels-last, as Keras and PIL give them ([N,H,W,C] with C 1 or 3), become
// [N,C,H,W], the layout of the engine (and of PyTorch).
Tensor channelsFirst(const Tensor &x)
{
    if (x.rank() != 4 || !(x.dim(3) == 1 || x.dim(3) == 3) || x.dim(1) <= 4 || x.dim(2) <= 4 || x.dim(1) == 3)
        return x;
    const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
    Tensor out({n, c, h, w}, x.dtype());
    const size_t e = dtypeSize(x.dtype());
    const auto *src = static_cast<const uint8_t *>(x.raw());
    auto *dst = static_cast<uint8_t *>(out.raw());
    for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < h * w; ++p)
            for (int64_t k = 0; k < c; ++k)
                std::memcpy(dst + static_cast<size_t>(((i * c + k) * h * w) + p) * e, src + static_cast<size_t>((i * h * w + p) * c + k) * e, e);
    return out;
}

Dataset numpyDataset(const Tensor &x, const Tensor &y, const std::string &name, const std::string &xWhat, const std::string &yWhat)
{
    check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0),
          "\"" + name + "\": the features " + xWhat + " hold " + (x.rank() ? std::to_string(x.dim(0)) : std::string("no"))
              + " samples but the targets " + yWhat + " hold " + (y.rank() ? std::to_string(y.dim(0)) : std::string("no")) + ".");
    Dataset ds;
    ds.name = name;
    ds.features = channelsFirst(featuresFrom(x.rank() == 1 ? x.reshaped({x.dim(0), 1}) : x, name + " (" + xWhat + ")"));
    setTargets(ds, y, name + " (" + yWhat + ")");
    check(ds.size() > 0, "\"" + name + "\" holds no samples.");
    return ds;
}

std::string npyTargetsBeside(const std::string &path)
{
    const fs::path p(path);
    std::string stem = p.stem().string();
    for (size_t i = stem.size(); i-- > 0;) {
        if (stem[i] == 'x' || stem[i] == 'X') {
            for (char y : {stem[i] == 'x' ? 'y' : 'Y', stem[i] == 'x' ? 'Y' : 'y'}) {
                std::string s = stem;
                s[i] = y;
                const std::string candidate = (p.parent_path() / (s + ".npy")).string();
                if (exists(candidate))
                    return candidate;
            }
            break;
        }
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// CSV tables

Dataset tableDataset(const CsvTable &t, const std::vector<std::string> &knownClasses, bool classesFixed)
{
    Dataset ds;
    ds.name = t.path;
    const int64_t n = static_cast<int64_t>(t.rows);
    ds.features = Tensor::fromVector({n, static_cast<int64_t>(t.featureNames.size())}, t.features);
    ds.featureNames = t.featureNames;
    const int64_t targets = static_cast<int64_t>(t.targetNames.size());
    if (t.numericTargets && knownClasses.empty()) {
        ds.labels = Tensor::fromVector({n, targets}, t.targetValues);
        ds.classes = targets;
        ds.targetNames = t.targetNames;
        return ds;
    }
    // Class names: the sorted distinct strings (the training file's, for its test file).
    if (targets != 1)
        throw Error("\"" + t.path + "\": the target columns " + t.targetNames[0] + ", " + t.targetNames[1]
                    + " hold text; text labels name one class per sample (one target column).");
    std::vector<std::string> names = knownClasses;
    if (!classesFixed) {
        std::set<std::string> distinct(t.targetCells.begin(), t.targetCells.end());
        names.assign(distinct.begin(), distinct.end());
    }
    std::map<std::string, int64_t> index;
    for (size_t i = 0; i < names.size(); ++i)
        index[names[i]] = static_cast<int64_t>(i);
    ds.labels = Tensor({n}, DType::Int64);
    for (int64_t i = 0; i < n; ++i) {
        const auto it = index.find(t.targetCells[static_cast<size_t>(i)]);
        if (it == index.end())
            throw Error("\"" + t.path + "\" line " + std::to_string(t.lineOfRow[static_cast<size_t>(i)]) + ": the label \""
                        + t.targetCells[static_cast<size_t>(i)] + "\" is not one of the training data's classes.");
        ds.labels.dataAs<int64_t>()[i] = it->second;
    }
    ds.classes = static_cast<int64_t>(names.size());
    ds.classNames = names;
    return ds;
}

// ---------------------------------------------------------------------------------------------

struct SourcePair {
    Dataset train;
    std::optional<Dataset> test; // the source's own test split
};

SourcePair readSource(const std::string &path, DataKind kind, const DataSettings &s, const ImageGeometry &g,
                      const Dataset *trainOf = nullptr)
{
    SourcePair out;
    switch (kind) {
    case DataKind::ImageFolder: {
        if (const auto splits = folderSplits(path)) {
            const auto classes = trainOf ? trainOf->classNames : classFolders(splits->train);
            out.train = imageDataset(splits->train, classes, g, s);
            if (!splits->test.empty()) {
                for (const auto &c : classFolders(splits->test))
                    check(std::find(classes.begin(), classes.end(), c) != classes.end(),
                          "\"" + splits->test + "/" + c + "\" is a class the training split \"" + splits->train + "\" does not have.");
                out.test = imageDataset(splits->test, classes, g, s);
            }
        } else {
            std::vector<std::string> classes = classFolders(path);
            check(!classes.empty(), "\"" + path + "\" holds no class folders (expected " + path + "/<class>/*.png|jpg|jpeg).");
            if (trainOf) {
                for (const auto &c : classes)
                    check(std::find(trainOf->classNames.begin(), trainOf->classNames.end(), c) != trainOf->classNames.end(),
                          "\"" + path + "/" + c + "\" is a class the training data \"" + trainOf->name + "\" does not have.");
                classes = trainOf->classNames;
            }
            out.train = imageDataset(path, classes, g, s);
        }
        break;
    }
    case DataKind::Cifar: {
        if (isDirectory(path)) {
            const auto names = cifarClassNames(path);
            const auto files = cifarTrainFiles(path);
            check(!files.empty() || exists(path + "/test_batch.bin"),
                  "\"" + path + "\" holds no CIFAR-10 batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin).");
            if (!files.empty()) {
                out.train = cifarDataset(files, names, s, g);
                if (exists(path + "/test_batch.bin"))
                    out.test = cifarDataset({path + "/test_batch.bin"}, names, s, g);
            } else {
                out.train = cifarDataset({path + "/test_batch.bin"}, names, s, g);
            }
        } else {
            out.train = cifarDataset({path}, cifarClassNames(fs::path(path).parent_path().string()), s, g);
        }
        break;
    }
    case DataKind::IdxDirectory: {
        auto file = [&](std::initializer_list<const char *> names, const char *role) {
            const std::string f = firstExisting(path, names);
            check(!f.empty(), "\"" + path + "\" has no " + role + " IDX file (" + *names.begin() + "[.gz]).");
            return f;
        };
        out.train = idxWithGeometry(loadIdxDataset(file({"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"}, "training images"),
                                                   file({"train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte"}, "training labels")),
                                    g);
        if (!firstExisting(path, {"t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"}).empty())
            out.test = idxWithGeometry(loadIdxDataset(file({"t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"}, "test images"),
                                                      file({"t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"}, "test labels")),
                                       g);
        break;
    }
    case DataKind::Npz: {
        const auto names = npzArrayNames(path);
        auto has = [&](const char *n) { return std::find(names.begin(), names.end(), n) != names.end(); };
        if (has("x") && has("y")) {
            const Tensor x = readNpzArray(path, "x"); // x first: its problems are named first
            out.train = numpyDataset(x, readNpzArray(path, "y"), path, "x", "y");
        } else if (has("x_train") && has("y_train")) {
            const Tensor x = readNpzArray(path, "x_train");
            out.train = numpyDataset(x, readNpzArray(path, "y_train"), path, "x_train", "y_train");
            if (has("x_test") && has("y_test")) {
                const Tensor xt = readNpzArray(path, "x_test");
                out.test = numpyDataset(xt, readNpzArray(path, "y_test"), path, "x_test", "y_test");
            }
        } else {
            std::string list;
            for (const auto &n : names)
                list += (list.empty() ? "" : ", ") + n;
            throw Error("\"" + path + "\" has no arrays x and y (nor x_train and y_train); it holds " + (list.empty() ? "none" : list) + ".");
        }
        break;
    }
    case DataKind::Npy: {
        std::string targets = path == s.path ? s.targets : std::string();
        if (targets.empty())
            targets = npyTargetsBeside(path);
        check(!targets.empty(), "\"" + path + "\" holds the features only; name the .npy file of the targets with --targets "
                                              "(data.targets), or put y.npy beside x.npy.");
        const NpyLayout layout = readNpyLayout(path);
        int64_t bytes = static_cast<int64_t>(dtypeSize(layout.dtype));
        for (int64_t d : layout.shape)
            bytes *= d;
        const bool streamable = layout.shape.size() >= 2 && !layout.fortranOrder && !layout.swapBytes
                                && (layout.dtype == DType::UInt8 || layout.dtype == DType::Float32);
        if (shouldStream(s, bytes)) {
            check(layout.shape.size() >= 2 && bytes > 0, "\"" + path + "\" holds no samples (shape " + shapeToString(layout.shape) + ").");
            check(streamable, "\"" + path + "\" cannot be streamed from disk: only C-order little-endian uint8 or float32 arrays "
                                            "[N, …] can (save it with x.astype(np.float32) or np.ascontiguousarray), or set "
                                            "data.stream \"off\".");
            const Tensor y = readNpy(targets);
            if (y.rank() < 1 || y.dim(0) != layout.shape[0])
                throw Error("\"" + path + "\": the features hold " + std::to_string(layout.shape[0]) + " samples but the targets \"" + targets
                            + "\" hold " + (y.rank() ? std::to_string(y.dim(0)) : std::string("none")) + ".");
            const Shape sample(layout.shape.begin() + 1, layout.shape.end());
            out.train.name = path;
            setTargets(out.train, y, targets);
            out.train.store = recordFileStore(path, layout.dataOffset, static_cast<uint64_t>(bytes / layout.shape[0]), 0, layout.shape[0],
                                              sample, layout.dtype);
        } else {
            const Tensor x = readNpy(path);
            out.train = numpyDataset(x, readNpy(targets), path, "\"" + path + "\"", "\"" + targets + "\"");
        }
        break;
    }
    case DataKind::CsvTable: {
        const CsvTable t = readCsvTable(path, s.label);
        // A test file's text labels are the training file's classes, in the training file's order.
        const bool fixed = trainOf && !trainOf->classNames.empty();
        out.train = tableDataset(t, fixed ? trainOf->classNames : std::vector<std::string>{}, fixed);
        break;
    }
    }
    return out;
}

ImageGeometry geometryOf(const DataSettings &s)
{
    return {s.resize, s.centerCrop, s.channels};
}

bool imageKind(DataKind kind)
{
    return kind == DataKind::ImageFolder || kind == DataKind::Cifar || kind == DataKind::IdxDirectory;
}

} // namespace

std::string dataKindName(DataKind kind)
{
    switch (kind) {
    case DataKind::ImageFolder: return "image folder";
    case DataKind::Npz: return "NumPy .npz";
    case DataKind::Npy: return "NumPy .npy";
    case DataKind::CsvTable: return "CSV table";
    case DataKind::Cifar: return "CIFAR-10 binary";
    case DataKind::IdxDirectory: return "IDX files";
    }
    return "data";
}

DataKind detectDataKind(const std::string &path)
{
    check(!path.empty(), "No data path given (--data PATH).");
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::exists(st))
        throw Error("The data \"" + path + "\" does not exist.");
    if (fs::is_directory(st)) {
        if (!firstExisting(path, {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"}).empty())
            return DataKind::IdxDirectory;
        if (!cifarTrainFiles(path).empty() || exists(path + "/test_batch.bin"))
            return DataKind::Cifar;
        return DataKind::ImageFolder;
    }
    const std::string head = readFilePrefix(path, 8, "data");
    const std::string ext = extensionOf(path);
    if (head.rfind("\x93NUMPY", 0) == 0)
        return DataKind::Npy;
    if (head.rfind("PK\x03\x04", 0) == 0 || head.rfind("PK\x05\x06", 0) == 0)
        return DataKind::Npz;
    if (ext == ".npy" || ext == ".npz")
        throw Error("Cannot read \"" + path + "\" as NumPy " + ext + ": it does not start with the " + (ext == ".npy" ? "\\x93NUMPY" : "zip")
                    + " signature.");
    if (ext == ".csv" || ext == ".txt")
        return DataKind::CsvTable;
    if (ext == ".bin")
        return DataKind::Cifar;
    throw Error("Cannot tell what \"" + path + "\" holds: expected an image folder, a .npz or .npy file, a .csv table with a header "
                "row, a CIFAR-10 .bin batch or a folder of IDX files.");
}

DataSourceContents readDataSource(const std::string &path, const DataSettings &settings, const ImageGeometry &geometry)
{
    DataSourceContents out;
    out.kind = detectDataKind(path);
    SourcePair p = readSource(path, out.kind, settings, geometry);
    out.train = std::move(p.train);
    out.test = std::move(p.test);
    return out;
}

void applyTask(Dataset &ds, const std::string &task, TargetRole role)
{
    const int64_t n = ds.size();
    if (task == "classification") {
        if (ds.hasClassLabels())
            return;
        check(ds.labels.dim(1) == 1, "\"" + ds.name + "\" has " + std::to_string(ds.labels.dim(1))
                                         + " targets per sample; a classification takes one class per sample (for several 0/1 "
                                           "labels use --task multilabel, for numbers --task regression).");
        Tensor classes({n}, DType::Int64);
        int64_t maxLabel = -1;
        for (int64_t i = 0; i < n; ++i) {
            const float v = ds.labels.data()[i];
            if (!(v >= 0.0f) || v != std::floor(v) || v > 1e6f)
                throw Error("\"" + ds.name + "\": sample " + std::to_string(i) + " has the target " + std::to_string(v)
                            + ", which is not a class number (0, 1, 2, …); for numeric targets use --task regression.");
            classes.dataAs<int64_t>()[i] = static_cast<int64_t>(v);
            maxLabel = std::max(maxLabel, classes.dataAs<int64_t>()[i]);
        }
        // Whole numbers that number mostly absent classes are a regression target (diabetes' 25 … 346).
        std::set<int64_t> distinct(classes.dataAs<int64_t>(), classes.dataAs<int64_t>() + n);
        if (role == TargetRole::Training && maxLabel + 1 > 20 && static_cast<int64_t>(distinct.size()) * 4 < (maxLabel + 1) * 3)
            throw Error("\"" + ds.name + "\": the targets are whole numbers from " + std::to_string(*distinct.begin()) + " to "
                        + std::to_string(maxLabel) + ", but only " + std::to_string(distinct.size()) + " of the " + std::to_string(maxLabel + 1)
                        + " classes they would number occur: this looks like a numeric target. Use --task regression, or number the "
                          "classes 0, 1, 2, ….");
        ds.labels = classes;
        ds.classes = std::max<int64_t>(maxLabel + 1, static_cast<int64_t>(ds.classNames.size()));
        if (!ds.targetNames.empty())
            ds.targetNames.clear();
        return;
    }
    if (ds.hasClassLabels()) {
        check(task == "regression" && ds.classNames.empty(),
              "\"" + ds.name + "\" has one class per sample" + (ds.classNames.empty() ? "" : " (" + ds.classNames.front() + ", …)")
                  + "; a " + task + " task needs " + (task == "regression" ? "numeric targets" : "several 0/1 labels per sample")
                  + " (use --task classification).");
        Tensor v({n, 1});
        for (int64_t i = 0; i < n; ++i)
            v.data()[i] = static_cast<float>(ds.labels.dataAs<int64_t>()[i]);
        ds.labels = v;
        ds.classes = 1;
        return;
    }
    for (int64_t i = 0; i < ds.labels.numel(); ++i) {
        const float v = ds.labels.data()[i];
        const int64_t t = ds.labels.dim(1);
        if (!std::isfinite(v))
            throw Error("\"" + ds.name + "\": sample " + std::to_string(i / t) + " has a target that is not a finite number.");
        if (task == "multilabel" && v != 0.0f && v != 1.0f)
            throw Error("\"" + ds.name + "\": sample " + std::to_string(i / t) + ", label " + std::to_string(i % t) + " is "
                        + std::to_string(v) + "; multilabel targets are 0 or 1.");
    }
    ds.classes = ds.labels.dim(1);
}

std::pair<Dataset, Dataset> splitDataset(const Dataset &data, double fraction, uint64_t seed)
{
    const int64_t n = data.size();
    Rng rng(seed);
    // Groups: one per class (stratified), or all samples. The test split holds round(fraction · n)
    // samples in all, shared out over the groups in proportion (largest remainders first, as
    // scikit-learn's train_test_split does), each group keeping one sample for training.
    std::vector<std::vector<int64_t>> groups;
    if (data.hasClassLabels()) {
        std::map<int64_t, std::vector<int64_t>> byClass;
        for (int64_t i = 0; i < n; ++i)
            byClass[data.labels.dataAs<int64_t>()[i]].push_back(i);
        for (auto &[c, idx] : byClass)
            groups.push_back(std::move(idx));
    } else {
        groups.emplace_back(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            groups[0][static_cast<size_t>(i)] = i;
    }
    const int64_t total = std::llround(fraction * static_cast<double>(n));
    std::vector<int64_t> quota(groups.size());
    std::vector<std::pair<double, size_t>> remainders;
    int64_t given = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
        const double exact = fraction * static_cast<double>(groups[g].size());
        quota[g] = std::min<int64_t>(static_cast<int64_t>(std::floor(exact)), static_cast<int64_t>(groups[g].size()) - 1);
        given += quota[g];
        remainders.emplace_back(-(exact - std::floor(exact)), g); // largest first; ties: the earlier group
    }
    std::sort(remainders.begin(), remainders.end());
    for (size_t r = 0; given < total && r < remainders.size(); ++r) {
        const size_t g = remainders[r].second;
        if (quota[g] < static_cast<int64_t>(groups[g].size()) - 1) {
            ++quota[g];
            ++given;
        }
    }
    std::vector<int64_t> testIdx, trainIdx;
    for (size_t g = 0; g < groups.size(); ++g) {
        auto &idx = groups[g];
        for (size_t i = idx.size(); i > 1; --i)
            std::swap(idx[i - 1], idx[rng.below(i)]);
        const auto k = static_cast<std::ptrdiff_t>(std::max<int64_t>(quota[g], 0));
        testIdx.insert(testIdx.end(), idx.begin(), idx.begin() + k);
        trainIdx.insert(trainIdx.end(), idx.begin() + k, idx.end());
    }
    check(!testIdx.empty(), "A test split of " + std::to_string(fraction) + " of the " + std::to_string(n) + " samples in \""
                                + data.name + "\" is empty; raise data.test_split or give --test-data.");
    std::sort(testIdx.begin(), testIdx.end());
    std::sort(trainIdx.begin(), trainIdx.end());
    auto subset = [&](const std::vector<int64_t> &idx) {
        Dataset d;
        d.name = data.name;
        d.classes = data.classes;
        d.classNames = data.classNames;
        d.targetNames = data.targetNames;
        d.featureNames = data.featureNames;
        const int64_t m = static_cast<int64_t>(idx.size());
        if (data.streamed()) {
            d.store = subsetStore(data.store, idx);
        } else {
            Shape fs = data.features.shape();
            fs[0] = m;
            d.features = Tensor(fs, data.features.dtype());
        }
        const size_t row = data.streamed() ? 0 : data.features.byteSize() / static_cast<size_t>(n);
        Shape ls = data.labels.shape();
        ls[0] = m;
        d.labels = Tensor(ls, data.labels.dtype());
        const size_t lrow = data.labels.byteSize() / static_cast<size_t>(n);
        for (int64_t i = 0; i < m; ++i) {
            const auto src = static_cast<size_t>(idx[static_cast<size_t>(i)]);
            if (!data.streamed())
                std::memcpy(static_cast<uint8_t *>(d.features.raw()) + static_cast<size_t>(i) * row,
                            static_cast<const uint8_t *>(data.features.raw()) + src * row, row);
            std::memcpy(static_cast<uint8_t *>(d.labels.raw()) + static_cast<size_t>(i) * lrow,
                        static_cast<const uint8_t *>(data.labels.raw()) + src * lrow, lrow);
        }
        return d;
    };
    return {subset(trainIdx), subset(testIdx)};
}

FeatureSummary summarizeFeatures(const Dataset &data, float scale)
{
    FeatureSummary out;
    const Shape sample = data.sampleShape();
    int64_t per = 1;
    for (int64_t d : sample)
        per *= d;
    int64_t k = sample.empty() ? 1 : sample.back();
    out.inner = 1;
    if (sample.size() == 3) { // images [C,H,W]: per channel
        k = sample[0];
        out.inner = sample[1] * sample[2];
    }
    // Blocks of samples summed on the engine's threads, then added in block order: the same sums
    // whatever the thread count (a resumed run recomputes them bit for bit).
    constexpr int64_t kBlock = 256;
    const int64_t n = data.size(), blocks = (n + kBlock - 1) / kBlock;
    struct Sums {
        std::vector<double> sum, sq, lo, hi;
        std::string error;
    };
    std::vector<Sums> partial(static_cast<size_t>(blocks));
    const bool bytes = data.featureType() == DType::UInt8;
    const size_t sampleBytes = static_cast<size_t>(per) * dtypeSize(data.featureType());
    parallelFor(blocks, [&](int64_t lo, int64_t hi, int) {
        std::vector<uint8_t> buffer(sampleBytes);
        for (int64_t b = lo; b < hi; ++b) {
            Sums &p = partial[static_cast<size_t>(b)];
            p.sum.assign(static_cast<size_t>(k), 0.0);
            p.sq.assign(static_cast<size_t>(k), 0.0);
            p.lo.assign(static_cast<size_t>(k), INFINITY);
            p.hi.assign(static_cast<size_t>(k), -INFINITY);
            try {
                for (int64_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
                    data.readSample(i, buffer.data());
                    for (int64_t e = 0; e < per; ++e) {
                        const double v = (bytes ? buffer[static_cast<size_t>(e)] : reinterpret_cast<const float *>(buffer.data())[e])
                                         * static_cast<double>(scale);
                        const auto c = static_cast<size_t>((e / out.inner) % k);
                        p.sum[c] += v;
                        p.sq[c] += v * v;
                        p.lo[c] = std::min(p.lo[c], v);
                        p.hi[c] = std::max(p.hi[c], v);
                    }
                }
            } catch (const std::exception &e) {
                p.error = e.what();
            }
        }
    });
    std::vector<double> sum(static_cast<size_t>(k), 0.0), sq(static_cast<size_t>(k), 0.0);
    out.min.assign(static_cast<size_t>(k), INFINITY);
    out.max.assign(static_cast<size_t>(k), -INFINITY);
    for (const Sums &p : partial) {
        if (!p.error.empty())
            throw Error(p.error);
        for (size_t c = 0; c < sum.size(); ++c) {
            sum[c] += p.sum[c];
            sq[c] += p.sq[c];
            out.min[c] = std::min(out.min[c], p.lo[c]);
            out.max[c] = std::max(out.max[c], p.hi[c]);
        }
    }
    const double count = static_cast<double>(n) * static_cast<double>(per / k);
    for (size_t c = 0; c < sum.size(); ++c) {
        const double m = count > 0 ? sum[c] / count : 0.0;
        out.mean.push_back(m);
        out.std.push_back(count > 0 ? std::sqrt(std::max(0.0, sq[c] / count - m * m)) : 0.0);
    }
    return out;
}

FeatureNormalization computeStandardization(const Dataset &data, float scale)
{
    const FeatureSummary s = summarizeFeatures(data, scale);
    FeatureNormalization norm;
    norm.scale = scale;
    norm.inner = s.inner;
    for (size_t c = 0; c < s.mean.size(); ++c) {
        norm.mean.push_back(static_cast<float>(s.mean[c]));
        norm.std.push_back(s.std[c] > 1e-12 ? static_cast<float>(s.std[c]) : 1.0f); // a constant feature stays as it is (as scikit-learn)
    }
    return norm;
}

LoadedData loadDataPath(const DataSettings &s, const std::string &task, uint64_t seed, const std::optional<ImageGeometry> &geometry)
{
    LoadedData out;
    out.kind = detectDataKind(s.path);
    const ImageGeometry g = geometry.value_or(geometryOf(s));
    SourcePair source = readSource(s.path, out.kind, s, g);
    Dataset train = std::move(source.train);
    Dataset test;
    if (!s.testPath.empty()) {
        const DataKind testKind = detectDataKind(s.testPath);
        check(testKind == out.kind || (imageKind(testKind) && imageKind(out.kind)),
              "The test data \"" + s.testPath + "\" is a " + dataKindName(testKind) + ", the training data \"" + s.path + "\" a "
                  + dataKindName(out.kind) + ".");
        SourcePair t = readSource(s.testPath, testKind, s, g, &train);
        // A test source with a split of its own (DIR/test, test_batch.bin, x_test …) gives that split.
        test = t.test ? std::move(*t.test) : std::move(t.train);
        out.splitNote = "test data \"" + test.name + "\"";
    } else if (s.testSplit > 0.0f) {
        applyTask(train, task); // stratify by the classes the task sees
        auto [a, b] = splitDataset(train, s.testSplit, deriveSeed(seed, 4));
        train = std::move(a);
        test = std::move(b);
        char pct[32];
        std::snprintf(pct, sizeof pct, "%g %%", static_cast<double>(s.testSplit) * 100.0);
        out.splitNote = std::string(pct) + " of \"" + s.path + "\" (seed " + std::to_string(seed) + (train.hasClassLabels() ? ", stratified" : "")
                        + ")";
    } else if (source.test) {
        test = std::move(*source.test);
        out.splitNote = "the source's own test split \"" + test.name + "\"";
    } else {
        throw Error("\"" + s.path + "\" has no test split of its own: give one with --test-data PATH (data.test_path) or "
                    "--test-split F (data.test_split, e.g. 0.2).");
    }
    applyTask(train, task);
    applyTask(test, task, TargetRole::Test);
    check(train.sampleShape() == test.sampleShape(), "The training samples (" + shapeToString(train.sampleShape()) + " in \"" + train.name
                                                         + "\") and the test samples (" + shapeToString(test.sampleShape()) + " in \""
                                                         + test.name + "\") differ in shape.");
    check(train.labels.rank() == test.labels.rank() && (train.labels.rank() == 1 || train.labels.dim(1) == test.labels.dim(1)),
          "\"" + train.name + "\" and \"" + test.name + "\" have different numbers of targets per sample.");
    const int64_t classes = std::max(train.classes, test.classes);
    train.classes = test.classes = classes;
    check(task != "classification" || classes >= 2, "\"" + train.name + "\" holds one class only" +
                                                        (train.classNames.empty() ? std::string() : " (\"" + train.classNames[0] + "\")")
                                                        + ": a classification needs at least two.");
    if (test.classNames.empty())
        test.classNames = train.classNames;

    // Normalisation: uint8 values are pixels (scaled to [0, 1]); then as data.normalize says.
    const float scale = train.featureType() == DType::UInt8 ? 1.0f / 255.0f : 1.0f;
    std::string mode = s.normalize;
    if (mode == "auto")
        mode = imageKind(out.kind) || out.kind == DataKind::CsvTable || train.featureType() == DType::UInt8 ? "standardize" : "none";
    if (mode == "standardize") {
        out.normalization = computeStandardization(train, scale);
    } else if (mode == "given") {
        FeatureNormalization n;
        n.scale = scale;
        const Shape sample = train.sampleShape();
        const int64_t k = sample.size() == 3 ? sample[0] : sample.back();
        n.inner = sample.size() == 3 ? sample[1] * sample[2] : 1;
        n.mean.assign(static_cast<size_t>(k), 0.0f);
        check(s.featureMean.size() == n.mean.size(),
              "data.feature_mean has " + std::to_string(s.featureMean.size()) + " values, but \"" + train.name + "\" has "
                  + std::to_string(n.mean.size()) + (train.sampleShape().size() == 3 ? " channels." : " features."));
        n.mean = s.featureMean;
        n.std = s.featureStd;
        out.normalization = n;
    } else {
        out.normalization.scale = scale;
    }
    out.train = std::make_shared<Dataset>(std::move(train));
    out.test = std::make_shared<Dataset>(std::move(test));
    return out;
}

} // namespace netwright

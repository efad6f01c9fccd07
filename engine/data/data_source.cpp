// SPDX-License-Identifier: Apache-2.0
#include "data/data_source.h"

#include "core/error.h"
#include "core/file_io.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/tensor_stats.h"
#include "data/csv_table.h"
#include "data/image_file.h"
#include "data/image_transform.h"
#include "formats/npy/npy_file.h"
#include "formats/npy/npz_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace netwright {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string extensionOf(const std::string &path)
{
    return lower(fs::path(path).extension().string());
}

bool isDirectory(const std::string &path)
{
    std::error_code ec;
    return fs::is_directory(path, ec);
}

bool exists(const std::string &path)
{
    std::error_code ec;
    return fs::exists(path, ec);
}

bool isImageName(const std::string &name)
{
    const std::string ext = extensionOf(name);
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool hidden(const fs::path &p)
{
    const std::string n = p.filename().string();
    return n.empty() || n[0] == '.';
}

std::string firstExisting(const std::string &dir, std::initializer_list<const char *> names)
{
    for (const char *n : names)
        if (exists(dir + "/" + n))
            return dir + "/" + n;
    return {};
}

// ---------------------------------------------------------------------------------------------
// Image folders

struct ImageList {
    std::vector<std::string> files;
    std::vector<int64_t> labels;
};

std::vector<std::string> classFolders(const std::string &dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (!hidden(it->path()) && it->is_directory(ec))
            out.push_back(it->path().filename().string());
    if (ec)
        throw Error("Cannot list \"" + dir + "\": " + ec.message() + ".");
    std::sort(out.begin(), out.end());
    return out;
}

ImageList listImages(const std::string &dir, const std::vector<std::string> &classes)
{
    ImageList list;
    for (size_t c = 0; c < classes.size(); ++c) {
        const std::string folder = dir + "/" + classes[c];
        if (!isDirectory(folder))
            continue; // a test split may lack a class
        std::vector<std::string> files;
        std::error_code ec;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
            if (!hidden(it->path()) && isImageName(it->path().filename().string()) && !it->is_directory(ec))
                files.push_back(it->path().string());
        if (ec)
            throw Error("Cannot list \"" + folder + "\": " + ec.message() + ".");
        std::sort(files.begin(), files.end());
        for (auto &f : files) {
            list.files.push_back(std::move(f));
            list.labels.push_back(static_cast<int64_t>(c));
        }
    }
    return list;
}

std::string sizeText(int64_t h, int64_t w)
{
    return std::to_string(w) + "×" + std::to_string(h);
}

// Decodes every file (on the engine's threads) into uint8 [N, C, H, W] with the geometry
// applied. Without a resize, every image must already have the size of the first.
Tensor decodeImages(const std::vector<std::string> &files, const ImageGeometry &g, const std::string &what)
{
    check(!files.empty(), "\"" + what + "\" holds no images (expected <class>/*.png, *.jpg or *.jpeg).");
    // The header of every file first: sizes and channels without decoding.
    std::vector<ImageInfo> infos(files.size());
    std::vector<std::string> errors(files.size());
    parallelFor(static_cast<int64_t>(files.size()), [&](int64_t lo, int64_t hi, int) {
        for (int64_t i = lo; i < hi; ++i) {
            try {
                infos[static_cast<size_t>(i)] = peekImageInfo(files[static_cast<size_t>(i)]);
            } catch (const std::exception &e) {
                errors[static_cast<size_t>(i)] = e.what();
            }
        }
    });
    for (const auto &e : errors)
        if (!e.empty())
            throw Error(e);
    int64_t channels = g.channels;
    if (channels == 0)
        for (const auto &info : infos)
            channels = std::max(channels, info.channels == 1 ? int64_t(1) : int64_t(3));
    int64_t h = infos[0].height, w = infos[0].width;
    if (g.resize.size() == 2) {
        h = g.resize[0];
        w = g.resize[1];
    } else {
        for (size_t i = 1; i < infos.size(); ++i)
            if (infos[i].height != h || infos[i].width != w)
                throw Error("\"" + what + "\" holds images of different sizes (\"" + files[0] + "\" is " + sizeText(h, w) + ", \""
                            + files[i] + "\" is " + sizeText(infos[i].height, infos[i].width)
                            + "): set data.resize (--resize HxW) to bring them to one size.");
    }
    const int64_t outH = g.centerCrop.size() == 2 ? g.centerCrop[0] : h;
    const int64_t outW = g.centerCrop.size() == 2 ? g.centerCrop[1] : w;
    const int64_t n = static_cast<int64_t>(files.size());
    const int64_t sample = channels * outH * outW;
    Tensor out({n, channels, outH, outW}, DType::UInt8);
    uint8_t *dst = out.dataAs<uint8_t>();
    parallelFor(n, [&](int64_t lo, int64_t hi, int) {
        for (int64_t i = lo; i < hi; ++i) {
            const auto k = static_cast<size_t>(i);
            try {
                Image img = decodeImageFile(files[k]);
                if (img.width != infos[k].width || img.height != infos[k].height)
                    throw Error("\"" + files[k] + "\": the decoded image is " + sizeText(img.height, img.width) + ", its header says "
                                + sizeText(infos[k].height, infos[k].width) + ".");
                if (img.channels != channels)
                    img = toChannels(img, channels);
                if (img.height != h || img.width != w)
                    img = resizeBilinear(img, h, w);
                if (img.height != outH || img.width != outW)
                    img = centerCrop(img, outH, outW);
                copyToChw(img, dst + i * sample);
            } catch (const std::exception &e) {
                errors[k] = e.what();
            }
        }
    });
    for (const auto &e : errors)
        if (!e.empty())
            throw Error(e);
    return out;
}

Dataset imageDataset(const std::string &dir, const std::vector<std::string> &classes, const ImageGeometry &g)
{
    const ImageList list = listImages(dir, classes);
    Dataset ds;
    ds.name = dir;
    ds.features = decodeImages(list.files, g, dir);
    ds.labels = Tensor::fromInt64({static_cast<int64_t>(list.labels.size())}, list.labels);
    ds.classes = static_cast<int64_t>(classes.size());
    ds.classNames = classes;
    return ds;
}

// DIR/train (+ DIR/test or DIR/val) when the folder is laid out in splits.
struct FolderSplits {
    std::string train, test;
};
std::optional<FolderSplits> folderSplits(const std::string &dir)
{
    if (!isDirectory(dir + "/train"))
        return std::nullopt;
    FolderSplits s{dir + "/train", {}};
    for (const char *name : {"test", "val", "valid", "validation"})
        if (isDirectory(dir + "/" + name)) {
            s.test = dir + "/" + name;
            break;
        }
    // "train" is a split only when its children are class folders (not when "train" is a class).
    for (const auto &c : classFolders(s.train))
        if (!listImages(s.train, {c}).files.empty())
            return s;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// CIFAR-10 binary batches: records of a label byte and 3 × 32 × 32 pixel bytes (R, G, B planes).

constexpr int64_t kCifarRecord = 1 + 3 * 32 * 32;

std::vector<std::string> cifarClassNames(const std::string &dir)
{
    const std::string meta = dir + "/batches.meta.txt";
    if (!exists(meta))
        return {};
    std::vector<std::string> names;
    const std::string text = readRegularFile(meta, "CIFAR class names", 1 << 20);
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos)
            nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (!line.empty())
            names.push_back(line);
        pos = nl + 1;
    }
    return names;
}

Dataset cifarDataset(const std::vector<std::string> &files, const std::vector<std::string> &classNames)
{
    int64_t records = 0;
    for (const auto &f : files) {
        const uint64_t size = regularFileSize(f, "CIFAR batch");
        if (size == 0 || size % kCifarRecord != 0)
            throw Error("Cannot read \"" + f + "\" as a CIFAR-10 binary batch: its " + std::to_string(size)
                        + " bytes are not a whole number of 3073-byte records (a label byte and 3072 pixel bytes).");
        records += static_cast<int64_t>(size / kCifarRecord);
    }
    const int64_t classes = classNames.empty() ? 10 : static_cast<int64_t>(classNames.size());
    Dataset ds;
    ds.name = files.size() == 1 ? files[0] : fs::path(files[0]).parent_path().string();
    ds.features = Tensor({records, 3, 32, 32}, DType::UInt8);
    ds.labels = Tensor({records}, DType::Int64);
    ds.classes = classes;
    ds.classNames = classNames;
    int64_t at = 0;
    for (const auto &f : files) {
        const std::string bytes = readRegularFile(f, "CIFAR batch");
        const int64_t n = static_cast<int64_t>(bytes.size()) / kCifarRecord;
        for (int64_t i = 0; i < n; ++i, ++at) {
            const auto *rec = reinterpret_cast<const uint8_t *>(bytes.data()) + i * kCifarRecord;
            if (rec[0] >= classes)
                throw Error("\"" + f + "\" record " + std::to_string(i) + " (byte " + std::to_string(i * kCifarRecord)
                            + "): label " + std::to_string(rec[0]) + " is outside the " + std::to_string(classes) + " classes.");
            ds.labels.dataAs<int64_t>()[at] = rec[0];
            std::memcpy(ds.features.dataAs<uint8_t>() + at * (kCifarRecord - 1), rec + 1, kCifarRecord - 1);
        }
    }
    return ds;
}

std::vector<std::string> cifarTrainFiles(const std::string &dir)
{
    std::vector<std::string> files;
    for (int i = 1; i <= 5; ++i)
        if (exists(dir + "/data_batch_" + std::to_string(i) + ".bin"))
            files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
    return files;
}

// ---------------------------------------------------------------------------------------------
// NumPy

// Features as the trainer keeps them: uint8 stays (pixels, scaled later), the rest float32.
Tensor featuresFrom(const Tensor &x, const std::string &what)
{
    check(x.rank() >= 2, "\"" + what + "\": the features must be [N, …] with at least one value per sample, found "
                             + shapeToString(x.shape()) + ".");
    if (x.dtype() == DType::UInt8 || x.dtype() == DType::Float32)
        return x;
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
    const int64_t n = y.dim(0);
    if (y.rank() == 1 && isIntegerType(y.dtype())) {
        ds.labels = Tensor({n}, DType::Int64);
        int64_t maxLabel = -1;
        for (int64_t i = 0; i < n; ++i) {
            const auto v = static_cast<int64_t>(elementAsDouble(y, i));
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

Dataset numpyDataset(const Tensor &x, const Tensor &y, const std::string &name, const std::string &xWhat, const std::string &yWhat)
{
    check(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0),
          "\"" + name + "\": the features " + xWhat + " hold " + (x.rank() ? std::to_string(x.dim(0)) : std::string("no"))
              + " samples but the targets " + yWhat + " hold " + (y.rank() ? std::to_string(y.dim(0)) : std::string("no")) + ".");
    Dataset ds;
    ds.name = name;
    ds.features = featuresFrom(x.rank() == 1 ? x.reshaped({x.dim(0), 1}) : x, name + " (" + xWhat + ")");
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
            out.train = imageDataset(splits->train, classes, g);
            if (!splits->test.empty()) {
                for (const auto &c : classFolders(splits->test))
                    check(std::find(classes.begin(), classes.end(), c) != classes.end(),
                          "\"" + splits->test + "/" + c + "\" is a class the training split \"" + splits->train + "\" does not have.");
                out.test = imageDataset(splits->test, classes, g);
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
            out.train = imageDataset(path, classes, g);
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
                out.train = cifarDataset(files, names);
                if (exists(path + "/test_batch.bin"))
                    out.test = cifarDataset({path + "/test_batch.bin"}, names);
            } else {
                out.train = cifarDataset({path + "/test_batch.bin"}, names);
            }
        } else {
            out.train = cifarDataset({path}, cifarClassNames(fs::path(path).parent_path().string()));
        }
        break;
    }
    case DataKind::IdxDirectory: {
        auto file = [&](std::initializer_list<const char *> names, const char *role) {
            const std::string f = firstExisting(path, names);
            check(!f.empty(), "\"" + path + "\" has no " + role + " IDX file (" + *names.begin() + "[.gz]).");
            return f;
        };
        out.train = loadIdxDataset(file({"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"}, "training images"),
                                   file({"train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte"}, "training labels"));
        if (!firstExisting(path, {"t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"}).empty())
            out.test = loadIdxDataset(file({"t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"}, "test images"),
                                      file({"t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"}, "test labels"));
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
        const Tensor x = readNpy(path);
        out.train = numpyDataset(x, readNpy(targets), path, "\"" + path + "\"", "\"" + targets + "\"");
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
    if (ext == ".csv" || ext == ".txt" || ext == ".tsv")
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

void applyTask(Dataset &ds, const std::string &task)
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
    std::vector<int64_t> testIdx, trainIdx;
    auto take = [&](std::vector<int64_t> idx) {
        for (size_t i = idx.size(); i > 1; --i)
            std::swap(idx[i - 1], idx[rng.below(i)]);
        int64_t k = static_cast<int64_t>(std::llround(fraction * static_cast<double>(idx.size())));
        k = std::min<int64_t>(k, static_cast<int64_t>(idx.size()) - 1); // keep one for training
        testIdx.insert(testIdx.end(), idx.begin(), idx.begin() + std::max<int64_t>(k, 0));
        trainIdx.insert(trainIdx.end(), idx.begin() + std::max<int64_t>(k, 0), idx.end());
    };
    if (data.hasClassLabels()) {
        std::map<int64_t, std::vector<int64_t>> byClass;
        for (int64_t i = 0; i < n; ++i)
            byClass[data.labels.dataAs<int64_t>()[i]].push_back(i);
        for (auto &[c, idx] : byClass)
            take(std::move(idx));
    } else {
        std::vector<int64_t> all(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            all[static_cast<size_t>(i)] = i;
        take(std::move(all));
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
        Shape fs = data.features.shape();
        fs[0] = m;
        d.features = Tensor(fs, data.features.dtype());
        const size_t row = data.features.byteSize() / static_cast<size_t>(n);
        Shape ls = data.labels.shape();
        ls[0] = m;
        d.labels = Tensor(ls, data.labels.dtype());
        const size_t lrow = data.labels.byteSize() / static_cast<size_t>(n);
        for (int64_t i = 0; i < m; ++i) {
            const auto src = static_cast<size_t>(idx[static_cast<size_t>(i)]);
            std::memcpy(static_cast<uint8_t *>(d.features.raw()) + static_cast<size_t>(i) * row,
                        static_cast<const uint8_t *>(data.features.raw()) + src * row, row);
            std::memcpy(static_cast<uint8_t *>(d.labels.raw()) + static_cast<size_t>(i) * lrow,
                        static_cast<const uint8_t *>(data.labels.raw()) + src * lrow, lrow);
        }
        return d;
    };
    return {subset(trainIdx), subset(testIdx)};
}

FeatureNormalization computeStandardization(const Dataset &data, float scale)
{
    FeatureNormalization norm;
    norm.scale = scale;
    const Shape sample = data.sampleShape();
    const int64_t per = data.features.numel() / std::max<int64_t>(1, data.size());
    int64_t k = sample.empty() ? 1 : sample.back();
    norm.inner = 1;
    if (sample.size() == 3) { // images [C,H,W]: per channel
        k = sample[0];
        norm.inner = sample[1] * sample[2];
    }
    std::vector<double> sum(static_cast<size_t>(k), 0.0), sq(static_cast<size_t>(k), 0.0);
    std::vector<int64_t> count(static_cast<size_t>(k), 0);
    const int64_t total = data.features.numel();
    const bool bytes = data.features.dtype() == DType::UInt8;
    for (int64_t i = 0; i < total; ++i) {
        const double v = (bytes ? data.features.dataAs<uint8_t>()[i] : data.features.data()[i]) * static_cast<double>(scale);
        const auto c = static_cast<size_t>(((i % per) / norm.inner) % k);
        sum[c] += v;
        sq[c] += v * v;
        ++count[c];
    }
    for (size_t c = 0; c < sum.size(); ++c) {
        const double m = count[c] ? sum[c] / static_cast<double>(count[c]) : 0.0;
        const double var = count[c] ? std::max(0.0, sq[c] / static_cast<double>(count[c]) - m * m) : 0.0;
        const double sd = std::sqrt(var);
        norm.mean.push_back(static_cast<float>(m));
        norm.std.push_back(sd > 1e-12 ? static_cast<float>(sd) : 1.0f); // a constant feature stays as it is (as scikit-learn)
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
        test = std::move(t.train);
        out.splitNote = "test data \"" + s.testPath + "\"";
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
    applyTask(test, task);
    check(train.sampleShape() == test.sampleShape(), "The training samples (" + shapeToString(train.sampleShape()) + " in \"" + train.name
                                                         + "\") and the test samples (" + shapeToString(test.sampleShape()) + " in \""
                                                         + test.name + "\") differ in shape.");
    check(train.labels.rank() == test.labels.rank() && (train.labels.rank() == 1 || train.labels.dim(1) == test.labels.dim(1)),
          "\"" + train.name + "\" and \"" + test.name + "\" have different numbers of targets per sample.");
    const int64_t classes = std::max(train.classes, test.classes);
    train.classes = test.classes = classes;
    if (test.classNames.empty())
        test.classNames = train.classNames;

    // Normalisation: uint8 values are pixels (scaled to [0, 1]); then as data.normalize says.
    const float scale = train.features.dtype() == DType::UInt8 ? 1.0f / 255.0f : 1.0f;
    std::string mode = s.normalize;
    if (mode == "auto")
        mode = imageKind(out.kind) || out.kind == DataKind::CsvTable || train.features.dtype() == DType::UInt8 ? "standardize" : "none";
    if (mode == "standardize") {
        out.normalization = computeStandardization(train, scale);
    } else if (mode == "given") {
        FeatureNormalization n = computeStandardization(train, scale); // for K and inner
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

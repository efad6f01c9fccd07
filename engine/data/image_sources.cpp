// SPDX-License-Identifier: Apache-2.0
#include "data/image_sources.h"

#include "core/error.h"
#include "core/file_io.h"
#include "core/parallel.h"
#include "data/image_file.h"
#include "data/image_transform.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace netwright::data_detail {

namespace fs = std::filesystem;

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

constexpr int64_t kStreamAbove = int64_t(2) << 30; // data.stream "auto": samples larger than 2 GiB in all stream

bool shouldStream(const DataSettings &s, int64_t bytes)
{
    return s.stream == "on" || (s.stream == "auto" && bytes > kStreamAbove);
}

// The size every image of `files` is brought to: data.resize (or the model's input), else the
// size they all share (mixed sizes without a resize are refused, naming two files). The headers
// are read first (on the engine's threads), so a file that is not an image is named before
// anything is decoded.
ImageTarget imageTarget(const std::vector<std::string> &files, const ImageGeometry &g, const std::string &what)
{
    check(!files.empty(), "\"" + what + "\" holds no images (expected <class>/*.png, *.jpg or *.jpeg).");
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
    ImageTarget t;
    t.channels = g.channels;
    if (t.channels == 0)
        for (const auto &info : infos)
            t.channels = std::max(t.channels, info.channels == 1 ? int64_t(1) : int64_t(3));
    t.height = infos[0].height;
    t.width = infos[0].width;
    if (g.resize.size() == 2) {
        t.height = g.resize[0];
        t.width = g.resize[1];
    } else {
        for (size_t i = 1; i < infos.size(); ++i)
            if (infos[i].height != t.height || infos[i].width != t.width)
                throw Error("\"" + what + "\" holds images of different sizes (\"" + files[0] + "\" is " + sizeText(t.height, t.width) + ", \""
                            + files[i] + "\" is " + sizeText(infos[i].height, infos[i].width)
                            + "): set data.resize (--resize HxW) to bring them to one size.");
    }
    if (g.centerCrop.size() == 2) {
        t.cropHeight = g.centerCrop[0];
        t.cropWidth = g.centerCrop[1];
    }
    return t;
}

// Every sample of `store` in memory (read on the engine's threads; the first failing sample's
// error is the one thrown).
Tensor readAll(const SampleStore &store)
{
    Shape shape = store.sampleShape();
    shape.insert(shape.begin(), store.size());
    Tensor out(shape, store.dtype());
    const size_t bytes = store.sampleBytes();
    std::vector<std::string> errors(static_cast<size_t>(store.size()));
    parallelFor(store.size(), [&](int64_t lo, int64_t hi, int) {
        for (int64_t i = lo; i < hi; ++i) {
            try {
                store.read(i, static_cast<uint8_t *>(out.raw()) + static_cast<size_t>(i) * bytes);
            } catch (const std::exception &e) {
                errors[static_cast<size_t>(i)] = e.what();
            }
        }
    });
    for (const auto &e : errors)
        if (!e.empty())
            throw Error(e);
    return out;
}

// The features of `store`: kept on disk when the settings stream them, else read into memory.
void setFeatures(Dataset &ds, std::shared_ptr<SampleStore> store, const DataSettings &s)
{
    if (shouldStream(s, store->size() * static_cast<int64_t>(store->sampleBytes())))
        ds.store = std::move(store);
    else
        ds.features = readAll(*store);
}

Dataset imageDataset(const std::string &dir, const std::vector<std::string> &classes, const ImageGeometry &g, const DataSettings &s)
{
    ImageList list = listImages(dir, classes);
    const ImageTarget target = imageTarget(list.files, g, dir);
    Dataset ds;
    ds.name = dir;
    ds.labels = Tensor::fromInt64({static_cast<int64_t>(list.labels.size())}, list.labels);
    ds.classes = static_cast<int64_t>(classes.size());
    ds.classNames = classes;
    setFeatures(ds, imageFileStore(std::move(list.files), target), s);
    return ds;
}

// DIR/train (+ DIR/test or DIR/val) when the folder is laid out in splits.
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

// CIFAR batches and IDX images have one stored size; data.resize, data.center_crop and
// data.channels (or a model file's input) bring them to another, as an image folder's.
std::shared_ptr<SampleStore> withGeometry(std::shared_ptr<SampleStore> store, const ImageGeometry &g)
{
    const Shape s = store->sampleShape();
    if (s.size() != 3 || (g.resize.empty() && g.centerCrop.empty() && (g.channels == 0 || g.channels == s[0])))
        return store;
    ImageTarget t;
    t.channels = g.channels ? g.channels : s[0];
    t.height = g.resize.size() == 2 ? g.resize[0] : s[1];
    t.width = g.resize.size() == 2 ? g.resize[1] : s[2];
    if (g.centerCrop.size() == 2) {
        t.cropHeight = g.centerCrop[0];
        t.cropWidth = g.centerCrop[1];
    }
    return transformedImageStore(std::move(store), t);
}

// An IDX dataset brought to the geometry (its features stay in memory, transformed).
Dataset idxWithGeometry(Dataset ds, const ImageGeometry &g)
{
    auto store = withGeometry(memoryStore(ds.features), g);
    if (store->sampleShape() != ds.sampleShape()) {
        ds.features = readAll(*store);
    }
    return ds;
}

Dataset cifarDataset(const std::vector<std::string> &files, const std::vector<std::string> &classNames, const DataSettings &s,
                     const ImageGeometry &g)
{
    const int64_t classes = classNames.empty() ? 10 : static_cast<int64_t>(classNames.size());
    std::vector<std::shared_ptr<const SampleStore>> parts;
    std::vector<int64_t> labels;
    for (const auto &f : files) {
        const uint64_t size = regularFileSize(f, "CIFAR batch");
        if (size == 0 || size % kCifarRecord != 0)
            throw Error("Cannot read \"" + f + "\" as a CIFAR-10 binary batch: its " + std::to_string(size)
                        + " bytes are not a whole number of 3073-byte records (a label byte and 3072 pixel bytes).");
        const auto records = static_cast<int64_t>(size / kCifarRecord);
        // The labels: every record's first byte, read in bounded chunks of whole records.
        std::ifstream in(f, std::ios::binary);
        std::vector<char> chunk(static_cast<size_t>(kCifarRecord) * 4096);
        for (int64_t at = 0; at < records;) {
            const int64_t n = std::min<int64_t>(4096, records - at);
            if (!in.read(chunk.data(), static_cast<std::streamsize>(n * kCifarRecord)))
                throw Error("Cannot read \"" + f + "\": it ended early (was it changed while being read?).");
            for (int64_t i = 0; i < n; ++i, ++at) {
                const auto label = static_cast<uint8_t>(chunk[static_cast<size_t>(i * kCifarRecord)]);
                if (label >= classes)
                    throw Error("\"" + f + "\" record " + std::to_string(at) + " (byte " + std::to_string(at * kCifarRecord)
                                + "): label " + std::to_string(label) + " is outside the " + std::to_string(classes) + " classes.");
                labels.push_back(label);
            }
        }
        parts.push_back(recordFileStore(f, 0, kCifarRecord, 1, records, {3, 32, 32}, DType::UInt8));
    }
    Dataset ds;
    ds.name = files.size() == 1 ? files[0] : fs::path(files[0]).parent_path().string();
    ds.labels = Tensor::fromInt64({static_cast<int64_t>(labels.size())}, labels);
    ds.classes = classes;
    ds.classNames = classNames;
    setFeatures(ds, withGeometry(parts.size() == 1 ? std::const_pointer_cast<SampleStore>(parts[0]) : concatStore(parts), g), s);
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

} // namespace netwright::data_detail

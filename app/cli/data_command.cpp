// SPDX-License-Identifier: Apache-2.0
#include "cli/data_command.h"

#include "cli/subcommand.h"
#include "core/error.h"
#include "data/data_source.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <map>

namespace netwright::cli {

namespace {

struct ClassCount {
    std::string name;
    int64_t count = 0;
};

std::vector<ClassCount> classCounts(const Dataset &d)
{
    std::vector<ClassCount> out(static_cast<size_t>(std::max<int64_t>(d.classes, 0)));
    for (size_t c = 0; c < out.size(); ++c)
        out[c].name = c < d.classNames.size() ? d.classNames[c] : std::to_string(c);
    for (int64_t i = 0; i < d.size(); ++i) {
        const auto c = static_cast<size_t>(d.labels.dataAs<int64_t>()[i]);
        if (c >= out.size())
            out.resize(c + 1, ClassCount{std::to_string(c), 0});
        ++out[c].count;
    }
    return out;
}

// Statistics of each channel (images) or feature (tables), after uint8 values are scaled to [0, 1].
struct FeatureStats {
    std::string name;
    double mean = 0, std = 0, min = 0, max = 0;
};

std::vector<FeatureStats> featureStats(const Dataset &d, const std::vector<std::string> &names)
{
    const FeatureSummary summary = summarizeFeatures(d, d.featureType() == DType::UInt8 ? 1.0f / 255.0f : 1.0f);
    const size_t k = summary.mean.size();
    std::vector<FeatureStats> out(k);
    const bool images = d.sampleShape().size() == 3;
    for (size_t c = 0; c < k; ++c) {
        out[c].name = images ? (k == 3 ? std::string(1, "RGB"[c]) : k == 1 ? std::string("gray") : "channel " + std::to_string(c))
                             : (c < names.size() ? names[c] : "feature " + std::to_string(c));
        out[c].mean = summary.mean[c];
        out[c].std = summary.std[c];
        out[c].min = summary.min[c];
        out[c].max = summary.max[c];
    }
    return out;
}

std::string bar(int64_t count, int64_t most)
{
    const int width = most > 0 ? static_cast<int>(std::lround(30.0 * static_cast<double>(count) / static_cast<double>(most))) : 0;
    std::string s;
    for (int i = 0; i < width; ++i)
        s += "█";
    return s;
}

void printDataset(const Dataset &d, const char *role, const std::vector<std::string> &featureNames)
{
    std::printf("%s: %lld samples of shape %s (%s%s)\n", role, static_cast<long long>(d.size()), shapeToString(d.sampleShape()).c_str(),
                dtypeName(d.featureType()).c_str(), d.streamed() ? ", read from disk as needed" : "");
    if (d.hasClassLabels()) {
        const auto counts = classCounts(d);
        int64_t most = 0;
        size_t width = 5;
        for (const auto &c : counts) {
            most = std::max(most, c.count);
            width = std::max(width, c.name.size());
        }
        std::printf("  %zu classes:\n", counts.size());
        for (size_t c = 0; c < counts.size(); ++c)
            std::printf("  %3zu  %-*s %7lld  %s\n", c, static_cast<int>(width), counts[c].name.c_str(),
                        static_cast<long long>(counts[c].count), bar(counts[c].count, most).c_str());
    } else {
        std::printf("  %lld numeric target%s per sample:\n", static_cast<long long>(d.labels.dim(1)), d.labels.dim(1) == 1 ? "" : "s");
        for (int64_t t = 0; t < d.labels.dim(1); ++t) {
            double lo = 0, hi = 0, sum = 0;
            for (int64_t i = 0; i < d.size(); ++i) {
                const double v = d.labels.data()[i * d.labels.dim(1) + t];
                lo = i ? std::min(lo, v) : v;
                hi = i ? std::max(hi, v) : v;
                sum += v;
            }
            const std::string name = static_cast<size_t>(t) < d.targetNames.size() ? d.targetNames[static_cast<size_t>(t)] : "target " + std::to_string(t);
            std::printf("  %-14s min %-10.4g mean %-10.4g max %.4g\n", name.c_str(), lo, sum / static_cast<double>(std::max<int64_t>(1, d.size())), hi);
        }
    }
    (void)featureNames;
}

QJsonObject datasetJson(const Dataset &d, const std::vector<std::string> &featureNames)
{
    QJsonObject o;
    o["samples"] = static_cast<qint64>(d.size());
    QJsonArray shape;
    for (int64_t v : d.sampleShape())
        shape.append(static_cast<qint64>(v));
    o["sample_shape"] = shape;
    o["dtype"] = QString::fromStdString(dtypeName(d.featureType()));
    if (d.hasClassLabels()) {
        QJsonArray classes;
        for (const auto &c : classCounts(d))
            classes.append(QJsonObject{{"name", QString::fromStdString(c.name)}, {"count", static_cast<qint64>(c.count)}});
        o["classes"] = classes;
    } else {
        QJsonArray targets;
        for (int64_t t = 0; t < d.labels.dim(1); ++t)
            targets.append(QString::fromStdString(static_cast<size_t>(t) < d.targetNames.size() ? d.targetNames[static_cast<size_t>(t)]
                                                                                                : "target " + std::to_string(t)));
        o["targets"] = targets;
    }
    QJsonArray stats;
    for (const auto &f : featureStats(d, featureNames))
        stats.append(QJsonObject{{"name", QString::fromStdString(f.name)}, {"mean", f.mean}, {"std", f.std}, {"min", f.min}, {"max", f.max}});
    o["features"] = stats;
    return o;
}

} // namespace

int runDataCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Look at training data before training on it.\n"
        "  inspect PATH  what PATH holds: kind, samples, sample shape, classes and their counts (or the targets), the source's own "
        "test split, feature statistics.\n"
        "  stats PATH    the mean and std of each channel (images, after scaling to [0, 1]) or feature (tables) of PATH's training "
        "samples, as data.feature_mean and data.feature_std.\n"
        "PATH is what `netwright train --data` takes: an image folder, a .npz or .npy file, a CSV table with a header row, CIFAR-10 "
        "binary batches or a folder of IDX files."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("data"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("inspect|stats"), QStringLiteral("What to do."));
    p.addPositionalArgument(QStringLiteral("PATH"), QStringLiteral("The data file or folder."));
    p.addOptions({
        {QStringLiteral("label"), QStringLiteral("CSV: the target column(s), comma-separated."), QStringLiteral("COLUMN")},
        {QStringLiteral("targets"), QStringLiteral(".npy features: the .npy file of the targets."), QStringLiteral("FILE")},
        {QStringLiteral("resize"), QStringLiteral("Images: resize to HxW first (needed when their sizes differ)."), QStringLiteral("HxW")},
        {QStringLiteral("json"), QStringLiteral("Print the report as JSON.")},
    });
    if (const auto done = parseSubcommand(p, arguments, "data", 2, "expected: netwright data inspect|stats PATH"))
        return *done;
    const QString action = p.positionalArguments().at(1);
    if (action != QLatin1String("inspect") && action != QLatin1String("stats")) {
        std::fprintf(stderr, "netwright data: unknown action \"%s\" (expected inspect or stats).\nSee: netwright data --help\n", qPrintable(action));
        return 2;
    }
    try {
        const std::string path = p.positionalArguments().at(2).toStdString();
        DataSettings s;
        s.path = path;
        if (p.isSet(QStringLiteral("label")))
            s.label = p.value(QStringLiteral("label")).toStdString();
        if (p.isSet(QStringLiteral("targets")))
            s.targets = QFileInfo(p.value(QStringLiteral("targets"))).absoluteFilePath().toStdString();
        ImageGeometry g;
        if (p.isSet(QStringLiteral("resize"))) {
            const QStringList hw = p.value(QStringLiteral("resize")).split(QLatin1Char('x'));
            bool okH = false, okW = false;
            const int h = hw.size() == 2 ? hw[0].toInt(&okH) : 0, w = hw.size() == 2 ? hw[1].toInt(&okW) : 0;
            if (!okH || !okW || h <= 0 || w <= 0)
                throw Error("--resize: \"" + p.value(QStringLiteral("resize")).toStdString() + "\" is not HxW (e.g. 32x32).");
            g.resize = {h, w};
        }
        const DataSourceContents c = readDataSource(path, s, g);
        const std::vector<std::string> &names = c.train.featureNames;
        const bool json = p.isSet(QStringLiteral("json"));
        if (action == QLatin1String("stats")) {
            const auto stats = featureStats(c.train, names);
            if (json) {
                QJsonArray mean, sd;
                for (const auto &f : stats) {
                    mean.append(f.mean);
                    sd.append(f.std);
                }
                std::fputs(QJsonDocument(QJsonObject{{"feature_mean", mean}, {"feature_std", sd}}).toJson(QJsonDocument::Indented).constData(),
                           stdout);
                return 0;
            }
            std::printf("%s (%s), %lld training samples", path.c_str(), dataKindName(c.kind).c_str(), static_cast<long long>(c.train.size()));
            std::printf(c.train.featureType() == DType::UInt8 ? ", values scaled to [0, 1]:\n" : ":\n");
            int width = 8;
            for (const auto &f : stats)
                width = std::max(width, static_cast<int>(f.name.size()));
            for (const auto &f : stats)
                std::printf("  %-*s  mean %.6g  std %.6g\n", width, f.name.c_str(), f.mean, f.std);
            std::string mean, sd;
            for (const auto &f : stats) {
                char a[32], b[32];
                std::snprintf(a, sizeof a, "%.6g", f.mean);
                std::snprintf(b, sizeof b, "%.6g", f.std);
                mean += (mean.empty() ? "" : ", ") + std::string(a);
                sd += (sd.empty() ? "" : ", ") + std::string(b);
            }
            std::printf("In a run config: \"data\": { \"normalize\": \"given\", \"feature_mean\": [%s], \"feature_std\": [%s] }\n", mean.c_str(),
                        sd.c_str());
            return 0;
        }
        if (json) {
            QJsonObject o{{"path", QString::fromStdString(path)}, {"kind", QString::fromStdString(dataKindName(c.kind))},
                          {"train", datasetJson(c.train, names)}};
            if (c.test)
                o["test"] = datasetJson(*c.test, names);
            std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
            return 0;
        }
        std::printf("%s: %s\n", path.c_str(), dataKindName(c.kind).c_str());
        printDataset(c.train, c.test ? "Training split" : "Samples", names);
        if (c.test)
            printDataset(*c.test, "Test split", names);
        else
            std::printf("No test split of its own: train with --test-split F (e.g. 0.2) or --test-data PATH.\n");
        const auto stats = featureStats(c.train, names);
        std::printf("%s%s:\n", c.train.sampleShape().size() == 3 ? "Channels" : "Features",
                    c.train.featureType() == DType::UInt8 ? " (values scaled to [0, 1])" : "");
        const size_t shown = std::min<size_t>(stats.size(), 32);
        int width = 8;
        for (size_t i = 0; i < shown; ++i)
            width = std::max(width, static_cast<int>(stats[i].name.size()));
        for (size_t i = 0; i < shown; ++i)
            std::printf("  %-*s  mean %-10.4g std %-10.4g min %-10.4g max %.4g\n", width, stats[i].name.c_str(), stats[i].mean, stats[i].std,
                        stats[i].min, stats[i].max);
        if (shown < stats.size())
            std::printf("  … and %zu more (--json lists them all)\n", stats.size() - shown);
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright data: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "netwright data: out of memory.\n");
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "netwright data: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/inspect_command.h"

#include "core/error.h"
#include "core/tensor_stats.h"
#include "formats/mindspore/ckpt_file.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>

namespace netwright::cli {

namespace {

QJsonValue number(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); // JSON has no NaN/inf: null
}

std::string typeName(const mindspore::CkptEntry &e)
{
    return e.isString ? std::string("str") : mindspore::mindsporeTypeName(e.tensor.dtype());
}

} // namespace

int runInspectCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Show what a file holds. MindSpore checkpoints (.ckpt, detected by content): every entry with its dtype, shape,\n"
        "min/max/mean/std and size."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("inspect"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The file to inspect."));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of a table.")});
    if (const auto done = parseSubcommand(p, arguments, "inspect", 1, "give exactly one file."))
        return *done;
    const std::string path = p.positionalArguments().at(1).toStdString();
    try {
        const mindspore::CkptFile file = mindspore::readCkpt(path, true);
        const qint64 bytes = QFileInfo(QString::fromStdString(path)).size();
        if (p.isSet(QStringLiteral("json"))) {
            QJsonArray entries;
            for (const auto &e : file.entries) {
                QJsonObject o{{"name", QString::fromStdString(e.name)}, {"dtype", QString::fromStdString(typeName(e))}};
                if (e.isString) {
                    o["value"] = QString::fromStdString(e.text);
                } else {
                    QJsonArray shape;
                    for (int64_t d : e.tensor.shape())
                        shape.append(static_cast<qint64>(d));
                    const TensorStats s = computeStats(e.tensor);
                    o["shape"] = shape;
                    o["bytes"] = static_cast<qint64>(e.tensor.byteSize());
                    o["min"] = number(s.min);
                    o["max"] = number(s.max);
                    o["mean"] = number(s.mean);
                    o["std"] = number(s.std);
                    if (s.nans || s.infinities) {
                        o["nan"] = static_cast<qint64>(s.nans);
                        o["inf"] = static_cast<qint64>(s.infinities);
                    }
                }
                entries.append(o);
            }
            const QJsonObject root{{"file", QString::fromStdString(path)}, {"format", "mindspore-ckpt"}, {"bytes", bytes},
                                   {"crc_trailer", file.hasCrc}, {"entries", entries}};
            std::fputs(QJsonDocument(root).toJson(QJsonDocument::Indented).constData(), stdout);
            return 0;
        }
        std::printf("%s: MindSpore checkpoint, %zu entries, %lld bytes%s\n", path.c_str(), file.entries.size(),
                    static_cast<long long>(bytes), file.hasCrc ? ", CRC-32 trailer verified" : "");
        size_t w = 4;
        for (const auto &e : file.entries)
            w = std::max(w, e.name.size());
        std::printf("%-*s  %-8s  %-16s  %12s  %12s  %12s  %12s  %10s\n", static_cast<int>(w), "name", "dtype", "shape", "min", "max",
                    "mean", "std", "bytes");
        for (const auto &e : file.entries) {
            if (e.isString) {
                std::printf("%-*s  %-8s  \"%s\"\n", static_cast<int>(w), e.name.c_str(), "str", e.text.c_str());
                continue;
            }
            const TensorStats s = computeStats(e.tensor);
            std::printf("%-*s  %-8s  %-16s  %12.6g  %12.6g  %12.6g  %12.6g  %10zu%s\n", static_cast<int>(w), e.name.c_str(),
                        typeName(e).c_str(), shapeToString(e.tensor.shape()).c_str(), s.min, s.max, s.mean, s.std,
                        e.tensor.byteSize(),
                        s.nans || s.infinities
                            ? ("  (" + std::to_string(s.nans) + " NaN, " + std::to_string(s.infinities) + " inf)").c_str()
                            : "");
        }
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright inspect: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli

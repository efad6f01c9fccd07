// SPDX-License-Identifier: Apache-2.0
#include "cli/run_options.h"

#include "core/device.h"
#include "core/error.h"

#include <QCommandLineParser>
#include <QFileInfo>

namespace netwright::cli {

void validateRunConfigFrom(const RunConfig &config, const RunConfig &fromFile, const std::string &path)
{
    try {
        validateRunConfig(config);
    } catch (const Error &e) {
        if (path.empty())
            throw;
        try {
            validateRunConfig(fromFile);
        } catch (const Error &f) {
            if (std::string(f.what()) == e.what())
                throw Error("Run config \"" + path + "\": " + e.what());
        }
        throw;
    }
}

namespace {
std::string absolutePath(const QString &path)
{
    return QFileInfo(path).absoluteFilePath().toStdString();
}
} // namespace

void applyDataOptions(const QCommandLineParser &p, RunConfig &config)
{
    auto set = [&](const char *name) { return p.isSet(QString::fromLatin1(name)); };
    auto value = [&](const char *name) { return p.value(QString::fromLatin1(name)); };
    DataSettings &d = config.data;
    if (set("data")) {
        d.dataset = "path";
        d.path = absolutePath(value("data"));
    }
    if (set("test-data")) {
        d.testPath = absolutePath(value("test-data"));
        d.testSplit = 0.0f;
    }
    if (set("test-split")) {
        bool ok = false;
        const double f = value("test-split").toDouble(&ok);
        if (!ok || !(f > 0.0 && f < 1.0))
            throw Error("--test-split: \"" + value("test-split").toStdString() + "\" is not a fraction between 0 and 1 (e.g. 0.2).");
        d.testSplit = static_cast<float>(f);
        d.testPath.clear();
    }
    if (set("label"))
        d.label = value("label").toStdString();
    if (set("targets"))
        d.targets = absolutePath(value("targets"));
    if (set("task"))
        config.task.type = value("task").toStdString();
    if (set("loss"))
        config.task.loss = value("loss").toStdString();
    if (set("resize")) {
        const QStringList hw = value("resize").split(QLatin1Char('x'));
        bool okH = false, okW = false;
        const int h = hw.size() == 2 ? hw[0].toInt(&okH) : 0, w = hw.size() == 2 ? hw[1].toInt(&okW) : 0;
        if (!okH || !okW || h <= 0 || w <= 0)
            throw Error("--resize: \"" + value("resize").toStdString() + "\" is not HxW (e.g. 32x32).");
        d.resize = {h, w};
    }
    if (set("random-crop-padding")) {
        bool ok = false;
        d.randomCropPadding = value("random-crop-padding").toInt(&ok);
        if (!ok || d.randomCropPadding < 0)
            throw Error("--random-crop-padding: \"" + value("random-crop-padding").toStdString() + "\" is not a whole number ≥ 0.");
    }
    if (set("horizontal-flip"))
        d.horizontalFlip = true;
    if (set("stream"))
        d.stream = value("stream").toStdString();
    if (set("hidden")) {
        config.hidden.clear();
        for (const QString &part : value("hidden").split(QLatin1Char(','))) {
            bool ok = false;
            const int n = part.trimmed().toInt(&ok);
            if (!ok || n <= 0)
                throw Error("--hidden: \"" + value("hidden").toStdString() + "\" is not a list of layer sizes (e.g. 64,32).");
            config.hidden.push_back(n);
        }
    }
}

std::string deviceOption(const QCommandLineParser &parser)
{
    const std::string text = parser.value(QStringLiteral("device")).toStdString();
    try {
        parseDevice(text);
    } catch (const Error &e) {
        throw Error(std::string("--device: ") + e.what());
    }
    return text;
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/run_directory.h"

#include "core/atomic_file.h"
#include "core/device.h"
#include "core/error.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>

namespace netwright::cli {

QString runDirectoryName(const QString &out, const QString &runName)
{
    QString path = out;
    if (path.isEmpty()) {
        const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        path = QStringLiteral("runs/%1-%2").arg(runName, stamp);
        for (int n = 2; QFileInfo::exists(path); ++n)
            path = QStringLiteral("runs/%1-%2-%3").arg(runName, stamp).arg(n);
    }
    return path;
}

void writeRunConfig(const QString &dir, RunConfig config)
{
    if (!config.modelFile.empty()) {
        const QFileInfo source(QString::fromStdString(config.modelFile));
        QString name = source.fileName();
        for (const char *own : {"config.json", "metrics.jsonl", "checkpoints.jsonl"})
            if (name == QLatin1String(own))
                name = QStringLiteral("model-") + name;
        const QFileInfo copy(dir + QStringLiteral("/") + name);
        if (!copy.exists() || copy.canonicalFilePath() != source.canonicalFilePath()) {
            QFile in(source.filePath());
            if (!in.open(QIODevice::ReadOnly))
                throw Error("Cannot copy the model file \"" + config.modelFile + "\" into the run directory: " + in.errorString().toStdString() + ".");
            const QByteArray bytes = in.readAll();
            writeFileAtomically(copy.filePath().toStdString(), std::string_view(bytes.constData(), static_cast<size_t>(bytes.size())));
        }
        config.modelFile = name.toStdString();
    }
    writeFileAtomically((dir + QStringLiteral("/config.json")).toStdString(), runConfigToJson(config) + "\n");
}

QString runModelFile(const QString &dir)
{
    const QString config = dir + QStringLiteral("/config.json");
    if (!QFileInfo::exists(config))
        return {};
    try {
        return QString::fromStdString(loadRunConfigFile(config.toStdString(), defaultRunConfig()).modelFile);
    } catch (const Error &) {
        return {};
    }
}

QString prepareRunDirectory(const QString &out, const QString &runName, bool continuing)
{
    const QString path = runDirectoryName(out, runName);
    const QFileInfo info(path);
    if (info.exists() && !info.isDir())
        throw Error("Cannot use \"" + path.toStdString() + "\" as the run directory: it is a file.");
    if (!continuing && QFileInfo::exists(path + QStringLiteral("/metrics.jsonl")))
        throw Error("The run directory \"" + path.toStdString()
                    + "\" already holds a run; choose another --out, or continue it with netwright resume.");
    if (!QDir().mkpath(path))
        throw Error("Cannot create the run directory \"" + path.toStdString() + "\".");
    return QDir::cleanPath(path);
}

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

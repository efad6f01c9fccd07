// SPDX-License-Identifier: Apache-2.0
#include "cli/compare_command.h"

#include "cli/metric_text.h"
#include "cli/subcommand.h"
#include "core/error.h"
#include "run/run_directory.h"
#include "run/run_summary.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <map>

namespace netwright::cli {

namespace {

// The run directories an argument stands for: itself, or a folder's run directories (a sweep's
// trials, a batch's runs), by name.
QStringList expand(const QString &arg)
{
    const QString path = QDir::cleanPath(arg);
    if (RunDirectory::isRunDirectory(path.toStdString()))
        return {path};
    check(QFileInfo(path).isDir(), "\"" + arg.toStdString() + "\" is not a run directory.");
    QStringList runs;
    for (const QString &d : QDir(path).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (RunDirectory::isRunDirectory(QDir(path).filePath(d).toStdString()))
            runs << QDir(path).filePath(d);
    check(!runs.isEmpty(), "\"" + arg.toStdString() + "\" is neither a run directory nor a folder of them (a sweep, a batch's runs).");
    return runs;
}

// The config's flattened key paths with their values (run/run_summary.h), as JSON values.
std::map<QString, QJsonValue> flatConfig(const run::FlatConfig &flat)
{
    std::map<QString, QJsonValue> out;
    for (const auto &[k, v] : flat)
        out[QString::fromStdString(k)] = QJsonDocument::fromJson(QByteArray("[") + QByteArray::fromStdString(v) + "]").array().first();
    return out;
}

QString text(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isUndefined())
        return QStringLiteral("-");
    return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

QJsonValue number(const std::map<std::string, double> &m, const std::string &k)
{
    const auto it = m.find(k);
    return it != m.end() && std::isfinite(it->second) ? QJsonValue(it->second) : QJsonValue();
}

} // namespace

int runCompareCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Compare runs: name, model, data, the config keys whose values differ between them, the best and final test\n"
        "metrics of the task, training time, kept and best checkpoints. A sweep folder (or any folder of run directories)\n"
        "stands for its runs."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("compare"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Run directories, or folders of them."), QStringLiteral("RUN…"));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of a table.")});
    if (const auto done = parseSubcommand(p, arguments, "compare", -1))
        return *done;
    const QStringList inputs = p.positionalArguments().mid(1);
    if (inputs.isEmpty()) {
        std::fprintf(stderr, "netwright compare: give one or more run directories (or sweep folders).\n");
        return 2;
    }
    std::vector<run::RunSummary> runs;
    std::vector<run::FlatConfig> flat;
    std::vector<std::map<QString, QJsonValue>> configs;
    try {
        for (const QString &in : inputs)
            for (const QString &dir : expand(in)) {
                runs.push_back(run::summarizeRun(dir.toStdString()));
                check(runs.back().hasConfig, "\"" + dir.toStdString() + "\": its config.json does not read as a run config.");
                flat.push_back(run::flatRunConfig(runs.back().config));
                configs.push_back(flatConfig(flat.back()));
            }
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright compare: %s\n", e.what());
        return 1;
    }
    // The keys whose values are not the same in every run.
    QStringList differing;
    for (const std::string &k : run::differingKeys(flat))
        differing << QString::fromStdString(k);
    // The metrics: the union of the runs' own, each run's task order first.
    std::vector<std::string> metrics;
    for (const auto &r : runs)
        for (const auto &m : r.metricNames)
            if (std::find(metrics.begin(), metrics.end(), m) == metrics.end())
                metrics.push_back(m);

    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray arr;
        for (size_t i = 0; i < runs.size(); ++i) {
            const run::RunSummary &r = runs[i];
            QJsonObject differences;
            for (const QString &k : differing)
                differences[k] = configs[i].count(k) ? configs[i].at(k) : QJsonValue();
            QJsonObject o{{"run_dir", QString::fromStdString(r.dir)},
                          {"name", QString::fromStdString(r.name)},
                          {"model", QString::fromStdString(r.config.model)},
                          {"data", QString::fromStdString(run::dataLabel(r.config))},
                          {"task", QString::fromStdString(r.task)},
                          {"differences", differences},
                          {"epochs_done", qint64(r.epochsDone)},
                          {"epochs", qint64(r.epochs)},
                          {"finished", r.finished},
                          {"seconds", r.seconds ? QJsonValue(*r.seconds) : QJsonValue()},
                          {"checkpoints", r.checkpoints},
                          {"best_checkpoint", r.bestCheckpoint.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(r.bestCheckpoint))}};
            for (const auto &m : r.metricNames) {
                // eval_accuracy: the best evaluation; final_eval_accuracy: the last one.
                o[QStringLiteral("eval_") + QString::fromStdString(m)] = number(r.best, m);
                o[QStringLiteral("final_eval_") + QString::fromStdString(m)] = number(r.final, m);
            }
            arr.append(o);
        }
        std::fputs(QJsonDocument(QJsonObject{{"runs", arr}, {"differing_keys", QJsonArray::fromStringList(differing)}})
                       .toJson(QJsonDocument::Indented)
                       .constData(),
                   stdout);
        return 0;
    }

    // The table: one row per run; columns sized to their widest cell.
    QStringList header{QStringLiteral("run"), QStringLiteral("model"), QStringLiteral("data")};
    for (const QString &k : differing)
        header << k;
    const std::string main = metrics.empty() ? std::string("accuracy") : metrics.front();
    const QString mainTitle = main == "accuracy" ? QStringLiteral("test acc.") : QStringLiteral("test ") + QString::fromStdString(main);
    header << QStringLiteral("best ") + mainTitle << QStringLiteral("final ") + mainTitle << QStringLiteral("best loss") << QStringLiteral("epochs")
           << QStringLiteral("time") << QStringLiteral("ckpts") << QStringLiteral("best checkpoint");
    std::vector<QStringList> rows;
    for (size_t i = 0; i < runs.size(); ++i) {
        const run::RunSummary &r = runs[i];
        QStringList row{QString::fromStdString(r.name), QString::fromStdString(r.config.model), QString::fromStdString(run::dataLabel(r.config))};
        for (const QString &k : differing)
            row << (configs[i].count(k) ? text(configs[i].at(k)) : QStringLiteral("-"));
        const auto get = [](const std::map<std::string, double> &m, const std::string &k) {
            const auto it = m.find(k);
            return it == m.end() ? std::nullopt : std::optional<double>(it->second);
        };
        row << metricText(main, get(r.best, main)) << metricText(main, get(r.final, main)) << metricText("loss", get(r.best, "loss"))
            << (r.epochs > 0 ? QStringLiteral("%1/%2").arg(r.epochsDone).arg(r.epochs) : QStringLiteral("-"))
            << (r.seconds ? QString::number(*r.seconds, 'f', 1) + QStringLiteral(" s") : QStringLiteral("-")) << QString::number(r.checkpoints)
            << (r.bestCheckpoint.empty() ? QStringLiteral("-") : QString::fromStdString(r.bestCheckpoint));
        rows.push_back(row);
    }
    std::vector<int> widths;
    for (int c = 0; c < header.size(); ++c) {
        int w = static_cast<int>(header[c].size());
        for (const auto &row : rows)
            w = std::max(w, static_cast<int>(row[c].size()));
        widths.push_back(w);
    }
    const auto print = [&](const QStringList &cells) {
        QString line;
        for (int c = 0; c < cells.size(); ++c)
            line += (c ? QStringLiteral("  ") : QString()) + (c + 1 == cells.size() ? cells[c] : cells[c].leftJustified(widths[c]));
        std::printf("%s\n", qPrintable(line));
    };
    print(header);
    for (const auto &row : rows)
        print(row);
    if (differing.isEmpty() && runs.size() > 1)
        std::printf("(the runs' configs are the same)\n");
    return 0;
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/history_command.h"

#include "cli/json_values.h"
#include "core/error.h"
#include "cli/subcommand.h"
#include "run/run_directory.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <vector>

namespace netwright::cli {

int runHistoryCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("List a run's checkpoints: when each was written, its metrics, and which are kept or "
                                               "were deleted, by which rule."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("history"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("The run directory."));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of a table.")});
    if (const auto done = parseSubcommand(p, arguments, "history", 1, "give exactly one run directory."))
        return *done;
    const QString dir = QDir::cleanPath(p.positionalArguments().at(1));
    const RunDirectory run(dir.toStdString());
    std::vector<run::CheckpointRow> rows;
    try {
        const run::HistoryLog log = QFileInfo(dir).isDir() ? run.historyLog() : run::HistoryLog{};
        if (!log.exists) {
            std::fprintf(stderr, "netwright history: \"%s\" has no checkpoint history (%s); is it a run directory?\n",
                         qPrintable(dir), RunDirectory::kHistoryFile);
            return 1;
        }
        rows = run::historyRows(log, run.path());
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright history: %s\n", e.what());
        return 1;
    }
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray arr;
        for (const auto &r : rows) {
            QJsonObject o{{"file", q(r.file)},     {"epoch", qint64(r.epoch)},   {"global_step", qint64(r.step)},  {"bytes", qint64(r.bytes)},
                          {"time", r.time},        {"reason", q(r.reason)}, {"status", q(r.status)}};
            if (!r.rule.empty())
                o["rule"] = q(r.rule);
            if (r.accuracy)
                o["eval_accuracy"] = number(*r.accuracy);
            if (r.loss)
                o["eval_loss"] = number(*r.loss);
            for (const auto &m : r.metrics)
                o[q("eval_" + m.name)] = number(m.value);
            arr.append(o);
        }
        std::fputs(QJsonDocument(QJsonObject{{"run", dir}, {"checkpoints", arr}}).toJson().constData(), stdout);
        return 0;
    }
    int w = 4;
    for (const auto &r : rows)
        w = std::max(w, static_cast<int>(q(r.file).size()));
    // The task's main figure: accuracy for a classification, else the first metric recorded (R², F1).
    std::string figure = "accuracy";
    for (const auto &r : rows)
        if (!r.accuracy && !r.metrics.empty()) {
            figure = r.metrics.front().name;
            break;
        }
    const std::string figureTitle = figure == "accuracy" ? "test acc" : figure == "r2" ? "test R²" : "test " + figure;
    std::printf("%-*s  %5s  %7s  %-19s  %9s  %*s  %8s  %s\n", w, "file", "epoch", "step", "saved", "size",
                figure == "r2" ? 9 : 8, figureTitle.c_str(), "test loss", "status");
    for (const auto &r : rows) {
        const QString when = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(r.time * 1000)).toString("yyyy-MM-dd HH:mm:ss");
        const auto value = r.metric(figure);
        const QString acc = !value ? QStringLiteral("-")
                            : figure == "accuracy" ? QString::number(100.0 * *value, 'f', 2) + " %"
                                                   : QString::number(*value, 'f', 4);
        const QString loss = r.loss ? QString::number(*r.loss, 'f', 4) : QStringLiteral("-");
        const QString status = r.rule.empty() ? q(r.status) : q(r.status) + " (" + q(r.rule) + ")";
        std::printf("%-*s  %5lld  %7lld  %-19s  %6.1f MB  %8s  %8s  %s\n", w, qPrintable(q(r.file)), static_cast<long long>(r.epoch),
                    static_cast<long long>(r.step), qPrintable(when), r.bytes / 1e6, qPrintable(acc), qPrintable(loss),
                    qPrintable(status + (r.reason == "stopped" ? QStringLiteral(", stopped by a signal") : QString())));
    }
    return 0;
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/history_command.h"

#include "cli/run_history.h"
#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

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
    QFile log(dir + QStringLiteral("/checkpoints.jsonl"));
    if (!QFileInfo(dir).isDir() || !log.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "netwright history: \"%s\" has no checkpoint history (checkpoints.jsonl); is it a run directory?\n",
                     qPrintable(dir));
        return 1;
    }
    const std::vector<CheckpointRow> rows = readRunHistory(dir);
    if (p.isSet(QStringLiteral("json"))) {
        QJsonArray arr;
        for (const auto &r : rows) {
            QJsonObject o{{"file", r.file}, {"epoch", r.epoch}, {"global_step", r.step}, {"bytes", r.bytes}, {"time", r.time},
                          {"reason", r.reason}, {"status", r.status}};
            if (!r.rule.isEmpty())
                o["rule"] = r.rule;
            if (!r.accuracy.isUndefined())
                o["eval_accuracy"] = r.accuracy;
            if (!r.loss.isUndefined())
                o["eval_loss"] = r.loss;
            arr.append(o);
        }
        std::fputs(QJsonDocument(QJsonObject{{"run", dir}, {"checkpoints", arr}}).toJson().constData(), stdout);
        return 0;
    }
    int w = 4;
    for (const auto &r : rows)
        w = std::max(w, static_cast<int>(r.file.size()));
    std::printf("%-*s  %5s  %7s  %-19s  %9s  %8s  %8s  %s\n", w, "file", "epoch", "step", "saved", "size", "test acc", "test loss",
                "status");
    for (const auto &r : rows) {
        const QString when = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(r.time * 1000)).toString("yyyy-MM-dd HH:mm:ss");
        const QString acc = r.accuracy.isDouble() ? QString::number(100.0 * r.accuracy.toDouble(), 'f', 2) + " %" : QStringLiteral("-");
        const QString loss = r.loss.isDouble() ? QString::number(r.loss.toDouble(), 'f', 4) : QStringLiteral("-");
        const QString status = r.rule.isEmpty() ? r.status : r.status + " (" + r.rule + ")";
        std::printf("%-*s  %5lld  %7lld  %-19s  %6.1f MB  %8s  %8s  %s\n", w, qPrintable(r.file), static_cast<long long>(r.epoch),
                    static_cast<long long>(r.step), qPrintable(when), r.bytes / 1e6, qPrintable(acc), qPrintable(loss),
                    qPrintable(status + (r.reason == QLatin1String("stopped") ? QStringLiteral(", stopped by a signal") : QString())));
    }
    return 0;
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/plan_report.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/checkpoint_plan.h"
#include "config/run_config.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <cstdio>
#include <vector>

namespace netwright::cli {

namespace {

struct Row {
    QString file, reason, status = QStringLiteral("kept"), rule;
    qint64 epoch = 0, step = 0, deletedAt = 0;
    QStringList keptBy;
    QString note;
};

QString rulesSummary(const CheckpointSettings &k)
{
    QStringList saves, keeps;
    if (k.format == "cntk") {
        saves << (k.cntk.frequency > 0 ? QStringLiteral("every %1 %2 (CNTK)").arg(k.cntk.frequency).arg(QString::fromStdString(k.cntk.unit))
                                       : QStringLiteral("only at the end (CNTK frequency 0)"));
        saves << QStringLiteral("the final partial period");
        keeps << (k.cntk.preserveAll ? QStringLiteral("preserve_all: every file") : QStringLiteral("one file, overwritten"));
    } else {
        if (k.saveCheckpointSteps > 0)
            saves << QStringLiteral("every %1 steps").arg(k.saveCheckpointSteps);
        else if (k.saveCheckpointSeconds > 0)
            saves << QStringLiteral("every %1 s").arg(k.saveCheckpointSeconds);
        if (k.saveEveryEpoch)
            saves << QStringLiteral("every epoch end");
        if (k.saveAtEnd)
            saves << QStringLiteral("the end of training");
        if (k.keepCheckpointMax > 0)
            keeps << QStringLiteral("newest %1 (keep_checkpoint_max)").arg(k.keepCheckpointMax);
        else if (k.keepCheckpointPerNMinutes > 0)
            keeps << QStringLiteral("one per %1 min (keep_checkpoint_per_n_minutes)").arg(k.keepCheckpointPerNMinutes);
        else
            keeps << QStringLiteral("newest 1 (MindSpore's default)");
        if (k.saveTopK > 0)
            keeps << QStringLiteral("best %1 by %2 (%3)").arg(k.saveTopK).arg(QString::fromStdString(k.monitor), QString::fromStdString(k.mode));
        if (k.keepPeriod > 0)
            keeps << QStringLiteral("every step that is a multiple of %1 (keep_period)").arg(k.keepPeriod);
        if (k.saveLast)
            keeps << QStringLiteral("<prefix>-last%1 = the newest (save_last)").arg(k.format == "safetensors" ? ".safetensors" : ".ckpt");
    }
    return QStringLiteral("saves at %1; keeps %2").arg(saves.join(", "), keeps.join(" + "));
}

} // namespace

int printCheckpointPlan(const RunConfig &config, const std::string &directory, const PlanShape &shape, bool json)
{
    const CheckpointSettings &k = config.checkpoint;
    const std::vector<std::string> lines = k.enabled ? planCheckpoints(k, directory, config.model, shape) : std::vector<std::string>{};
    std::vector<Row> rows;
    QString graphMeta;
    auto find = [&](const QString &file) -> Row * {
        for (auto it = rows.rbegin(); it != rows.rend(); ++it)
            if (it->file == file && it->status == QLatin1String("kept"))
                return &*it;
        return nullptr;
    };
    qint64 currentStep = 0, currentEpoch = 0;
    for (const auto &line : lines) {
        const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(line)).object();
        const QString event = o["event"].toString(), file = o["file"].toString();
        if (event == QLatin1String("graph_meta")) {
            graphMeta = file;
        } else if (event == QLatin1String("saved") || event == QLatin1String("linked")) {
            if (Row *old = find(file)) {
                if (event == QLatin1String("linked"))
                    rows.erase(rows.begin() + (old - rows.data())); // only the final alias matters
                else
                    old->status = QStringLiteral("replaced");
            }
            Row r;
            r.file = file;
            r.reason = event == QLatin1String("linked") ? QStringLiteral("save_last → ") + o["target"].toString() : o["reason"].toString();
            r.epoch = event == QLatin1String("linked") ? currentEpoch : o["epoch"].toInteger();
            r.step = event == QLatin1String("linked") ? currentStep : o["global_step"].toInteger();
            currentStep = r.step;
            currentEpoch = r.epoch;
            rows.push_back(r);
        } else if (event == QLatin1String("deleted")) {
            if (Row *r = find(file)) {
                r->status = QStringLiteral("deleted");
                r->rule = o["rule"].toString();
                r->deletedAt = currentStep;
            }
        }
    }
    // Why each remaining file stays, and which deletions best-K may still undo.
    std::vector<Row *> kept;
    for (auto &r : rows)
        if (r.status == QLatin1String("kept") && !r.reason.startsWith(QLatin1String("save_last")))
            kept.push_back(&r);
    const bool cntk = k.format == "cntk";
    for (size_t i = 0; i < kept.size(); ++i) {
        Row &r = *kept[i];
        if (cntk) {
            r.keptBy << (k.cntk.preserveAll ? QStringLiteral("preserve_all") : QStringLiteral("the CNTK checkpoint"));
            continue;
        }
        if (k.keepCheckpointMax > 0 && kept.size() - i <= static_cast<size_t>(k.keepCheckpointMax))
            r.keptBy << QStringLiteral("keep_checkpoint_max");
        else if (k.keepCheckpointMax == 0 && k.keepCheckpointPerNMinutes > 0)
            r.keptBy << QStringLiteral("keep_checkpoint_per_n_minutes");
        if (k.keepPeriod > 0 && r.step % k.keepPeriod == 0)
            r.keptBy << QStringLiteral("keep_period");
        if (i + 1 == kept.size())
            r.keptBy << QStringLiteral("newest");
    }
    if (!cntk && k.saveTopK > 0)
        for (auto &r : rows)
            if (r.reason == QLatin1String("save_every_epoch") && r.status == QLatin1String("deleted"))
                r.note = QStringLiteral("kept instead if among the best %1 by %2").arg(k.saveTopK).arg(QString::fromStdString(k.monitor));

    const int64_t steps = shape.dropLast ? shape.trainSamples / shape.batchSize : (shape.trainSamples + shape.batchSize - 1) / shape.batchSize;
    if (json) {
        QJsonArray files;
        for (const auto &r : rows) {
            QJsonObject o{{"file", r.file}, {"reason", r.reason}, {"epoch", r.epoch}, {"global_step", r.step}, {"status", r.status}};
            if (!r.rule.isEmpty()) {
                o["rule"] = r.rule;
                o["deleted_at_step"] = r.deletedAt;
            }
            if (!r.keptBy.isEmpty())
                o["kept_by"] = QJsonArray::fromStringList(r.keptBy);
            if (!r.note.isEmpty())
                o["note"] = r.note;
            files.append(o);
        }
        const QJsonObject root{{"directory", QString::fromStdString(directory)}, {"format", QString::fromStdString(k.format)},
                               {"enabled", k.enabled}, {"epochs", static_cast<qint64>(shape.epochs)},
                               {"steps_per_epoch", static_cast<qint64>(steps)}, {"assumed_step_seconds", shape.stepSeconds},
                               {"rules", rulesSummary(k)}, {"graph_meta", graphMeta}, {"files", files}};
        std::fputs(QJsonDocument(root).toJson(QJsonDocument::Indented).constData(), stdout);
        return 0;
    }
    std::printf("Checkpoint plan for %s (nothing is trained or written)\n", directory.c_str());
    if (!k.enabled) {
        std::printf("checkpoint.enabled is false: the run writes no checkpoints.\n");
        return 0;
    }
    std::printf("%lld epochs × %lld steps; %s\n", static_cast<long long>(shape.epochs), static_cast<long long>(steps),
                qPrintable(rulesSummary(k)));
    if (!cntk && (k.saveCheckpointSeconds > 0 || k.keepCheckpointPerNMinutes > 0))
        std::printf("Time-based rules assume %.3g s per step and %.3g s per evaluation (--step-seconds).\n", shape.stepSeconds,
                    shape.evalSeconds);
    if (!graphMeta.isEmpty())
        std::printf("%s is written at the first step (once per run).\n", qPrintable(graphMeta));
    int width = 4;
    for (const auto &r : rows)
        width = std::max(width, static_cast<int>(r.file.size()));
    std::printf("\n%-*s  %5s  %7s  %-24s  %s\n", width, "file", "epoch", "step", "written by", "fate");
    int keptCount = 0;
    for (const auto &r : rows) {
        QString fate;
        if (r.status == QLatin1String("kept")) {
            ++keptCount;
            fate = r.keptBy.isEmpty() ? QStringLiteral("kept") : QStringLiteral("kept (%1)").arg(r.keptBy.join(", "));
        } else if (r.status == QLatin1String("replaced")) {
            fate = QStringLiteral("overwritten by a later save");
        } else {
            fate = QStringLiteral("deleted at step %1 by %2").arg(r.deletedAt).arg(r.rule);
            if (!r.note.isEmpty())
                fate += QStringLiteral("; %1").arg(r.note);
        }
        std::printf("%-*s  %5lld  %7lld  %-24s  %s\n", width, qPrintable(r.file), static_cast<long long>(r.epoch),
                    static_cast<long long>(r.step), qPrintable(r.reason), qPrintable(fate));
    }
    std::printf("\n%zu checkpoint%s written, %d on disk at the end.\n", rows.size(), rows.size() == 1 ? "" : "s", keptCount);
    return 0;
}

} // namespace netwright::cli

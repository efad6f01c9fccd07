// SPDX-License-Identifier: Apache-2.0
#include "cli/sweep_results.h"

#include "cli/metric_text.h"
#include "core/atomic_file.h"
#include "core/error.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace netwright::cli {

namespace {

QJsonValue number(std::optional<double> v)
{
    return v && std::isfinite(*v) ? QJsonValue(*v) : QJsonValue();
}

using run::RunSummary;

std::optional<double> finalOf(const RunSummary &s, const std::string &metric)
{
    return s.finalOf(metric);
}

QString shortKey(const QString &key)
{
    return key.section(QLatin1Char('.'), -1);
}

QString valueText(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

QString csvField(QString s)
{
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
        s = QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    return s;
}

} // namespace

SweepResults writeSweepResults(const SweepPlan &plan, const std::vector<QueuedRun> &runs)
{
    SweepResults r;
    r.metric = "accuracy";
    for (const auto &q : runs)
        if (q.results.hasConfig) {
            r.metric = q.results.mainMetric();
            break;
        }
    for (size_t i = 0; i < runs.size(); ++i)
        r.order.push_back(i);
    const bool higher = run::higherIsBetter(r.metric);
    std::stable_sort(r.order.begin(), r.order.end(), [&](size_t a, size_t b) {
        const auto va = runs[a].results.bestMain(), vb = runs[b].results.bestMain();
        if (!va || !vb)
            return va.has_value() && !vb.has_value();
        return higher ? *va > *vb : *va < *vb;
    });

    QString csv = QStringLiteral("rank,trial");
    for (const QString &k : plan.keys)
        csv += QLatin1Char(',') + csvField(k);
    csv += QStringLiteral(",best_eval_%1,final_eval_%1,best_eval_loss,epochs_done,epochs,status,run_dir\n").arg(QString::fromStdString(r.metric));
    for (size_t rank = 0; rank < r.order.size(); ++rank) {
        const size_t i = r.order[rank];
        const RunSummary &s = runs[i].results;
        csv += QStringLiteral("%1,%2").arg(rank + 1).arg(csvField(plan.trials[i].name));
        for (const auto &[k, v] : plan.trials[i].values)
            csv += QLatin1Char(',') + csvField(valueText(v));
        const auto num = [](std::optional<double> v) { return v ? QString::number(*v, 'g', 17) : QString(); };
        const auto bestLoss = s.best.count("loss") ? std::optional<double>(s.best.at("loss")) : std::nullopt;
        csv += QStringLiteral(",%1,%2,%3,%4,%5,%6,%7\n")
                   .arg(num(s.bestMain()), num(finalOf(s, r.metric)), num(bestLoss))
                   .arg(s.epochsDone)
                   .arg(s.epochs)
                   .arg(csvField(runs[i].status), csvField(plan.runDir(plan.trials[i])));
    }
    writeFileAtomically(QDir(plan.folder).filePath(QStringLiteral("results.csv")).toStdString(), csv.toStdString());
    writeFileAtomically(QDir(plan.folder).filePath(QStringLiteral("results.json")).toStdString(),
                        QJsonDocument(sweepJson(plan, runs, r)).toJson(QJsonDocument::Indented).toStdString());

    if (!r.order.empty() && runs[r.order.front()].results.bestMain()) {
        // The best trial's config, with the base's thread count (a parallel sweep splits the cores).
        QJsonObject best = QJsonDocument::fromJson(plan.trials[r.order.front()].config).object();
        QJsonObject training = best.value(QStringLiteral("training")).toObject();
        training[QStringLiteral("threads")] = plan.baseThreads;
        best[QStringLiteral("training")] = training;
        r.bestConfig = QDir(plan.folder).filePath(QStringLiteral("best_config.json"));
        writeFileAtomically(r.bestConfig.toStdString(), QJsonDocument(best).toJson(QJsonDocument::Indented).toStdString());
    }
    return r;
}

QJsonObject sweepJson(const SweepPlan &plan, const std::vector<QueuedRun> &runs, const SweepResults &results)
{
    const QString metric = QString::fromStdString(results.metric);
    QJsonArray trials;
    for (size_t rank = 0; rank < results.order.size(); ++rank) {
        const size_t i = results.order[rank];
        const RunSummary &s = runs[i].results;
        QJsonObject values;
        for (const auto &[k, v] : plan.trials[i].values)
            values[k] = v;
        QJsonObject t{{"rank", int(rank + 1)},
                      {"name", plan.trials[i].name},
                      {"run_dir", plan.runDir(plan.trials[i])},
                      {"values", values},
                      {"status", runs[i].status},
                      {"epochs_done", qint64(s.epochsDone)},
                      {"epochs", qint64(s.epochs)},
                      {"checkpoints", s.checkpoints},
                      {"best_checkpoint", s.bestCheckpoint.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(s.bestCheckpoint))},
                      {"seconds", runs[i].seconds}};
        for (const auto &name : s.metricNames) {
            t[QStringLiteral("best_eval_") + QString::fromStdString(name)] = number(s.best.count(name) ? std::optional(s.best.at(name)) : std::nullopt);
            t[QStringLiteral("final_eval_") + QString::fromStdString(name)] = number(finalOf(s, name));
        }
        trials.append(t);
    }
    return QJsonObject{{"sweep", plan.folder},
                       {"spec", plan.specFile},
                       {"metric", QStringLiteral("eval_") + metric},
                       {"keys", QJsonArray::fromStringList(plan.keys)},
                       {"trials", trials},
                       {"best_config", results.bestConfig.isEmpty() ? QJsonValue() : QJsonValue(results.bestConfig)}};
}

void printSweepTable(const SweepPlan &plan, const std::vector<QueuedRun> &runs, const SweepResults &results)
{
    int nameWidth = 5;
    for (const auto &t : plan.trials)
        nameWidth = std::max(nameWidth, static_cast<int>(t.name.size()));
    std::vector<int> widths;
    for (const QString &k : plan.keys) {
        int w = static_cast<int>(shortKey(k).size());
        for (const auto &t : plan.trials)
            for (const auto &[key, v] : t.values)
                if (key == k)
                    w = std::max(w, static_cast<int>(valueText(v).size()));
        widths.push_back(w);
    }
    const QString best = QStringLiteral("best ") + QString::fromStdString(results.metric), fin = QStringLiteral("final ") + QString::fromStdString(results.metric);
    std::printf("\n%-4s  %-*s", "rank", nameWidth, "trial");
    for (int k = 0; k < plan.keys.size(); ++k)
        std::printf("  %-*s", widths[k], qPrintable(shortKey(plan.keys[k])));
    std::printf("  %-14s  %-14s  %-6s  %s\n", qPrintable(best), qPrintable(fin), "epochs", "status");
    for (size_t rank = 0; rank < results.order.size(); ++rank) {
        const size_t i = results.order[rank];
        const RunSummary &s = runs[i].results;
        std::printf("%-4zu  %-*s", rank + 1, nameWidth, qPrintable(plan.trials[i].name));
        for (size_t k = 0; k < plan.trials[i].values.size(); ++k)
            std::printf("  %-*s", widths[k], qPrintable(valueText(plan.trials[i].values[k].second)));
        std::printf("  %-14s  %-14s  %-6s  %s\n", qPrintable(metricText(results.metric, s.bestMain())),
                    qPrintable(metricText(results.metric, finalOf(s, results.metric))),
                    qPrintable(s.epochs > 0 ? QStringLiteral("%1/%2").arg(s.epochsDone).arg(s.epochs) : QStringLiteral("-")),
                    qPrintable(runs[i].failed() ? QStringLiteral("failed") : runs[i].status));
    }
    if (!results.bestConfig.isEmpty())
        std::printf("\nbest: %s; its run config: %s\n", qPrintable(plan.trials[results.order.front()].name), qPrintable(results.bestConfig));
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/run_history.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace netwright::cli {

std::vector<CheckpointRow> readRunHistory(const QString &dir, bool *ok)
{
    QFile log(dir + QStringLiteral("/checkpoints.jsonl"));
    const bool opened = log.open(QIODevice::ReadOnly);
    if (ok)
        *ok = opened;
    std::vector<CheckpointRow> rows;
    if (!opened)
        return rows; // no checkpoints yet
    auto find = [&](const QString &file) -> CheckpointRow * {
        for (auto it = rows.rbegin(); it != rows.rend(); ++it)
            if (it->file == file)
                return &*it;
        return nullptr;
    };
    for (const QByteArray &line : log.readAll().split('\n')) {
        const QJsonObject o = QJsonDocument::fromJson(line).object(); // a partial last line parses as empty
        const QString event = o.value("event").toString();
        if (event == QLatin1String("saved")) {
            CheckpointRow r;
            r.file = o["file"].toString();
            r.reason = o["reason"].toString();
            r.epoch = o["epoch"].toInteger();
            r.step = o["global_step"].toInteger();
            r.bytes = o["bytes"].toInteger();
            r.time = o["time"].toDouble();
            r.accuracy = o.value("eval_accuracy");
            r.loss = o.value("eval_loss");
            if (CheckpointRow *old = find(r.file); old && old->status == QLatin1String("kept"))
                old->status = QStringLiteral("replaced");
            rows.push_back(r);
        } else if (event == QLatin1String("metrics")) {
            if (CheckpointRow *r = find(o["file"].toString())) {
                r->accuracy = o.value("eval_accuracy");
                r->loss = o.value("eval_loss");
            }
        } else if (event == QLatin1String("deleted")) {
            if (CheckpointRow *r = find(o["file"].toString())) {
                r->status = QStringLiteral("deleted");
                r->rule = o["rule"].toString();
            }
        }
    }
    for (auto &r : rows)
        if (r.status == QLatin1String("kept") && !QFileInfo::exists(dir + "/" + r.file))
            r.status = QStringLiteral("missing");
    return rows;
}

} // namespace netwright::cli

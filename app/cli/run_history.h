// SPDX-License-Identifier: Apache-2.0
// A run's checkpoint history, read from its checkpoints.jsonl: every checkpoint ever saved, its
// metrics, and whether it is kept, was deleted (by which rule), replaced or is missing. Reads a
// log another process is still appending to (a partial last line is skipped). `netwright
// history` prints it; the window's history panel shows it. Layer: app/cli.
#pragma once

#include <QJsonValue>
#include <QString>

#include <vector>

namespace netwright::cli {

struct CheckpointRow {
    QString file, reason, status = QStringLiteral("kept"), rule;
    qint64 epoch = 0, step = 0, bytes = 0;
    double time = 0; // seconds since the epoch
    QJsonValue accuracy, loss;
};

// Empty when the directory has no checkpoints.jsonl (*ok = false then).
std::vector<CheckpointRow> readRunHistory(const QString &dir, bool *ok = nullptr);

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/run_directory.h"

#include "core/error.h"

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

} // namespace netwright::cli

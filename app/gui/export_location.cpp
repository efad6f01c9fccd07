// SPDX-License-Identifier: Apache-2.0
#include "gui/export_location.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

namespace netwright::gui {

QString exportDirectory()
{
    const QString last = QSettings().value(QLatin1String(kExportDirectoryKey)).toString();
    if (!last.isEmpty() && QFileInfo(last).isDir())
        return last;
    const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    return !documents.isEmpty() && QFileInfo(documents).isDir() ? documents : QDir::homePath();
}

void rememberExportDirectory(const QString &file)
{
    QSettings().setValue(QLatin1String(kExportDirectoryKey), QFileInfo(file).absolutePath());
}

QString defaultExportPath(const QString &name)
{
    return QDir(exportDirectory()).filePath(name);
}

} // namespace netwright::gui

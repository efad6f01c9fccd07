// SPDX-License-Identifier: Apache-2.0
// What the window's tests share: the shared fixtures' paths, waiting for a document to read its
// file and lay out its graph, and settings kept away from the user's.
#pragma once

#include "gui/model_document.h"
#include "graph/graph_view.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSettings>
#include <QString>
#include <QTest>

namespace netwright::test {

// A file of ../shared/fixtures (NETWRIGHT_SHARED_DIR), as an absolute path.
inline QString fixture(const QString &rel)
{
    return QFileInfo(qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/" + rel).absoluteFilePath();
}

// Waits until the document has read its file and, if it has a graph, laid it out with the
// engine's shapes (the first drawing has only those the file states), or said why it cannot.
// False after `ms`.
inline bool waitReady(gui::ModelDocument *doc, int ms = 60000)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        if (doc->isLoaded() && doc->isAnalysed() && (doc->model()->nodes.empty() || doc->graphView()->isLaidOut()))
            return true;
        if (!doc->errorText().isEmpty())
            return true;
        QTest::qWait(20);
    }
    return false;
}

// The test program's settings (recent files, window state, export folders) in `dir`, never the user's.
inline void isolateSettings(const QString &dir, const char *organization = "NetwrightTest")
{
    QCoreApplication::setOrganizationName(organization);
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir);
}

} // namespace netwright::test

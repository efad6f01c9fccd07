// SPDX-License-Identifier: Apache-2.0
// The window's non-modal banner for files that could not be opened: one line per file, naming
// the file (its whole path) and the problem as the CLI says it, shown at once above the tabs —
// no tab is left behind for it. Dismissed with its × or replaced by the next failure.
// Thread affinity: UI thread. Layer: app.
#pragma once

#include <QFrame>
#include <QStringList>

class QLabel;

namespace netwright::gui {

class OpenErrorBanner : public QFrame {
    Q_OBJECT
public:
    explicit OpenErrorBanner(QWidget *parent = nullptr);
    // Shows the banner with `path` and `problem` added (the same file again replaces its line).
    void addFailure(const QString &path, const QString &problem);
    // The banner's lines as plain text.
    QString text() const;
    void dismiss();

private:
    QLabel *m_label;
    QStringList m_paths, m_lines;
};

} // namespace netwright::gui

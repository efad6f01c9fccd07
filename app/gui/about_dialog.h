// SPDX-License-Identifier: Apache-2.0
// Help ▸ About: what this build is — version and git commit, build options (CUDA, MPI), the
// libraries it runs with (Qt, oneDNN and the CPU level its kernels use, protobuf, ONNX), the license and where the documentation
// is — as selectable text, with a button that copies it for a bug report. Also where Help ▸
// Documentation goes: the installed docs, else the source tree's README. Thread affinity: UI
// thread. Layer: app.
#pragma once

#include <QDialog>

class QLabel;

namespace netwright::gui {

// The documentation to open: the installed docs folder's README.md (share/doc/…), else the
// README.md of the source tree the program was built from; empty when neither is there.
QString documentationPath();

class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget *parent = nullptr);
    // The facts as plain text, one per line ("Version: 0.1.0 (commit 1a2b3c…)", "CUDA: on", …).
    QString buildText() const;
    QLabel *body() const { return m_body; }

private:
    QLabel *m_body;
};

} // namespace netwright::gui

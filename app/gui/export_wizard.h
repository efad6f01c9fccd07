// SPDX-License-Identifier: Apache-2.0
// The export wizard (QWizard): source (the open model, a checkpoint or a run directory) → target
// (ONNX, MindIR, AIR, CNTK model-v2) → options (opset, dynamic batch, file name: in the folder last
// exported to, else the documents folder; Browse… filters by the format's extension) → pre-flight
// (every op checked against the target, nothing written when one does not map) → write and
// verify (the file imported back: weights bit-identical, outputs on a probe batch equal), the
// same path as `netwright export`. The work runs on a pool thread; the pages show progress.
// Thread affinity: UI thread. Layer: app.
#pragma once

#include <QWizard>

#include <memory>

class QButtonGroup;
class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QSpinBox;

namespace netwright::gui {

class ExportWizard : public QWizard {
    Q_OBJECT
public:
    enum Page { SourcePage, TargetPage, OptionsPage, PreflightPage, VerifyPage };

    explicit ExportWizard(const QString &source = {}, QWidget *parent = nullptr);
    ~ExportWizard() override;

    // The settings the pages hold (for tests and for the defaults).
    QString sourcePath() const;
    QString formatOption() const; // onnx, mindir, air, cntk
    QString outputPath() const;
    QString preflightText() const;
    QString verificationText() const;
    bool preflightPassed() const { return m_preflightOk; }
    bool written() const { return m_written; }

    struct Work; // the loaded source and the bytes, shared with the pool thread

private:
    void startPreflight();
    void startWrite();

    std::shared_ptr<Work> m_work;
    QLineEdit *m_source, *m_output;
    QButtonGroup *m_formats;
    QSpinBox *m_opset;
    QLineEdit *m_inputShape;
    QCheckBox *m_dynamic;
    QPlainTextEdit *m_preflight, *m_report;
    QProgressBar *m_preflightBusy, *m_writeBusy;
    bool m_preflightOk = false, m_written = false, m_busy = false;
    friend class ExportPage;
};

} // namespace netwright::gui

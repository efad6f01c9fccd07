// SPDX-License-Identifier: Apache-2.0
// The training panel's data section: the data and task keys as form rows (your folder or file,
// Fashion-MNIST, IDX/CSV files; test data or split, task, label column, resize), the preview read
// off the UI thread after a short pause, and the model checked against the data for every dataset
// (a mismatch, naming both shapes, is the form's error before Start). UI thread; reads and checks run on QtConcurrent's pool. Layer: app.
#pragma once

#include "config/run_config.h"

#include <QFutureWatcher>
#include <QGroupBox>
#include <QTimer>

#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QToolButton;

namespace netwright::widgets {
class DataPreview;
struct DataPreviewContents;
} // namespace netwright::widgets

namespace netwright::gui {

class DataSection : public QGroupBox {
    Q_OBJECT
public:
    // `preview` shows what the section reads (the panel places it).
    explicit DataSection(widgets::DataPreview *preview, QWidget *parent = nullptr);
    ~DataSection() override;

    // The data and task keys of the form into `config` (every other key as it was), and back.
    void applyTo(RunConfig &config) const;
    void setFrom(const RunConfig &config);
    // A field that does not make a key ("Resize: "3x" is not HxW."), else empty.
    QString formError() const;
    // The config as the panel has it after an edit. The data are read again (after a short pause)
    // when their settings changed; the model is checked against them when the model or the data
    // changed and `valid` (the rest of the config passed validation).
    void update(const RunConfig &config, bool valid);
    // What the data show the settings lack: a test split, or a model that fits them (naming
    // both shapes). Empty while unknown (still reading or checking) and when all is well.
    QString problem() const;
    // The training samples after the split, once read (the checkpoint preview counts steps
    // with it); 0 while unknown.
    int64_t trainSamples() const;
    // Reading the data or checking the model.
    bool isBusy() const;
    // Reads the data again (the files changed on disk).
    void reload();

signals:
    void edited();  // a field changed: the config did
    void checked(); // the data were read or the model was checked: problem() may have changed

public:
    // What a read and a check hand back from the pool (key: the settings they were made for).
    struct LoadResult {
        QString key;
        std::shared_ptr<const widgets::DataPreviewContents> contents;
        QString error;
    };
    struct CheckResult {
        QString key, problem, summary;
    };
    struct SourceCache; // the last source read, shared with the reading thread

private:
    void updateRows();
    void startLoad();
    void loaded();
    void scheduleCheck();
    void startCheck();
    void checkedModel();
    void adjustTestSplit();
    bool previewable() const;
    // What the form lacks before the data can be read ("Choose the four IDX files …"), else empty.
    static QString missingFiles(const RunConfig &config);

    widgets::DataPreview *m_preview;
    QFormLayout *m_form;
    QComboBox *m_dataset, *m_task;
    QLineEdit *m_path, *m_testPath, *m_label, *m_targets, *m_resize;
    QLineEdit *m_trainImages, *m_trainLabels, *m_testImages, *m_testLabels, *m_trainCsv, *m_testCsv;
    QWidget *m_pathRow, *m_testPathRow;
    QDoubleSpinBox *m_testSplit;
    QToolButton *m_reload;
    QLabel *m_fit;

    RunConfig m_config; // the panel's, as of the last update()
    bool m_valid = false;
    // The test split was chosen (by the user or the config), not by the form's default.
    bool m_splitChosen = true, m_settingSplit = false;
    int m_generation = 0; // bumped by reload()
    // A read or a check for the current settings is under way (its result not yet taken).
    bool m_loading = false, m_checking = false;

    QTimer m_loadTimer;
    QString m_loadKey;
    QFutureWatcher<LoadResult> m_load;
    std::shared_ptr<SourceCache> m_cache;
    std::shared_ptr<const widgets::DataPreviewContents> m_contents;
    int64_t m_contentsSerial = 0; // counts the contents shown (the model check's key)

    QString m_checkKey, m_checkProblem;
    QFutureWatcher<CheckResult> m_check;
};

} // namespace netwright::gui

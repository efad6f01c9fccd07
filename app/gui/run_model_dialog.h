// SPDX-License-Identifier: Apache-2.0
// "Run on Inputs…": the open model file (ONNX, MindIR, AIR, CNTK model-v2) run on input tensors,
// as `netwright run` does. The dialog lists the model's inputs — name, element type, shape (-1 =
// any size) — with a file per input (NumPy .npy or an ONNX TensorProto .pb); the model is read and
// run on a pool thread, so the window stays responsive, and the outputs go to the document, which
// shows them in the tensor inspector. An error (no file chosen, a file that cannot be read, another
// element type or shape: the engine's message, naming the input and the file) is shown in the
// dialog; the chosen files and the outputs of the last good run stay as they were.
// Thread affinity: UI thread (the model is read and run on a pool thread). Layer: app.
#pragma once

#include "formats/model_runner.h"

#include <QDialog>
#include <QFutureWatcher>

#include <memory>
#include <vector>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace netwright::gui {

class RunModelDialog : public QDialog {
    Q_OBJECT
public:
    explicit RunModelDialog(const QString &modelPath, QWidget *parent = nullptr);
    ~RunModelDialog() override;

    // The model's inputs are listed (false while it is read, or when it cannot be: errorText()).
    bool isReady() const { return m_graph != nullptr; }
    bool isRunning() const { return m_run.isRunning(); }
    int inputCount() const;
    QTableWidget *inputTable() const { return m_inputs; }
    QLineEdit *fileField(int input) const;
    void setInputFile(int input, const QString &path);
    QPushButton *runButton() const { return m_runButton; }
    QString errorText() const;
    QString statusText() const;

    // Reads the chosen files and runs the model on a pool thread; runFinished() tells the end.
    void run();

signals:
    void ready(); // the inputs are listed, or the model could not be read (errorText())
    void outputsReady(const std::vector<netwright::ModelOutput> &outputs);
    void runFinished(const QString &error); // after each run: empty on success

private:
    struct Imported {
        std::shared_ptr<Graph> graph;
        QString error;
    };
    struct RunResult {
        std::vector<ModelOutput> outputs;
        QString error;
        double milliseconds = 0;
    };

    void onImported();
    void onRunFinished();
    void chooseFile(int input);
    void showError(const QString &error);

    QString m_path;
    std::shared_ptr<Graph> m_graph;
    QFutureWatcher<Imported> m_import;
    QFutureWatcher<RunResult> m_run;
    QTableWidget *m_inputs;
    QLabel *m_error, *m_status;
    QProgressBar *m_busy;
    QPushButton *m_runButton;
};

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// One open file in the window (a tab): read in the background with the format registry, then
// shown as the graph (GraphView), the node's properties, the parameters and the tensor
// inspector, with a search bar over the graph. A file that cannot be read shows the error as one
// sentence with the details behind a button. The document owns the ModelDescription; the widgets
// only show it. Thread affinity: UI thread (the read runs on a pool thread). Layer: app.
#pragma once

#include "core/tensor_stats.h"
#include "formats/mindspore/ms_encryption.h"
#include "formats/model_description.h"
#include "formats/model_runner.h"

#include <QFutureWatcher>
#include <QWidget>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class QLabel;
class QLineEdit;
class QStackedWidget;
class QTableWidget;
class QTreeWidget;
class QTabWidget;
class QTextBrowser;
class QToolButton;

namespace netwright::widgets {
class GraphView;
class TensorInspector;
} // namespace netwright::widgets

namespace netwright::gui {

class ParameterTable;
class RunModelDialog;

// What the background read produces.
struct LoadedModel {
    ModelDescription model;
    std::map<std::string, std::string> shapes; // value → shape text ("batch×3×224×224"), for edge labels
    std::map<std::string, ValueDescription> values; // every value's dtype and shape (engine/formats/value_shapes.h)
    QString error, details;                    // the sentence and what is behind "Details"
    bool runnable = false;                     // a model the engine runs: ONNX, MindIR, AIR, CNTK model-v2
    bool needsKey = false;                     // an encrypted MindSpore file opened without a key
    std::vector<std::optional<TensorStats>> parameterStats; // per parameter, for the Parameters table
};

// Every value's shape by the engine's analysis over an import of the file (ONNX, MindIR, AIR,
// CNTK — symbolic dimensions kept by name), else what the file states. (analyseShapes
// below).
struct ShapeAnalysis {
    std::map<std::string, std::string> shapes; // value → edge label ("batch×3×224×224")
    std::map<std::string, ValueDescription> values;
};

class ModelDocument : public QWidget {
    Q_OBJECT
public:
    // `key`: for an encrypted MindSpore checkpoint or MindIR (empty: none; such a file then fails
    // with needsKey()). The key stays in memory only.
    explicit ModelDocument(const QString &path, QWidget *parent = nullptr, const mindspore::EncryptionKey &key = {});
    ~ModelDocument() override;

    QString path() const { return m_path; }
    bool isLoaded() const { return m_loaded != nullptr && m_loaded->error.isEmpty(); }
    // The graph is drawn as soon as the file is read, with the shapes the file states; the
    // engine's shape analysis runs meanwhile and relabels the edges when it ends (analysed()).
    bool isAnalysed() const { return m_analysed; }
    QString errorText() const { return m_loaded ? m_loaded->error : QString(); }
    // Not opened because the file is an encrypted MindSpore file and no key was given.
    bool needsKey() const { return m_loaded != nullptr && m_loaded->needsKey; }
    QString errorDetails() const { return m_loaded ? m_loaded->details : QString(); } // the reader's sentence, naming the file
    const ModelDescription *model() const { return isLoaded() ? &m_loaded->model : nullptr; }
    // Whether "Run on Inputs…" applies: a model file the engine runs (not a checkpoint or a dump).
    bool isRunnable() const { return isLoaded() && m_loaded->runnable; }

    widgets::GraphView *graphView() const { return m_graph; }
    widgets::TensorInspector *tensorInspector() const { return m_inspector; }
    // The selected node's properties, or the model's summary (inputs, outputs, parameters, ops)
    // when none is selected; values wrap, never cut.
    QTreeWidget *properties() const { return m_properties; }
    // The selected op's documentation from ONNX's schemas (hidden when there is none).
    QTextBrowser *opDocumentation() const { return m_docs; }
    QTableWidget *parameterTable() const; // a ParameterTable
    QLineEdit *searchField() const { return m_search; }
    QTableWidget *outputTable() const { return m_outputTable; }
    RunModelDialog *runDialog() const { return m_runDialog; } // null until first opened
    // The outputs of the last good run on inputs (empty before one).
    const std::vector<ModelOutput> &outputs() const { return m_outputs; }

    // Shows a parameter in the tensor inspector (by name); false when there is none.
    bool inspectParameter(const QString &name);
    // Shows output `index` of the last run in the tensor inspector; false when there is none.
    bool inspectOutput(int index);
    // Opens "Run on Inputs…" (one dialog per document: its files stay between runs).
    void runOnInputs();
    void focusSearch();
    // The next/previous search match (F3, Shift+F3, the arrows, Enter), the counter following.
    void findNext();
    void findPrevious();
    // The counter beside the search field: "2 of 3", "no match", or empty without a search.
    QString matchText() const;
    // What this document last said for the status bar (the window shows the current tab's).
    QString statusText() const { return m_status; }

signals:
    void loaded();       // the file was read (or failed: see errorText())
    void analysed();     // the shape analysis ended: the edges and properties show its shapes
    void statusMessage(const QString &text);

private:
    void onLoaded();
    void onAnalysed();
    void showNode(int modelNode);
    void updateMatchLabel();
    void say(const QString &text); // sets statusText() and emits statusMessage
    void showOutputs(const std::vector<ModelOutput> &outputs);

    QString m_path;
    QFutureWatcher<std::shared_ptr<LoadedModel>> m_watcher;
    std::shared_ptr<LoadedModel> m_loaded;
    QFutureWatcher<ShapeAnalysis> m_analysis; // not waited for on close: its job holds what it reads
    bool m_analysed = false;
    QStackedWidget *m_stack;
    QLabel *m_errorLabel, *m_matchLabel;
    QToolButton *m_details, *m_runButton;
    widgets::GraphView *m_graph;
    widgets::TensorInspector *m_inspector;
    QTreeWidget *m_properties;
    QTextBrowser *m_docs;
    ParameterTable *m_parameters;
    QTableWidget *m_outputTable;
    QTabWidget *m_side;
    QLineEdit *m_search;
    RunModelDialog *m_runDialog = nullptr;
    std::vector<ModelOutput> m_outputs;
    QString m_status;
};

// Runs on any thread; can take seconds (Silero VAD's If bodies), so the window draws the graph
// first with statedShapes.
ShapeAnalysis analyseShapes(const QString &path, const ModelDescription &model);
// The edge labels of the shapes the file itself states (inputs, outputs, value_info, parameters).
std::map<std::string, std::string> statedShapes(const ModelDescription &model);

// Reads a file into what the document shows (runs on any thread). analyse: also run
// analyseShapes (else `shapes` holds statedShapes and `values` stays empty).
std::shared_ptr<LoadedModel> loadModel(const QString &path, bool analyse = true, const mindspore::EncryptionKey &key = {});

} // namespace netwright::gui

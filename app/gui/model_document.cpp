// SPDX-License-Identifier: Apache-2.0
#include "gui/model_document.h"

#include "core/error.h"
#include "core/file_io.h"
#include "core/tensor_stats.h"
#include "formats/checkpoint_graph.h"
#include "formats/graph_formats.h"
#include "formats/model_summary.h"
#include "formats/onnx/op_documentation.h"
#include "formats/value_shapes.h"
#include "formats/registry.h"
#include "graph/graph_view.h"
#include "graph/visible_graph.h"
#include "gui/parameter_table.h"
#include "gui/run_model_dialog.h"
#include "gui/wrapping_delegate.h"
#include "tensor/tensor_inspector.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTableWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace netwright::gui {

ShapeAnalysis analyseShapes(const QString &path, const ModelDescription &model)
{
    ShapeAnalysis out;
    try {
        out.values = valueShapes(path.toStdString(), model).values;
    } catch (const Error &) {
        return out;
    }
    for (const auto &[name, v] : out.values)
        if (const std::string label = widgets::shapeLabel(v); !label.empty())
            out.shapes.emplace(name, label);
    return out;
}

std::map<std::string, std::string> statedShapes(const ModelDescription &model)
{
    std::map<std::string, std::string> shapes;
    for (const auto *list : {&model.values, &model.parameters, &model.inputs, &model.outputs})
        for (const auto &v : *list)
            if (const std::string label = widgets::shapeLabel(v); !label.empty() && !v.name.empty())
                shapes[v.name] = label;
    return shapes;
}

std::shared_ptr<LoadedModel> loadModel(const QString &path, bool analyse, const mindspore::EncryptionKey &key)
{
    auto out = std::make_shared<LoadedModel>();
    try {
        out->model = describeFile(path.toStdString(), key);
        // A checkpoint with its run's graph dump beside it opens with that graph.
        if (out->model.format == "mindspore-ckpt" || out->model.format == "safetensors")
            if (const std::string meta = graphMetaBeside(path.toStdString()); !meta.empty()) {
                try {
                    out->model = withGraph(std::move(out->model), describeFile(meta), meta);
                } catch (const Error &e) {
                    out->model.properties.emplace_back("graph", std::string(e.what()));
                }
            }
        out->parameterStats = parameterStatistics(out->model.parameters);
    } catch (const Error &e) {
        out->error = QObject::tr("Netwright cannot open \"%1\".").arg(QFileInfo(path).fileName());
        out->details = QString::fromUtf8(e.what());
        try {
            out->needsKey = key.empty() && mindspore::encryptedMode(readFilePrefix(path.toStdString(), 4)).has_value();
        } catch (const Error &) {
        }
        return out;
    }
    try {
        out->runnable = key.empty() && detectGraphFormat(path.toStdString()).has_value(); // `run` takes no key
    } catch (const Error &) {
    }
    if (out->model.nodes.empty())
        return out;
    if (analyse) {
        ShapeAnalysis a = analyseShapes(path, out->model);
        out->shapes = std::move(a.shapes);
        out->values = std::move(a.values);
    } else {
        out->shapes = statedShapes(out->model);
    }
    return out;
}

ModelDocument::ModelDocument(const QString &path, QWidget *parent, const mindspore::EncryptionKey &key)
    : QWidget(parent), m_path(path), m_stack(new QStackedWidget(this)), m_errorLabel(new QLabel(this)), m_matchLabel(new QLabel(this)),
      m_details(new QToolButton(this)), m_runButton(new QToolButton(this)), m_graph(new widgets::GraphView(this)), m_inspector(new widgets::TensorInspector(this)),
      m_properties(new QTreeWidget(this)), m_docs(new QTextBrowser(this)), m_parameters(new ParameterTable(this)), m_outputTable(new QTableWidget(this)), m_side(new QTabWidget(this)), m_search(new QLineEdit(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    // Page 0: reading. Page 1: the error. Page 2: the model.
    auto *reading = new QLabel(tr("Reading %1…").arg(QFileInfo(path).fileName()), this);
    reading->setAlignment(Qt::AlignCenter);
    m_stack->addWidget(reading);

    auto *errorPage = new QWidget(this);
    auto *errorLayout = new QVBoxLayout(errorPage);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setAlignment(Qt::AlignCenter);
    m_details->setText(tr("Details…"));
    errorLayout->addStretch();
    errorLayout->addWidget(m_errorLabel);
    errorLayout->addWidget(m_details, 0, Qt::AlignHCenter);
    errorLayout->addStretch();
    m_stack->addWidget(errorPage);
    connect(m_details, &QToolButton::clicked, this, [this] {
        QMessageBox box(QMessageBox::Warning, tr("Open"), m_loaded ? m_loaded->error : QString(), QMessageBox::Ok, this);
        box.setDetailedText(m_loaded ? m_loaded->details : QString());
        box.exec();
    });

    auto *modelPage = new QSplitter(Qt::Horizontal, this);
    auto *center = new QWidget(modelPage);
    auto *centerLayout = new QVBoxLayout(center);
    centerLayout->setContentsMargins(0, 0, 0, 0);
    auto *searchBar = new QHBoxLayout;
    m_search->setPlaceholderText(tr("Find a node by name or op type"));
    m_search->setClearButtonEnabled(true);
    auto *previous = new QToolButton(center);
    previous->setText(QStringLiteral("▲"));
    previous->setToolTip(tr("Previous match (Shift+F3)"));
    auto *next = new QToolButton(center);
    next->setText(QStringLiteral("▼"));
    next->setToolTip(tr("Next match (F3)"));
    searchBar->addWidget(m_search, 1);
    searchBar->addWidget(previous);
    searchBar->addWidget(next);
    searchBar->addWidget(m_matchLabel);
    auto *cancel = new QToolButton(center);
    cancel->setText(tr("Cancel Layout"));
    cancel->setToolTip(tr("Stop laying out the graph (Graphviz's dot is stopped)"));
    cancel->hide();
    searchBar->addWidget(cancel);
    m_runButton->setText(tr("Run on Inputs…"));
    m_runButton->setToolTip(tr("Run the model on input tensors (.npy or .pb files) and inspect its outputs"));
    m_runButton->hide(); // shown for a model the engine runs, once read
    searchBar->addWidget(m_runButton);
    connect(m_runButton, &QToolButton::clicked, this, &ModelDocument::runOnInputs);
    connect(cancel, &QToolButton::clicked, m_graph, &widgets::GraphView::cancelLayout);
    connect(m_graph, &widgets::GraphView::layoutStarted, cancel, &QWidget::show);
    connect(m_graph, &widgets::GraphView::layoutFinished, cancel, &QWidget::hide);
    connect(m_graph, &widgets::GraphView::layoutFailed, cancel, &QWidget::hide);
    centerLayout->addLayout(searchBar);
    centerLayout->addWidget(m_graph, 1);
    modelPage->addWidget(center);

    m_properties->setHeaderLabels({tr("Property"), tr("Value")});
    wrapItemTexts(m_properties);
    m_docs->setOpenExternalLinks(true);
    m_docs->hide();
    // Properties above, the op's documentation below.
    auto *propertiesPane = new QSplitter(Qt::Vertical, this);
    propertiesPane->addWidget(m_properties);
    propertiesPane->addWidget(m_docs);
    propertiesPane->setStretchFactor(0, 3);
    propertiesPane->setStretchFactor(1, 2);
    propertiesPane->setChildrenCollapsible(false);
    m_side->addTab(propertiesPane, tr("Properties"));
    m_side->addTab(m_parameters, tr("Parameters"));
    m_side->addTab(m_inspector, tr("Tensor"));
    // The outputs of the last run on inputs: listed once there is one.
    m_outputTable->setColumnCount(4);
    m_outputTable->setHorizontalHeaderLabels({tr("Output"), tr("Type"), tr("Shape"), tr("Mean")});
    m_outputTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_outputTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_outputTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_outputTable->verticalHeader()->hide();
    m_outputTable->horizontalHeader()->setStretchLastSection(true);
    m_side->addTab(m_outputTable, tr("Outputs"));
    m_side->setTabVisible(m_side->indexOf(m_outputTable), false);
    modelPage->addWidget(m_side);
    modelPage->setStretchFactor(0, 3);
    modelPage->setStretchFactor(1, 1);
    m_stack->addWidget(modelPage);

    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_graph->find(text);
        updateMatchLabel();
    });
    connect(m_search, &QLineEdit::returnPressed, this, &ModelDocument::findNext);
    connect(next, &QToolButton::clicked, this, &ModelDocument::findNext);
    connect(previous, &QToolButton::clicked, this, &ModelDocument::findPrevious);
    connect(m_graph, &widgets::GraphView::nodeSelected, this, &ModelDocument::showNode);
    connect(m_graph, &widgets::GraphView::layoutStarted, this, [this](int nodes) { say(tr("Laying out %n boxes…", nullptr, nodes)); });
    connect(m_graph, &widgets::GraphView::layoutFinished, this, [this] {
        if (const ModelDescription *m = model())
            say(tr("%1: %2, %n nodes, %3 parameters", nullptr, static_cast<int>(m->nodes.size()))
                    .arg(QFileInfo(m_path).fileName(), QString::fromStdString(m->formatName), QLocale().toString(static_cast<qlonglong>(m->parameters.size()))));
    });
    connect(m_graph, &widgets::GraphView::layoutFailed, this, &ModelDocument::say);
    connect(m_graph, &widgets::GraphView::nameCopied, this, [this](const QString &name) { say(tr("Copied \"%1\".").arg(name)); });
    connect(m_parameters, &QTableWidget::itemSelectionChanged, this, [this] {
        const auto rows = m_parameters->selectionModel()->selectedRows();
        if (!rows.isEmpty())
            inspectParameter(m_parameters->nameAt(rows.first().row()));
    });
    connect(m_outputTable, &QTableWidget::itemSelectionChanged, this, [this] {
        const auto rows = m_outputTable->selectionModel()->selectedRows();
        if (!rows.isEmpty())
            inspectOutput(rows.first().row());
    });
    connect(m_properties, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem *item) {
        if (item->data(0, Qt::UserRole).toBool())
            inspectParameter(item->text(1));
    });

    m_status = tr("Reading %1…").arg(QFileInfo(path).fileName());
    connect(&m_watcher, &QFutureWatcher<std::shared_ptr<LoadedModel>>::finished, this, &ModelDocument::onLoaded);
    m_watcher.setFuture(QtConcurrent::run([path, key] { return loadModel(path, false, key); }));
    connect(&m_analysis, &QFutureWatcher<ShapeAnalysis>::finished, this, &ModelDocument::onAnalysed);
}

ModelDocument::~ModelDocument()
{
    m_watcher.waitForFinished();
}

void ModelDocument::onLoaded()
{
    m_loaded = m_watcher.result();
    if (!m_loaded->error.isEmpty()) {
        m_errorLabel->setText(m_loaded->error);
        m_analysed = true;
        m_stack->setCurrentIndex(1);
        say(m_loaded->error);
        emit loaded();
        return;
    }
    const ModelDescription &m = m_loaded->model;
    m_parameters->setParameters(m.parameters, m_loaded->parameterStats);
    m_stack->setCurrentIndex(2);
    m_runButton->setVisible(m_loaded->runnable);
    if (m.nodes.empty()) {
        // A checkpoint without a graph: the parameters fill the tab where the graph would be, the
        // tensor inspector beside them.
        if (auto *page = qobject_cast<QSplitter *>(m_stack->widget(2)); page && page->indexOf(m_parameters) < 0) {
            page->replaceWidget(0, m_parameters); // its tab goes with it
            m_parameters->show();
            page->setSizes({page->width() * 3 / 5, page->width() * 2 / 5});
        }
        m_side->setCurrentWidget(m_inspector);
        m_graph->setModel(nullptr, {});
        say(tr("%1: %2, %n parameters (a checkpoint holds no graph)", nullptr, static_cast<int>(m.parameters.size()))
                .arg(QFileInfo(m_path).fileName(), QString::fromStdString(m.formatName)));
    } else {
        // Drawn at once with the shapes the file states; the engine's analysis (seconds for some
        // files) relabels the edges when it ends. Its job holds the model it reads, so closing
        // the tab does not wait for it.
        m_graph->setModel(&m, m_loaded->shapes);
        std::shared_ptr<const LoadedModel> loaded = m_loaded;
        const QString path = m_path;
        m_analysis.setFuture(QtConcurrent::run([loaded, path] { return analyseShapes(path, loaded->model); }));
    }
    m_analysed = m.nodes.empty();
    // The file's properties until a node is selected.
    showNode(-1);
    emit loaded();
}

void ModelDocument::onAnalysed()
{
    ShapeAnalysis a = m_analysis.result();
    m_loaded->values = std::move(a.values);
    m_loaded->shapes = std::move(a.shapes);
    m_graph->setShapes(m_loaded->shapes);
    showNode(m_graph->selectedNode());
    m_analysed = true;
    emit analysed();
}

namespace {

// "float32 batch×3×224×224"
QString typeAndShape(const ValueDescription &v)
{
    const std::string shape = widgets::shapeLabel(v);
    return QString::fromStdString(v.dtype + (shape.empty() ? "" : " " + shape));
}

QString byteText(int64_t bytes)
{
    return QStringLiteral("%1 (%2 bytes)").arg(QLocale().formattedDataSize(bytes), QLocale().toString(static_cast<qlonglong>(bytes)));
}

// The op's schema as readable text: what it does, then its inputs, outputs and attributes.
QString documentationMarkdown(const OpDocumentation &d)
{
    QString md = QStringLiteral("### %1\n\n*%2, since opset %3*\n\n")
                     .arg(QString::fromStdString(d.opType), d.domain.empty() ? QStringLiteral("ai.onnx") : QString::fromStdString(d.domain))
                     .arg(d.sinceVersion);
    md += QString::fromStdString(d.doc).trimmed() + "\n\n";
    auto list = [&](const QString &title, const std::vector<OpDocumentation::Item> &items, bool attributes) {
        if (items.empty())
            return;
        md += "#### " + title + "\n\n";
        for (const auto &i : items) {
            QStringList notes;
            if (!i.type.empty())
                notes << QString::fromStdString(i.type);
            if (i.optional)
                notes << QObject::tr("optional");
            if (i.variadic)
                notes << QObject::tr("variadic");
            if (attributes && i.required)
                notes << QObject::tr("required");
            if (!i.defaultValue.empty())
                notes << QObject::tr("default %1").arg(QString::fromStdString(i.defaultValue));
            md += QStringLiteral("- **%1** (%2): %3\n").arg(QString::fromStdString(i.name), notes.join(", "), QString::fromStdString(i.description).simplified());
        }
        md += "\n";
    };
    list(QObject::tr("Inputs"), d.inputs, false);
    list(QObject::tr("Outputs"), d.outputs, false);
    list(QObject::tr("Attributes"), d.attributes, true);
    return md;
}

} // namespace

void ModelDocument::showNode(int modelNode)
{
    m_properties->clear();
    m_docs->hide();
    const ModelDescription *m = model();
    if (!m)
        return;
    auto section = [this](const QString &title) {
        auto *item = new QTreeWidgetItem(m_properties, {title});
        QFont f = item->font(0);
        f.setBold(true);
        item->setFont(0, f);
        item->setFirstColumnSpanned(true);
        item->setExpanded(true);
        return item;
    };
    auto row = [](QTreeWidgetItem *parent, const QString &key, const QString &value) {
        auto *item = new QTreeWidgetItem(parent, {key, value});
        item->setToolTip(1, value);
        return item;
    };
    auto valueOf = [this](const ValueDescription &v) {
        const auto it = m_loaded->values.find(v.name);
        return typeAndShape(it != m_loaded->values.end() && it->second.shapeKnown ? it->second : v);
    };
    if (modelNode < 0 || modelNode >= static_cast<int>(m->nodes.size())) {
        // Netron's model properties: the file, its inputs and outputs, the weights, the ops.
        auto *file = section(QString::fromStdString(m->formatName));
        row(file, tr("file"), m_path);
        for (const auto &[k, v] : m->properties)
            row(file, QString::fromStdString(k), QString::fromStdString(v));
        row(file, tr("nodes"), QLocale().toString(static_cast<qlonglong>(m->nodes.size())));
        if (!m->inputs.empty()) {
            auto *inputs = section(tr("Inputs"));
            for (const auto &v : m->inputs)
                row(inputs, QString::fromStdString(v.name), valueOf(v));
        }
        if (!m->outputs.empty()) {
            auto *outputs = section(tr("Outputs"));
            for (const auto &v : m->outputs)
                row(outputs, QString::fromStdString(v.name), valueOf(v));
        }
        const ParameterTotals totals = parameterTotals(m->parameters);
        auto *weights = section(tr("Parameters"));
        row(weights, tr("tensors"), QLocale().toString(static_cast<qlonglong>(m->parameters.size())));
        row(weights, tr("values"), QLocale().toString(static_cast<qlonglong>(totals.values)));
        row(weights, tr("bytes"), byteText(totals.bytes));
        if (totals.heldByNodes)
            row(weights, tr("held by Constant nodes"), QLocale().toString(static_cast<qlonglong>(totals.heldByNodes)));
        const auto histogram = opHistogram(*m);
        if (!histogram.empty()) {
            std::vector<std::pair<std::string, int>> ops(histogram.begin(), histogram.end());
            std::stable_sort(ops.begin(), ops.end(), [](const auto &a, const auto &b) { return a.second > b.second; });
            auto *opsSection = section(tr("Operators (%1 types)").arg(ops.size()));
            for (const auto &[op, count] : ops)
                row(opsSection, QString::fromStdString(op), QLocale().toString(count));
        }
        m_properties->expandAll();
        m_properties->resizeColumnToContents(0);
        m_properties->setColumnWidth(0, std::min(m_properties->columnWidth(0), m_properties->viewport()->width() * 2 / 5));
        return;
    }
    const NodeDescription &n = m->nodes[static_cast<size_t>(modelNode)];
    std::optional<OpDocumentation> doc;
    if (m->format == "onnx") {
        int opset = 0;
        for (const auto &[k, v] : m->properties)
            if (k == "opset_import")
                opset = onnxOpset(v);
        doc = onnxOpDocumentation(n.opType, opset);
    }
    auto *node = section(QString::fromStdString(n.opType));
    row(node, tr("name"), QString::fromStdString(n.name));
    if (!n.graph.empty())
        row(node, tr("graph"), QString::fromStdString(n.graph));
    if (!n.attributes.empty()) {
        auto *attrs = section(tr("Attributes"));
        for (const auto &a : n.attributes)
            row(attrs, QString::fromStdString(a.name), QString::fromStdString(a.value));
    }
    std::map<std::string, const ValueDescription *> params;
    for (const auto &p : m->parameters)
        params[p.name] = &p;
    auto *inputs = section(tr("Inputs"));
    auto *weights = static_cast<QTreeWidgetItem *>(nullptr);
    auto inputLabel = [&](size_t i) {
        if (doc && !doc->inputs.empty())
            return QString::fromStdString(doc->inputs[std::min(i, doc->inputs.size() - 1)].name);
        return QString::number(i);
    };
    auto shapeOf = [this](const std::string &v) {
        const auto shape = m_loaded->shapes.find(v);
        return shape != m_loaded->shapes.end() ? QStringLiteral("  ") + QString::fromStdString(shape->second) : QString();
    };
    for (size_t i = 0; i < n.inputs.size(); ++i) {
        const std::string &v = n.inputs[i];
        // A parameter, directly or through a Const op (AIR "<name>:0"), is listed with its values.
        const std::string bare = v.substr(0, v.rfind(':'));
        const auto p = params.count(v) ? params.find(v) : params.find(bare);
        if (p != params.end()) {
            if (!weights)
                weights = section(tr("Parameters (double-click to inspect)"));
            auto *item = row(weights, QString::fromStdString(p->second->dtype + " " + widgets::shapeText(p->second->shape)), QString::fromStdString(p->first));
            item->setData(0, Qt::UserRole, true);
            continue;
        }
        row(inputs, inputLabel(i), QString::fromStdString(v) + shapeOf(v));
    }
    auto *outputs = section(tr("Outputs"));
    for (size_t i = 0; i < n.outputs.size(); ++i) {
        const QString label = doc && !doc->outputs.empty() ? QString::fromStdString(doc->outputs[std::min(i, doc->outputs.size() - 1)].name) : QString::number(i);
        row(outputs, label, QString::fromStdString(n.outputs[i]) + shapeOf(n.outputs[i]));
    }
    m_properties->expandAll();
    m_properties->resizeColumnToContents(0);
    m_properties->setColumnWidth(0, std::min(m_properties->columnWidth(0), m_properties->viewport()->width() * 2 / 5));
    if (doc) {
        m_docs->setMarkdown(documentationMarkdown(*doc));
        m_docs->show();
    }
    m_side->setCurrentIndex(0);
}

QTableWidget *ModelDocument::parameterTable() const
{
    return m_parameters;
}

bool ModelDocument::inspectParameter(const QString &name)
{
    const ModelDescription *m = model();
    if (!m)
        return false;
    for (const auto &p : m->parameters)
        if (QString::fromStdString(p.name) == name) {
            m_inspector->setValue(p);
            m_side->setCurrentWidget(m_inspector);
            return true;
        }
    return false;
}

bool ModelDocument::inspectOutput(int index)
{
    if (index < 0 || index >= static_cast<int>(m_outputs.size()))
        return false;
    const ModelOutput &o = m_outputs[static_cast<size_t>(index)];
    ValueDescription v;
    v.name = o.name;
    v.dtype = dtypeName(o.value.dtype());
    v.shape = o.value.shape();
    v.value = o.value;
    m_inspector->setValue(v);
    m_side->setCurrentWidget(m_inspector);
    return true;
}

void ModelDocument::runOnInputs()
{
    if (!isRunnable())
        return;
    if (!m_runDialog) {
        m_runDialog = new RunModelDialog(m_path, this);
        connect(m_runDialog, &RunModelDialog::outputsReady, this, &ModelDocument::showOutputs);
        connect(m_runDialog, &RunModelDialog::runFinished, this, [this](const QString &error) {
            say(error.isEmpty() ? tr("Ran %1 on its inputs: the outputs are in the Outputs tab.").arg(QFileInfo(m_path).fileName())
                                               : tr("The run failed: %1").arg(error));
        });
    }
    m_runDialog->show();
    m_runDialog->raise();
    m_runDialog->activateWindow();
}

void ModelDocument::showOutputs(const std::vector<ModelOutput> &outputs)
{
    m_outputs = outputs;
    const QSignalBlocker block(m_outputTable);
    m_outputTable->clearSelection();
    m_outputTable->setRowCount(static_cast<int>(outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
        const Tensor &t = outputs[i].value;
        const int row = static_cast<int>(i);
        m_outputTable->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(outputs[i].name)));
        m_outputTable->setItem(row, 1, new QTableWidgetItem(QString::fromStdString(dtypeName(t.dtype()))));
        m_outputTable->setItem(row, 2, new QTableWidgetItem(QString::fromStdString(widgets::shapeText(t.shape()))));
        m_outputTable->setItem(row, 3, new QTableWidgetItem(t.numel() ? QString::number(computeStats(t).mean, 'g', 7) : QString()));
    }
    m_outputTable->resizeColumnsToContents();
    m_side->setTabVisible(m_side->indexOf(m_outputTable), true);
    if (!outputs.empty()) {
        m_outputTable->selectRow(0);
        inspectOutput(0);
    }
}

void ModelDocument::focusSearch()
{
    m_search->setFocus();
    m_search->selectAll();
}

void ModelDocument::findNext()
{
    m_graph->findNext();
    updateMatchLabel();
}

void ModelDocument::findPrevious()
{
    m_graph->findPrevious();
    updateMatchLabel();
}

QString ModelDocument::matchText() const
{
    return m_matchLabel->text();
}

void ModelDocument::say(const QString &text)
{
    m_status = text;
    emit statusMessage(text);
}

void ModelDocument::updateMatchLabel()
{
    const int count = m_graph->matchCount();
    m_matchLabel->setText(m_search->text().isEmpty() ? QString()
                          : count == 0             ? tr("no match")
                                                   : tr("%1 of %2").arg(m_graph->currentMatch() + 1).arg(count));
}

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
#include "gui/run_model_dialog.h"

#include "core/error.h"
#include "formats/graph_formats.h"

#include <QDialogButtonBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace netwright::gui {

namespace {

enum Column { kName, kType, kShape, kFile, kColumns };

QString shapeString(const Shape &shape)
{
    return QString::fromStdString(shapeToString(shape));
}

} // namespace

RunModelDialog::RunModelDialog(const QString &modelPath, QWidget *parent)
    : QDialog(parent), m_path(modelPath), m_inputs(new QTableWidget(this)), m_error(new QLabel(this)), m_status(new QLabel(this)),
      m_busy(new QProgressBar(this)), m_runButton(new QPushButton(tr("Run"), this))
{
    setWindowTitle(tr("Run %1 on Inputs").arg(QFileInfo(modelPath).fileName()));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Choose a tensor file for each input of the model: a NumPy array (.npy) or an ONNX TensorProto (.pb). "
                                "A shape's -1 is a dimension of any size. The outputs are shown in the document's tensor inspector."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    m_inputs->setColumnCount(kColumns);
    m_inputs->setHorizontalHeaderLabels({tr("Input"), tr("Type"), tr("Shape"), tr("File")});
    m_inputs->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_inputs->setSelectionMode(QAbstractItemView::NoSelection);
    m_inputs->verticalHeader()->hide();
    m_inputs->horizontalHeader()->setSectionResizeMode(kName, QHeaderView::ResizeToContents);
    m_inputs->horizontalHeader()->setSectionResizeMode(kType, QHeaderView::ResizeToContents);
    m_inputs->horizontalHeader()->setSectionResizeMode(kShape, QHeaderView::ResizeToContents);
    m_inputs->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(m_inputs, 1);

    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #b00020"));
    m_error->hide();
    layout->addWidget(m_error);
    m_status->setWordWrap(true);
    m_status->setText(tr("Reading the model…"));
    layout->addWidget(m_status);
    m_busy->setRange(0, 0); // busy: a run has no progress to tell
    m_busy->setTextVisible(false);
    m_busy->setMaximumHeight(8);
    layout->addWidget(m_busy);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_runButton, QDialogButtonBox::ActionRole);
    m_runButton->setDefault(true);
    m_runButton->setEnabled(false);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_runButton, &QPushButton::clicked, this, &RunModelDialog::run);
    resize(760, 320);

    connect(&m_import, &QFutureWatcher<Imported>::finished, this, &RunModelDialog::onImported);
    connect(&m_run, &QFutureWatcher<RunResult>::finished, this, &RunModelDialog::onRunFinished);
    // The same reading as `netwright run`: the engine's graph, whose inputs the files are bound to.
    m_import.setFuture(QtConcurrent::run([modelPath] {
        Imported out;
        try {
            out.graph = std::make_shared<Graph>(importGraphFile(modelPath.toStdString()));
        } catch (const std::bad_alloc &) {
            out.error = tr("Out of memory while reading the model.");
        } catch (const std::exception &e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

// A read or a run still going on holds its own copy of what it needs (the graph, the paths): the
// dialog does not wait for it.
RunModelDialog::~RunModelDialog() = default;

int RunModelDialog::inputCount() const
{
    return m_graph ? static_cast<int>(m_graph->inputs.size()) : 0;
}

QLineEdit *RunModelDialog::fileField(int input) const
{
    QWidget *cell = m_inputs->cellWidget(input, kFile);
    return cell ? cell->findChild<QLineEdit *>() : nullptr;
}

void RunModelDialog::setInputFile(int input, const QString &path)
{
    if (QLineEdit *field = fileField(input))
        field->setText(path);
}

QString RunModelDialog::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

QString RunModelDialog::statusText() const
{
    return m_status->text();
}

void RunModelDialog::showError(const QString &error)
{
    m_error->setText(error);
    m_error->setVisible(!error.isEmpty());
}

void RunModelDialog::onImported()
{
    m_busy->hide();
    const Imported imported = m_import.result();
    if (!imported.graph) {
        m_status->setText(tr("The model cannot be run."));
        showError(imported.error);
        emit ready();
        return;
    }
    m_graph = imported.graph;
    const auto &inputs = m_graph->inputs;
    m_inputs->setRowCount(static_cast<int>(inputs.size()));
    for (size_t i = 0; i < inputs.size(); ++i) {
        const int row = static_cast<int>(i);
        m_inputs->setItem(row, kName, new QTableWidgetItem(QString::fromStdString(inputs[i].name)));
        m_inputs->setItem(row, kType, new QTableWidgetItem(QString::fromStdString(dtypeName(inputs[i].dtype))));
        m_inputs->setItem(row, kShape, new QTableWidgetItem(inputs[i].shape.empty() ? tr("any") : shapeString(inputs[i].shape)));
        auto *cell = new QWidget(m_inputs);
        auto *cellLayout = new QHBoxLayout(cell);
        cellLayout->setContentsMargins(0, 0, 0, 0);
        cellLayout->setSpacing(2);
        auto *field = new QLineEdit(cell);
        field->setPlaceholderText(tr(".npy or .pb file"));
        auto *browse = new QToolButton(cell);
        browse->setText(QStringLiteral("…"));
        browse->setToolTip(tr("Choose the file for input \"%1\"").arg(QString::fromStdString(inputs[i].name)));
        cellLayout->addWidget(field, 1);
        cellLayout->addWidget(browse);
        m_inputs->setCellWidget(row, kFile, cell);
        connect(browse, &QToolButton::clicked, this, [this, row] { chooseFile(row); });
        connect(field, &QLineEdit::returnPressed, this, &RunModelDialog::run);
    }
    m_inputs->resizeRowsToContents();
    m_status->setText(tr("%1 %2, %3 %4.")
                          .arg(inputs.size())
                          .arg(inputs.size() == 1 ? tr("input") : tr("inputs"))
                          .arg(m_graph->outputs.size())
                          .arg(m_graph->outputs.size() == 1 ? tr("output") : tr("outputs")));
    m_runButton->setEnabled(true);
    emit ready();
}

void RunModelDialog::chooseFile(int input)
{
    QLineEdit *field = fileField(input);
    if (!field)
        return;
    const QString start = !field->text().isEmpty() ? QFileInfo(field->text()).absolutePath() : QFileInfo(m_path).absolutePath();
    const QString file = QFileDialog::getOpenFileName(this, tr("Input \"%1\"").arg(m_inputs->item(input, kName)->text()), start,
                                                      tr("Tensors (*.npy *.pb);;All files (*)"));
    if (!file.isEmpty())
        field->setText(file);
}

void RunModelDialog::run()
{
    if (!m_graph || m_run.isRunning())
        return;
    // Every input named with its file: bindInputs checks each file against its input.
    std::vector<InputArgument> arguments;
    for (int i = 0; i < inputCount(); ++i) {
        const ValueInfo &in = m_graph->inputs[static_cast<size_t>(i)];
        const QString file = fileField(i)->text().trimmed();
        if (file.isEmpty()) {
            showError(tr("Choose a file for input \"%1\" (%2 %3).")
                          .arg(QString::fromStdString(in.name), QString::fromStdString(dtypeName(in.dtype)), shapeString(in.shape)));
            emit runFinished(m_error->text());
            return;
        }
        arguments.push_back({in.name, file.toStdString()});
    }
    showError({});
    m_status->setText(tr("Running…"));
    m_busy->show();
    m_runButton->setEnabled(false);
    m_run.setFuture(QtConcurrent::run([graph = m_graph, arguments] {
        RunResult out;
        try {
            const auto feeds = bindInputs(*graph, arguments);
            QElapsedTimer timer;
            timer.start();
            out.outputs = runModel(*graph, feeds);
            out.milliseconds = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        } catch (const std::bad_alloc &) {
            out.error = tr("Out of memory while running the model.");
        } catch (const std::exception &e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
}

void RunModelDialog::onRunFinished()
{
    m_busy->hide();
    m_runButton->setEnabled(true);
    const RunResult result = m_run.result();
    if (!result.error.isEmpty()) {
        m_status->setText(tr("The run failed; nothing was changed."));
        showError(result.error);
        emit runFinished(result.error);
        return;
    }
    QStringList names;
    for (const auto &o : result.outputs)
        names << QStringLiteral("%1 %2 %3").arg(QString::fromStdString(o.name), QString::fromStdString(dtypeName(o.value.dtype())),
                                                 shapeString(o.value.shape()));
    m_status->setText(tr("%1 %2 in %3 ms: %4. Shown in the Outputs and Tensor tabs.")
                          .arg(result.outputs.size())
                          .arg(result.outputs.size() == 1 ? tr("output") : tr("outputs"))
                          .arg(result.milliseconds, 0, 'f', 1)
                          .arg(names.join(QStringLiteral(", "))));
    emit outputsReady(result.outputs);
    emit runFinished({});
}

} // namespace netwright::gui

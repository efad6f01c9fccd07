// SPDX-License-Identifier: Apache-2.0
#include "gui/export_wizard.h"

#include "run/run_model.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "formats/graph_formats.h"
#include "gui/export_location.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace netwright::gui {

struct ExportWizard::Work {
    std::mutex mutex;
    std::unique_ptr<ExportSource> source;
    QString loadedFrom;
    Graph shaped; // the source's graph with the input shape the options give
    bool reshaped = false;
    std::string bytes;
    const Graph &graph() const { return reshaped ? shaped : source->graph(); }
};

// A page whose completeness the wizard decides (pre-flight passed, file written).
class ExportPage : public QWizardPage {
public:
    ExportPage(ExportWizard *wizard, std::function<bool()> complete) : m_wizard(wizard), m_complete(std::move(complete)) {}
    bool isComplete() const override { return m_complete(); }
    void changed() { emit completeChanged(); }
    std::function<void()> onInit;
    void initializePage() override
    {
        if (onInit)
            onInit();
    }

private:
    ExportWizard *m_wizard;
    std::function<bool()> m_complete;
};

ExportWizard::ExportWizard(const QString &source, QWidget *parent)
    : QWizard(parent), m_work(std::make_shared<Work>()), m_source(new QLineEdit(source)), m_output(new QLineEdit),
      m_formats(new QButtonGroup(this)), m_opset(new QSpinBox), m_inputShape(new QLineEdit), m_dynamic(new QCheckBox(tr("Dynamic batch dimension"))),
      m_preflight(new QPlainTextEdit), m_report(new QPlainTextEdit), m_preflightBusy(new QProgressBar), m_writeBusy(new QProgressBar)
{
    setWindowTitle(tr("Export Model"));
    setWizardStyle(QWizard::ClassicStyle);

    // 1. Source
    auto *sourcePage = new ExportPage(this, [this] { return !m_source->text().trimmed().isEmpty() && QFileInfo::exists(m_source->text().trimmed()); });
    sourcePage->setTitle(tr("Source"));
    QStringList names;
    for (const auto &f : graphFormats())
        names << QString::fromStdString(f.name);
    sourcePage->setSubTitle(tr("A model file (%1), a checkpoint in a run directory, or a run directory (its best checkpoint).").arg(names.join(QStringLiteral(", "))));
    auto *sl = new QVBoxLayout(sourcePage);
    auto *row = new QHBoxLayout;
    auto *file = new QPushButton(tr("File…"));
    auto *dir = new QPushButton(tr("Run Directory…"));
    row->addWidget(m_source, 1);
    row->addWidget(file);
    row->addWidget(dir);
    sl->addLayout(row);
    connect(m_source, &QLineEdit::textChanged, sourcePage, &ExportPage::changed);
    connect(file, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Source"), m_source->text());
        if (!f.isEmpty())
            m_source->setText(f);
    });
    connect(dir, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Run Directory"), m_source->text());
        if (!d.isEmpty())
            m_source->setText(d);
    });
    setPage(SourcePage, sourcePage);

    // 2. Target
    auto *targetPage = new ExportPage(this, [] { return true; });
    targetPage->setTitle(tr("Target format"));
    auto *tl = new QVBoxLayout(targetPage);
    // Every format with a graph export, from the registry.
    std::vector<std::pair<QString, QString>> targets;
    for (const auto &f : graphFormats())
        targets.emplace_back(QString::fromStdString(f.option),
                             QString::fromStdString(f.name) + (f.readers.empty() ? QString() : QStringLiteral(" — ") + QString::fromStdString(f.readers)));
    for (size_t i = 0; i < targets.size(); ++i) {
        auto *b = new QRadioButton(targets[i].second);
        b->setProperty("format", targets[i].first);
        b->setChecked(i == 0);
        m_formats->addButton(b, static_cast<int>(i));
        tl->addWidget(b);
    }
    tl->addStretch();
    setPage(TargetPage, targetPage);

    // 3. Options
    auto *optionsPage = new ExportPage(this, [this] { return !m_output->text().trimmed().isEmpty(); });
    optionsPage->setTitle(tr("Options"));
    auto *of = new QFormLayout(optionsPage);
    m_opset->setRange(11, 17);
    m_opset->setValue(13);
    m_dynamic->setChecked(true);
    of->addRow(tr("ONNX opset"), m_opset);
    m_output->setObjectName(QStringLiteral("output"));
    m_inputShape->setObjectName(QStringLiteral("inputShape"));
    m_dynamic->setObjectName(QStringLiteral("dynamicBatch"));
    m_dynamic->setToolTip(tr("A free batch where the model leaves it free; a model whose input fixes its batch (PyTorch's default export) keeps it."));
    m_inputShape->setPlaceholderText(tr("as the model declares — or e.g. 1,3,224,224 to set free dimensions"));
    m_inputShape->setToolTip(tr("The data input's shape [N,…]: sets the dimensions the model leaves free (the ones it fixes must "
                                "agree); N is the batch when the batch is not dynamic."));
    of->addRow(tr("Input shape"), m_inputShape);
    of->addRow(m_dynamic);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_output, 1);
    auto *browse = new QPushButton(tr("Browse…"));
    browse->setObjectName(QStringLiteral("browse"));
    fileRow->addWidget(browse);
    of->addRow(tr("File"), fileRow);
    connect(m_output, &QLineEdit::textChanged, optionsPage, &ExportPage::changed);
    connect(browse, &QPushButton::clicked, this, [this] {
        const auto f = graphFormat(formatOption().toStdString());
        QStringList patterns;
        for (const auto &e : f->extensions)
            patterns << QStringLiteral("*") + QString::fromStdString(e);
        const QString filter = tr("%1 (%2)").arg(QString::fromStdString(f->name), patterns.join(QLatin1Char(' ')));
        QString chosen = QFileDialog::getSaveFileName(this, tr("Export to"), outputPath(), filter);
        if (chosen.isEmpty())
            return;
        if (QFileInfo(chosen).suffix().isEmpty())
            chosen += QString::fromStdString(f->extension);
        m_output->setText(chosen);
    });
    optionsPage->onInit = [this] {
        m_opset->setEnabled(formatOption() == QLatin1String("onnx"));
        const auto f = graphFormat(formatOption().toStdString());
        QFileInfo in(m_source->text().trimmed());
        // In the folder last exported to (else the documents folder), never beside the source by
        // default: its folder is often read-only (node_modules, /usr/share, a package's data).
        const QString base = defaultExportPath(in.isDir() ? in.fileName() + QStringLiteral("-model") : in.completeBaseName());
        QString out = base + QString::fromStdString(f->extension);
        if (QFileInfo(out).absoluteFilePath() == in.absoluteFilePath())
            out = base + QStringLiteral("-export") + QString::fromStdString(f->extension);
        m_output->setText(out);
    };
    setPage(OptionsPage, optionsPage);

    // 4. Pre-flight
    auto *preflightPage = new ExportPage(this, [this] { return m_preflightOk && !m_busy; });
    preflightPage->setTitle(tr("Pre-flight"));
    preflightPage->setSubTitle(tr("Every op of the model is checked against the target before anything is written."));
    auto *pl = new QVBoxLayout(preflightPage);
    m_preflightBusy->setRange(0, 0);
    m_preflight->setReadOnly(true);
    pl->addWidget(m_preflightBusy);
    pl->addWidget(m_preflight);
    preflightPage->onInit = [this] { startPreflight(); };
    setPage(PreflightPage, preflightPage);

    // 5. Write and verify
    auto *verifyPage = new ExportPage(this, [this] { return m_written && !m_busy; });
    verifyPage->setTitle(tr("Verification"));
    verifyPage->setSubTitle(tr("The file is read back: every weight must be bit-identical and the outputs on a probe batch equal, or it is not kept."));
    auto *vl = new QVBoxLayout(verifyPage);
    m_writeBusy->setRange(0, 0);
    m_report->setReadOnly(true);
    vl->addWidget(m_writeBusy);
    vl->addWidget(m_report);
    verifyPage->onInit = [this] { startWrite(); };
    verifyPage->setFinalPage(true);
    setPage(VerifyPage, verifyPage);
    resize(720, 480);
}

ExportWizard::~ExportWizard()
{
    // The pool thread holds its own reference to the work; nothing to join.
}

QString ExportWizard::sourcePath() const
{
    return m_source->text().trimmed();
}

QString ExportWizard::formatOption() const
{
    QAbstractButton *b = m_formats->checkedButton();
    return b ? b->property("format").toString() : QStringLiteral("onnx");
}

QString ExportWizard::outputPath() const
{
    return m_output->text().trimmed();
}

QString ExportWizard::preflightText() const
{
    return m_preflight->toPlainText();
}

QString ExportWizard::verificationText() const
{
    return m_report->toPlainText();
}

void ExportWizard::startPreflight()
{
    m_preflightOk = false;
    m_busy = true;
    m_preflightBusy->show();
    m_preflight->setPlainText(tr("Reading %1 and mapping its ops to %2…").arg(sourcePath(), formatOption()));
    auto *page = static_cast<ExportPage *>(this->page(PreflightPage));
    page->changed();
    const auto format = *graphFormat(formatOption().toStdString());
    GraphExportOptions options;
    options.opset = m_opset->value();
    options.dynamicBatch = m_dynamic->isChecked();
    options.producerVersion = NETWRIGHT_VERSION;
    auto work = m_work;
    const QString source = sourcePath();
    const std::string shape = m_inputShape->text().trimmed().toStdString();
    auto *watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, page] {
        const QString result = watcher->result();
        watcher->deleteLater();
        m_busy = false;
        m_preflightBusy->hide();
        m_preflightOk = result.startsWith(QLatin1String("OK"));
        m_preflight->setPlainText(m_preflightOk ? result.mid(3) : result);
        page->changed();
    });
    watcher->setFuture(QtConcurrent::run([work, source, shape, format, options]() mutable -> QString {
        try {
            std::lock_guard lock(work->mutex);
            if (!work->source || work->loadedFrom != source) {
                work->source = std::make_unique<ExportSource>(loadExportSource(source.toStdString()));
                work->loadedFrom = source;
            }
            options.metadata = work->source->metadata;
            work->reshaped = !shape.empty();
            if (work->reshaped)
                work->shaped = withInputShape(work->source->graph(), parseShape(shape), options.dynamicBatch);
            const Graph &g = work->graph();
            work->bytes = exportGraph(format, g, options);
            int nodes = 0;
            for (const auto &n : g.nodes)
                nodes += isTrainingLoss(n.opType) ? 0 : 1;
            return QStringLiteral("OK ") + tr("Source: %1\nAll %2 nodes map to %3; the file will be %L4 bytes.")
                                               .arg(QString::fromStdString(work->source->description))
                                               .arg(nodes)
                                               .arg(QString::fromStdString(format.name))
                                               .arg(static_cast<qulonglong>(work->bytes.size()));
        } catch (const Error &e) {
            // One problem per line: the pre-flight lists them joined by "; ".
            QString text = QString::fromUtf8(e.what());
            text.replace(QStringLiteral(": Node "), QStringLiteral(":\n  Node ")).replace(QStringLiteral("; Node "), QStringLiteral("\n  Node "));
            return text;
        }
    }));
}

void ExportWizard::startWrite()
{
    m_written = false;
    m_busy = true;
    m_writeBusy->show();
    m_report->setPlainText(tr("Reading the export back and comparing it with the model…"));
    auto *page = static_cast<ExportPage *>(this->page(VerifyPage));
    page->changed();
    const auto format = *graphFormat(formatOption().toStdString());
    const QString out = outputPath();
    auto work = m_work;
    auto *watcher = new QFutureWatcher<QString>(this);
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, page] {
        const QString result = watcher->result();
        watcher->deleteLater();
        m_busy = false;
        m_writeBusy->hide();
        m_written = result.startsWith(QLatin1String("OK"));
        if (m_written)
            rememberExportDirectory(outputPath()); // the next export starts there
        m_report->setPlainText(m_written ? result.mid(3) : result);
        page->changed();
    });
    watcher->setFuture(QtConcurrent::run([work, format, out]() -> QString {
        try {
            std::lock_guard lock(work->mutex);
            const std::string path = out.toStdString();
            const std::string verified = verifyExport(format, work->bytes, path, work->graph()); // before it is on disk
            writeFileAtomically(path, work->bytes);
            // (The folder is remembered on the UI thread, below, once this has returned.)
            return QStringLiteral("OK ") + tr("Wrote %1\n%2, %L3 bytes\n\nVerified: %4")
                                               .arg(out, QString::fromStdString(format.name))
                                               .arg(static_cast<qulonglong>(work->bytes.size()))
                                               .arg(QString::fromStdString(verified));
        } catch (const Error &e) {
            return tr("Nothing was written.\n\n%1").arg(QString::fromUtf8(e.what()));
        }
    }));
}

} // namespace netwright::gui

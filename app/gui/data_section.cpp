// SPDX-License-Identifier: Apache-2.0
#include "gui/data_section.h"

#include "core/error.h"
#include "data/data_preview.h"
#include "data/data_source.h"
#include "data/dataset.h"
#include "formats/graph_formats.h"
#include "gui/wrapping_label.h"
#include "train/training_setup.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QRegularExpression>
#include <QStyle>
#include <QToolButton>
#include <QtConcurrent>

#include <cmath>
#include <mutex>
#include <optional>

namespace netwright::gui {

// The last source read (its samples stay on disk when streamed): a change of the split, the task or
// the model reads the thumbnails again, not the whole folder. Shared with the reading thread.
struct DataSection::SourceCache {
    static constexpr size_t kMaxBytes = size_t(256) << 20; // larger sources in memory are not kept
    std::mutex mutex;
    std::string key;
    std::shared_ptr<const DataSourceContents> source;
};

namespace {

constexpr int kPauseMs = 250; // after the last keystroke, before the data are read

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

bool imageKind(DataKind k)
{
    return k == DataKind::ImageFolder || k == DataKind::Cifar || k == DataKind::IdxDirectory;
}

std::string modifiedTime(const std::string &path)
{
    return QString::number(QFileInfo(q(path)).lastModified().toMSecsSinceEpoch()).toStdString();
}

// On a pool thread: the preview of the data `c` names (the user's path, or Fashion-MNIST).
DataSection::LoadResult readPreview(const RunConfig &c, const QString &key, const std::shared_ptr<DataSection::SourceCache> &cache)
{
    DataSection::LoadResult result;
    result.key = key;
    try {
        DataSettings s = c.data;
        if (s.dataset == "idx" || s.dataset == "csv") { // the two files of each side, as training reads them
            DataSourceContents source;
            DataSettings legacy;
            legacy.dataset = s.dataset;
            if (s.dataset == "idx") {
                source.kind = DataKind::IdxDirectory;
                source.train = loadIdxDataset(s.trainImages, s.trainLabels);
                source.test = loadIdxDataset(s.testImages, s.testLabels);
                legacy.path = s.trainImages;
            } else {
                source.kind = DataKind::CsvTable; // label first, no header: the column is "class"
                source.train = loadCsvDataset(s.trainCsv, s.csvHeader);
                source.test = loadCsvDataset(s.testCsv, s.csvHeader);
            }
            result.contents = std::make_shared<widgets::DataPreviewContents>(
                widgets::makeDataPreview(source, legacy, c.task.type, c.training.seed, ImageGeometry{}));
            return result;
        }
        if (s.dataset == "fashion-mnist") { // the IDX folder Debian installs, with its own test split
            s = DataSettings{};
            s.dataset = "fashion-mnist";
            s.path = defaultFashionMnistDir();
            check(QFileInfo::exists(q(s.path + "/train-images-idx3-ubyte.gz")),
                  "Fashion-MNIST is missing: \"" + s.path + "/train-images-idx3-ubyte.gz\" does not exist (install it with: apt-get "
                  "install dataset-fashion-mnist).");
        }
        const DataKind kind = detectDataKind(s.path);
        ImageGeometry g{s.resize, s.centerCrop, s.channels};
        QString note;
        if (imageKind(kind) && c.data.dataset == "path")
            if (const auto model = modelFileGeometry(c)) {
                g = *model;
                note = QCoreApplication::translate("DataSection", "The images are brought to %1×%2 (%3 channel(s)), the model file's input, as training will do.")
                           .arg(g.resize[1])
                           .arg(g.resize[0])
                           .arg(g.channels ? QString::number(g.channels) : QCoreApplication::translate("DataSection", "as stored"));
            }
        // The preview decodes its thumbnails only: image files stay on disk.
        if (kind == DataKind::ImageFolder || kind == DataKind::Cifar)
            s.stream = "on";
        std::string sourceKey = s.path + "\n" + modifiedTime(s.path) + "\n" + s.label + "\n" + s.targets + "\n" + s.stream + "\n"
                                + std::to_string(g.channels);
        for (int v : g.resize)
            sourceKey += "," + std::to_string(v);
        sourceKey += ";";
        for (int v : g.centerCrop)
            sourceKey += "," + std::to_string(v);
        std::shared_ptr<const DataSourceContents> source;
        {
            std::lock_guard lock(cache->mutex);
            if (cache->key == sourceKey)
                source = cache->source;
        }
        if (!source) {
            auto read = std::make_shared<const DataSourceContents>(readDataSource(s.path, s, g));
            std::lock_guard lock(cache->mutex);
            const size_t bytes = (read->train.features.defined() ? read->train.features.byteSize() : 0)
                                 + (read->test && read->test->features.defined() ? read->test->features.byteSize() : 0);
            cache->key = bytes <= DataSection::SourceCache::kMaxBytes ? sourceKey : std::string();
            cache->source = bytes <= DataSection::SourceCache::kMaxBytes ? read : nullptr;
            source = read;
        }
        auto contents = std::make_shared<widgets::DataPreviewContents>(widgets::makeDataPreview(*source, s, c.task.type, c.training.seed, g));
        contents->note = note;
        result.contents = contents;
    } catch (const Error &e) {
        result.error = QString::fromUtf8(e.what());
    } catch (const std::bad_alloc &) {
        result.error = QCoreApplication::translate("DataSection", "The data do not fit in memory.");
    } catch (const std::exception &e) {
        result.error = QCoreApplication::translate("DataSection", "Cannot read the data: %1").arg(QString::fromUtf8(e.what()));
    }
    return result;
}

// On a pool thread: the run's model built for the data, as makeTrainer builds it.
DataSection::CheckResult checkModel(const RunConfig &c, const std::shared_ptr<const widgets::DataPreviewContents> &data, const QString &key)
{
    DataSection::CheckResult result;
    result.key = key;
    try {
        const Graph model = buildRunModel(c, data->sampleShape, data->outputs, data->dataName);
        int64_t parameters = 0;
        for (const auto &name : model.trainable)
            if (const auto it = model.initializers.find(name); it != model.initializers.end())
                parameters += it->second.numel();
        result.summary = QCoreApplication::translate("DataSection", "The model fits the data: samples %1 in, %2 output(s), %3 parameters.")
                             .arg(q(shapeToString(data->sampleShape)))
                             .arg(data->outputs)
                             .arg(QLocale().toString(static_cast<qlonglong>(parameters)));
    } catch (const Error &e) {
        result.problem = QString::fromUtf8(e.what());
    } catch (const std::bad_alloc &) {
        result.problem = QCoreApplication::translate("DataSection", "The model does not fit in memory for samples of shape %1.")
                             .arg(q(shapeToString(data->sampleShape)));
    } catch (const std::exception &e) {
        result.problem = QString::fromUtf8(e.what());
    }
    return result;
}

// "32x32" (or "32×32", or "32" for a square) → {32, 32}; empty → {}; nullopt: not a size.
std::optional<std::vector<int>> parseSize(const QString &text)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return std::vector<int>{};
    static const QRegularExpression re(QStringLiteral("^(\\d{1,5})\\s*(?:[x×X*]\\s*(\\d{1,5}))?$"));
    const auto m = re.match(t);
    if (!m.hasMatch())
        return std::nullopt;
    const int h = m.captured(1).toInt(), w = m.captured(2).isEmpty() ? h : m.captured(2).toInt();
    if (h <= 0 || w <= 0)
        return std::nullopt;
    return std::vector<int>{h, w};
}

QString sizeText(const std::vector<int> &size)
{
    QStringList parts;
    for (int v : size)
        parts << QString::number(v);
    return parts.join(QLatin1Char('x'));
}

// A line edit with "Folder…" and "File…" buttons beside it.
QWidget *pathRow(QLineEdit *edit, QWidget *parent, const QString &title)
{
    auto *row = new QWidget(parent);
    auto *h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(edit, 1);
    auto *folder = new QPushButton(QObject::tr("Folder…"), row);
    auto *file = new QPushButton(QObject::tr("File…"), row);
    folder->setObjectName(edit->objectName() + QStringLiteral("Folder"));
    file->setObjectName(edit->objectName() + QStringLiteral("File"));
    h->addWidget(folder);
    h->addWidget(file);
    QObject::connect(folder, &QPushButton::clicked, edit, [edit, title] {
        const QString dir = QFileDialog::getExistingDirectory(edit, title, edit->text());
        if (!dir.isEmpty())
            edit->setText(dir);
    });
    QObject::connect(file, &QPushButton::clicked, edit, [edit, title] {
        const QString path = QFileDialog::getOpenFileName(
            edit, title, edit->text(),
            QObject::tr("Data (*.csv *.tsv *.txt *.npz *.npy *.bin);;CSV tables (*.csv *.tsv *.txt);;NumPy (*.npz *.npy);;CIFAR-10 batches (*.bin);;All files (*)"));
        if (!path.isEmpty())
            edit->setText(path);
    });
    return row;
}

} // namespace

DataSection::DataSection(widgets::DataPreview *preview, QWidget *parent)
    : QGroupBox(tr("Data"), parent), m_preview(preview), m_cache(std::make_shared<SourceCache>())
{
    m_form = new QFormLayout(this);
    m_dataset = new QComboBox(this);
    m_dataset->setObjectName(QStringLiteral("dataset"));
    m_dataset->addItem(tr("Your data (folder or file)"), QStringLiteral("path"));
    m_dataset->addItem(tr("Fashion-MNIST (Debian package)"), QStringLiteral("fashion-mnist"));
    m_dataset->addItem(tr("IDX files (four)"), QStringLiteral("idx"));
    m_dataset->addItem(tr("CSV files (label first, no header)"), QStringLiteral("csv"));

    m_path = new QLineEdit(this);
    m_path->setObjectName(QStringLiteral("dataPath"));
    m_path->setPlaceholderText(tr("an image folder (<class>/*.png), .npz, .npy, a CSV table, CIFAR-10, IDX files"));
    m_pathRow = pathRow(m_path, this, tr("Training Data"));
    m_reload = new QToolButton(m_pathRow);
    m_reload->setObjectName(QStringLiteral("readAgain"));
    m_reload->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    m_reload->setToolTip(tr("Read the data again (after the files changed)"));
    m_pathRow->layout()->addWidget(m_reload);
    m_testPath = new QLineEdit(this);
    m_testPath->setObjectName(QStringLiteral("testDataPath"));
    m_testPath->setPlaceholderText(tr("optional: the test samples, in the same layout"));
    m_testPathRow = pathRow(m_testPath, this, tr("Test Data"));
    m_testSplit = new QDoubleSpinBox(this);
    m_testSplit->setObjectName(QStringLiteral("testSplit"));
    m_testSplit->setRange(0.0, 0.95);
    m_testSplit->setDecimals(3);
    m_testSplit->setSingleStep(0.05);
    m_testSplit->setSpecialValueText(tr("none (the test data, or the source's own split)"));
    m_testSplit->setToolTip(tr("The fraction of the samples held out for testing (seeded, stratified by class)"));
    m_task = new QComboBox(this);
    m_task->setObjectName(QStringLiteral("task"));
    m_task->addItem(tr("Classification (one class per sample)"), QStringLiteral("classification"));
    m_task->addItem(tr("Regression (numeric targets)"), QStringLiteral("regression"));
    m_task->addItem(tr("Multilabel (several 0/1 labels)"), QStringLiteral("multilabel"));
    m_label = new QLineEdit(this);
    m_label->setObjectName(QStringLiteral("labelColumn"));
    m_label->setPlaceholderText(tr("auto: a column named label, target, class or y, else the last"));
    m_targets = new QLineEdit(this);
    m_targets->setObjectName(QStringLiteral("targetsFile"));
    m_targets->setPlaceholderText(tr("auto: y.npy beside x.npy"));
    m_resize = new QLineEdit(this);
    m_resize->setObjectName(QStringLiteral("resize"));
    m_resize->setPlaceholderText(tr("as stored (e.g. 32x32)"));
    m_trainImages = new QLineEdit(this);
    m_trainLabels = new QLineEdit(this);
    m_testImages = new QLineEdit(this);
    m_testLabels = new QLineEdit(this);
    m_trainCsv = new QLineEdit(this);
    m_testCsv = new QLineEdit(this);
    m_fit = new QLabel(this);
    m_fit->setObjectName(QStringLiteral("modelFit"));
    wrapWithinWidth(m_fit); // a long problem (a model file's path, both shapes) wraps inside the form

    m_form->addRow(tr("Dataset"), m_dataset);
    m_form->addRow(tr("Data"), m_pathRow);
    m_form->addRow(tr("Test data"), m_testPathRow);
    m_form->addRow(tr("Test split"), m_testSplit);
    m_form->addRow(tr("Label column"), m_label);
    m_form->addRow(tr("Targets (.npy)"), m_targets);
    m_form->addRow(tr("Resize (HxW)"), m_resize);
    m_form->addRow(tr("Train images"), m_trainImages);
    m_form->addRow(tr("Train labels"), m_trainLabels);
    m_form->addRow(tr("Test images"), m_testImages);
    m_form->addRow(tr("Test labels"), m_testLabels);
    m_form->addRow(tr("Train CSV"), m_trainCsv);
    m_form->addRow(tr("Test CSV"), m_testCsv);
    m_form->addRow(tr("Task"), m_task);
    m_form->addRow(m_fit);

    m_loadTimer.setSingleShot(true);
    m_loadTimer.setInterval(kPauseMs);
    connect(&m_loadTimer, &QTimer::timeout, this, &DataSection::startLoad);
    connect(&m_load, &QFutureWatcher<LoadResult>::finished, this, &DataSection::loaded);
    connect(&m_check, &QFutureWatcher<CheckResult>::finished, this, &DataSection::checkedModel);
    connect(m_reload, &QToolButton::clicked, this, &DataSection::reload);

    for (QLineEdit *e : {m_path, m_label, m_targets, m_resize, m_trainImages, m_trainLabels, m_testImages, m_testLabels, m_trainCsv, m_testCsv})
        connect(e, &QLineEdit::textChanged, this, &DataSection::edited);
    connect(m_testPath, &QLineEdit::textChanged, this, [this](const QString &text) {
        // Test data replace the split the form chose (both would be an error).
        if (!m_splitChosen && !text.trimmed().isEmpty() && m_testSplit->value() > 0) {
            m_settingSplit = true;
            m_testSplit->setValue(0);
            m_settingSplit = false;
        }
        emit edited();
    });
    connect(m_testSplit, &QDoubleSpinBox::valueChanged, this, [this] {
        if (!m_settingSplit)
            m_splitChosen = true;
        emit edited();
    });
    for (QComboBox *c : {m_dataset, m_task})
        connect(c, &QComboBox::currentIndexChanged, this, &DataSection::edited);
}

DataSection::~DataSection() = default; // a read or check in flight finishes on its own (it holds no pointer to this)

void DataSection::applyTo(RunConfig &c) const
{
    c.data.dataset = m_dataset->currentData().toString().toStdString();
    // Absolute, as the CLI records them: the run directory's config must find the data from anywhere.
    auto absolute = [](const QString &text) { return text.isEmpty() ? std::string() : QFileInfo(text).absoluteFilePath().toStdString(); };
    c.data.path = absolute(m_path->text().trimmed());
    c.data.testPath = absolute(m_testPath->text().trimmed());
    c.data.testSplit = static_cast<float>(m_testSplit->value());
    c.data.label = m_label->text().trimmed().toStdString();
    c.data.targets = absolute(m_targets->text().trimmed());
    if (const auto size = parseSize(m_resize->text()))
        c.data.resize = *size;
    c.data.trainImages = m_trainImages->text().toStdString();
    c.data.trainLabels = m_trainLabels->text().toStdString();
    c.data.testImages = m_testImages->text().toStdString();
    c.data.testLabels = m_testLabels->text().toStdString();
    c.data.trainCsv = m_trainCsv->text().toStdString();
    c.data.testCsv = m_testCsv->text().toStdString();
    c.task.type = m_task->currentData().toString().toStdString();
}

void DataSection::setFrom(const RunConfig &c)
{
    const QSignalBlocker blockers[] = {QSignalBlocker(m_dataset), QSignalBlocker(m_path), QSignalBlocker(m_testPath), QSignalBlocker(m_testSplit),
                                       QSignalBlocker(m_label), QSignalBlocker(m_targets), QSignalBlocker(m_resize), QSignalBlocker(m_task),
                                       QSignalBlocker(m_trainImages), QSignalBlocker(m_trainLabels), QSignalBlocker(m_testImages),
                                       QSignalBlocker(m_testLabels), QSignalBlocker(m_trainCsv), QSignalBlocker(m_testCsv)};
    m_dataset->setCurrentIndex(std::max(0, m_dataset->findData(q(c.data.dataset))));
    m_path->setText(q(c.data.path));
    m_testPath->setText(q(c.data.testPath));
    m_testSplit->setValue(c.data.testSplit);
    m_label->setText(q(c.data.label));
    m_targets->setText(q(c.data.targets));
    m_resize->setText(sizeText(c.data.resize));
    m_trainImages->setText(q(c.data.trainImages));
    m_trainLabels->setText(q(c.data.trainLabels));
    m_testImages->setText(q(c.data.testImages));
    m_testLabels->setText(q(c.data.testLabels));
    m_trainCsv->setText(q(c.data.trainCsv));
    m_testCsv->setText(q(c.data.testCsv));
    // A task the form does not list is added as it is (validation names it).
    if (m_task->findData(q(c.task.type)) < 0)
        m_task->addItem(q(c.task.type), q(c.task.type));
    m_task->setCurrentIndex(m_task->findData(q(c.task.type)));
    // A config that reads a path chose its split; one that did not leaves the form its default.
    m_splitChosen = c.data.dataset == "path";
}

QString DataSection::formError() const
{
    if (m_dataset->currentData().toString() == QLatin1String("path") && !parseSize(m_resize->text()))
        return tr("Resize: \"%1\" is not a size HxW (e.g. 32x32).").arg(m_resize->text().trimmed());
    return {};
}

bool DataSection::previewable() const
{
    const QString d = m_dataset->currentData().toString();
    return d == QLatin1String("path") || d == QLatin1String("fashion-mnist") || d == QLatin1String("idx") || d == QLatin1String("csv");
}

QString DataSection::missingFiles(const RunConfig &c)
{
    const DataSettings &d = c.data;
    if (d.dataset == "path" && d.path.empty())
        return tr("Choose a folder or a file of training data: an image folder (one folder per class), a NumPy .npz or .npy file, a CSV "
                  "table with a header row, CIFAR-10 batches or a folder of IDX files.");
    if (d.dataset == "idx" && (d.trainImages.empty() || d.trainLabels.empty() || d.testImages.empty() || d.testLabels.empty()))
        return tr("Choose the four IDX files: the training images and labels, the test images and labels.");
    if (d.dataset == "csv" && (d.trainCsv.empty() || d.testCsv.empty()))
        return tr("Choose the training and the test CSV files (the label first, no header row).");
    return {};
}

void DataSection::updateRows()
{
    const QString d = m_dataset->currentData().toString();
    const bool path = d == QLatin1String("path");
    const QString file = m_path->text().trimmed().toLower();
    const bool table = file.endsWith(QLatin1String(".csv")) || file.endsWith(QLatin1String(".tsv")) || file.endsWith(QLatin1String(".txt"));
    const bool npy = file.endsWith(QLatin1String(".npy"));
    const bool folder = file.isEmpty() || QFileInfo(m_path->text().trimmed()).isDir();
    for (QWidget *w : {m_pathRow, m_testPathRow, static_cast<QWidget *>(m_testSplit)})
        m_form->setRowVisible(w, path);
    m_form->setRowVisible(m_label, path && (table || !m_label->text().isEmpty()));
    m_form->setRowVisible(m_targets, path && (npy || !m_targets->text().isEmpty()));
    m_form->setRowVisible(m_resize, path && (folder || !m_resize->text().isEmpty()));
    for (QLineEdit *e : {m_trainImages, m_trainLabels, m_testImages, m_testLabels})
        m_form->setRowVisible(e, d == QLatin1String("idx"));
    for (QLineEdit *e : {m_trainCsv, m_testCsv})
        m_form->setRowVisible(e, d == QLatin1String("csv"));
    m_form->setRowVisible(m_fit, previewable());
}

void DataSection::update(const RunConfig &config, bool valid)
{
    m_config = config;
    m_valid = valid;
    updateRows();
    if (!previewable()) {
        if (m_loadKey != QLatin1String("-")) {
            m_loadKey = QStringLiteral("-");
            m_loadTimer.stop();
            m_loading = m_checking = false;
            m_contents.reset();
            m_checkKey.clear();
            m_checkProblem.clear();
            m_preview->showMessage(tr("No preview for %1: choose \"Your data\" to see the samples, their classes and the split.")
                                       .arg(m_dataset->currentText()));
        }
        return;
    }
    const DataSettings &d = config.data;
    QString key = q(d.dataset) + QLatin1Char('\n') + q(config.task.type) + QLatin1Char('\n') + QString::number(m_generation);
    if (d.dataset == "path") {
        key += QStringList{q(d.path), q(d.testPath), QString::number(d.testSplit), q(d.label), q(d.targets), sizeText(d.resize),
                           sizeText(d.centerCrop), QString::number(d.channels), QString::number(config.training.seed), q(config.modelFile)}
                   .join(QLatin1Char('\n'));
    } else if (d.dataset == "idx" || d.dataset == "csv") {
        for (const std::string &file : d.dataset == "idx" ? std::vector<std::string>{d.trainImages, d.trainLabels, d.testImages, d.testLabels}
                                                          : std::vector<std::string>{d.trainCsv, d.testCsv})
            key += QLatin1Char('\n') + q(file) + QLatin1Char('@') + q(modifiedTime(file));
        key += d.csvHeader ? QStringLiteral("\nheader") : QString();
    }
    if (key != m_loadKey) {
        m_loadKey = key;
        m_contents.reset();
        m_checking = false;
        m_checkKey.clear();
        m_checkProblem.clear();
        setWrappedText(m_fit, {});
        if (const QString missing = missingFiles(config); !missing.isEmpty()) {
            m_loadTimer.stop();
            m_loading = false;
            m_preview->showMessage(missing);
        } else {
            m_loading = true;
            m_preview->showMessage(tr("Reading %1 …").arg(d.dataset == "path" ? QStringLiteral("\"%1\"").arg(q(d.path)) : m_dataset->currentText()));
            m_loadTimer.start();
        }
    }
    scheduleCheck();
}

void DataSection::startLoad()
{
    if (m_load.isRunning())
        return; // loaded() starts the next read
    m_load.setFuture(QtConcurrent::run(readPreview, m_config, m_loadKey, m_cache));
}

void DataSection::loaded()
{
    const LoadResult r = m_load.result();
    if (r.key != m_loadKey) { // the settings changed meanwhile
        const bool nothingToRead = m_loadKey == QLatin1String("-") || !missingFiles(m_config).isEmpty();
        if (!nothingToRead && !m_loadTimer.isActive())
            startLoad();
        return;
    }
    m_loading = false;
    if (!r.error.isEmpty()) {
        m_contents.reset();
        m_preview->showError(r.error);
    } else {
        m_contents = r.contents;
        ++m_contentsSerial;
        m_preview->showContents(m_contents);
        adjustTestSplit();
    }
    scheduleCheck();
    emit checked();
}

void DataSection::adjustTestSplit()
{
    // The form's default split: 0.2 when neither test data nor the source give one, else none.
    if (m_splitChosen || m_dataset->currentData().toString() != QLatin1String("path"))
        return;
    const double want = m_testPath->text().trimmed().isEmpty() && !m_contents->sourceSplit ? 0.2 : 0.0;
    if (std::abs(m_testSplit->value() - want) > 1e-9) {
        m_settingSplit = true;
        m_testSplit->setValue(want); // emits edited(): the panel updates, and the preview is read again
        m_settingSplit = false;
    }
}

void DataSection::scheduleCheck()
{
    if (!m_contents || !m_valid) {
        m_checking = false;
        if (!m_checkKey.isEmpty() || !m_checkProblem.isEmpty()) {
            m_checkKey.clear();
            m_checkProblem.clear();
            setWrappedText(m_fit, {});
        }
        return;
    }
    const RunConfig &c = m_config;
    QString hidden;
    for (int h : c.hidden)
        hidden += QString::number(h) + QLatin1Char(',');
    const QString key = QStringList{q(c.model), q(c.modelFile), c.modelFile.empty() ? QString() : q(modifiedTime(c.modelFile)), hidden, q(c.init),
                                    q(c.task.type), QString::number(m_contentsSerial)}
                            .join(QLatin1Char('\n'));
    if (key == m_checkKey)
        return;
    m_checkKey = key;
    m_checking = true;
    m_checkProblem.clear();
    m_fit->setStyleSheet(QStringLiteral("color: palette(mid)"));
    setWrappedText(m_fit, tr("Checking the model against the data …"));
    if (!m_check.isRunning())
        startCheck();
}

void DataSection::startCheck()
{
    m_check.setFuture(QtConcurrent::run(checkModel, m_config, m_contents, m_checkKey));
}

void DataSection::checkedModel()
{
    const CheckResult r = m_check.result();
    if (r.key != m_checkKey) {
        if (!m_checkKey.isEmpty())
            startCheck();
        return;
    }
    m_checking = false;
    m_checkProblem = r.problem;
    m_fit->setStyleSheet(r.problem.isEmpty() ? QStringLiteral("color: #1b5e20") : QStringLiteral("color: #b00020"));
    setWrappedText(m_fit, r.problem.isEmpty() ? r.summary : r.problem);
    emit checked();
}

QString DataSection::problem() const
{
    if (m_contents && m_dataset->currentData().toString() == QLatin1String("path") && !m_contents->splitProblem.isEmpty())
        return m_contents->splitProblem;
    return m_checkProblem;
}

int64_t DataSection::trainSamples() const
{
    return m_contents ? m_contents->trainSamples : 0;
}

bool DataSection::isBusy() const
{
    // Until the result is delivered (a finished future's result waits in the event queue).
    return m_loading || m_checking;
}

void DataSection::reload()
{
    {
        std::lock_guard lock(m_cache->mutex);
        m_cache->key.clear();
        m_cache->source.reset();
    }
    ++m_generation;
    update(m_config, m_valid);
}

} // namespace netwright::gui

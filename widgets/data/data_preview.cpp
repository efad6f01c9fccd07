// SPDX-License-Identifier: Apache-2.0
#include "data/data_preview.h"

#include "core/error.h"
#include "data/csv_table.h"

#include <QFontDatabase>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

namespace netwright::widgets {

namespace {

constexpr int kThumbSide = 56; // pixels: small samples are enlarged by a whole factor up to it
constexpr int kGridColumns = 6;

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

QString number(double v)
{
    return QString::number(v, 'g', 6);
}

// One sample as a picture: [H,W] or [C,H,W] (RGB for 3 channels, else the first channel in gray);
// uint8 values as they are, float values scaled from their min and max to 0 … 255.
QImage sampleImage(const Dataset &data, int64_t index)
{
    const Shape shape = data.sampleShape();
    const int64_t c = shape.size() == 3 ? shape[0] : 1, h = shape[shape.size() - 2], w = shape.back();
    int64_t elements = 1;
    for (int64_t d : shape)
        elements *= d;
    const bool bytes = data.featureType() == DType::UInt8;
    std::vector<uint8_t> buffer(static_cast<size_t>(elements) * (bytes ? 1 : sizeof(float)));
    data.readSample(index, buffer.data());
    const int shown = c == 3 ? 3 : 1;
    std::vector<uint8_t> pixels(static_cast<size_t>(shown * h * w));
    if (bytes) {
        std::copy_n(buffer.begin(), pixels.size(), pixels.begin());
    } else {
        const auto *v = reinterpret_cast<const float *>(buffer.data());
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < pixels.size(); ++i)
            if (std::isfinite(v[i])) {
                lo = std::min(lo, v[i]);
                hi = std::max(hi, v[i]);
            }
        const float range = hi > lo ? hi - lo : 1.0f;
        for (size_t i = 0; i < pixels.size(); ++i)
            pixels[i] = std::isfinite(v[i]) && hi >= lo ? static_cast<uint8_t>(std::lround(255.0f * (v[i] - lo) / range)) : 0;
    }
    QImage image(static_cast<int>(w), static_cast<int>(h), shown == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8);
    const int64_t plane = h * w;
    for (int64_t y = 0; y < h; ++y) {
        uchar *line = image.scanLine(static_cast<int>(y));
        for (int64_t x = 0; x < w; ++x) {
            if (shown == 3)
                for (int k = 0; k < 3; ++k)
                    line[x * 3 + k] = pixels[static_cast<size_t>(k * plane + y * w + x)];
            else
                line[x] = pixels[static_cast<size_t>(y * w + x)];
        }
    }
    const int side = static_cast<int>(std::max(h, w));
    if (side <= kThumbSide) {
        const int factor = std::max(1, kThumbSide / side);
        return image.scaled(image.width() * factor, image.height() * factor, Qt::IgnoreAspectRatio, Qt::FastTransformation);
    }
    return image.scaled(kThumbSide, kThumbSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
}

QString className(const Dataset &d, int64_t c)
{
    return static_cast<size_t>(c) < d.classNames.size() ? q(d.classNames[static_cast<size_t>(c)]) : QString::number(c);
}

QString targetName(const Dataset &d, int64_t t)
{
    return static_cast<size_t>(t) < d.targetNames.size() ? q(d.targetNames[static_cast<size_t>(t)])
                                                         : (d.labels.dim(1) == 1 ? QStringLiteral("target") : QStringLiteral("target %1").arg(t));
}

// What sample i's target says: its class name, its value(s), or the names of its positive labels.
QString targetText(const Dataset &d, int64_t i, const std::string &task)
{
    if (d.hasClassLabels())
        return className(d, d.labels.dataAs<int64_t>()[i]);
    const int64_t t = d.labels.dim(1);
    const float *row = d.labels.data() + i * t;
    QStringList parts;
    for (int64_t k = 0; k < t; ++k) {
        if (task == "multilabel") {
            if (row[k] != 0.0f)
                parts << targetName(d, k);
        } else {
            parts << (t == 1 ? number(row[k]) : targetName(d, k) + QLatin1Char('=') + number(row[k]));
        }
    }
    return parts.isEmpty() ? QStringLiteral("–") : parts.join(QStringLiteral(", "));
}

// Up to kThumbnails samples: for classes, spread over the classes (each class in turn, evenly
// spaced within it, the picks of one class side by side); else evenly spaced over the source.
std::vector<int64_t> thumbnailSamples(const Dataset &d)
{
    const int64_t n = d.size(), want = std::min<int64_t>(n, DataPreviewContents::kThumbnails);
    std::vector<int64_t> out;
    if (!d.hasClassLabels()) {
        for (int64_t j = 0; j < want; ++j)
            out.push_back(static_cast<int64_t>((static_cast<double>(j) + 0.5) * static_cast<double>(n) / static_cast<double>(want)));
        return out;
    }
    std::map<int64_t, std::vector<int64_t>> byClass;
    for (int64_t i = 0; i < n; ++i)
        byClass[d.labels.dataAs<int64_t>()[i]].push_back(i);
    std::map<int64_t, int64_t> picks;
    for (int64_t taken = 0; taken < want;)
        for (auto &[c, idx] : byClass)
            if (taken < want && picks[c] < static_cast<int64_t>(idx.size())) {
                ++picks[c];
                ++taken;
            }
    for (auto &[c, idx] : byClass) {
        const int64_t k = picks[c], m = static_cast<int64_t>(idx.size());
        for (int64_t j = 0; j < k; ++j)
            out.push_back(idx[static_cast<size_t>((static_cast<double>(j) + 0.5) * static_cast<double>(m) / static_cast<double>(k))]);
    }
    return out;
}

// A CSV table's text labels come without their column's name: it is the header field that is
// not a feature (read from the header line).
QString csvTargetColumn(const Dataset &d, const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (!std::getline(in, line))
        return {};
    if (line.rfind("\xEF\xBB\xBF", 0) == 0)
        line.erase(0, 3);
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    try {
        for (const auto &field : splitCsvLine(line, path, 1))
            if (std::find(d.featureNames.begin(), d.featureNames.end(), field) == d.featureNames.end())
                return q(field);
    } catch (const Error &) {
    }
    return {};
}

} // namespace

DataPreviewContents makeDataPreview(const DataSourceContents &source, const DataSettings &s, const std::string &task, uint64_t seed,
                                    const ImageGeometry &geometry)
{
    DataPreviewContents out;
    Dataset train = source.train; // tensors share their storage: nothing is copied
    const std::vector<std::string> rawTargetNames = train.targetNames;
    applyTask(train, task);
    out.path = q(s.path);
    out.kind = q(dataKindName(source.kind));
    out.dataName = train.name;
    out.sampleShape = train.sampleShape();
    out.dtype = q(dtypeName(train.featureType()));
    out.samples = train.size();
    out.task = q(task);
    out.classes = task != "regression";
    out.sourceSplit = source.test.has_value();

    // The test split, as loadDataPath makes it: the test data, a fraction, or the source's own.
    std::optional<Dataset> test;
    Tensor trainLabels = train.labels, testLabels;
    if (!s.testPath.empty()) {
        test = readDataSource(s.testPath, s, geometry).train;
        applyTask(*test, task);
        out.splitNote = QStringLiteral("test data \"%1\"").arg(q(s.testPath));
    } else if (s.testSplit > 0.0f) {
        // The engine's split over the labels alone (a one-byte stand-in for each sample's features):
        // the counts are the run's, whatever the seed (each class is split in proportion).
        Dataset labels;
        labels.name = train.name;
        labels.labels = train.labels;
        labels.classes = train.classes;
        labels.features = Tensor(Shape{train.size()}, DType::UInt8);
        const auto [a, b] = splitDataset(labels, s.testSplit, seed);
        trainLabels = a.labels;
        testLabels = b.labels;
        out.splitNote = QStringLiteral("%1 % of the samples (seed %2%3)")
                            .arg(static_cast<double>(s.testSplit) * 100.0, 0, 'g', 4)
                            .arg(seed)
                            .arg(train.hasClassLabels() ? QStringLiteral(", stratified by class") : QString());
    } else if (source.test) {
        test = *source.test;
        applyTask(*test, task);
        out.splitNote = QStringLiteral("the source's own test split \"%1\"").arg(q(test->name));
    } else {
        out.splitProblem = QStringLiteral("\"%1\" has no test split of its own: give Test data, or a Test split (e.g. 0.2).").arg(q(s.path));
    }
    if (test)
        testLabels = test->labels;
    out.trainSamples = trainLabels.defined() ? trainLabels.dim(0) : 0;
    out.testSamples = testLabels.defined() ? testLabels.dim(0) : 0;

    // The outputs the model must give.
    if (train.hasClassLabels()) {
        out.outputs = std::max(train.classes, test ? test->classes : 0);
        for (int64_t c = 0; c < train.classes; ++c)
            out.barNames << className(train, c);
        // Test classes by name where both sides name them (a test file's own sorted class names).
        std::vector<int64_t> testClass;
        if (test)
            for (int64_t c = 0; c < test->classes; ++c) {
                const QString name = className(*test, c);
                int64_t at = train.classNames.empty() || test->classNames.empty() ? c : out.barNames.indexOf(name);
                if (at < 0 || at >= out.barNames.size()) {
                    at = out.barNames.size();
                    out.barNames << name;
                }
                testClass.push_back(at);
            }
        out.trainBars.assign(static_cast<size_t>(out.barNames.size()), 0.0);
        out.testBars.assign(static_cast<size_t>(out.barNames.size()), 0.0);
        auto count = [&](const Tensor &labels, std::vector<double> &bars, const std::vector<int64_t> *map) {
            for (int64_t i = 0; labels.defined() && i < labels.dim(0); ++i) {
                int64_t c = labels.dataAs<int64_t>()[i];
                if (map)
                    c = static_cast<size_t>(c) < map->size() ? (*map)[static_cast<size_t>(c)] : c;
                if (c >= static_cast<int64_t>(bars.size())) {
                    out.trainBars.resize(static_cast<size_t>(c + 1), 0.0);
                    out.testBars.resize(static_cast<size_t>(c + 1), 0.0);
                    while (out.barNames.size() <= c)
                        out.barNames << QString::number(out.barNames.size());
                }
                bars[static_cast<size_t>(c)] += 1;
            }
        };
        count(trainLabels, out.trainBars, nullptr);
        count(testLabels, out.testBars, test ? &testClass : nullptr);
        out.outputs = std::max<int64_t>(out.outputs, out.barNames.size());
    } else {
        const int64_t t = train.labels.dim(1);
        out.outputs = t;
        if (task == "multilabel") {
            for (int64_t k = 0; k < t; ++k)
                out.barNames << targetName(train, k);
            auto positives = [&](const Tensor &labels) {
                std::vector<double> bars(static_cast<size_t>(t), 0.0);
                for (int64_t i = 0; labels.defined() && i < labels.numel(); ++i)
                    bars[static_cast<size_t>(i % t)] += labels.data()[i] != 0.0f ? 1 : 0;
                return bars;
            };
            out.trainBars = positives(trainLabels);
            out.testBars = positives(testLabels);
        } else {
            for (int64_t k = 0; k < t; ++k) {
                DataPreviewContents::TargetRange r{targetName(train, k), INFINITY, 0, -INFINITY};
                for (int64_t i = 0; i < train.size(); ++i) {
                    const double v = train.labels.data()[i * t + k];
                    r.min = std::min(r.min, v);
                    r.max = std::max(r.max, v);
                    r.mean += v / static_cast<double>(train.size());
                }
                out.targets.push_back(r);
            }
            // A histogram of the first target: train and test stacked.
            const int bins = static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(std::sqrt(static_cast<double>(train.size()))), 5, 30));
            out.binLow = out.targets[0].min;
            out.binHigh = out.targets[0].max;
            if (test && test->labels.rank() == 2 && test->labels.dim(1) == t)
                for (int64_t i = 0; i < test->size(); ++i) {
                    out.binLow = std::min<double>(out.binLow, test->labels.data()[i * t]);
                    out.binHigh = std::max<double>(out.binHigh, test->labels.data()[i * t]);
                }
            const double width = out.binHigh > out.binLow ? (out.binHigh - out.binLow) / bins : 1.0;
            auto histogram = [&](const Tensor &labels) {
                std::vector<double> bars(static_cast<size_t>(bins), 0.0);
                if (!labels.defined() || labels.rank() != 2 || labels.dim(1) != t)
                    return bars;
                for (int64_t i = 0; i < labels.dim(0); ++i) {
                    const int b = std::clamp(static_cast<int>((labels.data()[i * t] - out.binLow) / width), 0, bins - 1);
                    bars[static_cast<size_t>(b)] += 1;
                }
                return bars;
            };
            out.trainBars = histogram(trainLabels);
            out.testBars = histogram(testLabels);
            for (int b = 0; b < bins; ++b)
                out.barNames << number(out.binLow + (b + 0.5) * width);
        }
    }

    // The samples: pictures for [H,W] and [C,H,W], else the first rows of the table.
    const size_t rank = out.sampleShape.size();
    if (rank == 2 || rank == 3) {
        for (int64_t i : thumbnailSamples(train))
            out.thumbnails.push_back({sampleImage(train, i), targetText(train, i, task), i});
    } else if (rank <= 1) {
        const int64_t features = rank == 1 ? out.sampleShape[0] : 1;
        if (train.hasClassLabels()) {
            QString name = rawTargetNames.size() == 1 ? q(rawTargetNames[0]) : QString();
            if (name.isEmpty() && source.kind == DataKind::CsvTable)
                name = csvTargetColumn(train, s.path);
            out.columns << (name.isEmpty() ? QStringLiteral("class") : name);
        } else {
            for (int64_t k = 0; k < train.labels.dim(1); ++k)
                out.columns << targetName(train, k);
        }
        out.targetColumns = static_cast<int>(out.columns.size());
        const int64_t shown = std::min<int64_t>(features, DataPreviewContents::kColumns);
        out.hiddenColumns = static_cast<int>(features - shown);
        for (int64_t f = 0; f < shown; ++f)
            out.columns << (static_cast<size_t>(f) < train.featureNames.size() ? q(train.featureNames[static_cast<size_t>(f)])
                                                                                : QStringLiteral("x[%1]").arg(f));
        std::vector<uint8_t> buffer(static_cast<size_t>(features) * dtypeSize(train.featureType()));
        for (int64_t i = 0; i < std::min<int64_t>(train.size(), DataPreviewContents::kRows); ++i) {
            train.readSample(i, buffer.data());
            QStringList row;
            if (train.hasClassLabels()) {
                row << className(train, train.labels.dataAs<int64_t>()[i]);
            } else {
                for (int64_t k = 0; k < train.labels.dim(1); ++k)
                    row << number(train.labels.data()[i * train.labels.dim(1) + k]);
            }
            for (int64_t f = 0; f < shown; ++f)
                row << (train.featureType() == DType::UInt8 ? QString::number(buffer[static_cast<size_t>(f)])
                                                            : number(reinterpret_cast<const float *>(buffer.data())[f]));
            out.rows.push_back(row);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

DataPreview::DataPreview(QWidget *parent)
    : QWidget(parent), m_summary(new QLabel(this)), m_split(new QLabel(this)), m_error(new QLabel(this)), m_targets(new QLabel(this)),
      m_samples(new QStackedWidget(this)), m_grid(new QWidget(m_samples)), m_gridLayout(new QGridLayout(m_grid)),
      m_table(new QTableWidget(m_samples)), m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    for (QLabel *l : {m_summary, m_split, m_error, m_targets}) {
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        layout->addWidget(l);
    }
    // Readers' messages hold "<class>/*.png": plain text, so nothing is taken for a tag.
    for (QLabel *l : {m_split, m_error, m_targets})
        l->setTextFormat(Qt::PlainText);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setObjectName(QStringLiteral("dataSummary"));
    m_split->setObjectName(QStringLiteral("dataSplit"));
    m_error->setObjectName(QStringLiteral("dataError"));
    m_targets->setObjectName(QStringLiteral("dataTargets"));
    m_error->setStyleSheet(QStringLiteral("color: #b00020"));
    layout->removeWidget(m_targets);
    m_gridLayout->setSpacing(6);
    m_gridLayout->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    for (int i = 0; i < DataPreviewContents::kThumbnails; ++i) {
        auto *cell = new QWidget(m_grid);
        auto *v = new QVBoxLayout(cell);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(1);
        auto *image = new QLabel(cell);
        image->setAlignment(Qt::AlignCenter);
        image->setMinimumSize(kThumbSide, kThumbSide);
        auto *caption = new QLabel(cell);
        caption->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
        caption->setMaximumWidth(kThumbSide + 24);
        v->addWidget(image);
        v->addWidget(caption);
        m_gridLayout->addWidget(cell, i / kGridColumns, i % kGridColumns);
        m_thumbLabels.push_back(image);
        m_captionLabels.push_back(caption);
    }
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_samples->addWidget(m_grid);
    m_samples->addWidget(m_table);
    layout->addWidget(m_samples, 1);

    m_plot->setMinimumHeight(180);
    // The legend in a row of its own above the bars (bars of similar height leave no corner free).
    m_plot->legend->setVisible(true);
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_plot->plotLayout()->insertRow(0);
    m_plot->plotLayout()->addElement(0, 0, m_plot->legend);
    m_plot->plotLayout()->setRowStretchFactor(0, 0.001);
    m_plot->legend->setMargins(QMargins(4, 2, 4, 0));
    m_plot->yAxis->setLabel(tr("samples"));
    m_trainBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_trainBars->setName(tr("train"));
    m_trainBars->setPen(Qt::NoPen);
    m_trainBars->setBrush(QColor(0x1f, 0x77, 0xb4));
    m_testBars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_testBars->setName(tr("test"));
    m_testBars->setPen(Qt::NoPen);
    m_testBars->setBrush(QColor(0xff, 0x7f, 0x0e));
    m_testBars->moveAbove(m_trainBars); // stacked: a bar's height is the class's whole count
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_targets);
    clear();
}

void DataPreview::clear()
{
    m_contents.reset();
    m_summary->clear();
    m_split->clear();
    m_error->clear();
    m_error->hide();
    m_targets->clear();
    m_targets->hide();
    m_samples->hide();
    m_plot->hide();
    m_trainBars->data()->clear();
    m_testBars->data()->clear();
}

void DataPreview::showMessage(const QString &text)
{
    clear();
    m_summary->setText(text.toHtmlEscaped());
}

void DataPreview::showError(const QString &message)
{
    clear();
    m_error->setText(message);
    m_error->show();
}

void DataPreview::showContents(std::shared_ptr<const DataPreviewContents> contents)
{
    clear();
    m_contents = std::move(contents);
    const DataPreviewContents &c = *m_contents;
    QString what = tr("<b>%1</b> · %2 samples of shape %3 (%4)")
                       .arg(c.kind.toHtmlEscaped())
                       .arg(c.samples)
                       .arg(q(shapeToString(c.sampleShape)), c.dtype);
    if (c.task == QLatin1String("classification"))
        what += tr(" · %1 classes").arg(c.outputs);
    else
        what += c.task == QLatin1String("multilabel") ? tr(" · %1 label(s) per sample").arg(c.outputs)
                                                       : tr(" · %1 target(s) per sample").arg(c.outputs);
    if (!c.note.isEmpty())
        what += QStringLiteral("<br>") + c.note.toHtmlEscaped();
    m_summary->setText(what);
    if (c.splitProblem.isEmpty()) {
        m_split->setText(tr("Split: train %1 / test %2 — the test samples are %3.").arg(c.trainSamples).arg(c.testSamples).arg(c.splitNote));
    } else {
        m_split->setText(tr("Split: none."));
        m_error->setText(c.splitProblem);
        m_error->show();
    }
    if (!c.thumbnails.empty()) {
        showThumbnails(c);
        m_samples->setCurrentWidget(m_grid);
        m_samples->show();
    } else if (!c.rows.empty()) {
        showTable(c);
        m_samples->setCurrentWidget(m_table);
        m_samples->show();
    }
    showBars(c);
    if (!c.targets.empty()) {
        QStringList lines;
        for (const auto &t : c.targets)
            lines << tr("%1: min %2 · mean %3 · max %4").arg(t.name).arg(t.min, 0, 'g', 5).arg(t.mean, 0, 'g', 5).arg(t.max, 0, 'g', 5);
        m_targets->setText(lines.join(QLatin1Char('\n')));
        m_targets->show();
    }
}

void DataPreview::showThumbnails(const DataPreviewContents &c)
{
    for (size_t i = 0; i < m_thumbLabels.size(); ++i) {
        const bool used = i < c.thumbnails.size();
        m_thumbLabels[i]->parentWidget()->setVisible(used);
        if (!used)
            continue;
        m_thumbLabels[i]->setPixmap(QPixmap::fromImage(c.thumbnails[i].image));
        m_thumbLabels[i]->setToolTip(tr("sample %1").arg(c.thumbnails[i].sample));
        const QString caption = c.thumbnails[i].caption;
        m_captionLabels[i]->setText(m_captionLabels[i]->fontMetrics().elidedText(caption, Qt::ElideRight, kThumbSide + 24));
        m_captionLabels[i]->setToolTip(caption);
    }
}

void DataPreview::showTable(const DataPreviewContents &c)
{
    m_table->clear();
    m_table->setColumnCount(static_cast<int>(c.columns.size()));
    m_table->setRowCount(static_cast<int>(c.rows.size()));
    m_table->setHorizontalHeaderLabels(c.columns);
    QFont bold = m_table->font();
    bold.setBold(true);
    for (int k = 0; k < c.targetColumns; ++k)
        if (QTableWidgetItem *h = m_table->horizontalHeaderItem(k))
            h->setFont(bold);
    for (int r = 0; r < static_cast<int>(c.rows.size()); ++r)
        for (int k = 0; k < c.rows[static_cast<size_t>(r)].size(); ++k) {
            auto *item = new QTableWidgetItem(c.rows[static_cast<size_t>(r)][k]);
            if (k < c.targetColumns)
                item->setFont(bold);
            else
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, k, item);
        }
    m_table->resizeColumnsToContents();
    if (c.hiddenColumns > 0)
        m_table->setToolTip(tr("%1 more feature columns are not shown.").arg(c.hiddenColumns));
}

void DataPreview::showBars(const DataPreviewContents &c)
{
    const int n = static_cast<int>(c.barNames.size());
    if (n == 0)
        return;
    const bool histogram = !c.targets.empty();
    QVector<double> keys(n), train(n), test(n);
    double most = 0;
    const double binWidth = histogram && c.binHigh > c.binLow ? (c.binHigh - c.binLow) / n : 1.0;
    for (int i = 0; i < n; ++i) {
        keys[i] = histogram ? c.binLow + (i + 0.5) * binWidth : i + 1;
        train[i] = i < static_cast<int>(c.trainBars.size()) ? c.trainBars[static_cast<size_t>(i)] : 0;
        test[i] = i < static_cast<int>(c.testBars.size()) ? c.testBars[static_cast<size_t>(i)] : 0;
        most = std::max(most, train[i] + test[i]);
    }
    m_trainBars->setWidth(histogram ? binWidth * 0.95 : 0.7);
    m_testBars->setWidth(histogram ? binWidth * 0.95 : 0.7);
    m_trainBars->setData(keys, train, true);
    m_testBars->setData(keys, test, true);
    if (histogram) {
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        m_plot->xAxis->setTickLabelRotation(0);
        m_plot->xAxis->setLabel(c.targets.front().name);
        m_plot->xAxis->setRange(c.binLow - binWidth, c.binHigh + binWidth);
    } else {
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        for (int i = 0; i < n; ++i)
            ticker->addTick(i + 1, c.barNames[i]);
        m_plot->xAxis->setTicker(ticker);
        int longest = 0;
        for (const QString &name : c.barNames)
            longest = std::max(longest, static_cast<int>(name.size()));
        m_plot->xAxis->setTickLabelRotation(n > 12 || longest * n > 60 ? 60 : 0);
        m_plot->xAxis->setLabel(c.task == QLatin1String("multilabel") ? tr("samples with each label") : tr("class"));
        m_plot->xAxis->setRange(0.4, n + 0.6);
    }
    m_plot->yAxis->setRange(0, std::max(1.0, most * 1.08));
    m_plot->show();
    m_plot->replot();
}

QString DataPreview::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

QString DataPreview::summaryText() const
{
    return m_summary->text();
}

QString DataPreview::splitText() const
{
    return m_split->text();
}

int DataPreview::thumbnailCount() const
{
    return m_contents ? static_cast<int>(m_contents->thumbnails.size()) : 0;
}

QImage DataPreview::thumbnail(int i) const
{
    const QPixmap p = m_thumbLabels.at(static_cast<size_t>(i))->pixmap();
    return p.toImage();
}

QString DataPreview::caption(int i) const
{
    return m_captionLabels.at(static_cast<size_t>(i))->toolTip();
}

std::vector<double> DataPreview::barHeights(bool test) const
{
    std::vector<double> out;
    for (auto it = (test ? m_testBars : m_trainBars)->data()->constBegin(); it != (test ? m_testBars : m_trainBars)->data()->constEnd(); ++it)
        out.push_back(it->value);
    return out;
}

QStringList DataPreview::barLabels() const
{
    return m_contents ? m_contents->barNames : QStringList();
}

} // namespace netwright::widgets

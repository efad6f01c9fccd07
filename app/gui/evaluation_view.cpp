// SPDX-License-Identifier: Apache-2.0
#include "gui/evaluation_view.h"

#include "core/error.h"
#include "run/evaluation.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <vector>

namespace netwright::gui {

struct EvaluationView::Result {
    std::shared_ptr<const Evaluation> evaluation;
    QString error;
};

namespace {

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

QString percent(double v)
{
    return QString::number(100.0 * v, 'f', 2) + QStringLiteral(" %");
}

// A widget that draws an evaluation's report: a blank base until there is something to draw.
class ReportWidget : public QWidget {
public:
    using QWidget::QWidget;
    virtual void setReport(const EvaluationReport *report)
    {
        m_report = report;
        updateGeometry();
        update();
    }

protected:
    void paintEvent(QPaintEvent *) final
    {
        QPainter painter(this);
        painter.fillRect(rect(), palette().base());
        if (m_report && hasContent(*m_report))
            paintReport(painter, *m_report);
    }
    virtual bool hasContent(const EvaluationReport &report) const = 0;
    virtual void paintReport(QPainter &painter, const EvaluationReport &report) = 0;

    const EvaluationReport *m_report = nullptr;
};

// The confusion matrix as a heat map: each cell shaded by its share of its row (the true class),
// white to deep blue as scikit-learn's ConfusionMatrixDisplay, with the count written in it. For a
// multilabel task, one label's 2×2 matrix [[tn, fp], [fn, tp]] (rows: without / with the label).
class MatrixView final : public ReportWidget {
public:
    explicit MatrixView(QWidget *parent) : ReportWidget(parent)
    {
        setMouseTracking(true);
        setMinimumSize(360, 320);
    }
    void setReport(const EvaluationReport *report) override
    {
        m_selected = {-1, -1};
        m_label = 0;
        ReportWidget::setReport(report);
    }
    // Multilabel: the label whose matrix is drawn.
    void setLabel(int label)
    {
        m_label = label;
        m_selected = {-1, -1};
        updateGeometry();
        update();
    }
    void setSelected(int t, int p)
    {
        m_selected = {t, p};
        update();
    }
    std::function<void(int, int)> onClicked;

    QRect cellRect(int t, int p) const
    {
        const Layout l = layout();
        return QRect(l.left + p * l.cell, l.top + t * l.cell, l.cell, l.cell);
    }
    QSize sizeHint() const override { return {560, 520}; }

    // The matrix drawn and what its rows and columns are: the classes, or one label's 0 and 1.
    const std::vector<std::vector<int64_t>> &matrix() const
    {
        static const std::vector<std::vector<int64_t>> none;
        if (!m_report)
            return none;
        if (m_report->task != "multilabel")
            return m_report->confusion;
        return m_label >= 0 && static_cast<size_t>(m_label) < m_report->labelConfusion.size() ? m_report->labelConfusion[static_cast<size_t>(m_label)]
                                                                                             : none;
    }
    QString name(int k) const
    {
        if (m_report->task != "multilabel")
            return q(m_report->classes[static_cast<size_t>(k)]);
        const QString label = q(m_report->classes[static_cast<size_t>(m_label)]);
        return k ? label : tr("not %1").arg(label);
    }

protected:
    bool hasContent(const EvaluationReport &) const override { return !matrix().empty(); }
    void paintReport(QPainter &painter, const EvaluationReport &) override
    {
        const Layout l = layout();
        const auto &m = matrix();
        const int c = static_cast<int>(m.size());
        QFont small = font();
        small.setPointSizeF(std::max(6.0, font().pointSizeF() * std::min(1.0, l.cell / 34.0)));
        for (int t = 0; t < c; ++t) {
            int64_t row = 0;
            for (int64_t v : m[static_cast<size_t>(t)])
                row += v;
            for (int p = 0; p < c; ++p) {
                const int64_t v = m[static_cast<size_t>(t)][static_cast<size_t>(p)];
                const double share = row > 0 ? static_cast<double>(v) / static_cast<double>(row) : 0.0;
                // Blues: from #f7fbff to #08306b.
                const QColor colour = QColor::fromRgbF(0.969 - share * (0.969 - 0.031), 0.984 - share * (0.984 - 0.188),
                                                       1.0 - share * (1.0 - 0.420));
                const QRect r = cellRect(t, p);
                painter.fillRect(r, colour);
                painter.setPen(share > 0.5 ? Qt::white : QColor(0x20, 0x20, 0x20));
                painter.setFont(small);
                painter.drawText(r, Qt::AlignCenter, QString::number(v));
            }
        }
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawRect(QRect(l.left, l.top, c * l.cell, c * l.cell).adjusted(0, 0, -1, -1));
        if (m_selected.first >= 0) {
            painter.setPen(QPen(QColor(0xe6, 0x55, 0x0d), 3));
            painter.drawRect(cellRect(m_selected.first, m_selected.second).adjusted(1, 1, -2, -2));
        }
        // Labels: the true classes by name on the left, the predicted ones numbered on top.
        painter.setFont(font());
        int names = 0;
        for (int k = 0; k < c; ++k)
            names = std::max(names, fontMetrics().horizontalAdvance(rowLabel(k)));
        painter.setPen(palette().color(QPalette::Text));
        for (int k = 0; k < c; ++k) {
            const QString name = rowLabel(k);
            painter.drawText(QRect(0, l.top + k * l.cell, l.left - 6, l.cell), Qt::AlignRight | Qt::AlignVCenter, name);
            painter.drawText(QRect(l.left + k * l.cell, l.top - 20, l.cell, 18), Qt::AlignCenter, QString::number(k));
        }
        QFont bold = font();
        bold.setBold(true);
        painter.setFont(bold);
        const bool labels = m_report->task == "multilabel";
        painter.drawText(QRect(l.left, 0, c * l.cell, l.top - 22), Qt::AlignCenter,
                         labels ? tr("Predicted %1").arg(name(1)) : tr("Predicted class"));
        painter.save();
        painter.translate(l.left - 6 - names - 16, l.top + c * l.cell / 2);
        painter.rotate(-90);
        painter.drawText(QRect(-c * l.cell / 2, -10, c * l.cell, 20), Qt::AlignCenter, labels ? tr("True %1").arg(name(1)) : tr("True class"));
        painter.restore();
    }
    void mousePressEvent(QMouseEvent *event) override
    {
        const auto [t, p] = cellAt(event->position().toPoint());
        if (t >= 0 && onClicked)
            onClicked(t, p);
    }
    void mouseMoveEvent(QMouseEvent *event) override
    {
        const auto [t, p] = cellAt(event->position().toPoint());
        if (t < 0) {
            QToolTip::hideText();
            return;
        }
        QToolTip::showText(event->globalPosition().toPoint(),
                           tr("True %1, predicted %2: %3 samples").arg(name(t), name(p)).arg(matrix()[static_cast<size_t>(t)][static_cast<size_t>(p)]),
                           this);
    }

private:
    struct Layout {
        int left, top, cell;
    };
    Layout layout() const
    {
        const int c = std::max(1, static_cast<int>(matrix().size()));
        int names = 0;
        if (m_report)
            for (int k = 0; k < static_cast<int>(matrix().size()); ++k)
                names = std::max(names, fontMetrics().horizontalAdvance(rowLabel(k)));
        const int labels = 28 + names + 6, top = 48;
        const int cell = std::max(12, std::min((width() - labels - 8) / std::max(c, 1), (height() - top - 8) / std::max(c, 1)));
        const int left = std::max(labels, (width() - c * cell) / 2); // centred where there is room
        return {left, top, cell};
    }
    // A row's label: "Shirt  6", or "6" where the classes have no names; "not even  0", "even  1".
    QString rowLabel(int k) const
    {
        const QString text = name(k);
        return text == QString::number(k) ? text : QStringLiteral("%1  %2").arg(text).arg(k);
    }
    std::pair<int, int> cellAt(QPoint at) const
    {
        if (!m_report)
            return {-1, -1};
        const int c = static_cast<int>(matrix().size());
        for (int t = 0; t < c; ++t)
            for (int p = 0; p < c; ++p)
                if (cellRect(t, p).contains(at))
                    return {t, p};
        return {-1, -1};
    }

    std::pair<int, int> m_selected{-1, -1};
    int m_label = 0;
};

// Per class (multilabel: per label): precision, recall and F1 as three bars on a 0–1 scale, with
// the F1 written beside them.
class ClassBars final : public ReportWidget {
public:
    explicit ClassBars(QWidget *parent) : ReportWidget(parent) { setMinimumWidth(300); }
    QSize sizeHint() const override { return {380, 520}; }
    static QColor colour(int k)
    {
        static const QColor colours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c)};
        return colours[k];
    }

protected:
    bool hasContent(const EvaluationReport &report) const override { return !report.perClass.empty(); }
    void paintReport(QPainter &painter, const EvaluationReport &report) override
    {
        const auto &rows = report.perClass;
        int names = 0;
        for (const auto &f : rows)
            names = std::max(names, fontMetrics().horizontalAdvance(q(f.name)));
        const int left = names + 12, top = 30, right = 56;
        const int barWidth = std::max(40, width() - left - right);
        const int band = std::max(18, (height() - top - 8) / static_cast<int>(rows.size()));
        const int bar = std::max(3, (band - 6) / 3);
        // Legend.
        const QString labels[] = {tr("precision"), tr("recall"), tr("F1")};
        int x = left;
        painter.setPen(palette().color(QPalette::Text));
        for (int k = 0; k < 3; ++k) {
            painter.fillRect(QRect(x, 8, 12, 12), colour(k));
            painter.drawText(QRect(x + 16, 4, 90, 20), Qt::AlignLeft | Qt::AlignVCenter, labels[k]);
            x += 24 + fontMetrics().horizontalAdvance(labels[k]);
        }
        for (size_t i = 0; i < rows.size(); ++i) {
            const int y = top + static_cast<int>(i) * band;
            painter.setPen(palette().color(QPalette::Text));
            painter.drawText(QRect(0, y, left - 8, band), Qt::AlignRight | Qt::AlignVCenter, q(rows[i].name));
            const double values[] = {rows[i].precision, rows[i].recall, rows[i].f1};
            for (int k = 0; k < 3; ++k) {
                const QRect r(left, y + 3 + k * bar, static_cast<int>(std::lround(values[k] * barWidth)), bar - 1);
                painter.fillRect(r, colour(k));
            }
            painter.setPen(palette().color(QPalette::PlaceholderText));
            painter.drawText(QRect(left + barWidth + 4, y, right - 4, band), Qt::AlignLeft | Qt::AlignVCenter,
                             QString::number(rows[i].f1, 'f', 3));
        }
        painter.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DotLine));
        for (double v : {0.25, 0.5, 0.75, 1.0}) {
            const int gx = left + static_cast<int>(std::lround(v * barWidth));
            painter.drawLine(gx, top, gx, top + band * static_cast<int>(rows.size()));
        }
    }
};

// Sample i of `data`'s n values as stored (uint8 or float32), as floats.
std::vector<float> sampleValues(const Dataset &data, int64_t i, int64_t n)
{
    std::vector<float> values(static_cast<size_t>(n));
    if (data.featureType() == DType::UInt8) {
        std::vector<uint8_t> raw(static_cast<size_t>(n));
        data.readSample(i, raw.data());
        std::copy(raw.begin(), raw.end(), values.begin());
    } else {
        data.readSample(i, values.data());
    }
    return values;
}

// Sample i of `data` as an image (samples [C,H,W] with 1 or 3 channels); a null image otherwise.
QImage sampleImage(const Dataset &data, int64_t i)
{
    const Shape s = data.sampleShape();
    if (s.size() != 3 || (s[0] != 1 && s[0] != 3))
        return {};
    const int64_t c = s[0], h = s[1], w = s[2], n = c * h * w;
    std::vector<float> values = sampleValues(data, i, n);
    if (data.featureType() != DType::UInt8) { // stretched to 0–255
        const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
        const float a = *lo, range = *hi > *lo ? *hi - *lo : 1.0f;
        for (float &v : values)
            v = (v - a) / range * 255.0f;
    }
    QImage image(static_cast<int>(w), static_cast<int>(h), QImage::Format_RGB888);
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            auto at = [&](int64_t ch) { return static_cast<int>(std::clamp(values[static_cast<size_t>((ch * h + y) * w + x)], 0.0f, 255.0f)); };
            const int r = at(0), g = c == 3 ? at(1) : r, b = c == 3 ? at(2) : r;
            image.setPixel(static_cast<int>(x), static_cast<int>(y), qRgb(r, g, b));
        }
    return image;
}

// Sample i's values as text (tabular data): "x1 0.12, x2 3.4, …", the first 12.
QString sampleRow(const Dataset &data, int64_t i)
{
    const Shape s = data.sampleShape();
    int64_t n = 1;
    for (int64_t d : s)
        n *= d;
    const std::vector<float> values = sampleValues(data, i, n);
    QStringList items;
    for (int64_t k = 0; k < n && k < 12; ++k)
        items << (static_cast<size_t>(k) < data.featureNames.size() ? q(data.featureNames[static_cast<size_t>(k)]) + QStringLiteral(" ") : QString())
                     + QString::number(values[static_cast<size_t>(k)], 'g', 5);
    return items.join(QStringLiteral(", ")) + (n > 12 ? QStringLiteral(", …") : QString());
}

constexpr int kGalleryLimit = 400; // samples shown for one cell

} // namespace

EvaluationView::EvaluationView(QWidget *parent)
    : QWidget(parent), m_summary(new QLabel(this)), m_galleryTitle(new QLabel(this)), m_pages(new QStackedWidget(this)),
      m_matrix(new MatrixView(this)), m_bars(new ClassBars(this)), m_gallery(new QListWidget(this)), m_labels(new QComboBox(this))
{
    auto *layout = new QVBoxLayout(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    auto *split = new QSplitter(Qt::Vertical, this);
    auto *top = new QSplitter(Qt::Horizontal, split);
    // The matrix, with a multilabel task's label chooser above it.
    auto *matrixSide = new QWidget(top);
    auto *ml = new QVBoxLayout(matrixSide);
    ml->setContentsMargins(0, 0, 0, 0);
    m_labelRow = new QWidget(matrixSide);
    auto *lr = new QHBoxLayout(m_labelRow);
    lr->setContentsMargins(0, 0, 0, 0);
    lr->addWidget(new QLabel(tr("Confusion matrix of label:"), m_labelRow));
    lr->addWidget(m_labels, 1);
    ml->addWidget(m_labelRow);
    ml->addWidget(m_matrix, 1);
    m_labelRow->hide();
    top->addWidget(matrixSide);
    top->addWidget(m_bars);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    auto *bottom = new QWidget(split);
    auto *bl = new QVBoxLayout(bottom);
    bl->setContentsMargins(0, 0, 0, 0);
    m_galleryTitle->setText(tr("Click a cell of the matrix to see its samples."));
    bl->addWidget(m_galleryTitle);
    m_gallery->setViewMode(QListView::IconMode);
    m_gallery->setIconSize(QSize(56, 56));
    m_gallery->setGridSize(QSize(84, 92));
    m_gallery->setResizeMode(QListView::Adjust);
    m_gallery->setMovement(QListView::Static);
    m_gallery->setUniformItemSizes(true);
    bl->addWidget(m_gallery, 1);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    split->setSizes({520, 260});
    m_pages->addWidget(split);
    auto *plain = new QLabel(this); // a regression: the figures say it all
    plain->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    plain->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_pages->addWidget(plain);
    layout->addWidget(m_pages, 1);
    static_cast<MatrixView *>(m_matrix)->onClicked = [this](int t, int p) { selectCell(t, p); };
    connect(m_labels, &QComboBox::currentIndexChanged, this, [this](int label) {
        if (label >= 0)
            selectLabel(label);
    });
    connect(&m_watcher, &QFutureWatcher<std::shared_ptr<Result>>::finished, this, [this] { showResult(*m_watcher.result()); });
}

EvaluationView::~EvaluationView()
{
    m_watcher.waitForFinished();
}

QWidget *EvaluationView::matrixView() const
{
    return m_matrix;
}

QWidget *EvaluationView::classBars() const
{
    return m_bars;
}

QRect EvaluationView::cellRect(int trueClass, int predicted) const
{
    return static_cast<MatrixView *>(m_matrix)->cellRect(trueClass, predicted);
}

void EvaluationView::evaluate(const QString &source)
{
    m_summary->setText(tr("Evaluating %1 on its run's test split…").arg(source));
    m_error.clear();
    m_watcher.setFuture(QtConcurrent::run([path = source.toStdString()] {
        auto result = std::make_shared<Result>();
        try {
            EvaluationRequest request;
            request.source = path;
            result->evaluation = std::make_shared<const Evaluation>(evaluateModel(request));
        } catch (const Error &e) {
            result->error = QString::fromUtf8(e.what());
        } catch (const std::exception &e) {
            result->error = QString::fromUtf8(e.what());
        }
        return result;
    }));
}

void EvaluationView::showResult(const Result &result)
{
    if (!result.error.isEmpty()) {
        m_error = result.error;
        m_summary->setText(tr("Cannot evaluate: %1").arg(m_error));
        emit finished();
        return;
    }
    setEvaluation(result.evaluation);
    emit finished();
}

void EvaluationView::setEvaluation(std::shared_ptr<const Evaluation> evaluation)
{
    m_evaluation = std::move(evaluation);
    const Evaluation &ev = *m_evaluation;
    const EvaluationReport &r = ev.report;
    const QString where = ev.checkpoint.empty() ? q(ev.source)
                                                : tr("%1 (global step %2)").arg(QFileInfo(q(ev.checkpoint)).fileName()).arg(ev.globalStep);
    QString figures;
    if (r.task == "classification") {
        figures = tr("<b>Accuracy %1</b>").arg(percent(r.accuracy));
        if (r.top5)
            figures += tr(" · top-5 %1").arg(percent(*r.top5));
        figures += tr(" · loss %1 · macro F1 %2").arg(r.loss, 0, 'f', 4).arg(r.macroAverage.f1, 0, 'f', 4);
    } else if (r.task == "multilabel") {
        figures = tr("<b>Subset accuracy %1</b> · hamming loss %2 · loss %3 · micro F1 %4 · macro F1 %5 · a label is predicted above "
                     "probability %6")
                      .arg(percent(r.accuracy))
                      .arg(r.hammingLoss, 0, 'f', 4)
                      .arg(r.loss, 0, 'f', 4)
                      .arg(r.microAverage.f1, 0, 'f', 4)
                      .arg(r.macroAverage.f1, 0, 'f', 4)
                      .arg(r.threshold);
    } else {
        figures = tr("<b>R² %1</b> · MAE %2 · RMSE %3 · loss %4").arg(r.r2, 0, 'f', 4).arg(r.mae, 0, 'g', 6).arg(r.rmse, 0, 'g', 6).arg(r.loss, 0, 'g', 6);
    }
    m_summary->setText(tr("%1<br>%2 on %3: %4 samples").arg(figures, where.toHtmlEscaped(), q(ev.data).toHtmlEscaped()).arg(r.samples));
    static_cast<MatrixView *>(m_matrix)->setReport(&r);
    static_cast<ClassBars *>(m_bars)->setReport(&r);
    m_gallery->clear();
    {
        const QSignalBlocker quiet(m_labels);
        m_labels->clear();
        if (r.task == "multilabel")
            for (const auto &label : r.classes)
                m_labels->addItem(q(label));
    }
    m_labelRow->setVisible(r.task == "multilabel");
    if (r.task == "classification" || r.task == "multilabel") {
        m_pages->setCurrentIndex(0);
        m_galleryTitle->setText(tr("Click a cell of the matrix to see its samples."));
        return;
    }
    QString text = tr("<table cellspacing=6><tr><th align=left>Target</th><th>Mean residual</th><th>Std</th><th>Min</th><th>Median</th>"
                      "<th>Max</th><th>Mean |residual|</th></tr>");
    for (const auto &s : r.residuals)
        text += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td><td>%7</td></tr>")
                    .arg(q(s.target).toHtmlEscaped())
                    .arg(s.mean, 0, 'g', 5)
                    .arg(s.std, 0, 'g', 5)
                    .arg(s.min, 0, 'g', 5)
                    .arg(s.median, 0, 'g', 5)
                    .arg(s.max, 0, 'g', 5)
                    .arg(s.meanAbsolute, 0, 'g', 5);
    static_cast<QLabel *>(m_pages->widget(1))->setText(text + QStringLiteral("</table>"));
    m_pages->setCurrentIndex(1);
}

void EvaluationView::selectLabel(int label)
{
    if (!m_evaluation || m_evaluation->report.task != "multilabel" || label < 0
        || label >= static_cast<int>(m_evaluation->report.classes.size()))
        return;
    if (m_labels->currentIndex() != label) {
        m_labels->setCurrentIndex(label); // comes back here
        return;
    }
    static_cast<MatrixView *>(m_matrix)->setLabel(label);
    m_gallery->clear();
    m_galleryTitle->setText(tr("Click a cell of the matrix to see its samples."));
}

void EvaluationView::showGalleryAs(bool images)
{
    // Images on a grid of thumbnails; rows of values one a line, without the thumbnails' grid.
    m_gallery->setViewMode(images ? QListView::IconMode : QListView::ListMode);
    m_gallery->setGridSize(images ? QSize(84, 92) : QSize());
}

int EvaluationView::currentLabel() const
{
    return m_labels->currentIndex();
}

void EvaluationView::selectLabelCell(int label, int truth, int predicted)
{
    const EvaluationReport &r = m_evaluation->report;
    static_cast<MatrixView *>(m_matrix)->setSelected(truth, predicted);
    m_gallery->clear();
    const Dataset *data = m_evaluation->samples.get();
    const bool images = data && data->sampleShape().size() == 3 && (data->sampleShape()[0] == 1 || data->sampleShape()[0] == 3);
    showGalleryAs(images);
    const auto k = static_cast<size_t>(label);
    auto set = [&](const std::vector<uint8_t> &on) {
        QStringList names;
        for (size_t j = 0; j < on.size(); ++j)
            if (on[j])
                names << q(r.classes[j]);
        return names.isEmpty() ? tr("none") : names.join(QStringLiteral(", "));
    };
    int count = 0, shown = 0;
    for (const auto &p : r.multilabelPredictions) {
        if (p.truth[k] != truth || p.predicted[k] != predicted)
            continue;
        ++count;
        if (shown >= kGalleryLimit)
            continue;
        ++shown;
        const QString probability = percent(p.probability[k]);
        auto *item = new QListWidgetItem(m_gallery);
        item->setData(Qt::UserRole, static_cast<qlonglong>(p.index));
        item->setToolTip(tr("Sample %1: true labels %2, predicted %3; %4 %5, loss %6")
                             .arg(p.index)
                             .arg(set(p.truth), set(p.predicted), q(r.classes[k]), probability)
                             .arg(p.loss, 0, 'f', 4));
        if (images) {
            item->setIcon(QIcon(QPixmap::fromImage(sampleImage(*data, p.index).scaled(56, 56, Qt::KeepAspectRatio, Qt::FastTransformation))));
            item->setText(QStringLiteral("#%1\n%2").arg(p.index).arg(probability));
        } else {
            item->setText(tr("#%1  %2  (%3 %4; predicted: %5)")
                              .arg(p.index)
                              .arg(data ? sampleRow(*data, p.index) : QString(), q(r.classes[k]), probability, set(p.predicted)));
        }
    }
    const QString name = q(r.classes[k]), no = tr("not %1").arg(name);
    QString title = tr("%1: true %2, predicted %3: ").arg(name, truth ? name : no, predicted ? name : no)
                    + (count == 1 ? tr("1 sample") : tr("%1 samples").arg(count));
    if (shown < count)
        title += tr(" (the first %1 shown)").arg(shown);
    m_galleryTitle->setText(title);
}

void EvaluationView::selectCell(int trueClass, int predicted)
{
    if (m_evaluation && m_evaluation->report.task == "multilabel") {
        if (currentLabel() >= 0 && trueClass >= 0 && trueClass < 2 && predicted >= 0 && predicted < 2)
            selectLabelCell(currentLabel(), trueClass, predicted);
        return;
    }
    if (!m_evaluation || m_evaluation->report.task != "classification")
        return;
    const EvaluationReport &r = m_evaluation->report;
    const int c = static_cast<int>(r.classes.size());
    if (trueClass < 0 || trueClass >= c || predicted < 0 || predicted >= c)
        return;
    static_cast<MatrixView *>(m_matrix)->setSelected(trueClass, predicted);
    m_gallery->clear();
    const Dataset *data = m_evaluation->samples.get();
    const bool images = data && data->sampleShape().size() == 3 && (data->sampleShape()[0] == 1 || data->sampleShape()[0] == 3);
    showGalleryAs(images);
    int count = 0, shown = 0;
    for (const auto &p : r.predictions) {
        if (p.trueClass != trueClass || p.predicted != predicted)
            continue;
        ++count;
        if (shown >= kGalleryLimit)
            continue;
        ++shown;
        const QString confidence = percent(p.confidence);
        auto *item = new QListWidgetItem(m_gallery);
        item->setData(Qt::UserRole, static_cast<qlonglong>(p.index));
        item->setToolTip(tr("Sample %1: true %2, predicted %3 with %4, loss %5")
                             .arg(p.index)
                             .arg(q(r.classes[static_cast<size_t>(p.trueClass)]), q(r.classes[static_cast<size_t>(p.predicted)]), confidence)
                             .arg(p.loss, 0, 'f', 4));
        if (images) {
            item->setIcon(QIcon(QPixmap::fromImage(sampleImage(*data, p.index).scaled(56, 56, Qt::KeepAspectRatio, Qt::FastTransformation))));
            item->setText(QStringLiteral("#%1\n%2").arg(p.index).arg(confidence));
        } else {
            item->setText(tr("#%1  %2  (%3)").arg(p.index).arg(data ? sampleRow(*data, p.index) : QString(), confidence));
        }
    }
    QString title = (count == 1 ? tr("True %1, predicted %2: 1 sample") : tr("True %1, predicted %2: %3 samples"))
                        .arg(q(r.classes[static_cast<size_t>(trueClass)]), q(r.classes[static_cast<size_t>(predicted)]));
    if (count != 1)
        title = title.arg(count);
    if (shown < count)
        title += tr(" (the first %1 shown)").arg(shown);
    m_galleryTitle->setText(title);
}

} // namespace netwright::gui

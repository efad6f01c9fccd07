// SPDX-License-Identifier: Apache-2.0
#include "training/training_curves.h"

#include "run/metrics_log.h"
#include "training/curve_run_series.h"
#include "training/readout_placement.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMouseEvent>
#include <QSlider>
#include <QStandardItemModel>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace netwright::widgets {

namespace {

const QColor kLossColor(0x1f, 0x77, 0xb4);
const QColor kTrainFigureColor(0x17, 0xa2, 0xb8);
const QColor kTestLossColor(0xd6, 0x27, 0x28);
const QColor kTestFigureColor(0x2c, 0xa0, 0x2c);
const QColor kLrColor(0xff, 0x7f, 0x0e);
const QColor kCheckpointColor(0x94, 0x67, 0xbd);
constexpr int kSliderSteps = 1000; // the smoothing slider counts thousandths: 0 … 0.999

QColor faint(QColor c)
{
    c.setAlpha(70);
    return c;
}

QString number(double v)
{
    if (std::isnan(v))
        return QStringLiteral("–");
    return QString::number(v, 'g', 5);
}

// A span of seconds as a clock reads it: 12.3 s, 4:05, 1:02:03.
QString span(double seconds)
{
    if (seconds < 59.95)
        return QStringLiteral("%1 s").arg(std::max(0.0, seconds), 0, 'f', 1);
    const auto s = static_cast<int64_t>(std::llround(seconds));
    return s >= 3600 ? QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QCPGraph *line(QCustomPlot *plot, QCPAxis *x, QCPAxis *y, const QString &name, const QPen &pen)
{
    QCPGraph *g = plot->addGraph(x, y);
    g->setName(name);
    g->setPen(pen);
    // Every point is drawn: no adaptive sampling, which would draw a summary of the points.
    g->setAdaptiveSampling(false);
    // Nothing but the checkpoint markers reacts to a click, and nothing is ever drawn as
    // "selected": a series looks the same as its legend entry whatever the user clicks.
    g->setSelectable(QCP::stNone);
    return g;
}

} // namespace

TrainingCurves::TrainingCurves(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)), m_readout(new QLabel(m_plot)), m_slider(new QSlider(Qt::Horizontal, this)),
      m_log(new QCheckBox(tr("Log scale"), this)), m_axisChoice(new QComboBox(this)), m_runMetric(new QComboBox(this)), m_export(new QToolButton(this)), m_replot(new QTimer(this)),
      m_lossEma(m_smoothing), m_figEma(m_smoothing)
{
    auto *layout = new QVBoxLayout(this);
    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Smoothing"), this));
    m_slider->setObjectName(QStringLiteral("smoothing"));
    m_slider->setRange(0, kSliderSteps - 1);
    m_slider->setValue(static_cast<int>(std::lround(m_smoothing * kSliderSteps)));
    m_slider->setToolTip(tr("Weight of the exponential moving average (debiased, as TensorBoard computes it); the raw values stay, faint"));
    auto *weight = new QLabel(this);
    weight->setMinimumWidth(weight->fontMetrics().horizontalAdvance(QStringLiteral("0.000")));
    controls->addWidget(m_slider, 1);
    controls->addWidget(weight);
    controls->addSpacing(12);
    m_runMetric->setObjectName(QStringLiteral("runMetric"));
    m_runMetric->setToolTip(tr("What the runs' dashed lines on the right axis show: any metric their evaluations logged"));
    m_runMetricLabel = new QLabel(tr("dashed"), this);
    m_runMetricLabel->hide(); // runs overlaid only
    m_runMetric->hide();
    controls->addWidget(m_runMetricLabel);
    controls->addWidget(m_runMetric);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("x-axis"), this));
    m_axisChoice->setObjectName(QStringLiteral("xAxis"));
    m_axisChoice->addItem(tr("Step"), static_cast<int>(CurveAxis::Step));
    m_axisChoice->addItem(tr("Epoch"), static_cast<int>(CurveAxis::Epoch));
    m_axisChoice->addItem(tr("Samples"), static_cast<int>(CurveAxis::Samples));
    m_axisChoice->addItem(tr("Wall time"), static_cast<int>(CurveAxis::WallTime));
    m_axisChoice->setToolTip(tr("Global step, epoch (fractional), training samples seen, or the time since the first step"));
    controls->addWidget(m_axisChoice);
    controls->addWidget(m_log);
    m_export->setObjectName(QStringLiteral("exportCurves"));
    m_export->setText(tr("Export"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(m_export);
    m_export->setMenu(menu);
    controls->addWidget(m_export);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);
    auto showWeight = [weight](double w) { weight->setText(QString::number(w, 'f', 3)); };
    showWeight(m_smoothing);

    // One plot, two axis rects: the losses and metrics above, the learning rate below. The legend
    // is a row of its own above both, outside the data.
    m_plot->setMinimumHeight(300);
    m_lossRect = m_plot->axisRect();
    m_lrRect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->insertRow(0);
    m_plot->axisRect()->insetLayout()->take(m_plot->legend);
    m_plot->plotLayout()->addElement(0, 0, m_plot->legend);
    m_plot->plotLayout()->addElement(2, 0, m_lrRect);
    m_plot->plotLayout()->setRowStretchFactors({0.001, 3, 1});
    m_plot->plotLayout()->setRowSpacing(0);
    m_plot->legend->setVisible(true);
    m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_plot->legend->setWrap(4);
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->legend->setMargins(QMargins(4, 2, 4, 2));
    m_plot->legend->setLayer(QStringLiteral("legend"));
    // The two rects keep the same left and right margins, so their x-axes line up pixel for pixel.
    auto *margins = new QCPMarginGroup(m_plot);
    m_lossRect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    m_lrRect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    m_lrRect->setMinimumSize(0, 90);
    // The right axis of the upper rect is matched below by an empty one, for the same reason.
    m_lrRect->axis(QCPAxis::atRight)->setVisible(true);
    m_lrRect->axis(QCPAxis::atRight)->setTickLabels(false);
    m_lrRect->axis(QCPAxis::atRight)->setTicks(false);

    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_lossRect->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    m_lossRect->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    m_lrRect->setRangeDrag(Qt::Horizontal);
    m_lrRect->setRangeZoom(Qt::Horizontal);
    m_plot->yAxis->setLabel(tr("loss"));
    m_plot->yAxis2->setVisible(true);
    m_plot->yAxis2->setLabel(tr("accuracy"));
    m_plot->yAxis2->setRange(0, 1);
    m_lrRect->axis(QCPAxis::atLeft)->setLabel(tr("learning rate"));
    m_lrRect->axis(QCPAxis::atBottom)->setLabel(tr("global step"));

    QCPAxis *x = m_plot->xAxis, *y = m_plot->yAxis, *y2 = m_plot->yAxis2;
    m_raw = line(m_plot, x, y, tr("train loss"), QPen(faint(kLossColor)));
    m_trainFig = line(m_plot, x, y2, tr("train accuracy"), QPen(faint(kTrainFigureColor)));
    m_smooth = line(m_plot, x, y, tr("train loss (smoothed)"), QPen(kLossColor, 2));
    m_trainFigSmooth = line(m_plot, x, y2, tr("train accuracy"), QPen(kTrainFigureColor, 2));
    m_evalLoss = line(m_plot, x, y, tr("test loss"), QPen(kTestLossColor, 1.5));
    m_evalLoss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    m_evalAcc = line(m_plot, x, y2, tr("test accuracy"), QPen(kTestFigureColor, 1.5));
    m_evalAcc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 7));
    m_lr = line(m_plot, m_lrRect->axis(QCPAxis::atBottom), m_lrRect->axis(QCPAxis::atLeft), tr("learning rate"), QPen(kLrColor, 1.5));
    // The markers on top of every line; a click on one (and only on one) selects its checkpoint.
    m_markers = line(m_plot, x, y, tr("checkpoint"), QPen(kCheckpointColor));
    m_markers->setLineStyle(QCPGraph::lsNone);
    m_markers->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, kCheckpointColor, kCheckpointColor, 9));
    m_markers->setSelectable(QCP::stSingleData);
    // A run's history also shows the checkpoints its keep rules deleted: hollow and grey.
    m_deleted = line(m_plot, x, y, tr("checkpoint (deleted)"), QPen(QColor(0x90, 0x90, 0x90)));
    m_deleted->setLineStyle(QCPGraph::lsNone);
    m_deleted->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, QPen(QColor(0x90, 0x90, 0x90), 1.2), Qt::white, 9));
    updateLegend();

    // The hover cursor: a vertical line through both rects at the x under the mouse, on a layer of
    // its own that redraws alone as the mouse moves (the curves' points are not drawn again).
    m_plot->addLayer(QStringLiteral("cursor"), m_plot->layer(QStringLiteral("main")), QCustomPlot::limAbove);
    m_plot->layer(QStringLiteral("cursor"))->setMode(QCPLayer::lmBuffered);
    for (auto [item, rect] : {std::pair{&m_cursor, m_lossRect}, std::pair{&m_lrCursor, m_lrRect}}) {
        *item = new QCPItemStraightLine(m_plot);
        (*item)->setLayer(QStringLiteral("cursor"));
        (*item)->setPen(QPen(QColor(0x60, 0x60, 0x60), 1, Qt::DashLine));
        (*item)->setClipAxisRect(rect);
        (*item)->setSelectable(false);
        for (QCPItemPosition *p : {(*item)->point1, (*item)->point2}) {
            // x in the data, y from the rect's top to its bottom (whatever the loss axis's scale)
            p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            p->setAxisRect(rect);
            p->setTypeX(QCPItemPosition::ptPlotCoords);
            p->setTypeY(QCPItemPosition::ptAxisRectRatio);
        }
        (*item)->setVisible(false);
    }
    setUpReadout(m_readout, QStringLiteral("curveReadout"), m_plot, this);

    // The two rects share the x-axis: a zoom or pan in either moves both.
    QCPAxis *lrX = m_lrRect->axis(QCPAxis::atBottom);
    connect(x, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), lrX, [lrX](const QCPRange &r) {
        if (lrX->range() != r)
            lrX->setRange(r);
    });
    connect(lrX, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), x, [x](const QCPRange &r) {
        if (x->range() != r)
            x->setRange(r);
    });
    connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_autoRange = false; });
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_autoRange = false; });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
        m_autoRange = true; // a double-click goes back to following the run
        replotNow();
    });
    connect(m_plot, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable *p, int index, QMouseEvent *) {
        if (p != m_markers || index < 0 || index >= m_markers->dataCount())
            return;
        const double key = m_markers->data()->at(index)->key;
        for (int64_t c : m_checkpoints)
            if (keyOf(locate(c)) == key) {
                emit checkpointClicked(static_cast<qint64>(c));
                return;
            }
    });
    connect(m_slider, &QSlider::valueChanged, this, [this, showWeight](int v) {
        showWeight(v / double(kSliderSteps));
        setSmoothing(v / double(kSliderSteps));
    });
    connect(m_log, &QCheckBox::toggled, this, &TrainingCurves::setLogScale);
    connect(m_runMetric, &QComboBox::currentTextChanged, this, [this](const QString &figure) {
        if (!figure.isEmpty())
            setRunsMetric(figure);
    });
    connect(m_axisChoice, &QComboBox::currentIndexChanged, this, [this] {
        m_preferredAxis = static_cast<CurveAxis>(m_axisChoice->currentData().toInt());
        setXAxis(m_preferredAxis);
    });
    connect(menu, &QMenu::aboutToShow, this, [this, menu] {
        menu->clear();
        for (const QString &name : seriesNames())
            menu->addAction(tr("%1 as CSV…").arg(name), this, [this, name] { exportDialog(name); });
        if (!menu->isEmpty())
            menu->addSeparator();
        menu->addAction(tr("Plot as PNG…"), this, [this] { imageDialog(false); });
        menu->addAction(tr("Plot as SVG…"), this, [this] { imageDialog(true); });
    });
    m_replot->setSingleShot(true);
    m_replot->setInterval(100);
    connect(m_replot, &QTimer::timeout, this, &TrainingCurves::replotNow);
    updateAxisChoices();
}

void TrainingCurves::clear()
{
    for (QCPGraph *g : {m_raw, m_smooth, m_trainFig, m_trainFigSmooth, m_evalLoss, m_evalAcc, m_markers, m_deleted, m_lr})
        g->data()->clear();
    for (auto *v : {&m_loss, &m_lrPoints, &m_figure, &m_testLoss, &m_testFigure})
        v->clear();
    m_smoothed.clear();
    m_figSmoothed.clear();
    m_lossEma = DebiasedEma(m_smoothing);
    m_figEma = DebiasedEma(m_smoothing);
    m_checkpoints.clear();
    m_deletedSteps.clear();
    for (const auto &r : m_runs)
        for (QCPGraph *g : {r->smooth, r->raw, r->testGraph, r->lrGraph})
            m_plot->removeGraph(g);
    m_runs.clear();
    {
        const QSignalBlocker blocker(m_runMetric);
        m_runMetric->clear();
        m_runMetric->hide();
        m_runMetricLabel->hide();
    }
    updateLegend();
    m_evalAcc->setName(tr("test accuracy"));
    m_plot->yAxis2->setLabel(tr("accuracy"));
    m_plot->yAxis2->setRange(0, 1);
    m_wall0 = kUnknown;
    m_autoRange = true;
    hideReadout();
    if (m_axis != CurveAxis::Step)
        setXAxis(CurveAxis::Step);
    updateAxisChoices();
    scheduleReplot();
}

void TrainingCurves::addStep(int64_t globalStep, double loss, double lr)
{
    TrainingStepPoint s;
    s.globalStep = globalStep;
    s.loss = loss;
    s.lr = lr;
    addStep(s);
}

void TrainingCurves::addStep(const TrainingStepPoint &s)
{
    const bool first = m_loss.empty();
    // Samples seen: the batch sizes summed, as long as every step says its own.
    double samples = kUnknown;
    if (s.batchSize > 0 && (first || std::isfinite(m_loss.back().samples)))
        samples = (first ? 0.0 : m_loss.back().samples) + static_cast<double>(s.batchSize);
    const CurvePoint at{s.globalStep, s.epoch, s.wallTime, s.loss, samples};
    if (first && std::isfinite(s.wallTime))
        m_wall0 = s.wallTime;
    m_loss.push_back(at);
    m_smoothed.push_back(m_lossEma.push(s.loss));
    m_lrPoints.push_back({s.globalStep, s.epoch, s.wallTime, s.lr, samples});
    const double key = keyOf(at);
    if (std::isfinite(key)) {
        m_raw->addData(key, s.loss);
        m_smooth->addData(key, m_smoothed.back());
        m_lr->addData(key, s.lr);
    }
    if (std::isfinite(s.figure)) {
        if (m_figure.empty()) {
            const QString name = s.figureName.isEmpty() ? tr("train accuracy") : s.figureName;
            m_trainFig->setName(name);
            m_trainFigSmooth->setName(name);
        }
        m_figure.push_back({s.globalStep, s.epoch, s.wallTime, s.figure, samples});
        m_figSmoothed.push_back(m_figEma.push(s.figure));
        if (std::isfinite(key)) {
            m_trainFig->addData(key, s.figure);
            m_trainFigSmooth->addData(key, m_figSmoothed.back());
        }
    }
    if (first || m_figure.size() == 1)
        updateLegend();
    if (first) {
        updateAxisChoices();
        if (m_preferredAxis != m_axis && isAxisAvailable(m_preferredAxis)) // the axis the user chose, for the next run too
            setXAxis(m_preferredAxis);
    }
    scheduleReplot();
}

void TrainingCurves::addEvaluation(int64_t globalStep, double loss, double figure, const QString &figureName)
{
    const QString name = figureName.isEmpty() ? tr("test accuracy") : figureName;
    if (m_evalAcc->name() != name) {
        m_evalAcc->setName(name);
        m_plot->yAxis2->setLabel(name.startsWith(tr("test ")) ? name.mid(tr("test ").size()) : name);
    }
    CurvePoint at = locate(globalStep);
    at.value = loss;
    m_testLoss.push_back(at);
    at.value = figure;
    m_testFigure.push_back(at);
    if (m_testLoss.size() == 1)
        updateLegend();
    const double key = keyOf(at);
    if (std::isfinite(key)) {
        m_evalLoss->addData(key, loss);
        m_evalAcc->addData(key, figure);
    }
    // Accuracy and F1 live in [0, 1]; R² may be negative early on: the axis widens to show it.
    if (std::isfinite(figure) && (figure < m_plot->yAxis2->range().lower || figure > m_plot->yAxis2->range().upper))
        m_plot->yAxis2->setRange(std::min(m_plot->yAxis2->range().lower, std::floor(figure * 10) / 10),
                                 std::max(m_plot->yAxis2->range().upper, std::ceil(figure * 10) / 10));
    scheduleReplot();
}

void TrainingCurves::addMetricsLog(const std::vector<MetricsRecord> &records, const StepWallTimes &wallTimes)
{
    const int64_t stepsPerEpoch = stepsPerEpochOf(records);
    for (const MetricsRecord &r : records) {
        if (r.type == MetricsRecord::Type::Step) {
            TrainingStepPoint p;
            p.globalStep = r.globalStep;
            p.loss = r.loss;
            p.lr = r.lr;
            p.batchSize = r.batchSize;
            if (const auto t = wallTimes.find(r.globalStep); t != wallTimes.end())
                p.wallTime = t->second;
            p.epoch = fractionalEpoch(r, stepsPerEpoch);
            if (r.hasAccuracy) {
                p.figure = r.accuracy;
                p.figureName = tr("train accuracy");
            } else if (!r.metrics.empty() && r.metrics.front().name == "f1") {
                p.figure = r.metrics.front().value;
                p.figureName = tr("train F1");
            }
            addStep(p);
        } else if (r.type == MetricsRecord::Type::Eval) {
            const bool accuracy = r.hasAccuracy || r.metrics.empty();
            addEvaluation(r.globalStep, r.loss, accuracy ? r.accuracy : r.metrics.front().value,
                          testFigureName(accuracy ? "accuracy" : r.metrics.front().name));
        }
    }
}

void TrainingCurves::addCheckpoint(int64_t globalStep)
{
    m_checkpoints.push_back(globalStep);
    if (m_checkpoints.size() == 1)
        updateLegend();
    rebuild();
    scheduleReplot();
}

void TrainingCurves::addDeletedCheckpoint(int64_t globalStep)
{
    m_deletedSteps.push_back(globalStep);
    if (m_deletedSteps.size() == 1)
        updateLegend();
    rebuild();
    scheduleReplot();
}

void TrainingCurves::updateLegend()
{
    // The series that hold points, always in this order (training, test, rate, checkpoints).
    m_plot->legend->clearItems();
    const std::pair<QCPGraph *, bool> entries[] = {{m_raw, !m_loss.empty()},         {m_smooth, !m_loss.empty()},
                                                   {m_trainFigSmooth, !m_figure.empty()}, {m_evalLoss, !m_testLoss.empty()},
                                                   {m_evalAcc, !m_testFigure.empty()},    {m_lr, !m_lrPoints.empty()},
                                                   {m_markers, !m_checkpoints.empty()},   {m_deleted, !m_deletedSteps.empty()}};
    for (const auto &[graph, shown] : entries)
        if (shown)
            graph->addToLegend();
    for (const auto &r : m_runs)
        if (r->visible)
            r->smooth->addToLegend();
}

CurvePoint TrainingCurves::locate(int64_t globalStep) const
{
    // The training step with that global step (or the last one before it): its epoch, wall time
    // and smoothed loss — a marker sits on the smoothed curve.
    CurvePoint p{globalStep, kUnknown, kUnknown, 0};
    auto it = std::lower_bound(m_loss.begin(), m_loss.end(), globalStep, [](const CurvePoint &a, int64_t s) { return a.step < s; });
    if (it == m_loss.end() || it->step != globalStep) {
        if (it == m_loss.begin())
            return p;
        --it;
    }
    const auto i = static_cast<size_t>(it - m_loss.begin());
    p.epoch = it->epoch;
    p.wallTime = it->wallTime;
    p.samples = it->samples;
    p.value = m_smoothed[i];
    return p;
}

double TrainingCurves::keyOf(const CurvePoint &p) const
{
    switch (m_axis) {
    case CurveAxis::Step:
        return static_cast<double>(p.step);
    case CurveAxis::Epoch:
        return p.epoch;
    case CurveAxis::Samples:
        return p.samples;
    case CurveAxis::WallTime:
        return p.wallTime - m_wall0;
    }
    return kUnknown;
}

double TrainingCurves::smoothedAt(int i) const
{
    return m_smoothed.at(static_cast<size_t>(i));
}

void TrainingCurves::setSmoothing(double weight)
{
    m_smoothing = std::clamp(weight, 0.0, (kSliderSteps - 1) / double(kSliderSteps));
    const int position = static_cast<int>(std::lround(m_smoothing * kSliderSteps));
    if (m_slider->value() != position)
        m_slider->setValue(position);
    rebuildSmoothed();
    rebuild();
    scheduleReplot();
}

void TrainingCurves::rebuildSmoothed()
{
    std::vector<double> raw;
    for (auto [points, smoothed, ema] : {std::tuple{&m_loss, &m_smoothed, &m_lossEma}, std::tuple{&m_figure, &m_figSmoothed, &m_figEma}}) {
        raw.clear();
        for (const CurvePoint &p : *points)
            raw.push_back(p.value);
        *ema = DebiasedEma(m_smoothing);
        smoothed->clear();
        for (double v : raw)
            smoothed->push_back(ema->push(v));
    }
}

void TrainingCurves::rebuild()
{
    // Every graph from the points, at the keys of the current x-axis; a point without one (no
    // wall time in a run's history) is left out of that axis.
    auto fill = [this](QCPGraph *g, const std::vector<CurvePoint> &points, const std::vector<double> *values) {
        QVector<double> xs, ys;
        xs.reserve(static_cast<int>(points.size()));
        ys.reserve(static_cast<int>(points.size()));
        for (size_t i = 0; i < points.size(); ++i) {
            const double k = keyOf(points[i]);
            if (!std::isfinite(k))
                continue;
            xs.push_back(k);
            ys.push_back(values ? (*values)[i] : points[i].value);
        }
        g->setData(xs, ys, true);
    };
    fill(m_raw, m_loss, nullptr);
    fill(m_smooth, m_loss, &m_smoothed);
    fill(m_lr, m_lrPoints, nullptr);
    fill(m_trainFig, m_figure, nullptr);
    fill(m_trainFigSmooth, m_figure, &m_figSmoothed);
    fill(m_evalLoss, m_testLoss, nullptr);
    fill(m_evalAcc, m_testFigure, nullptr);
    for (auto [graph, steps] : {std::pair{m_markers, &m_checkpoints}, std::pair{m_deleted, &m_deletedSteps}}) {
        std::vector<CurvePoint> at;
        for (int64_t c : *steps)
            at.push_back(locate(c));
        std::sort(at.begin(), at.end(), [](const CurvePoint &a, const CurvePoint &b) { return a.step < b.step; });
        fill(graph, at, nullptr);
    }
    rebuildRuns();
}

bool TrainingCurves::isAxisAvailable(CurveAxis axis) const
{
    // One run's steps (or any overlaid run's) carry the field.
    auto stepsCarry = [this](double CurvePoint::*field) {
        if (!m_loss.empty())
            return std::isfinite(m_loss.front().*field);
        return std::any_of(m_runs.begin(), m_runs.end(), [field](const auto &r) {
            return std::any_of(r->loss.begin(), r->loss.end(), [field](const CurvePoint &p) { return std::isfinite(p.*field); });
        });
    };
    switch (axis) {
    case CurveAxis::Step:
        return true;
    case CurveAxis::Epoch:
        return stepsCarry(&CurvePoint::epoch);
    case CurveAxis::Samples:
        return stepsCarry(&CurvePoint::samples);
    case CurveAxis::WallTime:
        return stepsCarry(&CurvePoint::wallTime);
    }
    return false;
}

void TrainingCurves::updateAxisChoices()
{
    auto *model = qobject_cast<QStandardItemModel *>(m_axisChoice->model());
    for (int i = 0; i < m_axisChoice->count(); ++i) {
        const auto axis = static_cast<CurveAxis>(m_axisChoice->itemData(i).toInt());
        const bool available = isAxisAvailable(axis);
        model->item(i)->setEnabled(available);
        model->item(i)->setToolTip(available                         ? QString()
                                   : axis == CurveAxis::WallTime ? tr("The steps carry no wall time (metrics.jsonl keeps no clock; it comes from "
                                                                      "the run's TensorBoard events files, and this run has none).")
                                   : axis == CurveAxis::Samples  ? tr("The steps do not say their batch size.")
                                                                 : tr("The steps carry no epoch."));
    }
}

void TrainingCurves::setXAxis(CurveAxis axis)
{
    if (!isAxisAvailable(axis))
        axis = CurveAxis::Step;
    m_axis = axis;
    const int index = m_axisChoice->findData(static_cast<int>(axis));
    if (m_axisChoice->currentIndex() != index) {
        const QSignalBlocker blocker(m_axisChoice);
        m_axisChoice->setCurrentIndex(index);
    }
    QSharedPointer<QCPAxisTicker> ticker;
    QString label;
    if (axis == CurveAxis::WallTime) {
        auto time = QSharedPointer<QCPAxisTickerTime>::create();
        time->setTimeFormat(QStringLiteral("%h:%m:%s"));
        ticker = time;
        label = tr("wall time since the first step (h:mm:ss)");
    } else {
        ticker = QSharedPointer<QCPAxisTicker>::create();
        label = axis == CurveAxis::Epoch ? tr("epoch") : axis == CurveAxis::Samples ? tr("training samples seen") : tr("global step");
    }
    for (QCPAxis *a : {m_plot->xAxis, m_lrRect->axis(QCPAxis::atBottom)})
        a->setTicker(ticker);
    m_lrRect->axis(QCPAxis::atBottom)->setLabel(label);
    hideReadout();
    rebuild();
    m_autoRange = true;
    replotNow();
}

void TrainingCurves::setLogScale(bool on)
{
    if (m_log->isChecked() != on)
        m_log->setChecked(on);
    m_plot->yAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (on)
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    scheduleReplot();
}

void TrainingCurves::scheduleReplot()
{
    if (!m_replot->isActive())
        m_replot->start();
}

void TrainingCurves::replotNow()
{
    if (m_autoRange) {
        // Everything in view, with room at both ends so that the first and last points and their
        // markers are drawn whole.
        bool found = false;
        QCPRange x;
        for (QCPGraph *g : {m_raw, m_evalLoss, m_markers, m_deleted}) {
            bool has = false;
            const QCPRange r = g->getKeyRange(has);
            if (has)
                x = found ? QCPRange(std::min(x.lower, r.lower), std::max(x.upper, r.upper)) : r;
            found = found || has;
        }
        for (const auto &run : m_runs) {
            bool has = false;
            const QCPRange r = run->raw->getKeyRange(has);
            if (has && run->visible)
                x = found ? QCPRange(std::min(x.lower, r.lower), std::max(x.upper, r.upper)) : r;
            found = found || (has && run->visible);
        }
        if (found) {
            const double width = std::max(x.size(), m_axis == CurveAxis::Step ? 1.0 : 1e-3);
            m_plot->xAxis->setRange(x.lower - 0.02 * width, x.lower + width * 1.03);
        }
        m_plot->yAxis->rescale(true);
        m_plot->yAxis->scaleRange(1.1, m_plot->yAxis->range().center());
        QCPAxis *lrY = m_lrRect->axis(QCPAxis::atLeft);
        lrY->rescale(true);
        if (lrY->range().size() <= 0)
            lrY->setRange(lrY->range().lower * 0.9, lrY->range().upper * 1.1 + 1e-12);
        lrY->scaleRange(1.2, lrY->range().center());
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

double TrainingCurves::cursorX() const
{
    return m_cursor->visible() ? m_cursorX : kUnknown;
}

QString TrainingCurves::formatX(const CurvePoint &p) const
{
    QStringList parts{tr("step %1").arg(p.step)};
    if (std::isfinite(p.epoch))
        parts << tr("epoch %1").arg(p.epoch, 0, 'f', 2);
    if (std::isfinite(p.samples))
        parts << tr("%1 samples").arg(QLocale().toString(static_cast<qint64>(p.samples)));
    if (std::isfinite(p.wallTime))
        parts << tr("%1 (+%2)").arg(QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(p.wallTime * 1000)).toString(QStringLiteral("HH:mm:ss")),
                                     span(p.wallTime - m_wall0));
    return parts.join(QStringLiteral(" · "));
}

void TrainingCurves::showReadout(const QPoint &pos)
{
    QCPAxisRect *rect = m_lossRect->rect().contains(pos) ? m_lossRect : m_lrRect->rect().contains(pos) ? m_lrRect : nullptr;
    if (!m_runs.empty()) {
        if (!rect || !showRunsReadout(pos, rect))
            hideReadout();
        return;
    }
    if (!rect || (m_loss.empty() && m_testLoss.empty())) {
        hideReadout();
        return;
    }
    const double key = rect->axis(QCPAxis::atBottom)->pixelToCoord(pos.x());
    auto keyOfPoint = [this](const CurvePoint &p) { return keyOf(p); };
    // Snapped to the nearest training step (as TensorBoard does), else to the nearest evaluation.
    const std::vector<CurvePoint> &anchor = m_loss.empty() ? m_testLoss : m_loss;
    const int i = nearestPoint(anchor, key, keyOfPoint);
    if (i < 0 || !std::isfinite(keyOf(anchor[static_cast<size_t>(i)]))) {
        hideReadout();
        return;
    }
    const CurvePoint &at = anchor[static_cast<size_t>(i)];
    m_cursorX = keyOf(at);
    for (QCPItemStraightLine *c : {m_cursor, m_lrCursor}) {
        c->point1->setCoords(m_cursorX, 0);
        c->point2->setCoords(m_cursorX, 1);
        c->setVisible(true);
    }

    auto row = [](const QColor &color, const QString &name, const QString &value, const QString &more = {}) {
        return QStringLiteral("<tr><td><span style=\"color:%1\">■</span> %2</td><td align=\"right\">&nbsp;%3</td><td>&nbsp;%4</td></tr>")
            .arg(color.name(), name.toHtmlEscaped(), value, more.toHtmlEscaped());
    };
    QString rows;
    if (!m_loss.empty()) {
        rows += row(kLossColor, m_raw->name(), number(at.value), tr("smoothed %1").arg(number(m_smoothed[static_cast<size_t>(i)])));
        const int f = nearestPoint(m_figure, m_cursorX, keyOfPoint);
        if (f >= 0 && m_figure[static_cast<size_t>(f)].step == at.step)
            rows += row(kTrainFigureColor, m_trainFigSmooth->name(), number(m_figure[static_cast<size_t>(f)].value),
                        tr("smoothed %1").arg(number(m_figSmoothed[static_cast<size_t>(f)])));
    }
    // An evaluation is read where it was made: the nearest one, with its step when it is not this one.
    const int e = nearestPoint(m_testLoss, m_cursorX, keyOfPoint);
    if (e >= 0 && std::isfinite(keyOf(m_testLoss[static_cast<size_t>(e)]))) {
        const CurvePoint &t = m_testLoss[static_cast<size_t>(e)];
        const QString where = t.step == at.step ? QString() : tr("at step %1").arg(t.step);
        rows += row(kTestLossColor, m_evalLoss->name(), number(t.value), where);
        rows += row(kTestFigureColor, m_evalAcc->name(), number(m_testFigure[static_cast<size_t>(e)].value), where);
    }
    if (!m_loss.empty())
        rows += row(kLrColor, m_lr->name(), number(m_lrPoints[static_cast<size_t>(i)].value));
    showReadoutAt(m_readout, QStringLiteral("<b>%1</b><table cellspacing=\"0\" cellpadding=\"1\">%2</table>").arg(formatX(at).toHtmlEscaped(), rows),
                  pos, m_plot);
    m_cursor->layer()->replot();
}

void TrainingCurves::hideReadout()
{
    const bool shown = m_cursor->visible() || m_readout->isVisible();
    m_readout->hide();
    m_cursor->setVisible(false);
    m_lrCursor->setVisible(false);
    m_cursorX = kUnknown;
    if (shown)
        m_cursor->layer()->replot();
}

bool TrainingCurves::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_plot) {
        if (event->type() == QEvent::MouseMove)
            showReadout(static_cast<QMouseEvent *>(event)->position().toPoint());
        else if (event->type() == QEvent::Leave)
            hideReadout();
    }
    return QWidget::eventFilter(watched, event);
}

QString TrainingCurves::figureName() const
{
    return m_evalAcc->name();
}

QString testFigureName(const std::string &metric)
{
    if (metric == "accuracy")
        return TrainingCurves::tr("test accuracy");
    if (metric == "r2")
        return TrainingCurves::tr("test R²");
    if (metric == "f1")
        return TrainingCurves::tr("test F1");
    if (metric == "top5")
        return TrainingCurves::tr("test top-5 accuracy");
    if (metric == "rmse" || metric == "mae")
        return TrainingCurves::tr("test %1").arg(QString::fromStdString(metric).toUpper());
    return TrainingCurves::tr("test %1").arg(QString::fromStdString(metric));
}

} // namespace netwright::widgets

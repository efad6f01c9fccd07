// SPDX-License-Identifier: Apache-2.0
#include "training/training_curves.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace netwright::widgets {

TrainingCurves::TrainingCurves(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)), m_lrPlot(new QCustomPlot(this)), m_slider(new QSlider(Qt::Horizontal, this)),
      m_log(new QCheckBox(tr("Log scale"), this)), m_replot(new QTimer(this))
{
    auto *layout = new QVBoxLayout(this);
    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Smoothing"), this));
    m_slider->setRange(0, 99);
    m_slider->setValue(static_cast<int>(m_smoothing * 100));
    m_slider->setToolTip(tr("Weight of the exponential moving average (debiased, as TensorBoard computes it)"));
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_log);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 3);
    layout->addWidget(m_lrPlot, 1);

    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    m_plot->legend->setVisible(true);
    // Between the losses (low) and the accuracy (high): where no curve runs.
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignVCenter);
    m_plot->legend->setBrush(QColor(255, 255, 255, 210));
    m_plot->xAxis->setLabel(tr("global step"));
    m_plot->yAxis->setLabel(tr("loss"));
    m_plot->yAxis2->setVisible(true);
    m_plot->yAxis2->setLabel(tr("test accuracy"));
    m_plot->yAxis2->setRange(0, 1);

    m_raw = m_plot->addGraph();
    m_raw->setName(tr("train loss"));
    m_raw->setPen(QPen(QColor(0x1f, 0x77, 0xb4, 70)));
    m_smooth = m_plot->addGraph();
    m_smooth->setName(tr("train loss (smoothed)"));
    m_smooth->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 2));
    m_evalLoss = m_plot->addGraph();
    m_evalLoss->setName(tr("test loss"));
    m_evalLoss->setPen(QPen(QColor(0xd6, 0x27, 0x28), 1.5));
    m_evalLoss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    m_evalAcc = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis2);
    m_evalAcc->setName(tr("test accuracy"));
    m_evalAcc->setPen(QPen(QColor(0x2c, 0xa0, 0x2c), 1.5));
    m_evalAcc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 7));
    m_markers = m_plot->addGraph();
    m_markers->setName(tr("checkpoint"));
    m_markers->setLineStyle(QCPGraph::lsNone);
    m_markers->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, QColor(0x94, 0x67, 0xbd), QColor(0x94, 0x67, 0xbd), 9));
    m_markers->setSelectable(QCP::stSingleData);
    // A run's history also shows the checkpoints its keep rules deleted: hollow and grey.
    m_deleted = m_plot->addGraph();
    m_deleted->setName(tr("checkpoint (deleted)"));
    m_deleted->setLineStyle(QCPGraph::lsNone);
    m_deleted->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, QPen(QColor(0x90, 0x90, 0x90), 1.2), Qt::white, 9));
    m_deleted->removeFromLegend();

    m_plot->setMinimumHeight(200);
    m_lrPlot->setMinimumHeight(90);
    m_lrPlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_lrPlot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_lrPlot->axisRect()->setRangeZoom(Qt::Horizontal);
    m_lrPlot->yAxis->setLabel(tr("learning rate"));
    m_lr = m_lrPlot->addGraph();
    m_lr->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 1.5));
    // The two plots share the step axis.
    connect(m_plot->xAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), m_lrPlot->xAxis, [this](const QCPRange &r) {
        m_lrPlot->xAxis->setRange(r);
        m_lrPlot->replot(QCustomPlot::rpQueuedReplot);
    });
    connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_autoRange = false; });
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_autoRange = false; });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
        m_autoRange = true; // a double-click goes back to following the run
        replotNow();
    });
    connect(m_markers, qOverload<const QCPDataSelection &>(&QCPGraph::selectionChanged), this, [this](const QCPDataSelection &s) {
        if (!s.isEmpty())
            emit checkpointClicked(static_cast<qint64>(m_markers->data()->at(s.dataRange().begin())->key));
    });
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
    connect(m_log, &QCheckBox::toggled, this, &TrainingCurves::setLogScale);
    m_replot->setSingleShot(true);
    m_replot->setInterval(100);
    connect(m_replot, &QTimer::timeout, this, &TrainingCurves::replotNow);
}

void TrainingCurves::clear()
{
    for (QCPGraph *g : {m_raw, m_smooth, m_evalLoss, m_evalAcc, m_markers, m_deleted, m_lr})
        g->data()->clear();
    m_steps.clear();
    m_losses.clear();
    m_smoothed.clear();
    m_evalSteps.clear();
    m_checkpoints.clear();
    m_deletedSteps.clear();
    m_deleted->removeFromLegend();
    m_evalAcc->setName(tr("test accuracy"));
    m_plot->yAxis2->setLabel(tr("test accuracy"));
    m_plot->yAxis2->setRange(0, 1);
    m_ema = 0;
    m_autoRange = true;
    scheduleReplot();
}

void TrainingCurves::addStep(int64_t globalStep, double loss, double lr)
{
    const double x = static_cast<double>(globalStep);
    m_steps.push_back(x);
    m_losses.push_back(loss);
    m_ema = m_smoothing * m_ema + (1 - m_smoothing) * loss;
    const double debiased = m_smoothing > 0 ? m_ema / (1 - std::pow(m_smoothing, static_cast<double>(m_losses.size()))) : loss;
    m_smoothed.push_back(debiased);
    m_raw->addData(x, loss);
    m_smooth->addData(x, debiased);
    m_lr->addData(x, lr);
    scheduleReplot();
}

void TrainingCurves::addEvaluation(int64_t globalStep, double loss, double figure, const QString &figureName)
{
    const QString name = figureName.isEmpty() ? tr("test accuracy") : figureName;
    if (m_evalAcc->name() != name) {
        m_evalAcc->setName(name);
        m_plot->yAxis2->setLabel(name);
    }
    const double x = static_cast<double>(globalStep);
    m_evalSteps.push_back(x);
    m_evalLoss->addData(x, loss);
    m_evalAcc->addData(x, figure);
    // Accuracy and F1 live in [0, 1]; R² may be negative early on: the axis widens to show it.
    if (std::isfinite(figure) && (figure < m_plot->yAxis2->range().lower || figure > m_plot->yAxis2->range().upper))
        m_plot->yAxis2->setRange(std::min(m_plot->yAxis2->range().lower, std::floor(figure * 10) / 10),
                                 std::max(m_plot->yAxis2->range().upper, std::ceil(figure * 10) / 10));
    scheduleReplot();
}

void TrainingCurves::addCheckpoint(int64_t globalStep)
{
    m_checkpoints.push_back(globalStep);
    m_markers->addData(static_cast<double>(globalStep), curveAt(globalStep));
    scheduleReplot();
}

void TrainingCurves::addDeletedCheckpoint(int64_t globalStep)
{
    if (m_deletedSteps.empty())
        m_deleted->addToLegend();
    m_deletedSteps.push_back(globalStep);
    m_deleted->addData(static_cast<double>(globalStep), curveAt(globalStep));
    scheduleReplot();
}

double TrainingCurves::curveAt(int64_t globalStep) const
{
    // On the smoothed loss at that step (or the last one), so the marker sits on the curve.
    const auto it = std::lower_bound(m_steps.begin(), m_steps.end(), static_cast<double>(globalStep));
    if (it != m_steps.end() && *it == static_cast<double>(globalStep))
        return m_smoothed[static_cast<size_t>(it - m_steps.begin())];
    return m_smoothed.empty() ? 0 : m_smoothed.back();
}

double TrainingCurves::smoothedAt(int i) const
{
    return m_smoothed.at(static_cast<size_t>(i));
}

void TrainingCurves::setSmoothing(double weight)
{
    m_smoothing = std::clamp(weight, 0.0, 0.99);
    if (m_slider->value() != static_cast<int>(std::lround(m_smoothing * 100)))
        m_slider->setValue(static_cast<int>(std::lround(m_smoothing * 100)));
    recomputeSmoothed();
    scheduleReplot();
}

void TrainingCurves::recomputeSmoothed()
{
    m_smooth->data()->clear();
    m_smoothed.clear();
    m_ema = 0;
    QVector<double> xs, ys;
    xs.reserve(static_cast<int>(m_steps.size()));
    ys.reserve(static_cast<int>(m_steps.size()));
    for (size_t i = 0; i < m_losses.size(); ++i) {
        m_ema = m_smoothing * m_ema + (1 - m_smoothing) * m_losses[i];
        const double debiased = m_smoothing > 0 ? m_ema / (1 - std::pow(m_smoothing, static_cast<double>(i + 1))) : m_losses[i];
        m_smoothed.push_back(debiased);
        xs.push_back(m_steps[i]);
        ys.push_back(debiased);
    }
    m_smooth->setData(xs, ys, true);
    for (auto [graph, steps] : {std::pair{m_markers, &m_checkpoints}, std::pair{m_deleted, &m_deletedSteps}}) {
        QVector<double> mx, my;
        for (int64_t c : *steps) {
            mx.push_back(static_cast<double>(c));
            my.push_back(curveAt(c));
        }
        graph->setData(mx, my, true);
    }
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
        bool found = false;
        const QCPRange x = m_raw->getKeyRange(found);
        if (found)
            m_plot->xAxis->setRange(x.lower, std::max(x.upper, x.lower + 1));
        m_plot->yAxis->rescale(true);
        m_plot->yAxis->scaleRange(1.1, m_plot->yAxis->range().center());
        m_lrPlot->yAxis->rescale(true);
        m_lrPlot->yAxis->scaleRange(1.2, m_lrPlot->yAxis->range().center());
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    m_lrPlot->replot(QCustomPlot::rpQueuedReplot);
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
    if (metric == "rmse" || metric == "mae")
        return TrainingCurves::tr("test %1").arg(QString::fromStdString(metric).toUpper());
    return TrainingCurves::tr("test %1").arg(QString::fromStdString(metric));
}

} // namespace netwright::widgets

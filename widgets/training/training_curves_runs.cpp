// SPDX-License-Identifier: Apache-2.0
// TrainingCurves with several runs overlaid (a run comparison): one colour per run for its
// smoothed training loss (raw faint behind), its test metric (dashed, right axis) and learning
// rate; each run shown or hidden on its own; the hover read-out lists every shown run at the x
// under the mouse. Layer: widgets.
#include "training/training_curves.h"

#include "training/curve_run_series.h"

#include "run/metrics_log.h"
#include "training/readout_placement.h"

#include <QComboBox>
#include <QLabel>
#include <QLocale>
#include <QTime>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace netwright::widgets {

namespace {

QCPGraph *runLine(QCustomPlot *plot, QCPAxis *x, QCPAxis *y, const QString &name)
{
    QCPGraph *g = plot->addGraph(x, y);
    g->setName(name);
    g->setAdaptiveSampling(false); // every point drawn
    g->setSelectable(QCP::stNone);
    g->removeFromLegend();
    return g;
}

QString number(double v)
{
    return std::isnan(v) ? QStringLiteral("–") : QString::number(v, 'g', 5);
}

} // namespace

TrainingCurves::~TrainingCurves() = default;

int TrainingCurves::addRun(const QString &name, const QColor &color, const std::vector<MetricsRecord> &records, const StepWallTimes &wallTimes)
{
    auto run = std::make_unique<RunSeries>();
    run->name = name;
    const int64_t stepsPerEpoch = stepsPerEpochOf(records);
    double samples = 0; // the batch sizes summed, while every step says its own
    for (const MetricsRecord &r : records) {
        if (r.type == MetricsRecord::Type::Step) {
            samples = r.batchSize > 0 ? samples + static_cast<double>(r.batchSize) : kUnknown;
            const auto t = wallTimes.find(r.globalStep);
            const double wall = t == wallTimes.end() ? kUnknown : t->second;
            if (!std::isfinite(run->wall0))
                run->wall0 = wall;
            const double epoch = fractionalEpoch(r, stepsPerEpoch);
            run->loss.push_back({r.globalStep, epoch, wall, r.loss, samples});
            run->lr.push_back({r.globalStep, epoch, wall, r.lr, samples});
        } else if (r.type == MetricsRecord::Type::Eval) {
            // At the epoch's end: where the last step at or before it is.
            CurvePoint at{r.globalStep, static_cast<double>(r.epoch), kUnknown, 0};
            for (auto it = run->loss.rbegin(); it != run->loss.rend(); ++it)
                if (it->step <= r.globalStep) {
                    at.epoch = it->epoch;
                    at.wallTime = it->wallTime;
                    at.samples = it->samples;
                    break;
                }
            auto put = [&run, &at](const QString &figure, double value) {
                auto it = std::find_if(run->figures.begin(), run->figures.end(), [&](const auto &f) { return f.first == figure; });
                if (it == run->figures.end())
                    it = run->figures.insert(run->figures.end(), {figure, {}});
                at.value = value;
                it->second.push_back(at);
            };
            const bool accuracy = r.hasAccuracy || r.metrics.empty();
            if (run->figureName.isEmpty()) // the task's main metric
                run->figureName = testFigureName(accuracy ? "accuracy" : r.metrics.front().name);
            if (accuracy)
                put(testFigureName("accuracy"), r.accuracy);
            for (const auto &m : r.metrics)
                put(testFigureName(m.name), m.value);
            put(tr("test loss"), r.loss);
        }
    }
    QCPAxis *x = m_plot->xAxis, *y = m_plot->yAxis, *y2 = m_plot->yAxis2;
    run->raw = runLine(m_plot, x, y, name + tr(" (raw)"));
    run->smooth = runLine(m_plot, x, y, name);
    run->testGraph = runLine(m_plot, x, y2, name);
    run->lrGraph = runLine(m_plot, m_lrRect->axis(QCPAxis::atBottom), m_lrRect->axis(QCPAxis::atLeft), name + tr(" · learning rate"));
    if (m_runs.empty()) // the axis says how to read the lines: the colour is the run, the line style the series
        m_plot->yAxis->setLabel(tr("train loss (solid; raw faint)"));
    const QString mainFigure = run->figureName;
    m_runs.push_back(std::move(run));
    const int index = runCount() - 1;
    setRunColor(index, color);
    {
        const QSignalBlocker blocker(m_runMetric);
        for (const auto &f : m_runs.back()->figures)
            if (m_runMetric->findText(f.first) < 0)
                m_runMetric->addItem(f.first);
        m_runMetric->setVisible(m_runMetric->count() > 0);
        m_runMetricLabel->setVisible(m_runMetric->count() > 0);
    }
    setRunsMetric(index == 0 || runsMetric().isEmpty() ? mainFigure : runsMetric());
    updateAxisChoices();
    if (index == 0 && m_preferredAxis != m_axis && isAxisAvailable(m_preferredAxis))
        setXAxis(m_preferredAxis);
    rebuild();
    updateLegend();
    m_autoRange = true;
    scheduleReplot();
    return index;
}

QStringList TrainingCurves::runsMetrics() const
{
    QStringList out;
    for (int i = 0; i < m_runMetric->count(); ++i)
        out << m_runMetric->itemText(i);
    return out;
}

QString TrainingCurves::runsMetric() const
{
    return m_runMetric->currentText();
}

void TrainingCurves::setRunsMetric(const QString &figure)
{
    if (m_runMetric->currentText() != figure) {
        const QSignalBlocker blocker(m_runMetric);
        m_runMetric->setCurrentIndex(m_runMetric->findText(figure));
    }
    double low = 0, high = 1; // accuracy, F1 and the like: [0, 1], widened to what the runs reach
    bool any = false;
    for (const auto &r : m_runs) {
        const auto it = std::find_if(r->figures.begin(), r->figures.end(), [&](const auto &f) { return f.first == figure; });
        r->test = it == r->figures.end() ? std::vector<CurvePoint>{} : it->second;
        r->testGraph->setName(r->name + QStringLiteral(" · ") + figure);
        for (const CurvePoint &p : r->test)
            if (std::isfinite(p.value)) {
                low = any ? std::min(low, p.value) : std::min(0.0, p.value);
                high = any ? std::max(high, p.value) : std::max(1.0, p.value);
                any = true;
            }
    }
    m_plot->yAxis2->setLabel(tr("%1 (dashed)").arg(figure));
    if (high > 1.0) // a loss, an RMSE …: from 0 (or below) to a little above the largest
        high *= 1.05;
    m_plot->yAxis2->setRange(std::floor(low * 10) / 10, high > 1.0 ? high : std::ceil(high * 10) / 10);
    hideReadout();
    rebuild();
    scheduleReplot();
}

void TrainingCurves::setRunColor(int index, const QColor &color)
{
    RunSeries &r = *m_runs.at(static_cast<size_t>(index));
    r.color = color;
    QColor faint = color;
    faint.setAlpha(50);
    r.raw->setPen(QPen(faint, 1));
    r.smooth->setPen(QPen(color, 2));
    r.testGraph->setPen(QPen(color, 1.5, Qt::DashLine));
    r.testGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, color, color, 7));
    r.lrGraph->setPen(QPen(color, 1.5));
    scheduleReplot();
}

QColor TrainingCurves::runColor(int index) const
{
    return m_runs.at(static_cast<size_t>(index))->color;
}

void TrainingCurves::setRunVisible(int index, bool visible)
{
    RunSeries &r = *m_runs.at(static_cast<size_t>(index));
    r.visible = visible;
    for (QCPGraph *g : {r.raw, r.smooth, r.testGraph, r.lrGraph})
        g->setVisible(visible);
    updateLegend();
    hideReadout();
    scheduleReplot();
}

bool TrainingCurves::isRunVisible(int index) const
{
    return m_runs.at(static_cast<size_t>(index))->visible;
}

QCPGraph *TrainingCurves::runGraph(int index, int which) const
{
    const RunSeries &r = *m_runs.at(static_cast<size_t>(index));
    const QCPGraph *graphs[] = {r.smooth, r.raw, r.testGraph, r.lrGraph};
    return const_cast<QCPGraph *>(graphs[which]);
}

void TrainingCurves::rebuildRuns()
{
    for (const auto &r : m_runs) {
        std::vector<double> raw;
        for (const CurvePoint &p : r->loss)
            raw.push_back(p.value);
        const std::vector<double> smoothed = smoothDebiased(raw, m_smoothing);
        QVector<double> xs, ys, ss;
        for (size_t i = 0; i < r->loss.size(); ++i) {
            const double k = runKeyOf(*r, r->loss[i]);
            if (!std::isfinite(k))
                continue;
            xs.push_back(k);
            ys.push_back(r->loss[i].value);
            ss.push_back(smoothed[i]);
        }
        r->raw->setData(xs, ys, true);
        r->smooth->setData(xs, ss, true);
        for (auto [graph, points] : {std::pair{r->testGraph, &r->test}, std::pair{r->lrGraph, &r->lr}}) {
            QVector<double> px, py;
            for (const CurvePoint &p : *points)
                if (const double k = runKeyOf(*r, p); std::isfinite(k)) {
                    px.push_back(k);
                    py.push_back(p.value);
                }
            graph->setData(px, py, true);
        }
    }
}

double TrainingCurves::runKeyOf(const RunSeries &run, const CurvePoint &p) const
{
    return m_axis == CurveAxis::WallTime ? p.wallTime - run.wall0 : keyOf(p);
}

bool TrainingCurves::showRunsReadout(const QPoint &pos, QCPAxisRect *rect)
{
    const double key = rect->axis(QCPAxis::atBottom)->pixelToCoord(pos.x());
    QString rows;
    for (const auto &r : m_runs) {
        if (!r->visible)
            continue;
        auto keyOfPoint = [this, &r](const CurvePoint &p) {
            const double k = runKeyOf(*r, p);
            return std::isfinite(k) ? k : -std::numeric_limits<double>::infinity(); // points off this axis sort first
        };
        const int i = nearestPoint(r->loss, key, keyOfPoint);
        if (i < 0)
            continue;
        std::vector<double> raw;
        for (const CurvePoint &p : r->loss)
            raw.push_back(p.value);
        const double smoothed = smoothDebiased(raw, m_smoothing)[static_cast<size_t>(i)];
        const CurvePoint &at = r->loss[static_cast<size_t>(i)];
        if (!std::isfinite(runKeyOf(*r, at)))
            continue; // this run has no point on this axis (no wall time)
        QString test = QStringLiteral("–");
        const int e = nearestPoint(r->test, key, keyOfPoint);
        if (e >= 0)
            test = number(r->test[static_cast<size_t>(e)].value) + tr(" (step %1)").arg(r->test[static_cast<size_t>(e)].step);
        rows += QStringLiteral("<tr><td><span style=\"color:%1\">■</span> %2</td><td>&nbsp;step %3</td><td align=\"right\">&nbsp;%4</td>"
                               "<td align=\"right\">&nbsp;%5</td><td>&nbsp;%6</td></tr>")
                    .arg(r->color.name(), r->name.toHtmlEscaped())
                    .arg(at.step)
                    .arg(number(at.value), number(smoothed), test.toHtmlEscaped());
    }
    if (rows.isEmpty())
        return false;
    m_cursorX = key;
    for (QCPItemStraightLine *c : {m_cursor, m_lrCursor}) {
        c->point1->setCoords(key, 0);
        c->point2->setCoords(key, 1);
        c->setVisible(true);
    }
    const QString head = QStringLiteral("<tr><th></th><th></th><th>%1</th><th>%2</th><th>%3</th></tr>")
                             .arg(tr("loss"), tr("smoothed"), runsMetric().toHtmlEscaped());
    QString where;
    switch (m_axis) {
    case CurveAxis::Step:
        where = tr("step %1").arg(std::llround(key));
        break;
    case CurveAxis::Epoch:
        where = tr("epoch %1").arg(key, 0, 'f', 2);
        break;
    case CurveAxis::Samples:
        where = tr("%1 samples").arg(QLocale().toString(std::llround(key)));
        break;
    case CurveAxis::WallTime:
        where = tr("+%1 since each run's first step").arg(QTime(0, 0).addMSecs(static_cast<int>(std::max(0.0, key) * 1000)).toString(QStringLiteral("H:mm:ss")));
        break;
    }
    showReadoutAt(m_readout, QStringLiteral("<b>%1</b><table cellspacing=\"0\" cellpadding=\"1\">%2%3</table>").arg(where.toHtmlEscaped(), head, rows),
                  pos, m_plot);
    m_cursor->layer()->replot();
    return true;
}

} // namespace netwright::widgets

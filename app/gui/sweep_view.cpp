// SPDX-License-Identifier: Apache-2.0
#include "gui/sweep_view.h"

#include "gui/metric_text.h"

#include "core/error.h"
#include "run/run_directory.h"
#include "run/run_summary.h"
#include "training/readout_placement.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace netwright::gui {

namespace {

constexpr double kHoverPixels = 8;

QJsonValue jsonValue(const std::string &json)
{
    return QJsonDocument::fromJson(QByteArray("[") + QByteArray::fromStdString(json) + "]").array().first();
}

QString text(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', 6);
    return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

// Viridis (perceptually uniform, readable in grey and by most colour-blind readers): low dark
// purple, high yellow.
QCPColorGradient viridis()
{
    QCPColorGradient g;
    g.setColorStops({{0.0, QColor(0x44, 0x01, 0x54)},
                     {0.25, QColor(0x3b, 0x52, 0x8b)},
                     {0.5, QColor(0x21, 0x91, 0x8c)},
                     {0.75, QColor(0x5e, 0xc9, 0x62)},
                     {1.0, QColor(0xfd, 0xe7, 0x25)}});
    return g;
}

double distanceToSegment(QPointF p, QPointF a, QPointF b)
{
    const QPointF d = b - a;
    const double len2 = QPointF::dotProduct(d, d);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, d) / len2, 0.0, 1.0) : 0.0;
    const QPointF q = a + t * d - p;
    return std::sqrt(QPointF::dotProduct(q, q));
}

// Ticks for a numeric axis: decades (and their 2 and 5) on a log axis, five even steps otherwise.
std::vector<double> ticks(const SweepView::Axis &a)
{
    std::vector<double> out;
    if (a.hi <= a.lo)
        return {a.lo};
    if (a.kind == SweepView::Axis::Kind::Log) {
        for (int e = static_cast<int>(std::floor(std::log10(a.lo))); e <= static_cast<int>(std::ceil(std::log10(a.hi))); ++e)
            for (double m : {1.0, 2.0, 5.0}) {
                const double v = m * std::pow(10.0, e);
                if (v >= a.lo * (1 - 1e-9) && v <= a.hi * (1 + 1e-9))
                    out.push_back(v);
            }
        if (out.size() > 7) // only the decades where there are many
            out.erase(std::remove_if(out.begin(), out.end(), [](double v) { return std::abs(std::log10(v) - std::round(std::log10(v))) > 1e-9; }),
                      out.end());
        if (out.size() < 2)
            out = {a.lo, a.hi};
        return out;
    }
    for (int i = 0; i <= 4; ++i)
        out.push_back(a.lo + (a.hi - a.lo) * i / 4.0);
    return out;
}

double place(const SweepView::Axis &a, double v)
{
    if (!std::isfinite(v))
        return std::nan("");
    if (a.hi <= a.lo)
        return 0.5;
    if (a.kind == SweepView::Axis::Kind::Log)
        return (std::log10(v) - std::log10(a.lo)) / (std::log10(a.hi) - std::log10(a.lo));
    return (v - a.lo) / (a.hi - a.lo);
}

QString shortKey(const QString &key)
{
    return key.section(QLatin1Char('.'), -1);
}

} // namespace

bool SweepView::isSweepFolder(const QString &path)
{
    return QFileInfo(path).isDir() && QFileInfo::exists(QDir(path).filePath(QStringLiteral("sweep.json")))
           && !RunDirectory::isRunDirectory(path.toStdString());
}

SweepView::SweepView(const QString &folder, QWidget *parent)
    : QWidget(parent), m_folder(QDir::cleanPath(QFileInfo(folder).absoluteFilePath())), m_message(new QLabel(this)), m_readout(nullptr),
      m_table(new QTableWidget(this)), m_plot(new QCustomPlot(this)), m_openBest(new QPushButton(tr("Open Best Config in Training Panel"), this))
{
    auto *layout = new QVBoxLayout(this);
    auto *top = new QHBoxLayout;
    m_message->setObjectName(QStringLiteral("sweepSummary"));
    m_message->setWordWrap(true);
    top->addWidget(m_message, 1);
    m_openBest->setObjectName(QStringLiteral("openBestConfig"));
    m_openBest->setToolTip(tr("best_config.json: the best trial's run config, in a new training panel"));
    top->addWidget(m_openBest);
    layout->addLayout(top);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_plot);
    split->addWidget(m_table);
    split->setSizes({640, 260}); // the plot first; the table needs a few rows
    layout->addWidget(split, 1);
    m_plot->setMinimumHeight(320);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setToolTip(tr("Double-click a trial to open its run"));
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (row >= 0 && row < static_cast<int>(m_trials.size()))
            emit openRunRequested(m_trials[static_cast<size_t>(row)].runDir);
    });
    connect(m_openBest, &QPushButton::clicked, this, [this] { emit openConfigRequested(m_bestConfig); });

    m_readout = new QLabel(m_plot);
    widgets::setUpReadout(m_readout, QStringLiteral("trialReadout"), m_plot, this);
    reload();
}

void SweepView::reload()
{
    m_axes.clear();
    m_trials.clear();
    QStringList problems;
    // The swept keys and how they were drawn, from the sweep's record.
    QJsonObject spec;
    {
        QFile f(QDir(m_folder).filePath(QStringLiteral("sweep.json")));
        if (f.open(QIODevice::ReadOnly)) {
            QJsonParseError error;
            spec = QJsonDocument::fromJson(f.readAll(), &error).object();
            if (error.error != QJsonParseError::NoError)
                problems << tr("\"%1\" does not read as JSON: %2.").arg(f.fileName(), error.errorString());
        }
    }
    std::map<QString, QString> kinds;     // key → "grid", or the random draw's kind
    std::map<QString, QJsonArray> given;  // key → its values in the spec's order (grid, choice)
    const QJsonObject grid = spec.value(QStringLiteral("grid")).toObject();
    for (auto it = grid.begin(); it != grid.end(); ++it) {
        kinds[it.key()] = QStringLiteral("grid");
        given[it.key()] = it.value().toArray();
    }
    const QJsonObject params = spec.value(QStringLiteral("random")).toObject().value(QStringLiteral("params")).toObject();
    for (auto it = params.begin(); it != params.end(); ++it) {
        const QJsonObject d = it.value().toObject();
        const QString kind = d.keys().value(0);
        kinds[it.key()] = kind;
        if (kind == QLatin1String("choice"))
            for (const auto &v : d.value(kind).toArray())
                given[it.key()].append(v);
    }
    if (spec.value(QStringLiteral("seeds")).toArray().size() > 1)
        kinds[QStringLiteral("training.seed")] = QStringLiteral("grid");

    // The trials: the folder's run directories.
    std::vector<run::RunSummary> runs;
    std::vector<run::FlatConfig> configs;
    for (const QString &d : QDir(m_folder).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        const QString dir = QDir(m_folder).filePath(d);
        if (!RunDirectory::isRunDirectory(dir.toStdString()))
            continue;
        try {
            runs.push_back(run::summarizeRun(dir.toStdString()));
            configs.push_back(runs.back().hasConfig ? run::flatRunConfig(runs.back().config) : run::FlatConfig{});
        } catch (const Error &e) {
            problems << QString::fromUtf8(e.what());
        }
    }
    m_metric = QStringLiteral("accuracy");
    for (const auto &r : runs)
        if (r.hasConfig) {
            m_metric = QString::fromStdString(r.mainMetric());
            break;
        }
    const std::string metric = m_metric.toStdString();
    // Without a record (a folder of runs): the keys that differ.
    if (kinds.empty() && !configs.empty())
        for (const std::string &k : run::differingKeys(configs))
            if (k != "model.file")
                kinds[QString::fromStdString(k)] = QStringLiteral("grid");

    // The axes.
    for (const auto &[key, kind] : kinds) {
        Axis a;
        a.key = key;
        std::vector<QJsonValue> values;
        for (const auto &c : configs)
            if (const auto it = c.find(key.toStdString()); it != c.end())
                values.push_back(jsonValue(it->second));
        const bool numeric = !values.empty() && std::all_of(values.begin(), values.end(), [](const QJsonValue &v) { return v.isDouble(); })
                             && kind != QLatin1String("choice");
        if (numeric) {
            a.lo = a.hi = values.front().toDouble();
            for (const auto &v : values) {
                a.lo = std::min(a.lo, v.toDouble());
                a.hi = std::max(a.hi, v.toDouble());
            }
            if (kind == QLatin1String("log_uniform") || (a.lo > 0 && a.hi / a.lo > 100))
                a.kind = Axis::Kind::Log;
            if (kind == QLatin1String("log_uniform") || kind == QLatin1String("uniform") || kind == QLatin1String("int_uniform")) {
                // The range drawn from, so that the axis shows where the trials fell in it.
                const QJsonArray range = params.value(key).toObject().value(kind).toArray();
                if (range.size() == 2) {
                    a.lo = std::min(a.lo, range[0].toDouble());
                    a.hi = std::max(a.hi, range[1].toDouble());
                }
            }
        } else {
            a.kind = Axis::Kind::Categorical;
            for (const auto &v : given[key])
                if (!a.categories.contains(text(v)))
                    a.categories << text(v);
            QStringList seen;
            for (const auto &v : values)
                if (!a.categories.contains(text(v)) && !seen.contains(text(v)))
                    seen << text(v);
            seen.sort();
            a.categories << seen;
        }
        m_axes.push_back(a);
    }
    Axis metricAxis;
    metricAxis.key = QStringLiteral("eval_") + m_metric;
    bool anyMetric = false;
    for (const auto &r : runs)
        if (const auto v = r.bestMain(); v && std::isfinite(*v)) {
            metricAxis.lo = anyMetric ? std::min(metricAxis.lo, *v) : *v;
            metricAxis.hi = anyMetric ? std::max(metricAxis.hi, *v) : *v;
            anyMetric = true;
        }
    m_axes.push_back(metricAxis);

    for (size_t i = 0; i < runs.size(); ++i) {
        const run::RunSummary &r = runs[i];
        Trial t;
        t.name = QString::fromStdString(r.name);
        t.runDir = QString::fromStdString(r.dir);
        for (size_t k = 0; k + 1 < m_axes.size(); ++k) {
            const Axis &a = m_axes[k];
            const auto it = configs[i].find(a.key.toStdString());
            if (it == configs[i].end()) {
                t.values << QStringLiteral("–");
                t.position.push_back(std::nan(""));
                continue;
            }
            const QJsonValue v = jsonValue(it->second);
            t.values << text(v);
            if (a.kind == Axis::Kind::Categorical) {
                const int n = static_cast<int>(a.categories.size());
                t.position.push_back(n <= 1 ? 0.5 : a.categories.indexOf(text(v)) / double(n - 1));
            } else {
                t.position.push_back(place(a, v.toDouble()));
            }
        }
        t.metric = r.bestMain();
        t.position.push_back(t.metric ? place(metricAxis, *t.metric) : std::nan(""));
        t.metricText = metricText(metric, t.metric);
        t.status = r.finished ? tr("finished") : r.epochsDone > 0 ? tr("%1/%2 epochs").arg(r.epochsDone).arg(r.epochs) : tr("not started");
        m_trials.push_back(t);
    }
    const bool higher = run::higherIsBetter(metric);
    std::stable_sort(m_trials.begin(), m_trials.end(), [higher](const Trial &a, const Trial &b) {
        if (!a.metric || !b.metric)
            return a.metric.has_value() && !b.metric.has_value();
        return higher ? *a.metric > *b.metric : *a.metric < *b.metric;
    });

    m_bestConfig = QDir(m_folder).filePath(QStringLiteral("best_config.json"));
    m_openBest->setEnabled(QFileInfo::exists(m_bestConfig));
    QString summary = tr("Sweep %1: %2 %3").arg(QDir::toNativeSeparators(m_folder)).arg(m_trials.size()).arg(m_trials.size() == 1 ? tr("trial") : tr("trials"));
    QStringList keys;
    for (size_t k = 0; k + 1 < m_axes.size(); ++k)
        keys << m_axes[k].key;
    if (!keys.isEmpty())
        summary += tr(" over %1").arg(keys.join(QStringLiteral(", ")));
    if (!m_trials.empty() && m_trials.front().metric)
        summary += tr("; best: %1 (%2 %3)").arg(m_trials.front().name, m_metric, m_trials.front().metricText);
    if (!problems.isEmpty())
        summary += QStringLiteral("\n") + problems.join(QLatin1Char('\n'));
    m_message->setText(summary);
    fillTable();
    drawPlot();
}

QString SweepView::messageText() const
{
    return m_message->text();
}

void SweepView::fillTable()
{
    QStringList header{tr("rank"), tr("trial")};
    for (size_t k = 0; k + 1 < m_axes.size(); ++k)
        header << shortKey(m_axes[k].key);
    header << tr("best %1").arg(m_metric) << tr("status");
    m_table->clear();
    m_table->setColumnCount(static_cast<int>(header.size()));
    m_table->setHorizontalHeaderLabels(header);
    for (int c = 2; c + 2 < header.size(); ++c)
        m_table->horizontalHeaderItem(c)->setToolTip(m_axes[static_cast<size_t>(c - 2)].key);
    m_table->setRowCount(static_cast<int>(m_trials.size()));
    for (size_t i = 0; i < m_trials.size(); ++i) {
        const Trial &t = m_trials[i];
        QStringList cells{QString::number(i + 1), t.name};
        cells << t.values << t.metricText << t.status;
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            if (i == 0 && t.metric) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            m_table->setItem(static_cast<int>(i), c, item);
        }
    }
    m_table->resizeColumnsToContents();
}

void SweepView::drawPlot()
{
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_lines.clear();
    m_hovered = -1;
    if (m_plot->plotLayout()->elementCount() > 1)
        m_plot->plotLayout()->remove(m_plot->plotLayout()->element(0, 1));
    m_plot->plotLayout()->simplify();
    const int axes = static_cast<int>(m_axes.size());
    m_plot->xAxis->setRange(-0.45, axes - 1 + 0.25);
    m_plot->yAxis->setRange(-0.06, 1.12);
    for (QCPAxis *a : {m_plot->xAxis, m_plot->yAxis, m_plot->xAxis2, m_plot->yAxis2})
        a->setVisible(false);
    m_plot->axisRect()->setAutoMargins(QCP::msNone);
    m_plot->axisRect()->setMargins(QMargins(10, 10, 10, 10));

    // The colour bar: the metric's gradient (dark = low, bright = high).
    QCPColorGradient gradient = viridis();
    auto *bar = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, bar);
    bar->setGradient(gradient);
    const Axis &metricAxis = m_axes.back();
    const bool pct = m_metric == QLatin1String("accuracy") || m_metric == QLatin1String("top5");
    bar->setDataRange(QCPRange(metricAxis.lo * (pct ? 100 : 1), std::max(metricAxis.hi, metricAxis.lo + 1e-9) * (pct ? 100 : 1)));
    bar->axis()->setLabel(tr("best test %1%2").arg(m_metric, pct ? QStringLiteral(" (%)") : QString()));
    bar->setBarWidth(14);

    // The axes: a vertical line each, its ticks and its title.
    for (int k = 0; k < axes; ++k) {
        const Axis &a = m_axes[static_cast<size_t>(k)];
        auto *line = new QCPItemLine(m_plot);
        line->start->setCoords(k, 0);
        line->end->setCoords(k, 1);
        line->setPen(QPen(QColor(0x40, 0x40, 0x40), 1.2));
        line->setSelectable(false);
        auto *title = new QCPItemText(m_plot);
        title->position->setCoords(k, 1.07);
        const bool isMetric = k == axes - 1;
        QString name = isMetric ? tr("best test %1").arg(m_metric) : a.key;
        if (a.kind == Axis::Kind::Log)
            name += tr(" (log)");
        title->setText(name);
        QFont f = title->font();
        f.setBold(true);
        title->setFont(f);
        title->setSelectable(false);
        auto tick = [&](double at, const QString &label) {
            auto *t = new QCPItemText(m_plot);
            t->position->setCoords(k, at);
            t->setPositionAlignment(Qt::AlignRight | Qt::AlignVCenter);
            t->setPadding(QMargins(2, 0, 6, 0));
            t->setText(label);
            t->setColor(QColor(0x30, 0x30, 0x30));
            t->setBrush(QColor(255, 255, 255, 210)); // readable where lines run into the axis
            t->setLayer(QStringLiteral("axes"));
            t->setSelectable(false);
            auto *mark = new QCPItemLine(m_plot);
            mark->start->setCoords(k, at);
            mark->end->setCoords(k - 0.025, at);
            mark->setPen(QPen(QColor(0x40, 0x40, 0x40)));
            mark->setSelectable(false);
        };
        if (a.kind == Axis::Kind::Categorical) {
            const int n = static_cast<int>(a.categories.size());
            for (int c = 0; c < n; ++c)
                tick(n <= 1 ? 0.5 : c / double(n - 1), a.categories[c]);
        } else if (isMetric && pct) {
            for (double v : ticks(a))
                tick(place(a, v), QString::number(100 * v, 'f', 1) + QStringLiteral(" %"));
        } else {
            for (double v : ticks(a))
                tick(place(a, v), QString::number(v, 'g', 4));
        }
    }

    // A polyline per trial, the best last (on top).
    for (size_t i = 0; i < m_trials.size(); ++i)
        m_lines.push_back(nullptr);
    for (size_t n = m_trials.size(); n-- > 0;) {
        const Trial &t = m_trials[n];
        auto *curve = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
        curve->setName(t.name);
        curve->setSelectable(QCP::stNone);
        QVector<double> ts, xs, ys;
        for (int k = 0; k < axes; ++k) {
            const double y = t.position[static_cast<size_t>(k)];
            if (!std::isfinite(y))
                continue;
            ts << k;
            xs << k;
            ys << y;
        }
        curve->setData(ts, xs, ys, true);
        curve->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
        m_lines[n] = curve;
    }
    stylePens();
    m_plot->replot();
}

void SweepView::stylePens()
{
    QCPColorGradient gradient = viridis();
    const Axis &metricAxis = m_axes.back();
    for (size_t i = 0; i < m_lines.size(); ++i) {
        const Trial &t = m_trials[i];
        QColor color = t.metric ? QColor::fromRgb(gradient.color(*t.metric, QCPRange(metricAxis.lo, std::max(metricAxis.hi, metricAxis.lo + 1e-9))))
                                : QColor(0xb0, 0xb0, 0xb0);
        const bool best = i == 0 && t.metric;
        const bool hovered = static_cast<int>(i) == m_hovered;
        QPen pen(color, best ? 4 : hovered ? 3 : 1.8);
        if (best) // the best trial: thick, with a dark outline of its points
            m_lines[i]->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 1.5), color, 9));
        m_lines[i]->setPen(pen);
    }
}

QPointF SweepView::vertexPixel(int trial, int axis) const
{
    const double y = m_trials.at(static_cast<size_t>(trial)).position.at(static_cast<size_t>(axis));
    return {m_plot->xAxis->coordToPixel(axis), m_plot->yAxis->coordToPixel(y)};
}

void SweepView::hover(const QPoint &pos)
{
    int found = -1;
    double bestDistance = kHoverPixels;
    for (size_t i = 0; i < m_trials.size(); ++i) {
        std::vector<QPointF> points;
        for (size_t k = 0; k < m_axes.size(); ++k)
            if (std::isfinite(m_trials[i].position[k]))
                points.push_back(vertexPixel(static_cast<int>(i), static_cast<int>(k)));
        for (size_t p = 0; p + 1 < points.size(); ++p) {
            const double d = distanceToSegment(pos, points[p], points[p + 1]);
            if (d < bestDistance) {
                bestDistance = d;
                found = static_cast<int>(i);
            }
        }
    }
    if (found != m_hovered) {
        m_hovered = found;
        stylePens();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
    if (found < 0) {
        m_readout->hide();
        return;
    }
    const Trial &t = m_trials[static_cast<size_t>(found)];
    QString rows;
    for (size_t k = 0; k + 1 < m_axes.size(); ++k)
        rows += QStringLiteral("<tr><td>%1</td><td>&nbsp;%2</td></tr>").arg(m_axes[k].key.toHtmlEscaped(), t.values[static_cast<int>(k)].toHtmlEscaped());
    rows += QStringLiteral("<tr><td>%1</td><td>&nbsp;<b>%2</b></td></tr>").arg(tr("best test %1").arg(m_metric).toHtmlEscaped(), t.metricText.toHtmlEscaped());
    widgets::showReadoutAt(m_readout, QStringLiteral("<b>#%1 %2</b><table cellspacing=\"0\" cellpadding=\"1\">%3</table>").arg(found + 1).arg(t.name.toHtmlEscaped(), rows),
                  pos, m_plot, 14);
}

bool SweepView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_plot) {
        if (event->type() == QEvent::MouseMove)
            hover(static_cast<QMouseEvent *>(event)->position().toPoint());
        else if (event->type() == QEvent::Leave && m_hovered >= 0) {
            m_hovered = -1;
            m_readout->hide();
            stylePens();
            m_plot->replot(QCustomPlot::rpQueuedReplot);
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// A sweep folder in the window (`netwright sweep`'s output, opened like a run directory): its
// trials' results table sorted by the task's metric (best first, the best trial bold), and a
// parallel-coordinates plot (QCustomPlot) with one vertical axis per swept key and one for the
// metric: a polyline per trial coloured by its metric (with a colour bar), a log axis for a key
// drawn log-uniformly or whose values span more than two decades, a categorical axis for choices
// and text values; the best trial drawn thick on top; hovering a line shows that trial's values.
// Open Best Config puts best_config.json in a training panel. Reads the trials through
// run/run_summary.h. Thread affinity: UI thread. Layer: app.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>
#include <vector>

class QCustomPlot;
class QCPCurve;
class QLabel;
class QPushButton;
class QTableWidget;

namespace netwright::gui {

class SweepView : public QWidget {
    Q_OBJECT
public:
    // One vertical axis of the plot.
    struct Axis {
        QString key;                 // config key path, or "eval_<metric>" for the metric axis
        enum class Kind { Linear, Log, Categorical } kind = Kind::Linear;
        double lo = 0, hi = 1;       // numeric axes: the values' range
        QStringList categories;      // categorical axes, bottom to top
    };
    struct Trial {
        QString name, runDir;
        QStringList values;          // per swept key, as the table shows it
        std::vector<double> position; // per axis, 0 (bottom) … 1 (top); NaN where unknown
        std::optional<double> metric;
        QString metricText, status;
    };

    explicit SweepView(const QString &folder, QWidget *parent = nullptr);

    // Whether `path` is a sweep folder (it holds sweep.json and is no run directory itself).
    static bool isSweepFolder(const QString &path);
    // Reads the folder again (trials still training show what they have logged).
    void reload();

    QString folder() const { return m_folder; }
    QString metricName() const { return m_metric; }
    const std::vector<Axis> &axes() const { return m_axes; }
    // Best first (unevaluated last); index 0 is the best trial when it was evaluated.
    const std::vector<Trial> &trials() const { return m_trials; }
    QString messageText() const;
    QTableWidget *table() const { return m_table; }
    QCustomPlot *plot() const { return m_plot; }
    QPushButton *openBestButton() const { return m_openBest; }
    // A trial's polyline (tests: its pen, its points).
    QCPCurve *trialLine(int trial) const { return m_lines.at(static_cast<size_t>(trial)); }
    // Where the trial's line crosses an axis, in the plot's pixels.
    QPointF vertexPixel(int trial, int axis) const;
    // The hover read-out (shown while the mouse is over a line) and the trial it names, -1 for none.
    QLabel *readout() const { return m_readout; }
    int hoveredTrial() const { return m_hovered; }

signals:
    void openConfigRequested(const QString &runConfigFile);
    void openRunRequested(const QString &runDirectory);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void fillTable();
    void drawPlot();
    void hover(const QPoint &pos);
    void stylePens();

    QString m_folder, m_metric, m_bestConfig;
    std::vector<Axis> m_axes;
    std::vector<Trial> m_trials;
    std::vector<QCPCurve *> m_lines;
    int m_hovered = -1;
    QLabel *m_message, *m_readout;
    QTableWidget *m_table;
    QCustomPlot *m_plot;
    QPushButton *m_openBest;
};

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// Several run directories in one tab (File ▸ Compare Runs…): their curves overlaid in the training
// curves (one colour per run from a stable palette, changed by double-clicking the run's swatch;
// aligned by step, epoch, samples seen or wall time — the last from the runs' TensorBoard events; smoothing and the hover read-out as for one run) above a runs table —
// name, model, data, the config keys whose values differ between the runs, best and final test
// metric, best loss, epochs, time, kept and best checkpoints — that sorts by any column (numbers as
// numbers), filters by text, and hides or shows a run with its row's checkbox. Read through
// run/run_summary.h (the reader `netwright compare` uses). Thread affinity: UI thread. Layer: app.
#pragma once

#include <QColor>
#include <QStringList>
#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace netwright::widgets {
class TrainingCurves;
}

namespace netwright::gui {

class RunComparison : public QWidget {
    Q_OBJECT
public:
    // Roles of the table's items: the value a column sorts by (a number for numbers).
    static constexpr int kSortRole = Qt::UserRole + 1;

    explicit RunComparison(QWidget *parent = nullptr);

    // Reads the runs (run directories, in the order given; a run that cannot be read is named in
    // the message line and left out). Returns the number of runs shown.
    int setRuns(const QStringList &runDirectories);
    QStringList runDirectories() const { return m_dirs; }
    // The colour of the i-th run of the palette (Tableau 10, then darker shades of it).
    static QColor paletteColor(int i);

    void setRunColor(int run, const QColor &color);
    void setRunVisible(int run, bool visible);
    // The columns' titles and a cell's text as the table shows them (model order, not sorted).
    QStringList columnTitles() const;
    QString messageText() const;

    widgets::TrainingCurves *curves() const { return m_curves; }
    QTableView *table() const { return m_table; }
    QLineEdit *filterField() const { return m_filter; }
    QStandardItemModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }

signals:
    void openRunRequested(const QString &runDirectory);

private:
    void chooseColor(int run);

    widgets::TrainingCurves *m_curves;
    QLineEdit *m_filter;
    QTableView *m_table;
    QStandardItemModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QLabel *m_message;
    QStringList m_dirs;
    bool m_updating = false;
};

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// The tensor inspector: a parameter's name, dtype and shape, its statistics (min, max, mean, std,
// NaN and infinities counted apart), a histogram of its finite values (QCustomPlot), a table of
// the values for tensors of up to kTableLimit elements (the last dimension across), and "Export
// .npy…". Shows a copy of the values (tensors share storage, so no bytes are duplicated).
// Thread affinity: UI thread. Layer: widgets.
#pragma once

#include "formats/model_description.h"

#include <QWidget>

#include <optional>

class QCustomPlot;
class QLabel;
class QPushButton;
class QTableWidget;

namespace netwright::widgets {

class TensorInspector : public QWidget {
    Q_OBJECT
public:
    static constexpr int64_t kTableLimit = 10000;
    static constexpr int kBins = 50;

    explicit TensorInspector(QWidget *parent = nullptr);

    void setValue(const ValueDescription &value);
    void clear();

    // What is shown, for tests and the export button.
    QString statisticsText() const;
    const std::optional<ValueDescription> &value() const { return m_value; }
    const std::vector<double> &histogramCounts() const { return m_counts; }
    QTableWidget *table() const { return m_table; }
    // Writes the values as .npy; false with the reason in *error.
    bool exportNpy(const QString &path, QString *error) const;

private:
    void exportClicked();

    std::optional<ValueDescription> m_value;
    QLabel *m_title, *m_stats, *m_note;
    QCustomPlot *m_plot;
    QTableWidget *m_table;
    QPushButton *m_export;
    std::vector<double> m_counts;
};

} // namespace netwright::widgets

// SPDX-License-Identifier: Apache-2.0
// The tensor inspector: a parameter's name, dtype and shape, its statistics (min, max, mean, std,
// NaN and infinities counted apart), and three views in tabs: a histogram of its finite values
// (QCustomPlot), the values as 2-D slices of any rank (TensorSliceView: chosen axes, 0-based
// indices, full precision in tooltips), and convolution filters as an image grid (FilterGridView,
// enabled for 3-D and 4-D float tensors); then "Export .npy…". Shows a copy of the values
// (tensors share storage, so no bytes are duplicated).
// Thread affinity: UI thread. Layer: widgets.
#pragma once

#include "formats/model_description.h"

#include <QWidget>

#include <optional>

class QCustomPlot;
class QLabel;
class QPushButton;
class QTabWidget;
class QTableView;

namespace netwright::widgets {

class FilterGridView;
class TensorSliceView;

class TensorInspector : public QWidget {
    Q_OBJECT
public:
    static constexpr int kBins = 50;

    explicit TensorInspector(QWidget *parent = nullptr);

    void setValue(const ValueDescription &value);
    void clear();

    // What is shown, for tests and the export button.
    QString statisticsText() const;
    const std::optional<ValueDescription> &value() const { return m_value; }
    const std::vector<double> &histogramCounts() const { return m_counts; }
    QTableView *table() const;                          // the slice's values
    TensorSliceView *sliceView() const { return m_slices; }
    FilterGridView *filterGrid() const { return m_filters; }
    // The tabs Histogram, Values, Filters (Filters disabled when the tensor is no filter bank).
    QTabWidget *views() const { return m_views; }
    void showFilters() const; // selects the Filters tab when it applies
    // Writes the values as .npy; false with the reason in *error.
    bool exportNpy(const QString &path, QString *error) const;

private:
    void exportClicked();

    std::optional<ValueDescription> m_value;
    QLabel *m_title, *m_stats, *m_note;
    QCustomPlot *m_plot;
    QTabWidget *m_views;
    TensorSliceView *m_slices;
    FilterGridView *m_filters;
    QPushButton *m_export;
    std::vector<double> m_counts;
};

} // namespace netwright::widgets

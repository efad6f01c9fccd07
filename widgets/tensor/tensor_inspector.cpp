// SPDX-License-Identifier: Apache-2.0
#include "tensor/tensor_inspector.h"

#include "core/error.h"
#include "core/tensor_stats.h"
#include "formats/npy/npy_file.h"
#include "tensor/filter_grid_view.h"
#include "tensor/tensor_slice_model.h"
#include "tensor/tensor_slice_view.h"

#include <QFileDialog>
#include <QFontDatabase>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace netwright::widgets {

TensorInspector::TensorInspector(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_stats(new QLabel(this)), m_note(new QLabel(this)), m_plot(new QCustomPlot(this)),
      m_views(new QTabWidget(this)), m_slices(new TensorSliceView(this)), m_filters(new FilterGridView(this)), m_export(new QPushButton(tr("Export .npy…"), this))
{
    auto *layout = new QVBoxLayout(this);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setWordWrap(true);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stats->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_note->setWordWrap(true);
    m_plot->setMinimumHeight(160);
    m_plot->xAxis->setLabel(tr("value"));
    m_plot->yAxis->setLabel(tr("count"));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_views->addTab(m_plot, tr("Histogram"));
    m_views->addTab(m_slices, tr("Values"));
    m_views->addTab(m_filters, tr("Filters"));
    m_views->setTabToolTip(2, tr("Convolution filters ([O,I,H,W] or [O,I,K]) as an image grid"));
    layout->addWidget(m_title);
    layout->addWidget(m_stats);
    layout->addWidget(m_note);
    layout->addWidget(m_views, 1);
    layout->addWidget(m_export, 0, Qt::AlignLeft);
    connect(m_export, &QPushButton::clicked, this, &TensorInspector::exportClicked);
    clear();
}

void TensorInspector::clear()
{
    m_value.reset();
    m_title->setText(tr("Select a parameter to inspect its values."));
    m_stats->clear();
    m_note->clear();
    m_plot->clearPlottables();
    m_plot->replot();
    m_slices->clear();
    m_filters->clear();
    m_views->setTabEnabled(2, false);
    if (m_views->currentIndex() == 2)
        m_views->setCurrentIndex(1);
    m_export->setEnabled(false);
    m_counts.clear();
}

void TensorInspector::setValue(const ValueDescription &value)
{
    const bool filtersShown = m_views->currentIndex() == 2; // kept from one filter bank to the next
    clear();
    m_value = value;
    QString shape = QStringLiteral("[");
    for (size_t i = 0; i < value.shape.size(); ++i)
        shape += (i ? QStringLiteral(",") : QString()) + QString::number(value.shape[i]);
    shape += QStringLiteral("]");
    m_title->setText(QStringLiteral("<b>%1</b><br>%2 %3").arg(QString::fromStdString(value.name).toHtmlEscaped(),
                                                               QString::fromStdString(value.dtype), shape));
    if (!value.value) {
        m_note->setText(value.text.empty() ? tr("The file holds no values for this tensor.") : QString::fromStdString(value.text));
        return;
    }
    const Tensor &t = *value.value;
    const TensorStats s = computeStats(t);
    m_stats->setText(statisticsText());
    m_stats->setToolTip(tr("min  %1\nmax  %2\nmean %3\nstd  %4")
                            .arg(fullPrecisionText(s.min, DType::Float64), fullPrecisionText(s.max, DType::Float64),
                                 fullPrecisionText(s.mean, DType::Float64), fullPrecisionText(s.std, DType::Float64)));
    // Histogram of the finite values over [min, max].
    m_counts.assign(kBins, 0.0);
    const double width = s.max > s.min ? (s.max - s.min) / kBins : 1.0;
    for (int64_t i = 0; i < t.numel(); ++i) {
        const double v = elementAsDouble(t, i);
        if (!std::isfinite(v))
            continue;
        const int bin = std::clamp(static_cast<int>((v - s.min) / width), 0, kBins - 1);
        m_counts[static_cast<size_t>(bin)] += 1;
    }
    QVector<double> x(kBins), y(kBins);
    for (int b = 0; b < kBins; ++b) {
        x[b] = s.min + (b + 0.5) * width;
        y[b] = m_counts[static_cast<size_t>(b)];
    }
    auto *bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    bars->setWidth(width);
    bars->setData(x, y, true);
    bars->setPen(QPen(QColor(0x3a, 0x6e, 0xa5)));
    bars->setBrush(QColor(0x9c, 0xc3, 0xe6));
    m_plot->xAxis->setRange(s.min - width, s.max + width);
    m_plot->yAxis->setRange(0, *std::max_element(y.begin(), y.end()) * 1.1 + 1);
    m_plot->replot();
    // The values as 2-D slices (any size: the table reads the tensor lazily).
    const QString name = QString::fromStdString(value.name);
    m_slices->setTensor(t, name);
    // Convolution filters as an image grid.
    const bool filters = FilterGridView::applies(t);
    m_views->setTabEnabled(2, filters);
    if (filters) {
        m_filters->setTensor(t, name);
        if (filtersShown)
            m_views->setCurrentIndex(2);
    }
    m_export->setEnabled(true);
}

QTableView *TensorInspector::table() const
{
    return m_slices->table();
}

void TensorInspector::showFilters() const
{
    if (m_views->isTabEnabled(2))
        m_views->setCurrentIndex(2);
}

QString TensorInspector::statisticsText() const
{
    if (!m_value || !m_value->value)
        return {};
    const TensorStats s = computeStats(*m_value->value);
    QString text = tr("elements %L1   bytes %L2\nmin  %3\nmax  %4\nmean %5\nstd  %6")
                       .arg(s.count)
                       .arg(static_cast<qulonglong>(m_value->value->byteSize()))
                       .arg(s.min, 0, 'g', 7)
                       .arg(s.max, 0, 'g', 7)
                       .arg(s.mean, 0, 'g', 7)
                       .arg(s.std, 0, 'g', 7);
    if (s.nans || s.infinities)
        text += tr("\nNaN %L1   ±inf %L2").arg(s.nans).arg(s.infinities);
    return text;
}

bool TensorInspector::exportNpy(const QString &path, QString *error) const
{
    if (!m_value || !m_value->value) {
        *error = tr("There are no values to export.");
        return false;
    }
    try {
        writeNpy(path.toStdString(), *m_value->value);
        return true;
    } catch (const Error &e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
}

void TensorInspector::exportClicked()
{
    if (!m_value)
        return;
    QString name = QString::fromStdString(m_value->name);
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Tensor"), name + QStringLiteral(".npy"), tr("NumPy arrays (*.npy)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportNpy(path, &error))
        QMessageBox::warning(this, tr("Export Tensor"), error);
}

} // namespace netwright::widgets

// SPDX-License-Identifier: Apache-2.0
#include "tensor/tensor_slice_view.h"

#include "tensor/tensor_slice_model.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>

namespace netwright::widgets {

TensorSliceView::TensorSliceView(QWidget *parent)
    : QWidget(parent), m_model(new TensorSliceModel(this)), m_rowAxis(new QComboBox(this)), m_columnAxis(new QComboBox(this)),
      m_axesRow(new QWidget(this)), m_indexLayout(new QHBoxLayout), m_slice(new QLabel(this)), m_table(new QTableView(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *axes = new QHBoxLayout(m_axesRow);
    axes->setContentsMargins(0, 0, 0, 0);
    auto *rowsLabel = new QLabel(tr("&Rows:"), m_axesRow);
    rowsLabel->setBuddy(m_rowAxis);
    auto *columnsLabel = new QLabel(tr("&Columns:"), m_axesRow);
    columnsLabel->setBuddy(m_columnAxis);
    m_rowAxis->setToolTip(tr("The axis shown down the rows"));
    m_columnAxis->setToolTip(tr("The axis shown across the columns"));
    axes->addWidget(rowsLabel);
    axes->addWidget(m_rowAxis);
    axes->addWidget(columnsLabel);
    axes->addWidget(m_columnAxis);
    axes->addStretch();
    m_indexLayout->setContentsMargins(0, 0, 0, 0);
    m_slice->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_slice->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_slice->setToolTip(tr("The slice shown, as NumPy writes it (indices from 0)"));
    m_table->setModel(m_model);
    m_table->horizontalHeader()->setDefaultSectionSize(80);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    layout->addWidget(m_axesRow);
    layout->addLayout(m_indexLayout);
    layout->addWidget(m_slice);
    layout->addWidget(m_table, 1);
    connect(m_rowAxis, &QComboBox::currentIndexChanged, this, [this] { axesChosen(true); });
    connect(m_columnAxis, &QComboBox::currentIndexChanged, this, [this] { axesChosen(false); });
    clear();
}

QSpinBox *TensorSliceView::indexBox(int axis) const
{
    return axis >= 0 && axis < static_cast<int>(m_indexBoxes.size()) ? m_indexBoxes[static_cast<size_t>(axis)] : nullptr;
}

void TensorSliceView::clear()
{
    m_model->clear();
    const QSignalBlocker b1(m_rowAxis), b2(m_columnAxis);
    m_rowAxis->clear();
    m_columnAxis->clear();
    m_axesRow->setVisible(false);
    rebuildIndexBoxes();
    m_slice->clear();
}

void TensorSliceView::setTensor(const Tensor &t, const QString &name)
{
    m_model->setTensor(t, name);
    const QSignalBlocker b1(m_rowAxis), b2(m_columnAxis);
    m_rowAxis->clear();
    m_columnAxis->clear();
    for (int a = 0; a < t.rank(); ++a) {
        const QString text = tr("axis %1 (%2)").arg(a).arg(t.dim(a));
        m_rowAxis->addItem(text, a);
        m_columnAxis->addItem(text, a);
    }
    m_axesRow->setVisible(t.rank() >= 2);
    if (t.rank() >= 2) {
        m_rowAxis->setCurrentIndex(m_model->rowAxis());
        m_columnAxis->setCurrentIndex(m_model->columnAxis());
    }
    rebuildIndexBoxes();
    m_slice->setText(m_model->sliceText());
}

void TensorSliceView::axesChosen(bool rowsChanged)
{
    int rows = m_rowAxis->currentIndex(), columns = m_columnAxis->currentIndex();
    if (rows == columns) {
        // The same axis twice: the other box takes the axis given up, as a swap.
        const int given = rowsChanged ? m_model->rowAxis() : m_model->columnAxis();
        const QSignalBlocker b1(m_rowAxis), b2(m_columnAxis);
        if (rowsChanged)
            m_columnAxis->setCurrentIndex(columns = given);
        else
            m_rowAxis->setCurrentIndex(rows = given);
    }
    m_model->setAxes(rows, columns);
    rebuildIndexBoxes();
    m_slice->setText(m_model->sliceText());
}

void TensorSliceView::rebuildIndexBoxes()
{
    for (QSpinBox *box : m_indexBoxes)
        delete box;
    for (QLabel *label : m_indexLabels)
        delete label;
    m_indexBoxes.clear();
    m_indexLabels.clear();
    while (QLayoutItem *item = m_indexLayout->takeAt(0))
        delete item;
    const Tensor &t = m_model->tensor();
    const int rank = static_cast<int>(m_model->indices().size());
    bool any = false;
    for (int a = 0; a < rank; ++a) {
        if (a == m_model->rowAxis() || a == m_model->columnAxis()) {
            m_indexBoxes.push_back(nullptr);
            continue;
        }
        auto *label = new QLabel(tr("axis %1:").arg(a), this);
        auto *box = new QSpinBox(this);
        box->setRange(0, static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(t.dim(a), INT_MAX) - 1)));
        box->setValue(static_cast<int>(m_model->indices()[static_cast<size_t>(a)]));
        box->setToolTip(tr("The index of axis %1 (from 0)").arg(a));
        label->setBuddy(box);
        connect(box, &QSpinBox::valueChanged, this, [this, a](int v) {
            m_model->setIndex(a, v);
            m_slice->setText(m_model->sliceText());
        });
        m_indexLayout->addWidget(label);
        m_indexLayout->addWidget(box);
        m_indexBoxes.push_back(box);
        m_indexLabels.push_back(label);
        any = true;
    }
    if (any)
        m_indexLayout->addStretch();
}

} // namespace netwright::widgets

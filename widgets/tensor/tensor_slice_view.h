// SPDX-License-Identifier: Apache-2.0
// The values of an N-D tensor as 2-D slices: the user picks the axes shown as rows and columns
// and, with one spin box per other axis, the index of every other axis (0-based, as NumPy). The
// slice is stated as NumPy writes it ("w[12, 3, :, :]"). Thread affinity: UI thread. Layer: widgets.
#pragma once

#include "core/tensor.h"

#include <QWidget>

#include <vector>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QSpinBox;
class QTableView;

namespace netwright::widgets {

class TensorSliceModel;

class TensorSliceView : public QWidget {
    Q_OBJECT
public:
    explicit TensorSliceView(QWidget *parent = nullptr);

    void setTensor(const Tensor &t, const QString &name);
    void clear();

    // The controls, for tests and keyboard users.
    QComboBox *rowAxisBox() const { return m_rowAxis; }
    QComboBox *columnAxisBox() const { return m_columnAxis; }
    // The spin box of a fixed axis; null for the row and column axes (and past the rank).
    QSpinBox *indexBox(int axis) const;
    QLabel *sliceLabel() const { return m_slice; }
    QTableView *table() const { return m_table; }
    TensorSliceModel *model() const { return m_model; }

private:
    void axesChosen(bool rowsChanged);
    void rebuildIndexBoxes();

    TensorSliceModel *m_model;
    QComboBox *m_rowAxis, *m_columnAxis;
    QWidget *m_axesRow;
    QHBoxLayout *m_indexLayout;
    std::vector<QSpinBox *> m_indexBoxes; // per axis; null for the row and column axes
    std::vector<QLabel *> m_indexLabels;
    QLabel *m_slice;
    QTableView *m_table;
};

} // namespace netwright::widgets

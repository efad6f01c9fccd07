// SPDX-License-Identifier: Apache-2.0
// A 2-D slice of an N-D tensor as a Qt table model: two axes as rows and columns, every other
// axis fixed at an index, all indices 0-based as NumPy and PyTorch count them. Cells show 7
// significant digits; the tooltip shows the element's coordinates and its value with the full
// precision of its dtype (max_digits10). Reads the tensor lazily (any size). Layer: widgets.
#pragma once

#include "core/tensor.h"

#include <QAbstractTableModel>

#include <vector>

namespace netwright::widgets {

class TensorSliceModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;

    // Shows `t` (shared, not copied) under `name`; rows = the second-to-last axis, columns = the
    // last, every other index 0. A scalar is one cell, a vector one column.
    void setTensor(const Tensor &t, const QString &name);
    void clear();

    // rowAxis != columnAxis (both < rank), or -1 for a vector's missing column axis.
    void setAxes(int rowAxis, int columnAxis);
    // The index of a fixed axis (clamped to its dimension); ignored for the row and column axes.
    void setIndex(int axis, int64_t index);
    const Tensor &tensor() const { return m_tensor; }
    int rowAxis() const { return m_rowAxis; }
    int columnAxis() const { return m_columnAxis; }
    const std::vector<int64_t> &indices() const { return m_index; }
    // The slice as NumPy writes it: "conv1.weight[12, 3, :, :]", ".T" when rows come after columns.
    QString sliceText() const;
    // The full coordinates of a cell: "conv1.weight[12, 3, 0, 4]".
    QString elementText(int row, int column) const;
    // The value with max_digits10 significant digits of the tensor's dtype (exact for integers).
    QString fullPrecision(int row, int column) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    int64_t flatIndex(int row, int column) const;

    Tensor m_tensor;
    bool m_hasTensor = false;
    QString m_name;
    int m_rowAxis = -1, m_columnAxis = -1;
    std::vector<int64_t> m_index; // per axis; the row and column entries are unused
};

// Significant digits that round-trip a value of this dtype (std::numeric_limits<T>::max_digits10;
// 5 for float16, 4 for bfloat16; 0 for integers and bool, which print exactly).
int maxDigits10(DType dtype);
// `v` with the digits maxDigits10(dtype) gives (integers as integers).
QString fullPrecisionText(double v, DType dtype);

} // namespace netwright::widgets

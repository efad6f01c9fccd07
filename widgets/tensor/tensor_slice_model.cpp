// SPDX-License-Identifier: Apache-2.0
#include "tensor/tensor_slice_model.h"

#include "core/tensor_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace netwright::widgets {

int maxDigits10(DType dtype)
{
    switch (dtype) {
    case DType::Float32:
        return std::numeric_limits<float>::max_digits10;
    case DType::Float64:
        return std::numeric_limits<double>::max_digits10;
    case DType::Float16:
        return 5; // 11-bit significand: 2 + ceil(11 * log10 2)
    case DType::BFloat16:
        return 4; // 8-bit significand
    default:
        return 0;
    }
}

QString fullPrecisionText(double v, DType dtype)
{
    const int digits = maxDigits10(dtype);
    if (digits == 0 && std::isfinite(v))
        return QString::number(static_cast<qlonglong>(v));
    return QString::number(v, 'g', digits ? digits : 17);
}

void TensorSliceModel::setTensor(const Tensor &t, const QString &name)
{
    beginResetModel();
    m_tensor = t;
    m_hasTensor = true;
    m_name = name;
    const int rank = t.rank();
    m_index.assign(static_cast<size_t>(rank), 0);
    m_rowAxis = rank >= 2 ? rank - 2 : rank == 1 ? 0 : -1;
    m_columnAxis = rank >= 2 ? rank - 1 : -1;
    endResetModel();
}

void TensorSliceModel::clear()
{
    beginResetModel();
    m_tensor = Tensor();
    m_hasTensor = false;
    m_name.clear();
    m_index.clear();
    m_rowAxis = m_columnAxis = -1;
    endResetModel();
}

void TensorSliceModel::setAxes(int rowAxis, int columnAxis)
{
    const int rank = m_tensor.rank();
    if (!m_hasTensor || rank < 2 || rowAxis == columnAxis || rowAxis < 0 || columnAxis < 0 || rowAxis >= rank || columnAxis >= rank)
        return;
    beginResetModel();
    m_rowAxis = rowAxis;
    m_columnAxis = columnAxis;
    endResetModel();
}

void TensorSliceModel::setIndex(int axis, int64_t index)
{
    if (axis < 0 || axis >= m_tensor.rank() || axis == m_rowAxis || axis == m_columnAxis)
        return;
    const int64_t clamped = std::clamp<int64_t>(index, 0, std::max<int64_t>(0, m_tensor.dim(axis) - 1));
    if (m_index[static_cast<size_t>(axis)] == clamped)
        return;
    m_index[static_cast<size_t>(axis)] = clamped;
    if (rowCount() && columnCount())
        emit dataChanged(this->index(0, 0), this->index(rowCount() - 1, columnCount() - 1));
}

QString TensorSliceModel::sliceText() const
{
    if (!m_hasTensor)
        return {};
    if (m_tensor.rank() == 0)
        return m_name;
    QStringList parts;
    for (int a = 0; a < m_tensor.rank(); ++a)
        parts << (a == m_rowAxis || a == m_columnAxis ? QStringLiteral(":") : QString::number(m_index[static_cast<size_t>(a)]));
    return QStringLiteral("%1[%2]%3").arg(m_name, parts.join(QStringLiteral(", ")),
                                          m_columnAxis >= 0 && m_rowAxis > m_columnAxis ? QStringLiteral(".T") : QString());
}

QString TensorSliceModel::elementText(int row, int column) const
{
    if (!m_hasTensor || m_tensor.rank() == 0)
        return m_name;
    QStringList parts;
    for (int a = 0; a < m_tensor.rank(); ++a)
        parts << QString::number(a == m_rowAxis ? row : a == m_columnAxis ? column : m_index[static_cast<size_t>(a)]);
    return QStringLiteral("%1[%2]").arg(m_name, parts.join(QStringLiteral(", ")));
}

int64_t TensorSliceModel::flatIndex(int row, int column) const
{
    int64_t flat = 0;
    for (int a = 0; a < m_tensor.rank(); ++a) {
        const int64_t i = a == m_rowAxis ? row : a == m_columnAxis ? column : m_index[static_cast<size_t>(a)];
        flat = flat * m_tensor.dim(a) + i;
    }
    return flat;
}

QString TensorSliceModel::fullPrecision(int row, int column) const
{
    return fullPrecisionText(elementAsDouble(m_tensor, flatIndex(row, column)), m_tensor.dtype());
}

int TensorSliceModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_hasTensor || m_tensor.numel() == 0)
        return 0;
    return m_rowAxis < 0 ? 1 : static_cast<int>(std::min<int64_t>(m_tensor.dim(m_rowAxis), std::numeric_limits<int>::max()));
}

int TensorSliceModel::columnCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_hasTensor || m_tensor.numel() == 0)
        return 0;
    return m_columnAxis < 0 ? 1 : static_cast<int>(std::min<int64_t>(m_tensor.dim(m_columnAxis), std::numeric_limits<int>::max()));
}

QVariant TensorSliceModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !m_hasTensor)
        return {};
    switch (role) {
    case Qt::DisplayRole: {
        const double v = elementAsDouble(m_tensor, flatIndex(index.row(), index.column()));
        return maxDigits10(m_tensor.dtype()) ? QString::number(v, 'g', 7) : fullPrecisionText(v, m_tensor.dtype());
    }
    case Qt::ToolTipRole:
        return QStringLiteral("%1 = %2").arg(elementText(index.row(), index.column()), fullPrecision(index.row(), index.column()));
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    default:
        return {};
    }
}

QVariant TensorSliceModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    const int axis = orientation == Qt::Vertical ? m_rowAxis : m_columnAxis;
    if (axis < 0)
        return role == Qt::DisplayRole ? QVariant(m_tensor.rank() == 0 ? tr("value") : QString()) : QVariant();
    if (role == Qt::ToolTipRole)
        return tr("axis %1, index %2").arg(axis).arg(section);
    return QString::number(section); // 0-based, as NumPy and PyTorch index
}

} // namespace netwright::widgets

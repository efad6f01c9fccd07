// SPDX-License-Identifier: Apache-2.0
#include "gui/parameter_table.h"

#include "graph/visible_graph.h"
#include "tensor/tensor_slice_model.h"

#include <QCollator>
#include <QHeaderView>
#include <QLocale>

#include <cmath>
#include <limits>

namespace netwright::gui {

namespace {

constexpr int kSortRole = Qt::UserRole + 1;

// A cell that sorts by its key (a number, or text in natural order) rather than by its text.
class SortableItem : public QTableWidgetItem {
public:
    SortableItem(const QString &text, const QVariant &key, const QString &tip) : QTableWidgetItem(text)
    {
        setData(kSortRole, key);
        setToolTip(tip);
        if (key.typeId() == QMetaType::Double)
            setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }

    bool operator<(const QTableWidgetItem &other) const override
    {
        const QVariant a = data(kSortRole), b = other.data(kSortRole);
        const bool an = a.typeId() == QMetaType::Double, bn = b.typeId() == QMetaType::Double;
        if (an && bn) {
            // Cells without a number (NaN) come first, as empty text would.
            const double x = a.toDouble(), y = b.toDouble();
            if (std::isnan(x) || std::isnan(y))
                return std::isnan(x) && !std::isnan(y);
            if (x != y)
                return x < y;
            return text() < other.text();
        }
        if (an != bn)
            return an; // numbers before text
        static const QCollator natural = [] {
            QCollator c;
            c.setNumericMode(true);
            c.setCaseSensitivity(Qt::CaseInsensitive);
            return c;
        }();
        return natural.compare(a.toString(), b.toString()) < 0;
    }
};

constexpr double kNoNumber = std::numeric_limits<double>::quiet_NaN();

} // namespace

ParameterTable::ParameterTable(QWidget *parent) : QTableWidget(parent)
{
    setColumnCount(ColumnCount);
    setHorizontalHeaderLabels({tr("Name"), tr("Type"), tr("Shape"), tr("Elements"), tr("Bytes"), tr("Min"), tr("Max"), tr("Mean"), tr("Std"), tr("Value")});
    horizontalHeaderItem(Shape)->setToolTip(tr("Sorted by element count"));
    horizontalHeaderItem(Value)->setToolTip(tr("The value of a scalar, or what the file holds instead of a tensor"));
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    verticalHeader()->hide();
    horizontalHeader()->setStretchLastSection(true);
    horizontalHeader()->setSortIndicatorClearable(true);
    horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    setSortingEnabled(true);
}

QString ParameterTable::nameAt(int row) const
{
    const QTableWidgetItem *i = item(row, Name);
    return i ? i->data(Qt::UserRole).toString() : QString();
}

void ParameterTable::setParameters(const std::vector<ValueDescription> &parameters, const std::vector<std::optional<TensorStats>> &stats)
{
    setSortingEnabled(false);
    clearContents();
    setRowCount(static_cast<int>(parameters.size()));
    const QLocale locale;
    for (size_t i = 0; i < parameters.size(); ++i) {
        const ValueDescription &p = parameters[i];
        const int row = static_cast<int>(i);
        const QString name = QString::fromStdString(p.name);
        QString nameTip = name;
        if (!p.heldBy.empty())
            nameTip += tr("\nheld by the Constant node %1").arg(QString::fromStdString(p.heldBy));
        auto *nameItem = new SortableItem(name, name, nameTip);
        nameItem->setData(Qt::UserRole, name);
        setItem(row, Name, nameItem);
        const QString dtype = QString::fromStdString(p.dtype);
        setItem(row, Type, new SortableItem(dtype, dtype, dtype));
        const QString shape = p.shapeKnown ? QString::fromStdString(widgets::shapeText(p.shape)) : QString();
        const std::optional<Tensor> &v = p.value;
        const double count = v ? static_cast<double>(v->numel()) : kNoNumber;
        setItem(row, Shape, new SortableItem(shape, count, v ? tr("%1: %2 elements").arg(shape).arg(v->numel()) : shape));
        setItem(row, Elements, new SortableItem(v ? locale.toString(static_cast<qlonglong>(v->numel())) : QString(), count,
                                                v ? QString::number(v->numel()) : QString()));
        const double bytes = v ? static_cast<double>(v->byteSize()) : kNoNumber;
        setItem(row, Bytes, new SortableItem(v ? locale.toString(static_cast<qulonglong>(v->byteSize())) : QString(), bytes,
                                             v ? tr("%1 bytes").arg(static_cast<qulonglong>(v->byteSize())) : QString()));
        const std::optional<TensorStats> &s = i < stats.size() ? stats[i] : std::nullopt;
        const bool numbers = s && s->finite > 0;
        const DType exact = v ? v->dtype() : DType::Float64; // min and max are elements: their dtype's digits
        auto number = [&](Column c, double x, DType digits) {
            setItem(row, c, new SortableItem(numbers ? QString::number(x, 'g', 6) : QString(), numbers ? x : kNoNumber,
                                              numbers ? widgets::fullPrecisionText(x, digits) : QString()));
        };
        number(Min, s ? s->min : 0, exact);
        number(Max, s ? s->max : 0, exact);
        number(Mean, s ? s->mean : 0, DType::Float64);
        number(Std, s ? s->std : 0, DType::Float64);
        QString value = QString::fromStdString(p.text);
        QString valueTip = value;
        double valueKey = kNoNumber;
        if (v && v->numel() == 1) {
            valueKey = elementAsDouble(*v, 0);
            value = widgets::maxDigits10(v->dtype()) ? QString::number(valueKey, 'g', 6) : widgets::fullPrecisionText(valueKey, v->dtype());
            valueTip = widgets::fullPrecisionText(valueKey, v->dtype());
        }
        setItem(row, Value, new SortableItem(value, std::isnan(valueKey) ? QVariant(value) : QVariant(valueKey), valueTip));
    }
    resizeColumnsToContents();
    setSortingEnabled(true);
}

std::vector<std::optional<TensorStats>> parameterStatistics(const std::vector<ValueDescription> &parameters)
{
    std::vector<std::optional<TensorStats>> out;
    out.reserve(parameters.size());
    for (const auto &p : parameters)
        out.push_back(p.value && p.value->numel() > 0 ? std::optional<TensorStats>(computeStreamingStats(*p.value)) : std::nullopt);
    return out;
}

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// The Parameters table of an open file: name, dtype, shape, elements, bytes, min, max, mean, std
// and (for a scalar or a non-tensor entry) the value. Sortable by every column, numbers as
// numbers (not as text), names in natural order (layer2 before layer10), shapes by element
// count; every cell's tooltip gives its value in full (max_digits10 significant digits).
// Thread affinity: UI thread. Layer: app.
#pragma once

#include "core/tensor_stats.h"
#include "formats/model_description.h"

#include <QTableWidget>

#include <optional>
#include <vector>

namespace netwright::gui {

class ParameterTable : public QTableWidget {
    Q_OBJECT
public:
    enum Column { Name, Type, Shape, Elements, Bytes, Min, Max, Mean, Std, Value, ColumnCount };

    explicit ParameterTable(QWidget *parent = nullptr);

    // `stats` aligned with `parameters` (nullopt for an entry without values); rows in file order
    // until a header is clicked.
    void setParameters(const std::vector<ValueDescription> &parameters, const std::vector<std::optional<TensorStats>> &stats);
    // The parameter name shown in a row (whatever the sort order).
    QString nameAt(int row) const;
};

// The statistics of every parameter with values (for the table; run off the UI thread: a large
// model takes a while).
std::vector<std::optional<TensorStats>> parameterStatistics(const std::vector<ValueDescription> &parameters);

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// Where a hover read-out goes: beside the cursor, flipped to the other side where it would leave
// the plot. Shared by the training curves (one run and several) and the sweep view. Layer: widgets.
#pragma once

#include <QLabel>
#include <QPoint>
#include <QWidget>

#include <algorithm>

namespace netwright::widgets {

// Sets `readout`'s text, places it `offset` px beside `cursor` within `plot`, and shows it.
inline void showReadoutAt(QLabel *readout, const QString &html, QPoint cursor, const QWidget *plot, int offset = 16)
{
    readout->setText(html);
    readout->adjustSize();
    QPoint place = cursor + QPoint(offset, offset);
    if (place.x() + readout->width() > plot->width())
        place.setX(cursor.x() - offset - readout->width());
    if (place.y() + readout->height() > plot->height())
        place.setY(cursor.y() - offset - readout->height());
    readout->move(std::max(0, place.x()), std::max(0, place.y()));
    readout->show();
    readout->raise();
}

} // namespace netwright::widgets

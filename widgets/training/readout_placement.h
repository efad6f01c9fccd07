// SPDX-License-Identifier: Apache-2.0
// A hover read-out over a plot: how it looks (a pale box that lets the mouse through), and where it
// goes — beside the cursor, flipped to the other side where it would leave the plot. Shared by the
// training curves (one run and several) and the sweep view. Layer: widgets.
#pragma once

#include <QLabel>
#include <QPoint>
#include <QWidget>

#include <algorithm>

namespace netwright::widgets {

// Makes `readout` (a child of the plot) a read-out, hidden until shown, and has `plot` report mouse
// moves to `filter`.
inline void setUpReadout(QLabel *readout, const QString &objectName, QWidget *plot, QObject *filter)
{
    readout->setObjectName(objectName);
    readout->setTextFormat(Qt::RichText);
    readout->setAttribute(Qt::WA_TransparentForMouseEvents);
    readout->setStyleSheet(QStringLiteral("QLabel { background: rgba(255,255,255,235); color: #202020; border: 1px solid #a0a0a0; "
                                          "border-radius: 3px; padding: 4px; }"));
    readout->hide();
    plot->setMouseTracking(true);
    plot->installEventFilter(filter);
}

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

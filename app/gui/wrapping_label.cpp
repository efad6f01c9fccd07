// SPDX-License-Identifier: Apache-2.0
#include "gui/wrapping_label.h"

#include <QLabel>
#include <QSizePolicy>

namespace netwright::gui {

void wrapWithinWidth(QLabel *label)
{
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Ignored: the layout neither grows for the label's width hint nor keeps its minimum (the
    // longest word); the height still follows the width it gets.
    QSizePolicy policy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    label->setSizePolicy(policy);
}

void setWrappedText(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setToolTip(text);
}

} // namespace netwright::gui

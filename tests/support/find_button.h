// SPDX-License-Identifier: Apache-2.0
// Test support: the push button a user would click in a widget, found by its text.
#pragma once

#include <QPushButton>
#include <QString>
#include <QWidget>

namespace netwright::test {

// The first QPushButton under `parent` whose text is `text`; nullptr when there is none.
inline QPushButton *button(const QWidget &parent, const QString &text)
{
    for (QPushButton *b : parent.findChildren<QPushButton *>())
        if (b->text() == text)
            return b;
    return nullptr;
}

} // namespace netwright::test

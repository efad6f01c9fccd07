// SPDX-License-Identifier: Apache-2.0
#include "gui/wrapping_delegate.h"

#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QHeaderView>
#include <QPainter>
#include <QShortcut>
#include <QStyledItemDelegate>
#include <QTextLayout>
#include <QTimer>
#include <QTreeView>

#include <cmath>

namespace netwright::gui {

namespace {

constexpr int kPad = 3;

// Lays `text` out within `width`; returns its height.
double layoutLines(QTextLayout &layout, double width)
{
    QTextOption option;
    option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    layout.setTextOption(option);
    layout.beginLayout();
    double y = 0;
    for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
        line.setLineWidth(std::max(1.0, width));
        line.setPosition(QPointF(0, y));
        y += line.height();
    }
    layout.endLayout();
    return y;
}

class WrappingDelegate : public QStyledItemDelegate {
public:
    explicit WrappingDelegate(QTreeView *view) : QStyledItemDelegate(view), m_view(view) {}

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const double width = textWidth(index);
        QTextLayout layout(opt.text, opt.font);
        const double h = layoutLines(layout, width);
        // Width: the text's own (what "resize to contents" asks); height: wrapped at the column's.
        const int natural = static_cast<int>(std::ceil(QFontMetricsF(opt.font).horizontalAdvance(opt.text))) + 2 * kPad + 6;
        return QSize(natural, std::max(static_cast<int>(std::ceil(h)) + 2 * kPad, QStyledItemDelegate::sizeHint(option, index).height()));
    }

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString text = opt.text;
        opt.text.clear();
        const QWidget *widget = opt.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
        const QRect textRect = style->subElementRect(QStyle::SE_ItemViewItemText, &opt, widget);
        QTextLayout layout(text, opt.font);
        layoutLines(layout, textRect.width());
        painter->save();
        painter->setPen(opt.palette.color(opt.state & QStyle::State_Selected ? QPalette::HighlightedText : QPalette::Text));
        layout.draw(painter, QPointF(textRect.left(), opt.rect.top() + kPad));
        painter->restore();
    }

private:
    double textWidth(const QModelIndex &index) const
    {
        const bool spanned = index.column() == 0 && m_view->isFirstColumnSpanned(index.row(), index.parent());
        double w = (spanned ? m_view->viewport()->width() : m_view->header()->sectionSize(index.column())) - 2 * kPad - 6;
        if (index.column() == 0) {
            int depth = 0;
            for (QModelIndex p = index.parent(); p.isValid(); p = p.parent())
                ++depth;
            w -= m_view->indentation() * (depth + (m_view->rootIsDecorated() ? 1 : 0));
        }
        return std::max(20.0, w);
    }

    QTreeView *m_view;
};

// Keeps the first column (the keys) within 40 % of the width, so that the values keep room.
class KeyColumnLimit : public QObject {
public:
    explicit KeyColumnLimit(QTreeView *view) : QObject(view), m_view(view) { view->viewport()->installEventFilter(this); }
    bool eventFilter(QObject *, QEvent *event) override
    {
        if (event->type() == QEvent::Resize) {
            const int limit = m_view->viewport()->width() * 2 / 5;
            if (m_view->header()->sectionSize(0) > limit)
                m_view->header()->resizeSection(0, std::max(limit, 30));
        }
        return false;
    }

private:
    QTreeView *m_view;
};

} // namespace

void wrapItemTexts(QTreeView *view)
{
    view->setItemDelegate(new WrappingDelegate(view));
    view->setWordWrap(true);
    view->setTextElideMode(Qt::ElideNone);
    view->setUniformRowHeights(false);
    view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // The stretched last column never shrinks below the size it had when stretching began.
    view->header()->setMinimumSectionSize(24);
    view->header()->setStretchLastSection(false);
    if (view->header()->count() > 0)
        view->header()->resizeSection(view->header()->count() - 1, 40);
    view->header()->setStretchLastSection(true);
    view->header()->setSectionResizeMode(0, QHeaderView::Interactive);
    new KeyColumnLimit(view);
    // Row heights follow the columns' widths.
    auto *pending = new QTimer(view);
    pending->setSingleShot(true);
    pending->setInterval(0);
    QObject::connect(pending, &QTimer::timeout, view, [view] { view->doItemsLayout(); });
    QObject::connect(view->header(), &QHeaderView::sectionResized, pending, qOverload<>(&QTimer::start));
    auto *copy = new QShortcut(QKeySequence::Copy, view, nullptr, nullptr, Qt::WidgetShortcut);
    QObject::connect(copy, &QShortcut::activated, view, [view] {
        const QModelIndex i = view->currentIndex();
        if (!i.isValid())
            return;
        const QString value = i.siblingAtColumn(1).data().toString();
        QApplication::clipboard()->setText(value.isEmpty() ? i.siblingAtColumn(0).data().toString() : value);
    });
}

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
#include "graph/graph_minimap.h"

#include <QGraphicsScene>
#include <QGraphicsView>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>

#include <algorithm>

namespace netwright::widgets {

namespace {
constexpr int kMaxSide = 180, kMinSide = 48, kMargin = 10;
}

GraphMinimap::GraphMinimap(QGraphicsView *view) : QWidget(view), m_view(view)
{
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Overview: click or drag to move the view"));
    setAttribute(Qt::WA_OpaquePaintEvent);
    hide();
    connect(view->horizontalScrollBar(), &QScrollBar::valueChanged, this, &GraphMinimap::follow);
    connect(view->verticalScrollBar(), &QScrollBar::valueChanged, this, &GraphMinimap::follow);
    connect(view->horizontalScrollBar(), &QScrollBar::rangeChanged, this, &GraphMinimap::follow);
    connect(view->verticalScrollBar(), &QScrollBar::rangeChanged, this, &GraphMinimap::follow);
}

QRectF GraphMinimap::sceneArea() const
{
    return m_view->scene() ? m_view->scene()->itemsBoundingRect().adjusted(-10, -10, 10, 10) : QRectF();
}

void GraphMinimap::place()
{
    const QRectF area = m_area.isEmpty() ? sceneArea() : m_area;
    if (area.isEmpty())
        return;
    const double s = std::min(kMaxSide / area.width(), kMaxSide / area.height());
    const QSize size(std::max(kMinSide, static_cast<int>(area.width() * s)), std::max(kMinSide, static_cast<int>(area.height() * s)));
    const QRect vp = m_view->viewport()->geometry();
    resize(size);
    move(vp.right() - size.width() - kMargin, vp.bottom() - size.height() - kMargin);
}

void GraphMinimap::refresh()
{
    m_area = sceneArea();
    m_picture = QPixmap();
    if (!m_area.isEmpty()) {
        place();
        QPixmap picture(size() * devicePixelRatioF());
        picture.setDevicePixelRatio(devicePixelRatioF());
        picture.fill(QColor(0xfb, 0xfb, 0xfb));
        QPainter p(&picture);
        p.setRenderHints(QPainter::Antialiasing);
        // The area, centred, at one scale.
        const double s = std::min(width() / m_area.width(), height() / m_area.height());
        const QSizeF drawn(m_area.width() * s, m_area.height() * s);
        m_view->scene()->render(&p, QRectF(QPointF((width() - drawn.width()) / 2, (height() - drawn.height()) / 2), drawn), m_area);
        m_picture = picture;
    }
    follow();
    update();
}

void GraphMinimap::follow()
{
    if (m_area.isEmpty() || !m_view->scene()) {
        hide();
        return;
    }
    const QRectF visible = m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
    const bool fits = visible.contains(m_view->scene()->itemsBoundingRect());
    if (fits) {
        hide();
        return;
    }
    place();
    show();
    raise();
    update();
}

QRectF GraphMinimap::viewportFrame() const
{
    if (m_area.isEmpty())
        return {};
    const double s = std::min(width() / m_area.width(), height() / m_area.height());
    const QPointF origin((width() - m_area.width() * s) / 2, (height() - m_area.height() * s) / 2);
    const QRectF visible = m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
    return QRectF(origin + (visible.topLeft() - m_area.topLeft()) * s, visible.size() * s).intersected(QRectF(QPointF(0, 0), QSizeF(size())));
}

QPointF GraphMinimap::toScene(const QPointF &p) const
{
    const double s = std::min(width() / m_area.width(), height() / m_area.height());
    const QPointF origin((width() - m_area.width() * s) / 2, (height() - m_area.height() * s) / 2);
    return m_area.topLeft() + (p - origin) / s;
}

void GraphMinimap::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), QColor(0xfb, 0xfb, 0xfb));
    if (!m_picture.isNull())
        p.drawPixmap(0, 0, m_picture);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(0xd0, 0x30, 0x20), 1.5));
    p.setBrush(QColor(0xd0, 0x30, 0x20, 30));
    p.drawRect(viewportFrame().adjusted(0.75, 0.75, -0.75, -0.75));
    p.setPen(QColor(0x90, 0x90, 0x90));
    p.setBrush(Qt::NoBrush);
    p.drawRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));
}

void GraphMinimap::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && !m_area.isEmpty())
        m_view->centerOn(toScene(event->position()));
}

void GraphMinimap::mouseMoveEvent(QMouseEvent *event)
{
    if ((event->buttons() & Qt::LeftButton) && !m_area.isEmpty())
        m_view->centerOn(toScene(event->position()));
}

} // namespace netwright::widgets

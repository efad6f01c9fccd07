// SPDX-License-Identifier: Apache-2.0
// The overview of a graph too large for its view: the whole scene in miniature with the visible
// part framed; a click or a drag moves the view there. Floats over the view's bottom-right
// corner and shows itself only while the graph does not fit. Thread affinity: UI thread.
// Layer: widgets.
#pragma once

#include <QPixmap>
#include <QWidget>

class QGraphicsView;

namespace netwright::widgets {

class GraphMinimap : public QWidget {
    Q_OBJECT
public:
    explicit GraphMinimap(QGraphicsView *view);

    // Draws the scene again (after a layout or a change of colours) and places itself.
    void refresh();
    // Shows or hides itself as the view's visible part covers the graph or not; follows scrolls.
    void follow();
    // The visible part of the scene, in this widget's coordinates (for tests).
    QRectF viewportFrame() const;

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;

private:
    QRectF sceneArea() const;
    QPointF toScene(const QPointF &p) const;
    void place();

    QGraphicsView *m_view;
    QPixmap m_picture;
    QRectF m_area; // the scene rectangle the picture shows
};

} // namespace netwright::widgets

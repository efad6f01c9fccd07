// SPDX-License-Identifier: Apache-2.0
#include "graph/graph_view.h"

#include "graph/dot_layout.h"

#include <QApplication>
#include <QContextMenuEvent>
#include <QFontMetricsF>
#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QImage>
#include <QMenu>
#include <QPainter>
#include <QScrollBar>
#include <QStyleOptionGraphicsItem>
#include <QSvgGenerator>
#include <QTimer>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <optional>

namespace netwright::widgets {

namespace {

constexpr int kItemsPerSlice = 150; // items added per event-loop turn
constexpr double kMaxWidth = 220;

QColor colourFor(const VisibleNode &n)
{
    switch (n.kind) {
    case VisibleNode::Kind::Input:
    case VisibleNode::Kind::Output: return QColor(0xe8, 0xe8, 0xe8);
    case VisibleNode::Kind::Scope: return QColor(0xd6, 0xe4, 0xf0);
    case VisibleNode::Kind::Op: break;
    }
    const QString op = QString::fromStdString(n.title).toLower();
    if (op.contains("conv"))
        return QColor(0x9c, 0xc3, 0xe6);
    if (op.contains("matmul") || op.contains("gemm") || op.contains("times") || op.contains("dense"))
        return QColor(0xa9, 0xd1, 0x8e);
    if (op.contains("relu") || op.contains("sigmoid") || op.contains("tanh") || op.contains("clip") || op.contains("softmax"))
        return QColor(0xf4, 0xb1, 0x83);
    if (op.contains("pool") || op.contains("reduce"))
        return QColor(0xc5, 0xe0, 0xb4);
    if (op.contains("norm"))
        return QColor(0xcf, 0xb7, 0xe0);
    if (op.contains("reshape") || op.contains("flatten") || op.contains("transpose") || op.contains("concat") || op.contains("tuple"))
        return QColor(0xe2, 0xd8, 0xb0);
    return QColor(0xf2, 0xf2, 0xf2);
}

} // namespace

QColor heatColour(double heat)
{
    // White (no change) through orange to red (the largest change): one hue ramp, readable in
    // grey print too.
    const double h = std::clamp(heat, 0.0, 1.0);
    return QColor::fromRgbF(1.0, 1.0 - 0.75 * h, 1.0 - 0.95 * std::sqrt(h));
}

// One box of the drawn graph.
class NodeItem : public QGraphicsItem {
public:
    NodeItem(const VisibleNode &node, const QSizeF &size, int index)
        : m_node(node), m_size(size), m_index(index), m_colour(colourFor(node))
    {
        setToolTip(QString::fromStdString(node.kind == VisibleNode::Kind::Scope
                                              ? node.title + " — " + node.subtitle + " (double-click to expand)"
                                              : node.title + " " + node.subtitle));
        setAcceptHoverEvents(false);
    }
    int index() const { return m_index; }
    // A comparison's colour in place of the op colour (nullopt: the op colour again); `note` is
    // appended to the tooltip.
    void setHeat(std::optional<QColor> colour, const QString &note)
    {
        const QString base = QString::fromStdString(m_node.kind == VisibleNode::Kind::Scope
                                                        ? m_node.title + " — " + m_node.subtitle + " (double-click to expand)"
                                                        : m_node.title + " " + m_node.subtitle);
        setToolTip(note.isEmpty() ? base : base + QStringLiteral("\n") + note);
        m_colour = colour ? *colour : colourFor(m_node);
        update();
    }
    void setHighlighted(bool on)
    {
        if (m_highlighted != on) {
            m_highlighted = on;
            update();
        }
    }
    void setCurrent(bool on)
    {
        if (m_current != on) {
            m_current = on;
            update();
        }
    }
    QRectF boundingRect() const override { return QRectF(-m_size.width() / 2 - 3, -m_size.height() / 2 - 3, m_size.width() + 6, m_size.height() + 6); }
    void paint(QPainter *p, const QStyleOptionGraphicsItem *option, QWidget *) override
    {
        const QRectF r(-m_size.width() / 2, -m_size.height() / 2, m_size.width(), m_size.height());
        const double lod = option->levelOfDetailFromTransform(p->worldTransform());
        p->setPen(QPen(m_current ? QColor(0xd0, 0x30, 0x20) : m_highlighted ? QColor(0xe0, 0x90, 0x00) : QColor(0x50, 0x50, 0x50),
                       m_current || m_highlighted ? 2.5 : 0.8));
        p->setBrush(m_highlighted && !m_current ? m_colour.lighter(108) : m_colour);
        if (m_node.kind == VisibleNode::Kind::Scope) {
            p->drawRoundedRect(r, 4, 4);
            p->drawLine(QPointF(r.left() + 4, r.bottom() - 4), QPointF(r.right() - 4, r.bottom() - 4));
        } else if (m_node.kind == VisibleNode::Kind::Op) {
            p->drawRoundedRect(r, 6, 6);
        } else {
            p->drawRoundedRect(r, r.height() / 2, r.height() / 2);
        }
        if (lod < 0.3)
            return; // too small to read: boxes only
        QFont title = p->font();
        title.setBold(true);
        p->setPen(Qt::black);
        p->setFont(title);
        const QFontMetricsF fm(title);
        p->drawText(QRectF(r.left() + 4, r.top() + 2, r.width() - 8, r.height() / 2),
                    Qt::AlignHCenter | Qt::AlignBottom, fm.elidedText(QString::fromStdString(m_node.title), Qt::ElideMiddle, r.width() - 8));
        QFont small = p->font();
        small.setBold(false);
        small.setPointSizeF(small.pointSizeF() * 0.85);
        p->setFont(small);
        p->setPen(QColor(0x30, 0x30, 0x30));
        const QFontMetricsF sm(small);
        p->drawText(QRectF(r.left() + 4, r.center().y(), r.width() - 8, r.height() / 2 - 2), Qt::AlignHCenter | Qt::AlignTop,
                    sm.elidedText(QString::fromStdString(m_node.subtitle), Qt::ElideMiddle, r.width() - 8));
    }

private:
    VisibleNode m_node;
    QSizeF m_size;
    int m_index;
    QColor m_colour;
    bool m_highlighted = false, m_current = false;
};

// An edge: dot's spline, an arrowhead, and the value's shape beside it.
class EdgeItem : public QGraphicsItem {
public:
    EdgeItem(QPainterPath path, QPointF end, QString label) : m_path(std::move(path)), m_end(end), m_label(std::move(label))
    {
        setZValue(-1);
        const QPointF from = m_path.elementCount() > 1 ? m_path.pointAtPercent(0.97) : m_end;
        QLineF dir(from, m_end);
        if (dir.length() > 0.01) {
            dir.setLength(7);
            const QPointF back = m_end - QPointF(dir.dx(), dir.dy());
            const QPointF normal(-dir.dy() * 0.5, dir.dx() * 0.5);
            m_arrow << m_end << back + normal << back - normal;
        }
        m_labelAt = m_path.elementCount() > 1 ? m_path.pointAtPercent(0.5) : m_end;
        m_bounds = m_path.boundingRect().united(m_arrow.boundingRect()).adjusted(-2, -2, 2, 2);
        if (!m_label.isEmpty())
            m_bounds = m_bounds.united(QRectF(m_labelAt.x() + 3, m_labelAt.y() - 8, 8.0 * m_label.size(), 14));
    }
    QRectF boundingRect() const override { return m_bounds; }
    void paint(QPainter *p, const QStyleOptionGraphicsItem *option, QWidget *) override
    {
        p->setPen(QPen(QColor(0x70, 0x70, 0x70), 1.0));
        p->setBrush(Qt::NoBrush);
        p->drawPath(m_path);
        p->setBrush(QColor(0x70, 0x70, 0x70));
        p->drawPolygon(m_arrow);
        if (m_label.isEmpty() || option->levelOfDetailFromTransform(p->worldTransform()) < 0.6)
            return;
        QFont f = p->font();
        f.setPointSizeF(f.pointSizeF() * 0.75);
        p->setFont(f);
        p->setPen(QColor(0x40, 0x40, 0x80));
        p->drawText(m_labelAt + QPointF(4, 4), m_label);
    }

private:
    QPainterPath m_path;
    QPointF m_end, m_labelAt;
    QString m_label;
    QPolygonF m_arrow;
    QRectF m_bounds;
};

GraphView::GraphView(QWidget *parent) : QGraphicsView(parent), m_layout(new DotLayout(this))
{
    setScene(new QGraphicsScene(this));
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    setBackgroundBrush(Qt::white);
    connect(m_layout, &DotLayout::finished, this, &GraphView::onLaidOut);
    connect(m_layout, &DotLayout::failed, this, [this](const QString &message) {
        m_status = message;
        viewport()->update();
        emit layoutFailed(message);
    });
}

GraphView::~GraphView() = default;

void GraphView::setModel(const ModelDescription *model, std::map<std::string, std::string> shapes)
{
    m_model = model;
    m_shapes = std::move(shapes);
    m_expanded.clear();
    m_matches.clear();
    m_current = -1;
    m_selected = -1;
    m_pendingSelection = -1;
    int computing = 0;
    if (model)
        for (const auto &n : model->nodes)
            computing += isValueNode(n) ? 0 : 1;
    m_fold = computing > kFoldThreshold;
    m_fitOnShow = true;
    relayout();
}

void GraphView::cancelLayout()
{
    if (!m_layout->isRunning() && !m_pending)
        return;
    m_layout->cancel();
    m_pending.reset();
    m_status = tr("Layout cancelled. The properties, parameters and search still work.");
    viewport()->update();
    emit layoutFailed(m_status);
}

void GraphView::relayout()
{
    m_layout->cancel();
    m_pending.reset();
    scene()->clear();
    m_items.clear();
    m_laidOut = false;
    if (!m_model) {
        m_visible = {};
        return;
    }
    m_visible = buildVisibleGraph(*m_model, m_shapes, m_expanded, m_fold);
    // Box sizes from the text they show.
    QFont title = font();
    title.setBold(true);
    const QFontMetricsF fm(title), sm(font());
    std::vector<QSizeF> sizes;
    sizes.reserve(m_visible.nodes.size());
    for (const auto &n : m_visible.nodes) {
        const double w = std::max(fm.horizontalAdvance(QString::fromStdString(n.title)), sm.horizontalAdvance(QString::fromStdString(n.subtitle)) * 0.85);
        sizes.emplace_back(std::clamp(w + 20, 70.0, kMaxWidth), n.kind == VisibleNode::Kind::Op || n.kind == VisibleNode::Kind::Scope ? 38.0 : 32.0);
    }
    std::vector<std::pair<int, int>> edges;
    edges.reserve(m_visible.edges.size());
    for (const auto &e : m_visible.edges)
        edges.emplace_back(e.from, e.to);
    m_status = tr("Laying out %n nodes…", nullptr, static_cast<int>(m_visible.nodes.size()));
    viewport()->update();
    emit layoutStarted(static_cast<int>(m_visible.nodes.size()));
    m_itemSizes = std::move(sizes);
    m_layout->start(m_itemSizes, edges);
}

void GraphView::onLaidOut(const GraphLayout &layout)
{
    m_pending = std::make_unique<GraphLayout>(layout);
    m_nextItem = 0;
    scene()->setSceneRect(layout.bounds.adjusted(-20, -20, 20, 20));
    addItemsSlice();
}

void GraphView::addItemsSlice()
{
    if (!m_pending)
        return;
    const size_t nodes = m_visible.nodes.size(), total = nodes + m_visible.edges.size();
    const size_t end = std::min(total, m_nextItem + kItemsPerSlice);
    for (; m_nextItem < end; ++m_nextItem) {
        if (m_nextItem < nodes) {
            auto *item = new NodeItem(m_visible.nodes[m_nextItem], m_itemSizes[m_nextItem], static_cast<int>(m_nextItem));
            applyHeat(item);
            item->setPos(m_pending->centers[m_nextItem]);
            scene()->addItem(item);
            m_items.push_back(item);
        } else {
            const size_t e = m_nextItem - nodes;
            scene()->addItem(new EdgeItem(m_pending->edges[e], m_pending->edgeEnds[e], QString::fromStdString(m_visible.edges[e].label)));
        }
    }
    if (m_nextItem < total) {
        QTimer::singleShot(0, this, &GraphView::addItemsSlice);
        return;
    }
    m_pending.reset();
    m_laidOut = true;
    m_status.clear();
    if (m_fitOnShow) {
        showOverview();
        m_fitOnShow = false;
    }
    applyHighlight();
    if (m_pendingSelection >= 0) {
        const int s = m_pendingSelection;
        m_pendingSelection = -1;
        select(visibleIndexOf(s), s);
    } else if (m_selected >= 0) {
        select(visibleIndexOf(m_selected), m_selected);
    }
    emit layoutFinished();
}

void GraphView::setNodeHeat(std::map<int, NodeHeat> heat)
{
    m_heat = std::move(heat);
    for (NodeItem *item : m_items)
        applyHeat(item);
}

void GraphView::applyHeat(NodeItem *item) const
{
    if (m_heat.empty()) {
        item->setHeat(std::nullopt, {});
        return;
    }
    // A folded scope shows its most-changed member.
    const VisibleNode &n = m_visible.nodes[static_cast<size_t>(item->index())];
    const NodeHeat *best = nullptr;
    auto consider = [&](int modelNode) {
        const auto it = m_heat.find(modelNode);
        if (it != m_heat.end() && (!best || it->second.value > best->value))
            best = &it->second;
    };
    if (n.kind == VisibleNode::Kind::Op)
        consider(n.modelNode);
    for (int m : n.members)
        consider(m);
    if (best)
        item->setHeat(heatColour(best->value), best->note);
    else // no parameters: neutral, so that the shades stand out
        item->setHeat(QColor(0xf4, 0xf4, 0xf4), {});
}

int GraphView::visibleIndexOf(int modelNode) const
{
    for (size_t i = 0; i < m_visible.nodes.size(); ++i) {
        const auto &n = m_visible.nodes[i];
        if (n.modelNode == modelNode && modelNode >= 0)
            return static_cast<int>(i);
        if (std::find(n.members.begin(), n.members.end(), modelNode) != n.members.end())
            return static_cast<int>(i);
    }
    return -1;
}

void GraphView::select(int visibleIndex, int modelNode)
{
    m_selected = modelNode;
    for (auto *item : m_items)
        item->setCurrent(item->index() == visibleIndex);
    if (visibleIndex >= 0 && visibleIndex < static_cast<int>(m_items.size()))
        ensureVisible(m_items[visibleIndex], 60, 60);
    emit nodeSelected(modelNode);
}

void GraphView::selectNode(int modelNode)
{
    if (!m_model || modelNode < 0 || modelNode >= static_cast<int>(m_model->nodes.size()))
        return;
    const int at = visibleIndexOf(modelNode);
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Scope) {
        // Open every scope on the way to the node, then select it once laid out again.
        std::string path;
        for (const auto &part : scopeOf(m_model->nodes[modelNode])) {
            path += (path.empty() ? "" : "/") + part;
            m_expanded.insert(path);
        }
        m_pendingSelection = modelNode;
        relayout();
        return;
    }
    if (!m_laidOut) {
        m_pendingSelection = modelNode;
        return;
    }
    select(at, modelNode);
}

void GraphView::expandScope(const std::string &path)
{
    if (m_expanded.insert(path).second) {
        relayout();
        emit scopeExpanded(QString::fromStdString(path));
    }
}

void GraphView::collapseScope(const std::string &path)
{
    bool changed = false;
    for (auto it = m_expanded.begin(); it != m_expanded.end();) {
        if (*it == path || it->rfind(path + "/", 0) == 0) {
            it = m_expanded.erase(it);
            changed = true;
        } else {
            ++it;
        }
    }
    if (changed) {
        m_fold = true;
        relayout();
    }
}

int GraphView::find(const QString &text)
{
    m_matches.clear();
    m_current = -1;
    if (m_model && !text.isEmpty()) {
        for (size_t i = 0; i < m_model->nodes.size(); ++i) {
            const auto &n = m_model->nodes[i];
            if (isValueNode(n))
                continue;
            if (QString::fromStdString(n.name).contains(text, Qt::CaseInsensitive) || QString::fromStdString(n.opType).contains(text, Qt::CaseInsensitive))
                m_matches.push_back(static_cast<int>(i));
        }
    }
    applyHighlight();
    if (!m_matches.empty()) {
        m_current = 0;
        showMatch();
    }
    return static_cast<int>(m_matches.size());
}

void GraphView::findNext()
{
    if (m_matches.empty())
        return;
    m_current = (m_current + 1) % static_cast<int>(m_matches.size());
    showMatch();
}

void GraphView::findPrevious()
{
    if (m_matches.empty())
        return;
    m_current = (m_current + static_cast<int>(m_matches.size()) - 1) % static_cast<int>(m_matches.size());
    showMatch();
}

void GraphView::showMatch()
{
    selectNode(m_matches[static_cast<size_t>(m_current)]);
}

void GraphView::applyHighlight()
{
    std::set<int> hit;
    for (int m : m_matches)
        hit.insert(visibleIndexOf(m));
    for (auto *item : m_items)
        item->setHighlighted(hit.count(item->index()) != 0);
}

void GraphView::zoomIn()
{
    scale(1.25, 1.25);
}

void GraphView::zoomOut()
{
    scale(0.8, 0.8);
}

void GraphView::fitGraph()
{
    if (!scene() || scene()->itemsBoundingRect().isEmpty())
        return;
    fitInView(scene()->itemsBoundingRect().adjusted(-10, -10, 10, 10), Qt::KeepAspectRatio);
    if (transform().m11() > 1.5)
        setTransform(QTransform::fromScale(1.5, 1.5)); // small graphs: readable, not huge
}

void GraphView::showOverview()
{
    // The whole graph when it stays readable; else the top (the inputs) at a readable size, as
    // Netron opens — Fit to Window (Ctrl+0) shows everything.
    fitGraph();
    if (transform().m11() < kReadableScale) {
        setTransform(QTransform::fromScale(kReadableScale, kReadableScale));
        const QRectF r = scene()->itemsBoundingRect();
        centerOn(QPointF(r.center().x(), r.top() + viewport()->height() / (2 * kReadableScale)));
    }
}

bool GraphView::exportPng(const QString &path, QString *error)
{
    const QRectF r = scene()->itemsBoundingRect().adjusted(-10, -10, 10, 10);
    if (r.isEmpty()) {
        *error = tr("There is no graph to export yet.");
        return false;
    }
    // Two pixels per point, capped so that huge graphs still fit in memory.
    const double s = std::min(2.0, 16000.0 / std::max(r.width(), r.height()));
    QImage image(QSize(static_cast<int>(r.width() * s), static_cast<int>(r.height() * s)), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter p(&image);
    p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    scene()->render(&p, QRectF(QPointF(0, 0), QSizeF(image.size())), r);
    p.end();
    if (!image.save(path, "PNG")) {
        *error = tr("Could not write \"%1\".").arg(path);
        return false;
    }
    return true;
}

bool GraphView::exportSvg(const QString &path, QString *error)
{
    const QRectF r = scene()->itemsBoundingRect().adjusted(-10, -10, 10, 10);
    if (r.isEmpty()) {
        *error = tr("There is no graph to export yet.");
        return false;
    }
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(r.size().toSize());
    svg.setViewBox(QRectF(QPointF(0, 0), r.size()));
    svg.setTitle(m_model ? QString::fromStdString(m_model->formatName) : QString());
    QPainter p;
    if (!p.begin(&svg)) {
        *error = tr("Could not write \"%1\".").arg(path);
        return false;
    }
    scene()->render(&p, QRectF(QPointF(0, 0), r.size()), r);
    p.end();
    return true;
}

int GraphView::visibleIndexAt(const QPoint &viewPos) const
{
    for (QGraphicsItem *item : items(viewPos))
        if (auto *n = dynamic_cast<NodeItem *>(item))
            return n->index();
    return -1;
}

void GraphView::wheelEvent(QWheelEvent *event)
{
    const double steps = event->angleDelta().y() / 120.0;
    const double factor = std::pow(1.2, steps);
    const double current = transform().m11();
    if ((current > 8 && factor > 1) || (current < 0.02 && factor < 1))
        return;
    scale(factor, factor);
}

void GraphView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        const int at = visibleIndexAt(event->pos());
        if (at >= 0) {
            select(at, m_visible.nodes[at].modelNode);
            return; // a click on a box selects; a drag elsewhere pans
        }
        m_emptyPress = event->pos(); // a click here (no drag) deselects, as in Netron
    }
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent *event)
{
    const bool click = event->button() == Qt::LeftButton && m_emptyPress.x() >= 0
                       && (event->pos() - m_emptyPress).manhattanLength() < QApplication::startDragDistance();
    m_emptyPress = QPoint(-1, -1);
    QGraphicsView::mouseReleaseEvent(event);
    if (click)
        select(-1, -1); // also a folded scope drawn as current
}

void GraphView::mouseDoubleClickEvent(QMouseEvent *event)
{
    const int at = visibleIndexAt(event->pos());
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Scope) {
        expandScope(m_visible.nodes[at].title);
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::contextMenuEvent(QContextMenuEvent *event)
{
    const int at = visibleIndexAt(event->pos());
    QMenu menu(this);
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Scope) {
        const std::string path = m_visible.nodes[at].title;
        menu.addAction(tr("Expand %1").arg(QString::fromStdString(path)), this, [this, path] { expandScope(path); });
    } else if (at >= 0 && m_visible.nodes[at].modelNode >= 0) {
        std::string path;
        for (const auto &part : scopeOf(m_model->nodes[m_visible.nodes[at].modelNode])) {
            path += (path.empty() ? "" : "/") + part;
            if (m_expanded.count(path)) {
                menu.addAction(tr("Collapse %1").arg(QString::fromStdString(path)), this, [this, path] { collapseScope(path); });
                break;
            }
        }
    }
    menu.addAction(tr("Fit to Window"), this, &GraphView::fitGraph);
    menu.exec(event->globalPos());
}

void GraphView::resizeEvent(QResizeEvent *event)
{
    QGraphicsView::resizeEvent(event);
    if (m_laidOut && m_fitOnShow) {
        showOverview();
        m_fitOnShow = false;
    }
}

void GraphView::drawBackground(QPainter *painter, const QRectF &rect)
{
    QGraphicsView::drawBackground(painter, rect);
    if (m_status.isEmpty())
        return;
    painter->save();
    painter->resetTransform();
    painter->setPen(QColor(0x60, 0x60, 0x60));
    painter->drawText(viewport()->rect(), Qt::AlignCenter, m_status);
    painter->restore();
}

} // namespace netwright::widgets

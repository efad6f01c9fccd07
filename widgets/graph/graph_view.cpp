// SPDX-License-Identifier: Apache-2.0
#include "graph/graph_view.h"

#include "graph/dot_layout.h"
#include "graph/graph_minimap.h"

#include <QApplication>
#include <QClipboard>
#include <QKeyEvent>
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
constexpr double kMaxWidth = 260;

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

// The fonts and row heights of a box: one place, so that sizes (given to dot) and drawing agree.
struct BoxStyle {
    QFont title, small, label;
    double header = 24, nameRow = 16, row = 16, pad = 8;
    explicit BoxStyle(const QFont &base)
        : title(base), small(base), label(base)
    {
        title.setBold(true);
        small.setPointSizeF(base.pointSizeF() * 0.85);
        label.setPointSizeF(base.pointSizeF() * 0.85);
        const QFontMetricsF tm(title), sm(small);
        header = std::ceil(tm.height() + 8);
        nameRow = std::ceil(sm.height() + 3);
        row = std::ceil(sm.height() + 3);
    }
};

QString rowText(const NodeRow &r)
{
    return QString::fromStdString(r.label) + (r.shape.empty() ? QString() : QStringLiteral(" ⟨%1⟩").arg(QString::fromStdString(r.shape)));
}

// One box of the drawn graph.
class NodeItem : public QGraphicsItem {
public:
    NodeItem(const VisibleNode &node, const QSizeF &size, int index, const BoxStyle &style)
        : m_node(node), m_size(size), m_index(index), m_colour(colourFor(node)), m_style(style)
    {
        setToolTip(baseTip());
        setAcceptHoverEvents(false);
        m_name = shortened();
    }
    int index() const { return m_index; }
    const VisibleNode &node() const { return m_node; }
    QString baseTip() const
    {
        switch (m_node.kind) {
        case VisibleNode::Kind::Scope: return QString::fromStdString(m_node.title + " — " + m_node.subtitle + " (double-click to expand)");
        case VisibleNode::Kind::Subgraph: return QString::fromStdString(m_node.title + " — " + m_node.subtitle + " (double-click to open)");
        default: return QString::fromStdString(m_node.title + " " + m_node.subtitle);
        }
    }
    // The name line as drawn: shortened at the front ("…/layer4/1/conv2").
    QString shortened() const
    {
        const QFontMetricsF sm(m_style.small);
        const double room = m_size.width() - m_style.pad;
        return QString::fromStdString(shortenFront(m_node.subtitle, [&](const std::string &s) { return sm.horizontalAdvance(QString::fromStdString(s)) <= room; }));
    }
    QStringList lines() const
    {
        QStringList out{QString::fromStdString(m_node.title), m_name};
        for (const auto &r : m_node.rows)
            out << rowText(r);
        return out;
    }
    // A comparison's colour in place of the op colour (nullopt: the op colour again); `note` is
    // appended to the tooltip.
    void setHeat(std::optional<QColor> colour, const QString &note)
    {
        setToolTip(note.isEmpty() ? baseTip() : baseTip() + QStringLiteral("\n") + note);
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
        const QPen border(m_current ? QColor(0xd0, 0x30, 0x20) : m_highlighted ? QColor(0xe0, 0x90, 0x00) : QColor(0x50, 0x50, 0x50),
                          m_current || m_highlighted ? 2.5 : 0.8);
        const QColor fill = m_highlighted && !m_current ? m_colour.lighter(108) : m_colour;
        p->setPen(border);
        p->setBrush(fill);
        const bool op = m_node.kind == VisibleNode::Kind::Op;
        if (m_node.kind == VisibleNode::Kind::Scope) {
            p->drawRoundedRect(r, 4, 4);
            p->drawLine(QPointF(r.left() + 4, r.bottom() - 4), QPointF(r.right() - 4, r.bottom() - 4));
        } else if (m_node.kind == VisibleNode::Kind::Subgraph) {
            QPen dashed = border;
            dashed.setStyle(Qt::DashLine);
            p->setPen(dashed);
            p->drawRoundedRect(r, 4, 4);
        } else if (op) {
            // Netron's box: the op in a coloured header, the name and the weights on white below.
            p->setBrush(QColor(0xfd, 0xfd, 0xfd));
            p->drawRoundedRect(r, 5, 5);
            QPainterPath header;
            header.addRoundedRect(QRectF(r.topLeft(), QSizeF(r.width(), m_style.header)), 5, 5);
            QPainterPath square;
            square.addRect(QRectF(r.left(), r.top() + m_style.header / 2, r.width(), m_style.header / 2));
            p->setPen(Qt::NoPen);
            p->setBrush(fill);
            p->drawPath(header.united(square));
            p->setPen(border);
            p->setBrush(Qt::NoBrush);
            p->drawRoundedRect(r, 5, 5);
        } else {
            p->drawRoundedRect(r, r.height() / 2, r.height() / 2);
        }
        if (lod < 0.3)
            return; // too small to read: boxes only
        const QFontMetricsF fm(m_style.title), sm(m_style.small);
        const double inner = r.width() - m_style.pad;
        p->setPen(Qt::black);
        p->setFont(m_style.title);
        if (op) {
            p->drawText(QRectF(r.left() + 4, r.top(), inner, m_style.header), Qt::AlignCenter,
                        fm.elidedText(QString::fromStdString(m_node.title), Qt::ElideRight, inner));
            p->setFont(m_style.small);
            p->setPen(QColor(0x30, 0x30, 0x30));
            double y = r.top() + m_style.header;
            if (!m_name.isEmpty()) {
                p->drawText(QRectF(r.left() + 4, y, inner, m_style.nameRow), Qt::AlignCenter, m_name);
                y += m_style.nameRow;
            }
            for (const auto &row : m_node.rows) {
                QFont bold = m_style.small;
                bold.setBold(true);
                p->setFont(bold);
                const QString label = QString::fromStdString(row.label);
                const double lw = QFontMetricsF(bold).horizontalAdvance(label + QLatin1Char(' '));
                p->drawText(QRectF(r.left() + 6, y, inner, m_style.row), Qt::AlignLeft | Qt::AlignVCenter, label);
                p->setFont(m_style.small);
                if (!row.shape.empty())
                    p->drawText(QRectF(r.left() + 6 + lw, y, inner - lw, m_style.row), Qt::AlignLeft | Qt::AlignVCenter,
                                sm.elidedText(QStringLiteral("⟨%1⟩").arg(QString::fromStdString(row.shape)), Qt::ElideMiddle, inner - lw - 2));
                y += m_style.row;
            }
            return;
        }
        const QString title = m_node.kind == VisibleNode::Kind::Subgraph ? QStringLiteral("▸ ") + QString::fromStdString(m_node.title)
                                                                          : QString::fromStdString(m_node.title);
        p->drawText(QRectF(r.left() + 4, r.top() + 2, inner, r.height() / 2), Qt::AlignHCenter | Qt::AlignBottom, fm.elidedText(title, Qt::ElideRight, inner));
        p->setFont(m_style.small);
        p->setPen(QColor(0x30, 0x30, 0x30));
        p->drawText(QRectF(r.left() + 4, r.center().y(), inner, r.height() / 2 - 2), Qt::AlignHCenter | Qt::AlignTop, m_name);
    }

private:
    VisibleNode m_node;
    QSizeF m_size;
    int m_index;
    QColor m_colour;
    BoxStyle m_style;
    QString m_name;
    bool m_highlighted = false, m_current = false;
};

// An expanded subgraph: a frame around its nodes, its name in a header; a double-click on the
// header folds it.
class ClusterItem : public QGraphicsItem {
public:
    // titleRight: the title at the top-right corner (the side its owner is on), else top-left.
    ClusterItem(const VisibleCluster &c, const QRectF &rect, double header, int depth, const QFont &font, bool titleRight)
        : m_cluster(c), m_rect(rect), m_header(header), m_depth(depth), m_font(font), m_titleRight(titleRight)
    {
        setZValue(-3 + 0.01 * depth);
        setToolTip(QObject::tr("%1 of %2 — %3 nodes (double-click the title to fold)")
                       .arg(QString::fromStdString(c.title), QString::fromStdString(c.owner)).arg(c.nodes));
    }
    const VisibleCluster &cluster() const { return m_cluster; }
    QRectF headerRect() const { return QRectF(m_rect.topLeft(), QSizeF(m_rect.width(), m_header)); }
    QString title() const
    {
        return QStringLiteral("▾ ") + QString::fromStdString(m_cluster.title)
               + (m_cluster.owner.empty() ? QString() : QStringLiteral(" · ") + QString::fromStdString(m_cluster.owner));
    }
    QRectF boundingRect() const override { return m_rect.adjusted(-1, -1, 1, 1); }
    void paint(QPainter *p, const QStyleOptionGraphicsItem *option, QWidget *) override
    {
        const int shade = std::max(0xe6, 0xf6 - 6 * m_depth);
        p->setPen(QPen(QColor(0x7a, 0x8a, 0xa0), 1.0, Qt::DashLine));
        p->setBrush(QColor(shade, shade, 0xfc));
        p->drawRoundedRect(m_rect, 6, 6);
        if (option->levelOfDetailFromTransform(p->worldTransform()) < 0.3)
            return;
        p->setFont(m_font);
        p->setPen(QColor(0x30, 0x40, 0x60));
        const QFontMetricsF fm(m_font);
        p->drawText(headerRect().adjusted(8, 0, -8, 0), (m_titleRight ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter,
                    fm.elidedText(title(), Qt::ElideMiddle, m_rect.width() - 16));
    }

private:
    VisibleCluster m_cluster;
    QRectF m_rect;
    double m_header;
    int m_depth;
    QFont m_font;
    bool m_titleRight;
};

// An edge: dot's spline, an arrowhead, and the value's shape where dot kept room for it; a
// subgraph's tie to its node is dashed and has no arrow.
class EdgeItem : public QGraphicsItem {
public:
    EdgeItem(QPainterPath path, QPointF end, QString label, std::optional<QPointF> labelAt, bool attach, const QFont &font)
        : m_path(std::move(path)), m_end(end), m_label(std::move(label)), m_attach(attach), m_font(font)
    {
        setZValue(-1);
        const QPointF from = m_path.elementCount() > 1 ? m_path.pointAtPercent(0.97) : m_end;
        QLineF dir(from, m_end);
        if (dir.length() > 0.01 && !attach) {
            dir.setLength(7);
            const QPointF back = m_end - QPointF(dir.dx(), dir.dy());
            const QPointF normal(-dir.dy() * 0.5, dir.dx() * 0.5);
            m_arrow << m_end << back + normal << back - normal;
        }
        m_bounds = m_path.boundingRect().united(m_arrow.boundingRect()).adjusted(-2, -2, 2, 2);
        if (!m_label.isEmpty()) {
            const QFontMetricsF fm(m_font);
            const QSizeF size(fm.horizontalAdvance(m_label) + 4, fm.height() + 1);
            const QPointF at = labelAt ? *labelAt : (m_path.elementCount() > 1 ? m_path.pointAtPercent(0.5) : m_end);
            m_labelRect = QRectF(at - QPointF(size.width() / 2, size.height() / 2), size);
            m_bounds = m_bounds.united(m_labelRect);
        }
    }
    QRectF labelRect() const { return m_labelRect; }
    QRectF boundingRect() const override { return m_bounds; }
    void paint(QPainter *p, const QStyleOptionGraphicsItem *option, QWidget *) override
    {
        QPen pen(QColor(0x70, 0x70, 0x70), 1.0);
        if (m_attach)
            pen = QPen(QColor(0x7a, 0x8a, 0xa0), 1.0, Qt::DashLine);
        p->setPen(pen);
        p->setBrush(Qt::NoBrush);
        p->drawPath(m_path);
        p->setBrush(QColor(0x70, 0x70, 0x70));
        p->drawPolygon(m_arrow);
        if (m_label.isEmpty() || option->levelOfDetailFromTransform(p->worldTransform()) < 0.4)
            return;
        p->setPen(Qt::NoPen);
        p->setBrush(QColor(255, 255, 255, 220));
        p->drawRoundedRect(m_labelRect, 2, 2);
        p->setFont(m_font);
        p->setPen(QColor(0x20, 0x20, 0x60));
        p->drawText(m_labelRect, Qt::AlignCenter, m_label);
    }

private:
    QPainterPath m_path;
    QPointF m_end;
    QString m_label;
    bool m_attach;
    QFont m_font;
    QPolygonF m_arrow;
    QRectF m_bounds, m_labelRect;
};

GraphView::GraphView(QWidget *parent) : QGraphicsView(parent), m_layout(new DotLayout(this))
{
    setScene(new QGraphicsScene(this));
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    setBackgroundBrush(Qt::white);
    m_minimap = new GraphMinimap(this);
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
    // Subgraphs open while the whole graph stays small enough to read, else folded to one box each.
    m_collapsedGraphs.clear();
    m_graphParent.clear();
    if (model) {
        std::map<std::string, int> owners;
        for (const auto &[key, owner] : subgraphsOf(*model)) {
            owners[key] = owner;
            if (m_fold)
                m_collapsedGraphs.insert(key);
        }
        for (const auto &[key, owner] : owners) {
            const std::string parent = owner >= 0 ? model->nodes[static_cast<size_t>(owner)].graph : std::string();
            m_graphParent[key] = owners.count(parent) ? parent : std::string();
        }
    }
    m_fitOnShow = true;
    relayout();
}

void GraphView::setShapes(std::map<std::string, std::string> shapes)
{
    if (shapes == m_shapes)
        return;
    m_shapes = std::move(shapes);
    if (m_model)
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
    m_clusterItems.clear();
    m_labelRects.clear();
    m_clusterRects.clear();
    m_selectedVisible = -1;
    m_laidOut = false;
    m_minimap->refresh();
    if (!m_model) {
        m_visible = {};
        return;
    }
    m_visible = buildVisibleGraph(*m_model, m_shapes, m_expanded, m_fold, m_collapsedGraphs);
    // Box sizes from the text they show (BoxStyle: the same fonts the boxes are drawn with).
    const BoxStyle style(font());
    const QFontMetricsF fm(style.title), sm(style.small), lm(style.label);
    std::vector<QSizeF> sizes;
    sizes.reserve(m_visible.nodes.size());
    for (const auto &n : m_visible.nodes) {
        double w = std::max(fm.horizontalAdvance(QString::fromStdString(n.title) + QStringLiteral("▸ ")), sm.horizontalAdvance(QString::fromStdString(n.subtitle)));
        for (const auto &r : n.rows)
            w = std::max(w, sm.horizontalAdvance(rowText(r)) * 1.08 + 4);
        const double width = std::clamp(w + 2 * style.pad, 70.0, kMaxWidth);
        double height = 34;
        if (n.kind == VisibleNode::Kind::Op)
            height = style.header + (n.subtitle.empty() ? 0 : style.nameRow) + style.row * static_cast<double>(n.rows.size()) + (n.rows.empty() ? 0 : 3);
        else if (n.kind == VisibleNode::Kind::Scope || n.kind == VisibleNode::Kind::Subgraph)
            height = 38;
        sizes.emplace_back(width, std::max(height, 24.0));
    }
    std::vector<LayoutEdge> edges;
    edges.reserve(m_visible.edges.size());
    m_labelSizes.clear();
    for (const auto &e : m_visible.edges) {
        const QString label = QString::fromStdString(e.label);
        const QSizeF size = label.isEmpty() ? QSizeF() : QSizeF(lm.horizontalAdvance(label) + 8, lm.height() + 2);
        edges.push_back({e.from, e.to, size});
        m_labelSizes.push_back(size);
    }
    std::vector<int> nodeCluster;
    std::vector<LayoutCluster> clusters;
    for (const auto &n : m_visible.nodes)
        nodeCluster.push_back(n.cluster);
    for (const auto &c : m_visible.clusters)
        clusters.push_back({c.parent, QSizeF(std::min(400.0, fm.horizontalAdvance(QString::fromStdString("▾ " + c.title + " · " + c.owner)) + 16), fm.height() + 6), c.ownerNode});
    m_status = tr("Laying out %n nodes…", nullptr, static_cast<int>(m_visible.nodes.size()));
    viewport()->update();
    emit layoutStarted(static_cast<int>(m_visible.nodes.size()));
    m_itemSizes = std::move(sizes);
    m_layout->start(m_itemSizes, edges, nodeCluster, clusters);
}

void GraphView::onLaidOut(const GraphLayout &layout)
{
    m_pending = std::make_unique<GraphLayout>(layout);
    m_nextItem = 0;
    scene()->setSceneRect(layout.bounds.adjusted(-20, -20, 20, 20));
    // The clusters' frames: around their nodes and inner frames, with the header dot kept room for.
    const QFontMetricsF fm(BoxStyle(font()).title);
    const double header = fm.height() + 6, margin = 8;
    m_clusterRects.assign(m_visible.clusters.size(), QRectF());
    for (size_t i = 0; i < m_visible.nodes.size() && i < layout.centers.size(); ++i) {
        const int c = m_visible.nodes[i].cluster;
        if (c >= 0) {
            const QRectF r(layout.centers[i] - QPointF(m_itemSizes[i].width() / 2, m_itemSizes[i].height() / 2), m_itemSizes[i]);
            m_clusterRects[static_cast<size_t>(c)] = m_clusterRects[static_cast<size_t>(c)].united(r);
        }
    }
    for (size_t c = m_visible.clusters.size(); c-- > 0;) {
        QRectF &r = m_clusterRects[c];
        if (r.isNull())
            continue;
        r.adjust(-margin, -margin - header, margin, margin);
        const int parent = m_visible.clusters[c].parent;
        if (parent >= 0)
            m_clusterRects[static_cast<size_t>(parent)] = m_clusterRects[static_cast<size_t>(parent)].united(r);
    }
    for (size_t c = 0; c < m_visible.clusters.size(); ++c) {
        if (m_clusterRects[c].isNull())
            continue;
        int depth = 0;
        for (int p = m_visible.clusters[c].parent; p >= 0 && depth < 64; p = m_visible.clusters[static_cast<size_t>(p)].parent)
            ++depth;
        const int owner = m_visible.clusters[c].ownerNode;
        const bool titleRight = owner >= 0 && static_cast<size_t>(owner) < layout.centers.size() && layout.centers[static_cast<size_t>(owner)].x() > m_clusterRects[c].center().x();
        auto *item = new ClusterItem(m_visible.clusters[c], m_clusterRects[c], header, depth, BoxStyle(font()).title, titleRight);
        scene()->addItem(item);
        m_clusterItems.push_back(item);
    }
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
            auto *item = new NodeItem(m_visible.nodes[m_nextItem], m_itemSizes[m_nextItem], static_cast<int>(m_nextItem), BoxStyle(font()));
            applyHeat(item);
            item->setPos(m_pending->centers[m_nextItem]);
            scene()->addItem(item);
            m_items.push_back(item);
        } else {
            const size_t e = m_nextItem - nodes;
            const VisibleEdge &edge = m_visible.edges[e];
            std::optional<QPointF> labelAt;
            if (m_pending->hasLabel[e])
                labelAt = m_pending->labelCenters[e];
            auto *item = new EdgeItem(m_pending->edges[e], m_pending->edgeEnds[e], QString::fromStdString(edge.label), labelAt, edge.attach,
                                      BoxStyle(font()).label);
            m_labelRects.push_back(item->labelRect());
            scene()->addItem(item);
        }
    }
    if (m_nextItem < total) {
        QTimer::singleShot(0, this, &GraphView::addItemsSlice);
        return;
    }
    m_pending.reset();
    m_laidOut = true;
    m_status.clear();
    m_minimap->refresh();
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
    if (m_laidOut)
        m_minimap->refresh(); // the overview shows the new colours too
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
    m_selectedVisible = visibleIndex;
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
    int at = visibleIndexOf(modelNode);
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Subgraph) {
        // Open the bodies around the node first (the scopes, if any, on the next pass).
        for (std::string key = m_model->nodes[static_cast<size_t>(modelNode)].graph; m_graphParent.count(key); key = m_graphParent[key])
            m_collapsedGraphs.erase(key);
        m_pendingSelection = modelNode;
        relayout();
        return;
    }
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
    m_minimap->follow();
}

void GraphView::zoomOut()
{
    scale(0.8, 0.8);
    m_minimap->follow();
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
    m_minimap->follow();
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
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Subgraph) {
        expandGraph(m_visible.nodes[at].graph);
        return;
    }
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Op) {
        // An If/Loop/Scan: its bodies open (all folded) or fold (any open).
        std::vector<std::string> bodies;
        bool anyOpen = false;
        const int modelNode = m_visible.nodes[at].modelNode;
        for (const auto &[key, owner] : subgraphsOf(*m_model))
            if (owner == modelNode) {
                bodies.push_back(key);
                anyOpen = anyOpen || !m_collapsedGraphs.count(key);
            }
        if (!bodies.empty()) {
            for (const auto &key : bodies)
                anyOpen ? (void)m_collapsedGraphs.insert(key) : (void)m_collapsedGraphs.erase(key);
            relayout();
            return;
        }
    }
    for (QGraphicsItem *item : items(event->pos()))
        if (auto *c = dynamic_cast<ClusterItem *>(item))
            if (c->headerRect().contains(mapToScene(event->pos()))) {
                collapseGraph(c->cluster().key);
                return;
            }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::contextMenuEvent(QContextMenuEvent *event)
{
    const int at = visibleIndexAt(event->pos());
    QMenu menu(this);
    if (at >= 0 && m_visible.nodes[at].kind != VisibleNode::Kind::Scope && m_visible.nodes[at].kind != VisibleNode::Kind::Subgraph) {
        if (at != m_selectedVisible)
            select(at, m_visible.nodes[at].modelNode);
        menu.addAction(tr("Copy Name"), this, &GraphView::copySelectedName);
        if (m_visible.nodes[at].modelNode >= 0)
            for (const auto &[key, owner] : subgraphsOf(*m_model))
                if (owner == m_visible.nodes[at].modelNode) {
                    const std::string k = key;
                    const QString title = QString::fromStdString(k.substr(k.rfind('.') + 1));
                    if (m_collapsedGraphs.count(k))
                        menu.addAction(tr("Expand %1").arg(title), this, [this, k] { expandGraph(k); });
                    else
                        menu.addAction(tr("Collapse %1").arg(title), this, [this, k] { collapseGraph(k); });
                }
    }
    if (at >= 0 && m_visible.nodes[at].kind == VisibleNode::Kind::Subgraph) {
        const std::string key = m_visible.nodes[at].graph;
        menu.addAction(tr("Expand %1").arg(QString::fromStdString(m_visible.nodes[at].title)), this, [this, key] { expandGraph(key); });
    } else if (at < 0) {
        for (QGraphicsItem *item : items(event->pos()))
            if (auto *c = dynamic_cast<ClusterItem *>(item)) {
                const std::string key = c->cluster().key;
                menu.addAction(tr("Collapse %1").arg(QString::fromStdString(c->cluster().title)), this, [this, key] { collapseGraph(key); });
                break;
            }
    }
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

void GraphView::expandGraph(const std::string &key)
{
    if (m_collapsedGraphs.erase(key))
        relayout();
}

void GraphView::collapseGraph(const std::string &key)
{
    if (m_graphParent.count(key) && m_collapsedGraphs.insert(key).second)
        relayout();
}

QRectF GraphView::clusterRect(const std::string &key) const
{
    const int c = m_visible.clusterIndex(key);
    return c >= 0 && c < static_cast<int>(m_clusterRects.size()) ? m_clusterRects[static_cast<size_t>(c)] : QRectF();
}

QString GraphView::selectedName() const
{
    if (m_selectedVisible < 0 || m_selectedVisible >= static_cast<int>(m_visible.nodes.size()))
        return {};
    const VisibleNode &n = m_visible.nodes[static_cast<size_t>(m_selectedVisible)];
    switch (n.kind) {
    case VisibleNode::Kind::Op:
    case VisibleNode::Kind::Input:
    case VisibleNode::Kind::Output: return QString::fromStdString(n.subtitle);
    default: return {};
    }
}

bool GraphView::copySelectedName()
{
    const QString name = selectedName();
    if (name.isEmpty())
        return false;
    QApplication::clipboard()->setText(name);
    emit nameCopied(name);
    return true;
}

QStringList GraphView::nodeText(int visibleIndex) const
{
    for (const NodeItem *item : m_items)
        if (item->index() == visibleIndex)
            return item->lines();
    return {};
}

QRectF GraphView::edgeLabelRect(int edgeIndex) const
{
    return edgeIndex >= 0 && edgeIndex < static_cast<int>(m_labelRects.size()) ? m_labelRects[static_cast<size_t>(edgeIndex)] : QRectF();
}

QRectF GraphView::nodeRect(int visibleIndex) const
{
    for (const NodeItem *item : m_items)
        if (item->index() == visibleIndex)
            return item->sceneBoundingRect().adjusted(3, 3, -3, -3);
    return {};
}

void GraphView::keyPressEvent(QKeyEvent *event)
{
    if (event->matches(QKeySequence::Copy) && copySelectedName())
        return;
    QGraphicsView::keyPressEvent(event);
}

void GraphView::scrollContentsBy(int dx, int dy)
{
    QGraphicsView::scrollContentsBy(dx, dy);
    m_minimap->follow();
}

void GraphView::resizeEvent(QResizeEvent *event)
{
    QGraphicsView::resizeEvent(event);
    m_minimap->follow();
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

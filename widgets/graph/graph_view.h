// SPDX-License-Identifier: Apache-2.0
// The graph view: a model's nodes laid out by Graphviz dot (in a separate process, see
// dot_layout.h) and drawn in a QGraphicsView as Netron draws them — op type, the name shortened at
// the front and the weights' shapes ("W ⟨64×3×7×7⟩") in each box, the tensor shape on every
// edge (dot keeps room for the labels), If/Loop/Scan bodies as framed clusters under their node
// that fold into one box (double-click); a minimap while the graph does not fit; Ctrl+C or the
// context menu copies the selected node's name; zoom (wheel, keys), pan (drag), fit; search by name or op type with highlight and
// next/previous; a click selects a node (nodeSelected), a click on the empty canvas (not a drag)
// clears the selection (nodeSelected(-1)), a double-click on a folded scope expands
// it (large graphs start folded by name scope), "Collapse" in a node's context menu folds its
// scope again; export as PNG or SVG. Items are added in slices between events so that a graph of
// thousands of nodes never stalls the UI thread. Thread affinity: UI thread. Layer: widgets.
#pragma once

#include "graph/visible_graph.h"

#include <QColor>
#include <QGraphicsView>
#include <QString>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace netwright::widgets {

class DotLayout;
class GraphMinimap;
class ClusterItem;

// A node's shade in a comparison: value in [0, 1] (0 white, 1 the most changed: red) and the
// figures behind it, shown in the node's tooltip.
struct NodeHeat {
    double value = 0;
    QString note;
};
// The colour a shade is drawn in (also for legends and tests).
QColor heatColour(double heat);
struct GraphLayout;
class NodeItem;

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(QWidget *parent = nullptr);
    ~GraphView() override;

    // Shows `model` (which must outlive the view or the next setModel). shapes: value name →
    // shape text for edge labels. Graphs above kFoldThreshold nodes start folded by scope.
    void setModel(const ModelDescription *model, std::map<std::string, std::string> shapes);
    static constexpr int kFoldThreshold = 400;
    // New edge labels (a fuller shape analysis that ended after the first drawing): laid out
    // again, keeping what is expanded, folded and selected, and the zoom.
    void setShapes(std::map<std::string, std::string> shapes);

    const VisibleGraph &visibleGraph() const { return m_visible; }
    bool isLaidOut() const { return m_laidOut; }
    void cancelLayout();

    // Search: the model nodes whose name or op type contains `text` (case-insensitive), in
    // graph order; selects the first. Returns how many matched.
    int find(const QString &text);
    void findNext();
    void findPrevious();
    int matchCount() const { return static_cast<int>(m_matches.size()); }
    int currentMatch() const { return m_current; }

    // The selected model node (-1: none, or a folded scope).
    int selectedNode() const { return m_selected; }
    // Selects a model node by index, expanding the scopes that fold it (after a new layout).
    void selectNode(int modelNode);
    void expandScope(const std::string &path);
    void collapseScope(const std::string &path);
    const std::set<std::string> &expandedScopes() const { return m_expanded; }
    // Subgraphs (If/Loop/Scan bodies) by their graph key: drawn as one box while collapsed.
    // Graphs above kFoldThreshold nodes start with every subgraph collapsed.
    void expandGraph(const std::string &key);
    void collapseGraph(const std::string &key);
    const std::set<std::string> &collapsedGraphs() const { return m_collapsedGraphs; }
    // Where a cluster was drawn, in scene coordinates (empty when it is not drawn).
    QRectF clusterRect(const std::string &key) const;
    // The name of the selected node (a graph input's or output's value name); empty when none.
    QString selectedName() const;
    // Puts selectedName() on the clipboard (Ctrl+C, "Copy Name"); false when nothing is selected.
    bool copySelectedName();
    GraphMinimap *minimap() const { return m_minimap; }
    // What the box of a visible node reads, line by line (op type, shortened name, weight rows).
    QStringList nodeText(int visibleIndex) const;
    // Where an edge's label was drawn, in scene coordinates (empty when it has none).
    QRectF edgeLabelRect(int edgeIndex) const;
    QRectF nodeRect(int visibleIndex) const;

    // Colours op nodes by a shade (model node index → heat), e.g. how far their parameters moved
    // between two checkpoints; nodes without one keep a neutral colour, a folded scope shows its
    // largest member. Empty: the op colours again. Kept across relayouts (expand, collapse).
    void setNodeHeat(std::map<int, NodeHeat> heat);
    const std::map<int, NodeHeat> &nodeHeat() const { return m_heat; }

    void zoomIn();
    void zoomOut();
    void fitGraph();
    void showOverview(); // what a freshly laid-out graph shows
    static constexpr double kReadableScale = 0.75;
    // Writes the whole graph; false with the reason in *error.
    bool exportPng(const QString &path, QString *error);
    bool exportSvg(const QString &path, QString *error);

signals:
    void layoutStarted(int nodes);
    void layoutFinished();
    void layoutFailed(const QString &message);
    void nodeSelected(int modelNode); // -1: none, a graph input or output, or a folded box
    void scopeExpanded(const QString &path);
    void nameCopied(const QString &name); // for the status bar

protected:
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void scrollContentsBy(int dx, int dy) override;
    void drawBackground(QPainter *painter, const QRectF &rect) override;

private:
    void relayout();
    void onLaidOut(const GraphLayout &layout);
    void addItemsSlice();
    void applyHighlight();
    void showMatch();
    void select(int visibleIndex, int modelNode);
    int visibleIndexAt(const QPoint &viewPos) const;
    int visibleIndexOf(int modelNode) const;
    void applyHeat(NodeItem *item) const;

    const ModelDescription *m_model = nullptr;
    std::map<std::string, std::string> m_shapes;
    std::set<std::string> m_expanded;
    bool m_fold = false;
    VisibleGraph m_visible;
    DotLayout *m_layout = nullptr;
    std::unique_ptr<GraphLayout> m_pending; // being turned into items, slice by slice
    size_t m_nextItem = 0;
    std::vector<NodeItem *> m_items;
    std::vector<QSizeF> m_itemSizes;
    std::vector<QSizeF> m_labelSizes;
    std::vector<QRectF> m_labelRects, m_clusterRects;
    std::vector<ClusterItem *> m_clusterItems;
    std::set<std::string> m_collapsedGraphs;
    std::map<std::string, std::string> m_graphParent; // subgraph key → enclosing subgraph key ("" top)
    GraphMinimap *m_minimap = nullptr;
    int m_selectedVisible = -1;
    bool m_laidOut = false, m_fitOnShow = true;
    QString m_status;

    std::vector<int> m_matches; // model node indices
    int m_current = -1;
    int m_selected = -1;
    int m_pendingSelection = -1;
    QPoint m_emptyPress{-1, -1}; // where a left press on the empty canvas began (-1: none)
    std::map<int, NodeHeat> m_heat;
};

} // namespace netwright::widgets

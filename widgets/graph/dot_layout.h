// SPDX-License-Identifier: Apache-2.0
// Graph layout by Graphviz's dot, run as a separate process (`dot -Tplain`) driven by QProcess:
// the UI thread only writes the DOT text and parses the answer, so it never waits, and cancel()
// really stops the work (the process is killed) — which an in-process gvLayout cannot do. A
// newer start() cancels the running one. Thread affinity: the owner's (UI) thread. Layer: widgets.
#pragma once

#include <QObject>
#include <QPainterPath>
#include <QPointF>
#include <QRectF>

#include <utility>
#include <vector>

class QProcess;

namespace netwright::widgets {

struct GraphLayout {
    QRectF bounds;                    // scene coordinates in points, y down
    std::vector<QPointF> centers;     // per node, in the order given to start()
    std::vector<QPainterPath> edges;  // per edge: dot's spline from tail to head
    std::vector<QPointF> edgeEnds;    // per edge: the point the arrow touches
    std::vector<QPointF> labelCenters; // per edge: where dot put its label (room kept free of nodes)
    std::vector<bool> hasLabel;
};

// An edge to lay out: its label's box in points (empty: none), so that dot keeps room for it.
struct LayoutEdge {
    int from = 0, to = 0;
    QSizeF label;
};

// A cluster: drawn by dot as one block around its nodes (nodeCluster says whose) and clusters
// nested in it (parent), with room for a header of `header` points at its top. owner: the node
// the cluster belongs to (an If of its branches; -1: none): the cluster is placed right below it —
// the owner and its clusters form one block, every node of the cluster that has no input inside
// it is ranked below the owner, and the tie from the owner pulls hard.
struct LayoutCluster {
    int parent = -1;
    QSizeF header;
    int owner = -1;
};

class DotLayout : public QObject {
    Q_OBJECT
public:
    explicit DotLayout(QObject *parent = nullptr);
    ~DotLayout() override;

    // sizes: each node's box in points; edges: (from, to) node indices, unique; nodeCluster: per
    // node, its innermost cluster (-1: none; empty: no clusters).
    void start(const std::vector<QSizeF> &sizes, const std::vector<LayoutEdge> &edges, const std::vector<int> &nodeCluster = {},
               const std::vector<LayoutCluster> &clusters = {});
    // The DOT text start() hands to dot (for tests and debugging).
    static QByteArray dotText(const std::vector<QSizeF> &sizes, const std::vector<LayoutEdge> &edges, const std::vector<int> &nodeCluster,
                              const std::vector<LayoutCluster> &clusters);
    void cancel();
    bool isRunning() const;

signals:
    void finished(const netwright::widgets::GraphLayout &layout);
    void failed(const QString &message);

private:
    void onFinished();

    QProcess *m_process = nullptr;
    size_t m_nodes = 0;
    std::vector<std::pair<int, int>> m_edgeList;
};

// Parses `dot -Tplain` output for `nodes` nodes named n0… and the given (unique) edges.
GraphLayout parsePlainLayout(const QByteArray &plain, size_t nodes, const std::vector<std::pair<int, int>> &edges);

} // namespace netwright::widgets

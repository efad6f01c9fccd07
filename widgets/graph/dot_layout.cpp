// SPDX-License-Identifier: Apache-2.0
#include "graph/dot_layout.h"

#include <QProcess>
#include <QStandardPaths>

#include <QtMath>

#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace netwright::widgets {

namespace {

constexpr double kPointsPerInch = 72.0;

// Splits a -Tplain line into tokens; double-quoted tokens keep their spaces.
QList<QByteArray> tokens(const QByteArray &line)
{
    QList<QByteArray> out;
    int i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        if (i >= line.size())
            break;
        int j = i;
        if (line[i] == '"') {
            j = i + 1;
            while (j < line.size() && line[j] != '"')
                j += line[j] == '\\' ? 2 : 1;
            out << line.mid(i + 1, j - i - 1);
            i = j + 1;
        } else {
            while (j < line.size() && line[j] != ' ')
                ++j;
            out << line.mid(i, j - i);
            i = j;
        }
    }
    return out;
}

} // namespace

GraphLayout parsePlainLayout(const QByteArray &plain, size_t nodes, const std::vector<std::pair<int, int>> &edges)
{
    GraphLayout layout;
    layout.centers.assign(nodes, QPointF());
    layout.edges.assign(edges.size(), QPainterPath());
    layout.edgeEnds.assign(edges.size(), QPointF());
    layout.labelCenters.assign(edges.size(), QPointF());
    layout.hasLabel.assign(edges.size(), false);
    // dot lists edges by tail, not in input order: match them by their (unique) end points
    std::map<std::pair<int, int>, size_t> byEnds;
    for (size_t i = 0; i < edges.size(); ++i)
        byEnds.emplace(edges[i], i);
    double height = 0;
    for (const QByteArray &line : plain.split('\n')) {
        const QList<QByteArray> t = tokens(line.trimmed());
        if (t.isEmpty())
            continue;
        if (t[0] == "graph" && t.size() >= 4) {
            height = t[3].toDouble();
            layout.bounds = QRectF(0, 0, t[2].toDouble() * kPointsPerInch, height * kPointsPerInch);
        } else if (t[0] == "node" && t.size() >= 4) {
            const size_t i = t[1].mid(1).toULongLong();
            if (i < nodes)
                layout.centers[i] = QPointF(t[2].toDouble() * kPointsPerInch, (height - t[3].toDouble()) * kPointsPerInch);
        } else if (t[0] == "edge" && t.size() >= 4) {
            const auto found = byEnds.find({t[1].mid(1).toInt(), t[2].mid(1).toInt()});
            if (found == byEnds.end())
                continue;
            const size_t edgeIndex = found->second;
            const int n = t[3].toInt();
            QPainterPath path;
            std::vector<QPointF> p;
            for (int k = 0; k < n && 5 + 2 * k < t.size(); ++k)
                p.emplace_back(t[4 + 2 * k].toDouble() * kPointsPerInch, (height - t[5 + 2 * k].toDouble()) * kPointsPerInch);
            if (!p.empty()) {
                path.moveTo(p[0]);
                for (size_t k = 1; k + 2 < p.size(); k += 3)
                    path.cubicTo(p[k], p[k + 1], p[k + 2]);
                layout.edgeEnds[edgeIndex] = p.back();
            }
            layout.edges[edgeIndex] = path;
            // edge tail head n x1 y1 … xn yn [label xl yl] style color
            if (t.size() >= 4 + 2 * n + 5) {
                const int at = 4 + 2 * n + 1;
                layout.labelCenters[edgeIndex] = QPointF(t[at].toDouble() * kPointsPerInch, (height - t[at + 1].toDouble()) * kPointsPerInch);
                layout.hasLabel[edgeIndex] = true;
            }
        }
    }
    return layout;
}

DotLayout::DotLayout(QObject *parent) : QObject(parent) {}

DotLayout::~DotLayout()
{
    cancel();
}

bool DotLayout::isRunning() const
{
    return m_process != nullptr;
}

void DotLayout::cancel()
{
    if (!m_process)
        return;
    QProcess *p = m_process;
    m_process = nullptr;
    p->disconnect(this);
    p->kill();
    p->waitForFinished(1000);
    p->deleteLater();
}

namespace {

// An HTML-like label that is only a box of a given size: dot keeps exactly that room.
QByteArray boxLabel(const QSizeF &size)
{
    return "<<TABLE BORDER=\"0\" CELLPADDING=\"0\" CELLSPACING=\"0\"><TR><TD FIXEDSIZE=\"TRUE\" WIDTH=\"" + QByteArray::number(qCeil(size.width()))
           + "\" HEIGHT=\"" + QByteArray::number(qCeil(size.height())) + "\"></TD></TR></TABLE>>";
}

} // namespace

QByteArray DotLayout::dotText(const std::vector<QSizeF> &sizes, const std::vector<LayoutEdge> &edges, const std::vector<int> &nodeCluster,
                              const std::vector<LayoutCluster> &clusters)
{
    // newrank: ranks over the whole graph at once, so that an edge into a nested cluster keeps its
    // direction (dot's default ranks each cluster apart and may put a body above its owner).
    QByteArray text = QByteArray("digraph G {\n graph [") + (clusters.empty() ? "" : "newrank=true, ")
                      + "rankdir=TB, nodesep=0.3, ranksep=0.3];\n node [shape=box, fixedsize=true, label=\"\"];\n";
    const int clusterCount = static_cast<int>(clusters.size());
    auto clusterOf = [&](size_t i) {
        const int c = i < nodeCluster.size() ? nodeCluster[i] : -1;
        return c >= 0 && c < clusterCount ? c : -1;
    };
    auto parentOf = [&](int c) { return clusters[static_cast<size_t>(c)].parent >= 0 && clusters[static_cast<size_t>(c)].parent < c ? clusters[static_cast<size_t>(c)].parent : -1; };
    // Whether node i is drawn inside cluster c (directly or in a nested one).
    auto inside = [&](size_t i, int c) {
        int depth = 0;
        for (int k = clusterOf(i); k >= 0 && depth < 64; k = parentOf(k), ++depth)
            if (k == c)
                return true;
        return false;
    };
    // A cluster's owner, when it is drawn beside the cluster (in the cluster's parent).
    auto ownerOf = [&](int c) {
        const int o = clusters[static_cast<size_t>(c)].owner;
        return o >= 0 && static_cast<size_t>(o) < sizes.size() && clusterOf(static_cast<size_t>(o)) == parentOf(c) ? o : -1;
    };
    auto node = [&](size_t i) {
        return " n" + QByteArray::number(qulonglong(i)) + " [width=" + QByteArray::number(sizes[i].width() / kPointsPerInch, 'f', 3)
               + ", height=" + QByteArray::number(sizes[i].height() / kPointsPerInch, 'f', 3) + "];\n";
    };
    // Clusters nest as the DOT text nests them: each written with its nodes, then its children.
    // An owner and the clusters it owns are wrapped in one more, unframed cluster (a block).
    std::vector<std::vector<size_t>> members(clusters.size() + 1);
    std::vector<std::vector<int>> children(clusters.size() + 1), owned(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i)
        members[static_cast<size_t>(clusterOf(i) + 1)].push_back(i);
    for (int c = 0; c < clusterCount; ++c) {
        if (const int o = ownerOf(c); o >= 0)
            owned[static_cast<size_t>(o)].push_back(c);
        else
            children[static_cast<size_t>(parentOf(c) + 1)].push_back(c);
    }
    std::function<void(int)> writeCluster;
    auto writeNode = [&](size_t i) {
        if (owned[i].empty()) {
            text += node(i);
            return;
        }
        text += " subgraph cluster_owner" + QByteArray::number(qulonglong(i)) + " {\n  margin=0; label=\"\"; peripheries=0;\n" + node(i);
        for (int c : owned[i])
            writeCluster(c);
        text += " }\n";
    };
    writeCluster = [&](int c) {
        text += " subgraph cluster_" + QByteArray::number(c) + " {\n  margin=10; labeljust=l; label=" + boxLabel(clusters[static_cast<size_t>(c)].header) + ";\n";
        for (size_t i : members[static_cast<size_t>(c + 1)])
            writeNode(i);
        for (int child : children[static_cast<size_t>(c + 1)])
            writeCluster(child);
        text += " }\n";
    };
    for (size_t i : members[0])
        writeNode(i);
    for (int c : children[0])
        writeCluster(c);
    // The owner's tie into its cluster pulls the cluster under it. (Values of an outer scope
    // still rank the nodes they enter: without that the bodies spread into one flat row.)
    std::set<std::pair<int, int>> present;
    std::vector<bool> fed(sizes.size()); // has an input inside its own cluster
    for (const auto &e : edges) {
        present.emplace(e.from, e.to);
        QByteArray attributes;
        if (!e.label.isEmpty())
            attributes += "label=" + boxLabel(e.label);
        const int target = clusterOf(static_cast<size_t>(e.to));
        if (target >= 0 && inside(static_cast<size_t>(e.from), target))
            fed[static_cast<size_t>(e.to)] = true;
        else if (target >= 0 && ownerOf(target) == e.from)
            attributes += QByteArray(attributes.isEmpty() ? "" : ", ") + "weight=10";
        text += " n" + QByteArray::number(e.from) + " -> n" + QByteArray::number(e.to);
        if (!attributes.isEmpty())
            text += " [" + attributes + "]";
        text += ";\n";
    }
    // Every node of an owned cluster without an input inside it hangs below the owner.
    for (size_t i = 0; i < sizes.size(); ++i) {
        const int c = clusterOf(i);
        if (c < 0 || fed[i])
            continue;
        const int o = ownerOf(c);
        if (o >= 0 && present.emplace(o, static_cast<int>(i)).second)
            text += " n" + QByteArray::number(o) + " -> n" + QByteArray::number(qulonglong(i)) + " [style=invis, weight=10];\n";
    }
    return text + "}\n";
}

void DotLayout::start(const std::vector<QSizeF> &sizes, const std::vector<LayoutEdge> &edges, const std::vector<int> &nodeCluster,
                      const std::vector<LayoutCluster> &clusters)
{
    cancel();
    const QString dot = QStandardPaths::findExecutable(QStringLiteral("dot"));
    if (dot.isEmpty()) {
        emit failed(tr("Graphviz's dot program was not found; install the graphviz package to see the graph laid out."));
        return;
    }
    const QByteArray text = dotText(sizes, edges, nodeCluster, clusters);
    m_edgeList.clear();
    for (const auto &e : edges)
        m_edgeList.emplace_back(e.from, e.to);
    m_nodes = sizes.size();
    m_process = new QProcess(this);
    connect(m_process, &QProcess::finished, this, &DotLayout::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart && m_process) {
            cancel();
            emit failed(tr("Graphviz's dot could not be started."));
        }
    });
    m_process->start(dot, {QStringLiteral("-Tplain")});
    m_process->write(text);
    m_process->closeWriteChannel();
}

void DotLayout::onFinished()
{
    QProcess *p = m_process;
    if (!p)
        return;
    m_process = nullptr;
    p->deleteLater();
    if (p->exitStatus() != QProcess::NormalExit || p->exitCode() != 0) {
        emit failed(tr("Graphviz's dot failed: %1").arg(QString::fromLocal8Bit(p->readAllStandardError()).trimmed()));
        return;
    }
    emit finished(parsePlainLayout(p->readAllStandardOutput(), m_nodes, m_edgeList));
}

} // namespace netwright::widgets

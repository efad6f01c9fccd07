// SPDX-License-Identifier: Apache-2.0
#include "graph/dot_layout.h"

#include <QProcess>
#include <QStandardPaths>

#include <QtMath>

#include <cmath>
#include <functional>
#include <map>

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
    QByteArray text = "digraph G {\n graph [rankdir=TB, nodesep=0.3, ranksep=0.3];\n node [shape=box, fixedsize=true, label=\"\"];\n";
    auto node = [&](size_t i) {
        return " n" + QByteArray::number(qulonglong(i)) + " [width=" + QByteArray::number(sizes[i].width() / kPointsPerInch, 'f', 3)
               + ", height=" + QByteArray::number(sizes[i].height() / kPointsPerInch, 'f', 3) + "];\n";
    };
    // Clusters nest as the DOT text nests them: each written with its nodes, then its children.
    std::vector<std::vector<size_t>> members(clusters.size()), children(clusters.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
        const int c = i < nodeCluster.size() ? nodeCluster[i] : -1;
        if (c >= 0 && c < static_cast<int>(clusters.size()))
            members[static_cast<size_t>(c)].push_back(i);
        else
            text += node(i);
    }
    for (size_t c = 0; c < clusters.size(); ++c)
        if (clusters[c].parent >= 0 && clusters[c].parent < static_cast<int>(c))
            children[static_cast<size_t>(clusters[c].parent)].push_back(c);
    std::function<void(size_t)> writeCluster = [&](size_t c) {
        text += " subgraph cluster_" + QByteArray::number(qulonglong(c)) + " {\n  margin=10; labeljust=l; label=" + boxLabel(clusters[c].header) + ";\n";
        for (size_t i : members[c])
            text += node(i);
        for (size_t child : children[c])
            writeCluster(child);
        text += " }\n";
    };
    for (size_t c = 0; c < clusters.size(); ++c)
        if (clusters[c].parent < 0 || clusters[c].parent >= static_cast<int>(c))
            writeCluster(c);
    for (const auto &e : edges) {
        text += " n" + QByteArray::number(e.from) + " -> n" + QByteArray::number(e.to);
        if (!e.label.isEmpty())
            text += " [label=" + boxLabel(e.label) + "]";
        text += ";\n";
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

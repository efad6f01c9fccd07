// SPDX-License-Identifier: Apache-2.0
// The graph as Netron draws it, checked as a user would look at it (offscreen): a PyTorch
// transformer with a shape on every edge ("batch×10×32", symbolic dimensions by name) in labels
// that cover no box, weights drawn inside their boxes ("B ⟨32⟩"); Silero VAD v5 with its If
// branches as framed clusters under the If node, folded and opened again; the model summary on
// a click on the empty canvas; names shortened at the front; property values wrapped, never cut,
// in a narrow window; ONNX's op documentation for the selected node; Ctrl+C copies a node's name;
// the minimap while the graph does not fit, and a click on it moves the view; the minimap takes
// the nodes' new colours (a comparison's shades); shapes that come later relabel the drawn graph.
// NETWRIGHT_SCREENSHOTS=DIR writes DIR/graph-transformer-shapes.png and
// DIR/graph-silero-if-clusters.png and DIR/graph-view-resnet18.png (the docs').
#include "support/document_support.h"
#include "graph/graph_minimap.h"
#include "graph/graph_view.h"
#include "graph/visible_graph.h"
#include "gui/main_window.h"
#include "gui/model_document.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QProcess>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSplitter>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTreeWidget>

using namespace netwright;
using namespace netwright::gui;

using netwright::test::waitReady;
using netwright::test::isolateSettings;

namespace {

QTreeWidgetItem *section(QTreeWidget *tree, const QString &prefix)
{
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        if (tree->topLevelItem(i)->text(0).startsWith(prefix))
            return tree->topLevelItem(i);
    return nullptr;
}

QString childValue(QTreeWidgetItem *section, const QString &key)
{
    for (int i = 0; section && i < section->childCount(); ++i)
        if (section->child(i)->text(0) == key)
            return section->child(i)->text(1);
    return {};
}

int visibleIndexOfName(const widgets::VisibleGraph &g, const std::string &name)
{
    for (size_t i = 0; i < g.nodes.size(); ++i)
        if (g.nodes[i].kind == widgets::VisibleNode::Kind::Op && g.nodes[i].subtitle == name)
            return static_cast<int>(i);
    return -1;
}

QPoint emptySpot(widgets::GraphView *view)
{
    for (int y = 2; y < view->viewport()->height(); y += 7)
        for (int x = 2; x < view->viewport()->width(); x += 7)
            if (view->items(QPoint(x, y)).isEmpty() && !view->minimap()->geometry().contains(view->viewport()->mapTo(view, QPoint(x, y))))
                return QPoint(x, y);
    return QPoint(-1, -1);
}

void screenshot(QWidget *w, const QString &name)
{
    const QString dir = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
    if (dir.isEmpty())
        return;
    QTest::qWait(300);
    QVERIFY(w->grab().save(dir + "/" + name));
}

} // namespace

class GraphViewGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_transformer;

private slots:
    void initTestCase()
    {
        isolateSettings(m_dir.filePath("settings"));
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/export_torch_models.py", "--opsets", "17",
                                      m_dir.path(), "transformer_encoder", "resnet18"});
        QVERIFY(py.waitForFinished(300000));
        QCOMPARE(py.exitCode(), 0);
        m_transformer = m_dir.filePath("transformer_encoder_17.onnx");
        QVERIFY(QFile::exists(m_transformer));
    }

    void shortenFrontKeepsTheLastParts()
    {
        auto fits = [](size_t n) { return [n](const std::string &s) { return QString::fromStdString(s).size() <= static_cast<int>(n); }; };
        QCOMPARE(widgets::shortenFront("/model/layer4/1/conv2/Conv", fits(40)), std::string("/model/layer4/1/conv2/Conv"));
        QCOMPARE(widgets::shortenFront("/model/layer4/1/conv2/Conv", fits(21)), std::string("…/layer4/1/conv2/Conv"));
        QCOMPARE(widgets::shortenFront("/model/layer4/1/conv2/Conv", fits(12)), std::string("…/conv2/Conv"));
        QCOMPARE(widgets::shortenFront("averyveryverylongname", fits(6)), std::string("…gname"));
    }

    void transformerHasAShapeOnEveryEdge()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(m_transformer);
        QVERIFY(waitReady(doc, 120000));
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        auto *view = doc->graphView();
        const widgets::VisibleGraph &g = view->visibleGraph();
        // Every edge that carries a value is labelled, the input's batch by its name.
        int edges = 0, labelled = 0, named = 0;
        for (size_t e = 0; e < g.edges.size(); ++e) {
            if (g.edges[e].attach)
                continue;
            ++edges;
            labelled += !g.edges[e].label.empty();
            named += QString::fromStdString(g.edges[e].label).startsWith("batch×");
        }
        qInfo("transformer: %d edges, %d labelled, %d with the batch by name", edges, labelled, named);
        QCOMPARE(labelled, edges);
        QVERIFY(named >= 15);
        const int input = g.index("input:input");
        for (const auto &e : g.edges)
            if (e.from == input)
                QCOMPARE(QString::fromStdString(e.label), QStringLiteral("batch×10×32"));
        // The labels are where dot kept room for them: on no box.
        for (size_t e = 0; e < g.edges.size(); ++e) {
            const QRectF label = view->edgeLabelRect(static_cast<int>(e));
            if (label.isEmpty())
                continue;
            for (size_t n = 0; n < g.nodes.size(); ++n)
                QVERIFY2(!label.intersects(view->nodeRect(static_cast<int>(n)).adjusted(1, 1, -1, -1)),
                         qPrintable(QStringLiteral("label %1 covers %2").arg(QString::fromStdString(g.edges[e].label), QString::fromStdString(g.nodes[n].id))));
        }
        // Weights inside their boxes, under ONNX's input names: LayerNormalization's Scale and B.
        bool weightRow = false;
        for (size_t n = 0; n < g.nodes.size(); ++n)
            if (g.nodes[n].title == "LayerNormalization") {
                const QStringList lines = view->nodeText(static_cast<int>(n));
                weightRow = lines.contains(QStringLiteral("Scale ⟨32⟩")) && lines.contains(QStringLiteral("B ⟨32⟩"));
                QVERIFY2(weightRow, qPrintable(lines.join(" | ")));
            }
        QVERIFY(weightRow);
        // Names shortened at the front, as drawn.
        bool shortened = false;
        for (size_t n = 0; n < g.nodes.size(); ++n) {
            const QStringList lines = view->nodeText(static_cast<int>(n));
            if (lines.size() > 1 && lines[1].startsWith(QStringLiteral("…")))
                shortened = QString::fromStdString(g.nodes[n].subtitle).endsWith(lines[1].mid(1));
        }
        Q_UNUSED(shortened); // short names here: the rule is checked in shortenFrontKeepsTheLastParts
        screenshot(&w, "graph-transformer-shapes.png");

        // The model summary on a click on the empty canvas.
        view->find("MatMul");
        QVERIFY(view->selectedNode() >= 0);
        const QPoint empty = emptySpot(view);
        QVERIFY(empty.x() >= 0);
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, empty);
        QCOMPARE(view->selectedNode(), -1);
        QTreeWidget *props = doc->properties();
        QCOMPARE(childValue(section(props, "Inputs"), "input"), QStringLiteral("float32 batch×10×32"));
        QCOMPARE(childValue(section(props, "Outputs"), "output"), QStringLiteral("float32 batch×10×32"));
        QCOMPARE(childValue(section(props, "Parameters"), "values"), QLocale().toString(8452));
        QVERIFY(childValue(section(props, "Parameters"), "bytes").contains(QLocale().toString(33808)));
        QCOMPARE(childValue(section(props, "Operators"), "MatMul"), QStringLiteral("5"));
        QCOMPARE(childValue(section(props, "Operators"), "Unsqueeze"), QStringLiteral("14"));

        // Op documentation for the selected node, from ONNX's schemas.
        view->find("Softmax");
        QCOMPARE(props->topLevelItem(0)->text(0), QStringLiteral("Softmax"));
        QTextBrowser *docs = doc->opDocumentation();
        QVERIFY(docs->isVisible());
        const QString text = docs->toPlainText();
        QVERIFY2(text.contains("Softmax") && text.contains("Inputs") && text.contains("axis") && text.contains("normalized exponential"),
                 qPrintable(text.left(400)));

        // Ctrl+C copies the selected node's name.
        QApplication::clipboard()->clear();
        view->setFocus();
        QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier);
        QCOMPARE(QApplication::clipboard()->text(), QString::fromStdString(doc->model()->nodes[view->selectedNode()].name));
    }

    void laterShapesRelabelTheDrawnGraph()
    {
        // The window draws a graph with the shapes the file states, then relabels it when the
        // engine's analysis ends (GraphView::setShapes): zoom and selection stay.
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(m_transformer);
        QVERIFY(waitReady(doc));
        auto *view = doc->graphView();
        auto labelled = [&] {
            int n = 0;
            for (const auto &e : view->visibleGraph().edges)
                n += e.label.empty() ? 0 : 1;
            return n;
        };
        const int analysed = labelled();
        QVERIFY(analysed > 10);
        const int node = visibleIndexOfName(view->visibleGraph(), view->visibleGraph().nodes[5].subtitle);
        const int modelNode = view->visibleGraph().nodes[static_cast<size_t>(node)].modelNode;
        view->selectNode(modelNode);
        view->setTransform(QTransform::fromScale(0.9, 0.9));
        QSignalSpy laidOut(view, &widgets::GraphView::layoutFinished);
        view->setShapes(widgets::describedShapes(*doc->model()) /* what the file states */);
        QVERIFY(laidOut.wait(60000));
        QVERIFY2(labelled() < analysed, qPrintable(QString("%1 labelled edges of the file's own shapes, %2 analysed").arg(labelled()).arg(analysed)));
        QCOMPARE(view->selectedNode(), modelNode);
        QCOMPARE(view->transform().m11(), 0.9);
    }

    void propertyValuesWrapInANarrowWindow()
    {
        MainWindow w;
        w.resize(700, 700);
        w.show();
        ModelDocument *doc = w.openFile(m_transformer);
        QVERIFY(waitReady(doc, 120000));
        auto *view = doc->graphView();
        view->find("Softmax");
        QTreeWidget *props = doc->properties();
        // Narrow the side panel as a user would drag the splitter.
        auto *splitter = qobject_cast<QSplitter *>(view->parentWidget()->parentWidget());
        QVERIFY(splitter);
        splitter->setSizes({520, 180});
        QTest::qWait(100);
        QTRY_VERIFY2(props->header()->length() <= props->viewport()->width(),
                     qPrintable(QString("columns %1 px in %2 px (header %3, sections %4+%5, vbar %6)").arg(props->header()->length()).arg(props->viewport()->width()).arg(props->header()->width()).arg(props->header()->sectionSize(0)).arg(props->header()->sectionSize(1)).arg(props->verticalScrollBar()->isVisible())));
        QTreeWidgetItem *name = props->topLevelItem(0)->child(0);
        QCOMPARE(name->text(0), QStringLiteral("name"));
        QVERIFY(name->text(1).size() > 5);
        // Not cut: the whole value, in a row as tall as its wrapped lines; nothing off-screen.
        const QRect rect = props->visualItemRect(name);
        const QRect column = QRect(props->header()->sectionPosition(1), rect.top(), props->header()->sectionSize(1), rect.height());
        QVERIFY(column.right() < props->viewport()->width());
        QVERIFY(!props->horizontalScrollBar()->isVisible());
        const double needed = props->fontMetrics().horizontalAdvance(name->text(1));
        if (needed > column.width())
            QVERIFY2(rect.height() >= 2 * props->fontMetrics().height(), qPrintable(QString("row %1 px for %2 px of text in %3 px").arg(rect.height()).arg(needed).arg(column.width())));
        QCOMPARE(name->toolTip(1), name->text(1));
    }

    void minimapShowsNewNodeColours()
    {
        const QString resnet = m_dir.filePath("resnet18_17.onnx");
        QVERIFY(QFile::exists(resnet));
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(resnet);
        QVERIFY(waitReady(doc));
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        auto *view = doc->graphView();
        screenshot(&w, "graph-view-resnet18.png");
        QVERIFY(view->minimap()->isVisible());
        // Red-orange pixels in the overview: only its frame of the visible part before.
        auto reddish = [&] {
            const QImage image = view->minimap()->grab().toImage();
            int count = 0;
            for (int y = 0; y < image.height(); ++y)
                for (int x = 0; x < image.width(); ++x) {
                    const QColor c = image.pixelColor(x, y);
                    count += c.red() > 200 && c.green() < 150 && c.blue() < 100 ? 1 : 0;
                }
            return count;
        };
        const int before = reddish();
        std::map<int, widgets::NodeHeat> heat;
        for (size_t i = 0; i < doc->model()->nodes.size(); ++i)
            if (doc->model()->nodes[i].opType == "Conv")
                heat[static_cast<int>(i)] = {1.0, "moved"};
        QVERIFY(heat.size() >= 15);
        view->setNodeHeat(heat);
        const int after = reddish();
        QVERIFY2(after > before + 40, qPrintable(QString("%1 red pixels before the shades, %2 after").arg(before).arg(after)));
    }

    void sileroIfBranchesAreClusters()
    {
        const QString silero = qEnvironmentVariable("NETWRIGHT_NODE_MODULES") + "/@ricky0123/vad-web/dist/silero_vad_v5.onnx";
        QVERIFY2(QFile::exists(silero), qPrintable(silero + " is missing (packaging/setup.sh test installs it)"));
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(silero);
        QVERIFY(waitReady(doc, 120000));
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        auto *view = doc->graphView();
        const widgets::VisibleGraph g = view->visibleGraph();
        // If_0's two branches are framed clusters (and their own Ifs' branches inside them).
        const int ifNode = visibleIndexOfName(g, "If_0");
        QVERIFY(ifNode >= 0);
        std::vector<const widgets::VisibleCluster *> top;
        for (const auto &c : g.clusters)
            if (c.owner == "If_0")
                top.push_back(&c);
        QCOMPARE(top.size(), size_t(2));
        QStringList titles{QString::fromStdString(top[0]->title), QString::fromStdString(top[1]->title)};
        titles.sort();
        QCOMPARE(titles, QStringList({"else_branch", "then_branch"}));
        QVERIFY(g.clusters.size() > 10);
        const QRectF ifRect = view->nodeRect(ifNode);
        for (const auto *c : top) {
            const QRectF frame = view->clusterRect(c->key);
            QVERIFY(!frame.isEmpty());
            QCOMPARE(c->ownerNode, ifNode);
            QVERIFY2(frame.top() > ifRect.top(), "a branch hangs below its If");
            QVERIFY(!frame.intersects(ifRect));
            // Every node of the branch is inside its frame; no loose column.
            const int self = g.clusterIndex(c->key);
            int inside = 0;
            for (size_t n = 0; n < g.nodes.size(); ++n) {
                int k = g.nodes[n].cluster;
                while (k >= 0 && k != self)
                    k = g.clusters[static_cast<size_t>(k)].parent;
                if (k == self) {
                    QVERIFY(frame.contains(view->nodeRect(static_cast<int>(n))));
                    ++inside;
                }
            }
            QVERIFY(inside > 20);
        }
        // The two frames do not overlap.
        QVERIFY(!view->clusterRect(top[0]->key).intersects(view->clusterRect(top[1]->key)));
        // Every body hangs right below its owner, attached: its frame overlaps the owner's column
        // or stands beside it (a gap of at most about half a box), and starts right under the
        // owner (no more than one rank and an edge label's room lower).
        QStringList detached;
        for (const auto &c : g.clusters) {
            if (c.ownerNode < 0)
                continue;
            const QRectF owner = view->nodeRect(c.ownerNode), frame = view->clusterRect(c.key);
            const double across = std::max({0.0, frame.left() - owner.right(), owner.left() - frame.right()});
            const double below = frame.top() - owner.bottom();
            if (across > 120 || below < 0 || below > 130)
                detached << QString("%1 of %2: %3 pt beside, %4 pt below").arg(QString::fromStdString(c.title), QString::fromStdString(c.owner)).arg(across).arg(below);
        }
        QVERIFY2(detached.isEmpty(), qPrintable(detached.join("; ")));
        // The minimap: shown while the graph does not fit; a click on it moves the view.
        QVERIFY(view->minimap()->isVisible());
        const int before = view->verticalScrollBar()->value();
        const QRectF frameBefore = view->minimap()->viewportFrame();
        QTest::mouseClick(view->minimap(), Qt::LeftButton, {}, QPoint(view->minimap()->width() / 2, view->minimap()->height() - 5));
        QVERIFY(view->verticalScrollBar()->value() > before);
        QVERIFY(view->minimap()->viewportFrame().top() > frameBefore.top());
        // If_0 with both branches' frames and titles hanging from it, at a size that still reads.
        const double scale = 0.45;
        view->setTransform(QTransform::fromScale(scale, scale));
        const QSizeF seen(view->viewport()->width() / scale, view->viewport()->height() / scale);
        view->centerOn(QPointF(ifRect.center().x(), ifRect.top() - 60 + seen.height() / 2));
        screenshot(&w, "graph-silero-if-clusters.png");
        view->fitGraph();
        QTRY_VERIFY(!view->minimap()->isVisible() || view->transform().m11() >= 1.5);

        // Folded: one box per branch, tied to If_0; opened again by a double-click on that box.
        const std::string key = top[0]->key;
        QSignalSpy laidOut(view, &widgets::GraphView::layoutFinished);
        view->collapseGraph(key);
        QVERIFY(laidOut.wait(60000));
        const widgets::VisibleGraph folded = view->visibleGraph();
        const int box = folded.index("graph:" + key);
        QVERIFY(box >= 0);
        QCOMPARE(folded.nodes[static_cast<size_t>(box)].kind, widgets::VisibleNode::Kind::Subgraph);
        QVERIFY(folded.nodes.size() < g.nodes.size());
        bool tied = false;
        for (const auto &e : folded.edges)
            tied = tied || (e.attach && e.to == box && e.from == visibleIndexOfName(folded, "If_0"));
        QVERIFY(tied);
        view->centerOn(view->nodeRect(box).center());
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, view->mapFromScene(view->nodeRect(box).center()));
        QVERIFY(laidOut.wait(60000));
        QVERIFY(view->visibleGraph().clusterIndex(key) >= 0);
        QVERIFY(view->collapsedGraphs().empty());
    }
};

QTEST_MAIN(GraphViewGuiTest)
#include "graph_view_gui_test.moc"

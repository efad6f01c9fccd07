// SPDX-License-Identifier: Apache-2.0
// The Tensor views as a user sees them (offscreen): an N-D tensor as 2-D slices with 0-based
// indices, chosen axes and the slice stated as NumPy writes it; convolution filters as an image
// grid (RGB tiles, per-channel tiles, diverging colours, labels, zoom); the Parameters table
// sorted by every column as numbers, with full precision in every tooltip; a checkpoint opened
// with the -graph.meta beside it, and alone with its parameters filling the tab.
// NETWRIGHT_SCREENSHOTS=DIR writes DIR/tensor-filter-grid.png (the docs').
#include "support/document_support.h"
#include "core/tensor_stats.h"
#include "formats/checkpoint_graph.h"
#include "graph/graph_view.h"
#include "gui/main_window.h"
#include "gui/model_document.h"
#include "gui/parameter_table.h"
#include "tensor/filter_grid_view.h"
#include "tensor/tensor_inspector.h"
#include "tensor/tensor_slice_model.h"
#include "tensor/tensor_slice_view.h"
#include "support/cli_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <cmath>
#include <numeric>

using namespace netwright;
using namespace netwright::gui;

using netwright::test::fixture;
using netwright::test::waitReady;
using netwright::test::isolateSettings;

namespace {

ValueDescription described(const std::string &name, const Tensor &t)
{
    ValueDescription v;
    v.name = name;
    v.dtype = dtypeName(t.dtype());
    v.shape = t.shape();
    v.value = t;
    return v;
}

QString cell(const QTableView *table, int row, int column, int role = Qt::DisplayRole)
{
    return table->model()->index(row, column).data(role).toString();
}

int column(const QTableWidget *table, const QString &header)
{
    for (int c = 0; c < table->columnCount(); ++c)
        if (table->horizontalHeaderItem(c)->text() == header)
            return c;
    return -1;
}

} // namespace

class TensorViewGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        isolateSettings(m_dir.filePath("settings"));
    }

    // The defect: a 4-D tensor was flattened into rows of its last axis, numbered from 1.
    void fourDTensorAsSlices()
    {
        std::vector<float> values(2 * 3 * 4 * 5);
        std::iota(values.begin(), values.end(), 0.0f);
        widgets::TensorInspector inspector;
        inspector.resize(600, 700);
        inspector.show();
        inspector.setValue(described("w", Tensor::fromVector({2, 3, 4, 5}, values)));
        inspector.views()->setCurrentIndex(1);
        QCOMPARE(inspector.views()->tabText(1), QStringLiteral("Values"));
        widgets::TensorSliceView *view = inspector.sliceView();
        QTableView *table = inspector.table();
        // Rows = axis 2, columns = axis 3; axes 0 and 1 at index 0.
        QCOMPARE(view->sliceLabel()->text(), QStringLiteral("w[0, 0, :, :]"));
        QCOMPARE(table->model()->rowCount(), 4);
        QCOMPARE(table->model()->columnCount(), 5);
        QCOMPARE(table->model()->headerData(0, Qt::Vertical).toString(), QStringLiteral("0"));
        QCOMPARE(table->model()->headerData(3, Qt::Vertical).toString(), QStringLiteral("3"));
        QCOMPARE(table->model()->headerData(4, Qt::Horizontal).toString(), QStringLiteral("4"));
        QCOMPARE(cell(table, 1, 2), QStringLiteral("7")); // w[0,0,1,2] = 1*5 + 2
        QCOMPARE(cell(table, 1, 2, Qt::ToolTipRole), QStringLiteral("w[0, 0, 1, 2] = 7"));
        QVERIFY(view->rowAxisBox()->isVisible());
        QCOMPARE(view->rowAxisBox()->currentText(), QStringLiteral("axis 2 (4)"));
        QCOMPARE(view->columnAxisBox()->currentText(), QStringLiteral("axis 3 (5)"));
        // A spin box per other axis, its range that axis's indices.
        QVERIFY(view->indexBox(0) && view->indexBox(1));
        QVERIFY(!view->indexBox(2) && !view->indexBox(3));
        QCOMPARE(view->indexBox(0)->maximum(), 1);
        QCOMPARE(view->indexBox(1)->maximum(), 2);
        view->indexBox(0)->setValue(1);
        view->indexBox(1)->setValue(2);
        QCOMPARE(view->sliceLabel()->text(), QStringLiteral("w[1, 2, :, :]"));
        QCOMPARE(cell(table, 0, 0), QStringLiteral("100")); // 1*60 + 2*20
        QCOMPARE(cell(table, 3, 4), QStringLiteral("119"));
        // Other axes: output channels down, input channels across, at kernel position (1, 3).
        view->rowAxisBox()->setCurrentIndex(0);
        view->columnAxisBox()->setCurrentIndex(1);
        QVERIFY(view->indexBox(2) && view->indexBox(3) && !view->indexBox(0) && !view->indexBox(1));
        view->indexBox(2)->setValue(1);
        view->indexBox(3)->setValue(3);
        QCOMPARE(view->sliceLabel()->text(), QStringLiteral("w[:, :, 1, 3]"));
        QCOMPARE(table->model()->rowCount(), 2);
        QCOMPARE(table->model()->columnCount(), 3);
        QCOMPARE(cell(table, 1, 2), QString::number(60 + 40 + 5 + 3));
        // Rows after columns: the transpose, as NumPy writes it; the same axis twice swaps them.
        view->rowAxisBox()->setCurrentIndex(1);
        QCOMPARE(view->columnAxisBox()->currentIndex(), 0);
        QCOMPARE(view->sliceLabel()->text(), QStringLiteral("w[:, :, 1, 3].T"));
        QCOMPARE(table->model()->rowCount(), 3);
        QCOMPARE(cell(table, 2, 1), QString::number(60 + 40 + 5 + 3));
    }

    void valuesKeepFullPrecisionInTooltips()
    {
        widgets::TensorInspector inspector;
        inspector.setValue(described("b", Tensor::fromVector({3}, {0.1f, -1.0f / 3.0f, 1e-8f})));
        QTableView *table = inspector.table();
        QCOMPARE(inspector.sliceView()->sliceLabel()->text(), QStringLiteral("b[:]"));
        QVERIFY(inspector.sliceView()->rowAxisBox()->isHidden() || !inspector.sliceView()->rowAxisBox()->isVisibleTo(&inspector));
        QCOMPARE(table->model()->rowCount(), 3);
        QCOMPARE(table->model()->columnCount(), 1);
        QCOMPARE(cell(table, 0, 0), QStringLiteral("0.1"));
        QCOMPARE(cell(table, 0, 0, Qt::ToolTipRole), QStringLiteral("b[0] = 0.100000001")); // float's max_digits10 = 9
        const QString third = cell(table, 1, 0, Qt::ToolTipRole).section(" = ", 1);
        QCOMPARE(static_cast<float>(third.toDouble()), -1.0f / 3.0f); // round-trips
        QCOMPARE(widgets::fullPrecisionText(0.1, DType::Float64), QStringLiteral("0.10000000000000001"));
        // Integers print exactly; a scalar is one cell.
        inspector.setValue(described("global_step", Tensor::fromInt64({}, {1875})));
        QCOMPARE(inspector.table()->model()->rowCount(), 1);
        QCOMPARE(cell(inspector.table(), 0, 0), QStringLiteral("1875"));
        QCOMPARE(inspector.sliceView()->sliceLabel()->text(), QStringLiteral("global_step"));
        QVERIFY(!inspector.views()->isTabEnabled(2)); // no filters in a scalar
    }

    void convolutionFiltersAsAGrid()
    {
        // [4,3,2,2]: zeros but w[1,0,0,0] = 1 and w[1,2,1,1] = -0.5.
        std::vector<float> values(4 * 3 * 2 * 2, 0.0f);
        values[((1 * 3 + 0) * 2 + 0) * 2 + 0] = 1.0f;
        values[((1 * 3 + 2) * 2 + 1) * 2 + 1] = -0.5f;
        widgets::TensorInspector inspector;
        inspector.resize(700, 800);
        inspector.show();
        inspector.setValue(described("conv.weight", Tensor::fromVector({4, 3, 2, 2}, values)));
        QVERIFY(inspector.views()->isTabEnabled(2));
        QCOMPARE(inspector.views()->tabText(2), QStringLiteral("Filters"));
        inspector.showFilters();
        QCOMPARE(inspector.views()->currentIndex(), 2);
        widgets::FilterGridView *grid = inspector.filterGrid();
        QVERIFY(grid->isVisible());
        // Three input channels: one RGB tile per output channel, labelled with its index.
        QVERIFY(grid->rgbAvailable() && grid->rgb() && grid->rgbBox()->isChecked());
        QCOMPARE(grid->tileCount(), 4);
        QCOMPARE(grid->tileLabel(3), QStringLiteral("3"));
        QCOMPARE(grid->scale(), 1.0);
        QCOMPARE(grid->scaleText(), QStringLiteral("−1 … 0 … +1"));
        QImage shot = grid->canvas()->grab().toImage();
        const int z = grid->zoom();
        QVERIFY(z >= 8);
        QCOMPARE(grid->tileRect(0).size(), QSize(2 * z, 2 * z));
        auto pixel = [&](int tile, int y, int x) { return QColor(shot.pixel(grid->tileRect(tile).topLeft() + QPoint(x * z + z / 2, y * z + z / 2))); };
        QCOMPARE(pixel(1, 0, 0), QColor(255, 128, 128)); // red channel at +max, green and blue at 0
        QCOMPARE(pixel(1, 1, 1), QColor(128, 128, 64));  // blue channel at -max/2
        QCOMPARE(pixel(0, 0, 0), QColor(128, 128, 128)); // all zero: grey
        // Per input channel: a row of tiles per output channel, a diverging map over the grid.
        grid->rgbBox()->setChecked(false);
        QVERIFY(!grid->rgb());
        QCOMPARE(grid->tileCount(), 12);
        QCOMPARE(grid->tileLabel(5), QStringLiteral("o1 i2"));
        shot = grid->canvas()->grab().toImage();
        QCOMPARE(pixel(3, 0, 0), QColor(103, 0, 31));    // w[1,0,0,0] = +max: dark red
        QCOMPARE(pixel(5, 1, 1), QColor(67, 147, 195));  // w[1,2,1,1] = -max/2: blue
        QCOMPARE(pixel(0, 0, 0), QColor(247, 247, 247)); // 0: white
        QVERIFY(grid->tileRect(3).top() > grid->tileRect(2).bottom()); // o1 below o0
        QCOMPARE(grid->tileRect(4).top(), grid->tileRect(3).top());    // o1 i1 beside o1 i0
        // Zoom: the tiles grow, the canvas with them.
        const QSize before = grid->canvas()->size();
        grid->zoomIn();
        QVERIFY(grid->zoom() > z);
        QCOMPARE(grid->tileRect(0).width(), 2 * grid->zoom());
        QVERIFY(grid->canvas()->width() > before.width());
        // The choice stays for the next filter bank; a 3-D weight: one I×K tile per output channel.
        inspector.setValue(described("conv1d.weight", Tensor::fromVector({2, 3, 4}, std::vector<float>(24, 0.5f))));
        QCOMPARE(inspector.views()->currentIndex(), 2);
        QCOMPARE(grid->tileCount(), 2);
        QCOMPARE(grid->tileRect(0).size(), QSize(4 * grid->zoom(), 3 * grid->zoom()));
        QVERIFY(!grid->rgbBox()->isEnabled());
        // A matrix is no filter bank: the tab is disabled and the values show.
        inspector.setValue(described("fc.weight", Tensor::fromVector({2, 3}, std::vector<float>(6, 1.0f))));
        QVERIFY(!inspector.views()->isTabEnabled(2));
        QCOMPARE(inspector.views()->currentIndex(), 1);
        // Many output channels: the first 256 shown, and said.
        inspector.setValue(described("big", Tensor::fromVector({300, 2, 1, 1}, std::vector<float>(600, 1.0f))));
        QCOMPARE(grid->tileCount(), 256 * 2);
        QCOMPARE(grid->noteText(), QStringLiteral("Showing the first 256 of 300 output channels."));
    }

    // The defect (seen under Xvfb on resnet18's conv1, 64 RGB filters): the Filters tab opened
    // after the tensor was chosen on another tab drew one tile a row down a single column — the
    // grid took the width of its viewport before that was laid out, and never again.
    void filterGridFillsTheWidthWhenItsTabOpens()
    {
        widgets::TensorInspector inspector;
        inspector.resize(600, 800);
        inspector.show();
        QVERIFY(QTest::qWaitForWindowExposed(&inspector));
        inspector.setValue(described("conv1.weight", Tensor::fromVector({64, 3, 7, 7}, std::vector<float>(64 * 3 * 49, 0.5f))));
        inspector.views()->setCurrentIndex(1); // Values first, as a user looks at them
        QTest::qWait(50);
        inspector.views()->setCurrentIndex(2); // then Filters
        widgets::FilterGridView *grid = inspector.filterGrid();
        QTRY_VERIFY(grid->isVisible());
        QTest::qWait(50);
        QCOMPARE(grid->tileCount(), 64);
        // 7×7 tiles at the default zoom in a 600 px wide inspector: several a row, not one.
        QCOMPARE(grid->tileRect(1).top(), grid->tileRect(0).top());
        QVERIFY(grid->tileRect(3).top() == grid->tileRect(0).top());
        QVERIFY2(grid->canvas()->width() <= grid->width(), qPrintable(QString::number(grid->canvas()->width())));
    }

    void parametersSortAsNumbers()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(fixture("mindspore-ckpt/mindarmour_checkpoint_lenet-10_1875.ckpt"));
        QVERIFY(waitReady(doc));
        QVERIFY(doc->isLoaded());
        auto *table = static_cast<ParameterTable *>(doc->parameterTable());
        const ModelDescription &m = *doc->model();
        QCOMPARE(table->rowCount(), static_cast<int>(m.parameters.size()));
        // File order until a header is clicked.
        for (int r = 0; r < table->rowCount(); ++r)
            QCOMPARE(table->nameAt(r), QString::fromStdString(m.parameters[static_cast<size_t>(r)].name));
        const QStringList headers = {"Name", "Type", "Shape", "Elements", "Bytes", "Min", "Max", "Mean", "Std", "Value"};
        for (const QString &h : headers)
            QVERIFY2(column(table, h) >= 0, qPrintable(h));
        QVERIFY(table->isSortingEnabled());
        // Every column sorts; the numeric ones as numbers (48,000 after 150, -0.2 before -0.1).
        for (const QString &h : headers) {
            const int c = column(table, h);
            for (Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
                QTest::mouseClick(table->horizontalHeader()->viewport(), Qt::LeftButton, {},
                                  QPoint(table->horizontalHeader()->sectionViewportPosition(c) + 5, table->horizontalHeader()->height() / 2));
                QCOMPARE(table->horizontalHeader()->sortIndicatorSection(), c);
                QCOMPARE(table->horizontalHeader()->sortIndicatorOrder(), order);
                if (h == "Name" || h == "Type" || h == "Value")
                    continue;
                // The tooltip holds the exact number (the cell text is rounded and grouped).
                double previous = order == Qt::AscendingOrder ? -INFINITY : INFINITY;
                for (int r = 0; r < table->rowCount(); ++r) {
                    const QTableWidgetItem *item = table->item(r, h == "Shape" ? column(table, "Elements") : c);
                    if (item->toolTip().isEmpty())
                        continue;
                    const double v = item->toolTip().section(' ', 0, 0).toDouble();
                    QVERIFY2(order == Qt::AscendingOrder ? v >= previous : v <= previous,
                             qPrintable(QString("%1 %2: row %3 has %4 after %5").arg(h).arg(order).arg(r).arg(v).arg(previous)));
                    previous = v;
                }
            }
        }
        // Every filled cell has a tooltip with the value in full: conv1.weight's statistics.
        int row = -1;
        for (int r = 0; r < table->rowCount(); ++r)
            if (table->nameAt(r) == "conv1.weight")
                row = r;
        QVERIFY(row >= 0);
        for (int c = 0; c < table->columnCount(); ++c) {
            const QTableWidgetItem *item = table->item(row, c);
            QVERIFY2(item->text().isEmpty() || !item->toolTip().isEmpty(), qPrintable(table->horizontalHeaderItem(c)->text()));
        }
        const ValueDescription *p = nullptr;
        for (const auto &v : m.parameters)
            if (v.name == "conv1.weight")
                p = &v;
        const TensorStats s = computeStats(*p->value);
        QCOMPARE(table->item(row, column(table, "Mean"))->toolTip(), QString::number(s.mean, 'g', 17));
        QCOMPARE(table->item(row, column(table, "Std"))->toolTip(), QString::number(s.std, 'g', 17));
        QCOMPARE(static_cast<float>(table->item(row, column(table, "Min"))->toolTip().toDouble()), static_cast<float>(s.min));
        QCOMPARE(table->item(row, column(table, "Max"))->toolTip(), QString::number(s.max, 'g', 9));
        QCOMPARE(table->item(row, column(table, "Elements"))->text(), QStringLiteral("150"));
        QCOMPARE(table->item(row, column(table, "Bytes"))->toolTip(), QStringLiteral("600 bytes"));
        // Selecting a row after sorting inspects that row's parameter.
        table->selectRow(row);
        QCOMPARE(doc->tensorInspector()->value()->name, std::string("conv1.weight"));
    }

    void checkpointAloneFillsTheTab()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(fixture("mindspore-ckpt/mindarmour_checkpoint_lenet-10_1875.ckpt"));
        QVERIFY(waitReady(doc));
        QVERIFY(doc->model()->nodes.empty());
        QTest::qWait(50);
        // No blank canvas: the parameters take its place, the tensor inspector beside them.
        QVERIFY(!doc->graphView()->isVisible());
        QTableWidget *table = doc->parameterTable();
        QVERIFY(table->isVisible());
        QVERIFY2(table->width() > doc->width() / 2, qPrintable(QString("%1 of %2").arg(table->width()).arg(doc->width())));
        // The side panel no longer repeats the list as a tab.
        auto *side = qobject_cast<QTabWidget *>(doc->tensorInspector()->parentWidget()->parentWidget());
        QVERIFY(side);
        for (int i = 0; i < side->count(); ++i)
            QVERIFY(side->tabText(i) != "Parameters");
        QCOMPARE(side->currentWidget(), doc->tensorInspector());
        QVERIFY(doc->tensorInspector()->isVisible());
        table->selectRow(0);
        QVERIFY(doc->tensorInspector()->value().has_value());
        QVERIFY(table->isVisible()); // the list stays in view while a tensor is inspected
    }

    void checkpointOpensWithItsGraphMeta()
    {
        // MindSpore's ModelCheckpoint names: <prefix>-<epoch>_<step>.ckpt beside <prefix>-graph.meta.
        QTemporaryDir run;
        QVERIFY(QFile::copy(fixture("mindspore-ckpt/mindarmour_checkpoint_lenet-10_1875.ckpt"), run.filePath("checkpoint_lenet-10_1875.ckpt")));
        QVERIFY(QFile::copy(fixture("mindspore-graph-meta/nolzhou_LeNet_checkpoint_lenet-graph.meta"), run.filePath("checkpoint_lenet-graph.meta")));
        QCOMPARE(QString::fromStdString(graphMetaBeside(run.filePath("checkpoint_lenet-10_1875.ckpt").toStdString())), run.filePath("checkpoint_lenet-graph.meta"));
        QVERIFY(graphMetaBeside(fixture("mindspore-ckpt/mindarmour_checkpoint_lenet-10_1875.ckpt").toStdString()).empty());
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(run.filePath("checkpoint_lenet-10_1875.ckpt"));
        QVERIFY(waitReady(doc));
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        const ModelDescription &m = *doc->model();
        QCOMPARE(m.nodes.size(), size_t(74)); // the dump's graph
        QCOMPARE(m.format, std::string("mindspore-ckpt"));
        QVERIFY(doc->graphView()->isVisible());
        QCOMPARE(doc->parameterTable()->rowCount(), 18); // the checkpoint's parameters, with values
        QVERIFY(doc->inspectParameter("conv1.weight"));
        QVERIFY(doc->tensorInspector()->value()->value.has_value());
        // The file's properties name the graph dump.
        QTreeWidget *props = doc->properties();
        bool named = false;
        for (int i = 0; i < props->topLevelItem(0)->childCount(); ++i)
            named |= props->topLevelItem(0)->child(i)->text(0) == "graph" && props->topLevelItem(0)->child(i)->text(1) == "checkpoint_lenet-graph.meta";
        QVERIFY(named);
        // Our own runs' names: cnn-small-3_63.ckpt → cnn-small-graph.meta; -last and a plain name too.
        QFile::copy(fixture("mindspore-graph-meta/nolzhou_LeNet_checkpoint_lenet-graph.meta"), run.filePath("cnn-small-graph.meta"));
        QCOMPARE(QString::fromStdString(graphMetaBeside(run.filePath("cnn-small-3_63.ckpt").toStdString())), run.filePath("cnn-small-graph.meta"));
        QCOMPARE(QString::fromStdString(graphMetaBeside(run.filePath("cnn-small-last.ckpt").toStdString())), run.filePath("cnn-small-graph.meta"));
        QCOMPARE(QString::fromStdString(graphMetaBeside(run.filePath("cnn-small.ckpt").toStdString())), run.filePath("cnn-small-graph.meta"));
        QVERIFY(graphMetaBeside(run.filePath("cnn-3_63.ckpt").toStdString()).empty());
    }

    // Our own runs write <prefix>-graph.meta beside their checkpoints as MindSpore does.
    void ourRunsCheckpointOpensWithItsGraph()
    {
        const QString data = test::fashionMnistSlice(m_dir.path(), 256, 64);
        QVERIFY(!data.isEmpty());
        QFile f(m_dir.filePath("cnn.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"model": {"name": "cnn-small"}, %1, "training": {"epochs": 1, "batch_size": 64, "threads": 1}})").arg(data).toUtf8());
        f.close();
        const QString run = m_dir.filePath("cnn-run");
        const test::RunResult trained = test::runNetwright({"train", "--config", m_dir.filePath("cnn.json"), "--out", run});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        const QStringList ckpts = QDir(run).entryList({"*.ckpt"}, QDir::Files, QDir::Name);
        QVERIFY(!ckpts.isEmpty());
        QVERIFY(!QDir(run).entryList({"*-graph.meta"}, QDir::Files).isEmpty());
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(run + "/" + ckpts.last());
        QVERIFY(waitReady(doc));
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        QVERIFY(!doc->model()->nodes.empty());
        QVERIFY(doc->graphView()->isVisible());
        // The graph's convolution weight is the checkpoint's, with its values: a filter grid.
        QString conv;
        for (const auto &p : doc->model()->parameters)
            if (p.value && p.value->rank() == 4 && conv.isEmpty())
                conv = QString::fromStdString(p.name);
        QVERIFY(!conv.isEmpty());
        bool usedByANode = false;
        for (const auto &n : doc->model()->nodes)
            for (const auto &in : n.inputs)
                usedByANode |= QString::fromStdString(in) == conv;
        QVERIFY2(usedByANode, qPrintable(conv));
        QVERIFY(doc->inspectParameter(conv));
        QVERIFY(doc->tensorInspector()->views()->isTabEnabled(2));
    }

    // A real trained first layer: CNTK's CIFAR-10 ConvNet, 64 RGB filters of 3×3.
    void screenshotOfAFilterGrid()
    {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        ModelDocument *doc = w.openFile(fixture("cntk-v2/cntk_ConvNet_CIFAR10_DataAug_1.dnn"));
        QVERIFY(waitReady(doc, 120000));
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        QString conv1;
        for (const auto &p : doc->model()->parameters)
            if (p.value && p.value->rank() == 4 && p.value->dim(1) == 3)
                conv1 = QString::fromStdString(p.name);
        QVERIFY(!conv1.isEmpty());
        QVERIFY(doc->inspectParameter(conv1));
        widgets::TensorInspector *inspector = doc->tensorInspector();
        inspector->showFilters();
        widgets::FilterGridView *grid = inspector->filterGrid();
        QCOMPARE(grid->tileCount(), 64);
        QVERIFY(grid->rgb());
        QCOMPARE(grid->tileLabel(63), QStringLiteral("63"));
        if (auto *split = qobject_cast<QSplitter *>(inspector->parentWidget()->parentWidget()->parentWidget()))
            split->setSizes({700, 700});
        QTest::qWait(200);
        QVERIFY(grid->isVisible());
        // Every tile within the visible viewport at this size.
        QVERIFY(grid->canvas()->visibleRegion().boundingRect().contains(grid->tileRect(63)));
        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty())
            QVERIFY(w.grab().save(shots + "/tensor-filter-grid.png"));
    }
};

QTEST_MAIN(TensorViewGuiTest)
#include "tensor_view_gui_test.moc"

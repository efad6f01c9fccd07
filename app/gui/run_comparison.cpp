// SPDX-License-Identifier: Apache-2.0
#include "gui/run_comparison.h"

#include "gui/metric_text.h"

#include "core/error.h"
#include "run/run_directory.h"
#include "run/run_summary.h"
#include "run/tensorboard_log.h"
#include "training/training_curves.h"

#include <QColorDialog>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace netwright::gui {

namespace {

// Tableau 10 (matplotlib's default cycle): ten colours told apart by most readers.
constexpr QRgb kPalette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

QString valueText(const std::string &json)
{
    const QJsonValue v = QJsonDocument::fromJson(QByteArray("[") + QByteArray::fromStdString(json) + "]").array().first();
    if (v.isString())
        return v.toString();
    return QString::fromStdString(json);
}

QStandardItem *cell(const QString &text, const QVariant &sortValue)
{
    auto *item = new QStandardItem(text);
    item->setEditable(false);
    item->setData(sortValue, RunComparison::kSortRole);
    return item;
}

QStandardItem *numberCell(const QString &text, std::optional<double> v)
{
    QStandardItem *item = cell(text, v && std::isfinite(*v) ? QVariant(*v) : QVariant(-1e300));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

// Sorts numbers as numbers; the filter matches any column's text.
class RunsProxy : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    bool lessThan(const QModelIndex &a, const QModelIndex &b) const override
    {
        const QVariant x = a.data(RunComparison::kSortRole), y = b.data(RunComparison::kSortRole);
        if (x.typeId() == QMetaType::Double && y.typeId() == QMetaType::Double)
            return x.toDouble() < y.toDouble();
        return QString::localeAwareCompare(x.toString(), y.toString()) < 0;
    }
};

} // namespace

QColor RunComparison::paletteColor(int i)
{
    const int n = static_cast<int>(std::size(kPalette));
    QColor c = QColor::fromRgb(kPalette[i % n]);
    return i < n ? c : c.darker(100 + 40 * (i / n));
}

RunComparison::RunComparison(QWidget *parent)
    : QWidget(parent), m_curves(new widgets::TrainingCurves(this)), m_filter(new QLineEdit(this)), m_table(new QTableView(this)),
      m_model(new QStandardItemModel(this)), m_proxy(new RunsProxy(this)), m_message(new QLabel(this))
{
    auto *layout = new QVBoxLayout(this);
    m_message->setObjectName(QStringLiteral("comparisonMessage"));
    m_message->setWordWrap(true);
    m_message->hide();
    layout->addWidget(m_message);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_curves);
    auto *below = new QWidget(split);
    auto *tableLayout = new QVBoxLayout(below);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    m_filter->setObjectName(QStringLiteral("runFilter"));
    m_filter->setPlaceholderText(tr("Filter runs (any column: name, model, a value…)"));
    m_filter->setClearButtonEnabled(true);
    tableLayout->addWidget(m_filter);
    tableLayout->addWidget(m_table);
    split->addWidget(below);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setToolTip(tr("Untick a run to hide its curves; double-click its colour swatch to change the colour, its row to open the run"));
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_model, &QStandardItemModel::itemChanged, this, [this](QStandardItem *item) {
        if (m_updating || item->column() != 0)
            return;
        m_curves->setRunVisible(item->row(), item->checkState() == Qt::Checked);
    });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        const int run = m_proxy->mapToSource(index).row();
        if (index.column() == 0)
            chooseColor(run);
        else
            emit openRunRequested(m_dirs.value(run));
    });
}

int RunComparison::setRuns(const QStringList &runDirectories)
{
    m_updating = true;
    m_curves->clear();
    m_model->clear();
    m_dirs.clear();
    QStringList problems;
    std::vector<run::RunSummary> runs;
    std::vector<run::FlatConfig> configs;
    std::vector<std::vector<MetricsRecord>> logs;
    std::vector<widgets::TrainingCurves::StepWallTimes> wallTimes;
    for (const QString &dir : runDirectories) {
        try {
            run::RunSummary s = run::summarizeRun(dir.toStdString());
            check(s.hasConfig, "\"" + dir.toStdString() + "\": its config.json does not read as a run config.");
            logs.push_back(RunDirectory(dir.toStdString()).metrics().records);
            wallTimes.push_back(TensorBoardLog::stepWallTimes(dir.toStdString())); // metrics.jsonl keeps no clock
            configs.push_back(run::flatRunConfig(s.config));
            runs.push_back(std::move(s));
            m_dirs << dir;
        } catch (const Error &e) {
            problems << QString::fromUtf8(e.what());
        }
    }
    m_message->setText(problems.isEmpty() ? QString() : tr("Left out: %1").arg(problems.join(QLatin1Char(' '))));
    m_message->setVisible(!problems.isEmpty());
    if (runs.empty()) {
        m_updating = false;
        return 0;
    }
    const std::vector<std::string> differing = run::differingKeys(configs);
    const std::string main = runs.front().mainMetric();
    const QString mainTitle = main == "accuracy" ? tr("test acc.") : tr("test %1").arg(QString::fromStdString(main));
    QStringList header{tr("run"), tr("model"), tr("data")};
    for (const std::string &k : differing)
        header << QString::fromStdString(k);
    header << tr("best %1").arg(mainTitle) << tr("final %1").arg(mainTitle) << tr("best loss") << tr("epochs") << tr("time") << tr("ckpts")
           << tr("best checkpoint");
    m_model->setHorizontalHeaderLabels(header);

    for (size_t i = 0; i < runs.size(); ++i) {
        const run::RunSummary &r = runs[i];
        const QColor color = paletteColor(static_cast<int>(i));
        QList<QStandardItem *> row;
        QStandardItem *name = cell(QString::fromStdString(r.name), QString::fromStdString(r.name));
        name->setCheckable(true);
        name->setCheckState(Qt::Checked);
        name->setData(color, Qt::DecorationRole);
        name->setToolTip(m_dirs[static_cast<int>(i)]);
        row << name << cell(QString::fromStdString(r.config.model), QString::fromStdString(r.config.model));
        const QString data = QString::fromStdString(run::dataLabel(r.config));
        row << cell(data, data);
        for (const std::string &k : differing) {
            const auto it = configs[i].find(k);
            const QString text = it == configs[i].end() ? QStringLiteral("–") : valueText(it->second);
            bool isNumber = false;
            const double v = text.toDouble(&isNumber);
            QStandardItem *c = isNumber ? numberCell(text, v) : cell(text, text);
            row << c;
        }
        row << numberCell(metricText(main, r.bestOf(main)), r.bestOf(main)) << numberCell(metricText(main, r.finalOf(main)), r.finalOf(main))
            << numberCell(metricText("loss", r.bestOf("loss")), r.bestOf("loss"))
            << numberCell(r.epochs > 0 ? QStringLiteral("%1/%2").arg(r.epochsDone).arg(r.epochs) : QStringLiteral("–"), double(r.epochsDone))
            << numberCell(r.seconds ? QString::number(*r.seconds, 'f', 1) + QStringLiteral(" s") : QStringLiteral("–"), r.seconds)
            << numberCell(QString::number(r.checkpoints), double(r.checkpoints));
        const QString best = r.bestCheckpoint.empty() ? QStringLiteral("–") : QString::fromStdString(r.bestCheckpoint);
        row << cell(best, best);
        m_model->appendRow(row);
        m_curves->addRun(QString::fromStdString(r.name), color, logs[i], wallTimes[i]);
    }
    m_table->sortByColumn(-1, Qt::AscendingOrder); // the order given until the user sorts
    m_table->resizeColumnsToContents();
    m_updating = false;
    return static_cast<int>(runs.size());
}

void RunComparison::setRunColor(int run, const QColor &color)
{
    m_updating = true;
    m_model->item(run, 0)->setData(color, Qt::DecorationRole);
    m_updating = false;
    m_curves->setRunColor(run, color);
}

void RunComparison::setRunVisible(int run, bool visible)
{
    m_model->item(run, 0)->setCheckState(visible ? Qt::Checked : Qt::Unchecked); // itemChanged hides its curves
}

void RunComparison::chooseColor(int run)
{
    const QColor chosen = QColorDialog::getColor(m_curves->runColor(run), this, tr("Colour of %1").arg(m_model->item(run, 0)->text()));
    if (chosen.isValid())
        setRunColor(run, chosen);
}

QStringList RunComparison::columnTitles() const
{
    QStringList out;
    for (int c = 0; c < m_model->columnCount(); ++c)
        out << m_model->horizontalHeaderItem(c)->text();
    return out;
}

QString RunComparison::messageText() const
{
    return m_message->isHidden() ? QString() : m_message->text();
}

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// TrainingCurves' exports: a series as CSV, the plot as PNG or SVG (every file written atomically),
// and the dialogs that propose the export directory. Layer: widgets.
#include "training/training_curves.h"

#include "training/curve_run_series.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSvgGenerator>
#include <qcustomplot.h>

#include <utility>

namespace netwright::widgets {

QString TrainingCurves::exportDirectory() const
{
    return m_exportDir.isEmpty() ? QDir::homePath() : m_exportDir;
}

std::vector<std::pair<QString, const std::vector<CurvePoint> *>> TrainingCurves::namedSeries() const
{
    std::vector<std::pair<QString, const std::vector<CurvePoint> *>> out;
    for (auto [graph, points] : {std::pair{m_raw, &m_loss}, std::pair{m_trainFigSmooth, &m_figure}, std::pair{m_evalLoss, &m_testLoss},
                                 std::pair{m_evalAcc, &m_testFigure}, std::pair{m_lr, &m_lrPoints}})
        if (!points->empty())
            out.emplace_back(graph->name(), points);
    for (const auto &r : m_runs) {
        const QString prefix = r->name + QStringLiteral(" · ");
        out.emplace_back(prefix + tr("train loss"), &r->loss);
        for (const auto &[figure, points] : r->figures)
            out.emplace_back(prefix + figure, &points);
        out.emplace_back(prefix + tr("learning rate"), &r->lr);
    }
    return out;
}

QStringList TrainingCurves::seriesNames() const
{
    QStringList names;
    for (const auto &[name, points] : namedSeries())
        names << name;
    return names;
}

bool TrainingCurves::exportCsv(const QString &series, const QString &path, QString *error) const
{
    const std::vector<CurvePoint> *points = nullptr;
    for (const auto &[name, p] : namedSeries())
        if (name == series)
            points = p;
    if (!points) {
        *error = tr("There is no series \"%1\" to export.").arg(series);
        return false;
    }
    try {
        writeFileAtomically(QFile::encodeName(path).toStdString(), curveCsv(*points));
        return true;
    } catch (const Error &e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
}

bool TrainingCurves::savePng(const QString &path, QString *error)
{
    // The plot as drawn, without the hover cursor; written in place atomically (QSaveFile).
    hideReadout();
    QSaveFile file(path);
    const QPixmap image = m_plot->toPixmap(m_plot->width(), m_plot->height(), 2.0);
    if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit()) {
        *error = tr("Cannot write \"%1\": %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    return true;
}

bool TrainingCurves::saveSvg(const QString &path, QString *error)
{
    hideReadout();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = tr("Cannot write \"%1\": %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    const int w = m_plot->width(), h = m_plot->height();
    QSvgGenerator svg;
    svg.setOutputDevice(&file);
    svg.setSize(QSize(w, h));
    svg.setViewBox(QRect(0, 0, w, h));
    svg.setTitle(tr("Training curves"));
    QCPPainter painter;
    painter.begin(&svg);
    m_plot->toPainter(&painter, w, h);
    painter.end();
    if (!file.commit()) {
        *error = tr("Cannot write \"%1\": %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    return true;
}

void TrainingCurves::exportDialog(const QString &series)
{
    QString name = series;
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9]+")), QStringLiteral("-"));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(series), QDir(exportDirectory()).filePath(name + QStringLiteral(".csv")),
                                                      tr("CSV files (*.csv)"));
    QString error;
    if (!path.isEmpty() && !exportCsv(series, path, &error))
        QMessageBox::warning(this, tr("Export"), error);
}

void TrainingCurves::imageDialog(bool svg)
{
    const QString suffix = svg ? QStringLiteral(".svg") : QStringLiteral(".png");
    const QString path = QFileDialog::getSaveFileName(this, svg ? tr("Save Plot as SVG") : tr("Save Plot as PNG"),
                                                      QDir(exportDirectory()).filePath(QStringLiteral("training-curves") + suffix),
                                                      svg ? tr("SVG images (*.svg)") : tr("PNG images (*.png)"));
    QString error;
    if (!path.isEmpty() && !(svg ? saveSvg(path, &error) : savePng(path, &error)))
        QMessageBox::warning(this, tr("Export"), error);
}

} // namespace netwright::widgets

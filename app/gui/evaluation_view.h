// SPDX-License-Identifier: Apache-2.0
// A checkpoint (or model file) evaluated in the window, as `netwright eval` does it on the run's
// test split: the figures; for a classification the confusion matrix as a heat map with the counts
// (rows true class, columns predicted; each cell shaded by its share of the true class), the
// per-class precision, recall and F1 as bars, and the samples of a clicked cell as an image gallery
// (rows of values for tabular data); for a multilabel task the same per label: the 2×2 matrix of
// the label chosen from a list ([[tn, fp], [fn, tp]]), the bars per label, a clicked cell's
// samples; for a regression MAE, RMSE, R² and the residuals. The evaluation runs on a worker
// thread. Thread affinity: UI thread. Layer: app.
#pragma once

#include <QFutureWatcher>
#include <QWidget>

#include <functional>
#include <memory>

class QComboBox;
class QLabel;
class QListWidget;
class QStackedWidget;

namespace netwright {
struct Evaluation;
}

namespace netwright::gui {

class EvaluationView : public QWidget {
    Q_OBJECT
public:
    explicit EvaluationView(QWidget *parent = nullptr);
    ~EvaluationView() override; // waits for an evaluation in flight

    // Evaluates `source` (a checkpoint, a run directory or a model file) on the run's test split on
    // a worker thread; finished() when its figures (or the error) are shown.
    void evaluate(const QString &source);
    // Shows an evaluation already made.
    void setEvaluation(std::shared_ptr<const Evaluation> evaluation);
    const Evaluation *evaluation() const { return m_evaluation.get(); }
    // The error of the last evaluation ("" when it succeeded or is still running).
    QString errorText() const { return m_error; }

    // Shows the samples of cell (true class, predicted class) in the gallery, as a click does; for a
    // multilabel task the cell (true 0/1, predicted 0/1) of the current label's matrix.
    void selectCell(int trueClass, int predicted);
    // Multilabel: shows label `label`'s matrix, as choosing it in the list does.
    void selectLabel(int label);
    int currentLabel() const; // -1 when the task is not multilabel
    QComboBox *labelChooser() const { return m_labels; }
    // Where the matrix draws cell (true class, predicted class), in matrixView()'s coordinates.
    QRect cellRect(int trueClass, int predicted) const;
    QWidget *matrixView() const;
    QWidget *classBars() const;
    QListWidget *gallery() const { return m_gallery; }
    QLabel *summary() const { return m_summary; }
    QLabel *galleryTitle() const { return m_galleryTitle; }

signals:
    void finished();

private:
    struct Result;
    void showResult(const Result &result);
    void selectLabelCell(int label, int truth, int predicted);
    void showGalleryAs(bool images);

    std::shared_ptr<const Evaluation> m_evaluation;
    QString m_error;
    QLabel *m_summary, *m_galleryTitle;
    QStackedWidget *m_pages;
    QWidget *m_matrix, *m_bars;
    QListWidget *m_gallery;
    QComboBox *m_labels;
    QWidget *m_labelRow = nullptr;
    QFutureWatcher<std::shared_ptr<Result>> m_watcher;
};

} // namespace netwright::gui

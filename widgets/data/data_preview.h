// SPDX-License-Identifier: Apache-2.0
// What a data source holds, at a glance: kind and sample shape, 24 captioned thumbnails or the first
// rows of a table, the class counts as bars (train and test stacked), the split. makeDataPreview()
// computes it on any thread (plain values and QImages), DataPreview shows it (UI thread).
// Layer: widgets (reads through engine/data, writes nothing).
#pragma once

#include "config/run_config.h"
#include "core/tensor.h"
#include "data/data_source.h"

#include <QImage>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <memory>
#include <vector>

class QCPBars;
class QCustomPlot;
class QGridLayout;
class QLabel;
class QStackedWidget;
class QTableWidget;

namespace netwright::widgets {

struct DataPreviewContents {
    static constexpr int kThumbnails = 24, kRows = 10, kColumns = 64;

    QString path, kind;      // kind: "image folder", "CSV table" … (dataKindName)
    std::string dataName;    // the training samples' name, as errors name them
    Shape sampleShape;       // what one sample is, as the model will see it
    QString dtype;           // uint8 (pixels) or float32
    int64_t samples = 0;     // in the source (path), before any split
    // The model's outputs: the class count (classification) or the targets per sample.
    int64_t outputs = 0;
    QString task;
    bool classes = false;    // the bars count classes (classification) or positive labels (multilabel)

    struct Thumbnail {
        QImage image;        // nearest-neighbour enlarged (small samples) or smoothly reduced
        QString caption;     // the class name, or the target
        int64_t sample = 0;  // the sample's index in the source
    };
    std::vector<Thumbnail> thumbnails;
    // Tables and flat arrays: the first kRows samples; the target column(s) first.
    QStringList columns;
    int targetColumns = 0;
    std::vector<QStringList> rows;
    int hiddenColumns = 0;   // feature columns past kColumns, not shown

    // The bars: one per class (or label, or histogram bin), the training split's count and the
    // test split's count. For a regression the bins cover [binLow, binHigh] of the first target.
    QStringList barNames;
    std::vector<double> trainBars, testBars;
    double binLow = 0, binHigh = 0;
    struct TargetRange {
        QString name;
        double min = 0, mean = 0, max = 0;
    };
    std::vector<TargetRange> targets; // regression: per target

    bool sourceSplit = false; // the source has a test split of its own (DIR/test, x_test, test_batch.bin …)
    QString note;             // how the samples were made what the model sees ("resized to 32×32 …"), or empty
    int64_t trainSamples = 0, testSamples = 0; // after the split
    QString splitNote;    // where the test samples come from
    QString splitProblem; // empty, or why there is no test split (the settings must give one)
};

// Everything the preview shows of `source` (as readDataSource returned it) for `task`, with the
// test split that `settings` choose: settings.testPath (read here, with `geometry`), a
// settings.testSplit fraction (the engine's stratified split, so the counts are the run's), or
// the source's own. Reads the thumbnails' samples (from disk when streamed). Any thread; throws
// Error (a reader's message, naming the file and the line or sample).
DataPreviewContents makeDataPreview(const DataSourceContents &source, const DataSettings &settings, const std::string &task,
                                    uint64_t seed, const ImageGeometry &geometry);

class DataPreview : public QWidget {
    Q_OBJECT
public:
    explicit DataPreview(QWidget *parent = nullptr);

    void showContents(std::shared_ptr<const DataPreviewContents> contents);
    // A reader's message, in red (the last contents stay hidden until the next showContents).
    void showError(const QString &message);
    void showMessage(const QString &text); // "Reading …", "No preview for IDX files"
    void clear();

    std::shared_ptr<const DataPreviewContents> contents() const { return m_contents; }
    QString errorText() const;
    QString summaryText() const;
    QString splitText() const;
    // What is drawn (for tests and screenshots): the thumbnails, their captions, the table, the bars.
    int thumbnailCount() const;
    QImage thumbnail(int i) const;
    QString caption(int i) const;
    QTableWidget *table() const { return m_table; }
    std::vector<double> barHeights(bool test) const;
    QStringList barLabels() const;

private:
    void showThumbnails(const DataPreviewContents &c);
    void showTable(const DataPreviewContents &c);
    void showBars(const DataPreviewContents &c);

    std::shared_ptr<const DataPreviewContents> m_contents;
    QLabel *m_summary, *m_split, *m_error, *m_targets;
    QStackedWidget *m_samples;
    QWidget *m_grid;
    QGridLayout *m_gridLayout;
    std::vector<QLabel *> m_thumbLabels, m_captionLabels;
    QTableWidget *m_table;
    QCustomPlot *m_plot;
    QCPBars *m_trainBars, *m_testBars;
};

} // namespace netwright::widgets

// SPDX-License-Identifier: Apache-2.0
// `netwright eval` on a Fashion-MNIST run (the real images, a slice of the Debian package): the
// confusion matrix that onnxruntime-node computes from the same checkpoint exported to ONNX on the
// same test samples (tests/support/ort_confusion.js), accuracy = trace / sum, the figures of the
// run's own history, per-class figures as scikit-learn computes them from the same predictions
// (tests/support/sklearn_eval_check.py); a model file and --data; a regression; a multilabel run
// on scikit-learn's digits tagged even/large/prime/loop, every figure checked against
// scikit-learn's (tests/support/sklearn_multilabel_check.py) and the loss against the run's
// history; the refusals.
#include "../support/cli_support.h"
#include "../support/digit_tags_run.h"
#include "../support/fashion_run.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace netwright;

namespace {

QString source(const QString &rel)
{
    return qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/" + rel;
}

QJsonObject jsonOf(const test::RunResult &r)
{
    return QJsonDocument::fromJson(r.out.toUtf8()).object();
}

QVector<QVector<qint64>> matrixOf(const QJsonArray &a)
{
    QVector<QVector<qint64>> m;
    for (const QJsonValue &row : a) {
        QVector<qint64> r;
        for (const QJsonValue &v : row.toArray())
            r.append(v.toInteger());
        m.append(r);
    }
    return m;
}

// The CSV's rows as maps from the header's names.
QList<QMap<QString, QString>> csvRows(const QString &path)
{
    QList<QMap<QString, QString>> out;
    const QList<QByteArray> lines = test::contents(path).split('\n');
    if (lines.isEmpty())
        return out;
    const QList<QByteArray> header = lines[0].split(',');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        if (lines[i].isEmpty())
            continue;
        const QList<QByteArray> cells = lines[i].split(',');
        QMap<QString, QString> row;
        for (qsizetype k = 0; k < header.size() && k < cells.size(); ++k)
            row[QString::fromUtf8(header[k])] = QString::fromUtf8(cells[k]);
        out.append(row);
    }
    return out;
}

// Runs the scikit-learn oracle tests/support/`script` on the report `json` (written to
// `jsonPath`) and the predictions CSV: "ok", or what it said differs.
QString sklearnCheck(const QString &script, const QString &json, const QString &jsonPath, const QString &csv)
{
    QFile report(jsonPath);
    if (!report.open(QIODevice::WriteOnly) || report.write(json.toUtf8()) < 0)
        return "cannot write " + jsonPath;
    report.close();
    QProcess py;
    py.start("/usr/bin/python3", {source("tests/support/" + script), jsonPath, csv});
    if (!py.waitForFinished(120000))
        return script + " did not finish";
    const QString said = (QString::fromUtf8(py.readAllStandardOutput()) + QString::fromUtf8(py.readAllStandardError())).trimmed();
    return py.exitCode() == 0 ? said : script + ": " + said;
}

} // namespace

class EvalCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void initTestCase()
    {
        const QString config = test::writeFashionRunConfig(m_dir.path(), 3000, 1000, "lenet5", R"("epochs": 3, "batch_size": 50, "threads": 2)",
                                                           R"("checkpoint": {"keep_checkpoint_max": 5})");
        QVERIFY(!config.isEmpty());
        const test::RunResult r = test::runNetwright({"train", "--config", config, "--out", path("run")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        // The same test images as an IDX directory (what --data reads): its t10k files are the split.
        QVERIFY(QDir().mkpath(path("idx")));
        for (const auto &[from, to] : {std::pair{"ti", "train-images-idx3-ubyte"}, {"tl", "train-labels-idx1-ubyte"},
                                       {"vi", "t10k-images-idx3-ubyte"}, {"vl", "t10k-labels-idx1-ubyte"}})
            QVERIFY(QFile::copy(path(from), path("idx/") + to));
    }

    void confusionMatrixMatchesOnnxRuntime()
    {
        const test::RunResult r = test::runNetwright({"eval", path("run"), "--json", "--csv", path("predictions.csv")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject o = jsonOf(r);
        QCOMPARE(o["samples"].toInteger(), 1000);
        QCOMPARE(o["task"].toString(), QStringLiteral("classification"));
        QCOMPARE(o["classes"].toArray().size(), 10);
        const auto m = matrixOf(o["confusion_matrix"].toArray());
        QCOMPARE(m.size(), 10);
        qint64 trace = 0, sum = 0;
        for (int t = 0; t < 10; ++t) {
            QCOMPARE(m[t].size(), 10);
            trace += m[t][t];
            for (qint64 v : m[t])
                sum += v;
        }
        QCOMPARE(sum, 1000);
        QCOMPARE(o["accuracy"].toDouble(), static_cast<double>(trace) / static_cast<double>(sum));
        QVERIFY(o["top5"].toDouble() >= o["accuracy"].toDouble());
        QVERIFY2(o["accuracy"].toDouble() > 0.6, qPrintable(QString::number(o["accuracy"].toDouble())));

        // The best checkpoint by test accuracy, and the figures training recorded for it.
        QString best;
        double bestAccuracy = -1, bestLoss = 0;
        for (const QByteArray &line : test::contents(path("run/checkpoints.jsonl")).split('\n')) {
            const QJsonObject e = QJsonDocument::fromJson(line).object();
            if (e["event"] == "saved" && e.contains("eval_accuracy") && e["eval_accuracy"].toDouble() > bestAccuracy) {
                bestAccuracy = e["eval_accuracy"].toDouble();
                bestLoss = e["eval_loss"].toDouble();
                best = e["file"].toString();
            }
        }
        QCOMPARE(QFileInfo(o["checkpoint"].toString()).fileName(), best);
        QCOMPARE(o["accuracy"].toDouble(), bestAccuracy);
        QVERIFY2(std::abs(o["loss"].toDouble() - bestLoss) <= 1e-5 * bestLoss,
                 qPrintable(QString("%1 vs %2").arg(o["loss"].toDouble()).arg(bestLoss)));

        // The same checkpoint exported to ONNX and run by onnxruntime on the same samples.
        const test::RunResult ex = test::runNetwright({"export", o["checkpoint"].toString(), "--out", path("best.onnx")});
        QVERIFY2(ex.exitCode == 0, qPrintable(ex.err));
        const QJsonObject config = QJsonDocument::fromJson(test::contents(path("run/config.json"))).object()["data"].toObject();
        QProcess node;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("NODE_PATH", qEnvironmentVariable("NETWRIGHT_NODE_MODULES"));
        node.setProcessEnvironment(env);
        node.start("node", {source("tests/support/ort_confusion.js"), path("best.onnx"), path("vi"), path("vl"),
                            QString::number(config["scale"].toDouble(), 'g', 17), QString::number(config["mean"].toDouble(), 'g', 17),
                            QString::number(config["std"].toDouble(), 'g', 17), "1,28,28"});
        QVERIFY(node.waitForFinished(300000));
        QVERIFY2(node.exitCode() == 0, qPrintable("onnxruntime-node failed: " + QString::fromUtf8(node.readAllStandardError())));
        const QJsonObject ort = QJsonDocument::fromJson(node.readAllStandardOutput()).object();
        const auto theirs = matrixOf(ort["confusion"].toArray());
        QCOMPARE(theirs.size(), 10);
        // At most a handful of samples may differ (exact ties broken by float rounding).
        const QJsonArray ortPredictions = ort["predictions"].toArray();
        const auto rows = csvRows(path("predictions.csv"));
        QCOMPARE(rows.size(), 1000);
        QCOMPARE(ortPredictions.size(), 1000);
        int differing = 0;
        for (int i = 0; i < 1000; ++i) {
            QCOMPARE(rows[i]["index"].toInt(), i);
            differing += rows[i]["predicted"].toInt() != ortPredictions[i].toInt() ? 1 : 0;
        }
        qint64 cellDifference = 0;
        for (int t = 0; t < 10; ++t)
            for (int k = 0; k < 10; ++k)
                cellDifference += std::abs(m[t][k] - theirs[t][k]);
        qInfo("accuracy %.4f (trace/sum); %d of 1000 predictions differ from onnxruntime's, %lld matrix cells' counts", o["accuracy"].toDouble(), differing,
              static_cast<long long>(cellDifference));
        QVERIFY2(differing <= 3 && cellDifference <= 2 * differing,
                 qPrintable(QString("%1 predictions differ from onnxruntime's").arg(differing)));

        // Per-class precision, recall, F1 and support as scikit-learn computes them from the CSV.
        const QString said = sklearnCheck("sklearn_eval_check.py", r.out, path("eval.json"), path("predictions.csv"));
        QVERIFY2(said == "ok", qPrintable(said));

        // The loss column is each sample's cross-entropy: their mean is the reported loss.
        double lossSum = 0;
        for (const auto &row : rows)
            lossSum += row["loss"].toDouble();
        QVERIFY(std::abs(lossSum / 1000 - o["loss"].toDouble()) <= 1e-6);
    }

    void textReport()
    {
        const test::RunResult r = test::runNetwright({"eval", path("run")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject o = jsonOf(test::runNetwright({"eval", path("run"), "--json"}));
        const QString accuracy = QString::number(100.0 * o["accuracy"].toDouble(), 'f', 2) + " %";
        for (const QString &s : {QStringLiteral("Evaluated ") + o["checkpoint"].toString(), QStringLiteral("1000 samples, classification"),
                                 "accuracy " + accuracy, QStringLiteral("precision     recall   f1-score    support"),
                                 QStringLiteral("macro avg"), QStringLiteral("weighted avg"),
                                 QStringLiteral("Confusion matrix (rows: true class, columns: predicted class)")})
            QVERIFY2(r.out.contains(s), qPrintable(s + "\n---\n" + r.out));
        // The matrix rows as printed: the class, then its counts.
        const auto m = matrixOf(o["confusion_matrix"].toArray());
        QStringList row{"0"};
        for (qint64 v : m[0])
            row << QString::number(v);
        QVERIFY2(r.out.contains(QRegularExpression("\n" + row.join(" +") + "\n")), qPrintable(r.out));
    }

    void modelFileAndDataPath()
    {
        const QJsonObject run = jsonOf(test::runNetwright({"eval", path("run"), "--json"}));
        QVERIFY(test::runNetwright({"export", run["checkpoint"].toString(), "--out", path("model.onnx")}).exitCode == 0);
        // A model file has no test split.
        const test::RunResult bare = test::runNetwright({"eval", path("model.onnx")});
        QCOMPARE(bare.exitCode, 1);
        QVERIFY2(bare.err.contains(path("model.onnx")) && bare.err.contains("--data"), qPrintable(bare.err));
        // With --data (its t10k split), normalised as the export's metadata records: the same matrix.
        const test::RunResult file = test::runNetwright({"eval", path("model.onnx"), "--data", path("idx"), "--json"});
        QVERIFY2(file.exitCode == 0, qPrintable(file.err));
        const QJsonObject f = jsonOf(file);
        QCOMPARE(f["samples"].toInteger(), 1000);
        QVERIFY(f["checkpoint"].isNull());
        QCOMPARE(f["confusion_matrix"].toArray(), run["confusion_matrix"].toArray());
        // A run on another data path: normalised as its checkpoint records.
        const QJsonObject other = jsonOf(test::runNetwright({"eval", path("run"), "--data", path("idx"), "--json"}));
        QCOMPARE(other["confusion_matrix"].toArray(), run["confusion_matrix"].toArray());
        QVERIFY(other["data"].toString().contains(path("idx")));
    }

    void refusals()
    {
        // A run with no checkpoint yet.
        QVERIFY(QDir().mkpath(path("fresh")));
        QVERIFY(QFile::copy(path("run/config.json"), path("fresh/config.json")));
        const test::RunResult fresh = test::runNetwright({"eval", path("fresh")});
        QCOMPARE(fresh.exitCode, 1);
        QVERIFY2(fresh.err.contains(path("fresh")) && fresh.err.contains("has no checkpoint to evaluate"), qPrintable(fresh.err));
        // Data whose samples do not fit the model.
        QFile csv(path("table.csv"));
        QVERIFY(csv.open(QIODevice::WriteOnly));
        csv.write("a,b,c,label\n1,2,3,0\n4,5,6,1\n");
        csv.close();
        const test::RunResult shape = test::runNetwright({"eval", path("run"), "--data", path("table.csv")});
        QCOMPARE(shape.exitCode, 1);
        QVERIFY2(shape.err.contains(path("table.csv")) && shape.err.contains("takes samples of shape [1,28,28]")
                     && shape.err.contains("samples of shape [3]"),
                 qPrintable(shape.err));
        // A checkpoint without its run.
        QVERIFY(QDir().mkpath(path("loose")));
        const QString ckpt = QFileInfo(jsonOf(test::runNetwright({"eval", path("run"), "--json"}))["checkpoint"].toString()).fileName();
        QVERIFY(QFile::copy(path("run/") + ckpt, path("loose/") + ckpt));
        const test::RunResult loose = test::runNetwright({"eval", path("loose/") + ckpt});
        QCOMPARE(loose.exitCode, 1);
        QVERIFY2(loose.err.contains("outside a run directory"), qPrintable(loose.err));
        // Nothing was written for a refused evaluation.
        const test::RunResult none = test::runNetwright({"eval", path("fresh"), "--csv", path("never.csv")});
        QCOMPARE(none.exitCode, 1);
        QVERIFY(!QFile::exists(path("never.csv")));
    }

    void regression()
    {
        // y = 3·x1 − 2·x2 + noise, 300 rows; 20 % held out by the run's seeded split.
        QString table = "x1,x2,y\n";
        quint32 s = 12345;
        auto uniform = [&s] {
            s = s * 1664525u + 1013904223u;
            return (s >> 8) / double(1 << 24) * 2.0 - 1.0;
        };
        for (int i = 0; i < 300; ++i) {
            const double a = uniform(), b = uniform(), e = 0.05 * uniform();
            table += QString("%1,%2,%3\n").arg(a, 0, 'f', 4).arg(b, 0, 'f', 4).arg(3 * a - 2 * b + e, 0, 'f', 4);
        }
        QFile f(path("regression.csv"));
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(table.toUtf8());
        f.close();
        const test::RunResult train = test::runNetwright({"train", "--out", path("reg"), "--data", path("regression.csv"), "--test-split", "0.2",
                                                          "--task", "regression", "--model", "mlp", "--hidden", "16", "--epochs", "5",
                                                          "--batch-size", "16", "--threads", "2"});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        const test::RunResult r = test::runNetwright({"eval", path("reg"), "--json", "--csv", path("residuals.csv")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject o = jsonOf(r);
        QCOMPARE(o["task"].toString(), QStringLiteral("regression"));
        QCOMPARE(o["samples"].toInteger(), 60);
        QVERIFY(!o.contains("accuracy") && !o.contains("confusion_matrix"));
        // The run's own figures for that checkpoint (the best by R²).
        QJsonObject recorded;
        for (const QByteArray &line : test::contents(path("reg/checkpoints.jsonl")).split('\n')) {
            const QJsonObject e = QJsonDocument::fromJson(line).object();
            if (e["event"] == "saved" && e["file"].toString() == QFileInfo(o["checkpoint"].toString()).fileName())
                recorded = e;
        }
        QVERIFY(!recorded.isEmpty());
        for (const char *k : {"r2", "rmse", "mae"})
            QVERIFY2(std::abs(o[k].toDouble() - recorded[QString("eval_") + k].toDouble()) <= 1e-6,
                     qPrintable(QString("%1: %2 vs %3").arg(k).arg(o[k].toDouble()).arg(recorded[QString("eval_") + k].toDouble())));
        // The residual CSV: predicted − true per sample, which the figures come from.
        const auto rows = csvRows(path("residuals.csv"));
        QCOMPARE(rows.size(), 60);
        double abs = 0, sq = 0, sy = 0, syy = 0, sum = 0;
        for (const auto &row : rows) {
            const double t = row["true_y"].toDouble(), p = row["predicted_y"].toDouble(), e = row["residual_y"].toDouble();
            QVERIFY(std::abs(e - (p - t)) <= 1e-6);
            abs += std::abs(e);
            sq += e * e;
            sy += t;
            syy += t * t;
            sum += e;
        }
        QVERIFY(std::abs(abs / 60 - o["mae"].toDouble()) <= 1e-6);
        QVERIFY(std::abs(std::sqrt(sq / 60) - o["rmse"].toDouble()) <= 1e-6);
        QVERIFY(std::abs(1 - sq / (syy - sy * sy / 60) - o["r2"].toDouble()) <= 1e-6);
        const QJsonObject residual = o["residuals"].toArray().at(0).toObject();
        QCOMPARE(residual["target"].toString(), QStringLiteral("y"));
        QVERIFY(std::abs(residual["mean"].toDouble() - sum / 60) <= 1e-6);
        const test::RunResult text = test::runNetwright({"eval", path("reg")});
        QVERIFY2(text.out.contains("MAE ") && text.out.contains("RMSE ") && text.out.contains("R² ")
                     && text.out.contains("Residuals (predicted − true)"),
                 qPrintable(text.out));
    }

    void multilabel()
    {
        // scikit-learn's digits as a table with four 0/1 labels per image (make_datasets.py digit-tags).
        const test::RunResult train = test::trainDigitTagsRun(m_dir.path(), path("tags"));
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        const test::RunResult r = test::runNetwright({"eval", path("tags"), "--json", "--csv", path("tags.csv")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject o = jsonOf(r);
        QCOMPARE(o["task"].toString(), QStringLiteral("multilabel"));
        QCOMPARE(o["samples"].toInteger(), 359); // 20 % of 1797
        QCOMPARE(o["labels"].toArray(), (QJsonArray{"even", "large", "prime", "loop"}));
        QCOMPARE(o["threshold"].toDouble(), 0.5);
        QVERIFY(!o.contains("confusion_matrix") && !o.contains("per_class"));
        QVERIFY2(o["accuracy"].toDouble() > 0.5, qPrintable(QString::number(o["accuracy"].toDouble())));

        // Every figure as scikit-learn computes it from the CSV's label sets.
        const QString said = sklearnCheck("sklearn_multilabel_check.py", r.out, path("tags.json"), path("tags.csv"));
        QVERIFY2(said == "ok", qPrintable(said));

        // The checkpoint evaluated is the best by F1, and its figures are the ones training recorded.
        QJsonObject recorded;
        double bestF1 = -1;
        for (const QByteArray &line : test::contents(path("tags/checkpoints.jsonl")).split('\n')) {
            const QJsonObject e = QJsonDocument::fromJson(line).object();
            if (e["event"] == "saved" && e["eval_f1"].toDouble() > bestF1) {
                bestF1 = e["eval_f1"].toDouble();
                recorded = e;
            }
        }
        QCOMPARE(QFileInfo(o["checkpoint"].toString()).fileName(), recorded["file"].toString());
        const double loss = o["loss"].toDouble(), trained = recorded["eval_loss"].toDouble();
        QVERIFY2(std::abs(loss - trained) <= 1e-5 * trained, qPrintable(QString("%1 vs %2").arg(loss).arg(trained)));
        const QJsonObject macro = o["macro_avg"].toObject();
        for (const char *k : {"f1", "precision", "recall"})
            QVERIFY2(std::abs(macro[k].toDouble() - recorded[QString("eval_") + k].toDouble()) <= 1e-9, k);
        for (const QJsonValue &v : o["per_label"].toArray()) {
            const QJsonObject f = v.toObject();
            QVERIFY(std::abs(f["f1"].toDouble() - recorded["eval_f1[" + f["label"].toString() + "]"].toDouble()) <= 1e-9);
        }

        // The text report: the figures, scikit-learn's table with its four averages, the 2×2 matrices.
        const test::RunResult text = test::runNetwright({"eval", path("tags")});
        QVERIFY2(text.exitCode == 0, qPrintable(text.err));
        const QString subset = QString::number(100.0 * o["accuracy"].toDouble(), 'f', 2) + " %";
        for (const QString &s : {QStringLiteral("359 samples, multilabel"), "subset accuracy " + subset, QStringLiteral("hamming loss "),
                                 QStringLiteral("above 0.5"), QStringLiteral("precision     recall   f1-score    support"),
                                 QStringLiteral("micro avg"), QStringLiteral("macro avg"), QStringLiteral("weighted avg"),
                                 QStringLiteral("samples avg"), QStringLiteral("[[tn, fp], [fn, tp]]")})
            QVERIFY2(text.out.contains(s), qPrintable(s + "\n---\n" + text.out));
        const QJsonArray even = o["multilabel_confusion_matrix"].toArray().at(0).toArray();
        const QString row = QString("\n *even +%1 +%2 +%3 +%4\n")
                                .arg(even[0].toArray()[0].toInteger())
                                .arg(even[0].toArray()[1].toInteger())
                                .arg(even[1].toArray()[0].toInteger())
                                .arg(even[1].toArray()[1].toInteger());
        QVERIFY2(text.out.contains(QRegularExpression(row)), qPrintable(text.out));
    }
};

QTEST_GUILESS_MAIN(EvalCliTest)
#include "eval_cli_test.moc"

// SPDX-License-Identifier: Apache-2.0
// Issue 16's real results, through the real CLI on the full Fashion-MNIST test set (10,000
// images): models written in PyTorch (tests/support/export_sequence_models.py, Debian's
// python3-torch, seeded random weights), exported to ONNX and trained by
// `netwright train --model-file` for 5 epochs —
//   a ViT (7×7 patches, 2 encoder layers, d=64, 4 heads, GELU, LayerNorm)  ≥ 88 % (lr 0.003),
//   an LSTM reading the 28 rows as a 28-step sequence (hidden 128)         ≥ 85 % (lr 0.002),
// read from the last evaluation in the run's metrics log. AdamW, batch 128, the default cosine
// schedule with warm-up, seed 1 and one thread each, the two runs side by side (one per core):
// the runs are deterministic (a thread count splits sums its own way), so the figures are the
// same wherever it runs.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TrainSequenceModelsTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedOutputChannel);
        py.start("/usr/bin/python3",
                 {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/export_sequence_models.py", m_dir.path()});
        QVERIFY(py.waitForFinished(300000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    }

    void reachTheirTargets()
    {
        struct Run {
            QString model, lr;
            double target;
            QProcess process;
        };
        Run runs[] = {{"vit", "0.003", 0.880, {}}, {"lstm", "0.002", 0.850, {}}};
        for (Run &r : runs) {
            r.process.setProcessChannelMode(QProcess::ForwardedChannels);
            r.process.start(QString::fromLocal8Bit(qgetenv("NETWRIGHT_BINARY")),
                            {"train", "--model-file", m_dir.filePath(r.model + ".onnx"), "--epochs", "5", "--batch-size", "128",
                             "--optimizer", "adamw", "--lr", r.lr, "--seed", "1", "--threads", "1", "--out", m_dir.filePath("run-" + r.model)});
        }
        for (Run &r : runs) {
            QVERIFY(r.process.waitForFinished(2400000));
            QCOMPARE(r.process.exitCode(), 0);
        }
        for (const Run &r : runs) {
            QFile m(m_dir.filePath("run-" + r.model) + "/metrics.jsonl");
            QVERIFY(m.open(QIODevice::ReadOnly));
            double last = 0;
            int evals = 0;
            for (const QByteArray &line : m.readAll().split('\n')) {
                const QJsonObject o = QJsonDocument::fromJson(line).object();
                if (o["type"].toString() == "eval") {
                    ++evals;
                    QCOMPARE(o["samples"].toInt(), 10000);
                    last = o["accuracy"].toDouble();
                }
            }
            QCOMPARE(evals, 5);
            qInfo("%s: final test accuracy %.2f %% (target %.1f %%)", qPrintable(r.model), 100 * last, 100 * r.target);
            QVERIFY2(last >= r.target, qPrintable(QStringLiteral("%1: %2 < %3").arg(r.model).arg(last).arg(r.target)));
        }
    }
};

QTEST_GUILESS_MAIN(TrainSequenceModelsTest)
#include "train_sequence_models_test.moc"

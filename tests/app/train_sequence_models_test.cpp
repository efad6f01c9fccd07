// SPDX-License-Identifier: Apache-2.0
// Issue 16's real results, through the real CLI on the full Fashion-MNIST test set (10,000
// images): models written in PyTorch (tests/support/export_sequence_models.py, Debian's
// python3-torch, seeded random weights), exported to ONNX and trained by
// `netwright train --model-file` for 5 epochs —
//   a ViT (7×7 patches, 2 encoder layers, d=64, 4 heads, GELU, LayerNorm)  ≥ 88 % (lr 0.003),
//   an LSTM reading the 28 rows as a 28-step sequence (hidden 128)         ≥ 85 % (lr 0.002),
// read from the last evaluation in the run's metrics log. AdamW, batch 128, the default cosine
// schedule with warm-up, seed 1 and 2 threads on every machine: the runs are deterministic (a
// thread count splits sums its own way), so the figures below are the same wherever it runs.
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

    void reachesTarget_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("lr");
        QTest::addColumn<double>("target");
        QTest::newRow("ViT, 5 epochs") << "vit" << "0.003" << 0.880;
        QTest::newRow("row LSTM, 5 epochs") << "lstm" << "0.002" << 0.850;
    }
    void reachesTarget()
    {
        QFETCH(QString, model);
        QFETCH(QString, lr);
        QFETCH(double, target);
        const QString out = m_dir.filePath("run-" + model);
        QProcess p;
        p.setProcessChannelMode(QProcess::ForwardedChannels);
        p.start(QString::fromLocal8Bit(qgetenv("NETWRIGHT_BINARY")),
                {"train", "--model-file", m_dir.filePath(model + ".onnx"), "--epochs", "5", "--batch-size", "128", "--optimizer",
                 "adamw", "--lr", lr, "--seed", "1", "--threads", "2", "--out", out});
        QVERIFY(p.waitForFinished(2400000));
        QCOMPARE(p.exitCode(), 0);
        QFile m(out + "/metrics.jsonl");
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
        qInfo("%s: final test accuracy %.2f %% (target %.1f %%)", qPrintable(model), 100 * last, 100 * target);
        QVERIFY2(last >= target, qPrintable(QStringLiteral("%1 < %2").arg(last).arg(target)));
    }
};

QTEST_GUILESS_MAIN(TrainSequenceModelsTest)
#include "train_sequence_models_test.moc"

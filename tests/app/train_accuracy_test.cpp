// SPDX-License-Identifier: Apache-2.0
// The accuracy a user is promised, on the full Fashion-MNIST test set (10,000 images), through the
// real CLI: the default (cnn-small) ≥ 90.0 % within 5 epochs, mlp ≥ 87 % within 5, cnn-bn ≥ 91 %
// within 10, read from the last evaluation in the run's metrics log.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TrainAccuracyTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void reachesTarget_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<double>("target");
        QTest::addColumn<int>("epochs");
        QTest::newRow("default (cnn-small, 5 epochs)") << QStringList{} << 0.900 << 5;
        QTest::newRow("mlp, 5 epochs") << QStringList{"--model", "mlp"} << 0.870 << 5;
        QTest::newRow("cnn-bn, 10 epochs") << QStringList{"--model", "cnn-bn", "--epochs", "10"} << 0.910 << 10;
    }
    void reachesTarget()
    {
        QFETCH(QStringList, args);
        QFETCH(double, target);
        QFETCH(int, epochs);
        const QString out = m_dir.filePath(QString::number(QTest::currentDataTag()[0]) + QString::number(qHash(args.join(' '))));
        QProcess p;
        p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p.start(QString::fromLocal8Bit(qgetenv("NETWRIGHT_BINARY")), QStringList{"train", "--out", out} + args);
        QVERIFY(p.waitForFinished(1400000));
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
        QCOMPARE(evals, epochs);
        qInfo("final test accuracy %.2f %% (target %.1f %%)", 100 * last, 100 * target);
        QVERIFY2(last >= target, qPrintable(QStringLiteral("%1 < %2").arg(last).arg(target)));
    }
};

QTEST_GUILESS_MAIN(TrainAccuracyTest)
#include "train_accuracy_test.moc"

// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST as users often have it — a folder of 70 000 PNG files, one folder per class name,
// written here with python3-pil — decodes to the very pixels of Debian's IDX files (the same
// per-channel statistics), and cnn-small trained on it for 3 epochs, streamed from disk, ends
// within 0.5 points of the same run on the IDX files (read through --data as well, so both get the
// same standardisation; only the order of the samples differs: class folders against IDX order).
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

namespace {

QByteArray run(const QStringList &args, int *exitCode)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(QString::fromLocal8Bit(qgetenv("NETWRIGHT_BINARY")), args);
    if (!p.waitForFinished(1400000))
        *exitCode = -1;
    else
        *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    return p.readAllStandardOutput();
}

} // namespace

class TrainImageFolderAccuracyTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedChannels);
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/make_datasets.py", m_dir.path(), "fashion-png"});
        QVERIFY(py.waitForFinished(900000));
        QCOMPARE(py.exitCode(), 0);
    }

    void samePixelsAsTheIdxFiles()
    {
        int code = 0;
        const QJsonObject png = QJsonDocument::fromJson(run({"data", "stats", m_dir.filePath("fashion-png"), "--json"}, &code)).object();
        QCOMPARE(code, 0);
        const QJsonObject idx = QJsonDocument::fromJson(run({"data", "stats", "/usr/share/datasets/fashion-mnist", "--json"}, &code)).object();
        QCOMPARE(code, 0);
        const double a = png["feature_mean"].toArray()[0].toDouble(), b = idx["feature_mean"].toArray()[0].toDouble();
        QVERIFY2(std::abs(a - b) < 1e-9 && std::abs(a - 0.2860) < 1e-3, qPrintable(QStringLiteral("%1 vs %2").arg(a).arg(b)));
        QVERIFY(std::abs(png["feature_std"].toArray()[0].toDouble() - idx["feature_std"].toArray()[0].toDouble()) < 1e-9);
    }

    void trainsAsWellAsFromIdx()
    {
        const QStringList common{"--model", "cnn-small", "--epochs", "3", "--json"};
        int code = 0;
        const QJsonObject png = QJsonDocument::fromJson(run(QStringList{"train", "--data", m_dir.filePath("fashion-png"), "--stream", "on", "--out",
                                                                        m_dir.filePath("run-png")} + common, &code))
                                    .object();
        QCOMPARE(code, 0);
        const QJsonObject idx = QJsonDocument::fromJson(run(QStringList{"train", "--data", "/usr/share/datasets/fashion-mnist", "--out",
                                                                        m_dir.filePath("run-idx")} + common, &code))
                                    .object();
        QCOMPARE(code, 0);
        const double a = png["eval_accuracy"].toDouble(), b = idx["eval_accuracy"].toDouble();
        qInfo("PNG folder (streamed) %.2f %%, IDX %.2f %%", 100 * a, 100 * b);
        QVERIFY2(std::abs(a - b) <= 0.005, qPrintable(QStringLiteral("%1 vs %2").arg(a).arg(b)));
        QVERIFY(a >= 0.89);
    }
};

QTEST_GUILESS_MAIN(TrainImageFolderAccuracyTest)
#include "train_image_folder_accuracy_test.moc"

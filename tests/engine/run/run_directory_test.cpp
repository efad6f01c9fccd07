// SPDX-License-Identifier: Apache-2.0
// The run directory's owner: its two logs written and read back through real JSON (any file name
// round-trips; a bad line is named by number, a cut last line is left out and reported; logs of
// the earlier writer, with bare nan, still read), and what a killed writer left: temporary files
// of every kind removed, a complete temporary config put in place, a cut one not.
#include "config/run_config.h"
#include "core/error.h"
#include "run/checkpoint_history.h"
#include "run/metrics_log.h"
#include "run/run_directory.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace netwright;

namespace {

void writeText(const QString &path, const QByteArray &text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

QString errorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

} // namespace

class RunDirectoryTest : public QObject {
    Q_OBJECT

private slots:
    void historyRoundTripsAnyFileName()
    {
        QTemporaryDir tmp;
        const RunDirectory dir(tmp.path().toStdString());
        const std::string name = "my \"best\" run\\ – Überlauf\t-1_10.ckpt";
        writeText(QString::fromStdString(dir.file(name)), "x");
        run::HistoryEvent saved;
        saved.kind = run::HistoryEvent::Kind::Saved;
        saved.file = name;
        saved.reason = "save_every_epoch";
        saved.epoch = 1;
        saved.globalStep = 10;
        saved.bytes = 1;
        saved.time = 1764950000.25;
        saved.evalAccuracy = 0.875;
        saved.evalLoss = std::nan("");
        dir.appendHistory(saved);
        const auto rows = dir.history();
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(QString::fromStdString(rows[0].file), QString::fromStdString(name));
        QCOMPARE(QString::fromStdString(rows[0].status), QStringLiteral("kept"));
        QCOMPARE(*rows[0].accuracy, 0.875);
        QVERIFY(std::isnan(*rows[0].loss)); // written as null: JSON has no NaN
        QCOMPARE(rows[0].time, 1764950000.25);
        dir.deleteCheckpoint(name, "deleted by the user");
        QCOMPARE(QString::fromStdString(dir.history()[0].status), QStringLiteral("deleted"));
        QVERIFY(!QFile::exists(QString::fromStdString(dir.file(name))));
    }

    void badLinesAreNamedAndCutLinesReported()
    {
        QTemporaryDir tmp;
        const RunDirectory dir(tmp.path().toStdString());
        const QString metrics = QString::fromStdString(dir.metricsPath());
        writeText(metrics, "{\"type\":\"step\",\"epoch\":1,\"step\":1,\"global_step\":1,\"batch_size\":2,\"loss\":nan,\"accuracy\":0.5,\"lr\":0.1}\n"
                           "{\"type\":\"end\",\"global_step\":1,\"epochs_done\":1,\"stopped\":false}\n"
                           "{\"type\":\"step\",\"epo");
        const MetricsLogContents log = dir.metrics();
        QCOMPARE(log.records.size(), size_t(2));
        QVERIFY(std::isnan(log.records[0].loss)); // the earlier writer's bare nan
        QCOMPARE(log.tornLine, int64_t(3));
        QCOMPARE(dir.dropTornMetricsLine(), int64_t(3));
        QCOMPARE(dir.metrics().tornLine, int64_t(0));
        QCOMPARE(dir.metrics().records.size(), size_t(2));

        writeText(metrics, "{\"type\":\"end\",\"global_step\":1,\"epochs_done\":1,\"stopped\":false}\n{\"type\":\"step\",\"global_step\":x}\n");
        QString e = errorOf([&] { dir.metrics(); });
        QVERIFY2(e.contains(metrics + "\" line 2 is not valid JSON"), qPrintable(e));
        writeText(metrics, "\n{\"type\":\"eval\",\"global_step\":-1.5}\n");
        e = errorOf([&] { dir.metrics(); });
        QVERIFY2(e.contains(metrics + "\" line 2: \"global_step\" is -1.5, not a whole number"), qPrintable(e));
        writeText(QString::fromStdString(dir.historyPath()), "{\"event\":\"saved\",\"file\":7}\n");
        e = errorOf([&] { dir.history(); });
        QVERIFY2(e.contains("checkpoints.jsonl\" line 1: \"file\" is 7, not a string"), qPrintable(e));
    }

    void recoverRemovesTemporaryFilesAndRestoresACompleteConfig()
    {
        QTemporaryDir tmp;
        const RunDirectory dir(tmp.path().toStdString());
        RunConfig config = defaultRunConfig();
        config.name = "recovered";
        const QByteArray json = QByteArray::fromStdString(runConfigToJson(config) + "\n");
        writeText(tmp.filePath(".config.json.tmp-AAAAAA"), json.left(json.size() / 2)); // cut: not the config
        writeText(tmp.filePath(".config.json.tmp-BBBBBB"), json);
        for (const char *junk : {".a-1_1.ckpt.tmp-123456", "..a.dnn.ckp.pending.tmp-abcdef", ".metrics.jsonl.tmp-zzzzzz", ".a-last.ckpt.link",
                                 ".a-graph.meta.tmp-qqqqqq", ".a-1_2.ckpt.deleted"}) // the last: a keep rule's unlink cut short
            writeText(tmp.filePath(junk), "junk");
        writeText(tmp.filePath(".a.dnn.ckp.pending"), "kept: CNTK's own recovery decides"); // not a temporary file
        QVERIFY(RunDirectory::open(tmp.path().toStdString()).path() == dir.path()); // a run: its config is in the temp file
        const auto done = dir.recover();
        QVERIFY(dir.hasConfig());
        QCOMPARE(dir.readConfig().name, std::string("recovered"));
        QCOMPARE(QDir(tmp.path()).entryList(QDir::Files | QDir::Hidden), (QStringList{".a.dnn.ckp.pending", "config.json"}));
        QCOMPARE(done.size(), size_t(8)); // the config put in place, seven files removed
    }

    void openSaysWhatIsNotARun()
    {
        QTemporaryDir tmp;
        QString e = errorOf([&] { RunDirectory::open(tmp.filePath("nothing").toStdString()); });
        QVERIFY2(e.contains("is not a run directory: it does not exist"), qPrintable(e));
        e = errorOf([&] { RunDirectory::open(tmp.path().toStdString()); });
        QVERIFY2(e.contains("has no config.json"), qPrintable(e));
    }
};

QTEST_GUILESS_MAIN(RunDirectoryTest)
#include "run_directory_test.moc"

// SPDX-License-Identifier: Apache-2.0
// `netwright sweep` and `netwright compare` as a user meets them: a 2×2 grid (lr × batch size, mlp
// on a real Fashion-MNIST slice) trained two at a time, killed with SIGKILL — the sweep and its
// children — at random instants and started again, ends with exactly four finished runs, each
// trained once (no step logged twice, the same logs as an uninterrupted sweep), the results sorted
// and the best config a config `train` reads; compare lists the four with their metrics and the two
// keys that differ. Random trials come back the same from the same seed; bad specs are refused
// naming the file and the key, writing nothing; `batch` takes a sweep spec as one of its configs.
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <csignal>
#include <set>

using namespace netwright;

class SweepCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_data;

    QString path(const QString &p) const { return m_dir.filePath(p); }

    QString write(const QString &name, const QString &text) const
    {
        QFile f(path(name));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(text.toUtf8());
        return path(name);
    }

    // The grid spec: 1 epoch, a checkpoint every 15 steps so that kills land between checkpoints.
    QString gridSpec() const
    {
        return write("grid.json", QStringLiteral(R"({"base": {"model": {"name": "mlp"}, %1,
  "training": {"epochs": 1, "threads": 1}, "schedule": {"warmup_steps": 0},
  "checkpoint": {"save_checkpoint_steps": 15, "keep_checkpoint_max": 2}},
 "grid": {"optimizer.lr": [0.1, 0.01], "training.batch_size": [32, 64]}})")
                                         .arg(m_data));
    }

    static QStringList runDirs(const QString &sweep)
    {
        QStringList out;
        for (const QString &d : QDir(sweep).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (QFileInfo::exists(sweep + "/" + d + "/config.json"))
                out << d;
        return out;
    }

    // The global steps of a metrics log's step records, in order.
    static QList<qint64> steps(const QString &metrics)
    {
        QList<qint64> out;
        for (const QByteArray &line : test::contents(metrics).split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value("type").toString() == QLatin1String("step"))
                out << o.value("global_step").toInteger();
        }
        return out;
    }

private slots:
    void initTestCase()
    {
        m_data = test::fashionMnistSlice(m_dir.path(), 3200, 300);
        QVERIFY(!m_data.isEmpty());
    }

    void killedSweepFinishesEveryTrialOnce()
    {
        const QString spec = gridSpec();
        // The reference: uninterrupted, and how long it takes on this machine now.
        QElapsedTimer clock;
        clock.start();
        const test::RunResult whole = test::runNetwright({"sweep", spec, "--out", path("whole"), "--parallel", "2"});
        const qint64 wholeMs = clock.elapsed();
        QVERIFY2(whole.exitCode == 0, qPrintable(whole.out + whole.err));
        QCOMPARE(runDirs(path("whole")).size(), 4);

        // Killed — the sweep and its children — at random instants, several times: each within the
        // first 5–25 % of the whole sweep's time, so three rounds cannot finish it whatever this
        // machine's speed (a fixed window let a quiet machine finish before the third kill).
        QRandomGenerator rng(20261124);
        int kills = 0;
        for (int round = 0; round < 12; ++round) {
            QProcess sweep;
            sweep.setStandardOutputFile(QProcess::nullDevice());
            sweep.start("setsid", {test::binary(), "sweep", spec, "--out", path("killed"), "--parallel", "2"});
            QVERIFY(sweep.waitForStarted());
            if (sweep.waitForFinished(std::max(100, static_cast<int>(wholeMs * (0.05 + 0.2 * rng.generateDouble())))))
                break; // it got to the end before this kill
            ::kill(-static_cast<pid_t>(sweep.processId()), SIGKILL);
            QVERIFY(sweep.waitForFinished(10000));
            ++kills;
        }
        qInfo("%d SIGKILLs (the whole sweep takes %lld ms)", kills, static_cast<long long>(wholeMs));
        QVERIFY(kills >= 3);
        const test::RunResult again = test::runNetwright({"sweep", spec, "--out", path("killed"), "--parallel", "2", "--json"});
        QVERIFY2(again.exitCode == 0, qPrintable(again.out + again.err));
        const QJsonObject result = QJsonDocument::fromJson(again.out.toUtf8()).object();
        QCOMPARE(result["metric"].toString(), QStringLiteral("eval_accuracy"));
        const QJsonArray trials = result["trials"].toArray();
        QCOMPARE(trials.size(), 4);

        // Exactly four runs, each finished, each trained once: no step logged twice, and the very
        // logs of the uninterrupted sweep.
        const QStringList dirs = runDirs(path("killed"));
        QCOMPARE(dirs, runDirs(path("whole")));
        QCOMPARE(dirs.size(), 4);
        QVERIFY(dirs.contains("lr=0.1,batch_size=32"));
        QVERIFY(dirs.contains("lr=0.01,batch_size=64"));
        for (const QString &d : dirs) {
            const QList<qint64> s = steps(path("killed/") + d + "/metrics.jsonl");
            QCOMPARE(s.size(), d.endsWith("32") ? 100 : 50);
            for (int i = 1; i < s.size(); ++i)
                QVERIFY2(s[i] == s[i - 1] + 1, qPrintable(d + ": step " + QString::number(s[i]) + " after " + QString::number(s[i - 1])));
            QVERIFY2(test::contents(path("killed/") + d + "/metrics.jsonl") == test::contents(path("whole/") + d + "/metrics.jsonl"),
                     qPrintable(d + ": metrics logs differ"));
        }
        // Sorted by the test accuracy, best first, and the best config is a config `train` reads.
        double previous = 2;
        for (const auto &t : trials) {
            const double a = t.toObject()["best_eval_accuracy"].toDouble();
            QVERIFY(a > 0.4 && a <= previous);
            previous = a;
        }
        QVERIFY(QFile::exists(path("killed/results.csv")));
        QCOMPARE(test::contents(path("killed/results.csv")).count('\n'), 5);
        const QString best = result["best_config"].toString();
        QVERIFY(QFile::exists(best));
        const test::RunResult printed = test::runNetwright({"train", "--config", best, "--print-config"});
        QVERIFY2(printed.exitCode == 0, qPrintable(printed.err));
        const QJsonObject bestValues = trials[0].toObject()["values"].toObject();
        const QJsonObject bestConfig = QJsonDocument::fromJson(printed.out.toUtf8()).object();
        QCOMPARE(bestConfig["optimizer"].toObject()["lr"].toDouble(), bestValues["optimizer.lr"].toDouble());
        QCOMPARE(bestConfig["training"].toObject()["batch_size"].toInt(), bestValues["training.batch_size"].toInt());

        // compare: the four, their metrics and exactly the two keys that differ.
        const test::RunResult compared = test::runNetwright({"compare", path("killed"), "--json"});
        QVERIFY2(compared.exitCode == 0, qPrintable(compared.err));
        const QJsonObject c = QJsonDocument::fromJson(compared.out.toUtf8()).object();
        QCOMPARE(c["differing_keys"].toArray(), (QJsonArray{"optimizer.lr", "training.batch_size"}));
        const QJsonArray runs = c["runs"].toArray();
        QCOMPARE(runs.size(), 4);
        for (const auto &v : runs) {
            const QJsonObject r = v.toObject();
            QVERIFY(dirs.contains(r["name"].toString()));
            QCOMPARE(r["differences"].toObject().keys(), (QStringList{"optimizer.lr", "training.batch_size"}));
            QVERIFY2(r["name"].toString().startsWith("lr=" + QString::number(r["differences"].toObject()["optimizer.lr"].toDouble())),
                     qPrintable(r["name"].toString()));
            QVERIFY(r["eval_accuracy"].toDouble() > 0.4);
            QVERIFY(r["final_eval_accuracy"].isDouble());
            QVERIFY(r["best_checkpoint"].toString().endsWith(".ckpt"));
            QVERIFY(QFile::exists(r["run_dir"].toString() + "/" + r["best_checkpoint"].toString()));
        }
        const test::RunResult table = test::runNetwright({"compare", path("killed/lr=0.1,batch_size=32"), path("killed/lr=0.01,batch_size=32")});
        QCOMPARE(table.exitCode, 0);
        QVERIFY2(table.out.contains("optimizer.lr") && !table.out.contains("training.batch_size"), qPrintable(table.out));
    }

    void randomTrialsComeBackFromTheirSeed()
    {
        const auto spec = [&](const QString &name, int seed) {
            return write(name, QStringLiteral(R"({"base": {"model": {"name": "mlp"}, %1, "training": {"epochs": 1}},
 "random": {"trials": 5, "seed": %2, "params": {"optimizer.lr": {"log_uniform": [1e-4, 1e-1]},
   "training.batch_size": {"choice": [32, 64, 128]}, "optimizer.momentum": {"uniform": [0.8, 0.99]}}},
 "seeds": [1, 2]})")
                                   .arg(m_data)
                                   .arg(seed));
        };
        const auto trials = [&](const QString &file) {
            const test::RunResult r = test::runNetwright({"sweep", file, "--out", path("never"), "--dry-run", "--json"});
            return r.exitCode == 0 ? QJsonDocument::fromJson(r.out.toUtf8()).object()["trials"].toArray() : QJsonArray();
        };
        const QJsonArray a = trials(spec("r1.json", 7)), b = trials(spec("r2.json", 7)), other = trials(spec("r3.json", 8));
        QCOMPARE(a.size(), 10); // 5 trials × 2 seeds
        QCOMPARE(a, b);
        QVERIFY(a != other);
        std::set<QString> names;
        for (const auto &t : a) {
            const QJsonObject values = t.toObject()["values"].toObject();
            const double lr = values["optimizer.lr"].toDouble();
            QVERIFY(lr >= 1e-4 && lr <= 1e-1);
            QVERIFY(QList<int>({32, 64, 128}).contains(values["training.batch_size"].toInt()));
            names.insert(t.toObject()["name"].toString());
        }
        QCOMPARE(names.size(), size_t(10));
        QVERIFY(!QFileInfo::exists(path("never"))); // a dry run writes nothing
    }

    void badSpecsAreRefusedNamingTheKey()
    {
        const QString base = QStringLiteral(R"("base": {"model": {"name": "mlp"}, %1})").arg(m_data);
        const struct {
            const char *file, *body, *says;
        } cases[] = {
            {"typo.json", R"("grid": {"optimizer.lrr": [0.1]})", "\"optimizer.lrr\" is not a run config key"},
            {"section.json", R"("grid": {"optimizer": [0.1]})", "\"optimizer\" is a section"},
            {"type.json", R"("grid": {"training.batch_size": ["big"]})", "grid key \"training.batch_size\" = \"big\""},
            {"range.json", R"("grid": {"training.epochs": [0]})", "training.epochs"},
            {"log.json", R"("random": {"trials": 2, "params": {"optimizer.lr": {"log_uniform": [0, 1]}}})", "random key \"optimizer.lr\""},
            {"unknown.json", R"("grid": {"optimizer.lr": [0.1]}, "seed": 3)", "unknown key \"seed\""},
            {"empty.json", R"("grid": {"optimizer.lr": []})", "grid key \"optimizer.lr\""},
        };
        for (const auto &c : cases) {
            const QString file = write(c.file, "{" + base + ", " + c.body + "}");
            const QString out = path(QStringLiteral("refused-") + c.file);
            const test::RunResult r = test::runNetwright({"sweep", file, "--out", out});
            QVERIFY2(r.exitCode == 1, c.file);
            QVERIFY2(r.err.contains(file) && r.err.contains(c.says), qPrintable(r.err));
            QVERIFY2(r.err.count('\n') == 1, qPrintable(r.err));
            QVERIFY2(!QFileInfo::exists(out), c.file); // a refused start writes nothing
        }
        // A sweep folder holds one sweep.
        const QString small = QStringLiteral(R"("base": {"model": {"name": "mlp"}, %1, "training": {"epochs": 1, "threads": 1}})").arg(m_data);
        const QString one = write("one.json", "{" + small + R"(, "grid": {"optimizer.lr": [0.1]}})");
        QCOMPARE(test::runNetwright({"sweep", one, "--out", path("one")}).exitCode, 0);
        const QString two = write("two.json", "{" + small + R"(, "grid": {"optimizer.lr": [0.5]}})");
        const test::RunResult clash = test::runNetwright({"sweep", two, "--out", path("one")});
        QCOMPARE(clash.exitCode, 1);
        QVERIFY2(clash.err.contains("holds another sweep"), qPrintable(clash.err));
        QVERIFY(!QFileInfo::exists(path("one/lr=0.5")));
    }

    void batchTakesASweepSpec()
    {
        QVERIFY(QDir().mkpath(path("queue")));
        QVERIFY(!write("queue/a-sweep.json", QStringLiteral(R"({"base": {"model": {"name": "mlp"}, %1, "training": {"epochs": 1, "threads": 1}},
 "grid": {"optimizer.lr": [0.1, 0.05]}})")
                          .arg(m_data))
                     .isEmpty());
        QVERIFY(!write("queue/b-run.json", QStringLiteral(R"({"model": {"name": "mlp"}, %1, "training": {"epochs": 1, "threads": 1}})").arg(m_data)).isEmpty());
        const test::RunResult r = test::runNetwright({"batch", path("queue"), "--out", path("queue-runs"), "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        const QJsonArray rows = QJsonDocument::fromJson(r.out.toUtf8()).object()["runs"].toArray();
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[0].toObject()["run"].toString(), QStringLiteral("a-sweep/lr=0.1"));
        QCOMPARE(rows[1].toObject()["run"].toString(), QStringLiteral("a-sweep/lr=0.05"));
        QCOMPARE(rows[2].toObject()["run"].toString(), QStringLiteral("b-run"));
        for (const auto &row : rows)
            QCOMPARE(row.toObject()["status"].toString(), QStringLiteral("trained"));
        QVERIFY(QFile::exists(path("queue-runs/a-sweep/lr=0.05/metrics.jsonl")));
        QVERIFY(QFile::exists(path("queue-runs/a-sweep/results.csv")));
        QVERIFY(QFile::exists(path("queue-runs/a-sweep/best_config.json")));
        // … and resumes it as a sweep: nothing left to do.
        const test::RunResult again = test::runNetwright({"batch", path("queue"), "--out", path("queue-runs")});
        QCOMPARE(again.exitCode, 0);
        QCOMPARE(again.out.count("finished before, skipped"), 3);
    }
};

QTEST_GUILESS_MAIN(SweepCliTest)
#include "sweep_cli_test.moc"

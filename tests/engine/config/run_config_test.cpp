// SPDX-License-Identifier: Apache-2.0
// The run config: the embedded default, strict parsing (unknown keys, wrong types, bad values name
// the key and the file), overrides over a base, and the full JSON written back parses to the same.
#include "config/run_config.h"
#include "core/error.h"
#include "support/error_of.h"

#include <QTest>

using namespace netwright;
using netwright::testing::errorOf;

class RunConfigTest : public QObject {
    Q_OBJECT
private slots:
    void embeddedDefault()
    {
        const RunConfig c = defaultRunConfig();
        QCOMPARE(c.model, std::string("cnn-small"));
        QCOMPARE(c.data.dataset, std::string("fashion-mnist"));
        QCOMPARE(c.training.epochs, 5);
        QCOMPARE(c.training.batchSize, 64);
        QCOMPARE(c.training.precision, std::string("fp32"));
        validateRunConfig(c);
    }
    void overridesAndZeroValues()
    {
        const RunConfig c = parseRunConfig(R"({"optimizer": {"momentum": 0, "name": "adam"}, "training": {"epochs": 2}})", "t.json",
                                           defaultRunConfig());
        QCOMPARE(c.optimizer.momentum, 0.0); // an explicit 0 overrides the default 0.9
        QCOMPARE(c.optimizer.name, std::string("adam"));
        QCOMPARE(c.training.epochs, 2);
        QCOMPARE(c.training.batchSize, 64); // untouched keys keep the base
        QCOMPARE(c.model, std::string("cnn-small"));
    }
    void fullJsonRoundTrips()
    {
        RunConfig c = defaultRunConfig();
        c.optimizer.nesterov = false;
        c.training.seed = 4000000000u;
        c.training.precision = "bf16";
        const std::string json = runConfigToJson(c);
        QVERIFY(QString::fromStdString(json).contains(QStringLiteral("\"nesterov\": false")));
        QVERIFY(QString::fromStdString(json).contains(QStringLiteral("\"precision\": \"bf16\"")));
        const RunConfig back = parseRunConfig(json, "back.json", RunConfig{});
        QCOMPARE(runConfigToJson(back), json);
    }
    void errorsNameTheKey_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("typo") << R"({"optimizer": {"lrr": 0.1}})" << QStringList{"run.json", "lrr"};
        QTest::newRow("top-level typo") << R"({"epochs": 3})" << QStringList{"run.json", "epochs"};
        QTest::newRow("wrong type") << R"({"training": {"epochs": "five"}})" << QStringList{"run.json", "epochs"};
        QTest::newRow("object for number") << R"({"optimizer": {"lr": {}}})" << QStringList{"run.json", "lr"};
        QTest::newRow("broken JSON") << R"({"training": )" << QStringList{"run.json"};
    }
    void errorsNameTheKey()
    {
        QFETCH(QString, json);
        QFETCH(QStringList, expected);
        const QString msg = errorOf([&] { parseRunConfig(json.toStdString(), "run.json", defaultRunConfig()); });
        QVERIFY2(!msg.isEmpty(), "no error");
        for (const auto &e : expected)
            QVERIFY2(msg.contains(e), qPrintable(msg));
    }
    void validationNamesTheKey_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("key");
        QTest::newRow("model") << R"({"model": {"name": "resnet9000"}})" << "model.name";
        QTest::newRow("epochs") << R"({"training": {"epochs": 0}})" << "training.epochs";
        QTest::newRow("optimizer") << R"({"optimizer": {"name": "rmsprop"}})" << "rmsprop";
        QTest::newRow("schedule") << R"({"schedule": {"name": "exp"}})" << "schedule.name";
        QTest::newRow("dataset") << R"({"data": {"dataset": "idx"}})" << "data.train_images";
        QTest::newRow("init") << R"({"model": {"init": "zeros"}})" << "model.init";
        QTest::newRow("precision") << R"({"training": {"precision": "fp16"}})" << "training.precision must be fp32 or bf16";
        QTest::newRow("bf16 on a GPU") << R"({"training": {"precision": "bf16", "device": "cuda"}})" << "training.precision bf16 runs on the CPU";
    }
    void validationNamesTheKey()
    {
        QFETCH(QString, json);
        QFETCH(QString, key);
        const RunConfig c = parseRunConfig(json.toStdString(), "run.json", defaultRunConfig());
        const QString msg = errorOf([&] { validateRunConfig(c); });
        QVERIFY2(msg.contains(key), qPrintable(msg));
    }
};

QTEST_GUILESS_MAIN(RunConfigTest)
#include "run_config_test.moc"

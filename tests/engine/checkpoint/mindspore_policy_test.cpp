// SPDX-License-Identifier: Apache-2.0
// MindSpore's checkpoint policy reproduced from mindspore-checkpoint-policy.md: precedence (steps
// over seconds, keep-max over per-n-minutes), the prefix clash examples, the worked examples of
// section 2.4 (names and the files left with keep_checkpoint_max=5), seconds mode and the
// keep-per-n-minutes window with an injected clock, and the breakpoint name.
#include "checkpoint/mindspore_policy.h"
#include "core/error.h"

#include <QTest>

#include <set>

using namespace netwright;
using namespace netwright::ms_policy;

namespace {

// A directory in memory: files with modification times, driven like ModelCheckpoint drives disk.
struct Simulation {
    Config config;
    std::string prefix = "CKP";
    std::vector<FileInfo> files;
    std::vector<std::string> written;

    void run(int64_t steps, int64_t stepsPerEpoch, const std::function<double(int64_t)> &clock)
    {
        SaveTrigger trigger(config, clock(0));
        auto save = [&](int64_t step, bool force) {
            const double now = clock(step);
            const double lastKeep = trigger.lastTimeForKeep();
            if (!trigger.decide(step, now, force))
                return;
            for (const auto &gone : filesToDelete(files, prefix, config, now, lastKeep))
                files.erase(std::find_if(files.begin(), files.end(), [&](const FileInfo &f) { return f.name == gone; }));
            const std::string name = checkpointName(prefix, (step - 1) / stepsPerEpoch + 1, step, stepsPerEpoch);
            files.push_back({name, now});
            written.push_back(name);
        };
        for (int64_t s = 1; s <= steps; ++s)
            save(s, false);
        save(steps, true); // ModelCheckpoint.end()
    }
    std::set<std::string> names() const
    {
        std::set<std::string> s;
        for (const auto &f : files)
            s.insert(f.name);
        return s;
    }
};

} // namespace

class MindSporePolicyTest : public QObject {
    Q_OBJECT
private slots:
    void precedence()
    {
        Config c = normalize({10, 30, 5, 2});
        QCOMPARE(c.saveCheckpointSeconds, int64_t(0)); // steps win
        QCOMPARE(c.keepCheckpointPerNMinutes, int64_t(0)); // count wins
        c = normalize({0, 30, 0, 0});
        QCOMPARE(c.saveCheckpointSeconds, int64_t(30));
        QCOMPARE(c.keepCheckpointMax, int64_t(1)); // neither keep rule: only the newest
        c = normalize({0, 30, 0, 3});
        QCOMPARE(c.keepCheckpointMax, int64_t(0));
        QCOMPARE(c.keepCheckpointPerNMinutes, int64_t(3));
        QVERIFY_THROWS_EXCEPTION(Error, normalize({0, 0, 0, 0}));
        QVERIFY_THROWS_EXCEPTION(Error, normalize({-1, 0, 5, 0}));
    }

    void prefixClash()
    {
        QCOMPARE(resolvePrefix({}, "CKP"), std::string("CKP"));
        QCOMPARE(resolvePrefix({"CKP-1_32.ckpt"}, "CKP"), std::string("CKP_1"));
        QCOMPARE(resolvePrefix({"CKP-1_32.ckpt", "CKP_1-1_32.ckpt"}, "CKP"), std::string("CKP_2"));
        QCOMPARE(resolvePrefix({"CKP_3-5_8.ckpt"}, "CKP"), std::string("CKP_4"));
        QCOMPARE(resolvePrefix({"CKPT-1_1.ckpt"}, "CKP"), std::string("CKP")); // a letter after the prefix
        QCOMPARE(resolvePrefix({"CKP-graph.meta"}, "CKP"), std::string("CKP")); // not a checkpoint extension
        QCOMPARE(resolvePrefix({"CKP-2_4.safetensors"}, "CKP"), std::string("CKP_1"));
        QCOMPARE(resolvePrefix({"CKP-3_8_breakpoint.ckpt"}, "CKP"), std::string("CKP"));
        QCOMPARE(resolvePrefix({"CKP-3_8_breakpoint.ckpt"}, "CKP", true), std::string("CKP_1"));
        QCOMPARE(breakpointName("CKPT_info", 3, 24, 8), std::string("CKPT_info-3_8_breakpoint.ckpt"));
    }

    void managedSet()
    {
        QVERIFY(isManaged("CKP-1_32.ckpt", "CKP"));
        QVERIFY(!isManaged("CKP-graph.meta", "CKP"));
        QVERIFY(!isManaged("CKP-3_8_breakpoint.ckpt", "CKP"));
        QVERIFY(!isManaged("CKP_1-1_32.ckpt", "CKP"));
        QVERIFY(!isManaged("CKP-1_32.tmp", "CKP"));
        QVERIFY(!isManaged("CKP.ckpt", "CKP"));
    }

    void workedExampleEvery32Steps()
    {
        Simulation sim;
        sim.config = normalize({32, 0, 5, 0});
        sim.run(96, 32, [](int64_t s) { return double(s); });
        QCOMPARE(sim.written, (std::vector<std::string>{"CKP-1_32.ckpt", "CKP-2_32.ckpt", "CKP-3_32.ckpt"})); // end() adds nothing
    }

    void workedExampleEvery10StepsKeep5()
    {
        Simulation sim;
        sim.config = normalize({10, 0, 5, 0});
        sim.run(96, 32, [](int64_t s) { return double(s); });
        QCOMPARE(sim.written, (std::vector<std::string>{"CKP-1_10.ckpt", "CKP-1_20.ckpt", "CKP-1_30.ckpt", "CKP-2_8.ckpt",
                                                        "CKP-2_18.ckpt", "CKP-2_28.ckpt", "CKP-3_6.ckpt", "CKP-3_16.ckpt",
                                                        "CKP-3_26.ckpt", "CKP-3_32.ckpt"}));
        QCOMPARE(sim.names(), (std::set<std::string>{"CKP-2_28.ckpt", "CKP-3_6.ckpt", "CKP-3_16.ckpt", "CKP-3_26.ckpt", "CKP-3_32.ckpt"}));
    }

    void secondsModeIsStrictlyGreater()
    {
        // A step every 4 s, save when more than 10 s passed: at 12 s, 24 s, 36 s, … plus the end.
        Simulation sim;
        sim.config = normalize({0, 10, 100, 0});
        sim.run(10, 100, [](int64_t s) { return 4.0 * double(s); });
        QCOMPARE(sim.written, (std::vector<std::string>{"CKP-1_3.ckpt", "CKP-1_6.ckpt", "CKP-1_9.ckpt", "CKP-1_10.ckpt"}));
        // Exactly 10 s later is not "more than 10 s".
        Simulation exact;
        exact.config = normalize({0, 10, 100, 0});
        exact.run(3, 100, [](int64_t s) { return 5.0 * double(s); });
        QCOMPARE(exact.written, (std::vector<std::string>{"CKP-1_3.ckpt"})); // 15 s > 10 s; 10 s is not
    }

    void keepOnePerNMinutes()
    {
        // A save every 10 s, keep_checkpoint_per_n_minutes=1: inside the trailing minute only the
        // oldest file survives (the code's behaviour, not its docstring's), so about one file a
        // minute accumulates, plus the newest.
        Simulation sim;
        sim.config = normalize({1, 0, 0, 1});
        sim.run(13, 1000, [](int64_t s) { return 10.0 * double(s); });
        QCOMPARE(sim.names(), (std::set<std::string>{"CKP-1_1.ckpt", "CKP-1_6.ckpt", "CKP-1_11.ckpt", "CKP-1_13.ckpt"}));
        // Saves a minute or more apart delete nothing.
        Simulation slow;
        slow.config = normalize({1, 0, 0, 1});
        slow.run(4, 1000, [](int64_t s) { return 61.0 * double(s); });
        QCOMPARE(slow.files.size(), size_t(4));
    }
};

QTEST_GUILESS_MAIN(MindSporePolicyTest)
#include "mindspore_policy_test.moc"

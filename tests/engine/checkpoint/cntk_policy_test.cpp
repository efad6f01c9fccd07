// SPDX-License-Identifier: Apache-2.0
// CNTK's checkpoint rules (mindspore-checkpoint-policy.md section 3): the index rule of the
// frequency trigger (old index, one save per minibatch however many multiples it crosses), the
// final partial period, frequency "only at the end", restore recomputing the index, preserve_all
// naming without separator or padding, and the restore scan.
#include "checkpoint/cntk_policy.h"

#include <QTest>

using namespace netwright::cntk_policy;

class CntkPolicyTest : public QObject {
    Q_OBJECT

private slots:
    void savesWithTheOldIndexWhenAMultipleIsCrossed()
    {
        Trigger t(100); // samples
        std::vector<uint64_t> saved;
        // Minibatches of 64 samples: multiples of 100 are crossed at 128, 256, 320, 448 and 512.
        for (uint64_t total = 64; total <= 576; total += 64)
            if (const auto i = t.afterMinibatch(total))
                saved.push_back(*i);
        QCOMPARE(saved, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
        // 576 is not a multiple and was not saved: the final partial period saves with the current index.
        QCOMPARE(t.atEnd(576), std::optional<uint64_t>(5));
        QCOMPARE(t.atEnd(576), std::optional<uint64_t>());
        Trigger u(100);
        for (uint64_t total = 64; total <= 512; total += 64)
            u.afterMinibatch(total);
        QCOMPARE(u.atEnd(512), std::optional<uint64_t>()); // 512 was just saved
    }

    void aMinibatchCrossingSeveralMultiplesSavesOnce()
    {
        Trigger t(10);
        QCOMPARE(t.afterMinibatch(35), std::optional<uint64_t>(0));
        QCOMPARE(t.index(), uint64_t(3));
        QCOMPARE(t.afterMinibatch(39), std::optional<uint64_t>());
        QCOMPARE(t.afterMinibatch(40), std::optional<uint64_t>(3));
    }

    void noFinalCheckpointWhenTheLastSaveWasAtTheEnd()
    {
        Trigger t(5); // minibatches
        for (uint64_t mb = 1; mb <= 10; ++mb)
            t.afterMinibatch(mb);
        QCOMPARE(t.atEnd(10), std::optional<uint64_t>()); // 10 is a multiple: saved at 10 already
    }

    void frequencyZeroSavesOnlyAtTheEnd()
    {
        Trigger t(0);
        for (uint64_t s = 1; s <= 50; ++s)
            QCOMPARE(t.afterMinibatch(s), std::optional<uint64_t>());
        QCOMPARE(t.atEnd(50), std::optional<uint64_t>(0));
    }

    void restoreRecomputesTheIndexAndNeedsNewProgressForAFinalSave()
    {
        Trigger t(100);
        t.restore(250);
        QCOMPARE(t.index(), uint64_t(2));
        QCOMPARE(t.atEnd(250), std::optional<uint64_t>()); // nothing trained since the restore
        QCOMPARE(t.afterMinibatch(300), std::optional<uint64_t>(2));
        QCOMPARE(t.atEnd(330), std::optional<uint64_t>(3));
    }

    void preserveAllNaming()
    {
        QCOMPARE(checkpointName("model.dnn", 0), std::string("model.dnn0"));
        QCOMPARE(checkpointName("model.dnn", 12), std::string("model.dnn12"));
        QCOMPARE(checkpointName("model.dnn", std::nullopt), std::string("model.dnn"));
    }

    void restoreScan()
    {
        // The plain name wins when it is there with its .ckp.
        QCOMPARE(findRestoreFile({"m.dnn", "m.dnn.ckp", "m.dnn7", "m.dnn7.ckp"}, "m.dnn"), std::string("m.dnn"));
        // Else the largest index whose .ckp exists; not-all-digit suffixes are not candidates.
        QCOMPARE(findRestoreFile({"m.dnn2", "m.dnn2.ckp", "m.dnn10", "m.dnn10.ckp", "m.dnn11", "m.dnn9", "m.dnn9.ckp",
                                  "m.dnn12x", "m.dnn12x.ckp", "m.dnn.ckp", "m.dnn-3", "m.dnn-3.ckp"},
                                 "m.dnn"),
                 std::string("m.dnn10"));
        // A .ckp without its model and the plain name without its .ckp are not restorable.
        QCOMPARE(findRestoreFile({"m.dnn", "m.dnn4.ckp"}, "m.dnn"), std::string());
        // Indices are compared as numbers, not text; leading zeros parse.
        QCOMPARE(findRestoreFile({"m.dnn9", "m.dnn9.ckp", "m.dnn010", "m.dnn010.ckp"}, "m.dnn"), std::string("m.dnn010"));
        QCOMPARE(findRestoreFile({}, "m.dnn"), std::string());
    }
};

QTEST_GUILESS_MAIN(CntkPolicyTest)
#include "cntk_policy_test.moc"

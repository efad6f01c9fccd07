// SPDX-License-Identifier: Apache-2.0
// Minibatch sources: seeded shuffling is a permutation that changes every epoch and repeats per
// seed; saveState/restoreState (also mid-epoch, also through the prefetching wrapper) resumes
// with exactly the same following batches.
#include "core/error.h"
#include "data/minibatch_source.h"

#include <QTest>

#include <set>

using namespace netwright;

namespace {

std::shared_ptr<Dataset> counting(int64_t n)
{
    auto ds = std::make_shared<Dataset>();
    ds->name = "counting";
    ds->features = Tensor({n, 1});
    ds->labels = Tensor({n}, DType::Int64);
    for (int64_t i = 0; i < n; ++i) {
        ds->features.data()[i] = static_cast<float>(i);
        ds->labels.dataAs<int64_t>()[i] = i % 10;
    }
    ds->classes = 10;
    return ds;
}

std::vector<float> drain(MinibatchSource &s, int batches)
{
    std::vector<float> out;
    for (int b = 0; b < batches;) {
        auto mb = s.next();
        if (!mb) {
            out.push_back(-1.0f); // epoch boundary marker
            continue;
        }
        out.insert(out.end(), mb->features.data(), mb->features.data() + mb->features.numel());
        ++b;
    }
    return out;
}

} // namespace

class MinibatchSourceTest : public QObject {
    Q_OBJECT
private slots:
    void shuffleIsASeededPermutationPerEpoch()
    {
        DatasetSource s(counting(100), 32, true, false, 42, {});
        QCOMPARE(s.batchesPerEpoch(), int64_t(4));
        std::vector<float> e1 = drain(s, 4);
        QVERIFY(!s.next()); // end of epoch 1
        std::vector<float> e2 = drain(s, 4);
        QCOMPARE(e1.size(), size_t(100)); // last batch of 4 kept (drop_last off)
        QCOMPARE(std::set<float>(e1.begin(), e1.end()).size(), size_t(100));
        QVERIFY(e1 != e2);
        DatasetSource again(counting(100), 32, true, false, 42, {});
        QCOMPARE(drain(again, 4), e1);
        DatasetSource other(counting(100), 32, true, false, 43, {});
        QVERIFY(drain(other, 4) != e1);
        DatasetSource dropping(counting(100), 32, true, true, 42, {});
        QCOMPARE(dropping.batchesPerEpoch(), int64_t(3));
    }

    void restoreMidEpochContinuesExactly_data()
    {
        QTest::addColumn<bool>("prefetch");
        QTest::newRow("direct") << false;
        QTest::newRow("prefetching") << true;
    }
    void restoreMidEpochContinuesExactly()
    {
        QFETCH(bool, prefetch);
        auto make = [&]() -> std::unique_ptr<MinibatchSource> {
            auto inner = std::make_unique<DatasetSource>(counting(50), 8, true, false, 7, Normalization{2.0f, 1.0f, 4.0f});
            if (prefetch)
                return std::make_unique<PrefetchingSource>(std::move(inner));
            return inner;
        };
        auto a = make();
        drain(*a, 10); // into the second epoch (7 batches an epoch)
        const SourceState st = a->saveState();
        QCOMPARE(st.epoch, int64_t(1));
        QCOMPARE(st.position, int64_t(24));
        const std::vector<float> rest = drain(*a, 12);
        auto b = make();
        b->restoreState(st);
        QCOMPARE(b->saveState(), st);
        QCOMPARE(drain(*b, 12), rest);
    }

    void normalisationIsApplied()
    {
        DatasetSource s(counting(4), 4, false, false, 1, Normalization{2.0f, 1.0f, 4.0f});
        auto mb = s.next();
        QVERIFY(mb.has_value());
        QCOMPARE(mb->features.data()[3], (3.0f * 2.0f - 1.0f) / 4.0f);
    }

    void invalidSettings()
    {
        QVERIFY_THROWS_EXCEPTION(Error, DatasetSource(counting(4), 0, false, false, 1, {}));
        QVERIFY_THROWS_EXCEPTION(Error, DatasetSource(counting(4), 8, false, true, 1, {}));
    }
};

QTEST_GUILESS_MAIN(MinibatchSourceTest)
#include "minibatch_source_test.moc"

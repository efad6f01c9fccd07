// SPDX-License-Identifier: Apache-2.0
// SIGINT/SIGTERM as a stop request (run/stop_signals.h): the signal is recorded; the computing
// threads (this one and OpenMP's workers) never handle it, a thread started before keeps its mask,
// and everything is as before once it ends. And the reason for all that: a storm of SIGINTs sent
// to the process while it multiplies with oneDNN's sgemm leaves every product bit-exact and the
// heap intact (with the signals handled on the computing thread, oneDNN 2.x's JIT kernels let
// the signal frame land in the heap and the process aborts or crashes).
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "run/stop_signals.h"

#include <QElapsedTimer>
#include <QTest>

#include <atomic>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

using namespace netwright;

namespace {

bool stopSignalsBlocked()
{
    sigset_t now;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &now);
    return sigismember(&now, SIGINT) && sigismember(&now, SIGTERM);
}

// Whether each of the kernel threads (index 0: this one) has SIGINT and SIGTERM blocked.
std::vector<bool> blockedOnKernelThreads()
{
    std::vector<char> blocked(static_cast<size_t>(threadCount()), 0);
    parallelFor(
        threadCount(), [&](int64_t, int64_t, int t) { blocked[static_cast<size_t>(t)] = stopSignalsBlocked(); }, 1);
    return {blocked.begin(), blocked.end()};
}

std::atomic<int> g_previousHandlerRan{0};
extern "C" void previousHandler(int sig)
{
    g_previousHandlerRan = sig;
}

bool waitFor(const std::function<bool()> &done, int ms = 5000)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done();
}

} // namespace

class StopSignalsTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        setThreadCount(4); // more workers than this machine may have cores: every one must be covered
        // The program's own handler, which StopSignals must put back.
        struct sigaction action {};
        action.sa_handler = previousHandler;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, nullptr);
        ::sigaction(SIGTERM, &action, nullptr);
    }

    void computingThreadsNeverHandleTheSignals()
    {
        QCOMPARE(blockedOnKernelThreads(), std::vector<bool>(4, false));
        // A thread that exists before (a data reader) keeps the mask it had.
        std::atomic<bool> readerBlocked{true}, check{false};
        std::jthread reader([&](std::stop_token stop) {
            while (!stop.stop_requested()) {
                if (check) {
                    readerBlocked = stopSignalsBlocked();
                    check = false;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
        {
            const StopSignals stops;
            QCOMPARE(blockedOnKernelThreads(), std::vector<bool>(4, true));
            check = true;
            QVERIFY(waitFor([&] { return !check; }));
            QVERIFY(!readerBlocked);
            // A thread started now (a checkpoint writer) starts blocked.
            bool writerBlocked = false;
            std::thread([&] { writerBlocked = stopSignalsBlocked(); }).join();
            QVERIFY(writerBlocked);
            // A smaller team ends OpenMP's surplus workers; the next full one starts new ones,
            // from this blocked thread: blocked too, and opened again afterwards (checked below).
            parallelFor(2, [](int64_t, int64_t, int) {}, 1);
            QCOMPARE(blockedOnKernelThreads(), std::vector<bool>(4, true));
            QCOMPARE(stops.received(), 0);
        }
        reader.request_stop();
        QCOMPARE(blockedOnKernelThreads(), std::vector<bool>(4, false));
        struct sigaction now {};
        ::sigaction(SIGINT, nullptr, &now);
        QVERIFY(now.sa_handler == previousHandler);
        ::sigaction(SIGTERM, nullptr, &now);
        QVERIFY(now.sa_handler == previousHandler);
    }

    void theFirstSignalIsRecorded()
    {
        g_previousHandlerRan = 0;
        {
            const StopSignals stops;
            ::kill(::getpid(), SIGTERM);
            QVERIFY(waitFor([&] { return stops.received() != 0; }));
            QCOMPARE(stops.received(), SIGTERM);
            ::kill(::getpid(), SIGINT); // a second one does not change which stopped the run
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            QCOMPARE(stops.received(), SIGTERM);
            QVERIFY_THROWS_EXCEPTION(Error, StopSignals{}); // one owner at a time
        }
        QCOMPARE(g_previousHandlerRan.load(), 0);
        // Afterwards the program's handler has them again; a new StopSignals starts from none.
        ::kill(::getpid(), SIGINT);
        QVERIFY(waitFor([] { return g_previousHandlerRan.load() == SIGINT; }));
        const StopSignals again;
        QCOMPARE(again.received(), 0);
    }

    void aSignalStormDuringProductsChangesNothing()
    {
        // The shapes of the cnn-bn classifier's products (forward, weight and input gradients),
        // where `netwright train` aborted about once in twenty SIGINT stops before the fix.
        struct Product {
            bool ta, tb;
            int64_t M, N, K;
        };
        const std::vector<Product> products{
            {false, true, 32, 128, 3136}, {true, false, 128, 3136, 32}, {false, false, 32, 3136, 128}, {false, true, 32, 10, 128}};
        Rng rng(7);
        std::vector<std::vector<float>> a, b, expected;
        for (const Product &p : products) {
            std::vector<float> x(static_cast<size_t>(p.M * p.K)), y(static_cast<size_t>(p.K * p.N)), c(static_cast<size_t>(p.M * p.N));
            for (float &v : x)
                v = rng.uniform() - 0.5f;
            for (float &v : y)
                v = rng.uniform() - 0.5f;
            blas::gemm(p.ta, p.tb, p.M, p.N, p.K, 1.0f, x.data(), p.ta ? p.M : p.K, y.data(), p.tb ? p.K : p.N, 0.0f, c.data(), p.N);
            a.push_back(std::move(x));
            b.push_back(std::move(y));
            expected.push_back(std::move(c));
        }
        const StopSignals stops;
        std::atomic<bool> done{false};
        std::atomic<int> sent{0};
        std::thread storm([&] {
            while (!done) {
                ::kill(::getpid(), SIGINT);
                ++sent;
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        });
        // Until 3,000 were sent (about a second here; longer on a busy machine). Without the fix
        // the process died within 0.1 s.
        int rounds = 0, differing = 0;
        QElapsedTimer t;
        t.start();
        while (sent < 3000 && t.elapsed() < 60000) {
            for (size_t i = 0; i < products.size(); ++i) {
                const Product &p = products[i];
                std::vector<float> c(expected[i].size()); // an allocation and a free per product
                blas::gemm(p.ta, p.tb, p.M, p.N, p.K, 1.0f, a[i].data(), p.ta ? p.M : p.K, b[i].data(), p.tb ? p.K : p.N, 0.0f, c.data(), p.N);
                differing += std::memcmp(c.data(), expected[i].data(), c.size() * sizeof(float)) != 0;
            }
            ++rounds;
        }
        done = true;
        storm.join();
        qInfo("%d rounds of %zu products, %d SIGINTs sent", rounds, products.size(), sent.load());
        QVERIFY(sent >= 3000);
        QCOMPARE(differing, 0);
        QCOMPARE(stops.received(), SIGINT);
    }
};

QTEST_GUILESS_MAIN(StopSignalsTest)
#include "stop_signals_test.moc"

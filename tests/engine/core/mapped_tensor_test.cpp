// SPDX-License-Identifier: Apache-2.0
// Tensors over a memory-mapped file (ONNX external data, MindIR variables): Tensor::adopt aliases
// the file without a copy; a value written through the tensor stays (copy on write) and the file
// does not change, also after releaseIfMapped gives the pages back; streamed statistics equal
// computeStats and leave the mapped tensor's pages out of the resident set.
#include "core/error.h"
#include "core/file_view.h"
#include "core/tensor.h"
#include "core/tensor_stats.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

using namespace netwright;

namespace {

// Pages of [p, p + bytes) mapped into this process (what its RSS counts): /proc/self/pagemap bit
// 63. (mincore would say whether the file's pages are in the page cache, which they stay.)
size_t residentPages(const void *p, size_t bytes)
{
    const size_t page = 4096;
    const int fd = ::open("/proc/self/pagemap", O_RDONLY);
    std::vector<uint64_t> entries((bytes + page - 1) / page);
    const ssize_t got = fd < 0 ? -1 : ::pread(fd, entries.data(), entries.size() * 8, off_t(reinterpret_cast<uintptr_t>(p) / page * 8));
    if (fd >= 0)
        ::close(fd);
    if (got != ssize_t(entries.size() * 8))
        return size_t(-1);
    size_t n = 0;
    for (uint64_t e : entries)
        n += e >> 63;
    return n;
}

} // namespace

class MappedTensorTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    std::string writeFloats(const QString &name, const std::vector<float> &values)
    {
        QFile f(m_dir.filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(reinterpret_cast<const char *>(values.data()), static_cast<qint64>(values.size() * sizeof(float)));
        return f.fileName().toStdString();
    }

private slots:
    void adoptAliasesAndWritesStayPrivate()
    {
        std::vector<float> values(3 * 1024 * 1024 / 4);
        for (size_t i = 0; i < values.size(); ++i)
            values[i] = float(i % 1000) * 0.5f;
        const std::string path = writeFloats("w.bin", values);
        auto view = FileView::open(path);
        Tensor t = Tensor::adopt({int64_t(values.size())}, DType::Float32, std::const_pointer_cast<void>(aliasing(view, 0)));
        QCOMPARE(t.raw(), static_cast<const void *>(view->bytes().data())); // no copy
        QCOMPARE(t.data()[1001], 0.5f);
        t.data()[5] = -7.0f; // a trained weight: copied on write
        releaseIfMapped(t.raw(), t.byteSize());
        QCOMPARE(t.data()[5], -7.0f);      // kept although its range was given back
        QCOMPARE(t.data()[6], 3.0f);       // the rest still reads the file
        QCOMPARE(t.data()[1000 * 600 + 3], 1.5f);
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray disk = f.readAll();
        QCOMPARE(reinterpret_cast<const float *>(disk.constData())[5], 2.5f); // the file is unchanged
        QVERIFY_THROWS_EXCEPTION(Error, Tensor::adopt({2}, DType::Float32, std::const_pointer_cast<void>(aliasing(view, 4))));
    }

    void streamingStatisticsReleasePages()
    {
        std::vector<float> values(12 * 1024 * 1024); // 48 MiB: three 16 MiB chunks
        for (size_t i = 0; i < values.size(); ++i)
            values[i] = std::sin(float(i) * 0.001f) * 3.0f + (i % 7 == 0 ? 1.0f : 0.0f);
        values[100] = NAN;
        values[values.size() - 1] = INFINITY;
        auto view = FileView::open(writeFloats("big.bin", values));
        Tensor t = Tensor::adopt({int64_t(values.size())}, DType::Float32, std::const_pointer_cast<void>(aliasing(view, 0)));
        const TensorStats whole = computeStats(t);
        QVERIFY(residentPages(t.raw(), t.byteSize()) > t.byteSize() / 4096 / 2); // computeStats touched it all
        releaseIfMapped(t.raw(), t.byteSize());
        QCOMPARE(residentPages(t.raw(), t.byteSize()), size_t(0));
        const TensorStats streamed = computeStreamingStats(t);
        QCOMPARE(residentPages(t.raw(), t.byteSize()), size_t(0)); // streamed statistics left none resident
        QCOMPARE(streamed.count, whole.count);
        QCOMPARE(streamed.finite, whole.finite);
        QCOMPARE(streamed.nans, int64_t(1));
        QCOMPARE(streamed.infinities, int64_t(1));
        QCOMPARE(streamed.min, whole.min);
        QCOMPARE(streamed.max, whole.max);
        QVERIFY(std::abs(streamed.mean - whole.mean) < 1e-12 * std::max(1.0, std::abs(whole.mean)));
        QVERIFY(std::abs(streamed.std - whole.std) < 1e-12 * whole.std);
        // A tensor in ordinary memory is left alone by releaseIfMapped.
        Tensor heap = t.clone();
        releaseIfMapped(heap.raw(), heap.byteSize());
        QCOMPARE(heap.data()[7], values[7]);
    }
};

QTEST_GUILESS_MAIN(MappedTensorTest)
#include "mapped_tensor_test.moc"

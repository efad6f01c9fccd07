// SPDX-License-Identifier: Apache-2.0
// IDX and CSV readers: real Fashion-MNIST (counts, shapes, a balanced label histogram), written
// files round-trip (plain and gzip'd), and broken files give one clear error naming the file.
#include "core/error.h"
#include "data/dataset.h"

#include <QTemporaryDir>
#include <QTest>

#include <zlib.h>

#include <fstream>

using namespace netwright;

namespace {

std::string idxBytes(uint8_t type, const std::vector<int32_t> &dims, const std::string &data)
{
    std::string s{char(0), char(0), char(type), char(dims.size())};
    for (int32_t d : dims)
        for (int k = 3; k >= 0; --k)
            s.push_back(char((d >> (8 * k)) & 0xff));
    return s + data;
}

void writeFile(const std::string &path, const std::string &bytes, bool gz)
{
    if (gz) {
        gzFile f = gzopen(path.c_str(), "wb");
        gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
        gzclose(f);
    } else {
        std::ofstream(path, std::ios::binary) << bytes;
    }
}

void expectError(const std::function<void()> &fn, const QStringList &parts)
{
    try {
        fn();
        QFAIL("no error");
    } catch (const Error &e) {
        for (const auto &p : parts)
            QVERIFY2(QString::fromUtf8(e.what()).contains(p), e.what());
    }
}

} // namespace

class DatasetTest : public QObject {
    Q_OBJECT
private slots:
    void realFashionMnist()
    {
        const std::string dir = defaultFashionMnistDir();
        const Dataset train = loadIdxDataset(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz");
        const Dataset test = loadIdxDataset(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
        QCOMPARE(train.size(), int64_t(60000));
        QCOMPARE(test.size(), int64_t(10000));
        QCOMPARE(train.sampleShape(), (Shape{1, 28, 28}));
        QCOMPARE(train.classes, int64_t(10));
        std::vector<int> hist(10, 0);
        for (int64_t i = 0; i < test.size(); ++i)
            ++hist[test.labels.dataAs<int64_t>()[i]];
        for (int h : hist)
            QCOMPARE(h, 1000); // Fashion-MNIST's test split is balanced
        // Pixels span the whole byte range.
        const uint8_t *px = train.features.dataAs<uint8_t>();
        QCOMPARE(int(*std::max_element(px, px + train.features.numel())), 255);
    }

    void roundTripPlainAndGzip_data()
    {
        QTest::addColumn<bool>("gz");
        QTest::newRow("plain") << false;
        QTest::newRow("gzip") << true;
    }
    void roundTripPlainAndGzip()
    {
        QFETCH(bool, gz);
        QTemporaryDir dir;
        const std::string img = dir.filePath("img.idx").toStdString(), lab = dir.filePath("lab.idx").toStdString();
        std::string pixels;
        for (int i = 0; i < 3 * 2 * 2; ++i)
            pixels.push_back(char(i * 20));
        writeFile(img, idxBytes(0x08, {3, 2, 2}, pixels), gz);
        writeFile(lab, idxBytes(0x08, {3}, std::string{char(2), char(0), char(1)}), gz);
        const Dataset ds = loadIdxDataset(img, lab);
        QCOMPARE(ds.features.shape(), (Shape{3, 1, 2, 2}));
        QCOMPARE(int(ds.features.dataAs<uint8_t>()[5]), 100);
        QCOMPARE(ds.labels.dataAs<int64_t>()[0], int64_t(2));
        QCOMPARE(ds.classes, int64_t(3));
        // float32 IDX (type 0x0D) keeps its values.
        const float v = 1.5f;
        uint32_t u;
        std::memcpy(&u, &v, 4);
        writeFile(img, idxBytes(0x0D, {1}, std::string{char(u >> 24), char(u >> 16), char(u >> 8), char(u)}), gz);
        QCOMPARE(readIdx(img).data()[0], 1.5f);
    }

    void brokenFiles()
    {
        QTemporaryDir dir;
        const std::string p = dir.filePath("bad.idx").toStdString();
        writeFile(p, idxBytes(0x08, {10, 28, 28}, std::string(100, 'x')), false);
        expectError([&] { readIdx(p); }, {QString::fromStdString(p), "truncated", "7840"});
        writeFile(p, idxBytes(0x08, {10, 28, 28}, std::string(500, 'x')), true);
        expectError([&] { readIdx(p); }, {QString::fromStdString(p), "truncated"});
        writeFile(p, "PK\x03\x04 this is a zip", false);
        expectError([&] { readIdx(p); }, {"bad magic"});
        writeFile(p, idxBytes(0x42, {1}, "x"), false);
        expectError([&] { readIdx(p); }, {"unknown element type 0x42"});
        writeFile(p, idxBytes(0x08, {2}, "abc"), false);
        expectError([&] { readIdx(p); }, {"bytes after"});
        writeFile(p, idxBytes(0x0E, {0x7fffffff, 0x7fffffff, 0x7fffffff}, ""), false);
        expectError([&] { readIdx(p); }, {"absurd"});
        // A gzip stream with a flipped byte in the middle of its deflate data.
        writeFile(p, idxBytes(0x08, {4000}, std::string(4000, 'a')), true);
        std::string bytes;
        {
            std::ifstream in(p, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        bytes[bytes.size() - 6] ^= 0x5a; // inside the CRC/length trailer
        writeFile(p, bytes, false);
        expectError([&] { readIdx(p); }, {QString::fromStdString(p)});
        expectError([&] { readIdx(dir.filePath("missing.idx").toStdString()); }, {"missing.idx", "No such file"});
        // Images and labels that disagree on the sample count.
        const std::string img = dir.filePath("i.idx").toStdString(), lab = dir.filePath("l.idx").toStdString();
        writeFile(img, idxBytes(0x08, {2, 1, 1}, "ab"), false);
        writeFile(lab, idxBytes(0x08, {3}, "abc"), false);
        expectError([&] { loadIdxDataset(img, lab); }, {"2 samples", "3 labels"});
    }

    void csv()
    {
        QTemporaryDir dir;
        const std::string p = dir.filePath("d.csv").toStdString();
        writeFile(p, "label,a,b\n1,0.5,2\n0, 3 ,4\n\n2,5,6\r\n", false);
        const Dataset ds = loadCsvDataset(p, true);
        QCOMPARE(ds.features.shape(), (Shape{3, 2}));
        QCOMPARE(ds.features.data()[2], 3.0f);
        QCOMPARE(ds.labels.dataAs<int64_t>()[2], int64_t(2));
        QCOMPARE(ds.classes, int64_t(3));
        writeFile(p, "1,2,3\n0,x,3\n", false);
        expectError([&] { loadCsvDataset(p, false); }, {"line 2", "column 2", "\"x\" is not a number"});
        writeFile(p, "1,2,3\n0,3\n", false);
        expectError([&] { loadCsvDataset(p, false); }, {"line 2 has 2 columns"});
        writeFile(p, "1.5,2\n", false);
        expectError([&] { loadCsvDataset(p, false); }, {"not a class number"});
    }
};

QTEST_GUILESS_MAIN(DatasetTest)
#include "dataset_test.moc"

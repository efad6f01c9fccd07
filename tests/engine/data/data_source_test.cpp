// SPDX-License-Identifier: Apache-2.0
// The data users bring (engine/data/data_source.h): detection from the path; CSV tables with a
// header (target by name, text classes, the line and column of every problem); CIFAR-10 binary
// batches; image folders (classes, train/test layout, sizes); NumPy arrays; the seeded stratified
// split; the targets checked against the task; standardisation and the seeded augmentation.
#include "core/error.h"
#include "data/data_source.h"
#include "formats/npy/npy_file.h"
#include "support/error_of.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <fstream>
#include <cstring>
#include <map>
#include <set>

using namespace netwright;
using netwright::testing::errorOf;

namespace {

void write(const QString &path, const std::string &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    std::ofstream(path.toStdString(), std::ios::binary) << bytes;
}

// Runs python3 (Debian's, with PIL and numpy) on `code` with the directory as argv[1].
bool python(const QString &code, const QString &dir)
{
    QProcess py;
    py.setProcessChannelMode(QProcess::ForwardedChannels);
    py.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), code, dir});
    return py.waitForFinished(120000) && py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0;
}

DataSettings pathSettings(const QString &path)
{
    DataSettings s;
    s.dataset = "path";
    s.path = path.toStdString();
    return s;
}

std::string cifarRecord(uint8_t label, uint8_t fill)
{
    std::string r(3073, char(fill));
    r[0] = char(label);
    return r;
}

} // namespace

class DataSourceTest : public QObject {
    Q_OBJECT
private slots:
    void csvTableWithTextClasses()
    {
        QTemporaryDir dir;
        const QString f = dir.filePath("flowers.csv");
        write(f, "\xEF\xBB\xBFpetal length,\"petal, width\",species\r\n1.4,0.2,setosa\r\n4.7,1.4,versicolor\r\n"
                 "6.0,2.5,virginica\r\n1.3,0.2,setosa\r\n\r\n");
        const DataSourceContents c = readDataSource(f.toStdString(), pathSettings(f), {});
        QCOMPARE(c.kind, DataKind::CsvTable);
        const Dataset &d = c.train;
        QCOMPARE(d.size(), int64_t(4));
        QCOMPARE(d.sampleShape(), (Shape{2}));
        QCOMPARE(d.featureNames, (std::vector<std::string>{"petal length", "petal, width"}));
        QCOMPARE(d.classNames, (std::vector<std::string>{"setosa", "versicolor", "virginica"})); // sorted
        QVERIFY(d.hasClassLabels());
        QCOMPARE(d.labels.dataAs<int64_t>()[1], int64_t(1));
        QCOMPARE(d.labels.dataAs<int64_t>()[2], int64_t(2));
        QCOMPARE(d.features.data()[2], 4.7f);
        QVERIFY(c.test == std::nullopt);
    }

    void csvTargetByNameAndDefault()
    {
        QTemporaryDir dir;
        const QString f = dir.filePath("t.csv");
        write(f, "a,Target,b,c\n1,10.5,2,3\n4,20.25,5,6\n");
        // "target" in any case is the default target column, wherever it stands
        Dataset d = readDataSource(f.toStdString(), pathSettings(f), {}).train;
        QCOMPARE(d.featureNames, (std::vector<std::string>{"a", "b", "c"}));
        QCOMPARE(d.targetNames, (std::vector<std::string>{"Target"}));
        QCOMPARE(d.labels.shape(), (Shape{2, 1}));
        QCOMPARE(d.labels.data()[1], 20.25f);
        // --label chooses; several columns are several targets
        DataSettings s = pathSettings(f);
        s.label = "b, c";
        d = readDataSource(f.toStdString(), s, {}).train;
        QCOMPARE(d.featureNames, (std::vector<std::string>{"a", "Target"}));
        QCOMPARE(d.labels.shape(), (Shape{2, 2}));
        QCOMPARE(d.labels.data()[3], 6.0f);
        // no named target: the last column
        write(f, "x1,x2,out\n1,2,3\n");
        d = readDataSource(f.toStdString(), pathSettings(f), {}).train;
        QCOMPARE(d.targetNames, (std::vector<std::string>{"out"}));
        s.label = "nope";
        QVERIFY(errorOf([&] { readDataSource(f.toStdString(), s, {}); }).contains("has no column \"nope\" (its columns: x1, x2, out)"));
    }

    void csvProblemsNameTheLine_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("ragged") << "a,b,label\n1,2,0\n3,4\n" << "line 3 has 2 columns; the header has 3";
        QTest::newRow("not a number") << "a,b,label\n1,2,0\n3,x4,1\n" << "line 3, column \"b\": \"x4\" is not a number";
        QTest::newRow("missing") << "a,b,label\n1,,0\n" << "line 2, column \"b\": the value is missing";
        QTest::newRow("missing target") << "a,b,label\n1,2,\n" << "line 2, column \"label\": the target is missing";
        QTest::newRow("no header") << "1,2,3\n4,5,6\n" << "line 1 holds only numbers: a CSV table starts with a header row";
        QTest::newRow("empty") << "" << "is empty";
        QTest::newRow("header only") << "a,b\n" << "has a header but no rows";
        QTest::newRow("open quote") << "a,b\n\"1,2\n" << "line 2: a quoted field is not closed";
        QTest::newRow("text feature hint") << "diagnosis,x\nbenign,1\n" << "choose it with --label \"diagnosis\"";
    }
    void csvProblemsNameTheLine()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString f = dir.filePath("bad.csv");
        write(f, text.toStdString());
        const QString e = errorOf([&] { readDataSource(f.toStdString(), pathSettings(f), {}); });
        QVERIFY2(e.contains(f) && e.contains(expected), qPrintable(e));
    }

    void testTableLabelOutsideTheTrainingClasses()
    {
        QTemporaryDir dir;
        write(dir.filePath("train.csv"), "x,label\n1,cat\n2,dog\n3,cat\n");
        write(dir.filePath("test.csv"), "x,label\n1,dog\n2,bird\n");
        DataSettings s = pathSettings(dir.filePath("train.csv"));
        s.testPath = dir.filePath("test.csv").toStdString();
        const QString e = errorOf([&] { loadDataPath(s, "classification", 1); });
        QVERIFY2(e.contains("test.csv\" line 3: the label \"bird\" is not one of the training data's classes"), qPrintable(e));
        write(dir.filePath("test.csv"), "x,label\n1,dog\n2,cat\n");
        const LoadedData d = loadDataPath(s, "classification", 1);
        QCOMPARE(d.test->labels.dataAs<int64_t>()[0], int64_t(1)); // dog: the training file's class index
        QCOMPARE(d.test->classNames, (std::vector<std::string>{"cat", "dog"}));
    }

    void cifarBatches()
    {
        QTemporaryDir dir;
        write(dir.filePath("data_batch_1.bin"), cifarRecord(3, 10) + cifarRecord(7, 20));
        write(dir.filePath("data_batch_2.bin"), cifarRecord(9, 30));
        write(dir.filePath("test_batch.bin"), cifarRecord(0, 40));
        const DataSourceContents c = readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {});
        QCOMPARE(c.kind, DataKind::Cifar);
        QCOMPARE(c.train.size(), int64_t(3));
        QCOMPARE(c.train.sampleShape(), (Shape{3, 32, 32}));
        QCOMPARE(c.train.labels.dataAs<int64_t>()[2], int64_t(9));
        QCOMPARE(int(c.train.features.dataAs<uint8_t>()[3072 + 5]), 20);
        QVERIFY(c.test.has_value());
        QCOMPARE(c.test->size(), int64_t(1));
        QCOMPARE(c.train.classes, int64_t(10));
        // the class names CIFAR ships beside its batches
        write(dir.filePath("batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
        QCOMPARE(readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {}).train.classNames[3], std::string("cat"));
        // a label outside the classes, and a file that is not whole records, name the file and record
        write(dir.filePath("data_batch_2.bin"), cifarRecord(9, 30) + cifarRecord(12, 0));
        QString e = errorOf([&] { readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {}); });
        QVERIFY2(e.contains("data_batch_2.bin\" record 1 (byte 3073): label 12 is outside the 10 classes"), qPrintable(e));
        write(dir.filePath("data_batch_2.bin"), cifarRecord(9, 30).substr(0, 3000));
        e = errorOf([&] { readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {}); });
        QVERIFY2(e.contains("data_batch_2.bin\" as a CIFAR-10 binary batch: its 3000 bytes are not a whole number of 3073-byte records"),
                 qPrintable(e));
    }

    void imageFolders()
    {
        QTemporaryDir dir;
        // PIL writes the files: two classes of 6×5 images, gray and RGB mixed, and a train/test layout
        QVERIFY(python("import sys, numpy as np; from PIL import Image; d = sys.argv[1]\n"
                       "import os\n"
                       "for split, n in (('train', 3), ('test', 2)):\n"
                       "  for c, cls in enumerate(['zebra', 'ant']):\n"
                       "    os.makedirs(f'{d}/{split}/{cls}', exist_ok=True)\n"
                       "    for i in range(n):\n"
                       "      a = np.full((5, 6, 3), 40 * c + 10 * i, np.uint8); a[0, 0] = (255, 0, 0)\n"
                       "      Image.fromarray(a, 'RGB').save(f'{d}/{split}/{cls}/{i}.png')\n"
                       "Image.fromarray(np.full((5, 6), 99, np.uint8), 'L').save(f'{d}/train/ant/gray.jpg', quality=100)\n"
                       "open(f'{d}/train/ant/notes.txt', 'w').write('not an image')\n",
                       dir.path()));
        const DataSourceContents c = readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {});
        QCOMPARE(c.kind, DataKind::ImageFolder);
        QCOMPARE(c.train.classNames, (std::vector<std::string>{"ant", "zebra"})); // sorted folder names
        QCOMPARE(c.train.size(), int64_t(7)); // 3 + 1 JPEG (the .txt is not an image) + 3
        QCOMPARE(c.train.sampleShape(), (Shape{3, 5, 6}));   // the gray JPEG became RGB
        QCOMPARE(c.train.labels.dataAs<int64_t>()[0], int64_t(0));
        const uint8_t *first = c.train.features.dataAs<uint8_t>();
        QCOMPARE(int(first[0]), 255);                  // R of pixel (0,0)
        QCOMPARE(int(first[30]), 0);                   // G of pixel (0,0)
        QCOMPARE(int(first[31]), 40);                  // G of pixel (0,1): ant (class 1 in PIL's list) image 0
        QVERIFY(c.test.has_value());
        QCOMPARE(c.test->size(), int64_t(4));
        // resized on request; mixed sizes without a resize are refused naming two files
        ImageGeometry g;
        g.resize = {8, 8};
        g.channels = 1;
        const Dataset small = readDataSource(dir.path().toStdString(), pathSettings(dir.path()), g).train;
        QCOMPARE(small.sampleShape(), (Shape{1, 8, 8}));
        QVERIFY(python("import sys, numpy as np; from PIL import Image\n"
                       "Image.fromarray(np.zeros((9, 9), np.uint8)).save(sys.argv[1] + '/train/zebra/big.png')\n",
                       dir.path()));
        const QString e = errorOf([&] { readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {}); });
        QVERIFY2(e.contains("holds images of different sizes") && e.contains("big.png\" is 9×9") && e.contains("--resize"), qPrintable(e));
    }

    void hostileImagesNameTheFile()
    {
        QTemporaryDir dir;
        QVERIFY(python("import sys, numpy as np; from PIL import Image; d = sys.argv[1]; import os\n"
                       "os.makedirs(d + '/a'); os.makedirs(d + '/b')\n"
                       "for i in range(3): Image.fromarray(np.full((8, 8), i, np.uint8)).save(f'{d}/a/{i}.png')\n"
                       "Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(d + '/b/ok.jpg')\n",
                       dir.path()));
        // a truncated PNG
        QFile png(dir.filePath("a/1.png"));
        QVERIFY(png.open(QIODevice::ReadWrite));
        QVERIFY(png.resize(png.size() - 20));
        png.close();
        QString e = errorOf([&] { readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {}); });
        QVERIFY2(e.contains("a/1.png") && e.contains("truncated"), qPrintable(e));
        QFile::remove(dir.filePath("a/1.png"));
        // a JPEG with a wrong header: the marker after SOI damaged
        QFile jpg(dir.filePath("b/ok.jpg"));
        QVERIFY(jpg.open(QIODevice::ReadWrite));
        QByteArray b = jpg.readAll();
        b[2] = '\x12';
        b[3] = '\x34';
        jpg.seek(0);
        jpg.write(b);
        jpg.close();
        e = errorOf([&] { readDataSource(dir.path().toStdString(), pathSettings(dir.path()), {}); });
        QVERIFY2(e.contains("b/ok.jpg"), qPrintable(e));
        // an empty folder tree
        QTemporaryDir empty;
        e = errorOf([&] { readDataSource(empty.path().toStdString(), pathSettings(empty.path()), {}); });
        QVERIFY2(e.contains("holds no class folders"), qPrintable(e));
    }

    void numpyArrays()
    {
        QTemporaryDir dir;
        QVERIFY(python("import sys, numpy as np; d = sys.argv[1]\n"
                       "np.savez(d + '/ok.npz', x=np.arange(24, dtype=np.float64).reshape(6, 4), y=np.array([0, 1, 2, 0, 1, 2]))\n"
                       "np.savez_compressed(d + '/keras.npz', x_train=np.zeros((5, 3, 3), np.uint8), y_train=np.arange(5),\n"
                       "                    x_test=np.ones((2, 3, 3), np.uint8), y_test=np.arange(2))\n"
                       "np.savez(d + '/short.npz', x=np.zeros((6, 4), np.float32), y=np.zeros(5))\n"
                       "np.save(d + '/train_x.npy', np.ones((4, 2), np.float32)); np.save(d + '/train_y.npy', np.array([0.5, 1, 2, 3]))\n",
                       dir.path()));
        const Dataset ok = readDataSource(dir.filePath("ok.npz").toStdString(), pathSettings(dir.filePath("ok.npz")), {}).train;
        QCOMPARE(ok.features.dtype(), DType::Float32);
        QCOMPARE(ok.features.data()[23], 23.0f);
        QVERIFY(ok.hasClassLabels());
        QCOMPARE(ok.classes, int64_t(3));
        const DataSourceContents keras = readDataSource(dir.filePath("keras.npz").toStdString(), pathSettings(dir.filePath("keras.npz")), {});
        QCOMPARE(keras.train.features.dtype(), DType::UInt8);
        QVERIFY(keras.test.has_value());
        QCOMPARE(keras.test->size(), int64_t(2));
        QString e = errorOf([&] { readDataSource(dir.filePath("short.npz").toStdString(), pathSettings(dir.filePath("short.npz")), {}); });
        QVERIFY2(e.contains("short.npz") && e.contains("hold 6 samples but the targets y hold 5"), qPrintable(e));
        // train_x.npy finds train_y.npy beside it; float targets are values
        const Dataset pair = readDataSource(dir.filePath("train_x.npy").toStdString(), pathSettings(dir.filePath("train_x.npy")), {}).train;
        QCOMPARE(pair.labels.shape(), (Shape{4, 1}));
        QCOMPARE(pair.labels.data()[0], 0.5f);
        // a bad .npz header is the reader's error, naming the file
        write(dir.filePath("bad.npz"), "PK\x03\x04 not really a zip");
        e = errorOf([&] { readDataSource(dir.filePath("bad.npz").toStdString(), pathSettings(dir.filePath("bad.npz")), {}); });
        QVERIFY2(e.contains("bad.npz"), qPrintable(e));
    }

    void tasksCheckTheTargets()
    {
        Dataset d;
        d.name = "t";
        d.features = Tensor::zeros({3, 2});
        d.labels = Tensor::fromVector({3, 1}, {0.0f, 2.0f, 1.5f});
        Dataset c = d;
        QVERIFY(errorOf([&] { applyTask(c, "classification"); }).contains("sample 2 has the target 1.5"));
        c = d;
        applyTask(c, "regression");
        QCOMPARE(c.classes, int64_t(1));
        c = d;
        QVERIFY(errorOf([&] { applyTask(c, "multilabel"); }).contains("multilabel targets are 0 or 1"));
        d.labels = Tensor::fromVector({3, 1}, {0.0f, 2.0f, 1.0f});
        c = d;
        applyTask(c, "classification");
        QVERIFY(c.hasClassLabels());
        QCOMPARE(c.classes, int64_t(3));
        Dataset named;
        named.name = "n";
        named.features = Tensor::zeros({1, 1});
        named.labels = Tensor::fromInt64({1}, {0});
        named.classNames = {"cat"};
        QVERIFY(errorOf([&] { applyTask(named, "regression"); }).contains("has one class per sample (cat, …)"));
    }

    void wholeNumbersThatLookNumericAreNotClasses()
    {
        Dataset d;
        d.name = "diabetes.csv";
        std::vector<float> y;
        for (int i = 0; i < 100; ++i)
            y.push_back(static_cast<float>(25 + 3 * i)); // 25 … 322: 100 of 323 "classes"
        d.features = Tensor::zeros({100, 1});
        d.labels = Tensor::fromVector({100, 1}, y);
        Dataset c = d;
        const QString e = errorOf([&] { applyTask(c, "classification"); });
        QVERIFY2(e.contains("whole numbers from 25 to 322") && e.contains("--task regression"), qPrintable(e));
        c = d;
        applyTask(c, "classification", TargetRole::Test); // a test split may lack classes
        QCOMPARE(c.classes, int64_t(323));
    }

    void testDataWithASplitOfItsOwnGivesThatSplit()
    {
        QTemporaryDir dir;
        write(dir.filePath("a/data_batch_1.bin"), cifarRecord(1, 1) + cifarRecord(2, 2));
        write(dir.filePath("b/data_batch_1.bin"), cifarRecord(3, 3) + cifarRecord(4, 4) + cifarRecord(5, 5));
        write(dir.filePath("b/test_batch.bin"), cifarRecord(6, 6));
        DataSettings s = pathSettings(dir.filePath("a"));
        s.testPath = dir.filePath("b").toStdString();
        const LoadedData d = loadDataPath(s, "classification", 1);
        QCOMPARE(d.test->size(), int64_t(1));
        QCOMPARE(d.test->labels.dataAs<int64_t>()[0], int64_t(6));
    }

    void stratifiedSeededSplit()
    {
        Dataset d;
        d.name = "s";
        std::vector<int64_t> labels;
        std::vector<float> x;
        for (int i = 0; i < 100; ++i) {
            labels.push_back(i < 80 ? 0 : 1); // 80 / 20
            x.push_back(static_cast<float>(i));
        }
        d.features = Tensor::fromVector({100, 1}, x);
        d.labels = Tensor::fromInt64({100}, labels);
        d.classes = 2;
        const auto [train, test] = splitDataset(d, 0.25, 7);
        QCOMPARE(test.size(), int64_t(25));
        std::map<int64_t, int> perClass;
        for (int64_t i = 0; i < test.size(); ++i)
            ++perClass[test.labels.dataAs<int64_t>()[i]];
        QCOMPARE(perClass[0], 20); // each class in proportion
        QCOMPARE(perClass[1], 5);
        // disjoint and covering, and the same for the same seed
        std::set<float> seen;
        for (const Dataset *s : {&train, &test})
            for (int64_t i = 0; i < s->size(); ++i)
                QVERIFY(seen.insert(s->features.data()[i]).second);
        QCOMPARE(seen.size(), size_t(100));
        const auto again = splitDataset(d, 0.25, 7);
        QCOMPARE(std::memcmp(again.second.features.raw(), test.features.raw(), test.features.byteSize()), 0);
        const auto other = splitDataset(d, 0.25, 8);
        QVERIFY(std::memcmp(other.second.features.raw(), test.features.raw(), test.features.byteSize()) != 0);
        QVERIFY(errorOf([&] { splitDataset(d, 0.001, 1); }).contains("is empty"));
        // Many small classes: the fraction holds for the whole split (largest remainders), and
        // every class keeps a sample for training.
        Dataset many;
        many.name = "many";
        std::vector<int64_t> ml;
        for (int i = 0; i < 200; ++i)
            ml.push_back(i / 2);
        many.features = Tensor::zeros({200, 1});
        many.labels = Tensor::fromInt64({200}, ml);
        many.classes = 100;
        const auto [mtrain, mtest] = splitDataset(many, 0.2, 3);
        QCOMPARE(mtest.size(), int64_t(40));
        std::map<int64_t, int> left;
        for (int64_t i = 0; i < mtrain.size(); ++i)
            ++left[mtrain.labels.dataAs<int64_t>()[i]];
        QCOMPARE(left.size(), size_t(100));
    }

    void standardisationMatchesNumpy()
    {
        Dataset d;
        d.name = "img";
        d.features = Tensor({2, 2, 1, 2}, DType::UInt8); // 2 images, 2 channels of 1×2
        const uint8_t px[] = {0, 255, 10, 20, 51, 102, 30, 40};
        std::memcpy(d.features.raw(), px, sizeof px);
        d.labels = Tensor::fromInt64({2}, {0, 1});
        const FeatureNormalization n = computeStandardization(d, 1.0f / 255.0f);
        QCOMPARE(n.inner, int64_t(2));
        QCOMPARE(n.mean.size(), size_t(2));
        // channel 0 holds 0, 255, 51, 102 (/255): mean 0.4, population std
        QVERIFY(std::abs(n.mean[0] - 0.4f) < 1e-6f);
        const double m = 0.4, v = ((0 - m) * (0 - m) + (1 - m) * (1 - m) + (0.2 - m) * (0.2 - m) + (0.4 - m) * (0.4 - m)) / 4;
        QVERIFY(std::abs(n.std[0] - std::sqrt(v)) < 1e-6);
        QVERIFY(std::abs(n.mean[1] - 25.0f / 255.0f) < 1e-6f);
    }

    void augmentationIsSeededPerSample()
    {
        auto d = std::make_shared<Dataset>();
        d->name = "aug";
        d->features = Tensor({4, 1, 4, 4}, DType::UInt8);
        for (int64_t i = 0; i < d->features.numel(); ++i)
            d->features.dataAs<uint8_t>()[i] = static_cast<uint8_t>(i);
        d->labels = Tensor::fromInt64({4}, {0, 1, 0, 1});
        d->classes = 2;
        const FeatureNormalization none{1.0f, {}, {}, 1};
        auto batchOf = [&](uint64_t seed, bool shuffle) {
            DatasetSource s(d, 4, shuffle, false, 3, none, Augmentation{1, true, seed});
            return *s.next();
        };
        const Minibatch a = batchOf(11, false), b = batchOf(11, false), c = batchOf(12, false);
        QCOMPARE(std::memcmp(a.features.raw(), b.features.raw(), a.features.byteSize()), 0);
        QVERIFY(std::memcmp(a.features.raw(), c.features.raw(), a.features.byteSize()) != 0);
        // the same sample gets the same crop in a shuffled order: the draw follows the sample
        const Minibatch shuffled = batchOf(11, true);
        for (int64_t i = 0; i < 4; ++i) {
            const float *row = shuffled.features.data() + i * 16;
            bool found = false;
            for (int64_t j = 0; j < 4 && !found; ++j)
                found = std::memcmp(row, a.features.data() + j * 16, 16 * sizeof(float)) == 0;
            QVERIFY(found);
        }
        // every output pixel is a source pixel of the same image (shifted, maybe mirrored) or the zero padding
        for (int64_t i = 0; i < 4; ++i)
            for (int64_t k = 0; k < 16; ++k) {
                const float v = a.features.data()[i * 16 + k];
                QVERIFY(v == 0.0f || (v >= static_cast<float>(i * 16) && v < static_cast<float>(i * 16 + 16)));
            }
        QVERIFY(errorOf([&] {
                    auto flat = std::make_shared<Dataset>(*d);
                    flat->features = Tensor::zeros({4, 16});
                    DatasetSource(flat, 2, false, false, 1, none, Augmentation{2, false, 1});
                }).contains("apply to images [C,H,W]"));
    }

    void detection()
    {
        QTemporaryDir dir;
        write(dir.filePath("x.weird"), "hello");
        QVERIFY(errorOf([&] { detectDataKind(dir.filePath("x.weird").toStdString()); }).contains("Cannot tell what"));
        QVERIFY(errorOf([&] { detectDataKind(dir.filePath("missing.csv").toStdString()); }).contains("does not exist"));
        write(dir.filePath("fake.npy"), "not numpy");
        QVERIFY(errorOf([&] { detectDataKind(dir.filePath("fake.npy").toStdString()); }).contains("does not start with"));
        write(dir.filePath("renamed.csv"), encodeNpy(Tensor::zeros({2, 2})));
        QCOMPARE(detectDataKind(dir.filePath("renamed.csv").toStdString()), DataKind::Npy); // by content
    }
};

QTEST_GUILESS_MAIN(DataSourceTest)
#include "data_source_test.moc"

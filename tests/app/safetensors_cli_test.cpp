// SPDX-License-Identifier: Apache-2.0
// safetensors checkpoints as a user meets them: a real training run with checkpoint.format
// "safetensors" writes <prefix>-E_S.safetensors files under the same retention as .ckpt, which numpy
// reads (header JSON + np.frombuffer) with every tensor's bytes; `inspect` lists them; resuming from
// an intermediate one ends byte-identical to the uninterrupted run; `convert` turns the .ckpt of the
// same run into the very same .safetensors bytes and back into the very same .ckpt bytes.
// Uses 640 real Fashion-MNIST images.
#include "formats/safetensors/safetensors_file.h"
#include "support/cli_support.h"

#include <QFileInfo>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace netwright;
using netwright::test::contents;
using netwright::test::runNetwright;

class SafetensorsCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_data;

    QString path(const QString &n) const { return m_dir.filePath(n); }

    QString writeConfig(const QString &name, const QString &format)
    {
        const QString file = path(name + ".json");
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({"name": "st", "model": {"name": "mlp"}, %1,
 "training": {"epochs": 3, "batch_size": 32, "threads": 1},
 "checkpoint": {"format": "%2", "save_checkpoint_steps": 5, "keep_checkpoint_max": 3, "crc_check": false}})")
                    .arg(m_data, format)
                    .toUtf8());
        return file;
    }

    // The one file of `dir` matching `pattern`, or "".
    static QString only(const QString &dir, const QString &pattern)
    {
        const QStringList l = QDir(dir).entryList({pattern}, QDir::Files);
        return l.size() == 1 ? dir + "/" + l.first() : QString();
    }

private slots:
    void initTestCase()
    {
        m_data = test::fashionMnistSlice(m_dir.path(), 640, 200);
        QVERIFY(!m_data.isEmpty());
        const auto r = runNetwright({"train", "--config", writeConfig("st", "safetensors"), "--out", path("ref")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        // The same run with .ckpt checkpoints.
        const auto m = runNetwright({"train", "--config", writeConfig("ms", "mindspore"), "--out", path("ms")});
        QVERIFY2(m.exitCode == 0, qPrintable(m.err));
    }

    void trainingWritesSafetensorsUnderTheSamePolicy()
    {
        // Steps 5, 10, …, 60 saved, the keep rules applied as to .ckpt files: the same names as the
        // .ckpt run keeps (the newest three, and the epoch-2 end the rules also keep), no .ckpt at all.
        const QStringList files = QDir(path("ref")).entryList({"*.safetensors"}, QDir::Files, QDir::Name);
        QStringList ckpts = QDir(path("ms")).entryList({"*.ckpt"}, QDir::Files, QDir::Name);
        ckpts.replaceInStrings(QStringLiteral(".ckpt"), QStringLiteral(".safetensors"));
        QVERIFY(files.size() >= 3 && files.size() < 12); // 12 saves in all
        QCOMPARE(files, ckpts);
        QVERIFY(QDir(path("ref")).entryList({"*.ckpt"}, QDir::Files).isEmpty());
        const QString final = only(path("ref"), "*-3_20.safetensors");
        QVERIFY2(!final.isEmpty(), qPrintable(files.join(", ")));
        QVERIFY(!only(path("ref"), "*-3_15.safetensors").isEmpty());
        QVERIFY(!only(path("ref"), "*-3_10.safetensors").isEmpty());

        // numpy, knowing only the file layout, finds every tensor where the header says, and the
        // step counter in __metadata__.
        QProcess py;
        py.start("/usr/bin/python3", {"-c", R"PY(
import hashlib, json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
meta = h.pop("__metadata__")
buf = b[8 + n:]
types = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U64": "<u8"}
end, out = 0, {}
for k, v in sorted(h.items(), key=lambda kv: kv[1]["data_offsets"]):
    s, e = v["data_offsets"]
    assert s == end, k
    end = e
    a = np.frombuffer(buf[s:e], dtype=types[v["dtype"]]).reshape(v["shape"])
    out[k] = hashlib.sha256(a.tobytes()).hexdigest()
assert end == len(buf)
d, shape, hx = meta["netwright.train.global_step"].split(" ")
print(json.dumps({"tensors": out, "step": int.from_bytes(bytes.fromhex(hx), "little"), "dtype": d,
                  "optimizer": meta["netwright.optimizer"]}))
)PY", final});
        QVERIFY(py.waitForFinished(60000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QJsonObject o = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        QCOMPARE(o["step"].toInt(), 60);
        QCOMPARE(o["dtype"].toString(), QStringLiteral("I64"));
        QVERIFY(!o["optimizer"].toString().isEmpty());
        const QJsonObject hashes = o["tensors"].toObject();
        const auto file = safetensors::readSafetensors(final.toStdString());
        QCOMPARE(hashes.size(), static_cast<qsizetype>(file.tensors.size()));
        QVERIFY(file.tensors.size() >= 4); // weights, biases, optimizer slots, learning_rate, global_step…
        for (const auto &t : file.tensors) {
            const QByteArray bytes(static_cast<const char *>(t.tensor.raw()), static_cast<qsizetype>(t.tensor.byteSize()));
            QCOMPARE(hashes[QString::fromStdString(t.name)].toString(),
                     QString(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex()));
        }

        // inspect lists every tensor with its statistics, and the metadata.
        const auto r = runNetwright({"inspect", final});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("safetensors"), qPrintable(r.out));
        for (const auto &t : file.tensors)
            QVERIFY2(r.out.contains(QString::fromStdString(t.name)), t.name.c_str());
        QVERIFY2(r.out.contains("__metadata__.netwright.optimizer"), qPrintable(r.out));
        QVERIFY2(r.out.contains("mean"), qPrintable(r.out));
    }

    void resumeFromSafetensorsIsBitIdentical()
    {
        // The run as it stood after step 50: its two newer checkpoints gone, `resume` continues
        // from <prefix>-3_10.safetensors and ends where the uninterrupted run ended.
        QVERIFY(QDir().mkpath(path("cut")));
        for (const QString &name : QDir(path("ref")).entryList(QDir::Files))
            QVERIFY(QFile::copy(path("ref/") + name, path("cut/") + name));
        QVERIFY(QFile::remove(only(path("cut"), "*-3_20.safetensors")));
        QVERIFY(QFile::remove(only(path("cut"), "*-3_15.safetensors")));
        const auto r = runNetwright({"resume", path("cut")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("Resuming from") && r.out.contains("-3_10.safetensors"), qPrintable(r.out));
        const QString final = only(path("ref"), "*-3_20.safetensors");
        const QString resumed = only(path("cut"), "*-3_20.safetensors");
        QVERIFY(!resumed.isEmpty());
        QVERIFY2(contents(resumed) == contents(final), "the resumed run's final checkpoint differs");
        QVERIFY2(contents(path("cut/metrics.jsonl")) == contents(path("ref/metrics.jsonl")), "metrics logs differ");
    }

    void exportAndEvalTakeARunWithSafetensorsCheckpoints()
    {
        const auto e = runNetwright({"export", path("ref"), "--format", "onnx", "--out", path("ref.onnx")});
        QVERIFY2(e.exitCode == 0, qPrintable(e.err));
        QVERIFY(QFileInfo(path("ref.onnx")).size() > 1000);
        const auto v = runNetwright({"eval", path("ref")});
        QVERIFY2(v.exitCode == 0, qPrintable(v.err));
        QVERIFY2(v.out.contains("-3_20.safetensors"), qPrintable(v.out));
    }

    void convertCkptToSafetensorsAndBackIsLossless()
    {
        // The same run with .ckpt checkpoints holds the same training state.
        const QString ckpt = only(path("ms"), "*-3_20.ckpt");
        QVERIFY(!ckpt.isEmpty());
        const auto a = runNetwright({"convert", ckpt, path("a.safetensors")});
        QVERIFY2(a.exitCode == 0, qPrintable(a.err));
        QVERIFY2(a.out.contains("Read back: every entry's name, dtype, shape and bytes are identical"), qPrintable(a.out));
        // .ckpt → .safetensors gives exactly what training with format "safetensors" wrote …
        QVERIFY2(contents(path("a.safetensors")) == contents(only(path("ref"), "*-3_20.safetensors")),
                 "the converted file differs from the run's own safetensors checkpoint");
        // … and back to .ckpt gives the original bytes.
        const auto b = runNetwright({"convert", path("a.safetensors"), path("b.ckpt"), "--json"});
        QVERIFY2(b.exitCode == 0, qPrintable(b.err));
        const QJsonObject o = QJsonDocument::fromJson(b.out.toUtf8()).object();
        QCOMPARE(o["format"].toString(), QStringLiteral("MindSpore checkpoint"));
        QCOMPARE(o["source_format"].toString(), QStringLiteral("safetensors"));
        QVERIFY(o["entries"].toInt() > 10);
        QVERIFY2(contents(path("b.ckpt")) == contents(ckpt), "the .ckpt after the round trip differs from the original");
        // Converting a file onto itself is refused.
        const auto bad = runNetwright({"convert", path("a.safetensors"), path("a.safetensors")});
        QVERIFY(bad.exitCode != 0 && bad.err.contains("is the input file"));
    }
};

QTEST_GUILESS_MAIN(SafetensorsCliTest)
#include "safetensors_cli_test.moc"

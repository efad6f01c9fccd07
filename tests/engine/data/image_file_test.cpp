// SPDX-License-Identifier: Apache-2.0
// PNG/JPEG decoding and the image transforms against the Python stack a model would otherwise be
// trained with: files written by python3-pil at test time decode to PIL's pixels (PNG exactly,
// JPEG within ±1), resize matches torch, centre crop torchvision, RGB → gray PIL; hostile files
// give one clear error naming the file and the problem.
#include "core/error.h"
#include "data/image_file.h"
#include "data/image_transform.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>

using namespace netwright;

namespace {

// Writes the images, the expected pixels (.raw, HWC uint8) and manifest.json into argv[1].
const char *const kGenerator = R"PY(
import json, os, struct, sys, zlib
import numpy as np
import torch, torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image, PngImagePlugin

out = sys.argv[1]
rng = np.random.default_rng(7)
manifest = {k: [] for k in ("decode", "peek", "resize", "crop", "gray", "rgb", "chw")}
def path(name): return os.path.join(out, name)
def save_raw(name, array):
    with open(path(name), "wb") as f: f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def add_decode(name, expected, fmt):
    save_raw(name + ".raw", expected)
    manifest["decode"].append({"file": name, "width": expected.shape[1], "height": expected.shape[0],
                               "channels": 1 if expected.ndim == 2 else 3, "format": fmt})

H, W = 23, 37
yy, xx = np.mgrid[0:H, 0:W]
rgb = np.stack([(xx * 7 + yy * 3) % 256, (yy * 11) % 256, (xx * yy) % 256], -1).astype(np.uint8)
rgb ^= rng.integers(0, 32, rgb.shape, dtype=np.uint8)
gray = rng.integers(0, 256, (H, W), dtype=np.uint8)
alpha = rng.integers(0, 256, (H, W), dtype=np.uint8)
alpha[0, :] = 0  # fully transparent pixels keep their colour too
img_rgb, img_l = Image.fromarray(rgb, "RGB"), Image.fromarray(gray, "L")

# PNG in every colour type; the expectation is PIL's convert("L"/"RGB"), alpha stripped.
pngs = {"l.png": img_l, "rgb.png": img_rgb, "rgba.png": Image.fromarray(np.dstack([rgb, alpha]), "RGBA"),
        "la.png": Image.fromarray(np.dstack([gray, alpha]), "LA"), "p.png": img_rgb.quantize(colors=50)}
for name, img in pngs.items():
    img.save(path(name))
    add_decode(name, np.asarray(img.convert("L" if img.mode in ("L", "LA") else "RGB")), "PNG")
img_pt = img_rgb.quantize(colors=16)  # a 4-bit palette with a transparent entry (tRNS)
img_pt.save(path("p_trns.png"), transparency=3)
add_decode("p_trns.png", np.asarray(img_pt.convert("RGB")), "PNG")
wide = rng.integers(0, 65536, (H, W)).astype(np.uint16)
wide[0, :4] = [0, 65535, 128, 32896]
img_1 = Image.fromarray(gray > 127)  # mode "1": a 1-bit gray PNG, 0/1 expanded to 0/255
img_1.save(path("bw.png"))
add_decode("bw.png", np.asarray(img_1.convert("L")), "PNG")
# A gAMA chunk of 1.0 after IHDR: no colour management, the stored values come out (as in PIL).
plain = open(path("l.png"), "rb").read()
open(path("gamma.png"), "wb").write(plain[:33] + chunk(b"gAMA", struct.pack(">I", 100000)) + plain[33:])
add_decode("gamma.png", np.asarray(Image.open(path("gamma.png"))), "PNG")
img_16 = Image.fromarray(wide, "I;16")
assert img_16.mode == "I;16"
img_16.save(path("i16.png"))
# 16 to 8 bits: v * 255 / 65535 rounded (never a tie: 65535 = 255 * 257).
add_decode("i16.png", np.floor(wide / 257.0 + 0.5).astype(np.uint8), "PNG")

# JPEG: the expectation is PIL's own decode (the same libjpeg-turbo).
smooth = Image.fromarray(np.stack([(xx * 5) % 256, (yy * 9) % 256, ((xx + yy) * 4) % 256], -1).astype(np.uint8), "RGB")
for name, img, options in (("l.jpg", smooth.convert("L"), {"quality": 90}), ("rgb.jpg", smooth, {"quality": 90}),
                           ("rgb444.jpg", smooth, {"quality": 95, "subsampling": 0}),
                           ("progressive.jpg", smooth, {"quality": 85, "progressive": True})):
    img.save(path(name), format="JPEG", **options)
    back = Image.open(path(name))
    add_decode(name, np.asarray(back.convert("L" if back.mode == "L" else "RGB")), "JPEG")

# Headers longer than peekImageInfo()'s first read: a 60 KB text chunk before IDAT, a 40 KB APP1.
info = PngImagePlugin.PngInfo()
info.add_text("Comment", "x" * 60000)
img_rgb.save(path("long-header.png"), pnginfo=info)
smooth.save(path("long-header.jpg"), format="JPEG", exif=b"Exif\0\0" + b"\0" * 40000)
for name in ("long-header.png", "long-header.jpg"):
    back = Image.open(path(name))
    manifest["peek"].append({"file": name, "width": back.width, "height": back.height, "channels": 3, "format": back.format})

# Bilinear resize: torch on the same pixels as a contiguous float NCHW tensor (as ToTensor gives), rounded.
def torch_resize(array, h, w):
    t = torch.from_numpy(array.reshape(array.shape[0], array.shape[1], -1)).permute(2, 0, 1)[None].float().contiguous()
    r = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    return r.round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()
for src, array in (("rgb.png", rgb), ("l.png", gray)):
    for h, w in ((11, 16), (8, 8), (23, 37), (50, 61), (7, 100), (1, 1), (46, 74), (24, 13), (69, 111)):
        name = "resize-%s-%dx%d.raw" % (src, h, w)
        save_raw(name, torch_resize(array, h, w))
        manifest["resize"].append({"src": src, "height": h, "width": w, "raw": name})

# Centre crop: torchvision on the PIL image (zero padding where the crop is larger).
for src, img in (("rgb.png", img_rgb), ("l.png", img_l)):
    for h, w in ((10, 10), (22, 36), (20, 30), (23, 37), (1, 1), (24, 38), (30, 40), (25, 20), (10, 44), (31, 31), (26, 40)):
        name = "crop-%s-%dx%d.raw" % (src, h, w)
        save_raw(name, np.asarray(TF.center_crop(img, [h, w])))
        manifest["crop"].append({"src": src, "height": h, "width": w, "raw": name})

# RGB -> L over every red and green value (blue in steps of 5), L -> RGB, HWC -> CHW.
every = np.stack(np.meshgrid(np.arange(256), np.arange(256), np.arange(0, 256, 5), indexing="ij"), -1)
every = Image.fromarray(every.reshape(256, -1, 3).astype(np.uint8), "RGB")
every.save(path("every.png"))
save_raw("every.png.L.raw", np.asarray(every.convert("L")))
manifest["gray"].append({"src": "every.png", "raw": "every.png.L.raw"})
save_raw("l.png.RGB.raw", np.asarray(img_l.convert("RGB")))
manifest["rgb"].append({"src": "l.png", "raw": "l.png.RGB.raw"})
save_raw("rgb.png.chw.raw", rgb.transpose(2, 0, 1))
manifest["chw"].append({"src": "rgb.png", "raw": "rgb.png.chw.raw"})

# Hostile files.
os.makedirs(path("a-directory.png"))
open(path("empty.png"), "wb").close()
with open(path("text.png"), "w") as f: f.write("This is not an image, whatever its name says.\n")
open(path("gif.jpg"), "wb").write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
png = open(path("rgb.png"), "rb").read()
open(path("truncated.png"), "wb").write(png[: len(png) // 2])
open(path("cut-header.png"), "wb").write(png[:20])
jpg = open(path("rgb.jpg"), "rb").read()
open(path("truncated.jpg"), "wb").write(jpg[: len(jpg) // 2])
assert jpg[2:4] == b"\xff\xe0"  # JFIF's APP0 after SOI becomes an SOF0 whose precision byte is the J of "JFIF"
open(path("bad-header.jpg"), "wb").write(jpg[:2] + b"\xff\xc0" + jpg[4:])
Image.fromarray(np.zeros((8, 8, 4), np.uint8), "CMYK").save(path("cmyk.jpg"), format="JPEG")
open(path("huge.png"), "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                                   + chunk(b"IDAT", zlib.compress(b"\0" * 301)) + chunk(b"IEND", b""))

with open(path("manifest.json"), "w") as f: json.dump(manifest, f)
)PY";

std::vector<uint8_t> readBytes(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray bytes = f.readAll();
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// The largest absolute difference, and how many bytes differ at all.
std::pair<int, int64_t> compare(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b)
{
    int worst = 0;
    int64_t differing = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        const int d = std::abs(int(a[i]) - int(b[i]));
        worst = std::max(worst, d);
        differing += d != 0;
    }
    return {worst, differing};
}

void expectError(const std::function<void()> &fn, const QStringList &parts)
{
    try {
        fn();
        QFAIL(qPrintable("no error; expected one saying: " + parts.join(" … ")));
    } catch (const Error &e) {
        for (const auto &p : parts)
            QVERIFY2(QString::fromUtf8(e.what()).contains(p), qPrintable(QString::fromUtf8(e.what()) + "\n  does not contain: " + p));
    }
}

} // namespace

class ImageFileTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QJsonObject m_manifest;

    std::string file(const QString &name) const { return m_dir.filePath(name).toStdString(); }
    std::vector<uint8_t> raw(const QString &name) const { return readBytes(m_dir.filePath(name)); }
    QJsonArray cases(const char *kind) const { return m_manifest[kind].toArray(); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QProcess py;
        py.start("/usr/bin/python3", {"-c", kGenerator, m_dir.path()});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, py.readAllStandardError().constData());
        QFile f(m_dir.filePath("manifest.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_manifest = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(cases("decode").size(), 13);
    }

    void decodesAsPilDoes()
    {
        for (const QJsonValue &v : cases("decode")) {
            const QJsonObject c = v.toObject();
            const QString name = c["file"].toString();
            const Image img = decodeImageFile(file(name));
            QVERIFY2(img.width == c["width"].toInt() && img.height == c["height"].toInt() && img.channels == c["channels"].toInt(),
                     qPrintable(name));
            const std::vector<uint8_t> expected = raw(name + ".raw");
            QCOMPARE(img.pixels.size(), expected.size());
            const auto [worst, differing] = compare(img.pixels, expected);
            if (c["format"].toString() == "PNG") {
                QVERIFY2(img.pixels == expected, qPrintable(name + ": " + QString::number(differing) + " bytes differ from PIL's"));
            } else {
                // Same libjpeg-turbo, same defaults (islow IDCT, fancy upsampling): observed exact.
                qInfo("%s: %lld of %zu bytes differ from PIL's decode, by at most %d", qPrintable(name), static_cast<long long>(differing),
                      expected.size(), worst);
                QVERIFY2(worst <= 1, qPrintable(name));
            }
            // decodeImage() from memory gives the same pixels.
            const std::vector<uint8_t> bytes = raw(name);
            QVERIFY(decodeImage(bytes.data(), bytes.size(), name.toStdString()).pixels == img.pixels);
        }
    }

    void peekAgreesWithTheHeader()
    {
        QJsonArray all = cases("decode");
        for (const QJsonValue &v : cases("peek"))
            all.append(v);
        for (const QJsonValue &v : all) {
            const QJsonObject c = v.toObject();
            const QString name = c["file"].toString();
            const ImageInfo info = peekImageInfo(file(name));
            QVERIFY2(info.width == c["width"].toInt() && info.height == c["height"].toInt() && info.channels == c["channels"].toInt(),
                     qPrintable(name));
            QCOMPARE(QString::fromStdString(info.format), c["format"].toString());
        }
        // A header past the first bounded read still decodes whole.
        QCOMPARE(decodeImageFile(file("long-header.png")).pixels, decodeImageFile(file("rgb.png")).pixels);
        QCOMPARE(decodeImageFile(file("long-header.jpg")).width, int64_t(37));
    }

    void resizeMatchesTorch()
    {
        // Per source: the largest difference, the differing bytes, all bytes.
        QMap<QString, std::array<int64_t, 3>> tally;
        for (const QJsonValue &v : cases("resize")) {
            const QJsonObject c = v.toObject();
            const Image out = resizeBilinear(decodeImageFile(file(c["src"].toString())), c["height"].toInt(), c["width"].toInt());
            QCOMPARE(out.height, int64_t(c["height"].toInt()));
            QCOMPARE(out.width, int64_t(c["width"].toInt()));
            const std::vector<uint8_t> expected = raw(c["raw"].toString());
            QCOMPARE(out.pixels.size(), expected.size());
            const auto [worst, differing] = compare(out.pixels, expected);
            QVERIFY2(worst <= 1, qPrintable(c["raw"].toString() + ": off by " + QString::number(worst)));
            auto &t = tally[c["src"].toString()];
            t = {std::max<int64_t>(t[0], worst), t[1] + differing, t[2] + static_cast<int64_t>(expected.size())};
        }
        // Observed with python3-torch 1.13 on an AVX2 CPU: RGB (its NCHW kernel) exact; gray (a
        // [1,1,H,W] tensor takes its channels-last kernel, summed in another order) one tie off by 1.
        for (auto it = tally.cbegin(); it != tally.cend(); ++it)
            qInfo("bilinear resize of %s vs torch: %lld of %lld bytes differ, by at most %lld", qPrintable(it.key()),
                  static_cast<long long>(it.value()[1]), static_cast<long long>(it.value()[2]), static_cast<long long>(it.value()[0]));
    }

    void centerCropMatchesTorchvision()
    {
        for (const QJsonValue &v : cases("crop")) {
            const QJsonObject c = v.toObject();
            const Image out = centerCrop(decodeImageFile(file(c["src"].toString())), c["height"].toInt(), c["width"].toInt());
            QVERIFY2(out.pixels == raw(c["raw"].toString()), qPrintable(c["raw"].toString()));
        }
    }

    void channelsMatchPil()
    {
        const Image every = decodeImageFile(file("every.png"));
        const Image gray = toChannels(every, 1);
        QCOMPARE(gray.channels, int64_t(1));
        QVERIFY(gray.pixels == raw("every.png.L.raw")); // PIL's convert("L"), every R and G value
        const Image l = decodeImageFile(file("l.png"));
        QVERIFY(toChannels(l, 3).pixels == raw("l.png.RGB.raw"));
        QVERIFY(toChannels(l, 1).pixels == l.pixels);
        expectError([&] { toChannels(l, 4); }, {"4 channels"});

        const Image rgb = decodeImageFile(file("rgb.png"));
        std::vector<uint8_t> chw(rgb.pixels.size());
        copyToChw(rgb, chw.data());
        QVERIFY(chw == raw("rgb.png.chw.raw"));
    }

    void hostileFiles()
    {
        const auto path = [&](const char *name) { return QString::fromStdString(file(name)); };
        expectError([&] { decodeImageFile(file("truncated.png")); }, {path("truncated.png"), "as PNG", "truncated"});
        expectError([&] { decodeImageFile(file("cut-header.png")); }, {path("cut-header.png"), "as PNG", "truncated"});
        expectError([&] { peekImageInfo(file("cut-header.png")); }, {path("cut-header.png"), "as PNG", "truncated"});
        expectError([&] { decodeImageFile(file("truncated.jpg")); },
                    {path("truncated.jpg"), "as JPEG", "truncated", "Premature end of JPEG file"});
        expectError([&] { decodeImageFile(file("bad-header.jpg")); },
                    {path("bad-header.jpg"), "as JPEG", "header is invalid", "libjpeg: "});
        expectError([&] { peekImageInfo(file("bad-header.jpg")); }, {path("bad-header.jpg"), "header is invalid"});
        expectError([&] { decodeImageFile(file("cmyk.jpg")); }, {path("cmyk.jpg"), "CMYK"});
        expectError([&] { decodeImageFile(file("text.png")); }, {path("text.png"), "not a PNG or JPEG file", "54 68 69 73", "text"});
        expectError([&] { decodeImageFile(file("gif.jpg")); }, {path("gif.jpg"), "not a PNG or JPEG file", "47 49 46 38", "GIF"});
        // Refused from the IHDR, before 30 GB are asked for.
        expectError([&] { decodeImageFile(file("huge.png")); }, {path("huge.png"), "100000 x 100000", "32768"});
        expectError([&] { peekImageInfo(file("huge.png")); }, {path("huge.png"), "100000 x 100000"});
        expectError([&] { decodeImageFile(file("empty.png")); }, {path("empty.png"), "empty"});
        expectError([&] { peekImageInfo(file("empty.png")); }, {path("empty.png"), "empty"});
        expectError([&] { decodeImageFile(file("a-directory.png")); }, {path("a-directory.png"), "directory"});
        expectError([&] { peekImageInfo(file("a-directory.png")); }, {path("a-directory.png"), "directory"});
        expectError([&] { decodeImageFile(file("missing.jpg")); }, {path("missing.jpg"), "does not exist"});
        // From memory, the name given is the one in the message.
        const std::vector<uint8_t> cut = raw("truncated.jpg");
        expectError([&] { decodeImage(cut.data(), cut.size(), "cats/003.jpg"); }, {"\"cats/003.jpg\" as JPEG", "truncated"});
    }
};

QTEST_GUILESS_MAIN(ImageFileTest)
#include "image_file_test.moc"

// SPDX-License-Identifier: Apache-2.0
// TFRecord framing (run/tfrecord.h): CRC-32C against the published check values (RFC 3720's
// iSCSI vectors, "123456789"), the record layout, and hostile bytes — a cut record, a wrong CRC,
// a length past the end — end the read at the last good record, never past it. (The independent
// Python reader checks real event files: tensorboard_events_cli_test.)
#include "run/tfrecord.h"

#include <QTest>

#include <string>

using namespace netwright;

class TfrecordTest : public QObject {
    Q_OBJECT
private slots:
    void crc32cKnownVectors()
    {
        QCOMPARE(tfrecord::crc32c("123456789"), 0xE3069283u);
        QCOMPARE(tfrecord::crc32c(std::string(32, '\0')), 0x8A9136AAu);
        QCOMPARE(tfrecord::crc32c(std::string(32, '\xff')), 0x62A8AB43u);
        std::string ascending;
        for (int i = 0; i < 32; ++i)
            ascending.push_back(static_cast<char>(i));
        QCOMPARE(tfrecord::crc32c(ascending), 0x46DD794Eu);
        QCOMPARE(tfrecord::crc32c(""), 0u);
    }

    void frameLayout()
    {
        // uint64 little-endian length, masked CRC-32C of those 8 bytes, data, masked CRC of the data.
        const std::string framed = tfrecord::frame(std::string(24, 'x'));
        QCOMPARE(framed.size(), size_t(24 + 16));
        QCOMPARE(framed.substr(0, 8), std::string("\x18\0\0\0\0\0\0\0", 8));
        // the masked CRC of the length bytes
        const uint32_t crc = tfrecord::crc32c(framed.substr(0, 8));
        const uint32_t mask = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
        QCOMPARE(tfrecord::maskedCrc32c(framed.substr(0, 8)), mask);
        const auto back = tfrecord::parse(framed + tfrecord::frame("second"));
        QCOMPARE(back.records.size(), size_t(2));
        QCOMPARE(back.records[1], std::string("second"));
        QVERIFY(back.problem.empty());
    }

    void hostileBytesEndTheReadAtTheLastGoodRecord()
    {
        const std::string good = tfrecord::frame("first record");
        const std::string second = tfrecord::frame("second record");
        for (size_t cut = 1; cut < second.size(); ++cut) {
            const auto r = tfrecord::parse(good + second.substr(0, cut));
            QCOMPARE(r.records.size(), size_t(1));
            QCOMPARE(r.validBytes, uint64_t(good.size()));
            QVERIFY(!r.problem.empty());
        }
        std::string flipped = good + second;
        flipped[good.size() + 14] ^= 1; // inside the second record's data
        QVERIFY(tfrecord::parse(flipped).problem.find("data CRC") != std::string::npos);
        std::string huge = good + second;
        huge[good.size() + 7] = '\x7f'; // a length of ~2^62: refused by its CRC, never allocated
        const auto r = tfrecord::parse(huge);
        QCOMPARE(r.records.size(), size_t(1));
        QVERIFY(r.problem.find("length CRC") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TfrecordTest)
#include "tfrecord_test.moc"

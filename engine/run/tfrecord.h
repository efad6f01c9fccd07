// SPDX-License-Identifier: Apache-2.0
// TFRecord framing, as TensorFlow and TensorBoard read it: each record is uint64 length (little
// endian), the masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data. The
// reader takes hostile bytes: every length is checked against what remains before anything is
// copied, and the first record that does not check out ends the read (a writer killed mid-record
// leaves exactly such a tail). Layer: engine/run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netwright::tfrecord {

// CRC-32C (Castagnoli, as iSCSI and TFRecord use it): crc32c("123456789") = 0xE3069283.
uint32_t crc32c(std::string_view bytes);
// TFRecord's mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8, so that a CRC of data holding CRCs
// does not degenerate.
uint32_t maskedCrc32c(std::string_view bytes);

// `data` framed as one record.
std::string frame(std::string_view data);

struct Records {
    std::vector<std::string> records;
    uint64_t validBytes = 0;  // the bytes the records occupy from the start of the file
    std::string problem;      // why the read stopped before the end ("" = it read to the end)
};

// The records of `bytes`, from the start up to the first one that is cut short or fails a CRC.
Records parse(std::string_view bytes);

} // namespace netwright::tfrecord

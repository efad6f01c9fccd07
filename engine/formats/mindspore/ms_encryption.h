// SPDX-License-Identifier: Apache-2.0
// MindSpore's encrypted-file block format (../shared/formats/mindspore-ckpt.md section 7), shared
// by .ckpt and .mindir: AES-GCM (default), AES-CBC and SM4-CBC through OpenSSL's libcrypto, 64 MiB
// pieces, a random IV per block, the 1.7-era 12-byte GCM IV. Layer: engine/formats. Invariant: the
// key's bytes never enter a message, a log or a config; every block length is checked first.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace netwright::mindspore {

enum class EncMode { AesGcm, AesCbc, Sm4Cbc };

// MindSpore's ENCRYPT_BLOCK_SIZE: the plaintext is cut into pieces of this many bytes.
inline constexpr uint64_t kEncryptPieceBytes = uint64_t(64) << 20;

// "AES-GCM", "AES-CBC", "SM4-CBC".
std::string encModeName(EncMode mode);
// Those names in any case ("aes-gcm" too); throws Error listing them otherwise.
EncMode parseEncMode(const std::string &name);
// The mode whose magic is the first little-endian 32-bit word of `bytes`; none for plaintext.
std::optional<EncMode> encryptedMode(std::string_view bytes);

// A key as the user gave it. `mode`: what to write with (none: AES-GCM) and, when reading, what
// the file's magic must say (none: whatever it says).
struct EncryptionKey {
    std::string bytes; // 16, 24 or 32 bytes for AES, 16 for SM4; never printed
    std::optional<EncMode> mode;
    bool empty() const { return bytes.empty(); }
    EncMode writeMode() const { return mode.value_or(EncMode::AesGcm); }
};

// The key in `path`: its raw bytes. One trailing "\n" (or "\r\n") is dropped when the file is
// not itself 16, 24 or 32 bytes long and the rest is, so `echo 0123456789ABCDEF > k` works.
// `mode`: "" or an --enc-mode value. Throws Error naming the file and the lengths accepted (never
// the bytes).
EncryptionKey readKeyFile(const std::string &path, const std::string &mode = {});
// Throws Error when `key` does not fit its mode (16/24/32 bytes for AES, 16 for SM4).
void checkKeyLength(const std::string &key, EncMode mode, const std::string &source);

// What the block headers say, walked without the key.
struct EncryptedLayout {
    EncMode mode = EncMode::AesGcm;
    int64_t blocks = 0;
    uint64_t cipherBytes = 0; // the ciphertext of all blocks together
};
// Throws Error naming `source` and the first block whose lengths do not fit the bytes.
EncryptedLayout encryptedLayout(std::string_view bytes, const std::string &source);

// "checkpoint" for .ckpt, "MindIR file" for .mindir, "file (checkpoint or MindIR)" otherwise.
std::string encryptedKind(const std::string &source);
// The missing-key sentence: "\"x.ckpt\" is an encrypted MindSpore checkpoint (AES-GCM, 1 block);
// give its key with --key-file FILE." (a malformed file gets the malformed-block sentence).
std::string keyNeededMessage(std::string_view bytes, const std::string &source);

// The plaintext of an encrypted file. Throws Error naming `source`: a malformed block, a mode
// that is not `key.mode`, a key of the wrong length, a key that does not open block 1 (wrong key
// or altered file), a later block that does not open although block 1 did (altered file).
std::string decryptMindspore(std::string_view bytes, const EncryptionKey &key, const std::string &source);
// Encrypts `plain` as MindSpore does: pieces of `pieceBytes`, a fresh random IV each. `sink`
// receives the blocks in order.
void encryptMindspore(std::string_view plain, const EncryptionKey &key, const std::function<void(std::string_view)> &sink,
                      uint64_t pieceBytes = kEncryptPieceBytes);
std::string encryptMindspore(std::string_view plain, const EncryptionKey &key, uint64_t pieceBytes = kEncryptPieceBytes);

// Cuts a stream of plaintext into pieces and hands each encrypted block to `sink`: a writer that
// streams (writeCkpt) encrypts without holding the whole file. finish() flushes the last piece.
class BlockEncryptor {
public:
    BlockEncryptor(EncryptionKey key, std::function<void(std::string_view)> sink, uint64_t pieceBytes = kEncryptPieceBytes);
    void write(std::string_view bytes);
    void finish();

private:
    EncryptionKey m_key;
    std::function<void(std::string_view)> m_sink;
    uint64_t m_pieceBytes;
    std::string m_piece;
};

} // namespace netwright::mindspore

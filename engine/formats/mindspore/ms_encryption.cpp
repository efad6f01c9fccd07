// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/ms_encryption.h"

#include "core/error.h"
#include "core/file_io.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace netwright::mindspore {

namespace {

constexpr uint32_t kMagicGcm = 0x7F3A5ED8, kMagicCbc = 0x7F3A5ED9, kMagicSm4 = 0x7F3A5EDA;
constexpr size_t kTagBytes = 16, kIvBytes = 16;

uint32_t le32(std::string_view b, size_t at)
{
    return static_cast<uint8_t>(b[at]) | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8
           | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}

void putLe32(std::string &out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t magicOf(EncMode mode)
{
    return mode == EncMode::AesGcm ? kMagicGcm : mode == EncMode::AesCbc ? kMagicCbc : kMagicSm4;
}

// One block as its header says; `cipher` points into the file's bytes.
struct Block {
    std::string_view tag, iv, cipher;
    uint64_t size = 0; // the whole block
};

// Parses the block at `at`; throws naming the block (1-based) and what does not fit.
Block parseBlock(std::string_view bytes, size_t at, int64_t index, EncMode mode, const std::string &source)
{
    const std::string where = "Cannot read \"" + source + "\" as an encrypted MindSpore " + encryptedKind(source) + " ("
                              + encModeName(mode) + "): block " + std::to_string(index) + " at byte " + std::to_string(at);
    const std::string_view rest = bytes.substr(at);
    const bool gcm = mode == EncMode::AesGcm;
    const size_t head = gcm ? 4 + kTagBytes : 4; // magic (+ tag) before block_len
    check(rest.size() >= head + 8, where + " is cut short: " + std::to_string(rest.size()) + " bytes remain, its header needs "
                                       + std::to_string(head + 8) + ".");
    const uint32_t magic = le32(rest, 0);
    check(magic == magicOf(mode), where + " does not start with the " + encModeName(mode) + " magic (found 0x" + [&] {
        char h[9];
        std::snprintf(h, sizeof h, "%08X", magic);
        return std::string(h);
    }() + "); the file is damaged or mixes modes.");
    const uint64_t blockLen = le32(rest, head), ivLen = le32(rest, head + 4);
    check(blockLen <= rest.size() - head - 4, where + " declares block_len " + std::to_string(static_cast<int32_t>(blockLen)) + " but only "
                                                  + std::to_string(rest.size() - head - 4) + " bytes remain.");
    check(ivLen == kIvBytes || (gcm && ivLen == 12),
          where + " declares iv_len " + std::to_string(static_cast<int32_t>(ivLen)) + ", expected 16.");
    check(blockLen >= 4 + ivLen + 4, where + " declares block_len " + std::to_string(blockLen) + ", too short for its IV.");
    const size_t ivAt = head + 8;
    const uint64_t cipherLen = le32(rest, ivAt + ivLen);
    check(blockLen == 4 + ivLen + 4 + cipherLen, where + " declares cipher_len " + std::to_string(static_cast<int32_t>(cipherLen))
                                                     + ", which does not match block_len " + std::to_string(blockLen) + ".");
    check(cipherLen > 0 && (gcm || cipherLen % 16 == 0),
          where + " declares cipher_len " + std::to_string(cipherLen) + (gcm ? ", expected more than 0." : ", not a multiple of 16."));
    Block b;
    b.tag = gcm ? rest.substr(4, kTagBytes) : std::string_view();
    b.iv = rest.substr(ivAt, ivLen);
    b.cipher = rest.substr(ivAt + ivLen + 4, cipherLen);
    b.size = head + 4 + blockLen;
    return b;
}

struct CtxFree {
    void operator()(EVP_CIPHER_CTX *c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_CIPHER *cipherFor(EncMode mode, size_t keyBytes)
{
    switch (mode) {
    case EncMode::AesGcm:
        return keyBytes == 16 ? EVP_aes_128_gcm() : keyBytes == 24 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
    case EncMode::AesCbc:
        return keyBytes == 16 ? EVP_aes_128_cbc() : keyBytes == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
    case EncMode::Sm4Cbc:
        return EVP_sm4_cbc();
    }
    return nullptr;
}

Ctx newContext(EncMode mode)
{
    Ctx ctx(EVP_CIPHER_CTX_new());
    check(ctx != nullptr, "OpenSSL could not make a cipher context for " + encModeName(mode) + ".");
    return ctx;
}

int checkedLen(size_t n)
{
    check(n <= static_cast<size_t>(INT32_MAX), "An encrypted MindSpore block holds at most 2 GiB.");
    return static_cast<int>(n);
}

// The plaintext of one block, or nothing when the key does not open it.
std::optional<std::string> openBlock(const Block &b, const std::string &key, EncMode mode, size_t ivBytes)
{
    Ctx ctx = newContext(mode);
    const EVP_CIPHER *cipher = cipherFor(mode, key.size());
    check(cipher != nullptr, "This OpenSSL has no " + encModeName(mode) + " cipher.");
    const auto *k = reinterpret_cast<const unsigned char *>(key.data());
    const auto *iv = reinterpret_cast<const unsigned char *>(b.iv.data());
    std::string out(b.cipher.size() + 32, '\0');
    int n = 0, tail = 0;
    auto *o = reinterpret_cast<unsigned char *>(out.data());
    if (mode == EncMode::AesGcm) {
        if (EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1
            || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(ivBytes), nullptr) != 1
            || EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, k, iv) != 1)
            throw Error("OpenSSL could not start AES-GCM decryption.");
        if (EVP_DecryptUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char *>(b.cipher.data()), checkedLen(b.cipher.size())) != 1)
            return std::nullopt;
        std::string tag(b.tag);
        if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) != 1)
            return std::nullopt;
    } else {
        if (EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, k, iv) != 1)
            throw Error("OpenSSL could not start " + encModeName(mode) + " decryption.");
        if (EVP_DecryptUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char *>(b.cipher.data()), checkedLen(b.cipher.size())) != 1)
            return std::nullopt;
    }
    if (EVP_DecryptFinal_ex(ctx.get(), o + n, &tail) != 1)
        return std::nullopt; // GCM: the tag does not match; CBC: the padding is wrong
    out.resize(static_cast<size_t>(n + tail));
    return out;
}

std::string sealBlock(std::string_view piece, const std::string &key, EncMode mode)
{
    unsigned char iv[kIvBytes];
    check(RAND_bytes(iv, sizeof iv) == 1, "OpenSSL could not make a random IV.");
    Ctx ctx = newContext(mode);
    const EVP_CIPHER *cipher = cipherFor(mode, key.size());
    check(cipher != nullptr, "This OpenSSL has no " + encModeName(mode) + " cipher.");
    const auto *k = reinterpret_cast<const unsigned char *>(key.data());
    std::string cipherText(piece.size() + 32, '\0');
    auto *o = reinterpret_cast<unsigned char *>(cipherText.data());
    int n = 0, tail = 0;
    const bool gcm = mode == EncMode::AesGcm;
    if (gcm) {
        check(EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) == 1
                  && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kIvBytes, nullptr) == 1
                  && EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, k, iv) == 1,
              "OpenSSL could not start AES-GCM encryption.");
    } else {
        check(EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, k, iv) == 1, "OpenSSL could not start " + encModeName(mode) + " encryption.");
    }
    check(EVP_EncryptUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char *>(piece.data()), checkedLen(piece.size())) == 1
              && EVP_EncryptFinal_ex(ctx.get(), o + n, &tail) == 1,
          "OpenSSL could not encrypt a block with " + encModeName(mode) + ".");
    cipherText.resize(static_cast<size_t>(n + tail));
    std::string block;
    block.reserve(cipherText.size() + 48);
    putLe32(block, magicOf(mode));
    if (gcm) {
        char tag[kTagBytes];
        check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1, "OpenSSL could not give the AES-GCM tag.");
        block.append(tag, kTagBytes);
    }
    putLe32(block, static_cast<uint32_t>(4 + kIvBytes + 4 + cipherText.size()));
    putLe32(block, kIvBytes);
    block.append(reinterpret_cast<const char *>(iv), kIvBytes);
    putLe32(block, static_cast<uint32_t>(cipherText.size()));
    block += cipherText;
    return block;
}

bool keyLengthFits(size_t n, EncMode mode)
{
    return mode == EncMode::Sm4Cbc ? n == 16 : n == 16 || n == 24 || n == 32;
}

} // namespace

std::string encModeName(EncMode mode)
{
    return mode == EncMode::AesGcm ? "AES-GCM" : mode == EncMode::AesCbc ? "AES-CBC" : "SM4-CBC";
}

EncMode parseEncMode(const std::string &name)
{
    std::string up = name;
    std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    for (EncMode m : {EncMode::AesGcm, EncMode::AesCbc, EncMode::Sm4Cbc})
        if (up == encModeName(m))
            return m;
    throw Error("Unknown encryption mode \"" + name + "\"; MindSpore's modes are AES-GCM, AES-CBC and SM4-CBC.");
}

std::optional<EncMode> encryptedMode(std::string_view bytes)
{
    if (bytes.size() < 4)
        return std::nullopt;
    switch (le32(bytes, 0)) {
    case kMagicGcm:
        return EncMode::AesGcm;
    case kMagicCbc:
        return EncMode::AesCbc;
    case kMagicSm4:
        return EncMode::Sm4Cbc;
    default:
        return std::nullopt;
    }
}

void checkKeyLength(const std::string &key, EncMode mode, const std::string &source)
{
    check(keyLengthFits(key.size(), mode), "The key in \"" + source + "\" is " + std::to_string(key.size()) + " bytes long; "
                                               + encModeName(mode) + " takes "
                                               + (mode == EncMode::Sm4Cbc ? "16" : "16, 24 or 32") + " bytes.");
}

EncryptionKey readKeyFile(const std::string &path, const std::string &mode)
{
    EncryptionKey key;
    if (!mode.empty())
        key.mode = parseEncMode(mode);
    key.bytes = readRegularFile(path, "key file", 4096); // a key is 16 to 32 bytes: nothing large is read
    const EncMode m = key.writeMode();
    if (!keyLengthFits(key.bytes.size(), m)) {
        std::string trimmed = key.bytes;
        if (!trimmed.empty() && trimmed.back() == '\n')
            trimmed.pop_back();
        if (!trimmed.empty() && trimmed.back() == '\r')
            trimmed.pop_back();
        if (keyLengthFits(trimmed.size(), m))
            key.bytes = std::move(trimmed);
    }
    checkKeyLength(key.bytes, m, path);
    return key;
}

EncryptedLayout encryptedLayout(std::string_view bytes, const std::string &source)
{
    const auto mode = encryptedMode(bytes);
    check(mode.has_value(), "\"" + source + "\" is not an encrypted MindSpore file (no MindSpore encryption magic at its start).");
    EncryptedLayout l;
    l.mode = *mode;
    for (size_t at = 0; at < bytes.size();) {
        const Block b = parseBlock(bytes, at, l.blocks + 1, *mode, source);
        ++l.blocks;
        l.cipherBytes += b.cipher.size();
        at += b.size;
    }
    return l;
}

std::string encryptedKind(const std::string &source)
{
    const std::string ext = std::filesystem::path(source).extension().string();
    return ext == ".ckpt" ? "checkpoint" : ext == ".mindir" ? "MindIR file" : "file (checkpoint or MindIR)";
}

std::string keyNeededMessage(std::string_view bytes, const std::string &source)
{
    EncryptedLayout l;
    try {
        l = encryptedLayout(bytes, source);
    } catch (const Error &e) { // malformed: say so, and what the file claims to be
        return std::string(e.what()) + " (It starts as an encrypted MindSpore " + encryptedKind(source) + "; a key is needed to read it.)";
    }
    return "\"" + source + "\" is an encrypted MindSpore " + encryptedKind(source) + " (" + encModeName(l.mode) + ", "
           + std::to_string(l.blocks) + (l.blocks == 1 ? " block" : " blocks") + "); a key is needed: give its key with --key-file FILE.";
}

std::string decryptMindspore(std::string_view bytes, const EncryptionKey &key, const std::string &source)
{
    if (key.empty())
        throw Error(keyNeededMessage(bytes, source));
    const EncryptedLayout l = encryptedLayout(bytes, source); // every length checked before anything is allocated
    const std::string what = "Cannot read \"" + source + "\" as an encrypted MindSpore " + encryptedKind(source) + " ("
                             + encModeName(l.mode) + ", " + std::to_string(l.blocks) + (l.blocks == 1 ? " block)" : " blocks)");
    check(!key.mode || *key.mode == l.mode,
          what + ": it was written with " + encModeName(l.mode) + ", not the " + encModeName(*key.mode) + " that was asked for.");
    check(keyLengthFits(key.bytes.size(), l.mode), what + ": the key given is " + std::to_string(key.bytes.size()) + " bytes long; "
                                                       + encModeName(l.mode) + " takes "
                                                       + (l.mode == EncMode::Sm4Cbc ? "16" : "16, 24 or 32") + " bytes.");
    std::string plain;
    plain.reserve(l.cipherBytes); // no more than the file holds
    size_t at = 0;
    for (int64_t i = 1; i <= l.blocks; ++i) {
        const Block b = parseBlock(bytes, at, i, l.mode, source);
        at += b.size;
        std::optional<std::string> piece = openBlock(b, key.bytes, l.mode, b.iv.size());
        if (!piece && l.mode == EncMode::AesGcm && b.iv.size() == 16)
            piece = openBlock(b, key.bytes, l.mode, 12); // MindSpore 1.7 used only the first 12 IV bytes
        if (!piece) {
            const std::string why = l.mode == EncMode::AesGcm ? "the AES-GCM tag does not match" : "the " + encModeName(l.mode) + " padding is wrong";
            if (i == 1)
                throw Error(what + ": the key does not open block 1 (" + why + "); wrong key or altered file.");
            if (l.mode != EncMode::AesGcm) // CBC authenticates nothing: a wrong key may pass block 1's padding by chance
                throw Error(what + ": the key does not open block " + std::to_string(i) + " (" + why + "); wrong key or altered file.");
            throw Error(what + ": block " + std::to_string(i) + " does not open (" + why + ") although the key opened block 1; the file was altered or damaged.");
        }
        plain += *piece;
    }
    return plain;
}

void encryptMindspore(std::string_view plain, const EncryptionKey &key, const std::function<void(std::string_view)> &sink, uint64_t pieceBytes)
{
    checkKeyLength(key.bytes, key.writeMode(), "the key file");
    check(pieceBytes > 0 && pieceBytes <= kEncryptPieceBytes, "An encrypted block holds 1 byte to 64 MiB of plaintext.");
    for (uint64_t at = 0; at < plain.size(); at += pieceBytes)
        sink(sealBlock(plain.substr(at, pieceBytes), key.bytes, key.writeMode()));
}

std::string encryptMindspore(std::string_view plain, const EncryptionKey &key, uint64_t pieceBytes)
{
    std::string out;
    encryptMindspore(plain, key, [&](std::string_view b) { out += b; }, pieceBytes);
    return out;
}

BlockEncryptor::BlockEncryptor(EncryptionKey key, std::function<void(std::string_view)> sink, uint64_t pieceBytes)
    : m_key(std::move(key)), m_sink(std::move(sink)), m_pieceBytes(pieceBytes)
{
    checkKeyLength(m_key.bytes, m_key.writeMode(), "the key file");
    check(pieceBytes > 0 && pieceBytes <= kEncryptPieceBytes, "An encrypted block holds 1 byte to 64 MiB of plaintext.");
}

void BlockEncryptor::write(std::string_view bytes)
{
    while (!bytes.empty()) {
        const size_t take = std::min<size_t>(bytes.size(), m_pieceBytes - m_piece.size());
        m_piece.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (m_piece.size() == m_pieceBytes) {
            m_sink(sealBlock(m_piece, m_key.bytes, m_key.writeMode()));
            m_piece.clear();
        }
    }
}

void BlockEncryptor::finish()
{
    if (!m_piece.empty())
        m_sink(sealBlock(m_piece, m_key.bytes, m_key.writeMode()));
    m_piece.clear();
}

} // namespace netwright::mindspore

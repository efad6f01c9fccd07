// SPDX-License-Identifier: Apache-2.0
#include "formats/npy/npy_file.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_io.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace netwright {

namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);
// numpy's NPY_MAXDIMS (64 since numpy 2.0, 32 before): no real file has more dimensions.
constexpr size_t kMaxRank = 64;

const char *descr(DType t)
{
    switch (t) {
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::Float16: return "<f2";
    case DType::BFloat16: return "<V2"; // numpy has no bfloat16: two opaque bytes per element
    case DType::Int64: return "<i8";
    case DType::Int32: return "<i4";
    case DType::Int16: return "<i2";
    case DType::Int8: return "|i1";
    case DType::UInt64: return "<u8";
    case DType::UInt32: return "<u4";
    case DType::UInt16: return "<u2";
    case DType::UInt8: return "|u1";
    case DType::Bool: return "|b1";
    }
    return "|u1";
}

[[noreturn]] void fail(const std::string &what, const std::string &problem)
{
    throw Error("Cannot read \"" + what + "\" as a NumPy array: " + problem + ".");
}

// A shape as numpy prints it: (), (5,), (3, 4, 5).
std::string pythonShape(const Shape &shape)
{
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// Untrusted bytes for a message: printable ASCII as is, the rest as \xNN, at most `limit` bytes.
std::string printable(std::string_view bytes, size_t limit = 24)
{
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < std::min(bytes.size(), limit); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            s += static_cast<char>(c);
        } else {
            s += "\\x";
            s += kHex[c >> 4];
            s += kHex[c & 15];
        }
    }
    return bytes.size() > limit ? s + "..." : s;
}

uint64_t readLittleEndian(std::string_view bytes, size_t offset, size_t count)
{
    uint64_t v = 0;
    for (size_t i = 0; i < count; ++i)
        v |= uint64_t(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
    return v;
}

struct NpyHeader {
    std::string descr;
    bool fortranOrder = false;
    Shape shape;
};

// A strict reader of the one Python literal numpy writes as the header,
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// exactly these three keys, in any order, with any whitespace between tokens and either quote
// character. No recursion: the only nesting is the flat shape tuple.
class HeaderParser {
public:
    HeaderParser(std::string_view text, const std::string &what) : m_text(text), m_what(what) {}

    NpyHeader parse()
    {
        skipSpace();
        if (!eat('{'))
            fail("the header is not a Python dict: it starts with \"" + printable(m_text.substr(m_pos)) + "\"");
        std::optional<std::string> descr;
        std::optional<bool> fortranOrder;
        std::optional<Shape> shape;
        while (true) {
            skipSpace();
            if (eat('}'))
                break;
            const std::string key = parseString("a key of the header dict");
            skipSpace();
            if (!eat(':'))
                fail("the header dict has no ':' after the key '" + printable(key) + "'");
            skipSpace();
            if (key == "descr") {
                requireFirst(descr.has_value(), key);
                if (peek() == '[')
                    fail("'descr' is a list of fields (a structured dtype); only plain numeric arrays are supported");
                descr = parseString("the value of 'descr'");
            } else if (key == "fortran_order") {
                requireFirst(fortranOrder.has_value(), key);
                fortranOrder = parseBool();
            } else if (key == "shape") {
                requireFirst(shape.has_value(), key);
                shape = parseShape();
            } else {
                fail("the header dict has the unexpected key '" + printable(key) + "' (numpy writes 'descr', 'fortran_order' and 'shape')");
            }
            skipSpace();
            if (eat(','))
                continue;
            if (eat('}'))
                break;
            fail("the header dict has \"" + printable(m_text.substr(m_pos)) + "\" where ',' or '}' should follow the value of '" + key + "'");
        }
        skipSpace();
        if (m_pos != m_text.size())
            fail("the header has \"" + printable(m_text.substr(m_pos)) + "\" after its dict");
        for (const auto &[present, key] : {std::pair{descr.has_value(), "descr"}, std::pair{fortranOrder.has_value(), "fortran_order"},
                                           std::pair{shape.has_value(), "shape"}})
            if (!present)
                fail(std::string("the header misses the key '") + key + "'");
        return {*descr, *fortranOrder, *shape};
    }

private:
    [[noreturn]] void fail(const std::string &problem) const { netwright::fail(m_what, problem); }

    char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
    bool eat(char c)
    {
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    void skipSpace()
    {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' || m_text[m_pos] == '\n' || m_text[m_pos] == '\r'))
            ++m_pos;
    }
    void requireFirst(bool seen, const std::string &key) const
    {
        if (seen)
            fail("the header dict has the key '" + key + "' twice");
    }

    // A Python string literal without escapes (numpy's descr and keys never need one).
    std::string parseString(const char *role)
    {
        const char quote = peek();
        if (quote != '\'' && quote != '"')
            fail(std::string(role) + " is not a string: found \"" + printable(m_text.substr(m_pos)) + "\"");
        const size_t end = m_text.find(quote, m_pos + 1);
        if (end == std::string_view::npos)
            fail(std::string(role) + " is a string that never ends");
        const std::string_view s = m_text.substr(m_pos + 1, end - m_pos - 1);
        if (s.find('\\') != std::string_view::npos)
            fail(std::string(role) + " has an escape sequence (\"" + printable(s) + "\")");
        m_pos = end + 1;
        return std::string(s);
    }

    bool parseBool()
    {
        for (const auto &[word, value] : {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
            if (m_text.substr(m_pos, word.size()) == word) {
                const size_t after = m_pos + word.size();
                if (after < m_text.size() && (std::isalnum(static_cast<unsigned char>(m_text[after])) || m_text[after] == '_'))
                    break;
                m_pos = after;
                return value;
            }
        }
        fail("'fortran_order' is not True or False: found \"" + printable(m_text.substr(m_pos)) + "\"");
    }

    Shape parseShape()
    {
        if (!eat('('))
            fail("'shape' is not a tuple: found \"" + printable(m_text.substr(m_pos)) + "\"");
        Shape shape;
        bool trailingComma = false;
        while (true) {
            skipSpace();
            if (eat(')'))
                break;
            if (peek() == '-')
                fail("'shape' has a negative dimension");
            if (!std::isdigit(static_cast<unsigned char>(peek())))
                fail("'shape' has \"" + printable(m_text.substr(m_pos)) + "\" where a dimension should be");
            int64_t dim = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const int digit = m_text[m_pos++] - '0';
                if (dim > (std::numeric_limits<int64_t>::max() - digit) / 10)
                    fail("'shape' has a dimension beyond 2^63");
                dim = dim * 10 + digit;
            }
            if (peek() == 'L' || peek() == 'l') // Python 2's long literal, as numpy under Python 2 wrote
                ++m_pos;
            if (shape.size() == kMaxRank)
                fail("'shape' has more than " + std::to_string(kMaxRank) + " dimensions");
            shape.push_back(dim);
            skipSpace();
            trailingComma = eat(',');
            if (!trailingComma) {
                skipSpace();
                if (!eat(')'))
                    fail("'shape' has \"" + printable(m_text.substr(m_pos)) + "\" where ',' or ')' should follow a dimension");
                break;
            }
        }
        if (shape.size() == 1 && !trailingComma)
            fail("'shape' is (" + std::to_string(shape[0]) + "), a number, not a tuple (a 1-tuple is written (" + std::to_string(shape[0]) + ",))");
        return shape;
    }

    std::string_view m_text;
    size_t m_pos = 0;
    const std::string &m_what;
};

struct ElementType {
    DType dtype;
    size_t itemSize;
    bool swapBytes; // stored in the other byte order than the host's
};

// numpy's descr for the plain dtypes: a byte-order character ('<' little, '>' big, '=' native,
// '|' not applicable), a kind character and the item size in bytes.
ElementType elementType(const std::string &d, const std::string &what)
{
    const char order = d.empty() ? '\0' : d[0];
    const char kind = d.size() > 1 ? d[1] : '\0';
    if (kind == 'O')
        fail(what, "'" + printable(d) + "': pickled Python objects are not supported; save numeric arrays");
    if (kind == 'U' || kind == 'S' || kind == 'a')
        fail(what, "'" + printable(d) + "': strings are not supported; save numeric arrays");
    if (kind == 'c')
        fail(what, "'" + printable(d) + "': complex numbers are not supported; save real and imaginary parts as two arrays");
    if (kind == 'M' || kind == 'm')
        fail(what, "'" + printable(d) + "': datetimes are not supported; save numeric arrays");
    if (kind == 'V')
        fail(what, "'" + printable(d) + "': raw void (record or opaque) data is not supported; save numeric arrays");
    struct Known {
        const char *code;
        DType dtype;
    };
    static constexpr Known kKnown[] = {
        {"b1", DType::Bool},   {"u1", DType::UInt8},   {"i1", DType::Int8},    {"u2", DType::UInt16},  {"i2", DType::Int16},
        {"u4", DType::UInt32}, {"i4", DType::Int32},   {"u8", DType::UInt64},  {"i8", DType::Int64},   {"f2", DType::Float16},
        {"f4", DType::Float32}, {"f8", DType::Float64},
    };
    const bool orderKnown = order == '<' || order == '>' || order == '=' || order == '|';
    for (const Known &k : kKnown) {
        if (!orderKnown || d.substr(1) != k.code)
            continue;
        const size_t size = dtypeSize(k.dtype);
        const bool little = std::endian::native == std::endian::little;
        const bool swap = size > 1 && ((order == '<' && !little) || (order == '>' && little));
        return {k.dtype, size, swap};
    }
    fail(what, "the dtype '" + printable(d) + "' is not supported (this reader takes bool, int8-64, uint8-64 and float16/32/64)");
}

// Multiplies without overflowing int64 (a Tensor's element count and a size_t byte count).
bool checkedMultiply(int64_t a, int64_t b, int64_t &out)
{
    if (a != 0 && b > std::numeric_limits<int64_t>::max() / a)
        return false;
    out = a * b;
    return true;
}

template<size_t N>
void swapElements(char *data, int64_t count)
{
    for (int64_t i = 0; i < count; ++i)
        std::reverse(data + i * N, data + (i + 1) * N);
}

// Copies `src` (Fortran order: the first index varies fastest) to `dst` in C order.
template<size_t N>
void fortranToC(char *dst, const char *src, const Shape &shape, int64_t numel)
{
    const size_t rank = shape.size();
    std::vector<int64_t> stride(rank, 1), index(rank, 0);
    for (size_t k = rank - 1; k > 0; --k)
        stride[k - 1] = stride[k] * shape[k];
    int64_t offset = 0; // of the element with `index`, in C order
    for (int64_t s = 0; s < numel; ++s) {
        std::memcpy(dst + offset * N, src + s * N, N);
        for (size_t k = 0; k < rank; ++k) {
            offset += stride[k];
            if (++index[k] < shape[k])
                break;
            offset -= stride[k] * shape[k];
            index[k] = 0;
        }
    }
}

template<size_t N>
void copyData(char *dst, const char *src, const Shape &shape, int64_t numel, bool fortranOrder, bool swapBytes)
{
    if (fortranOrder && shape.size() > 1)
        fortranToC<N>(dst, src, shape, numel);
    else
        std::memcpy(dst, src, static_cast<size_t>(numel) * N);
    if (swapBytes)
        swapElements<N>(dst, numel);
}

} // namespace

std::string encodeNpy(const Tensor &t)
{
    std::string shape = "(";
    for (size_t i = 0; i < t.shape().size(); ++i)
        shape += std::to_string(t.shape()[i]) + (t.shape().size() == 1 ? "," : i + 1 < t.shape().size() ? ", " : "");
    shape += ")";
    std::string header = std::string("{'descr': '") + descr(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // magic (6) + version (2) + length (2) + header + '\n', padded with spaces to a multiple of 64
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    check(header.size() <= 0xffff, "The .npy header is too long for format version 1.0.");
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(static_cast<const char *>(t.raw()), t.byteSize());
    return out;
}

void writeNpy(const std::string &path, const Tensor &t)
{
    writeFileAtomically(path, encodeNpy(t));
}

namespace {

struct Layout {
    NpyHeader header;
    ElementType type;
    int64_t numel = 0;
    uint64_t dataStart = 0;
};

// The header of a .npy file whose first bytes are `file` (the whole file, or a prefix holding the
// header) and whose size is `fileSize`, checked against that size.
Layout layoutOf(std::string_view file, uint64_t fileSize, const std::string &what)
{
    if (!file.starts_with(kMagic))
        fail(what, "not a .npy file: it does not start with the magic \"\\x93NUMPY\" (found \"" + printable(file.substr(0, 8)) + "\")");
    if (file.size() < 8)
        fail(what, "truncated: the file ends inside the format version");
    const int major = static_cast<unsigned char>(file[6]), minor = static_cast<unsigned char>(file[7]);
    if (major < 1 || major > 3 || minor != 0)
        fail(what, "unknown format version " + std::to_string(major) + "." + std::to_string(minor) + " (this reader knows 1.0, 2.0 and 3.0)");
    // 1.0 has a 2-byte header length; 2.0 (for headers past 64 KiB) and 3.0 (UTF-8 field names) 4 bytes.
    const size_t lengthSize = major == 1 ? 2 : 4;
    const size_t headerStart = 8 + lengthSize;
    if (file.size() < headerStart)
        fail(what, "truncated: the file ends inside the header length");
    const uint64_t headerLength = readLittleEndian(file, 8, lengthSize);
    if (headerLength > fileSize - headerStart)
        fail(what, "the header length " + std::to_string(headerLength) + " runs past the end of the file (" + std::to_string(fileSize - headerStart)
                       + " bytes follow the length field)");
    if (headerLength > file.size() - headerStart)
        fail(what, "the header of " + std::to_string(headerLength) + " bytes is larger than this reader takes");
    Layout l{HeaderParser(file.substr(headerStart, headerLength), what).parse(), {}, 1, headerStart + headerLength};
    l.type = elementType(l.header.descr, what);

    // The byte count is checked against the bytes present BEFORE anything is allocated.
    const std::string described = "shape " + pythonShape(l.header.shape) + " " + dtypeName(l.type.dtype);
    int64_t byteCount = 0;
    for (int64_t d : l.header.shape)
        if (!checkedMultiply(l.numel, d, l.numel))
            fail(what, described + " is too large: its element count overflows 64 bits");
    if (!checkedMultiply(l.numel, static_cast<int64_t>(l.type.itemSize), byteCount))
        fail(what, described + " is too large: its byte size overflows 64 bits");
    const uint64_t present = fileSize - l.dataStart;
    if (static_cast<uint64_t>(byteCount) > present)
        fail(what, "truncated: " + described + " needs " + std::to_string(byteCount) + " bytes of data, the file has " + std::to_string(present));
    if (static_cast<uint64_t>(byteCount) < present)
        fail(what, std::to_string(present - byteCount) + " trailing bytes after the data (" + described + " takes " + std::to_string(byteCount) + " bytes)");
    return l;
}

} // namespace

Tensor decodeNpy(const std::string &bytes, const std::string &what)
{
    const Layout l = layoutOf(bytes, bytes.size(), what);
    const NpyHeader &header = l.header;
    const ElementType &type = l.type;
    const int64_t numel = l.numel;
    const uint64_t dataStart = l.dataStart;
    Tensor t(header.shape, type.dtype);
    char *dst = static_cast<char *>(t.raw());
    const char *src = bytes.data() + dataStart;
    switch (type.itemSize) {
    case 1: copyData<1>(dst, src, header.shape, numel, header.fortranOrder, false); break;
    case 2: copyData<2>(dst, src, header.shape, numel, header.fortranOrder, type.swapBytes); break;
    case 4: copyData<4>(dst, src, header.shape, numel, header.fortranOrder, type.swapBytes); break;
    case 8: copyData<8>(dst, src, header.shape, numel, header.fortranOrder, type.swapBytes); break;
    }
    if (type.dtype == DType::Bool) {
        // numpy writes 0 and 1; any other byte is still true, and stored as the engine's 1.
        auto *b = t.dataAs<uint8_t>();
        for (int64_t i = 0; i < numel; ++i)
            b[i] = b[i] != 0;
    }
    return t;
}

Tensor readNpy(const std::string &path)
{
    return decodeNpy(readRegularFile(path, "NumPy file"), path);
}

NpyLayout readNpyLayout(const std::string &path)
{
    const uint64_t size = regularFileSize(path, "NumPy file");
    const Layout l = layoutOf(readFilePrefix(path, 1 << 20, "NumPy file"), size, path);
    return {l.header.shape, l.type.dtype, l.header.fortranOrder, l.type.swapBytes, l.dataStart};
}

} // namespace netwright

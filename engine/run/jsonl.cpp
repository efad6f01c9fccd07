// SPDX-License-Identifier: Apache-2.0
#include "run/jsonl.h"

#include "core/error.h"
#include "core/file_io.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <regex>
#include <sys/stat.h>
#include <unistd.h>

namespace netwright::run {

namespace {

std::string where(const std::string &path, int64_t line)
{
    return "\"" + path + "\" line " + std::to_string(line);
}

// Non-finite numbers become null, recursively (nlohmann would write them as null too, but say it).
void sanitize(Json &j)
{
    if (j.is_number_float() && !std::isfinite(j.get<double>()))
        j = nullptr;
    else if (j.is_structured())
        for (auto &v : j)
            sanitize(v);
}

} // namespace

JsonlText parseJsonl(std::string_view text, const std::string &path)
{
    JsonlText out;
    int64_t number = 0;
    size_t at = 0;
    while (at < text.size()) {
        ++number;
        const size_t end = text.find('\n', at);
        if (end == std::string_view::npos) {
            out.tornLine = number; // cut by a kill, or still being written
            break;
        }
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos)
            continue; // a blank line carries nothing
        Json value = Json::parse(line.begin(), line.end(), nullptr, false);
        if (value.is_discarded()) {
            // Logs written before the writer used real JSON printed a non-finite number as a
            // bare nan or inf: read those as null, as the writer now writes them.
            static const std::regex bare(R"(:\s*-?(nan|inf|NaN|Infinity)\s*([,}]))");
            const std::string fixed = std::regex_replace(std::string(line), bare, ":null$2");
            value = Json::parse(fixed, nullptr, false);
        }
        if (value.is_discarded())
            throw Error(where(path, number) + " is not valid JSON: \"" + std::string(line.substr(0, 80))
                        + (line.size() > 80 ? "…" : "") + "\".");
        if (!value.is_object())
            throw Error(where(path, number) + " is not a JSON object.");
        out.lines.push_back({number, std::move(value)});
    }
    return out;
}

JsonlText readJsonl(const std::string &path, bool missingOk)
{
    struct stat st {};
    if (missingOk && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT)
        return {};
    return parseJsonl(readRegularFile(path, {}, 1ull << 32), path);
}

std::string jsonlLine(const Json &object)
{
    Json copy = object;
    sanitize(copy);
    return copy.dump() + "\n";
}

void appendJsonlLine(const std::string &path, const Json &object)
{
    const std::string line = jsonlLine(object);
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0)
        throw Error("Cannot append to \"" + path + "\": " + std::strerror(errno) + ".");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error("Cannot append to \"" + path + "\": it is not a regular file.");
    }
    // One write of the whole line: a reader sees the line whole or not at all (O_APPEND).
    const ssize_t n = ::write(fd, line.data(), line.size());
    const int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(line.size()))
        throw Error("Cannot append to \"" + path + "\": " + (n < 0 ? std::strerror(err) : "the write was cut short") + ".");
}

const Json *JsonlFields::find(const char *key) const
{
    const auto it = m_line.value.find(key);
    return it == m_line.value.end() ? nullptr : &*it;
}

void JsonlFields::fail(const char *key, const std::string &problem) const
{
    throw Error(where(m_path, m_line.number) + ": \"" + key + "\" " + problem + ".");
}

bool JsonlFields::has(const char *key) const
{
    const Json *v = find(key);
    return v && !v->is_null();
}

bool JsonlFields::present(const char *key) const
{
    return find(key) != nullptr;
}

std::string JsonlFields::text(const char *key) const
{
    const Json *v = find(key);
    if (!v)
        fail(key, "is missing");
    if (!v->is_string())
        fail(key, "is " + v->dump() + ", not a string");
    return v->get<std::string>();
}

std::string JsonlFields::textOr(const char *key, std::string fallback) const
{
    return find(key) ? text(key) : std::move(fallback);
}

int64_t JsonlFields::integer(const char *key) const
{
    const Json *v = find(key);
    if (!v)
        fail(key, "is missing");
    if (v->is_number_integer()) {
        if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            fail(key, "is " + v->dump() + ", out of range");
        return v->get<int64_t>();
    }
    if (v->is_number_float()) // 1e3, or a number too large for 64 bits
        fail(key, "is " + v->dump() + ", not a whole number in the 64-bit range");
    fail(key, "is " + v->dump() + ", not a whole number");
}

int64_t JsonlFields::integerOr(const char *key, int64_t fallback) const
{
    return find(key) ? integer(key) : fallback;
}

double JsonlFields::number(const char *key) const
{
    const Json *v = find(key);
    if (!v)
        fail(key, "is missing");
    if (v->is_null())
        return std::numeric_limits<double>::quiet_NaN(); // written for a non-finite value
    if (!v->is_number())
        fail(key, "is " + v->dump() + ", not a number");
    return v->get<double>();
}

double JsonlFields::numberOr(const char *key, double fallback) const
{
    return find(key) ? number(key) : fallback;
}

bool JsonlFields::boolean(const char *key) const
{
    const Json *v = find(key);
    if (!v)
        fail(key, "is missing");
    if (!v->is_boolean())
        fail(key, "is " + v->dump() + ", not true or false");
    return v->get<bool>();
}

} // namespace netwright::run

// SPDX-License-Identifier: Apache-2.0
// JSON-lines logs of a run directory (internal to engine/run and its writers: include from .cpp
// files only). Every complete line is one JSON object; a line that does not parse is an error
// naming the file and the line; the last line without its newline (a write cut by a kill, or one
// another process is still writing) is left out and reported. Layer: engine/run.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netwright::run {

using Json = nlohmann::ordered_json; // keys in the order written, as the logs have always had them

struct JsonlLine {
    int64_t number = 0; // 1-based line number in the file
    Json value;         // an object
};

struct JsonlText {
    std::vector<JsonlLine> lines;
    int64_t tornLine = 0; // the number of a cut last line that was left out; 0: none
};

// Parses `text` (the contents of `path`, named in errors).
JsonlText parseJsonl(std::string_view text, const std::string &path);
// Reads and parses `path` (a regular file); a missing file is an empty log when `missingOk`.
JsonlText readJsonl(const std::string &path, bool missingOk);
// One line, with its newline: the object compact, numbers with round-trip precision, non-finite
// numbers as null (JSON has no NaN).
std::string jsonlLine(const Json &object);
// Appends one line to `path` (created when missing) in a single write(); throws Error naming it.
void appendJsonlLine(const std::string &path, const Json &object);

// Typed access to a log line's fields; errors name the file, the line and the key.
class JsonlFields {
public:
    JsonlFields(const JsonlLine &line, const std::string &path) : m_line(line), m_path(path) {}
    bool has(const char *key) const;                    // present and not null
    bool present(const char *key) const;                // present, null included
    std::string text(const char *key) const;            // required string
    std::string textOr(const char *key, std::string fallback) const;
    int64_t integer(const char *key) const;             // required whole number (int64 range)
    int64_t integerOr(const char *key, int64_t fallback) const;
    double number(const char *key) const;               // required number (null: NaN)
    double numberOr(const char *key, double fallback) const;
    bool boolean(const char *key) const;
    [[noreturn]] void fail(const char *key, const std::string &problem) const;

private:
    const Json *find(const char *key) const;
    const JsonlLine &m_line;
    const std::string &m_path;
};

} // namespace netwright::run

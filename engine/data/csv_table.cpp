// SPDX-License-Identifier: Apache-2.0
#include "data/csv_table.h"

#include "core/error.h"
#include "core/file_io.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace netwright {

namespace {

std::string trim(const std::string &s)
{
    const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool parseNumber(const std::string &cell, float *out)
{
    if (cell.empty())
        return false;
    const char *begin = cell.data(), *end = cell.data() + cell.size();
    if (*begin == '+')
        ++begin;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, v);
    // a number float32 cannot hold (1e39) is refused as not a number, not turned into infinity
    if (ec != std::errc() || ptr != end || !std::isfinite(v) || !std::isfinite(static_cast<float>(v)))
        return false;
    *out = static_cast<float>(v);
    return true;
}

} // namespace

std::vector<std::string> splitCsvLine(const std::string &line, const std::string &path, int64_t lineNo)
{
    std::vector<std::string> fields;
    std::string cur;
    bool quoted = false, wasQuoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur.push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur.push_back(c);
            }
        } else if (c == '"' && trim(cur).empty()) {
            cur.clear();
            quoted = wasQuoted = true;
        } else if (c == ',') {
            fields.push_back(wasQuoted ? cur : trim(cur));
            cur.clear();
            wasQuoted = false;
        } else {
            cur.push_back(c);
        }
    }
    if (quoted)
        throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ": a quoted field is not closed.");
    fields.push_back(wasQuoted ? cur : trim(cur));
    return fields;
}

CsvTable readCsvTable(const std::string &path, const std::string &label)
{
    const std::string text = readRegularFile(path, "CSV table");
    CsvTable t;
    t.path = path;
    size_t pos = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
    int64_t lineNo = 0;
    std::vector<std::string> header;
    std::vector<size_t> targetCols, featureCols;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos)
            nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (trim(line).empty())
            continue;
        std::vector<std::string> cells = splitCsvLine(line, path, lineNo);
        if (header.empty()) {
            header = cells;
            for (size_t c = 0; c < header.size(); ++c)
                if (header[c].empty())
                    header[c] = "column " + std::to_string(c + 1);
            check(header.size() >= 2, "\"" + path + "\" line " + std::to_string(lineNo)
                                          + ": the header names one column; a table needs a target and at least one feature.");
            bool numericHeader = true;
            for (const auto &h : header) {
                float v;
                numericHeader = numericHeader && parseNumber(h, &v);
            }
            check(!numericHeader, "\"" + path + "\" line 1 holds only numbers: a CSV table starts with a header row naming its columns.");
            if (!label.empty()) {
                size_t at = 0;
                while (at <= label.size()) {
                    size_t comma = label.find(',', at);
                    if (comma == std::string::npos)
                        comma = label.size();
                    const std::string name = trim(label.substr(at, comma - at));
                    at = comma + 1;
                    if (name.empty())
                        continue;
                    const auto it = std::find(header.begin(), header.end(), name);
                    if (it == header.end()) {
                        std::string list;
                        for (const auto &h : header)
                            list += (list.empty() ? "" : ", ") + h;
                        throw Error("\"" + path + "\" has no column \"" + name + "\" (its columns: " + list + ").");
                    }
                    targetCols.push_back(static_cast<size_t>(it - header.begin()));
                }
            } else {
                for (const char *n : {"label", "target", "class", "y"})
                    for (size_t c = 0; c < header.size() && targetCols.empty(); ++c)
                        if (lower(header[c]) == n)
                            targetCols.push_back(c);
                if (targetCols.empty())
                    targetCols.push_back(header.size() - 1);
            }
            check(targetCols.size() < header.size(), "\"" + path + "\": every column is a target; a table needs at least one feature.");
            for (size_t c = 0; c < header.size(); ++c)
                if (std::find(targetCols.begin(), targetCols.end(), c) == targetCols.end()) {
                    featureCols.push_back(c);
                    t.featureNames.push_back(header[c]);
                }
            for (size_t c : targetCols)
                t.targetNames.push_back(header[c]);
            continue;
        }
        if (cells.size() != header.size())
            throw Error("\"" + path + "\" line " + std::to_string(lineNo) + " has " + std::to_string(cells.size())
                        + " columns; the header has " + std::to_string(header.size()) + ".");
        for (size_t k = 0; k < featureCols.size(); ++k) {
            const std::string &cell = cells[featureCols[k]];
            float v = 0;
            if (!parseNumber(cell, &v))
                throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ", column \"" + header[featureCols[k]] + "\": "
                            + (cell.empty() ? std::string("the value is missing.")
                                            : "\"" + cell + "\" is not a number."
                                                  + (label.empty() ? " If this column is the target, choose it with --label \""
                                                                         + header[featureCols[k]] + "\" (data.label)."
                                                                   : std::string())));
            t.features.push_back(v);
        }
        for (size_t k = 0; k < targetCols.size(); ++k) {
            const std::string &cell = cells[targetCols[k]];
            if (cell.empty())
                throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ", column \"" + header[targetCols[k]]
                            + "\": the target is missing.");
            float v = 0;
            if (t.numericTargets && parseNumber(cell, &v)) {
                t.targetValues.push_back(v);
            } else {
                if (targetCols.size() > 1)
                    throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ", column \"" + header[targetCols[k]] + "\": \""
                                + cell + "\" is not a number (several target columns hold numbers: regression values or 0/1 labels).");
                t.numericTargets = false;
            }
            if (targetCols.size() == 1)
                t.targetCells.push_back(cell);
        }
        t.lineOfRow.push_back(lineNo);
        ++t.rows;
    }
    check(!header.empty(), "\"" + path + "\" is empty: a CSV table needs a header row and at least one row of data.");
    check(t.rows > 0, "\"" + path + "\" has a header but no rows of data.");
    if (!t.numericTargets)
        t.targetValues.clear();
    return t;
}

} // namespace netwright

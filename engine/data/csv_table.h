// SPDX-License-Identifier: Apache-2.0
// A CSV table with a header row, as users export it from pandas or a spreadsheet: comma-separated,
// fields optionally in double quotes ("" inside quotes is one quote), CRLF or LF line ends, a
// UTF-8 byte-order mark ignored. The target column(s) are chosen by name; every other column is
// a numeric feature. Layer: engine/data. A ragged row, a non-number or a missing feature value
// is refused naming the file, the line and the column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netwright {

struct CsvTable {
    std::string path;
    std::vector<std::string> featureNames, targetNames;
    int64_t rows = 0;
    std::vector<float> features;          // rows × features, row-major
    bool numericTargets = true;           // every target cell is a number
    std::vector<float> targetValues;      // rows × targets when numericTargets
    std::vector<std::string> targetCells; // the single target column's text (rows), kept for text labels
    std::vector<int64_t> lineOfRow;       // the 1-based line each row came from
};

// `label`: the target column name(s), comma-separated; empty = the first column named label,
// target, class or y (any case), else the last column. Throws Error naming the file, the line and
// the column of the first problem.
CsvTable readCsvTable(const std::string &path, const std::string &label);

// One CSV line split into fields (quotes removed); `line` has no line end.
std::vector<std::string> splitCsvLine(const std::string &line, const std::string &path, int64_t lineNo);

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
// What tests/support/make_pytorch_files.py says of each PyTorch file it writes (FILE.expected: one
// line per leaf, dotted names as Netwright flattens them; FILE.raw: every tensor's bytes), read by
// pytorch_test and pytorch_cli_test. Test support.
#pragma once

#include "core/tensor.h"

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QString>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace netwright::test {

struct Expected {
    bool tensor = false;
    std::string name, type, text; // tensors: type is the dtype; values: Python type and text
    Shape shape;
    qint64 offset = 0, bytes = 0;
    QString min, max, mean;       // numpy's statistics ("-" when not floating point)
};

inline std::vector<Expected> readExpected(const QString &path)
{
    std::vector<Expected> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.isEmpty())
            continue;
        const QList<QByteArray> c = line.split('\t');
        Expected e;
        e.tensor = c[0] == "T";
        e.name = c[1].toStdString();
        e.type = c[2].toStdString();
        if (e.tensor) {
            for (const QByteArray &d : c[3].split(','))
                if (!d.isEmpty())
                    e.shape.push_back(d.toLongLong());
            e.offset = c[4].toLongLong();
            e.bytes = c[5].toLongLong();
            e.min = QString::fromUtf8(c[6]);
            e.max = QString::fromUtf8(c[7]);
            e.mean = QString::fromUtf8(c[8]);
        } else {
            e.text = line.mid(c[0].size() + c[1].size() + c[2].size() + 3).toStdString();
        }
        out.push_back(std::move(e));
    }
    return out;
}

inline bool near(double got, const QString &want)
{
    const double w = want.toDouble();
    return std::abs(got - w) <= 1e-5 * std::max(1.0, std::abs(w));
}

} // namespace netwright::test

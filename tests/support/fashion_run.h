// SPDX-License-Identifier: Apache-2.0
// Test support: the run config of a short training on real data — a zoo model on the first images
// of Fashion-MNIST (cli_support.h's fashionMnistSlice), written as DIR/run.json for
// `netwright train --config`.
#pragma once

#include "cli_support.h"

#include <QFile>
#include <QString>

namespace netwright::test {

// Writes dir/run.json: zoo model `model` on the first `train` training and `test` test images, the
// "training" block's keys `training` ("\"epochs\": 3, …") and more top-level keys `extra`
// ("\"checkpoint\": {…}", or ""). Returns its path, "" when the data or the file could not be
// written.
inline QString writeFashionRunConfig(const QString &dir, int train, int test, const QString &model, const QString &training,
                                     const QString &extra = {})
{
    const QString data = fashionMnistSlice(dir, train, test);
    const QString path = dir + QStringLiteral("/run.json");
    QFile f(path);
    if (data.isEmpty() || !f.open(QIODevice::WriteOnly))
        return {};
    const QString text = QStringLiteral(R"({"model": {"name": "%1"}, %2, "training": {%3}%4})")
                             .arg(model, data, training, extra.isEmpty() ? QString() : QStringLiteral(",\n ") + extra);
    return f.write(text.toUtf8()) > 0 ? path : QString();
}

} // namespace netwright::test

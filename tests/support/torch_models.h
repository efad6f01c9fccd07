// SPDX-License-Identifier: Apache-2.0
// Test support: PyTorch's own ONNX exports of five models (export_torch_models.py, run with
// Debian's python3-torch), their reference inputs and outputs as raw float32 files.
#pragma once

#include "core/tensor.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <cstring>

namespace netwright::testing {

// Raw float32 bytes as a tensor of `shape` (empty when the size does not match).
inline Tensor readRawFloats(const QString &path, const Shape &shape)
{
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    const QByteArray b = f.readAll();
    Tensor t(shape, DType::Float32);
    if (b.size() == static_cast<qsizetype>(t.byteSize()))
        std::memcpy(t.raw(), b.constData(), t.byteSize());
    return t;
}

inline Shape shapeOfJson(const QJsonArray &a)
{
    Shape s;
    for (const QJsonValue &v : a)
        s.push_back(v.toInteger());
    return s;
}

// Exports the models into `dir` (fixedBatch: PyTorch's default export, a batch of 1 and no
// dynamic axes) and returns models.json's object; empty (with the reason in *error) on failure.
inline QJsonObject exportTorchModels(const QString &dir, bool fixedBatch, QString *error)
{
    QProcess py;
    py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QStringList args{qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/export_torch_models.py"};
    if (fixedBatch)
        args << QStringLiteral("--fixed-batch");
    args << dir;
    py.start(QStringLiteral("/usr/bin/python3"), args);
    if (!py.waitForFinished(600000) || py.exitCode() != 0) {
        *error = QStringLiteral("export_torch_models.py failed (exit %1)").arg(py.exitCode());
        return {};
    }
    QFile meta(dir + QStringLiteral("/models.json"));
    if (!meta.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("no models.json in ") + dir;
        return {};
    }
    return QJsonDocument::fromJson(meta.readAll()).object();
}

} // namespace netwright::testing

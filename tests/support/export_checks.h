// SPDX-License-Identifier: Apache-2.0
// Test support shared by the export tests: an exported file decoded by protoc against our
// restatement of its schema (proto/), and tests/support/torch_training_parity.py's PyTorch
// exports (training mode, batch 8: transformer, gru, lstm2, mobile_block, tied), made once per
// test program. Both need NETWRIGHT_SOURCE_DIR, which ctest sets.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <memory>
#include <string>

namespace netwright::testing {

// protoc's text form of `bytes` (written to `path` first) decoded as `message` of
// proto/`protoFile`; empty when the file cannot be written or protoc refuses it.
inline QByteArray protocDecode(const std::string &bytes, const QString &protoFile, const QString &message, const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(bytes.data(), static_cast<qint64>(bytes.size()));
    file.close();
    const QString proto = qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/proto";
    QProcess protoc;
    protoc.setStandardInputFile(path);
    protoc.start("protoc", {"--proto_path=" + proto, "--decode=" + message, proto + "/" + protoFile});
    if (!protoc.waitForFinished(60000) || protoc.exitCode() != 0)
        return {};
    return protoc.readAllStandardOutput();
}

// The folder holding the parity models' .onnx files, exported on the first call; null when the
// script fails (its error output goes to the test's stderr).
inline const QTemporaryDir *torchParityExports()
{
    static std::unique_ptr<QTemporaryDir> dir;
    static bool tried = false;
    if (!tried) {
        tried = true;
        auto made = std::make_unique<QTemporaryDir>();
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        py.start(QStringLiteral("/usr/bin/python3"),
                 {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/torch_training_parity.py", made->path(), "1"});
        if (py.waitForFinished(300000) && py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0)
            dir = std::move(made);
    }
    return dir.get();
}

} // namespace netwright::testing

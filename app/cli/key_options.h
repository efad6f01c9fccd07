// SPDX-License-Identifier: Apache-2.0
// The --key-file and --enc-mode options of the subcommands that read or write encrypted MindSpore
// files (inspect, export, convert): one wording, one parse. The key's bytes stay in memory only.
// Layer: app/cli.
#pragma once

#include "formats/mindspore/ms_encryption.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>

namespace netwright::cli {

// `writes`: the help says the key also encrypts what the command writes (a MindIR file).
QList<QCommandLineOption> keyOptions(bool writes);
// The key the options name; empty when --key-file is not given (--enc-mode alone only checks the
// mode). Throws Error naming the key file (never its bytes).
mindspore::EncryptionKey keyFromOptions(const QCommandLineParser &parser);

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/key_options.h"

namespace netwright::cli {

QList<QCommandLineOption> keyOptions(bool writes)
{
    const QString keyHelp = QStringLiteral("The key of an encrypted MindSpore .ckpt or .mindir: a file holding its raw 16, 24 or 32 bytes "
                                           "(one trailing newline is ignored)%1.")
                                .arg(writes ? QStringLiteral("; a MindIR file written is encrypted with it") : QString());
    return {
        {QStringLiteral("key-file"), keyHelp, QStringLiteral("FILE")},
        {QStringLiteral("enc-mode"),
         QStringLiteral("The encryption mode: AES-GCM (default), AES-CBC or SM4-CBC. A file read must have been written with it."),
         QStringLiteral("MODE")},
    };
}

mindspore::EncryptionKey keyFromOptions(const QCommandLineParser &parser)
{
    const std::string mode = parser.value(QStringLiteral("enc-mode")).toStdString();
    if (!parser.isSet(QStringLiteral("key-file"))) {
        mindspore::EncryptionKey none;
        if (!mode.empty())
            none.mode = mindspore::parseEncMode(mode);
        return none;
    }
    return mindspore::readKeyFile(parser.value(QStringLiteral("key-file")).toStdString(), mode);
}

} // namespace netwright::cli

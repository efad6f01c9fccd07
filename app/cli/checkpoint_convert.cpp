// SPDX-License-Identifier: Apache-2.0
#include "cli/checkpoint_convert.h"

#include "checkpoint/checkpoint_convert.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace netwright::cli {

bool isCheckpointOutput(const QString &out)
{
    return !checkpointFormatForPath(out.toStdString()).empty();
}

void convertCheckpointFile(const QString &in, const QString &out, bool json)
{
    const CheckpointConversion r = convertCheckpoint(in.toStdString(), out.toStdString());
    if (json) {
        const QJsonObject o{{"source", in},
                            {"file", out},
                            {"source_format", QString::fromStdString(r.inputFormat)},
                            {"format", QString::fromStdString(r.outputFormat)},
                            {"entries", static_cast<qint64>(r.entries)},
                            {"tensors", static_cast<qint64>(r.tensors)},
                            {"strings", static_cast<qint64>(r.strings)},
                            {"bytes", static_cast<qint64>(r.bytes)},
                            {"verified", QStringLiteral("every entry's name, dtype, shape and bytes")}};
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        return;
    }
    std::printf("Converted \"%s\" (%s) to \"%s\" (%s): %lld entries (%lld tensors, %lld strings), %llu bytes.\n"
                "Read back: every entry's name, dtype, shape and bytes are identical.\n",
                qPrintable(in), r.inputFormat.c_str(), qPrintable(out), r.outputFormat.c_str(), static_cast<long long>(r.entries),
                static_cast<long long>(r.tensors), static_cast<long long>(r.strings), static_cast<unsigned long long>(r.bytes));
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
// Test support: the real datasets of tests/support/make_datasets.py, written where a test wants
// them, and the multilabel run the eval tests evaluate — an mlp trained 3 epochs on scikit-learn's
// digits tagged even/large/prime/loop (make_datasets.py digit-tags), 20 % held out.
#pragma once

#include "cli_support.h"

#include <QProcess>
#include <QString>
#include <QStringList>

namespace netwright::test {

// Runs make_datasets.py OUT NAMES…; "" when it succeeded, else what it said.
inline QString makeDatasets(const QString &out, const QStringList &names)
{
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"),
             QStringList{qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + QStringLiteral("/tests/support/make_datasets.py"), out} + names);
    if (!py.waitForFinished(300000))
        return QStringLiteral("make_datasets.py did not finish");
    const QString said = QString::fromUtf8(py.readAllStandardError());
    return py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0 ? QString() : QStringLiteral("make_datasets.py: ") + said;
}

// Writes dir/digit-tags/tags.csv and trains the multilabel run into `out`.
inline RunResult trainDigitTagsRun(const QString &dir, const QString &out)
{
    if (const QString error = makeDatasets(dir, {QStringLiteral("digit-tags")}); !error.isEmpty())
        return {1, {}, error};
    return runNetwright({"train", "--out", out, "--data", dir + "/digit-tags/tags.csv", "--label", "even,large,prime,loop", "--task", "multilabel",
                         "--test-split", "0.2", "--model", "mlp", "--hidden", "32", "--optimizer", "adam", "--lr", "0.01", "--epochs", "3",
                         "--batch-size", "32", "--threads", "2"});
}

} // namespace netwright::test

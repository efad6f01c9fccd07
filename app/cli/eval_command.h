// SPDX-License-Identifier: Apache-2.0
// `netwright eval SOURCE [--data PATH] [--json] [--csv FILE]`: a trained model's figures on data —
// for a classification accuracy, top-5, loss, per-class precision/recall/F1/support and the
// confusion matrix; for a regression MAE, RMSE, R² and the residuals — as a table, JSON, and
// per-sample predictions in a CSV file. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runEvalCommand(const QStringList &arguments);

} // namespace netwright::cli

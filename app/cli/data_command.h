// SPDX-License-Identifier: Apache-2.0
// `netwright data inspect PATH`: what a data file or folder holds as training data — its kind,
// samples, sample shape, classes with their counts (or the targets), its own test split and the
// feature statistics. `netwright data stats PATH`: the per-channel (images) or per-feature mean
// and std, ready for data.feature_mean / data.feature_std. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runDataCommand(const QStringList &arguments);

} // namespace netwright::cli

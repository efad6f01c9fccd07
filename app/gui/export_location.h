// SPDX-License-Identifier: Apache-2.0
// Where exports go by default (the export wizard, the graph's PNG/SVG): the folder the user last
// exported to, else the documents folder — never the source file's folder, which is often
// read-only (node_modules, /usr/share). One setting, declared here beside its users.
// Thread affinity: UI thread (QSettings). Layer: app.
#pragma once

#include <QString>

namespace netwright::gui {

inline constexpr const char *kExportDirectoryKey = "export/lastDirectory";

// The folder the last export was written to while it still exists, else the documents folder
// (else the home folder).
QString exportDirectory();
// Remembers the folder of `file`, an export just written.
void rememberExportDirectory(const QString &file);
// `exportDirectory()/<name>`.
QString defaultExportPath(const QString &name);

} // namespace netwright::gui

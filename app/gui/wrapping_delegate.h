// SPDX-License-Identifier: Apache-2.0
// Item texts of any length in a tree (property values: node names, attribute lists, shapes)
// wrapped within their column — at word boundaries, else anywhere — never cut with "…" and never
// wider than the view, rows as tall as their text; heights follow column resizes. Ctrl+C copies
// the current row's value. Thread affinity: UI thread. Layer: app.
#pragma once

class QTreeView;

namespace netwright::gui {

// Installs the wrapping on `view` (no horizontal scrolling: the last column takes the width left).
void wrapItemTexts(QTreeView *view);

} // namespace netwright::gui

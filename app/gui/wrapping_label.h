// SPDX-License-Identifier: Apache-2.0
// Labels for texts of any length (errors, paths): wrapped at word boundaries within the width the
// layout gives them and never asking for more, so a long message neither squeezes the form beside
// it nor widens the window (whose size is saved). Thread affinity: UI thread. Layer: app.
#pragma once

class QLabel;
class QString;

namespace netwright::gui {

// Word wrap, plain text, selectable; no horizontal size demand (a word longer than the width,
// such as a long path, is cut at the edge).
void wrapWithinWidth(QLabel *label);
// The text, and the whole of it as the tooltip (what a cut word hides can be read and copied).
void setWrappedText(QLabel *label, const QString &text);

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
// Convolution filters as an image grid, as one looks at a first layer's filters: a 4-D weight
// [O,I,H,W] (ONNX/PyTorch OIHW) as one H×W tile per output and input channel (a row per output
// channel), or one RGB tile per output channel when I = 3; a 3-D weight [O,I,K] as one I×K tile
// per output channel. Colours are normalised over the whole grid (±max|w|) with a diverging map
// (blue < 0 < red, white at 0); tiles are labelled with their channel indices (0-based); the grid
// zooms (buttons, Ctrl+wheel) and a tooltip gives each weight's coordinates and full-precision
// value. Shows at most kMaxOutputs output channels. Thread affinity: UI thread. Layer: widgets.
#pragma once

#include "core/tensor.h"

#include <QColor>
#include <QWidget>

class QCheckBox;
class QLabel;
class QScrollArea;
class QToolButton;

namespace netwright::widgets {

class FilterGridCanvas;

class FilterGridView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxOutputs = 256;
    static constexpr int kMinZoom = 1, kMaxZoom = 64;

    explicit FilterGridView(QWidget *parent = nullptr);
    ~FilterGridView() override;

    // Whether the grid applies: a floating-point tensor of rank 3 or 4 with no empty axis and more
    // than one weight per output channel.
    static bool applies(const Tensor &t);
    // The diverging colour of v on the scale ±scale (white at 0, blue below, red above).
    static QColor divergingColor(double v, double scale);

    void setTensor(const Tensor &t, const QString &name); // shows nothing when !applies(t)
    void clear();

    // RGB tiles (4-D with 3 input channels only); on by default when it applies.
    bool rgbAvailable() const;
    bool rgb() const;
    void setRgb(bool on);
    // Screen pixels per weight.
    int zoom() const;
    void setZoom(int pixels);
    void zoomIn();
    void zoomOut();

    // What is drawn, for tests: the tiles, each tile's rectangle in the canvas and its label
    // ("12" for an output channel, "o12 i3" for one input channel of one), the normalising scale.
    int tileCount() const;
    QRect tileRect(int tile) const;
    QString tileLabel(int tile) const;
    double scale() const;
    QString scaleText() const;       // the colour bar's "−0.53 … 0 … +0.53"
    QString noteText() const;        // what is not shown ("the first 256 of 512 output channels")
    QWidget *canvas() const;         // the grid itself (grab() it to see the pixels)
    QCheckBox *rgbBox() const { return m_rgb; }

protected:
    void resizeEvent(QResizeEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void updateControls();
    void followViewportWidth();

    FilterGridCanvas *m_canvas;
    QScrollArea *m_scroll;
    QCheckBox *m_rgb;
    QToolButton *m_zoomOut, *m_zoomIn;
    QLabel *m_zoomLabel, *m_scaleLow, *m_scaleBar, *m_scaleHigh, *m_note;
};

} // namespace netwright::widgets

// SPDX-License-Identifier: Apache-2.0
#include "tensor/filter_grid_view.h"

#include "core/tensor_stats.h"
#include "tensor/tensor_slice_model.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QImage>
#include <QLabel>
#include <QLinearGradient>
#include <QPainter>
#include <QScrollArea>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

namespace netwright::widgets {

namespace {

// ColorBrewer RdBu (reversed: blue for negative), 5 stops over [-1, 1].
constexpr std::array<std::array<int, 3>, 5> kStops = {{{5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}}};

bool isFloating(DType d)
{
    return d == DType::Float32 || d == DType::Float64 || d == DType::Float16 || d == DType::BFloat16;
}

} // namespace

// The grid itself: draws tiles from an atlas (one pixel per weight), scaled without smoothing.
class FilterGridCanvas : public QWidget {
public:
    enum class Mode { None, OutputByInput, RgbPerOutput, PerOutput3D };

    explicit FilterGridCanvas(QWidget *parent) : QWidget(parent)
    {
        setBackgroundRole(QPalette::Base);
        setAutoFillBackground(true);
    }

    Tensor tensor;
    QString name;
    Mode mode = Mode::None;
    int64_t outputs = 0, inputs = 0, height = 0, width = 0; // shown (capped) outputs and inputs
    double scale = 1;
    int zoom = 8;
    QImage atlas;
    std::function<void(int)> wheelZoom;

    int tileW() const { return static_cast<int>(width); }
    int tileH() const { return static_cast<int>(mode == Mode::PerOutput3D ? inputs : height); }
    int labelH() const { return fontMetrics().height(); }
    int gap() const { return mode == Mode::OutputByInput ? std::max(2, zoom / 2) : 8; }
    int leftW() const { return mode == Mode::OutputByInput ? fontMetrics().horizontalAdvance(QStringLiteral("o000")) + 6 : 0; }
    // Tiles per row: as many as the viewport holds (a square block before it is known).
    int perRow() const
    {
        if (availableWidth <= 0)
            return std::max(1, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(outputs)))));
        const int cellW = std::max(tileW() * zoom, fontMetrics().horizontalAdvance(QStringLiteral("000")));
        return std::clamp((availableWidth - 2 * kMargin + gap()) / (cellW + gap()), 1, static_cast<int>(std::max<int64_t>(1, outputs)));
    }
    int availableWidth = 0;
    static constexpr int kMargin = 6;

    int tileCount() const
    {
        switch (mode) {
        case Mode::OutputByInput:
            return static_cast<int>(outputs * inputs);
        case Mode::RgbPerOutput:
        case Mode::PerOutput3D:
            return static_cast<int>(outputs);
        default:
            return 0;
        }
    }

    QRect tileRect(int k) const
    {
        const int w = tileW() * zoom, h = tileH() * zoom;
        if (mode == Mode::OutputByInput) {
            const int o = static_cast<int>(k / inputs), i = static_cast<int>(k % inputs);
            return {kMargin + leftW() + i * (w + gap()), kMargin + labelH() + o * (h + gap()), w, h};
        }
        const int cellW = std::max(w, fontMetrics().horizontalAdvance(QStringLiteral("000")));
        const int r = k / perRow(), c = k % perRow();
        return {kMargin + c * (cellW + gap()), kMargin + r * (h + labelH() + gap()), w, h};
    }

    QString tileLabel(int k) const
    {
        if (mode == Mode::OutputByInput)
            return QStringLiteral("o%1 i%2").arg(k / inputs).arg(k % inputs);
        return QString::number(k);
    }

    QRect atlasRect(int k) const
    {
        if (mode == Mode::OutputByInput) {
            const int o = static_cast<int>(k / inputs), i = static_cast<int>(k % inputs);
            return {i * tileW(), o * tileH(), tileW(), tileH()};
        }
        return {k * tileW(), 0, tileW(), tileH()};
    }

    double at(int64_t o, int64_t i, int64_t y, int64_t x) const
    {
        if (tensor.rank() == 3)
            return elementAsDouble(tensor, (o * tensor.dim(1) + i) * tensor.dim(2) + x);
        return elementAsDouble(tensor, ((o * tensor.dim(1) + i) * tensor.dim(2) + y) * tensor.dim(3) + x);
    }

    void build()
    {
        atlas = QImage();
        if (mode == Mode::None)
            return;
        const int n = tileCount();
        atlas = mode == Mode::OutputByInput ? QImage(static_cast<int>(inputs * width), static_cast<int>(outputs * height), QImage::Format_RGB32)
                                            : QImage(n * tileW(), tileH(), QImage::Format_RGB32);
        for (int k = 0; k < n; ++k) {
            const QRect r = atlasRect(k);
            for (int y = 0; y < r.height(); ++y)
                for (int x = 0; x < r.width(); ++x) {
                    QColor c;
                    if (mode == Mode::OutputByInput)
                        c = FilterGridView::divergingColor(at(k / inputs, k % inputs, y, x), scale);
                    else if (mode == Mode::PerOutput3D)
                        c = FilterGridView::divergingColor(at(k, y, 0, x), scale);
                    else {
                        auto channel = [&](int i) { return std::clamp(static_cast<int>(std::lround((at(k, i, y, x) / scale + 1) * 127.5)), 0, 255); };
                        c = QColor(channel(0), channel(1), channel(2));
                    }
                    atlas.setPixel(r.x() + x, r.y() + y, c.rgb());
                }
        }
    }

    QSize sizeHint() const override
    {
        const int n = tileCount();
        if (n == 0)
            return {0, 0};
        const QRect last = tileRect(n - 1);
        int right = last.right(), bottom = last.bottom() + (mode == Mode::OutputByInput ? 0 : labelH());
        if (mode != Mode::OutputByInput && n > 1)
            right = std::max(right, tileRect(std::min(n, perRow()) - 1).x() + std::max(tileW() * zoom, fontMetrics().horizontalAdvance(QStringLiteral("000"))));
        return {right + kMargin + 1, bottom + kMargin + 1};
    }

    // The weight under a point: its coordinates and value, as the tooltip says them.
    QString describeAt(const QPoint &p) const
    {
        const int n = tileCount();
        for (int k = 0; k < n; ++k) {
            const QRect r = tileRect(k);
            if (!r.contains(p))
                continue;
            const int y = (p.y() - r.y()) / zoom, x = (p.x() - r.x()) / zoom;
            const DType d = tensor.dtype();
            switch (mode) {
            case Mode::OutputByInput:
                return QStringLiteral("%1[%2, %3, %4, %5] = %6").arg(name).arg(k / inputs).arg(k % inputs).arg(y).arg(x).arg(fullPrecisionText(at(k / inputs, k % inputs, y, x), d));
            case Mode::PerOutput3D:
                return QStringLiteral("%1[%2, %3, %4] = %5").arg(name).arg(k).arg(y).arg(x).arg(fullPrecisionText(at(k, y, 0, x), d));
            case Mode::RgbPerOutput:
                return QStringLiteral("%1[%2, :, %3, %4] = (%5, %6, %7)").arg(name).arg(k).arg(y).arg(x).arg(fullPrecisionText(at(k, 0, y, x), d), fullPrecisionText(at(k, 1, y, x), d), fullPrecisionText(at(k, 2, y, x), d));
            default:
                return {};
            }
        }
        return {};
    }

protected:
    void paintEvent(QPaintEvent *event) override
    {
        if (atlas.isNull())
            return;
        QPainter painter(this);
        painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
        const QRect exposed = event->rect();
        const int n = tileCount();
        const int lh = labelH();
        for (int k = 0; k < n; ++k) {
            const QRect r = tileRect(k);
            const QRect withLabel = r.adjusted(0, 0, 0, lh);
            if (!withLabel.intersects(exposed))
                continue;
            painter.drawImage(r, atlas, atlasRect(k));
            if (mode != Mode::OutputByInput)
                painter.drawText(QRect(r.x(), r.bottom() + 1, std::max(r.width(), fontMetrics().horizontalAdvance(tileLabel(k))), lh),
                                 Qt::AlignLeft | Qt::AlignTop, tileLabel(k));
        }
        if (mode == Mode::OutputByInput) {
            // Output channels down the left, input channels across the top.
            for (int o = 0; o < outputs; ++o) {
                const QRect r = tileRect(static_cast<int>(o * inputs));
                painter.drawText(QRect(kMargin, r.y(), leftW() - 4, r.height()), Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("o%1").arg(o));
            }
            for (int i = 0; i < inputs; ++i) {
                const QRect r = tileRect(i);
                painter.drawText(QRect(r.x(), kMargin, std::max(r.width(), fontMetrics().horizontalAdvance(QStringLiteral("i000"))), lh),
                                 Qt::AlignLeft | Qt::AlignTop, QStringLiteral("i%1").arg(i));
            }
        }
    }

    bool event(QEvent *e) override
    {
        if (e->type() == QEvent::ToolTip) {
            auto *help = static_cast<QHelpEvent *>(e);
            const QString text = describeAt(help->pos());
            if (text.isEmpty())
                QToolTip::hideText();
            else
                QToolTip::showText(help->globalPos(), text, this);
            return true;
        }
        return QWidget::event(e);
    }

    void wheelEvent(QWheelEvent *e) override
    {
        if ((e->modifiers() & Qt::ControlModifier) && wheelZoom && e->angleDelta().y() != 0) {
            wheelZoom(e->angleDelta().y() > 0 ? 1 : -1);
            e->accept();
            return;
        }
        QWidget::wheelEvent(e);
    }
};

FilterGridView::FilterGridView(QWidget *parent)
    : QWidget(parent), m_canvas(new FilterGridCanvas(this)), m_scroll(new QScrollArea(this)), m_rgb(new QCheckBox(tr("RGB tiles"), this)),
      m_zoomOut(new QToolButton(this)), m_zoomIn(new QToolButton(this)), m_zoomLabel(new QLabel(this)), m_scaleLow(new QLabel(this)),
      m_scaleBar(new QLabel(this)), m_scaleHigh(new QLabel(this)), m_note(new QLabel(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QHBoxLayout;
    m_rgb->setToolTip(tr("Three input channels as one colour tile per output channel (red, green, blue = input channels 0, 1, 2)"));
    m_zoomOut->setText(QStringLiteral("−"));
    m_zoomOut->setToolTip(tr("Zoom out (Ctrl+wheel)"));
    m_zoomIn->setText(QStringLiteral("+"));
    m_zoomIn->setToolTip(tr("Zoom in (Ctrl+wheel)"));
    m_scaleBar->setFixedSize(96, 12);
    m_scaleBar->setToolTip(tr("The colour scale, the same for every tile: blue below 0, white at 0, red above"));
    bar->addWidget(m_rgb);
    bar->addWidget(m_zoomOut);
    bar->addWidget(m_zoomLabel);
    bar->addWidget(m_zoomIn);
    bar->addStretch();
    bar->addWidget(m_scaleLow);
    bar->addWidget(m_scaleBar);
    bar->addWidget(m_scaleHigh);
    layout->addLayout(bar);
    m_note->setWordWrap(true);
    layout->addWidget(m_note);
    m_scroll->setWidget(m_canvas);
    m_scroll->setWidgetResizable(false);
    m_scroll->setBackgroundRole(QPalette::Base);
    layout->addWidget(m_scroll, 1);
    connect(m_rgb, &QCheckBox::toggled, this, &FilterGridView::setRgb);
    connect(m_zoomIn, &QToolButton::clicked, this, &FilterGridView::zoomIn);
    connect(m_zoomOut, &QToolButton::clicked, this, &FilterGridView::zoomOut);
    m_canvas->wheelZoom = [this](int step) { step > 0 ? zoomIn() : zoomOut(); };
    // The viewport's own resizes: in a tab that was hidden, the scroll area lays out its viewport
    // only when shown, after this widget's resizeEvent has read the old width.
    m_scroll->viewport()->installEventFilter(this);
    clear();
}

FilterGridView::~FilterGridView() = default;

void FilterGridView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    followViewportWidth();
}

bool FilterGridView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_scroll->viewport() && event->type() == QEvent::Resize)
        followViewportWidth();
    return QWidget::eventFilter(watched, event);
}

void FilterGridView::followViewportWidth()
{
    const int width = m_scroll->viewport()->width();
    if (width != m_canvas->availableWidth) {
        m_canvas->availableWidth = width;
        m_canvas->resize(m_canvas->sizeHint());
        m_canvas->update();
    }
}

bool FilterGridView::applies(const Tensor &t)
{
    if (!t.defined() || (t.rank() != 3 && t.rank() != 4) || !isFloating(t.dtype()))
        return false;
    for (int a = 0; a < t.rank(); ++a)
        if (t.dim(a) <= 0)
            return false;
    // Something to see in a filter: more than one weight per output channel ([64,1,1] is a bias).
    return t.numel() / t.dim(0) > 1;
}

QColor FilterGridView::divergingColor(double v, double scale)
{
    if (!std::isfinite(v))
        return QColor(0, 0, 0);
    const double t = std::clamp(scale > 0 ? v / scale : 0.0, -1.0, 1.0);
    const double pos = (t + 1) * 2; // 0..4 over the stops
    const int i = std::min(3, static_cast<int>(pos));
    const double f = pos - i;
    auto mix = [&](int c) { return static_cast<int>(std::lround(kStops[i][c] + (kStops[i + 1][c] - kStops[i][c]) * f)); };
    return QColor(mix(0), mix(1), mix(2));
}

void FilterGridView::clear()
{
    m_canvas->tensor = Tensor();
    m_canvas->mode = FilterGridCanvas::Mode::None;
    m_canvas->outputs = m_canvas->inputs = 0;
    m_canvas->build();
    m_note->clear();
    m_note->hide();
    updateControls();
}

void FilterGridView::setTensor(const Tensor &t, const QString &name)
{
    clear();
    if (!applies(t))
        return;
    auto *c = m_canvas;
    c->tensor = t;
    c->name = name;
    const int64_t outputs = t.dim(0);
    c->outputs = std::min<int64_t>(outputs, kMaxOutputs);
    c->inputs = t.rank() == 4 ? std::min<int64_t>(t.dim(1), kMaxOutputs) : t.dim(1);
    c->height = t.rank() == 4 ? t.dim(2) : 1;
    c->width = t.dim(t.rank() - 1);
    const TensorStats s = computeStats(t);
    c->scale = std::max(std::abs(s.min), std::abs(s.max));
    if (!(c->scale > 0))
        c->scale = 1;
    c->mode = t.rank() == 3 ? FilterGridCanvas::Mode::PerOutput3D : t.dim(1) == 3 ? FilterGridCanvas::Mode::RgbPerOutput : FilterGridCanvas::Mode::OutputByInput;
    // About 48 pixels per tile to start with.
    c->zoom = std::clamp(static_cast<int>(48 / std::max<int64_t>(1, std::max(c->tileW(), c->tileH()))), kMinZoom, 16);
    QStringList notes;
    if (outputs > kMaxOutputs)
        notes << tr("Showing the first %1 of %2 output channels.").arg(kMaxOutputs).arg(outputs);
    if (t.rank() == 4 && t.dim(1) > kMaxOutputs)
        notes << tr("Showing the first %1 of %2 input channels.").arg(kMaxOutputs).arg(t.dim(1));
    m_note->setText(notes.join(QLatin1Char(' ')));
    m_note->setVisible(!notes.isEmpty());
    c->build();
    updateControls();
}

bool FilterGridView::rgbAvailable() const
{
    return m_canvas->tensor.defined() && m_canvas->tensor.rank() == 4 && m_canvas->tensor.dim(1) == 3;
}

bool FilterGridView::rgb() const
{
    return m_canvas->mode == FilterGridCanvas::Mode::RgbPerOutput;
}

void FilterGridView::setRgb(bool on)
{
    if (!rgbAvailable() || on == rgb())
        return;
    m_canvas->mode = on ? FilterGridCanvas::Mode::RgbPerOutput : FilterGridCanvas::Mode::OutputByInput;
    m_canvas->build();
    updateControls();
}

int FilterGridView::zoom() const
{
    return m_canvas->zoom;
}

void FilterGridView::setZoom(int pixels)
{
    m_canvas->zoom = std::clamp(pixels, kMinZoom, kMaxZoom);
    updateControls();
}

void FilterGridView::zoomIn()
{
    setZoom(zoom() < 4 ? zoom() + 1 : zoom() * 3 / 2);
}

void FilterGridView::zoomOut()
{
    setZoom(zoom() <= 4 ? zoom() - 1 : zoom() * 2 / 3);
}

int FilterGridView::tileCount() const
{
    return m_canvas->tileCount();
}

QRect FilterGridView::tileRect(int tile) const
{
    return m_canvas->tileRect(tile);
}

QString FilterGridView::tileLabel(int tile) const
{
    return m_canvas->tileLabel(tile);
}

double FilterGridView::scale() const
{
    return m_canvas->scale;
}

QString FilterGridView::scaleText() const
{
    return QStringLiteral("%1 … 0 … %2").arg(m_scaleLow->text(), m_scaleHigh->text());
}

QString FilterGridView::noteText() const
{
    return m_note->text();
}

QWidget *FilterGridView::canvas() const
{
    return m_canvas;
}

void FilterGridView::updateControls()
{
    const bool shown = m_canvas->mode != FilterGridCanvas::Mode::None;
    {
        const QSignalBlocker block(m_rgb);
        m_rgb->setChecked(rgb());
    }
    m_rgb->setEnabled(rgbAvailable());
    m_zoomIn->setEnabled(shown && zoom() < kMaxZoom);
    m_zoomOut->setEnabled(shown && zoom() > kMinZoom);
    m_zoomLabel->setText(shown ? tr("%1 px").arg(zoom()) : QString());
    m_zoomLabel->setToolTip(tr("Screen pixels per weight"));
    if (shown) {
        m_scaleLow->setText(QString::number(-m_canvas->scale, 'g', 3).replace(QLatin1Char('-'), QChar(0x2212)));
        m_scaleHigh->setText(QStringLiteral("+") + QString::number(m_canvas->scale, 'g', 3));
        QPixmap bar(m_scaleBar->size());
        QPainter p(&bar);
        for (int x = 0; x < bar.width(); ++x) {
            p.setPen(rgb() ? QColor::fromRgbF(x / (bar.width() - 1.0), x / (bar.width() - 1.0), x / (bar.width() - 1.0))
                           : divergingColor(2.0 * x / (bar.width() - 1) - 1, 1));
            p.drawLine(x, 0, x, bar.height());
        }
        p.end();
        m_scaleBar->setPixmap(bar);
    } else {
        m_scaleLow->clear();
        m_scaleHigh->clear();
        m_scaleBar->clear();
    }
    m_scaleBar->setVisible(shown);
    m_canvas->resize(m_canvas->sizeHint());
    m_canvas->update();
}

} // namespace netwright::widgets

// SPDX-License-Identifier: Apache-2.0
// Build tool: renders the SVG icon as the PNG sizes of the hicolor theme.
// Usage: netwright_render_icon ICON.svg OUT_DIR SIZE… (writes OUT_DIR/<s>x<s>/netwright.png).
#include <QDir>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QSvgRenderer>

#include <cstdio>

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    if (argc < 4) {
        std::fputs("usage: netwright_render_icon ICON.svg OUT_DIR SIZE…\n", stderr);
        return 2;
    }
    QSvgRenderer svg(QString::fromLocal8Bit(argv[1]));
    if (!svg.isValid()) {
        std::fprintf(stderr, "netwright_render_icon: cannot read \"%s\" as SVG.\n", argv[1]);
        return 1;
    }
    for (int i = 3; i < argc; ++i) {
        const int size = QString::fromLatin1(argv[i]).toInt();
        const QString dir = QStringLiteral("%1/%2x%2").arg(QString::fromLocal8Bit(argv[2])).arg(size);
        QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::transparent);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        svg.render(&painter);
        painter.end();
        if (size <= 0 || !QDir().mkpath(dir) || !image.save(dir + QStringLiteral("/netwright.png"))) {
            std::fprintf(stderr, "netwright_render_icon: cannot write %s/netwright.png.\n", qPrintable(dir));
            return 1;
        }
    }
    return 0;
}

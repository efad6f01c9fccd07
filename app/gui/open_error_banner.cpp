// SPDX-License-Identifier: Apache-2.0
#include "gui/open_error_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace netwright::gui {

OpenErrorBanner::OpenErrorBanner(QWidget *parent) : QFrame(parent), m_label(new QLabel(this))
{
    setObjectName(QStringLiteral("openError"));
    setFrameShape(QFrame::StyledPanel);
    setStyleSheet(QStringLiteral("#openError { background: #fdecea; border: 1px solid #e0b4b4; } #openError QLabel { color: #611a15; }"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    m_label->setWordWrap(true);
    // Always rich text: the lines are HTML-escaped and joined with <br>. Left to AutoText, a single
    // line has no tag, so Qt took it for plain text and showed the escapes (&quot;) literally.
    m_label->setTextFormat(Qt::RichText);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A long path never widens the window: the label wraps within whatever width it gets.
    m_label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    layout->addWidget(m_label, 1);
    auto *close = new QToolButton(this);
    close->setObjectName(QStringLiteral("dismiss"));
    close->setText(QStringLiteral("×"));
    close->setToolTip(tr("Dismiss"));
    close->setAutoRaise(true);
    layout->addWidget(close, 0, Qt::AlignTop);
    connect(close, &QToolButton::clicked, this, &OpenErrorBanner::dismiss);
    hide();
}

void OpenErrorBanner::addFailure(const QString &path, const QString &problem)
{
    // The reader's sentence names the file already (as the CLI prints it); else it is named here.
    const QString line = problem.contains(path) ? problem : tr("Cannot open %1: %2").arg(path, problem);
    if (const qsizetype i = m_paths.indexOf(path); i >= 0) {
        m_paths.removeAt(i);
        m_lines.removeAt(i);
    }
    m_paths << path;
    m_lines << line;
    QStringList html;
    for (const QString &l : m_lines)
        html << l.toHtmlEscaped();
    m_label->setText(html.join(QStringLiteral("<br>")));
    setToolTip(text());
    show();
}

QString OpenErrorBanner::text() const
{
    return m_lines.join(QLatin1Char('\n'));
}

void OpenErrorBanner::dismiss()
{
    m_paths.clear();
    m_lines.clear();
    m_label->clear();
    hide();
}

} // namespace netwright::gui

// SPDX-License-Identifier: Apache-2.0
#include "gui/about_dialog.h"

#include "gui/build_info.h"

#include "core/cpu_level.h"
#include "core/error.h"

#include <QApplication>
#include <QClipboard>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLabel>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

namespace netwright::gui {

namespace {

QString onOff(bool on)
{
    return on ? QObject::tr("on") : QObject::tr("off");
}

QString versionLine()
{
    const QString commit = QString::fromLatin1(build::kGitCommit);
    return QString::fromLatin1(build::kVersion) + (commit.isEmpty() ? QString() : QObject::tr(" (commit %1)").arg(commit));
}

// The CPU level the kernels run at and oneDNN's version (or why NETWRIGHT_CPU_LEVEL is refused).
QString cpuKernels()
{
    try {
        return QString::fromStdString(cpu::describeLevel());
    } catch (const Error &e) {
        return QString::fromStdString(e.what());
    }
}

} // namespace

QString documentationPath()
{
    const QString installed = QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/")
                                              + QString::fromLatin1(build::kInstalledDocs) + QStringLiteral("/README.md"));
    if (QFileInfo::exists(installed))
        return installed;
    const QString source = QString::fromLatin1(build::kSourceDir) + QStringLiteral("/README.md");
    return QFileInfo::exists(source) ? source : QString();
}

AboutDialog::AboutDialog(QWidget *parent) : QDialog(parent), m_body(new QLabel(this))
{
    setWindowTitle(tr("About Netwright"));
    auto *layout = new QVBoxLayout(this);
    const QString docs = documentationPath();
    const QString docsLink = docs.isEmpty() ? tr("not installed") : QStringLiteral("<a href=\"%1\">%2</a>").arg(QUrl::fromLocalFile(docs).toString(), docs.toHtmlEscaped());
    QString rows;
    auto row = [&rows](const QString &key, const QString &value) { rows += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(key, value); };
    row(tr("Version"), versionLine().toHtmlEscaped());
    row(tr("Build"), tr("%1; CUDA %2, MPI %3").arg(QString::fromLatin1(build::kBuildType), onOff(build::kWithCuda), onOff(build::kWithMpi)));
    row(tr("Qt"), tr("%1 (built against %2)").arg(QString::fromLatin1(qVersion()), QString::fromLatin1(build::kQtVersion)));
    row(tr("CPU kernels"), cpuKernels().toHtmlEscaped());
    row(tr("protobuf"), QString::fromLatin1(build::kProtobufVersion));
    row(tr("ONNX"), QString::fromLatin1(build::kOnnxVersion));
    row(tr("License"), QString::fromLatin1(build::kLicense));
    row(tr("Documentation"), docsLink);
    m_body->setText(tr("<h3>Netwright</h3><p>Trains, inspects and exports neural-network models: ONNX, MindSpore checkpoints and "
                       "MindIR, Ascend AIR, CNTK.</p><table cellspacing=\"4\">%1</table>")
                        .arg(rows));
    m_body->setObjectName(QStringLiteral("aboutText"));
    m_body->setTextFormat(Qt::RichText);
    m_body->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_body->setOpenExternalLinks(true);
    m_body->setWordWrap(true);
    layout->addWidget(m_body);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    // For a bug report: the same facts as plain text.
    QPushButton *copy = buttons->addButton(tr("Copy"), QDialogButtonBox::ActionRole);
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(buildText()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

QString AboutDialog::buildText() const
{
    const QString docs = documentationPath();
    return QStringList{QStringLiteral("Netwright %1").arg(versionLine()),
                       QStringLiteral("Build: %1").arg(QString::fromLatin1(build::kBuildType)),
                       QStringLiteral("CUDA: %1").arg(build::kWithCuda ? QStringLiteral("on") : QStringLiteral("off")),
                       QStringLiteral("MPI: %1").arg(build::kWithMpi ? QStringLiteral("on") : QStringLiteral("off")),
                       QStringLiteral("Qt: %1 (built against %2)").arg(QString::fromLatin1(qVersion()), QString::fromLatin1(build::kQtVersion)),
                       QStringLiteral("CPU kernels: %1").arg(cpuKernels()),
                       QStringLiteral("protobuf: %1").arg(QString::fromLatin1(build::kProtobufVersion)),
                       QStringLiteral("ONNX: %1").arg(QString::fromLatin1(build::kOnnxVersion)),
                       QStringLiteral("License: %1").arg(QString::fromLatin1(build::kLicense)),
                       QStringLiteral("Documentation: %1").arg(docs.isEmpty() ? QStringLiteral("not installed") : docs)}
        .join(QLatin1Char('\n'));
}

} // namespace netwright::gui

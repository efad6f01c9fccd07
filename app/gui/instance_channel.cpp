// SPDX-License-Identifier: Apache-2.0
#include "gui/instance_channel.h"

#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>

#include <unistd.h>

namespace netwright::gui {

namespace {
// One request a connection: a JSON array of absolute paths and a newline; the answer is
// {"opened": n} and a newline. A request larger than this is refused.
constexpr qint64 kMaxRequest = 1 << 20;
} // namespace

InstanceChannel::InstanceChannel(QObject *parent) : QObject(parent), m_server(new QLocalServer(this))
{
    m_server->setSocketOptions(QLocalServer::UserAccessOption); // only this user's processes
    connect(m_server, &QLocalServer::newConnection, this, &InstanceChannel::onConnection);
}

QString InstanceChannel::defaultName()
{
    const QString overridden = qEnvironmentVariable("NETWRIGHT_INSTANCE");
    if (!overridden.isEmpty())
        return overridden;
    // The user's window on this screen: a window on another X display, Wayland session or an
    // offscreen one (a test, a screenshot script) never receives files opened here, nor steals them.
    QString platform = qGuiApp ? QGuiApplication::platformName() : qEnvironmentVariable("QT_QPA_PLATFORM");
    QString display = qEnvironmentVariable(platform.startsWith(QLatin1String("wayland")) ? "WAYLAND_DISPLAY" : "DISPLAY");
    QString key = platform.section(QLatin1Char(':'), 0, 0) + QLatin1Char('-') + display;
    for (QChar &c : key)
        if (!c.isLetterOrNumber() && c != QLatin1Char('.') && c != QLatin1Char('-'))
            c = QLatin1Char('_');
    return QStringLiteral("netwright-%1-%2").arg(::getuid()).arg(key);
}

bool InstanceChannel::sendToRunning(const QString &name, const QStringList &paths, int timeoutMs)
{
    QLocalSocket socket;
    socket.connectToServer(name);
    if (!socket.waitForConnected(timeoutMs))
        return false;
    socket.write(QJsonDocument(QJsonArray::fromStringList(paths)).toJson(QJsonDocument::Compact) + '\n');
    if (!socket.waitForBytesWritten(timeoutMs))
        return false;
    QByteArray answer;
    while (!answer.contains('\n') && socket.waitForReadyRead(timeoutMs))
        answer += socket.readAll();
    return QJsonDocument::fromJson(answer.trimmed()).object().value(QStringLiteral("opened")).toInt(-1) == paths.size();
}

bool InstanceChannel::listen(const QString &name)
{
    // A live window answers. (Ask first: with access options set, Qt binds elsewhere and renames
    // the socket over the name, so listen() alone would take it from a live window.)
    QLocalSocket probe;
    probe.connectToServer(name);
    if (probe.waitForConnected(500))
        return false;
    QLocalServer::removeServer(name); // the socket file of a window that crashed
    return m_server->listen(name);
}

bool InstanceChannel::isListening() const
{
    return m_server->isListening();
}

void InstanceChannel::onConnection()
{
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QLocalSocket::readyRead, this, [this, socket] {
            if (socket->bytesAvailable() > kMaxRequest || !socket->canReadLine()) {
                if (socket->bytesAvailable() > kMaxRequest)
                    socket->abort();
                return;
            }
            QStringList opened;
            for (const QJsonValue &v : QJsonDocument::fromJson(socket->readLine()).array())
                if (v.isString() && m_open && m_open(v.toString()))
                    opened << v.toString();
            socket->write(QJsonDocument(QJsonObject{{"opened", static_cast<int>(opened.size())}}).toJson(QJsonDocument::Compact) + '\n');
            socket->flush();
            if (!opened.isEmpty())
                emit pathsOpened(opened);
        });
    }
}

} // namespace netwright::gui

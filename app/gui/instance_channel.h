// SPDX-License-Identifier: Apache-2.0
// One window per user and display: `netwright FILE…` (what the desktop runs for xdg-open) hands its
// files to the window already running on the same display, through a QLocalServer named after the
// user, the Qt platform and the display, and exits;
// that window opens them in tabs and comes to the front. Without a window running, the new
// process becomes it. Thread affinity: UI thread. Layer: app.
#pragma once

#include <QObject>
#include <QStringList>

#include <functional>

class QLocalServer;

namespace netwright::gui {

class InstanceChannel : public QObject {
    Q_OBJECT
public:
    explicit InstanceChannel(QObject *parent = nullptr);

    // "netwright-<user id>-<platform>-<display>" (e.g. "netwright-1000-xcb-_0"); the environment
    // variable NETWRIGHT_INSTANCE overrides it (tests).
    static QString defaultName();
    // Hands `paths` to the window listening on `name`. True when it opened every one; false when
    // no window answers within `timeoutMs` (the caller then opens its own).
    static bool sendToRunning(const QString &name, const QStringList &paths, int timeoutMs = 5000);

    // Opens one handed-over path (a file or a run directory); false when it could not.
    void setOpener(std::function<bool(const QString &)> open) { m_open = std::move(open); }
    // Takes `name` for later instances (a socket left by a crashed window is replaced). False
    // when another live window holds it.
    bool listen(const QString &name);
    bool isListening() const;

signals:
    void pathsOpened(const QStringList &paths); // after the opener took them (raise the window)

private:
    void onConnection();

    QLocalServer *m_server;
    std::function<bool(const QString &)> m_open;
};

} // namespace netwright::gui

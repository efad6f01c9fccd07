// SPDX-License-Identifier: Apache-2.0
// The desktop's second open (xdg-open on a file while the window runs): `netwright FILE` hands
// FILE to the window already running and exits, and that window opens it. Checked from both
// sides with the real program: this test listens as the window while a `netwright` process hands
// over; then a real window process takes a hand-over from this test. A socket file left by a
// crashed window does not block the next one. A window on another display is another window.
#include "gui/instance_channel.h"
#include "support/document_support.h"
#include "support/cli_support.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTest>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

using namespace netwright;
using namespace netwright::gui;

using netwright::test::fixture;

namespace {


QString uniqueName(const char *what)
{
    return QStringLiteral("netwright-test-%1-%2").arg(QCoreApplication::applicationPid()).arg(QLatin1String(what));
}

void startWindow(QProcess &p, const QString &instance, const QStringList &args)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("NETWRIGHT_INSTANCE", instance);
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.setStandardOutputFile(QProcess::nullDevice());
    p.start(test::binary(), args);
}

} // namespace

class InstanceGuiTest : public QObject {
    Q_OBJECT

private slots:
    // The defect: the name was "netwright-<uid>" alone, so `netwright FILE` run for another
    // display (or offscreen, by a script) opened FILE in the window on this one, out of sight of
    // whoever ran it, and exited.
    void windowsOnOtherDisplaysAreOthers()
    {
        const QByteArray saved = qgetenv("DISPLAY"), instance = qgetenv("NETWRIGHT_INSTANCE");
        qunsetenv("NETWRIGHT_INSTANCE");
        qputenv("DISPLAY", ":77");
        const QString here = InstanceChannel::defaultName();
        qputenv("DISPLAY", ":78");
        const QString there = InstanceChannel::defaultName();
        qputenv("DISPLAY", saved);
        if (!instance.isEmpty())
            qputenv("NETWRIGHT_INSTANCE", instance);
        QVERIFY2(here != there, qPrintable(here));
        QVERIFY2(here.startsWith(QStringLiteral("netwright-%1-").arg(::getuid())), qPrintable(here));
        QVERIFY2(here.endsWith(QLatin1String("_77")), qPrintable(here)); // a plain name for the socket file
        qputenv("DISPLAY", ":77");
        QCOMPARE(InstanceChannel::defaultName(), here); // the same display: the same window
        qputenv("DISPLAY", saved);
    }

    void secondProcessHandsItsFilesOver()
    {
        const QString name = uniqueName("a");
        InstanceChannel window;
        QStringList opened;
        window.setOpener([&](const QString &path) {
            opened << path;
            return true;
        });
        QVERIFY(window.listen(name));
        QVERIFY(window.isListening());
        const QString a = fixture("cntk-v2/pscntk_logistic.model"), b = fixture("mindir/ms_lite_ut_relu.mindir");
        QProcess second;
        startWindow(second, name, {a, b});
        QVERIFY(second.waitForStarted());
        // It hands over and ends (the window it would have opened is this test's).
        QTRY_VERIFY_WITH_TIMEOUT(second.state() == QProcess::NotRunning, 30000);
        QCOMPARE(second.exitStatus(), QProcess::NormalExit);
        QCOMPARE(second.exitCode(), 0);
        QCOMPARE(opened, (QStringList{a, b}));
    }

    void windowProcessTakesAHandOver()
    {
        const QString name = uniqueName("b");
        QProcess window;
        startWindow(window, name, {fixture("cntk-v2/pscntk_moon.model")});
        QVERIFY(window.waitForStarted());
        // Once it listens, it opens what it is handed and says so.
        QTRY_VERIFY_WITH_TIMEOUT(InstanceChannel::sendToRunning(name, {fixture("mindir/ms_lite_ut_relu.mindir")}, 1000), 30000);
        QCOMPARE(window.state(), QProcess::Running); // still the one window
        // A second window cannot take the name from a live one.
        InstanceChannel other;
        QVERIFY(!other.listen(name));
        window.terminate();
        QVERIFY(window.waitForFinished(10000));
    }

    void socketOfACrashedWindowIsReplaced()
    {
        const QString name = uniqueName("c");
        // What a killed window leaves: a bound socket file nobody listens on.
        const QByteArray path = (QDir::tempPath() + "/" + name).toLocal8Bit();
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.constData(), sizeof addr.sun_path - 1);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
        ::close(fd);
        QVERIFY(QFileInfo::exists(QString::fromLocal8Bit(path)));
        QVERIFY(!InstanceChannel::sendToRunning(name, {"x"}, 500));
        InstanceChannel window;
        QVERIFY(window.listen(name));
    }
};

QTEST_MAIN(InstanceGuiTest)
#include "instance_gui_test.moc"

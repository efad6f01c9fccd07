// SPDX-License-Identifier: Apache-2.0
// The window's edges, as a user meets them (offscreen): a file that cannot be opened leaves no
// tab, its reason (the file and the problem, the CLI's sentence) is shown at once in a banner, and
// it is not added to Open Recent; exports (the wizard, the graph's PNG) default to the folder last
// exported to, else the documents folder — never the source's (often read-only) folder; the
// wizard's Browse… offers the format's extension; Help has a real About (version, commit, build
// options, libraries, license, docs), About Qt and Documentation.
#include "support/document_support.h"
#include "gui/about_dialog.h"
#include "gui/export_location.h"
#include "gui/export_wizard.h"
#include "gui/main_window.h"
#include "gui/model_document.h"
#include "gui/open_error_banner.h"
#include "graph/graph_view.h"

#include <QAction>
#include <QApplication>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPointer>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QTimer>

#include <functional>

using namespace netwright;
using namespace netwright::gui;

using netwright::test::fixture;
using netwright::test::isolateSettings;

namespace {

// The text a label shows, as Qt renders it: rich text (explicit, or AutoText that looks like it)
// as its plain text, otherwise the text itself.
QString shownText(const QLabel *label)
{
    const bool rich = label->textFormat() == Qt::RichText || (label->textFormat() == Qt::AutoText && Qt::mightBeRichText(label->text()));
    if (!rich)
        return label->text();
    QTextDocument doc;
    doc.setHtml(label->text());
    return doc.toPlainText();
}

QAction *menuAction(QMainWindow &w, const QString &menu, const QString &text)
{
    for (QAction *m : w.menuBar()->actions())
        if (m->text() == menu && m->menu())
            for (QAction *a : m->menu()->actions())
                if (a->text() == text)
                    return a;
    return nullptr;
}

// Runs `check` on the file dialog the next action opens (a modal loop), then `finish` closes it.
void onFileDialog(std::function<void(QFileDialog *)> check)
{
    auto *timer = new QTimer;
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, [timer, check] {
        for (QWidget *top : QApplication::topLevelWidgets())
            if (auto *d = qobject_cast<QFileDialog *>(top); d && d->isVisible()) {
                timer->stop();
                timer->deleteLater();
                check(d);
                return;
            }
    });
    timer->start();
}

} // namespace

// Receives the URLs Help ▸ Documentation asks the desktop to open.
class UrlCatcher : public QObject {
    Q_OBJECT
public:
    QList<QUrl> urls;
public slots:
    void open(const QUrl &url) { urls << url; }
};

class WindowGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        isolateSettings(m_dir.filePath("settings"), "NetwrightWindowTest");
    }

    // A damaged file: no tab, the banner names the file and the problem as `netwright inspect`
    // does, and Open Recent does not list it.
    void unopenableFileLeavesNoTab()
    {
        const QString junk = m_dir.filePath("junk.onnx");
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("\x89PNG\r\n\x1a\n not a model at all");
        f.close();
        QProcess inspect;
        inspect.start(qEnvironmentVariable("NETWRIGHT_BINARY"), {"inspect", junk});
        QVERIFY(inspect.waitForFinished(60000));
        const QString cli = QString::fromUtf8(inspect.readAllStandardError()).trimmed().section(": ", 1); // after "netwright inspect: "
        QVERIFY2(cli.contains(junk), qPrintable(cli));

        MainWindow w;
        w.show();
        QVERIFY(!w.openErrorBanner()->isVisible());
        QPointer<ModelDocument> doc = w.openFile(junk);
        QTRY_VERIFY_WITH_TIMEOUT(doc.isNull(), 60000);
        QCOMPARE(w.tabs()->count(), 0);
        QVERIFY(w.openErrorBanner()->isVisible());
        QCOMPARE(w.openErrorBanner()->text(), cli);
        QVERIFY(w.openErrorBanner()->findChild<QLabel *>()->text().contains(junk));
        // What the banner shows is the sentence itself: its quotes as quotes, not "&quot;".
        QCOMPARE(shownText(w.openErrorBanner()->findChild<QLabel *>()), cli);
        QVERIFY(!w.recentFiles().contains(junk));
        QVERIFY(!QSettings().value("files/recent").toStringList().contains(junk));
        // A file that is not there at all: named with its problem, no tab either.
        const QString missing = m_dir.filePath("nowhere/model.onnx");
        QPointer<ModelDocument> gone = w.openFile(missing);
        QTRY_VERIFY_WITH_TIMEOUT(gone.isNull(), 60000);
        QCOMPARE(w.tabs()->count(), 0);
        QVERIFY2(w.openErrorBanner()->text().contains(missing), qPrintable(w.openErrorBanner()->text()));
        // Dismissed with its ×.
        QTest::mouseClick(w.openErrorBanner()->findChild<QWidget *>("dismiss"), Qt::LeftButton);
        QVERIFY(!w.openErrorBanner()->isVisible());
    }

    // MindSpore's encrypted MindIR (its test suite's file, key "0123456789ABCDEF"): the window asks
    // for the key file and shows the graph of the plaintext twin; cancelled, the banner says a key
    // is needed; a wrong key is named as such.
    void encryptedFileAsksForItsKey()
    {
        const QString fixtures = qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/mindir/";
        const QString sealed = fixtures + "ms_ut_add_encrpty_key_0123456789ABCDEF.mindir";
        const QString twin = fixtures + "ms_ut_add_no_encrpty.mindir";
        QVERIFY(QFileInfo::exists(sealed) && QFileInfo::exists(twin));
        const QString keyFile = m_dir.filePath("add.key"), wrongKey = m_dir.filePath("wrong.key");
        for (const auto &[path, bytes] : {std::pair{keyFile, QByteArray("0123456789ABCDEF")}, std::pair{wrongKey, QByteArray("FEDCBA9876543210")}}) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        }
        MainWindow w;
        w.show();
        // The plaintext twin, as the window shows it.
        QPointer<ModelDocument> plain = w.openFile(twin);
        QTRY_VERIFY_WITH_TIMEOUT(plain && plain->isLoaded(), 60000);
        const ModelDescription expected = *plain->model();
        w.tabs()->clear();

        auto chooseKey = [](const QString &file, QString *title) {
            onFileDialog([file, title](QFileDialog *d) {
                *title = d->windowTitle();
                auto *name = d->findChild<QLineEdit *>("fileNameEdit"); // as a user types it
                QVERIFY(name);
                name->setText(file);
                static_cast<QDialog *>(d)->accept();
            });
        };
        QString title;
        chooseKey(keyFile, &title);
        w.openFile(sealed);
        ModelDocument *opened = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((w.tabs()->count() == 1 && (opened = qobject_cast<ModelDocument *>(w.tabs()->widget(0))) && opened->isLoaded()), 60000);
        QVERIFY2(title.contains("ms_ut_add_encrpty_key_0123456789ABCDEF.mindir"), qPrintable(title));
        const ModelDescription &got = *opened->model();
        QCOMPARE(got.nodes.size(), expected.nodes.size());
        for (size_t i = 0; i < got.nodes.size(); ++i)
            QCOMPARE(got.nodes[i].opType, expected.nodes[i].opType);
        QCOMPARE(got.inputs.size(), expected.inputs.size());
        for (size_t i = 0; i < got.inputs.size(); ++i) {
            // the same argument names; the graph's prefix differs ("3_1_construct_wrapper.3:x_"
            // and "6_4_construct_wrapper.4:x_": the two files were exported one after the other)
            auto argument = [](const std::string &n) { return n.substr(n.rfind(':') + 1); };
            QCOMPARE(argument(got.inputs[i].name), argument(expected.inputs[i].name));
            QCOMPARE(got.inputs[i].dtype, expected.inputs[i].dtype);
            QVERIFY(got.inputs[i].shape == expected.inputs[i].shape);
        }
        QVERIFY(!w.openErrorBanner()->isVisible());
        w.tabs()->clear();

        // A wrong key: no tab, the banner says the key does not open the file (and holds no key).
        chooseKey(wrongKey, &title);
        QPointer<ModelDocument> wrong = w.openFile(sealed);
        QTRY_VERIFY_WITH_TIMEOUT(w.openErrorBanner()->isVisible(), 60000);
        QTRY_COMPARE(w.tabs()->count(), 0);
        QVERIFY2(w.openErrorBanner()->text().contains("does not open block 1"), qPrintable(w.openErrorBanner()->text()));
        QVERIFY(!w.openErrorBanner()->text().contains("FEDCBA9876543210"));
        QTest::mouseClick(w.openErrorBanner()->findChild<QWidget *>("dismiss"), Qt::LeftButton);

        // Cancelled: the banner says a key is needed.
        onFileDialog([](QFileDialog *d) { static_cast<QDialog *>(d)->reject(); });
        w.openFile(sealed);
        QTRY_VERIFY_WITH_TIMEOUT(w.openErrorBanner()->isVisible(), 60000);
        QCOMPARE(w.tabs()->count(), 0);
        QVERIFY2(w.openErrorBanner()->text().contains("a key is needed"), qPrintable(w.openErrorBanner()->text()));
    }

    // The wizard's file goes to the folder last exported to (else the documents folder), not
    // beside a source in a read-only folder; Browse… offers the format's extension there.
    void exportDefaultsToTheLastExportFolder()
    {
        const QString source = "/usr/share/libonnx-testdata/data/pytorch-operator/test_operator_conv/model.onnx";
        QSettings().remove(kExportDirectoryKey);
        QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
        if (documents.isEmpty() || !QFileInfo(documents).isDir())
            documents = QDir::homePath();
        auto optionsOf = [&](ExportWizard &w, const QString &format) {
            w.show();
            w.next();
            for (auto *b : w.findChildren<QRadioButton *>())
                if (b->property("format").toString() == format)
                    b->click();
            w.next();
            return w.currentId() == ExportWizard::OptionsPage;
        };
        {
            ExportWizard w(source);
            QVERIFY(optionsOf(w, "mindir"));
            QCOMPARE(w.outputPath(), QDir(documents).filePath("model.mindir"));
        }
        const QString exports = m_dir.filePath("exports");
        QVERIFY(QDir().mkpath(exports));
        rememberExportDirectory(exports + "/earlier.onnx");
        ExportWizard w(source);
        QVERIFY(optionsOf(w, "mindir"));
        QCOMPARE(w.outputPath(), exports + "/model.mindir");
        // Browse…: a save dialog in that folder, filtered to MindIR files; the choice fills the field.
        QStringList filters;
        QString shownDir;
        onFileDialog([&](QFileDialog *d) {
            filters = d->nameFilters();
            shownDir = d->directory().absolutePath();
            auto *name = d->findChild<QLineEdit *>("fileNameEdit"); // as a user types it
            QVERIFY(name);
            name->setText("chosen");
            static_cast<QDialog *>(d)->done(QDialog::Accepted);
        });
        auto *browse = w.page(ExportWizard::OptionsPage)->findChild<QPushButton *>("browse");
        QVERIFY(browse);
        QCOMPARE(browse->text(), QStringLiteral("Browse…"));
        browse->click();
        QVERIFY2(filters.size() == 1 && filters[0].contains("*.mindir"), qPrintable(filters.join("|")));
        QCOMPARE(shownDir, exports);
        QCOMPARE(w.outputPath(), exports + "/chosen.mindir");
        // Written: the next export starts in the folder this one went to.
        const QString elsewhere = m_dir.filePath("elsewhere");
        QVERIFY(QDir().mkpath(elsewhere));
        w.page(ExportWizard::OptionsPage)->findChild<QLineEdit *>("output")->setText(elsewhere + "/conv.mindir");
        w.next();
        QTRY_VERIFY_WITH_TIMEOUT(w.preflightPassed(), 60000);
        w.next();
        QTRY_VERIFY_WITH_TIMEOUT(w.written(), 60000);
        QVERIFY(QFile::exists(elsewhere + "/conv.mindir"));
        QCOMPARE(exportDirectory(), elsewhere);
    }

    // File ▸ Export Graph as PNG proposes the last export folder, not the model's (read-only) one.
    void graphPngDefaultsToTheLastExportFolder()
    {
        const QString exports = m_dir.filePath("png-exports");
        QVERIFY(QDir().mkpath(exports));
        rememberExportDirectory(exports + "/x.png");
        MainWindow w;
        w.show();
        ModelDocument *doc = w.openFile("/usr/share/libonnx-testdata/data/pytorch-operator/test_operator_conv/model.onnx");
        QTRY_VERIFY_WITH_TIMEOUT(doc->isLoaded() && doc->graphView()->isLaidOut(), 60000);
        QAction *png = menuAction(w, "&File", "Export Graph as &PNG…");
        QVERIFY(png);
        QString proposed;
        onFileDialog([&](QFileDialog *d) {
            proposed = d->selectedFiles().value(0);
            static_cast<QDialog *>(d)->done(QDialog::Accepted);
        });
        png->trigger();
        QCOMPARE(proposed, exports + "/model.png");
        QVERIFY(QImage(exports + "/model.png").width() > 0); // written there, as proposed
    }

    // Help: Documentation opens the docs (here: the source tree's README), About says what the
    // build is, About Qt is there.
    void helpHasAboutAndDocumentation()
    {
        MainWindow w;
        w.show();
        QVERIFY(menuAction(w, "&Help", "About &Qt"));
        UrlCatcher catcher;
        QDesktopServices::setUrlHandler("file", &catcher, "open");
        QAction *docs = menuAction(w, "&Help", "&Documentation");
        QVERIFY(docs);
        docs->trigger();
        QDesktopServices::unsetUrlHandler("file");
        QCOMPARE(catcher.urls.size(), 1);
        QCOMPARE(catcher.urls[0].toLocalFile(), qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/README.md");

        QAction *about = menuAction(w, "&Help", "&About Netwright");
        QVERIFY(about);
        about->trigger();
        AboutDialog *dialog = w.findChild<AboutDialog *>();
        QVERIFY(dialog);
        QTRY_VERIFY(dialog->isVisible());
        const QString text = dialog->buildText();
        for (const char *fact : {"Netwright 0.", "CUDA: o", "MPI: o", "Qt: 6.", "CPU kernels: ", "protobuf: 3.", "ONNX: 1.", "License: Apache-2.0", "README.md"})
            QVERIFY2(text.contains(QLatin1String(fact)), qPrintable(fact + QStringLiteral(" missing in:\n") + text));
        QProcess git;
        git.start("git", {"-C", qEnvironmentVariable("NETWRIGHT_SOURCE_DIR"), "rev-parse", "--short=7", "HEAD"});
        if (git.waitForFinished(10000) && git.exitCode() == 0)
            QVERIFY2(text.contains("(commit "), qPrintable(text)); // the commit the build was configured at
        // The dialog shows the same facts.
        const QString shown = dialog->body()->text();
        for (const char *fact : {"CUDA", "MPI", "oneDNN", "protobuf", "ONNX", "Apache-2.0", "README.md"})
            QVERIFY2(shown.contains(QLatin1String(fact)), fact);
        dialog->close();
    }
};

QTEST_MAIN(WindowGuiTest)
#include "window_gui_test.moc"

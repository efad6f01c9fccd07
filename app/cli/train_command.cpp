// SPDX-License-Identifier: Apache-2.0
#include "cli/train_command.h"

#include "checkpoint/checkpoint_manager.h"
#include "cli/progress_reporter.h"
#include "cli/plan_report.h"
#include "cli/distributed_run.h"
#include "cli/run_options.h"
#include "checkpoint/checkpoint_plan.h"
#include "config/run_config.h"
#include "core/error.h"
#include "run/metrics_log.h"
#include "run/run_directory.h"
#include "run/training_session.h"
#include "train/task_metrics.h"
#include "train/training_setup.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QCoreApplication>

#include <optional>
#include <cstdio>
#include <unistd.h>

namespace netwright::cli {

namespace {

// "Final test accuracy: 91.20 % (9120/10000) after 5 epochs, test loss 0.2450" — or the task's
// metrics: "Final test R² 0.4712  RMSE 53.08  MAE 42.91 after 200 epochs, test loss 2817.5".
std::string finalEvaluationLine(const EvalInfo &e, const std::string &task, int64_t epochs)
{
    char buf[512];
    const char *plural = epochs == 1 ? "" : "s";
    if (task == "classification")
        std::snprintf(buf, sizeof buf, "Final test accuracy: %.2f %% (%lld/%lld) after %lld epoch%s, test loss %.4f", 100.0 * e.accuracy,
                      static_cast<long long>(e.correct), static_cast<long long>(e.samples), static_cast<long long>(epochs), plural, e.loss);
    else
        std::snprintf(buf, sizeof buf, "Final test %s (%lld samples) after %lld epoch%s, test loss %.4f", formatMetrics(e.metrics).c_str(),
                      static_cast<long long>(e.samples), static_cast<long long>(epochs), plural, e.loss);
    return buf;
}

// eval_accuracy (classification) and eval_loss, as before, and eval_metrics: every metric of the task.
void addEvalJson(QJsonObject &o, const EvalInfo &e, const std::string &task)
{
    if (task == "classification")
        o["eval_accuracy"] = e.accuracy;
    o["eval_loss"] = e.loss;
    QJsonObject metrics;
    for (const auto &m : e.metrics)
        metrics[QString::fromStdString(m.name)] = m.value;
    o["eval_metrics"] = metrics;
}

int toInt(const QCommandLineParser &p, const QString &name, int minimum)
{
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v < minimum)
        throw Error("--" + name.toStdString() + ": \"" + p.value(name).toStdString() + "\" is not a whole number ≥ "
                    + std::to_string(minimum) + ".");
    return v;
}

// A run restored at its end: nothing is trained and nothing in the run directory changes, except
// that a metrics log cut by a kill before its end record gets that record. The user is told so;
// the JSON result has the fields of a finished run (the last evaluation from the metrics log).
int reportFinishedRun(const Trainer &trainer, const RunDirectory &dir, const std::string &resumedFrom, bool json, const DistributedRun &dist)
{
    const int64_t epochs = trainer.progress().data.epoch;
    const QString path = QString::fromStdString(dir.path());
    std::optional<MetricsRecord> lastEval;
    bool ended = false;
    dir.dropTornMetricsLine(); // a record cut by the kill goes before the end record is added
    for (const auto &r : dir.metrics().records) {
        ended = r.type == MetricsRecord::Type::End;
        if (r.type == MetricsRecord::Type::Eval)
            lastEval = r;
    }
    if (!ended) {
        TrainEndInfo end;
        end.globalStep = trainer.globalStep();
        end.epochsDone = epochs;
        MetricsLog(dir.metricsPath(), true).onTrainEnd(end);
    }
    std::FILE *human = json ? stderr : stdout;
    std::fprintf(human, "Run directory: %s\n", qPrintable(path));
    std::fprintf(human, "Nothing left to train: the run had finished (%lld epoch%s, global step %lld, %s); %s\n",
                 static_cast<long long>(epochs), epochs == 1 ? "" : "s", static_cast<long long>(trainer.globalStep()), resumedFrom.c_str(),
                 ended ? "its files are unchanged." : "its metrics log, cut before its end record, now has it.");
    std::fflush(human);
    if (json) {
        QJsonObject o{{"run_dir", path},
                      {"resumed_from", QString::fromStdString(resumedFrom)},
                      {"global_step", static_cast<qint64>(trainer.globalStep())},
                      {"epochs_done", static_cast<qint64>(epochs)},
                      {"stopped", false},
                      {"ranks", dist.size()},
                      {"nothing_left", true},
                      {"newest_checkpoint", QString::fromStdString(resumedFrom)}};
        if (lastEval) {
            EvalInfo e;
            e.loss = lastEval->loss;
            e.accuracy = lastEval->accuracy;
            if (lastEval->hasAccuracy)
                e.metrics.push_back({"accuracy", lastEval->accuracy});
            e.metrics.insert(e.metrics.end(), lastEval->metrics.begin(), lastEval->metrics.end());
            addEvalJson(o, e, lastEval->hasAccuracy ? "classification" : "other");
        }
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

int trainInRunDirectory(const RunConfig &config, Trainer &trainer, const RunDirectory &dir, const SessionStart &start, bool json,
                        const DistributedRun &dist)
{
    std::FILE *human = json ? stderr : stdout; // with --json, stdout is the result alone
    const QString path = QString::fromStdString(dir.path());
    TrainingSession session(config, dir, trainer, {dist.isRoot(), true});
    ProgressReporter *reporter = nullptr;
    session.setNoteSink([&](const std::string &text) {
        if (reporter) {
            reporter->note(text);
        } else {
            std::fprintf(human, "%s\n", text.c_str());
            std::fflush(human);
        }
    });
    if (start.restore)
        session.restore(start.startOver, [&](std::string file) { return dist.fromRoot(std::move(file)); });
    const std::string resumedFrom = session.resumedFrom();
    // Every rank restored the same cursor, so all of them return here together.
    if (trainer.finished())
        return dist.isRoot() ? reportFinishedRun(trainer, dir, resumedFrom, json, dist) : 0;
    if (start.writeConfig)
        session.writeConfig(); // rank 0 only
    if (!dist.isRoot()) // trains its share and writes nothing; a stop signal stops every rank
        return session.run().stopped ? 130 : 0;
    std::fprintf(human, "Run directory: %s\n", qPrintable(path));
    if (!resumedFrom.empty())
        std::fprintf(human, "Resuming from %s (global step %lld)\n", resumedFrom.c_str(), static_cast<long long>(trainer.globalStep()));
    if (dist.distributed()) {
        const int64_t batch = config.training.batchSize, least = batch / dist.size();
        const std::string share = batch % dist.size() ? std::to_string(least) + "–" + std::to_string(least + 1) : std::to_string(least);
        std::fprintf(human, "Data parallel: %d ranks, each %s of every %lld samples; rank 0 writes the run directory\n", dist.size(),
                     share.c_str(), static_cast<long long>(batch));
    }
    std::fflush(human);

    // Under mpirun every rank's output is a pseudo-terminal even when mpirun's own goes to a file:
    // plain lines then, never in-place updates.
    const bool interactive = ::isatty(fileno(human)) != 0 && !dist.distributed();
    ProgressReporter progress(human, interactive, config.training.logEvery);
    reporter = &progress;
    session.setSavedCallback([&](const std::string &file, const CheckpointRecord &) { progress.note("checkpoint " + file); });
    session.addObserver(&progress);
    const TrainEndInfo end = session.run();
    reporter = nullptr;

    const std::string newest = session.newestCheckpoint();
    std::fprintf(human, "Run directory: %s\n", qPrintable(path));
    if (!newest.empty())
        std::fprintf(human, "Newest checkpoint: %s\n", dir.file(newest).c_str());
    if (end.lastEvaluation)
        std::fprintf(human, "%s\n", finalEvaluationLine(*end.lastEvaluation, config.task.type, end.epochsDone).c_str());
    if (dist.distributed())
        std::fprintf(human, "Parameters identical on all %d ranks (checksum %016llx)\n", dist.size(),
                     static_cast<unsigned long long>(end.parameterChecksum));
    if (end.stopped)
        std::fprintf(human, "Stopped by a signal; continue with: netwright resume %s\n", qPrintable(path));
    std::fflush(human);
    if (json) {
        QJsonObject o{{"run_dir", path},
                      {"resumed_from", resumedFrom.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(resumedFrom))},
                      {"global_step", static_cast<qint64>(end.globalStep)},
                      {"epochs_done", static_cast<qint64>(end.epochsDone)},
                      {"stopped", end.stopped},
                      {"ranks", dist.size()},
                      {"nothing_left", false},
                      {"newest_checkpoint", newest.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(newest))}};
        if (end.lastEvaluation)
            addEvalJson(o, *end.lastEvaluation, config.task.type);
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        std::fflush(stdout);
    }
    return end.stopped ? 130 : 0;
}

int runTrainCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Train a model headless. With no options: cnn-small on Fashion-MNIST for 5 epochs (the embedded default run config).\n"
        "Options override the --config file, which overrides the embedded default.\n"
        "Data-parallel: mpirun -np N netwright train … splits every minibatch across N ranks; rank 0 writes the run directory."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("train"), QStringLiteral("The subcommand."));
    p.addOptions({
        {{QStringLiteral("c"), QStringLiteral("config")}, QStringLiteral("Run config (JSON) to train with."), QStringLiteral("run.json")},
        {QStringLiteral("model"), QStringLiteral("Zoo model: mlp, lenet5, cnn-small, cnn-bn."), QStringLiteral("NAME")},
        {QStringLiteral("model-file"), QStringLiteral("Train a model file instead: ONNX, MindIR, AIR or CNTK model-v2, one input, one output "
                                                      "(the logits), its weights as the start. The run directory keeps a copy."),
         QStringLiteral("FILE")},
        {QStringLiteral("init-from"), QStringLiteral("Start from a checkpoint's weights (fine-tuning): a MindSpore .ckpt, a CNTK trainer "
                                                     "checkpoint or a NumPy .npz of named arrays, matched by name and shape as netwright "
                                                     "load-check reports (BatchNorm folded into convolutions that have it folded)."),
         QStringLiteral("CHECKPOINT")},
        {QStringLiteral("init-map"), QStringLiteral("With --init-from: renames of the checkpoint's tensors, JSON {\"from\": \"to\"} or "
                                                    "lines \"from to\"."),
         QStringLiteral("FILE")},
        {QStringLiteral("init-strict"), QStringLiteral("With --init-from: anything missing, unexpected or of another shape is an error.")},
        {QStringLiteral("data"), QStringLiteral("Train on this data: an image folder (DIR/<class>/*.png|jpg, or DIR/train/ with DIR/test/), "
                                                "a NumPy .npz (x, y) or .npy (with --targets), a CSV table with a header row, CIFAR-10 "
                                                "binary batches or a folder of IDX files."),
         QStringLiteral("PATH")},
        {QStringLiteral("test-data"), QStringLiteral("The test split, from its own file or folder."), QStringLiteral("PATH")},
        {QStringLiteral("test-split"), QStringLiteral("Else hold out this fraction of --data as the test split (seeded, stratified "
                                                      "for classes), e.g. 0.2."),
         QStringLiteral("F")},
        {QStringLiteral("label"), QStringLiteral("CSV: the target column(s), comma-separated (default: label, target, class or y, else the "
                                                 "last column)."),
         QStringLiteral("COLUMN")},
        {QStringLiteral("targets"), QStringLiteral(".npy features: the .npy file of the targets (default: y.npy beside x.npy)."),
         QStringLiteral("FILE")},
        {QStringLiteral("task"), QStringLiteral("classification (softmax cross-entropy), regression (MSE) or multilabel (sigmoid binary "
                                                "cross-entropy)."),
         QStringLiteral("TASK")},
        {QStringLiteral("loss"), QStringLiteral("Regression: mse, l1 or huber."), QStringLiteral("LOSS")},
        {QStringLiteral("resize"), QStringLiteral("Images: resize to HxW (bilinear), e.g. 32x32."), QStringLiteral("HxW")},
        {QStringLiteral("random-crop-padding"), QStringLiteral("Images, training only: pad by N pixels and crop back at a random place."),
         QStringLiteral("N")},
        {QStringLiteral("horizontal-flip"), QStringLiteral("Images, training only: flip half the images left to right.")},
        {QStringLiteral("stream"), QStringLiteral("Read samples from disk as minibatches need them: auto (data larger than 2 GiB), on or off."),
         QStringLiteral("auto|on|off")},
        {QStringLiteral("hidden"), QStringLiteral("mlp: the hidden layer sizes, comma-separated (default 256,128)."), QStringLiteral("N,N")},
        {QStringLiteral("epochs"), QStringLiteral("Number of passes over the training split."), QStringLiteral("N")},
        {QStringLiteral("batch-size"), QStringLiteral("Samples per minibatch."), QStringLiteral("B")},
        {QStringLiteral("optimizer"), QStringLiteral("sgd, adam or adamw."), QStringLiteral("NAME")},
        {QStringLiteral("lr"), QStringLiteral("Base learning rate."), QStringLiteral("X")},
        {QStringLiteral("seed"), QStringLiteral("Seed for initialisation, shuffling and dropout."), QStringLiteral("S")},
        {QStringLiteral("threads"), QStringLiteral("CPU threads (0 = every core). Results are reproducible per seed and thread count."),
         QStringLiteral("T")},
        {QStringLiteral("device"), QStringLiteral("Where to train: cpu, cuda (the first GPU) or cuda:N. Checkpoints are the same either way."),
         QStringLiteral("DEVICE")},
        {QStringLiteral("precision"),
         QStringLiteral("fp32 (default) or bf16: the training step's matrix multiplies and convolutions in bfloat16 with fp32 "
                        "accumulation (CPUs with AVX512-BF16 or AMX); weights, optimizer state and checkpoints stay fp32."),
         QStringLiteral("P")},
        {{QStringLiteral("o"), QStringLiteral("out")}, QStringLiteral("Run directory to write (default: runs/<name>-<date-time>)."),
         QStringLiteral("DIR")},
        {QStringLiteral("print-config"), QStringLiteral("Print the resolved run config as JSON and exit without training.")},
        {QStringLiteral("plan"), QStringLiteral("Print which checkpoints the run would write and which each keep rule would keep or delete; "
                                                "train nothing, write nothing.")},
        {QStringLiteral("step-seconds"), QStringLiteral("With --plan: the assumed time of one step for time-based rules (default 0.1)."),
         QStringLiteral("S")},
        {QStringLiteral("json"), QStringLiteral("Print JSON on stdout: the plan with --plan; else the run's result at its end (the "
                                                "progress goes to stderr).")},
    });
    if (const auto done = parseSubcommand(p, arguments, "train", 0, nullptr))
        return *done;
    DistributedRun dist;
    try {
        dist = DistributedRun::joinIfLaunched();
        RunConfig config = defaultRunConfig();
        if (p.isSet(QStringLiteral("config")))
            config = loadRunConfigFile(p.value(QStringLiteral("config")).toStdString(), config);
        const RunConfig fromFile = config; // to tell a bad value in the file from a bad option
        if (p.isSet(QStringLiteral("config")) && config.name == defaultRunConfig().name && config.model != defaultRunConfig().model)
            config.name = config.model; // a config that names no run is named after its model
        if (p.isSet(QStringLiteral("model"))) {
            config.model = p.value(QStringLiteral("model")).toStdString();
            if (!p.isSet(QStringLiteral("config")))
                config.name = config.model;
        }
        if (p.isSet(QStringLiteral("model-file"))) {
            if (p.isSet(QStringLiteral("model")))
                throw Error("--model and --model-file both name the model; give one.");
            config.modelFile = QFileInfo(p.value(QStringLiteral("model-file"))).absoluteFilePath().toStdString();
            config.model = modelNameOfFile(config.modelFile);
            if (!p.isSet(QStringLiteral("config")))
                config.name = config.model;
        }
        if (p.isSet(QStringLiteral("init-from")))
            config.initFrom = QFileInfo(p.value(QStringLiteral("init-from"))).absoluteFilePath().toStdString();
        if (p.isSet(QStringLiteral("init-map")))
            config.initFromMap = QFileInfo(p.value(QStringLiteral("init-map"))).absoluteFilePath().toStdString();
        if (p.isSet(QStringLiteral("init-strict")))
            config.initFromStrict = true;
        applyDataOptions(p, config);
        if (p.isSet(QStringLiteral("epochs")))
            config.training.epochs = toInt(p, QStringLiteral("epochs"), 1);
        if (p.isSet(QStringLiteral("batch-size")))
            config.training.batchSize = toInt(p, QStringLiteral("batch-size"), 1);
        if (p.isSet(QStringLiteral("optimizer")))
            config.optimizer.name = p.value(QStringLiteral("optimizer")).toStdString();
        if (p.isSet(QStringLiteral("lr"))) {
            bool ok = false;
            config.lr = p.value(QStringLiteral("lr")).toDouble(&ok);
            if (!ok || config.lr <= 0.0)
                throw Error("--lr: \"" + p.value(QStringLiteral("lr")).toStdString() + "\" is not a positive number.");
        }
        if (p.isSet(QStringLiteral("seed"))) {
            bool ok = false;
            config.training.seed = p.value(QStringLiteral("seed")).toUInt(&ok);
            if (!ok)
                throw Error("--seed: \"" + p.value(QStringLiteral("seed")).toStdString() + "\" is not a whole number in 0…4294967295.");
        }
        if (p.isSet(QStringLiteral("threads")))
            config.training.threads = toInt(p, QStringLiteral("threads"), 0);
        if (p.isSet(QStringLiteral("device")))
            config.training.device = deviceOption(p);
        if (p.isSet(QStringLiteral("precision")))
            config.training.precision = p.value(QStringLiteral("precision")).toStdString();
        validateRunConfigFrom(config, fromFile, p.isSet(QStringLiteral("config")) ? p.value(QStringLiteral("config")).toStdString() : std::string());
        if (!dist.isRoot() && (p.isSet(QStringLiteral("print-config")) || p.isSet(QStringLiteral("plan"))))
            return 0; // rank 0 prints
        if (p.isSet(QStringLiteral("print-config"))) {
            std::fputs(runConfigToJson(config).c_str(), stdout);
            std::fputc('\n', stdout);
            return 0;
        }

        const TrainingData data = loadTrainingData(config);
        if (p.isSet(QStringLiteral("plan"))) {
            PlanShape shape;
            shape.epochs = config.training.epochs;
            shape.trainSamples = data.train->size();
            shape.batchSize = config.training.batchSize;
            shape.dropLast = config.data.dropLast;
            if (p.isSet(QStringLiteral("step-seconds"))) {
                bool ok = false;
                shape.stepSeconds = p.value(QStringLiteral("step-seconds")).toDouble(&ok);
                if (!ok || shape.stepSeconds <= 0)
                    throw Error("--step-seconds: \"" + p.value(QStringLiteral("step-seconds")).toStdString() + "\" is not a positive number.");
            }
            const std::string dir = RunDirectory::defaultPath(p.value(QStringLiteral("out")).toStdString(), config.name);
            return printCheckpointPlan(config, dir, shape, p.isSet(QStringLiteral("json")));
        }
        auto trainer = dist.makeTrainer(config, data);
        TrainingSession::checkStart(config, *trainer); // a refused start writes nothing
        const bool restore = config.checkpoint.enabled && config.checkpoint.restore && p.isSet(QStringLiteral("out"));
        // Rank 0 names (and makes) the run directory; the others only read from it.
        const RunDirectory dir(dist.fromRoot(
            dist.isRoot() ? RunDirectory::create(p.value(QStringLiteral("out")).toStdString(), config.name, restore).path() : std::string()));
        SessionStart start;
        start.restore = restore;
        start.writeConfig = true;
        return trainInRunDirectory(config, *trainer, dir, start, p.isSet(QStringLiteral("json")), dist);
    } catch (const Error &e) {
        return dist.fail("train", e.what());
    } catch (const std::bad_alloc &) {
        return dist.fail("train", "out of memory.");
    } catch (const std::exception &e) {
        return dist.fail("train", std::string("internal error: ") + e.what());
    }
}

} // namespace netwright::cli

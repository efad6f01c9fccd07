// SPDX-License-Identifier: Apache-2.0
#include "cli/train_command.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "cli/progress_reporter.h"
#include "cli/plan_report.h"
#include "cli/distributed_run.h"
#include "cli/run_directory.h"
#include "checkpoint/checkpoint_plan.h"
#include "config/run_config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "train/metrics_log.h"
#include "train/training_setup.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QCoreApplication>

#include <csignal>
#include <optional>
#include <cstdio>
#include <unistd.h>

namespace netwright::cli {

namespace {

volatile std::sig_atomic_t g_stopSignal = 0;

extern "C" void onStopSignal(int sig)
{
    g_stopSignal = sig;
}

// Turns SIGINT/SIGTERM into a stop request at the next step boundary.
class SignalStop final : public TrainingObserver {
public:
    explicit SignalStop(std::stop_source &source) : m_source(source) {}
    void onStep(const StepInfo &) override
    {
        if (g_stopSignal)
            m_source.request_stop();
    }

private:
    std::stop_source &m_source;
};

int toInt(const QCommandLineParser &p, const QString &name, int minimum)
{
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v < minimum)
        throw Error("--" + name.toStdString() + ": \"" + p.value(name).toStdString() + "\" is not a whole number ≥ "
                    + std::to_string(minimum) + ".");
    return v;
}

} // namespace

namespace {

// Restores `file` of run directory `d` into the trainer; returns where the step-save chain stood.
int64_t restoreCheckpointFile(const RunConfig &config, Trainer &trainer, const std::string &d, const std::string &file)
{
    const std::string path = d + "/" + file;
    const auto entries = config.checkpoint.format == "cntk" ? cntk::readTrainerCheckpoint(path) : mindspore::readCkpt(path).entries;
    restoreTrainingState(trainer, entries, path);
    for (const auto &e : entries)
        if (e.name == "netwright.checkpoint.last_step_save" && !e.isString && e.tensor.dtype() == DType::Int64)
            return e.tensor.dataAs<int64_t>()[0];
    return 0;
}

} // namespace

ResumePoint restoreNewest(const RunConfig &config, Trainer &trainer, const std::string &d, std::FILE *out,
                          const DistributedRun &dist)
{
    ResumePoint point;
    if (dist.isRoot())
        point.file = findRestoreCheckpoint(config.checkpoint, config.model, d);
    // Rank 0 chooses; every rank restores that one file (the run directory is on a file system
    // every rank sees, as for MindSpore's and CNTK's distributed restore).
    point.file = dist.fromRoot(point.file);
    if (point.file.empty()) {
        if (dist.isRoot())
            std::fprintf(out, "No checkpoint in %s yet; starting from the beginning.\n", d.c_str());
    } else {
        point.lastStepSave = restoreCheckpointFile(config, trainer, d, point.file);
    }
    if (!dist.isRoot())
        return point;
    const TrainerProgress progress = trainer.progress();
    const std::string metrics = d + "/metrics.jsonl";
    // A finished run is left as it is (runTrainingSession trains nothing and writes nothing).
    if (QFileInfo::exists(QString::fromStdString(metrics)) && !trainer.finished())
        MetricsLog::truncateAfter(metrics, point.file.empty() ? 0 : progress.globalStep,
                                  progress.data.position == 0 && progress.data.epoch > 0);
    return point;
}

namespace {

// A run restored at its end: nothing is trained and nothing in the run directory changes, except
// that a metrics log cut by a kill before its end record gets that record. The user is told so;
// the JSON result has the fields of a finished run (the last evaluation from the metrics log).
int reportFinishedRun(const Trainer &trainer, const QString &dir, const std::string &resumedFrom, bool json, const DistributedRun &dist)
{
    const int64_t epochs = trainer.progress().data.epoch;
    const std::string metricsPath = (dir + QStringLiteral("/metrics.jsonl")).toStdString();
    std::optional<QJsonObject> lastEval;
    bool ended = false;
    QFile log(QString::fromStdString(metricsPath));
    if (log.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : log.readAll().split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.isEmpty())
                continue; // a blank or cut line
            const QString type = o.value(QStringLiteral("type")).toString();
            ended = type == QLatin1String("end");
            if (type == QLatin1String("eval"))
                lastEval = o;
        }
    }
    if (!ended) {
        TrainEndInfo end;
        end.globalStep = trainer.globalStep();
        end.epochsDone = epochs;
        MetricsLog(metricsPath, true).onTrainEnd(end);
    }
    std::FILE *human = json ? stderr : stdout;
    std::fprintf(human, "Run directory: %s\n", qPrintable(dir));
    std::fprintf(human, "Nothing left to train: the run had finished (%lld epoch%s, global step %lld, %s); %s\n",
                 static_cast<long long>(epochs), epochs == 1 ? "" : "s", static_cast<long long>(trainer.globalStep()), resumedFrom.c_str(),
                 ended ? "its files are unchanged." : "its metrics log, cut before its end record, now has it.");
    std::fflush(human);
    if (json) {
        QJsonObject o{{"run_dir", dir},
                      {"resumed_from", QString::fromStdString(resumedFrom)},
                      {"global_step", static_cast<qint64>(trainer.globalStep())},
                      {"epochs_done", static_cast<qint64>(epochs)},
                      {"stopped", false},
                      {"ranks", dist.size()},
                      {"nothing_left", true},
                      {"newest_checkpoint", QString::fromStdString(resumedFrom)}};
        if (lastEval) {
            o["eval_accuracy"] = lastEval->value(QStringLiteral("accuracy"));
            o["eval_loss"] = lastEval->value(QStringLiteral("loss"));
        }
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        std::fflush(stdout);
    }
    return 0;
}

// A rank other than 0: trains its share and writes nothing; a stop signal stops every rank.
int runWorkerSession(Trainer &trainer)
{
    std::stop_source stop;
    SignalStop signalStop(stop);
    trainer.addObserver(&signalStop);
    g_stopSignal = 0;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    const TrainEndInfo end = trainer.run(stop.get_token());
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return end.stopped ? 130 : 0;
}

} // namespace

int runTrainingSession(const RunConfig &config, Trainer &trainer, const QString &dir, const std::string &resumedFrom,
                       int64_t lastStepSave, bool json, const DistributedRun &dist)
{
    // Every rank restored the same cursor, so all of them return here together.
    if (trainer.finished())
        return dist.isRoot() ? reportFinishedRun(trainer, dir, resumedFrom, json, dist) : 0;
    if (!dist.isRoot())
        return runWorkerSession(trainer);
    std::FILE *human = json ? stderr : stdout; // with --json, stdout is the result alone
    const bool resuming = !resumedFrom.empty();
    std::fprintf(human, "Run directory: %s\n", qPrintable(dir));
    if (resuming)
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
    MetricsLog metrics((dir + QStringLiteral("/metrics.jsonl")).toStdString(), resuming);
    ProgressReporter progress(human, interactive, config.training.logEvery);
    CheckpointManager checkpoints(trainer, config.checkpoint, dir.toStdString(), config.model, resumedFrom);
    checkpoints.continueStepChain(lastStepSave);
    checkpoints.setSavedCallback([&](const std::string &path, const CheckpointRecord &) { progress.note("checkpoint " + path); });
    std::stop_source stop;
    SignalStop signalStop(stop);
    trainer.addObserver(&metrics);
    trainer.addObserver(&progress);
    trainer.addObserver(&checkpoints);
    trainer.addObserver(&signalStop);
    g_stopSignal = 0;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    TrainEndInfo end;
    try {
        end = trainer.run(stop.get_token());
    } catch (const Error &) {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        if (config.checkpoint.enabled && config.checkpoint.exceptionSave) {
            // MindSpore's exception_save: the state of the last finished step, under a name the
            // keep rules never touch; then the error is reported as usual.
            try {
                progress.note("breakpoint checkpoint " + checkpoints.saveBreakpoint());
            } catch (const Error &e) {
                progress.note(std::string("could not save a breakpoint checkpoint: ") + e.what());
            }
        }
        throw;
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);

    std::fprintf(human, "Run directory: %s\n", qPrintable(dir));
    if (!checkpoints.latest().empty())
        std::fprintf(human, "Newest checkpoint: %s/%s\n", qPrintable(dir), checkpoints.latest().c_str());
    if (end.lastEvaluation) {
        const EvalInfo &e = *end.lastEvaluation;
        std::fprintf(human, "Final test accuracy: %.2f %% (%lld/%lld) after %lld epoch%s, test loss %.4f\n", 100.0 * e.accuracy,
                    static_cast<long long>(e.correct), static_cast<long long>(e.samples),
                    static_cast<long long>(end.epochsDone), end.epochsDone == 1 ? "" : "s", e.loss);
    }
    if (dist.distributed())
        std::fprintf(human, "Parameters identical on all %d ranks (checksum %016llx)\n", dist.size(),
                     static_cast<unsigned long long>(end.parameterChecksum));
    if (end.stopped)
        std::fprintf(human, "Stopped by a signal; continue with: netwright resume %s\n", qPrintable(dir));
    std::fflush(human);
    if (json) {
        QJsonObject o{{"run_dir", dir},
                      {"resumed_from", resumedFrom.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(resumedFrom))},
                      {"global_step", static_cast<qint64>(end.globalStep)},
                      {"epochs_done", static_cast<qint64>(end.epochsDone)},
                      {"stopped", end.stopped},
                      {"ranks", dist.size()},
                      {"nothing_left", false},
                      {"newest_checkpoint", checkpoints.latest().empty() ? QJsonValue() : QJsonValue(QString::fromStdString(checkpoints.latest()))}};
        if (end.lastEvaluation) {
            o["eval_accuracy"] = end.lastEvaluation->accuracy;
            o["eval_loss"] = end.lastEvaluation->loss;
        }
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        std::fflush(stdout);
    }
    return end.stopped ? 130 : 0;
}

ResumePoint restoreNewest(const RunConfig &config, Trainer &trainer, const std::string &dir, std::FILE *out)
{
    return restoreNewest(config, trainer, dir, out, DistributedRun{});
}

int runTrainingSession(const RunConfig &config, Trainer &trainer, const QString &dir, const std::string &resumedFrom,
                       int64_t lastStepSave, bool json)
{
    return runTrainingSession(config, trainer, dir, resumedFrom, lastStepSave, json, DistributedRun{});
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
        {QStringLiteral("epochs"), QStringLiteral("Number of passes over the training split."), QStringLiteral("N")},
        {QStringLiteral("batch-size"), QStringLiteral("Samples per minibatch."), QStringLiteral("B")},
        {QStringLiteral("optimizer"), QStringLiteral("sgd, adam or adamw."), QStringLiteral("NAME")},
        {QStringLiteral("lr"), QStringLiteral("Base learning rate."), QStringLiteral("X")},
        {QStringLiteral("seed"), QStringLiteral("Seed for initialisation, shuffling and dropout."), QStringLiteral("S")},
        {QStringLiteral("threads"), QStringLiteral("CPU threads (0 = every core). Results are reproducible per seed and thread count."),
         QStringLiteral("T")},
        {QStringLiteral("device"), QStringLiteral("Where to train: cpu, cuda (the first GPU) or cuda:N. Checkpoints are the same either way."),
         QStringLiteral("DEVICE")},
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
        validateRunConfigFrom(config, fromFile, p.isSet(QStringLiteral("config")) ? p.value(QStringLiteral("config")).toStdString() : std::string());
        if (!dist.isRoot() && (p.isSet(QStringLiteral("print-config")) || p.isSet(QStringLiteral("plan"))))
            return 0; // rank 0 prints
        if (p.isSet(QStringLiteral("print-config"))) {
            std::fputs(runConfigToJson(config).c_str(), stdout);
            std::fputc('\n', stdout);
            return 0;
        }

        const TrainingData data = loadTrainingData(config.data);
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
            const QString dir = runDirectoryName(p.value(QStringLiteral("out")), QString::fromStdString(config.name));
            return printCheckpointPlan(config, dir.toStdString(), shape, p.isSet(QStringLiteral("json")));
        }
        auto trainer = dist.makeTrainer(config, data);
        const bool restore = config.checkpoint.enabled && config.checkpoint.restore && p.isSet(QStringLiteral("out"));
        // Rank 0 names (and makes) the run directory; the others only read from it.
        const QString dir = QString::fromStdString(dist.fromRoot(
            dist.isRoot() ? prepareRunDirectory(p.value(QStringLiteral("out")), QString::fromStdString(config.name), restore).toStdString()
                          : std::string()));
        const bool json = p.isSet(QStringLiteral("json"));
        const ResumePoint from = restore ? restoreNewest(config, *trainer, dir.toStdString(), json ? stderr : stdout, dist) : ResumePoint{};
        if (dist.isRoot() && !trainer->finished()) // a finished run's directory is left as it is
            writeRunConfig(dir, config);
        return runTrainingSession(config, *trainer, dir, from.file, from.lastStepSave, json, dist);
    } catch (const Error &e) {
        return dist.fail("train", e.what());
    } catch (const std::bad_alloc &) {
        return dist.fail("train", "out of memory.");
    } catch (const std::exception &e) {
        return dist.fail("train", std::string("internal error: ") + e.what());
    }
}

} // namespace netwright::cli

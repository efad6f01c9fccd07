// SPDX-License-Identifier: Apache-2.0
#include "cli/eval_command.h"

#include "cli/json_values.h"
#include "cli/key_options.h"
#include "cli/subcommand.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "run/evaluation.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace netwright::cli {

namespace {

// Nine significant digits: every float the model computed, read back exactly.
std::string full(double v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

// A CSV field, quoted where it holds a comma, a quote or a line break (RFC 4180).
std::string field(const std::string &s)
{
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// A class's (a multilabel task: a label's) figures; `key` names the name: "class" or "label".
QJsonObject figuresJson(const ClassFigures &f, const QString &key = QStringLiteral("class"))
{
    return {{key, q(f.name)}, {"precision", number(f.precision)}, {"recall", number(f.recall)}, {"f1", number(f.f1)},
            {"support", static_cast<qint64>(f.support)}};
}

QJsonObject toJson(const Evaluation &ev)
{
    const EvaluationReport &r = ev.report;
    QJsonObject o{{"source", q(ev.source)},
                  {"checkpoint", ev.checkpoint.empty() ? QJsonValue() : QJsonValue(q(ev.checkpoint))},
                  {"model", q(ev.model)},
                  {"data", q(ev.data)},
                  {"task", q(r.task)},
                  {"samples", static_cast<qint64>(r.samples)},
                  {"loss", number(r.loss)}};
    if (ev.globalStep >= 0)
        o["global_step"] = static_cast<qint64>(ev.globalStep);
    if (r.task == "classification") {
        o["accuracy"] = number(r.accuracy);
        if (r.top5)
            o["top5"] = number(*r.top5);
        QJsonArray classes, matrix, perClass;
        for (const auto &c : r.classes)
            classes.append(q(c));
        for (const auto &row : r.confusion) {
            QJsonArray a;
            for (int64_t v : row)
                a.append(static_cast<qint64>(v));
            matrix.append(a);
        }
        for (size_t k = 0; k < r.perClass.size(); ++k) {
            QJsonObject f = figuresJson(r.perClass[k]);
            f["index"] = static_cast<qint64>(k);
            perClass.append(f);
        }
        o["classes"] = classes;
        o["confusion_matrix"] = matrix;
        o["per_class"] = perClass;
        o["macro_avg"] = figuresJson(r.macroAverage);
        o["weighted_avg"] = figuresJson(r.weightedAverage);
        return o;
    }
    if (r.task == "multilabel") {
        const QString key = QStringLiteral("label");
        o["accuracy"] = number(r.accuracy); // subset accuracy: every label of a sample right
        o["hamming_loss"] = number(r.hammingLoss);
        o["threshold"] = r.threshold;
        QJsonArray labels, perLabel, matrices;
        for (size_t k = 0; k < r.classes.size(); ++k) {
            labels.append(q(r.classes[k]));
            QJsonObject f = figuresJson(r.perClass[k], key);
            f["index"] = static_cast<qint64>(k);
            perLabel.append(f);
            QJsonArray m;
            for (const auto &row : r.labelConfusion[k])
                m.append(QJsonArray{static_cast<qint64>(row[0]), static_cast<qint64>(row[1])});
            matrices.append(m);
        }
        o["labels"] = labels;
        o["per_label"] = perLabel;
        o["multilabel_confusion_matrix"] = matrices;
        o["micro_avg"] = figuresJson(r.microAverage, key);
        o["macro_avg"] = figuresJson(r.macroAverage, key);
        o["weighted_avg"] = figuresJson(r.weightedAverage, key);
        o["samples_avg"] = figuresJson(r.samplesAverage, key);
        return o;
    }
    o["mae"] = number(r.mae);
    o["rmse"] = number(r.rmse);
    o["r2"] = number(r.r2);
    QJsonArray targets, residuals;
    for (const auto &s : r.residuals) {
        targets.append(q(s.target));
        residuals.append(QJsonObject{{"target", q(s.target)},
                                     {"mean", number(s.mean)},
                                     {"std", number(s.std)},
                                     {"min", number(s.min)},
                                     {"median", number(s.median)},
                                     {"max", number(s.max)},
                                     {"mean_absolute", number(s.meanAbsolute)}});
    }
    o["targets"] = targets;
    o["residuals"] = residuals;
    return o;
}

// A sample's labels where `set` is 1: their indices ("0;2") or names ("sports;tech").
std::string labelSet(const std::vector<uint8_t> &set, const std::vector<std::string> &names, bool byName)
{
    std::string out;
    for (size_t k = 0; k < set.size(); ++k)
        if (set[k])
            out += (out.empty() ? "" : ";") + (byName ? names[k] : std::to_string(k));
    return out;
}

// Per-sample predictions: classification index,true,predicted,confidence,loss,true_name,
// predicted_name; regression index, per target true_T,predicted_T,residual_T, then loss;
// multilabel index,true,predicted,loss,true_names,predicted_names, then per label probability_L
// (the label sets as indices or names joined by ";", empty for none).
std::string toCsv(const EvaluationReport &r)
{
    std::string out;
    if (r.task == "multilabel") {
        out = "index,true,predicted,loss,true_names,predicted_names";
        for (const auto &name : r.classes)
            out += "," + field("probability_" + name);
        out += "\n";
        for (const auto &p : r.multilabelPredictions) {
            out += std::to_string(p.index) + "," + labelSet(p.truth, r.classes, false) + "," + labelSet(p.predicted, r.classes, false) + ","
                   + full(p.loss) + "," + field(labelSet(p.truth, r.classes, true)) + "," + field(labelSet(p.predicted, r.classes, true));
            for (double v : p.probability)
                out += "," + full(v);
            out += "\n";
        }
        return out;
    }
    if (r.task == "classification") {
        out = "index,true,predicted,confidence,loss,true_name,predicted_name\n";
        for (const auto &p : r.predictions)
            out += std::to_string(p.index) + "," + std::to_string(p.trueClass) + "," + std::to_string(p.predicted) + "," + full(p.confidence)
                   + "," + full(p.loss) + "," + field(r.classes[static_cast<size_t>(p.trueClass)]) + ","
                   + field(r.classes[static_cast<size_t>(p.predicted)]) + "\n";
        return out;
    }
    out = "index";
    for (const auto &s : r.residuals)
        out += "," + field("true_" + s.target) + "," + field("predicted_" + s.target) + "," + field("residual_" + s.target);
    out += ",loss\n";
    for (const auto &p : r.regressionPredictions) {
        out += std::to_string(p.index);
        for (size_t k = 0; k < p.truth.size(); ++k)
            out += "," + full(p.truth[k]) + "," + full(p.predicted[k]) + "," + full(p.predicted[k] - p.truth[k]);
        out += "," + full(p.loss) + "\n";
    }
    return out;
}

int width(const std::string &s)
{
    return static_cast<int>(QString::fromStdString(s).size()); // characters, not bytes
}

std::string pad(const std::string &s, int to)
{
    return std::string(static_cast<size_t>(std::max(0, to - width(s))), ' ') + s;
}

// scikit-learn's classification_report, with four digits: the rows per class (label), then the
// accuracy where there is one (a classification) and the averages.
void printFiguresTable(const EvaluationReport &r, const std::vector<const ClassFigures *> &averages, bool accuracyRow)
{
    int w = width("weighted avg");
    for (const auto &c : r.classes)
        w = std::max(w, width(c));
    std::printf("%s  %9s  %9s  %9s  %9s\n\n", pad("", w).c_str(), "precision", "recall", "f1-score", "support");
    for (const auto &f : r.perClass)
        std::printf("%s  %9.4f  %9.4f  %9.4f  %9lld\n", pad(f.name, w).c_str(), f.precision, f.recall, f.f1, static_cast<long long>(f.support));
    std::printf("\n");
    if (accuracyRow)
        std::printf("%s  %9s  %9s  %9.4f  %9lld\n", pad("accuracy", w).c_str(), "", "", r.accuracy, static_cast<long long>(r.samples));
    for (const auto *f : averages)
        std::printf("%s  %9.4f  %9.4f  %9.4f  %9lld\n", pad(f->name, w).c_str(), f->precision, f->recall, f->f1,
                    static_cast<long long>(f->support));
}

void printClassification(const EvaluationReport &r)
{
    std::printf("accuracy %.2f %%", 100.0 * r.accuracy);
    if (r.top5)
        std::printf("   top-5 %.2f %%", 100.0 * *r.top5);
    std::printf("   loss %.4f\n\n", r.loss);
    printFiguresTable(r, {&r.macroAverage, &r.weightedAverage}, true);

    // The matrix: columns numbered by class, rows named.
    const size_t c = r.classes.size();
    int64_t most = 0;
    for (const auto &row : r.confusion)
        for (int64_t v : row)
            most = std::max(most, v);
    const int cell = std::max(static_cast<int>(std::to_string(most).size()), static_cast<int>(std::to_string(c).size())) + 1;
    const int index = static_cast<int>(std::to_string(c - 1).size());
    // Rows show the class names, where they are more than the numbers.
    int names = 0;
    for (size_t k = 0; k < c; ++k)
        if (r.classes[k] != std::to_string(k))
            names = std::max(names, width(r.classes[k]) + 1);
    std::printf("\nConfusion matrix (rows: true class, columns: predicted class)\n\n");
    std::printf("%*s", index + names, "");
    for (size_t k = 0; k < c; ++k)
        std::printf(" %*zu", cell, k);
    std::printf("\n");
    for (size_t t = 0; t < c; ++t) {
        const std::string name = names ? " " + r.classes[t] + std::string(static_cast<size_t>(names - 1 - width(r.classes[t])), ' ') : "";
        std::printf("%*zu%s", index, t, name.c_str());
        for (size_t k = 0; k < c; ++k)
            std::printf(" %*lld", cell, static_cast<long long>(r.confusion[t][k]));
        std::printf("\n");
    }
}

void printMultilabel(const EvaluationReport &r)
{
    std::printf("subset accuracy %.2f %%   hamming loss %.4f   loss %.4f\n", 100.0 * r.accuracy, r.hammingLoss, r.loss);
    std::printf("(a label is predicted where its probability is above %g; support: the samples that have it)\n\n", r.threshold);
    printFiguresTable(r, {&r.microAverage, &r.macroAverage, &r.weightedAverage, &r.samplesAverage}, false);
    // scikit-learn's multilabel_confusion_matrix, one label a row: [[tn, fp], [fn, tp]].
    int w = width("label");
    int64_t most = 0;
    for (size_t k = 0; k < r.classes.size(); ++k) {
        w = std::max(w, width(r.classes[k]));
        for (const auto &row : r.labelConfusion[k])
            most = std::max({most, row[0], row[1]});
    }
    const int cell = std::max(2, static_cast<int>(std::to_string(most).size())) + 1;
    std::printf("\nConfusion matrix per label (rows: true 0/1, columns: predicted 0/1; [[tn, fp], [fn, tp]])\n\n");
    std::printf("%s  %*s %*s %*s %*s\n", pad("label", w).c_str(), cell, "tn", cell, "fp", cell, "fn", cell, "tp");
    for (size_t k = 0; k < r.classes.size(); ++k) {
        const auto &m = r.labelConfusion[k];
        std::printf("%s  %*lld %*lld %*lld %*lld\n", pad(r.classes[k], w).c_str(), cell, static_cast<long long>(m[0][0]), cell,
                    static_cast<long long>(m[0][1]), cell, static_cast<long long>(m[1][0]), cell, static_cast<long long>(m[1][1]));
    }
}

void printRegression(const EvaluationReport &r)
{
    std::printf("MAE %.6g   RMSE %.6g   R² %.4f   loss %.6g\n\n", r.mae, r.rmse, r.r2, r.loss);
    int w = width("target");
    for (const auto &s : r.residuals)
        w = std::max(w, width(s.target));
    std::printf("Residuals (predicted − true)\n\n%-*s  %11s  %11s  %11s  %11s  %11s  %11s\n", w, "target", "mean", "std", "min", "median", "max",
                "mean |r|");
    for (const auto &s : r.residuals)
        std::printf("%s%s  %11.5g  %11.5g  %11.5g  %11.5g  %11.5g  %11.5g\n", s.target.c_str(),
                    std::string(static_cast<size_t>(std::max(0, w - width(s.target))), ' ').c_str(), s.mean, s.std, s.min, s.median,
                    s.max, s.meanAbsolute);
}

} // namespace

int runEvalCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Evaluate a trained model. SOURCE is a run directory (its best checkpoint by the task's metric, else its\n"
        "newest), a checkpoint in one, or a model file (ONNX, MindIR, AIR, CNTK model-v2; needs --data).\n"
        "The data is the run's test split exactly as training made it, or --data PATH: any data path train reads\n"
        "(its own test split where it has one, else every sample), normalised as the checkpoint records.\n"
        "Classification: accuracy, top-5, loss, per-class precision/recall/F1/support and the confusion matrix\n"
        "(rows: true class, columns: predicted). Regression: MAE, RMSE, R², loss and the residuals. Multilabel\n"
        "(a label predicted where its probability is above 0.5): subset accuracy, hamming loss, loss, per-label\n"
        "precision/recall/F1/support with micro, macro, weighted and samples averages, and per label the 2×2\n"
        "confusion matrix [[tn, fp], [fn, tp]]."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("eval"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("A run directory, a checkpoint in one, or a model file."));
    p.addOptions({
        {QStringLiteral("data"), QStringLiteral("Evaluate on this data path instead of the run's test split."), QStringLiteral("PATH")},
        {QStringLiteral("json"), QStringLiteral("Print the figures as JSON.")},
        {QStringLiteral("csv"),
         QStringLiteral("Write every sample's prediction to FILE: index,true,predicted,confidence,loss,true_name,predicted_name "
                        "(regression: index,true_T,predicted_T,residual_T…,loss; multilabel: index,true,predicted,loss,true_names,"
                        "predicted_names,probability_L…, the label sets joined by ;)."),
         QStringLiteral("FILE")},
        {QStringLiteral("batch-size"), QStringLiteral("Samples per forward pass (default: the run's data.eval_batch_size)."),
         QStringLiteral("N")},
    });
    p.addOptions(keyOptions(false));
    if (const auto done = parseSubcommand(p, arguments, "eval", 1, "give exactly one run directory, checkpoint or model file."))
        return *done;
    try {
        EvaluationRequest request;
        request.source = p.positionalArguments().at(1).toStdString();
        request.dataPath = p.value(QStringLiteral("data")).toStdString();
        request.key = keyFromOptions(p);
        if (p.isSet(QStringLiteral("batch-size"))) {
            bool ok = false;
            request.batchSize = p.value(QStringLiteral("batch-size")).toLongLong(&ok);
            check(ok && request.batchSize > 0, "--batch-size: \"" + p.value(QStringLiteral("batch-size")).toStdString() + "\" is not a positive number.");
        }
        const Evaluation ev = evaluateModel(request);
        if (p.isSet(QStringLiteral("csv")))
            writeFileAtomically(p.value(QStringLiteral("csv")).toStdString(), toCsv(ev.report));
        if (p.isSet(QStringLiteral("json"))) {
            std::fputs(QJsonDocument(toJson(ev)).toJson(QJsonDocument::Indented).constData(), stdout);
            return 0;
        }
        const EvaluationReport &r = ev.report;
        if (ev.checkpoint.empty())
            std::printf("Evaluated %s (%s)\n", ev.source.c_str(), ev.model.c_str());
        else
            std::printf("Evaluated %s (global step %lld, model %s)\n", ev.checkpoint.c_str(), static_cast<long long>(ev.globalStep),
                        ev.model.c_str());
        std::printf("on %s: %lld samples, %s\n\n", ev.data.c_str(), static_cast<long long>(r.samples), r.task.c_str());
        if (r.task == "classification")
            printClassification(r);
        else if (r.task == "multilabel")
            printMultilabel(r);
        else
            printRegression(r);
        if (p.isSet(QStringLiteral("csv")))
            std::printf("\nPredictions: %s\n", qPrintable(p.value(QStringLiteral("csv"))));
        return 0;
    } catch (const Error &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "netwright eval: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "cli/sweep_spec.h"

#include "config/run_config.h"
#include "core/atomic_file.h"
#include "core/error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

namespace netwright::cli {

namespace {

constexpr qint64 kMaxSpecBytes = 16 << 20;

std::string s(const QString &q)
{
    return q.toStdString();
}

[[noreturn]] void refuse(const QString &spec, const QString &what)
{
    throw Error("Sweep spec \"" + s(spec) + "\": " + s(what));
}

QJsonObject readJsonObject(const QString &path, const QString &what)
{
    QFile f(path);
    check(QFileInfo(path).isFile(), "\"" + s(path) + "\" is not a " + s(what) + " file.");
    check(f.size() <= kMaxSpecBytes, "\"" + s(path) + "\" is too large for a " + s(what) + ".");
    check(f.open(QIODevice::ReadOnly), "Cannot read \"" + s(path) + "\": " + s(f.errorString()));
    QJsonParseError e;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &e);
    check(e.error == QJsonParseError::NoError,
          "\"" + s(path) + "\" is not JSON: " + s(e.errorString()) + " at offset " + std::to_string(e.offset) + ".");
    check(doc.isObject(), "\"" + s(path) + "\" is not a JSON object.");
    return doc.object();
}

QJsonObject parseObject(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

// The run config schema: every key with its default, as a run directory records it.
const QJsonObject &schema()
{
    static const QJsonObject o = parseObject(QByteArray::fromStdString(runConfigToJson(defaultRunConfig())));
    return o;
}

// Refuses a key path the run config does not have, saying what the section holds.
void checkKeyPath(const QString &spec, const QString &where, const QString &path)
{
    const QStringList parts = path.split(QLatin1Char('.'));
    QJsonObject section = schema();
    QString walked;
    for (int i = 0; i < parts.size(); ++i) {
        if (!section.contains(parts[i]))
            refuse(spec, QStringLiteral("%1 key \"%2\" is not a run config key (%3 holds %4).")
                             .arg(where, path, walked.isEmpty() ? QStringLiteral("the config") : walked, section.keys().join(QStringLiteral(", "))));
        const QJsonValue v = section.value(parts[i]);
        walked += (walked.isEmpty() ? QString() : QStringLiteral(".")) + parts[i];
        if (i + 1 < parts.size()) {
            if (!v.isObject())
                refuse(spec, QStringLiteral("%1 key \"%2\": \"%3\" is a value, not a section.").arg(where, path, walked));
            section = v.toObject();
        } else if (v.isObject()) {
            refuse(spec, QStringLiteral("%1 key \"%2\" is a section (%3), not a key.").arg(where, path, v.toObject().keys().join(QStringLiteral(", "))));
        }
    }
}

void setPath(QJsonObject &o, const QStringList &parts, int i, const QJsonValue &value)
{
    if (i + 1 == parts.size()) {
        o[parts[i]] = value;
        return;
    }
    QJsonObject child = o.value(parts[i]).toObject();
    setPath(child, parts, i + 1, value);
    o[parts[i]] = child;
}

void setPath(QJsonObject &o, const QString &path, const QJsonValue &value)
{
    setPath(o, path.split(QLatin1Char('.')), 0, value);
}

// Parses `config` as a run config and checks its ranges; the error names the spec and `where`.
RunConfig parseChecked(const QJsonObject &config, const QString &spec, const QString &where)
{
    const std::string prefix = "Run config \"sweep\": ";
    try {
        RunConfig c = parseRunConfig(QJsonDocument(config).toJson(QJsonDocument::Compact).toStdString(), "sweep", defaultRunConfig());
        validateRunConfig(c);
        return c;
    } catch (const Error &e) {
        std::string what = e.what();
        if (what.rfind(prefix, 0) == 0)
            what = what.substr(prefix.size());
        refuse(spec, where + QStringLiteral(": ") + QString::fromStdString(what));
    }
}

// The base run config, whole: from its file (paths in it relative to that file) or inline
// (relative to the spec), named as `train --config` names it.
QJsonObject resolveBase(const QString &spec, const QJsonValue &base, int &threads)
{
    const QDir specDir = QFileInfo(spec).absoluteDir();
    RunConfig c;
    if (base.isString()) {
        const QString file = specDir.absoluteFilePath(base.toString());
        if (!QFileInfo(file).isFile())
            refuse(spec, QStringLiteral("\"base\" names \"%1\", which is not a run config file.").arg(file));
        c = loadRunConfigFile(s(file), defaultRunConfig());
    } else if (base.isObject()) {
        c = parseRunConfig(QJsonDocument(base.toObject()).toJson(QJsonDocument::Compact).toStdString(), s(spec) + " (base)", defaultRunConfig());
        const auto absolute = [&](std::string &p) {
            if (!p.empty() && p.front() != '/')
                p = s(QDir::cleanPath(specDir.absoluteFilePath(QString::fromStdString(p))));
        };
        absolute(c.data.path);
        absolute(c.data.testPath);
        absolute(c.data.targets);
        absolute(c.modelFile);
        if (!c.modelFile.empty() && !base.toObject().value(QStringLiteral("model")).toObject().contains(QStringLiteral("name")))
            c.model = modelNameOfFile(c.modelFile);
    } else {
        refuse(spec, QStringLiteral("\"base\" must be a run config (an object) or the path of one."));
    }
    if (c.name == defaultRunConfig().name && c.model != defaultRunConfig().model)
        c.name = c.model; // as `train --config` names a config that names no run
    threads = c.training.threads;
    return parseObject(QByteArray::fromStdString(runConfigToJson(c)));
}

QString valueText(const QJsonValue &v)
{
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d == std::floor(d) && std::fabs(d) < 1e15)
            return QString::number(static_cast<qint64>(d));
        return QString::number(d, 'g', 6);
    }
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isString())
        return v.toString();
    if (v.isArray()) {
        QStringList parts;
        for (const auto &x : v.toArray())
            parts << valueText(x);
        return parts.join(QLatin1Char('x'));
    }
    return QStringLiteral("null");
}

// A directory name anyone can type: letters, digits and . _ = , + - ; the rest become _.
QString sanitised(const QString &name)
{
    QString out;
    for (const QChar c : name)
        out += (c.isLetterOrNumber() && c.unicode() < 128) || QStringLiteral("._=,+-").contains(c) ? c : QLatin1Char('_');
    if (out.startsWith(QLatin1Char('.')))
        out[0] = QLatin1Char('_');
    return out.left(180);
}

// Random draws that are the same on every platform: mt19937_64 is specified bit for bit, and the
// conversions to ranges are ours (the standard distributions are not).
class Draw {
public:
    explicit Draw(quint64 seed) : m_rng(seed) {}
    double unit() { return static_cast<double>(m_rng() >> 11) * 0x1.0p-53; }
    quint64 below(quint64 n) { return m_rng() % n; }

private:
    std::mt19937_64 m_rng;
};

// Four significant digits: a learning rate of 0.003162 reads better than 0.0031622776601683794.
double rounded(double v)
{
    return QString::number(v, 'g', 4).toDouble();
}

struct RandomParam {
    QString key, kind; // log_uniform, uniform, int_uniform, choice
    QJsonArray args;
};

} // namespace

QString SweepPlan::configPath(const SweepTrial &t) const
{
    return QDir(folder).filePath(QStringLiteral("configs/") + t.name + QStringLiteral(".json"));
}

QString SweepPlan::runDir(const SweepTrial &t) const
{
    return QDir(folder).filePath(t.name);
}

bool isSweepSpec(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly) || f.size() > kMaxSpecBytes)
        return false;
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    return o.contains(QStringLiteral("grid")) || o.contains(QStringLiteral("random"));
}

SweepPlan planSweep(const QString &specFile, const QString &folder, int threadsPerTrial)
{
    SweepPlan plan;
    plan.specFile = specFile;
    plan.folder = QDir::cleanPath(folder);
    const QString &spec = specFile;
    const QJsonObject o = readJsonObject(specFile, QStringLiteral("sweep spec"));
    for (const QString &k : o.keys())
        if (!QStringList{"base", "grid", "random", "seeds"}.contains(k))
            refuse(spec, QStringLiteral("unknown key \"%1\" (a sweep spec holds base, grid, random and seeds).").arg(k));
    if (!o.contains(QStringLiteral("base")))
        refuse(spec, QStringLiteral("no \"base\": give the run config every trial starts from (inline, or a file)."));
    if (!o.contains(QStringLiteral("grid")) && !o.contains(QStringLiteral("random")))
        refuse(spec, QStringLiteral("nothing to sweep: give a \"grid\", \"random\" trials, or both."));
    QJsonObject base = resolveBase(spec, o.value(QStringLiteral("base")), plan.baseThreads);

    // The grid: key → values; every value is checked on the base, alone, so the error names its key.
    std::vector<std::pair<QString, QJsonArray>> grid;
    if (o.contains(QStringLiteral("grid"))) {
        if (!o.value(QStringLiteral("grid")).isObject() || o.value(QStringLiteral("grid")).toObject().isEmpty())
            refuse(spec, QStringLiteral("\"grid\" must be an object of config keys to value lists, e.g. {\"optimizer.lr\": [0.1, 0.01]}."));
        const QJsonObject g = o.value(QStringLiteral("grid")).toObject();
        for (auto it = g.begin(); it != g.end(); ++it) {
            checkKeyPath(spec, QStringLiteral("grid"), it.key());
            if (!it.value().isArray() || it.value().toArray().isEmpty())
                refuse(spec, QStringLiteral("grid key \"%1\": give a non-empty list of values.").arg(it.key()));
            for (const auto &v : it.value().toArray()) {
                QJsonObject c = base;
                setPath(c, it.key(), v);
                parseChecked(c, spec, QStringLiteral("grid key \"%1\" = %2").arg(it.key(), QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1)));
            }
            grid.emplace_back(it.key(), it.value().toArray());
        }
    }

    // Random trials: each parameter drawn in key order from one seeded generator.
    int trialsN = 0;
    quint64 seed = 1;
    std::vector<RandomParam> params;
    if (o.contains(QStringLiteral("random"))) {
        const QJsonObject r = o.value(QStringLiteral("random")).toObject();
        for (const QString &k : r.keys())
            if (!QStringList{"trials", "seed", "params"}.contains(k))
                refuse(spec, QStringLiteral("unknown key \"random.%1\" (random holds trials, seed and params).").arg(k));
        const QJsonValue n = r.value(QStringLiteral("trials"));
        if (!n.isDouble() || n.toDouble() != std::floor(n.toDouble()) || n.toDouble() < 1 || n.toDouble() > 10000)
            refuse(spec, QStringLiteral("\"random.trials\" must be a whole number in 1…10000."));
        trialsN = n.toInt();
        if (r.contains(QStringLiteral("seed"))) {
            const double sd = r.value(QStringLiteral("seed")).toDouble(-1);
            if (sd < 0 || sd != std::floor(sd) || sd > 9007199254740992.0)
                refuse(spec, QStringLiteral("\"random.seed\" must be a whole number ≥ 0."));
            seed = static_cast<quint64>(sd);
        }
        const QJsonObject ps = r.value(QStringLiteral("params")).toObject();
        if (ps.isEmpty())
            refuse(spec, QStringLiteral("\"random.params\" must map config keys to ranges, e.g. {\"optimizer.lr\": {\"log_uniform\": [1e-4, 1e-1]}}."));
        for (auto it = ps.begin(); it != ps.end(); ++it) {
            checkKeyPath(spec, QStringLiteral("random"), it.key());
            for (const auto &[k, _] : grid)
                if (k == it.key())
                    refuse(spec, QStringLiteral("key \"%1\" is both in the grid and random.").arg(k));
            const QJsonObject d = it.value().toObject();
            if (d.size() != 1 || !QStringList{"log_uniform", "uniform", "int_uniform", "choice"}.contains(d.keys().first()))
                refuse(spec, QStringLiteral("random key \"%1\": give one of {\"log_uniform\": [lo, hi]}, {\"uniform\": [lo, hi]}, "
                                            "{\"int_uniform\": [lo, hi]} or {\"choice\": [values…]}.")
                                 .arg(it.key()));
            RandomParam p{it.key(), d.keys().first(), d.begin().value().toArray()};
            QJsonArray samples = p.args; // the values that can come out: the choices, or the range's ends
            if (p.kind == QLatin1String("choice")) {
                if (p.args.isEmpty())
                    refuse(spec, QStringLiteral("random key \"%1\": \"choice\" needs a non-empty list.").arg(it.key()));
            } else {
                const double lo = p.args.at(0).toDouble(NAN), hi = p.args.at(1).toDouble(NAN);
                if (p.args.size() != 2 || !(lo <= hi) || (p.kind == QLatin1String("log_uniform") && !(lo > 0))
                    || (p.kind == QLatin1String("int_uniform") && (lo != std::floor(lo) || hi != std::floor(hi))))
                    refuse(spec, QStringLiteral("random key \"%1\": \"%2\" needs [lo, hi] with lo ≤ hi%3.")
                                     .arg(it.key(), p.kind,
                                          p.kind == QLatin1String("log_uniform")   ? QStringLiteral(" and lo > 0")
                                          : p.kind == QLatin1String("int_uniform") ? QStringLiteral(", both whole numbers")
                                                                                   : QString()));
            }
            for (const auto &v : samples) {
                QJsonObject c = base;
                setPath(c, it.key(), v);
                parseChecked(c, spec, QStringLiteral("random key \"%1\"").arg(it.key()));
            }
            params.push_back(p);
        }
    }

    QJsonArray seeds;
    if (o.contains(QStringLiteral("seeds"))) {
        seeds = o.value(QStringLiteral("seeds")).toArray();
        if (seeds.isEmpty())
            refuse(spec, QStringLiteral("\"seeds\" must be a non-empty list of whole numbers."));
        for (const auto &v : seeds)
            if (!v.isDouble() || v.toDouble() < 0 || v.toDouble() != std::floor(v.toDouble()) || v.toDouble() > 4294967295.0)
                refuse(spec, QStringLiteral("\"seeds\": %1 is not a whole number in 0…4294967295.").arg(valueText(v)));
        for (const auto &[k, _] : grid)
            if (k == QLatin1String("training.seed"))
                refuse(spec, QStringLiteral("\"training.seed\" is in the grid and \"seeds\" is given: give one."));
        for (const auto &p : params)
            if (p.key == QLatin1String("training.seed"))
                refuse(spec, QStringLiteral("\"training.seed\" is random and \"seeds\" is given: give one."));
    }

    // The points: grid product × random draws × seeds.
    std::vector<std::vector<std::pair<QString, QJsonValue>>> points{{}};
    for (const auto &[key, values] : grid) {
        std::vector<std::vector<std::pair<QString, QJsonValue>>> next;
        for (const auto &p : points)
            for (const auto &v : values) {
                next.push_back(p);
                next.back().emplace_back(key, v);
            }
        points = std::move(next);
    }
    if (!params.empty()) {
        Draw draw(seed);
        std::vector<std::vector<std::pair<QString, QJsonValue>>> drawn;
        for (int t = 0; t < trialsN; ++t) {
            std::vector<std::pair<QString, QJsonValue>> values;
            for (const auto &p : params) {
                const double lo = p.args.at(0).toDouble(), hi = p.args.at(1).toDouble();
                QJsonValue v;
                if (p.kind == QLatin1String("choice"))
                    v = p.args.at(static_cast<int>(draw.below(static_cast<quint64>(p.args.size()))));
                else if (p.kind == QLatin1String("int_uniform"))
                    v = static_cast<double>(static_cast<qint64>(lo) + static_cast<qint64>(draw.below(static_cast<quint64>(hi - lo + 1))));
                else if (p.kind == QLatin1String("uniform"))
                    v = rounded(lo + (hi - lo) * draw.unit());
                else
                    v = rounded(std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * draw.unit()));
                values.emplace_back(p.key, v);
            }
            drawn.push_back(std::move(values));
        }
        std::vector<std::vector<std::pair<QString, QJsonValue>>> next;
        for (const auto &p : points)
            for (const auto &d : drawn) {
                next.push_back(p);
                next.back().insert(next.back().end(), d.begin(), d.end());
            }
        points = std::move(next);
    }
    if (!seeds.isEmpty()) {
        std::vector<std::vector<std::pair<QString, QJsonValue>>> next;
        for (const auto &p : points)
            for (const auto &sd : seeds) {
                next.push_back(p);
                next.back().emplace_back(QStringLiteral("training.seed"), sd);
            }
        points = std::move(next);
    }
    for (const auto &[k, _] : points.front())
        plan.keys << k;

    // Readable names: the last part of each key, or the whole key where two would read the same.
    std::map<QString, int> lastParts;
    for (const QString &k : plan.keys)
        ++lastParts[k.section(QLatin1Char('.'), -1)];
    QJsonObject trialBase = base;
    if (threadsPerTrial > 0 && plan.baseThreads == 0)
        setPath(trialBase, QStringLiteral("training.threads"), threadsPerTrial);
    std::set<QString> names;
    for (size_t i = 0; i < points.size(); ++i) {
        SweepTrial t;
        t.values = points[i];
        QStringList parts;
        QJsonObject c = trialBase;
        for (const auto &[k, v] : t.values) {
            const QString last = k.section(QLatin1Char('.'), -1);
            parts << (lastParts[last] > 1 ? k : last) + QLatin1Char('=') + valueText(v);
            setPath(c, k, v);
        }
        t.name = sanitised(parts.join(QLatin1Char(',')));
        if (!names.insert(t.name).second) { // random draws that came out the same
            t.name = sanitised(parts.join(QLatin1Char(',')) + QStringLiteral(",trial=%1").arg(i + 1));
            names.insert(t.name);
        }
        const RunConfig config = parseChecked(c, spec, QStringLiteral("trial %1").arg(t.name));
        t.config = QByteArray::fromStdString(runConfigToJson(config));
        plan.trials.push_back(std::move(t));
    }

    plan.record = o;
    plan.record[QStringLiteral("base")] = base;
    const QString recorded = QDir(plan.folder).filePath(QStringLiteral("sweep.json"));
    if (QFileInfo::exists(recorded) && readJsonObject(recorded, QStringLiteral("sweep record")) != plan.record)
        throw Error("\"" + s(plan.folder) + "\" holds another sweep (its sweep.json differs from \"" + s(spec) +
                    "\"): give another --out, or delete it to start over.");
    if (QFileInfo(plan.folder).exists() && !QFileInfo(plan.folder).isDir())
        throw Error("\"" + s(plan.folder) + "\" is a file, not a sweep folder.");
    return plan;
}

void writeSweepFolder(const SweepPlan &plan)
{
    check(QDir().mkpath(plan.folder + QStringLiteral("/configs")), "Cannot create \"" + s(plan.folder) + "/configs\".");
    writeFileAtomically(s(QDir(plan.folder).filePath(QStringLiteral("sweep.json"))),
                        QJsonDocument(plan.record).toJson(QJsonDocument::Indented).toStdString());
    for (const auto &t : plan.trials)
        writeFileAtomically(s(plan.configPath(t)), t.config.toStdString());
}

} // namespace netwright::cli

// SPDX-License-Identifier: Apache-2.0
#include "run/tensorboard_log.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_io.h"
#include "run/run_directory.h"
#include "run/tfrecord.h"

#include "tensorboard_event.pb.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>

#include <unistd.h>

namespace netwright {

namespace fs = std::filesystem;
namespace tb = netwright::tensorboard;
using Type = MetricsRecord::Type;

namespace {

constexpr const char *kFileVersion = "brain.Event:2";
constexpr const char *kConfigTag = "config";
constexpr auto kFlushInterval = std::chrono::seconds(10);

double wallTime()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostName()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
        return "localhost";
    std::string host = name;
    std::replace(host.begin(), host.end(), '/', '_');
    return host;
}

// The <secs> field of an events file name (0 when it has none).
long long fileSeconds(const std::string &name)
{
    const std::string rest = name.substr(std::strlen(TensorBoardLog::kFilePrefix));
    long long secs = 0;
    for (char c : rest) {
        if (c < '0' || c > '9')
            break;
        secs = secs * 10 + (c - '0');
    }
    return secs;
}

tb::Event scalarEvent(const MetricsRecord &record, double time)
{
    tb::Event e;
    e.set_wall_time(time);
    e.set_step(record.globalStep);
    for (const auto &[tag, value] : TensorBoardLog::scalarsOf(record)) {
        auto *v = e.mutable_summary()->add_value();
        v->set_tag(tag);
        v->set_simple_value(static_cast<float>(value));
    }
    return e;
}

// TensorBoard's text plugin: a scalar string tensor, shown as Markdown (indented: a code block).
tb::Event configEvent(const std::string &json, double time)
{
    std::string markdown;
    size_t start = 0;
    while (start < json.size()) {
        size_t end = json.find('\n', start);
        if (end == std::string::npos)
            end = json.size();
        markdown += "    " + json.substr(start, end - start) + "\n";
        start = end + 1;
    }
    tb::Event e;
    e.set_wall_time(time);
    e.set_step(0);
    auto *v = e.mutable_summary()->add_value();
    v->set_tag(kConfigTag);
    v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
    v->mutable_metadata()->set_data_class(tb::DATA_CLASS_TENSOR);
    auto *t = v->mutable_tensor();
    t->set_dtype(tb::DT_STRING);
    t->mutable_tensor_shape(); // no dims: a scalar
    t->add_string_val(markdown);
    return e;
}

std::string serialized(const tb::Event &e)
{
    std::string bytes;
    e.SerializeToString(&bytes);
    return bytes;
}

// Calls fn(event) for every event of the run's events files, in reading order; a file that cannot
// be read is skipped, and a file's events end at its first record that does not check out.
template <typename Fn>
void forEachEvent(const std::string &runDir, Fn fn)
{
    for (const auto &path : TensorBoardLog::eventFiles(runDir)) {
        std::string bytes;
        try {
            bytes = readRegularFile(path, "TensorBoard events file");
        } catch (const Error &) {
            continue;
        }
        for (const auto &record : tfrecord::parse(bytes).records) {
            tb::Event e;
            if (!e.ParseFromString(record))
                break;
            fn(e);
        }
    }
}

// What the events files of a run already hold: each tag's last step, and the config.
struct Written {
    std::map<std::string, int64_t> lastStep;
    bool config = false;
};

Written writtenIn(const std::string &runDir)
{
    Written w; // an unreadable file's points are written again
    forEachEvent(runDir, [&w](const tb::Event &e) {
        for (const auto &v : e.summary().value()) {
            if (v.tag() == kConfigTag)
                w.config = true;
            auto [it, added] = w.lastStep.emplace(v.tag(), e.step());
            if (!added)
                it->second = std::max(it->second, e.step());
        }
    });
    return w;
}

} // namespace

std::vector<std::pair<std::string, double>> TensorBoardLog::scalarsOf(const MetricsRecord &r)
{
    std::vector<std::pair<std::string, double>> out;
    switch (r.type) {
    case Type::Step:
        out.emplace_back("train/loss", r.loss);
        if (r.hasAccuracy)
            out.emplace_back("train/accuracy", r.accuracy);
        for (const auto &m : r.metrics)
            out.emplace_back("train/" + m.name, m.value);
        out.emplace_back("train/lr", r.lr);
        break;
    case Type::Epoch:
        out.emplace_back("train/epoch_loss", r.trainLoss);
        if (r.hasAccuracy)
            out.emplace_back("train/epoch_accuracy", r.trainAccuracy);
        break;
    case Type::Eval:
        out.emplace_back("eval/loss", r.loss);
        if (r.hasAccuracy)
            out.emplace_back("eval/accuracy", r.accuracy);
        for (const auto &m : r.metrics)
            out.emplace_back("eval/" + m.name, m.value);
        break;
    case Type::End:
        break;
    }
    return out;
}

std::map<int64_t, double> TensorBoardLog::stepWallTimes(const std::string &runDir)
{
    std::map<int64_t, double> out;
    forEachEvent(runDir, [&out](const tb::Event &e) {
        for (const auto &v : e.summary().value())
            if (v.tag() == "train/loss")
                out[e.step()] = e.wall_time(); // a later file's point (a resume's) wins
    });
    return out;
}

bool TensorBoardLog::isEpochTag(const std::string &tag)
{
    return tag.rfind("eval/", 0) == 0 || tag.rfind("train/epoch_", 0) == 0;
}

bool TensorBoardLog::isEventFileName(const std::string &name)
{
    return name.rfind(kFilePrefix, 0) == 0 && name.size() > std::strlen(kFilePrefix);
}

std::vector<std::string> TensorBoardLog::eventFiles(const std::string &runDir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(runDir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code e;
        if (isEventFileName(name) && fs::is_regular_file(it->symlink_status(e)))
            out.push_back(it->path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void TensorBoardLog::truncateAfter(const std::string &runDir, int64_t globalStep, bool afterEpochEnd)
{
    for (const auto &path : eventFiles(runDir)) {
        const std::string bytes = readRegularFile(path, "TensorBoard events file");
        const tfrecord::Records records = tfrecord::parse(bytes);
        std::string kept;
        bool changed = !records.problem.empty();
        size_t events = 0;
        for (const auto &record : records.records) {
            tb::Event e;
            if (!e.ParseFromString(record)) {
                changed = true; // not an Event: it and what follows go, as a cut record does
                break;
            }
            if (e.has_summary()) {
                const int64_t step = e.step();
                auto *values = e.mutable_summary()->mutable_value();
                const auto before = values->size();
                values->erase(std::remove_if(values->begin(), values->end(),
                                             [&](const tb::Summary::Value &v) {
                                                 return step > globalStep || (step == globalStep && !afterEpochEnd && isEpochTag(v.tag()));
                                             }),
                              values->end());
                if (values->size() != before) {
                    changed = true;
                    if (values->empty())
                        continue;
                    kept += tfrecord::frame(serialized(e));
                    ++events;
                    continue;
                }
            }
            kept += tfrecord::frame(record);
            ++events;
        }
        if (!changed)
            continue;
        if (events == 0) {
            std::error_code ec;
            fs::remove(path, ec);
            if (ec)
                throw Error("Cannot remove the emptied TensorBoard events file \"" + path + "\": " + ec.message() + ".");
        } else {
            writeFileAtomically(path, kept);
        }
    }
}

TensorBoardLog::TensorBoardLog(std::string runDir, const RunConfig &config, int64_t resumedAt)
    : m_dir(std::move(runDir)), m_configJson(runConfigToJson(config)), m_resumedAt(resumedAt)
{
    // What the older files hold (a resume, or a run started before it had event files): what they
    // lack is written again, from metrics.jsonl as the resume cut it back (read now, before this
    // session appends to it).
    const Written written = writtenIn(m_dir);
    m_configWritten = written.config;
    for (const auto &record : readMetricsLog(RunDirectory(m_dir).metricsPath()).records) {
        tb::Event e = scalarEvent(record, 0);
        auto *values = e.mutable_summary()->mutable_value();
        values->erase(std::remove_if(values->begin(), values->end(),
                                     [&](const tb::Summary::Value &v) {
                                         const auto it = written.lastStep.find(v.tag());
                                         return it != written.lastStep.end() && record.globalStep <= it->second;
                                     }),
                      values->end());
        if (!values->empty())
            m_replay.push_back(serialized(e));
    }
}

TensorBoardLog::~TensorBoardLog()
{
    if (m_file)
        std::fclose(m_file);
}

void TensorBoardLog::open()
{
    const double now = wallTime();
    // A name that sorts after every events file there (TensorBoard reads them in name order), even
    // when a resume starts within the second its previous file was named in.
    long long secs = static_cast<long long>(std::time(nullptr));
    const auto existing = eventFiles(m_dir);
    static std::atomic<int> counter{0};
    auto name = [&] {
        char digits[32];
        std::snprintf(digits, sizeof digits, "%010lld", secs);
        return std::string(kFilePrefix) + digits + "." + hostName() + "." + std::to_string(::getpid()) + "." + std::to_string(counter.load());
    };
    if (!existing.empty() && fs::path(existing.back()).filename().string() >= name())
        secs = fileSeconds(fs::path(existing.back()).filename().string()) + 1;
    ++counter;
    m_path = m_dir + "/" + name();
    m_file = std::fopen(m_path.c_str(), "wb");
    if (!m_file)
        throw Error("Cannot create the TensorBoard events file \"" + m_path + "\": " + std::strerror(errno) + ".");
    m_lastFlush = std::chrono::steady_clock::now();

    tb::Event version;
    version.set_wall_time(now);
    version.set_file_version(kFileVersion);
    version.mutable_source_metadata()->set_writer("netwright");
    append(serialized(version));
    if (m_resumedAt >= 0) {
        // TensorBoard drops the points at steps ≥ this that it read before (a killed run's).
        tb::Event start;
        start.set_wall_time(now);
        start.set_step(m_resumedAt + 1);
        start.mutable_session_log()->set_status(tb::SessionLog::START);
        append(serialized(start));
    }
    if (!m_configWritten)
        append(serialized(configEvent(m_configJson, now)));
    // The points older files lack, stamped with this time (their own was never written).
    for (auto &bytes : m_replay) {
        tb::Event e;
        e.ParseFromString(bytes);
        e.set_wall_time(now);
        append(serialized(e));
    }
    m_replay.clear();
}

void TensorBoardLog::append(const std::string &serializedEvent)
{
    const std::string bytes = tfrecord::frame(serializedEvent);
    if (std::fwrite(bytes.data(), 1, bytes.size(), m_file) != bytes.size())
        throw Error("Cannot write the TensorBoard events file \"" + m_path + "\": " + std::strerror(errno) + ".");
}

void TensorBoardLog::flush()
{
    if (std::fflush(m_file) != 0)
        throw Error("Cannot write the TensorBoard events file \"" + m_path + "\": " + std::strerror(errno) + ".");
    m_lastFlush = std::chrono::steady_clock::now();
}

void TensorBoardLog::write(const MetricsRecord &record)
{
    if (!m_file)
        open();
    if (record.type != Type::End)
        append(serialized(scalarEvent(record, wallTime())));
    if (record.type != Type::Step || std::chrono::steady_clock::now() - m_lastFlush >= kFlushInterval)
        flush();
}

} // namespace netwright

// SPDX-License-Identifier: Apache-2.0
// Netwright's side of tests/bench/train_vs_pytorch.py: trains a zoo model through the real Trainer
// (prefetching data source, SGD with momentum) on Fashion-MNIST in file order for a fixed number
// of steps and prints one JSON line: images/s over the timed steps, peak RSS, the last loss.
// --dump-weights DIR writes the initial weights (raw float32 + manifest) so PyTorch starts equal.
// --model-file FILE trains a model file (an ONNX export from PyTorch) instead of a zoo model, from
// the file's weights; --optimizer adam trains with Adam (β 0.9/0.999, ε 1e-8) instead of SGD.
// --precision bf16 trains with bf16 matrix multiplies and convolutions (fp32 accumulation).
// Under mpirun (tests/bench/mpi_scaling.sh) it trains data-parallel: --batch-size is the global
// batch, rank 0 prints, and images/s counts the global batches.
#ifdef NETWRIGHT_HAVE_CUDA
#include "cuda/cuda_device.h"
#endif
#include "config/run_config.h"
#include "core/cpu_level.h"
#include "core/error.h"
#include "core/parallel.h"
#include "data/minibatch_source.h"
#include "dist/communicator.h"
#include "train/trainer.h"
#include "train/training_setup.h"
#include "zoo/model_zoo.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/resource.h>

using namespace netwright;

namespace {

class StepClock final : public TrainingObserver {
public:
    StepClock(int warmup, int steps, std::stop_source &stop) : m_warmup(warmup), m_steps(steps), m_stop(stop) {}
    void onStep(const StepInfo &s) override
    {
        if (s.globalStep == m_warmup)
            m_start = std::chrono::steady_clock::now();
        if (s.globalStep > m_warmup)
            m_images += s.batchSize;
        m_lastLoss = s.loss;
        if (s.globalStep == m_warmup + m_steps) {
            m_end = std::chrono::steady_clock::now();
            m_stop.request_stop();
        }
    }
    double imagesPerSecond() const { return m_images / std::chrono::duration<double>(m_end - m_start).count(); }
    float lastLoss() const { return m_lastLoss; }

private:
    int m_warmup, m_steps;
    std::stop_source &m_stop;
    std::chrono::steady_clock::time_point m_start, m_end;
    double m_images = 0;
    float m_lastLoss = 0;
};

void dumpWeights(const Graph &g, const std::string &dir)
{
    std::ofstream manifest(dir + "/manifest.json");
    manifest << "[";
    bool first = true;
    for (const auto &name : g.trainable) {
        const Tensor &t = g.initializers.at(name);
        std::ofstream(dir + "/" + name + ".bin", std::ios::binary).write(static_cast<const char *>(t.raw()), t.byteSize());
        manifest << (first ? "" : ",") << "{\"name\":\"" << name << "\",\"shape\":[";
        for (int i = 0; i < t.rank(); ++i)
            manifest << (i ? "," : "") << t.dim(i);
        manifest << "]}";
        first = false;
    }
    manifest << "]\n";
}

} // namespace

int main(int argc, char **argv)
{
    std::string model = "mlp", modelFile, optimizer = "sgd", dumpDir, device = "cpu", precision = "fp32";
    int steps = 200, warmup = 20, batch = 64, threads = 2;
    double lr = 0.01;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--model") model = v;
        else if (k == "--steps") steps = std::stoi(v);
        else if (k == "--warmup") warmup = std::stoi(v);
        else if (k == "--batch-size") batch = std::stoi(v);
        else if (k == "--threads") threads = std::stoi(v);
        else if (k == "--lr") lr = std::stod(v);
        else if (k == "--dump-weights") dumpDir = v;
        else if (k == "--model-file") modelFile = v;
        else if (k == "--optimizer") optimizer = v;
        else if (k == "--device") device = v;
        else if (k == "--precision") precision = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    std::unique_ptr<Communicator> comm;
    try {
        if (launchedByMpiLauncher() && launcherWorldSize() > 1)
            comm = joinMpiWorld();
        setThreadCount(threads);
        const std::string fm = defaultFashionMnistDir();
        auto train = std::make_shared<Dataset>(loadIdxDataset(fm + "/train-images-idx3-ubyte.gz", fm + "/train-labels-idx1-ubyte.gz"));
        auto test = std::make_shared<Dataset>(loadIdxDataset(fm + "/t10k-images-idx3-ubyte.gz", fm + "/t10k-labels-idx1-ubyte.gz"));
        const RunConfig defaults = defaultRunConfig();
        const Normalization norm{defaults.data.scale, defaults.data.mean, defaults.data.std};
        ModelSpec spec;
        spec.name = model;
        Graph g = modelFile.empty() ? buildZooModel(spec, InitScheme::KaimingUniform, 1)
                                    : loadTrainableModelFile(modelFile, train->sampleShape(), 10);
        if (!dumpDir.empty())
            dumpWeights(g, dumpDir);
        OptimizerSettings opt;
        opt.name = optimizer;
        if (optimizer == "sgd")
            opt.momentum = 0.9;
        TrainerSettings settings{1, 1, lr, {}};
#ifdef NETWRIGHT_HAVE_CUDA
        cuda::registerBackend();
#endif
        settings.device = parseDevice(device);
        check(precision == "fp32" || precision == "bf16", "--precision must be fp32 or bf16.");
        check(precision == "fp32" || cpu::hasBf16(), "--precision bf16 needs a CPU with AVX512-BF16 or AMX.");
        settings.precision = precision == "bf16" ? blas::Precision::Bf16 : blas::Precision::Fp32;
        startDevice(settings.device);
        Trainer trainer(std::move(g),
                        std::make_unique<PrefetchingSource>(std::make_unique<DatasetSource>(train, batch, false, false, 1, norm)),
                        std::make_unique<DatasetSource>(test, 1000, false, false, 0, norm), makeOptimizer(opt), settings);
        trainer.setCommunicator(comm.get());
        std::stop_source stop;
        StepClock clock(warmup, steps, stop);
        trainer.addObserver(&clock);
        trainer.run(stop.get_token());
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        if (!comm || comm->rank() == 0)
            std::printf("{\"images_per_second\": %.1f, \"peak_rss_kb\": %ld, \"last_loss\": %.6f, \"ranks\": %d}\n",
                        clock.imagesPerSecond(), ru.ru_maxrss, clock.lastLoss(), comm ? comm->size() : 1);
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright_train_bench: %s\n", e.what());
        if (comm)
            comm->abort(1);
        return 1;
    }
}

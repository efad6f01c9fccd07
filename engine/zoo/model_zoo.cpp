// SPDX-License-Identifier: Apache-2.0
#include "zoo/model_zoo.h"

#include "core/error.h"

namespace netwright {

namespace {

// Builds a graph layer by layer, naming parameters the MindSpore way; `m_x` is the running value.
class Builder {
public:
    Builder(const ModelSpec &spec, InitScheme init, uint64_t seed) : m_init(init), m_rng(seed)
    {
        m_g.name = spec.name;
        m_g.inputs.push_back({"input", {-1, spec.channels, spec.height, spec.width}, DType::Float32});
        m_shape = {spec.channels, spec.height, spec.width};
    }

    void conv(const std::string &name, int64_t out, int64_t k, int64_t pad, bool bias = true)
    {
        Tensor w({out, m_shape[0], k, k});
        initializeWeight(w, m_init, m_rng);
        m_g.addParameter(name + ".weight", w);
        std::vector<std::string> in{m_x, name + ".weight"};
        if (bias) {
            m_g.addParameter(name + ".bias", Tensor::zeros({out}));
            in.push_back(name + ".bias");
        }
        m_g.addNode("Conv", name, in, {name},
                    {{"kernel_shape", std::vector<int64_t>{k, k}}, {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                     {"strides", std::vector<int64_t>{1, 1}}});
        m_shape = {out, m_shape[1] + 2 * pad - k + 1, m_shape[2] + 2 * pad - k + 1};
        m_x = name;
    }
    void batchNorm(const std::string &name)
    {
        const int64_t c = m_shape[0];
        m_g.addParameter(name + ".gamma", Tensor::full({c}, 1.0f));
        m_g.addParameter(name + ".beta", Tensor::zeros({c}));
        m_g.addParameter(name + ".moving_mean", Tensor::zeros({c}), false);
        m_g.addParameter(name + ".moving_variance", Tensor::full({c}, 1.0f), false);
        m_g.addNode("BatchNormalization", name,
                    {m_x, name + ".gamma", name + ".beta", name + ".moving_mean", name + ".moving_variance"}, {name},
                    {{"epsilon", 1e-5f}, {"momentum", 0.9f}});
        m_x = name;
    }
    void relu(const std::string &name)
    {
        m_g.addNode("Relu", name, {m_x}, {name});
        m_x = name;
    }
    void maxPool(const std::string &name)
    {
        m_g.addNode("MaxPool", name, {m_x}, {name},
                    {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
        m_shape = {m_shape[0], m_shape[1] / 2, m_shape[2] / 2};
        m_x = name;
    }
    void flatten(const std::string &name)
    {
        m_g.addNode("Flatten", name, {m_x}, {name}, {{"axis", int64_t(1)}});
        m_shape = {m_shape[0] * m_shape[1] * m_shape[2]};
        m_x = name;
    }
    void dropout(const std::string &name, float ratio)
    {
        m_g.addNode("Dropout", name, {m_x}, {name}, {{"ratio", ratio}});
        m_x = name;
    }
    // Dense: Gemm(x, W[out,in]ᵀ) + b, as PyTorch's Linear and MindSpore's Dense store W.
    void dense(const std::string &name, int64_t out, const std::string &output = {})
    {
        Tensor w({out, m_shape[0]});
        initializeWeight(w, m_init, m_rng, output.empty()); // the output layer has no ReLU after it
        m_g.addParameter(name + ".weight", w);
        m_g.addParameter(name + ".bias", Tensor::zeros({out}));
        const std::string y = output.empty() ? name : output;
        m_g.addNode("Gemm", name, {m_x, name + ".weight", name + ".bias"}, {y}, {{"transB", int64_t(1)}});
        m_shape = {out};
        m_x = y;
    }
    Graph finish()
    {
        m_g.outputs.push_back({m_x, {-1, m_shape[0]}, DType::Float32});
        m_g.validate();
        return std::move(m_g);
    }

private:
    Graph m_g;
    InitScheme m_init;
    Rng m_rng;
    std::string m_x = "input";
    Shape m_shape;
};

} // namespace

std::vector<std::string> zooModelNames()
{
    return {"mlp", "lenet5", "cnn-small", "cnn-bn"};
}

Graph buildZooModel(const ModelSpec &spec, InitScheme init, uint64_t seed)
{
    Builder b(spec, init, seed);
    if (spec.name == "mlp") {
        b.flatten("flatten");
        b.dense("fc1", 256);
        b.relu("relu1");
        b.dense("fc2", 128);
        b.relu("relu2");
        b.dense("fc3", spec.classes, "logits");
    } else if (spec.name == "lenet5") {
        b.conv("conv1", 6, 5, 2);
        b.relu("relu1");
        b.maxPool("pool1");
        b.conv("conv2", 16, 5, 0);
        b.relu("relu2");
        b.maxPool("pool2");
        b.flatten("flatten");
        b.dense("fc1", 120);
        b.relu("relu3");
        b.dense("fc2", 84);
        b.relu("relu4");
        b.dense("fc3", spec.classes, "logits");
    } else if (spec.name == "cnn-small" || spec.name == "cnn-bn") {
        const bool bn = spec.name == "cnn-bn";
        b.conv("conv1", 32, 3, 1, !bn);
        if (bn)
            b.batchNorm("bn1");
        b.relu("relu1");
        b.maxPool("pool1");
        b.conv("conv2", 64, 3, 1, !bn);
        if (bn)
            b.batchNorm("bn2");
        b.relu("relu2");
        b.maxPool("pool2");
        b.flatten("flatten");
        b.dense("fc1", 128);
        b.relu("relu3");
        if (bn)
            b.dropout("dropout", 0.25f);
        b.dense("fc2", spec.classes, "logits");
    } else {
        std::string names;
        for (const auto &n : zooModelNames())
            names += (names.empty() ? "" : ", ") + n;
        throw Error("Unknown model \"" + spec.name + "\" (the zoo has " + names + ").");
    }
    return b.finish();
}

} // namespace netwright

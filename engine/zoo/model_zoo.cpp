// SPDX-License-Identifier: Apache-2.0
#include "zoo/model_zoo.h"

#include "core/error.h"

namespace netwright {

namespace {

// Builds a graph layer by layer, naming parameters the MindSpore way; `m_x` is the running value.
class Builder {
public:
    Builder(const ModelSpec &spec, InitScheme init, uint64_t seed) : m_init(init), m_rng(seed), m_name(spec.name)
    {
        m_g.name = spec.name;
        m_shape = spec.sample.empty() ? Shape{spec.channels, spec.height, spec.width} : spec.sample;
        Shape in = m_shape;
        in.insert(in.begin(), -1);
        m_g.inputs.push_back({"input", in, DType::Float32});
        m_imageSize = m_shape.size() == 3 ? std::to_string(m_shape[1]) + "×" + std::to_string(m_shape[2]) : std::string();
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
        checkSize(name);
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
        checkSize(name);
        m_x = name;
    }
    void flatten(const std::string &name)
    {
        m_g.addNode("Flatten", name, {m_x}, {name}, {{"axis", int64_t(1)}});
        int64_t features = 1;
        for (int64_t d : m_shape)
            features *= d;
        m_shape = {features};
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
    // A convolution or pooling left no pixels: the images are too small for this model.
    void checkSize(const std::string &layer) const
    {
        check(m_shape[1] >= 1 && m_shape[2] >= 1, "Model \"" + m_name + "\" cannot take " + m_imageSize + " images: at layer \"" + layer
                                                      + "\" nothing is left of them (use a smaller model, or --resize to a larger size).");
    }

    Graph m_g;
    InitScheme m_init;
    Rng m_rng;
    std::string m_name, m_imageSize;
    std::string m_x = "input";
    Shape m_shape;
};

} // namespace

std::vector<std::string> zooModelNames()
{
    return {"mlp", "lenet5", "cnn-small", "cnn-bn"};
}

namespace {
void requireImages(const ModelSpec &spec)
{
    check(spec.sample.empty() || spec.sample.size() == 3, "Model \"" + spec.name + "\" takes images [C,H,W], not samples of shape "
                                                              + shapeToString(spec.sample) + " (for tables and other flat data use mlp).");
}
} // namespace

Graph buildZooModel(const ModelSpec &spec, InitScheme init, uint64_t seed)
{
    Builder b(spec, init, seed);
    if (spec.name == "mlp") {
        check(!spec.hidden.empty(), "Model \"mlp\" needs at least one hidden layer (model.hidden).");
        b.flatten("flatten");
        for (size_t i = 0; i < spec.hidden.size(); ++i) {
            b.dense("fc" + std::to_string(i + 1), spec.hidden[i]);
            b.relu("relu" + std::to_string(i + 1));
        }
        b.dense("fc" + std::to_string(spec.hidden.size() + 1), spec.classes, "logits");
    } else if (spec.name == "lenet5") {
        requireImages(spec);
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
        requireImages(spec);
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

// SPDX-License-Identifier: Apache-2.0
#include "graph/graph.h"

#include "core/error.h"
#include "ops/op.h"

#include <deque>

namespace netwright {

int64_t Node::attrInt(const std::string &key, int64_t fallback) const
{
    auto it = attributes.find(key);
    if (it == attributes.end())
        return fallback;
    if (auto v = std::get_if<int64_t>(&it->second))
        return *v;
    throw Error(describe() + ": attribute \"" + key + "\" must be an integer.");
}

float Node::attrFloat(const std::string &key, float fallback) const
{
    auto it = attributes.find(key);
    if (it == attributes.end())
        return fallback;
    if (auto v = std::get_if<float>(&it->second))
        return *v;
    if (auto v = std::get_if<int64_t>(&it->second))
        return static_cast<float>(*v);
    throw Error(describe() + ": attribute \"" + key + "\" must be a float.");
}

std::string Node::attrString(const std::string &key, const std::string &fallback) const
{
    auto it = attributes.find(key);
    if (it == attributes.end())
        return fallback;
    if (auto v = std::get_if<std::string>(&it->second))
        return *v;
    throw Error(describe() + ": attribute \"" + key + "\" must be a string.");
}

std::vector<int64_t> Node::attrInts(const std::string &key, const std::vector<int64_t> &fallback) const
{
    auto it = attributes.find(key);
    if (it == attributes.end())
        return fallback;
    if (auto v = std::get_if<std::vector<int64_t>>(&it->second))
        return *v;
    throw Error(describe() + ": attribute \"" + key + "\" must be a list of integers.");
}

std::vector<float> Node::attrFloats(const std::string &key, const std::vector<float> &fallback) const
{
    auto it = attributes.find(key);
    if (it == attributes.end())
        return fallback;
    if (auto v = std::get_if<std::vector<float>>(&it->second))
        return *v;
    if (auto v = std::get_if<float>(&it->second))
        return {*v};
    throw Error(describe() + ": attribute \"" + key + "\" must be a list of floats.");
}

std::vector<std::string> Node::attrStrings(const std::string &key, const std::vector<std::string> &fallback) const
{
    auto it = attributes.find(key);
    if (it == attributes.end())
        return fallback;
    if (auto v = std::get_if<std::vector<std::string>>(&it->second))
        return *v;
    if (auto v = std::get_if<std::string>(&it->second))
        return {*v};
    throw Error(describe() + ": attribute \"" + key + "\" must be a list of strings.");
}

std::string Node::describe() const
{
    return "Node \"" + name + "\" (" + opType + ")";
}

Node &Graph::addNode(std::string opType, std::string nodeName, std::vector<std::string> in,
                     std::vector<std::string> out, std::map<std::string, Attribute> attributes)
{
    Node n;
    n.opType = std::move(opType);
    n.name = std::move(nodeName);
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    n.attributes = std::move(attributes);
    nodes.push_back(std::move(n));
    return nodes.back();
}

void Graph::addParameter(const std::string &paramName, Tensor value, bool isTrainable)
{
    initializers[paramName] = std::move(value);
    if (isTrainable)
        trainable.insert(paramName);
}

const ValueInfo *Graph::findInput(const std::string &value) const
{
    for (const auto &in : inputs)
        if (in.name == value)
            return &in;
    return nullptr;
}

void Graph::validate()
{
    std::map<std::string, size_t> producer;
    std::set<std::string> names;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node &n = nodes[i];
        check(!n.opType.empty(), "Graph \"" + name + "\": node " + std::to_string(i) + " has no op type.");
        check(names.insert(n.name).second || n.name.empty(), "Graph \"" + name + "\": two nodes are named \"" + n.name + "\".");
        for (const auto &o : n.outputs) {
            if (o.empty())
                continue;
            check(!producer.count(o) && !initializers.count(o) && !findInput(o),
                  n.describe() + ": output \"" + o + "\" is already defined elsewhere in the graph.");
            producer[o] = i;
        }
    }
    // Kahn's algorithm, stable with respect to the original order.
    std::vector<int> pending(nodes.size(), 0);
    std::map<std::string, std::vector<size_t>> consumers;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node &n = nodes[i];
        check(n.implicitInputs <= n.inputs.size(), n.describe() + ": has more outer-scope values than inputs.");
        for (size_t k = 0; k < n.inputs.size(); ++k) {
            const std::string &in = n.inputs[k];
            if (in.empty())
                continue;
            if (producer.count(in)) {
                ++pending[i];
                consumers[in].push_back(i);
            } else if (!initializers.count(in) && !findInput(in)) {
                if (k >= n.inputs.size() - n.implicitInputs)
                    throw Error(n.describe() + ": a subgraph reads \"" + in + "\", which neither the subgraph nor an enclosing graph defines.");
                throw Error(n.describe() + ": input \"" + in + "\" is not a graph input, a parameter or a node output.");
            }
        }
    }
    std::deque<size_t> ready;
    for (size_t i = 0; i < nodes.size(); ++i)
        if (pending[i] == 0)
            ready.push_back(i);
    std::vector<Node> sorted;
    sorted.reserve(nodes.size());
    while (!ready.empty()) {
        size_t i = ready.front();
        ready.pop_front();
        for (const auto &o : nodes[i].outputs)
            for (size_t c : consumers[o])
                if (--pending[c] == 0)
                    ready.push_back(c);
        sorted.push_back(nodes[i]);
    }
    check(sorted.size() == nodes.size(), "Graph \"" + name + "\" has a cycle.");
    nodes = std::move(sorted);
    for (const auto &o : outputs)
        check(producer.count(o.name) || initializers.count(o.name) || findInput(o.name),
              "Graph \"" + name + "\": output \"" + o.name + "\" is never produced.");
}

bool isRandomOp(const std::string &op)
{
    return op == "Dropout" || op == "RandomNormal" || op == "RandomUniform" || op == "RandomNormalLike"
           || op == "RandomUniformLike" || op == "Bernoulli" || op == "Multinomial";
}

std::map<std::string, Shape> Graph::inferShapes(const std::map<std::string, Shape> &inputShapes) const
{
    // Values known ahead of a run: the host initializers, and what folds from them — Shape and
    // Size of a known shape, and any small computation on constants (the shape arithmetic of a
    // dynamic-shape export), so that a Reshape reading a computed shape gets its operand here.
    constexpr int64_t kFoldLimit = 1 << 16;
    std::map<std::string, Shape> shapes = inputShapes;
    std::map<std::string, Tensor> folded;
    std::map<std::string, const Tensor *> constants;
    for (const auto &[k, v] : initializers) {
        shapes[k] = v.shape();
        if (v.device().type == DeviceType::Cpu)
            constants[k] = &v;
    }
    for (const Node &n : nodes) {
        const OpKernel &op = kernelFor(n.opType, DeviceType::Cpu, n);
        std::vector<Shape> in;
        std::vector<const Tensor *> constIn;
        bool allConstant = true;
        for (const auto &i : n.inputs) {
            if (i.empty()) {
                in.emplace_back();
                constIn.push_back(nullptr);
                continue;
            }
            auto it = shapes.find(i);
            check(it != shapes.end(), n.describe() + ": the shape of input \"" + i + "\" is unknown.");
            in.push_back(it->second);
            auto c = constants.find(i);
            constIn.push_back(c == constants.end() ? nullptr : c->second);
            allConstant = allConstant && c != constants.end();
        }
        // Control flow (If, Loop, Scan) sizes its outputs by running: with every input known, run
        // it now; otherwise its shape rule says what it can (or throws naming the node).
        std::vector<Tensor> values;
        if (op.allocatesOutputs() && allConstant && !isRandomOp(n.opType))
            values = evaluateNode(n, constIn);
        std::vector<Shape> out;
        if (!values.empty())
            for (const Tensor &v : values)
                out.push_back(v.defined() ? v.shape() : Shape{});
        else
            out = op.inferShapes(n, in, constIn);
        for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k)
            if (!n.outputs[k].empty())
                shapes[n.outputs[k]] = out[k];
        if (!values.empty()) {
            // folded above
        } else if (auto v = op.valueFromShapes(n, in)) {
            values.push_back(std::move(*v));
        } else if (allConstant && !n.outputs.empty() && !isRandomOp(n.opType)) {
            int64_t total = 0;
            for (const Shape &s : out)
                total += shapeNumel(s);
            if (total <= kFoldLimit)
                values = evaluateNode(n, constIn);
        }
        for (size_t k = 0; k < values.size() && k < n.outputs.size(); ++k)
            if (!n.outputs[k].empty() && values[k].defined()) {
                Tensor &slot = folded[n.outputs[k]];
                slot = std::move(values[k]);
                constants[n.outputs[k]] = &slot;
            }
    }
    return shapes;
}

int64_t Graph::parameterCount() const
{
    int64_t total = 0;
    for (const auto &name : trainable)
        total += initializers.at(name).numel();
    return total;
}

bool isTrainingLoss(const std::string &opType)
{
    return opType == "SoftmaxCrossEntropyLoss" || opType == "MeanSquaredErrorLoss" || opType == "L1Loss" || opType == "HuberLoss"
           || opType == "SigmoidBinaryCrossEntropyLoss";
}

} // namespace netwright

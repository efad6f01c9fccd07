// SPDX-License-Identifier: Apache-2.0
// The MindIR writer's shape arithmetic. On constants (PyTorch's Shape → Gather → Concat →
// Reshape) it is computed by OpTableWriter::fold (formats/export_values.h) and written as
// constants. Nodes reading a model's float tensors are never folded, so every weight stays a
// parameter.
//
// PyTorch computes its reshapes (and an RNN's zero initial state) from Shape of values that
// follow the batch. At a dynamic batch those values are integer vectors only partly known
// ahead of a run: the dimensions the batch does not move are constants, the others are
// unknown. They are followed entry by entry through Gather/Unsqueeze/Concat/arithmetic; a
// result that comes out fully known is folded into a constant, a Reshape target with one
// unknown entry is written with -1 there (the element count fixes it, at every batch), and a
// ConstantOfShape of such a shape is a "filled" value: an RNN's zero initial state is written
// as no initial state (the same computation). Anything else that needs such a value at run
// time is refused, naming the node, with "export with --static-batch".
#include "formats/mindspore/mindir_writer.h"

#include "ops/op.h"

#include <algorithm>
#include <set>

namespace netwright::mindspore::mindir {

const Writer::Partial *Writer::partialOf(const std::string &v) const
{
    if (v.empty())
        return nullptr;
    const auto it = m_partial.find(m_ig.source(v));
    return it == m_partial.end() ? nullptr : &it->second;
}

const Writer::Filled *Writer::filledOf(const std::string &v) const
{
    if (v.empty())
        return nullptr;
    const auto it = m_filled.find(m_ig.source(v));
    return it == m_filled.end() ? nullptr : &it->second;
}

std::optional<Writer::Partial> Writer::asPartial(const std::string &v) const
{
    if (const Partial *p = partialOf(v))
        return *p;
    const auto ints = intsOf(v);
    if (!ints)
        return std::nullopt;
    Partial p;
    p.scalar = known(v)->shape().empty();
    for (int64_t x : *ints)
        p.v.emplace_back(x);
    return p;
}

void Writer::setPartial(const std::string &out, Partial p)
{
    if (std::all_of(p.v.begin(), p.v.end(), [](const auto &x) { return x.has_value(); })) {
        std::vector<int64_t> v;
        for (const auto &x : p.v)
            v.push_back(*x);
        const Shape shape = p.scalar ? Shape{} : Shape{static_cast<int64_t>(v.size())};
        Tensor t = Tensor::fromInt64(shape, v);
        if (const auto it = m_types.find(out); it != m_types.end() && it->second == DType::Int32) {
            Tensor t32(shape, DType::Int32);
            for (size_t i = 0; i < v.size(); ++i)
                t32.dataAs<int32_t>()[i] = static_cast<int32_t>(v[i]);
            t = std::move(t32);
        }
        m_folded[out] = std::move(t);
    } else {
        m_partial[out] = std::move(p);
    }
}

std::string Writer::dynamicRoot(const std::string &v) const
{
    if (const Partial *p = partialOf(v))
        return p->root;
    if (const Filled *f = filledOf(v))
        return f->root;
    return {};
}

void Writer::refuseDynamic(const Node &n, const std::string &input)
{
    refuse(n, "its input \"" + input + "\" is computed from the free batch dimension (by \"" + dynamicRoot(input)
                  + "\") and is needed at run time; export with --static-batch");
    for (const auto &o : n.outputs)
        if (!o.empty())
            m_names[o] = "?";
}

void Writer::refuseDynamic(const std::string &what, const std::string &v, const std::string &where)
{
    for (const Node *n : m_ig.nodes)
        if (n->name == dynamicRoot(v))
            return refuse(*n, where + " is computed from the free batch dimension; export with --static-batch");
    m_problems.add(where + " (\"" + what + "\") is computed from the free batch dimension; export with --static-batch");
}

bool Writer::symbolic(const Node &n)
{
    const std::string &op = n.opType;
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    const std::string out = n.outputs.empty() ? std::string() : n.outputs[0];
    if (op == "Shape" || op == "Size") {
        const Shape &x = shapeOf(n.inputs.at(0));
        if (isStatic(x))
            return false; // a constant: folded
        Partial p;
        p.root = n.name;
        if (op == "Size") {
            p.scalar = true;
            p.v.emplace_back();
        } else {
            const auto rank = static_cast<int64_t>(x.size());
            auto clampAxis = [&](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
            const int64_t start = clampAxis(n.attrInt("start", 0)), end = clampAxis(n.attrInt("end", rank));
            for (int64_t i = start; i < end; ++i)
                p.v.push_back(x[static_cast<size_t>(i)] < 0 ? std::nullopt : std::optional<int64_t>(x[static_cast<size_t>(i)]));
        }
        setPartial(out, std::move(p));
        return true;
    }
    std::string dynamicInput;
    for (size_t i = 0; i < n.inputs.size() && dynamicInput.empty(); ++i)
        if (partialOf(n.inputs[i]) || filledOf(n.inputs[i]))
            dynamicInput = n.inputs[i];
    if (dynamicInput.empty())
        return false;
    m_scope = n.name + "-" + n.opType;
    m_debug = n.name;
    const Partial *p0 = has(0) ? partialOf(n.inputs[0]) : nullptr;
    const Filled *f0 = has(0) ? filledOf(n.inputs[0]) : nullptr;
    // Inputs other than `i` free of the batch arithmetic.
    auto plainBesides = [&](size_t i) {
        for (size_t k = 0; k < n.inputs.size(); ++k)
            if (k != i && (partialOf(n.inputs[k]) || filledOf(n.inputs[k])))
                return false;
        return true;
    };

    // Consumers that take such a value as written.
    if (op == "Reshape" && !p0 && !f0 && plainBesides(1)) {
        emit(n);
        return true;
    }
    if (op == "Expand" && !p0 && !f0 && plainBesides(1)) {
        emit(n); // written as BroadcastTo the inferred shape
        return true;
    }
    if (op == "LSTM" || op == "GRU" || op == "RNN") {
        bool zeroStates = true;
        for (size_t i = 0; i < n.inputs.size(); ++i) {
            if (!partialOf(n.inputs[i]) && !filledOf(n.inputs[i]))
                continue;
            const Filled *f = filledOf(n.inputs[i]);
            zeroStates = zeroStates && (i == 5 || (i == 6 && op == "LSTM")) && f && isZero(f->value);
        }
        if (zeroStates) {
            emit(n); // rnn() writes a zero initial state as none
            return true;
        }
    }
    if (op == "ConstantOfShape" && p0) {
        Filled f;
        f.root = p0->root;
        const auto it = n.attributes.find("value");
        const Tensor *v = it == n.attributes.end() ? nullptr : std::get_if<Tensor>(&it->second);
        f.value = v ? *v : Tensor::full({}, 0.0f);
        m_filled[out] = std::move(f);
        return true;
    }
    // A filled value reshaped, sliced or broadcast stays filled.
    static const std::set<std::string> moves{"Slice", "Gather", "Squeeze", "Unsqueeze", "Reshape", "Transpose", "Expand", "Flatten", "Tile"};
    if (f0 && moves.count(op)) {
        bool operandsKnown = true;
        for (size_t i = 1; i < n.inputs.size(); ++i)
            operandsKnown = operandsKnown && (!has(i) || known(n.inputs[i]) || ((op == "Reshape" || op == "Expand") && partialOf(n.inputs[i])));
        if (operandsKnown) {
            m_filled[out] = *f0;
            return true;
        }
    }

    // Integer arithmetic on partly known vectors.
    std::optional<Partial> r;
    if (op == "Gather" && p0 && n.attrInt("axis", 0) == 0 && intsOf(n.inputs.at(1))) {
        const auto idx = *intsOf(n.inputs[1]);
        Partial q;
        q.root = p0->root;
        q.scalar = known(n.inputs[1])->shape().empty();
        bool ok = !p0->scalar;
        for (int64_t i : idx) {
            const int64_t k = i < 0 ? i + static_cast<int64_t>(p0->v.size()) : i;
            ok = ok && k >= 0 && k < static_cast<int64_t>(p0->v.size());
            if (ok)
                q.v.push_back(p0->v[static_cast<size_t>(k)]);
        }
        if (ok && known(n.inputs[1])->shape().size() <= 1)
            r = std::move(q);
    } else if ((op == "Unsqueeze" || op == "Squeeze") && p0 && plainBesides(0)) {
        const auto axes = operand(n, 1, "axes");
        Partial q = *p0;
        if (op == "Unsqueeze" && p0->scalar && axes && axes->size() == 1 && ((*axes)[0] == 0 || (*axes)[0] == -1)) {
            q.scalar = false;
            r = std::move(q);
        } else if (op == "Squeeze" && !p0->scalar && p0->v.size() == 1 && axes && (axes->empty() || (axes->size() == 1 && ((*axes)[0] == 0 || (*axes)[0] == -1)))) {
            q.scalar = true;
            r = std::move(q);
        }
    } else if (op == "Concat" && normAxis(n.attrInt("axis", 0), 1) == 0) {
        Partial q;
        bool ok = true;
        for (size_t i = 0; i < n.inputs.size() && ok; ++i) {
            if (!has(i))
                continue;
            const auto part = asPartial(n.inputs[i]);
            ok = part && !part->scalar;
            if (ok) {
                q.v.insert(q.v.end(), part->v.begin(), part->v.end());
                if (q.root.empty())
                    q.root = part->root;
            }
        }
        if (ok)
            r = std::move(q);
    } else if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && n.inputs.size() == 2) {
        const auto a = asPartial(n.inputs[0]), b = asPartial(n.inputs[1]);
        if (a && b && (a->v.size() == b->v.size() || a->v.size() == 1 || b->v.size() == 1)) {
            Partial q;
            q.root = !a->root.empty() ? a->root : b->root;
            q.scalar = a->scalar && b->scalar;
            const size_t count = std::max(a->v.size(), b->v.size());
            for (size_t i = 0; i < count; ++i) {
                const auto &x = a->v[a->v.size() == 1 ? 0 : i], &y = b->v[b->v.size() == 1 ? 0 : i];
                if (!x || !y || (op == "Div" && *y == 0)) {
                    q.v.emplace_back();
                    continue;
                }
                q.v.emplace_back(op == "Add" ? *x + *y : op == "Sub" ? *x - *y : op == "Mul" ? *x * *y : *x / *y); // ONNX truncates, as C++ does
            }
            r = std::move(q);
        }
    } else if ((op == "Cast" || op == "CastLike") && p0 && (typeOf(out) == DType::Int64 || typeOf(out) == DType::Int32)) {
        r = *p0;
    } else if (op == "Slice" && p0 && !p0->scalar && plainBesides(0)) {
        const auto starts = operand(n, 1, "starts"), ends = operand(n, 2, "ends");
        const auto axes = operand(n, 3, "axes"), steps = operand(n, 4, "steps");
        if (starts && ends && axes && steps && starts->size() == 1 && ends->size() == 1 && (axes->empty() || normAxis((*axes)[0], 1) == 0)
            && (steps->empty() || (*steps)[0] == 1)) {
            const auto dim = static_cast<int64_t>(p0->v.size());
            int64_t b = (*starts)[0], e = (*ends)[0];
            b = std::clamp<int64_t>(b < 0 ? b + dim : b, 0, dim);
            e = std::clamp<int64_t>(e < 0 ? e + dim : e, 0, dim);
            Partial q;
            q.root = p0->root;
            for (int64_t i = b; i < e; ++i)
                q.v.push_back(p0->v[static_cast<size_t>(i)]);
            r = std::move(q);
        }
    }
    if (r && !out.empty()) {
        setPartial(out, std::move(*r));
        return true;
    }
    refuseDynamic(n, dynamicInput);
    return true;
}

bool Writer::isZero(const Tensor &t)
{
    const auto *b = static_cast<const unsigned char *>(t.raw());
    for (size_t i = 0; i < t.byteSize(); ++i)
        if (b[i] != 0 && !(t.dtype() == DType::Float32 && b[i] == 0x80 && i % 4 == 3))
            return false;
    return true;
}

} // namespace netwright::mindspore::mindir

// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_proto.h"

#include "formats/format_util.h"

namespace netwright::mindspore::mindir {

A *boolAttr(Prim &p, const std::string &name, bool v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::BOOL);
    a->set_i(v ? 1 : 0);
    return a;
}

void intAttr(Prim &p, const std::string &name, int64_t v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::INT64);
    a->set_i(v);
}

void floatAttr(Prim &p, const std::string &name, float v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::FLOAT);
    a->set_f(v);
}

void stringAttr(Prim &p, const std::string &name, const std::string &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::STRING);
    a->set_s(v);
}

void fillIntTuple(A &a, const std::vector<int64_t> &v)
{
    a.set_type(A::TUPLE);
    for (int64_t x : v) {
        A *e = a.add_values();
        e->set_type(A::INT64);
        e->add_ints(x);
    }
}

void tupleAttr(Prim &p, const std::string &name, const std::vector<int64_t> &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    fillIntTuple(*a, v);
}

void namesAttr(Prim &p, const std::string &name, const std::vector<std::string> &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::LIST);
    for (const auto &s : v) {
        A *e = a->add_values();
        e->set_type(A::STRING);
        e->add_strings(s);
    }
}

void fillShape(A &a, const Shape &shape, DType dtype)
{
    auto *t = a.add_tensors();
    for (int64_t d : shape)
        t->add_dims(d);
    t->set_data_type(onnxElementNumber(dtype));
    a.set_type(A::TENSORS);
}

} // namespace netwright::mindspore::mindir

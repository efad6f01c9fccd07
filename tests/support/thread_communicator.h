// SPDX-License-Identifier: Apache-2.0
// Test support: data-parallel ranks as threads of one process. ThreadCommunicator implements the
// engine's Communicator over shared memory with the reduction order of MpiCommunicator (rank order,
// so every rank gets the same bits); onRanks runs one body per rank and collects their errors.
#pragma once

#include "dist/communicator.h"

#include <barrier>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace netwright::testing {

// World state shared by the rank threads; every collective is two barriers around a copy.
struct World {
    explicit World(int n) : size(n), sync(n), posted(static_cast<size_t>(n)), lengths(static_cast<size_t>(n)) {}
    int size;
    std::barrier<> sync;
    std::vector<const void *> posted;
    std::vector<size_t> lengths;
    std::vector<double> sumD;
    std::vector<float> sumF;
    std::string text;
};

class ThreadCommunicator final : public Communicator {
public:
    ThreadCommunicator(World &w, int rank) : m_w(w), m_rank(rank) {}
    int rank() const override { return m_rank; }
    int size() const override { return m_w.size; }
    int localSize() const override { return m_w.size; }
    void allReduceSum(float *data, size_t count) override { reduce(data, count, m_w.sumF); }
    void allReduceSum(double *data, size_t count) override { reduce(data, count, m_w.sumD); }
    void allGather(const void *mine, size_t bytes, void *all) override
    {
        m_w.posted[static_cast<size_t>(m_rank)] = mine;
        m_w.sync.arrive_and_wait();
        for (int r = 0; r < m_w.size; ++r)
            std::memcpy(static_cast<char *>(all) + static_cast<size_t>(r) * bytes, m_w.posted[static_cast<size_t>(r)], bytes);
        m_w.sync.arrive_and_wait();
    }
    void broadcast(std::string &bytes, int root) override
    {
        if (m_rank == root)
            m_w.text = bytes;
        m_w.sync.arrive_and_wait();
        if (m_rank != root)
            bytes = m_w.text;
        m_w.sync.arrive_and_wait();
    }
    [[noreturn]] void abort(int) override { std::abort(); }

private:
    template<typename T> void reduce(T *data, size_t count, std::vector<T> &sum)
    {
        m_w.posted[static_cast<size_t>(m_rank)] = data;
        m_w.sync.arrive_and_wait();
        if (m_rank == 0) { // in rank order, as MpiCommunicator's reduce-then-broadcast
            sum.assign(count, T(0));
            for (int r = 0; r < m_w.size; ++r)
                for (size_t i = 0; i < count; ++i)
                    sum[i] += static_cast<const T *>(m_w.posted[static_cast<size_t>(r)])[i];
        }
        m_w.sync.arrive_and_wait();
        std::memcpy(data, sum.data(), count * sizeof(T));
        m_w.sync.arrive_and_wait();
    }
    World &m_w;
    int m_rank;
};

// Runs body(communicator) on `ranks` threads, one world; returns each rank's error text ("" if none).
inline std::vector<std::string> onRanks(int ranks, const std::function<void(Communicator &, int)> &body)
{
    World world(ranks);
    std::vector<std::string> errors(static_cast<size_t>(ranks));
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks; ++r)
        threads.emplace_back([&, r] {
            ThreadCommunicator comm(world, r);
            try {
                body(comm, r);
            } catch (const std::exception &e) {
                errors[static_cast<size_t>(r)] = e.what();
            }
        });
    for (auto &t : threads)
        t.join();
    return errors;
}


} // namespace netwright::testing

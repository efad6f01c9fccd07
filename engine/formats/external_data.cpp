// SPDX-License-Identifier: Apache-2.0
#include "formats/external_data.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_view.h"

#include <algorithm>

namespace netwright {

namespace {
constexpr uint64_t kAlignment = 64;
}

uint64_t ExternalDataPlan::add(const Tensor &t)
{
    const uint64_t offset = (size + kAlignment - 1) / kAlignment * kAlignment;
    tensors.push_back({t, offset});
    size = offset + t.byteSize();
    return offset;
}

void checkExternalDataName(const std::string &name)
{
    check(!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos && name.find('\0') == std::string::npos,
          "The external data file \"" + name + "\" must be a plain file name: it is written beside the model.");
}

void writeExternalData(const ExternalDataPlan &plan, const std::string &path)
{
    AtomicFileWriter out(path);
    static const char zeros[kAlignment] = {};
    for (const ExternalTensor &e : plan.tensors) {
        check(e.offset >= out.bytesWritten() && e.offset - out.bytesWritten() < kAlignment,
              "The external data of \"" + path + "\" is not in file order.");
        out.write(zeros, static_cast<size_t>(e.offset - out.bytesWritten()));
        const Tensor host = e.tensor.device().type == DeviceType::Cpu ? e.tensor : e.tensor.to(Device::cpu());
        // In pieces: a tensor of gigabytes goes out without a second copy in memory.
        const char *p = static_cast<const char *>(host.raw());
        for (size_t done = 0; done < host.byteSize();) {
            const size_t n = std::min<size_t>(host.byteSize() - done, size_t(64) << 20);
            out.write(p + done, n);
            releaseIfMapped(p + done, n); // a source that aliases its file stays out of memory
            done += n;
        }
    }
    out.commit();
}

} // namespace netwright

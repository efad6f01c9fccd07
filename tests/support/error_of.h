// SPDX-License-Identifier: Apache-2.0
// Test support: the message of the netwright::Error a callable throws (empty when it throws none).
#pragma once

#include "core/error.h"

#include <QString>

#include <functional>

namespace netwright::testing {

inline QString errorOf(const std::function<void()> &fn)
{
    try {
        fn();
    } catch (const Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

} // namespace netwright::testing

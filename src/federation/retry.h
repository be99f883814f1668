// Retry delays for the delivery worker: exponential backoff with a cap and jitter.
//
//   RetryPolicy p{.initial = std::chrono::seconds(1), .max = std::chrono::minutes(5)};
//   RETURN_IF_ERROR(ValidateRetryPolicy(p));
//   auto delay = RetryDelay(p, /*failed_attempts=*/3, crypto::RandomUnit());   // 2 s .. 4 s
//
// After the n-th failed attempt the next one waits d = min(max, initial · 2^(n−1)), shortened by
// a random fraction of at most `jitter` (d·(1 − jitter·u), u uniform in [0, 1)), so that many
// messages failing together do not retry in lockstep. The next attempt's time is stored with
// the message, so the schedule survives restarts.
//
// Thread-safe: pure functions.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/status.h"

namespace comity::federation {

struct RetryPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{300'000};
  double jitter = 0.5;  // 0 (none) .. 1
};

// kInvalidArgument unless 1 ms <= initial <= max <= 1 day and 0 <= jitter <= 1.
Status ValidateRetryPolicy(const RetryPolicy& policy);

// The wait after `failed_attempts` (>= 1; smaller values count as 1) failures; `unit` is a
// random number in [0, 1) (values outside are clamped).
std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int64_t failed_attempts,
                                     double unit);

// A uniformly random double in [0, 1) from the system's CSPRNG (thread-safe).
double RandomUnit();

}  // namespace comity::federation

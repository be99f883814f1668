#include "federation/retry.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "crypto/random.h"

namespace comity::federation {

Status ValidateRetryPolicy(const RetryPolicy& p) {
  using std::chrono::milliseconds;
  constexpr milliseconds kDay{86'400'000};
  if (p.initial < milliseconds(1) || p.initial > kDay) {
    return InvalidArgumentError("the first retry delay must be between 1 ms and 1 day, not " +
                                std::to_string(p.initial.count()) + " ms");
  }
  if (p.max < p.initial || p.max > kDay) {
    return InvalidArgumentError("the longest retry delay must be between the first (" +
                                std::to_string(p.initial.count()) + " ms) and 1 day, not " +
                                std::to_string(p.max.count()) + " ms");
  }
  if (!(p.jitter >= 0 && p.jitter <= 1)) {
    return InvalidArgumentError("retry jitter must be between 0 and 1");
  }
  return OkStatus();
}

std::chrono::milliseconds RetryDelay(const RetryPolicy& p, int64_t failed_attempts, double unit) {
  const int64_t n = std::max<int64_t>(failed_attempts, 1);
  // initial · 2^(n−1), saturating at max (doubling more than 62 times overflows).
  int64_t d = p.initial.count();
  for (int64_t i = 1; i < n && d < p.max.count(); ++i) d *= 2;
  d = std::min(d, p.max.count());
  const double u = std::clamp(unit, 0.0, 1.0);
  const double jitter = std::clamp(p.jitter, 0.0, 1.0);
  const auto shortened = static_cast<int64_t>(static_cast<double>(d) * (1.0 - jitter * u));
  return std::chrono::milliseconds(std::max<int64_t>(shortened, 1));
}

double RandomUnit() {
  uint64_t bits = 0;
  const std::string raw = crypto::RandomString(sizeof(bits));
  std::memcpy(&bits, raw.data(), sizeof(bits));
  // 53 random bits → [0, 1) exactly representable.
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace comity::federation

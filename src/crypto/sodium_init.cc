#include "crypto/sodium_init.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace comity::crypto::internal {

void EnsureSodium() {
  // sodium_init() is idempotent and thread-safe; a failure means no usable randomness source,
  // which cannot be recovered from.
  static const bool ok = [] { return sodium_init() >= 0; }();
  if (!ok) {
    std::fprintf(stderr, "comity: libsodium failed to initialise\n");
    std::abort();
  }
}

}  // namespace comity::crypto::internal

// Internal: libsodium must be initialised once before use. Every crypto entry point that calls
// libsodium calls EnsureSodium() first (cheap after the first call; thread-safe).
#pragma once

namespace comity::crypto::internal {

void EnsureSodium();

}  // namespace comity::crypto::internal

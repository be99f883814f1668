// Cryptographically secure randomness (libsodium's randombytes: getrandom(2) on Linux).
//
//   std::array<uint8_t, 16> salt = RandomArray<16>();
//   std::string token = RandomString(32);   // 32 random bytes, binary
//
// Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace comity::crypto {

void RandomBytes(std::span<uint8_t> out);

template <size_t N>
std::array<uint8_t, N> RandomArray() {
  std::array<uint8_t, N> out;
  RandomBytes(out);
  return out;
}

// `n` random bytes as a binary string.
std::string RandomString(size_t n);

}  // namespace comity::crypto

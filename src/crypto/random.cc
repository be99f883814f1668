#include "crypto/random.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace comity::crypto {

void RandomBytes(std::span<uint8_t> out) {
  internal::EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

std::string RandomString(size_t n) {
  std::string out(n, '\0');
  RandomBytes({reinterpret_cast<uint8_t*>(out.data()), out.size()});
  return out;
}

}  // namespace comity::crypto

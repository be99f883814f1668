#include "crypto/encoding.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace comity::crypto {

std::string Base64Encode(ByteSpan data) {
  internal::EnsureSodium();
  const size_t cap = sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(cap, '\0');
  sodium_bin2base64(out.data(), cap, data.data(), data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(cap - 1);  // drop the terminating NUL
  return out;
}

StatusOr<std::string> Base64Decode(std::string_view text) {
  internal::EnsureSodium();
  if (text.size() % 4 != 0) {
    return InvalidArgumentError("invalid base64: length " + std::to_string(text.size()) +
                                " is not a multiple of 4");
  }
  std::string out(text.size() / 4 * 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgumentError("invalid base64: not standard base64 with padding");
  }
  out.resize(len);
  // libsodium tolerates non-zero unused bits; canonical form means re-encoding gives the input.
  if (Base64Encode(AsBytes(out)) != text) {
    return InvalidArgumentError("invalid base64: non-canonical encoding");
  }
  return out;
}

std::string HexEncode(ByteSpan data) {
  internal::EnsureSodium();
  std::string out(data.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
  out.pop_back();
  return out;
}

StatusOr<std::string> HexDecode(std::string_view text) {
  internal::EnsureSodium();
  if (text.size() % 2 != 0) return InvalidArgumentError("invalid hex: odd length");
  std::string out(text.size() / 2, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                     text.size(), nullptr, &len, &end) != 0 ||
      end != text.data() + text.size() || len != out.size()) {
    return InvalidArgumentError("invalid hex: unexpected character");
  }
  return out;
}

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  internal::EnsureSodium();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SecureWipe(void* data, size_t size) {
  if (size > 0) sodium_memzero(data, size);
}

}  // namespace comity::crypto

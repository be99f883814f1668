// Internal to core: a tiny open-addressing table from short strings (object keys, enum names) to
// their index, built once and looked up without allocation.
//
//   KeyTable t({"routine", "urgent", "emergency"});
//   t.Find("urgent");  // 1
//   t.Find("soon");    // -1
//
// KeyHash is also usable at compile time, so that converters can `switch` on it (distinct cases
// are then checked by the compiler).
//
// Thread-safe once built: lookups are const.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace comity::core_internal {

namespace detail {
constexpr uint64_t Load(const char* p, size_t n) {
  // Little-endian assembly of up to 8 bytes: at run time one load of 8, two overlapping loads
  // of 4 (the shared bytes are equal, so OR-ing them is exact), or three bytes for 1 to 3.
  if (!std::is_constant_evaluated()) {
    if (n == 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      return uint64_t{lo} | (uint64_t{hi} << (8 * (n - 4)));
    }
    if (n == 0) return 0;
    return uint64_t{static_cast<unsigned char>(p[0])} |
           (uint64_t{static_cast<unsigned char>(p[n / 2])} << (8 * (n / 2))) |
           (uint64_t{static_cast<unsigned char>(p[n - 1])} << (8 * (n - 1)));
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
constexpr uint64_t Mix(uint64_t h) {
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 32;
  return h;
}
}  // namespace detail

// Byte equality of two short ranges without a libc call (keys are a few words long).
inline bool SameBytes(const char* a, const char* b, size_t n) {
  while (n >= 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
    a += 8;
    b += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// A fast, non-cryptographic hash of a short string: every byte of keys up to 16 bytes counts;
// longer keys hash their length, first 8, middle 8 and last 8 bytes (the table compares the
// full key anyway).
constexpr uint64_t KeyHash(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL * (n + 1);
  if (n <= 8) {
    h ^= detail::Load(p, n);
  } else if (n <= 16) {
    h ^= detail::Load(p, 8);
    h = detail::Mix(h);
    h ^= detail::Load(p + n - 8, 8);
  } else {
    h ^= detail::Load(p, 8);
    h = detail::Mix(h);
    h ^= detail::Load(p + n / 2 - 4, 8);
    h = detail::Mix(h);
    h ^= detail::Load(p + n - 8, 8);
  }
  return detail::Mix(h);
}

class KeyTable {
 public:
  KeyTable() = default;
  explicit KeyTable(const std::vector<std::string_view>& keys) { Build(keys); }

  void Build(const std::vector<std::string_view>& keys) {
    keys_.clear();
    for (auto k : keys) keys_.emplace_back(k);
    size_t cap = 4;
    while (cap < keys.size() * 2 + 1) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, -1);
    for (size_t i = 0; i < keys_.size(); ++i) {
      size_t s = KeyHash(keys_[i]) & mask_;
      while (slots_[s] >= 0) s = (s + 1) & mask_;
      slots_[s] = static_cast<int32_t>(i);
    }
  }

  // Index of `key` in the keys given to Build (the first if repeated), or -1.
  int Find(std::string_view key) const {
    if (slots_.empty()) return -1;
    size_t s = KeyHash(key) & mask_;
    while (true) {
      int32_t i = slots_[s];
      if (i < 0) return -1;
      const std::string& k = keys_[static_cast<size_t>(i)];
      if (k.size() == key.size() && SameBytes(k.data(), key.data(), key.size())) return i;
      s = (s + 1) & mask_;
    }
  }

  size_t size() const { return keys_.size(); }

 private:
  std::vector<std::string> keys_;
  std::vector<int32_t> slots_;
  size_t mask_ = 0;
};

}  // namespace comity::core_internal

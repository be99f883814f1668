#include "core/internal/json_text.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace comity::core_internal {
namespace {

// For each byte: 0 = copy as is, otherwise the escape letter ('u' for \u00xx).
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 256> kEscape = MakeEscapeTable();

}  // namespace

// True if any byte of the 8 in `w` needs escaping: below 0x20, '"' or '\\' (exact: the classic
// "has zero byte" and "has byte less than n" word tests).
inline bool NeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

// The first byte in [p, end) that needs escaping, or `end`. Sixteen bytes at a time where SSE2
// is available (every x86-64), then eight, then one.
inline const char* FindEscape(const char* p, const char* end) {
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i max_control = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // max_epu8(v, 0x1F) == 0x1F exactly when v <= 0x1F as an unsigned byte.
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_cmpeq_epi8(_mm_max_epu8(v, max_control), max_control));
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (NeedsEscape(w)) break;
    p += 8;
  }
  while (p < end && kEscape[static_cast<unsigned char>(*p)] == 0) ++p;
  return p;
}

void AppendJsonStringContent(std::string* out, std::string_view s) {
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;
  while ((p = FindEscape(p, end)) != end) {
    const auto c = static_cast<unsigned char>(*p);
    const char e = kEscape[c];
    char buf[6] = {'\\', e, '0', '0', 0, 0};
    size_t n = 2;
    if (e == 'u') {
      static constexpr char kHex[] = "0123456789abcdef";
      buf[4] = kHex[c >> 4];
      buf[5] = kHex[c & 15];
      n = 6;
    }
    out->append(run, static_cast<size_t>(p - run));
    out->append(buf, n);
    ++p;
    run = p;
  }
  out->append(run, static_cast<size_t>(end - run));
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonStringContent(out, s);
  out->push_back('"');
}

void AppendShortestDouble(std::string* out, double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void AppendNumber(std::string* out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::int64:
      out->append(std::to_string(v.get_int64()));
      return;
    case boost::json::kind::uint64:
      out->append(std::to_string(v.get_uint64()));
      return;
    case boost::json::kind::double_:
      AppendShortestDouble(out, v.get_double());
      return;
    default:
      return;
  }
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string_view KindWithArticle(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string QuoteForMessage(std::string_view s) {
  // Cut after kEchoCodePoints code points, never inside one.
  size_t count = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == kEchoCodePoints) break;
      ++count;
    }
  }
  std::string out;
  AppendJsonString(&out, s.substr(0, i));
  if (i < s.size()) out.insert(out.size() - 1, "...");
  return out;
}

std::string DescribeValue(const boost::json::value& v) {
  std::string out;
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      AppendNumber(&out, v);
      return out;
    case boost::json::kind::string:
      return QuoteForMessage(v.get_string());
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return out;
}

}  // namespace comity::core_internal

// Internal to core: a small, strict JSON tokenizer for the common case of the request reader
// (core/internal/request_reader.h). It drives the same handler interface as Boost.JSON's
// basic_parser (on_object_begin, on_key, on_string, on_int64, ...), several times faster,
// because it only knows the plain spelling of JSON that machines write:
//
//   strings without escape sequences (valid UTF-8 is checked and accepted as is),
//   non-negative integers of up to 18 digits without a fraction or exponent,
//   true, false, null, objects and arrays nested at most kMaxDepth deep, and whitespace.
//
// Anything else — an escape, a negative or fractional number, deeper nesting, or any syntax or
// encoding error — makes it answer kUnsure at once, and the caller parses the text again with
// Boost.JSON, which handles all of JSON and words the errors. So it never needs to be complete,
// only right: whatever it accepts, Boost.JSON accepts too with the same events (the unit tests
// compare the two on generated and mutated documents and on every UTF-8 byte class).
//
//   MyHandler h;
//   switch (ParseFastJson(text, h)) {
//     case FastJsonResult::kDone:    // the whole text was one JSON value; h saw every event
//     case FastJsonResult::kRefused: // a handler method returned false
//     case FastJsonResult::kUnsure:  // not in the subset (or not JSON): use Boost.JSON
//   }
//
// The handler's events are those Boost.JSON would emit, except that strings and keys always
// arrive whole (no on_*_part) and integers always as on_int64.
//
// Thread-safe: stateless.
#pragma once

#include <boost/json/error.hpp>
#include <boost/json/string_view.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace comity::core_internal {

enum class FastJsonResult { kDone, kRefused, kUnsure };

// Length (2 to 4) of the well-formed UTF-8 sequence that starts at `p` (a byte >= 0x80), or 0
// if none does (RFC 3629, Unicode table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequence before `end`).
inline size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [](unsigned b) { return (b & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && cont(p[1]) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3) return 0;
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi && cont(p[2]) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4) return 0;
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi && cont(p[2]) && cont(p[3]) ? 4 : 0;
  }
  return 0;
}

namespace fast_json_detail {

inline bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Above ' ' (0x20): not whitespace, whatever the byte is.
inline bool AboveSpace(char c) { return static_cast<unsigned char>(c) > 0x20; }

inline const char* SkipSpace(const char* p, const char* end) {
  // Machine-written JSON mostly has no space between tokens: one test settles that.
  if (p < end && AboveSpace(*p)) return p;
  while (p < end && IsSpace(*p)) ++p;
  return p;
}

// The closing quote of the string whose contents start at `p`, or nullptr when the string has
// an escape, a control character or invalid UTF-8, or does not end.
inline const char* ScanString(const char* p, const char* end) {
  while (true) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i max_control = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      // A byte stops the scan if it is '"', '\\', a control character (max_epu8(v, 0x1F) ==
      // 0x1F) or not ASCII (its top bit, which movemask reads from `v` itself).
      __m128i stop =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                       _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, max_control), max_control), v));
      int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      p += 16;
    }
#endif
    if (p >= end) return nullptr;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p;
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(p),
                                    reinterpret_cast<const unsigned char*>(end));
      if (n == 0) return nullptr;
      p += n;
      continue;
    }
    if (c < 0x20 || c == '\\') return nullptr;
    ++p;
  }
}

}  // namespace fast_json_detail

// Deepest nesting the tokenizer takes; deeper documents are kUnsure.
inline constexpr int kFastJsonMaxDepth = 32;

template <class Handler>
FastJsonResult ParseFastJson(std::string_view text, Handler& h) {
  using fast_json_detail::ScanString;
  using fast_json_detail::SkipSpace;
  constexpr FastJsonResult kUnsure = FastJsonResult::kUnsure;
  const char* p = text.data();
  const char* const end = p + text.size();
  boost::json::error_code ec;
  bool is_object[kFastJsonMaxDepth];
  size_t count[kFastJsonMaxDepth];
  int depth = 0;
  auto refused = [] { return FastJsonResult::kRefused; };

  if (!h.on_document_begin(ec)) return refused();

value:
  p = SkipSpace(p, end);
  if (p == end) return kUnsure;
  if (depth > 0) ++count[depth - 1];
  switch (*p) {
    case '{':
      if (depth == kFastJsonMaxDepth) return kUnsure;
      if (!h.on_object_begin(ec)) return refused();
      is_object[depth] = true;
      count[depth++] = 0;
      p = SkipSpace(p + 1, end);
      if (p < end && *p == '}') {
        ++p;
        if (!h.on_object_end(0, ec)) return refused();
        --depth;
        goto after_value;
      }
      goto key;
    case '[':
      if (depth == kFastJsonMaxDepth) return kUnsure;
      if (!h.on_array_begin(ec)) return refused();
      is_object[depth] = false;
      count[depth++] = 0;
      p = SkipSpace(p + 1, end);
      if (p < end && *p == ']') {
        ++p;
        if (!h.on_array_end(0, ec)) return refused();
        --depth;
        goto after_value;
      }
      goto value;
    case '"': {
      const char* close = ScanString(p + 1, end);
      if (close == nullptr) return kUnsure;
      const size_t n = static_cast<size_t>(close - p - 1);
      if (!h.on_string(boost::json::string_view(p + 1, n), n, ec)) return refused();
      p = close + 1;
      goto after_value;
    }
    case 't':
      if (end - p < 4 || std::memcmp(p, "true", 4) != 0) return kUnsure;
      if (!h.on_bool(true, ec)) return refused();
      p += 4;
      goto after_value;
    case 'f':
      if (end - p < 5 || std::memcmp(p, "false", 5) != 0) return kUnsure;
      if (!h.on_bool(false, ec)) return refused();
      p += 5;
      goto after_value;
    case 'n':
      if (end - p < 4 || std::memcmp(p, "null", 4) != 0) return kUnsure;
      if (!h.on_null(ec)) return refused();
      p += 4;
      goto after_value;
    default: {
      // A non-negative integer: "0" or [1-9][0-9]{0,17}, not followed by '.', 'e' or 'E'.
      const char* start = p;
      if (*p < '0' || *p > '9') return kUnsure;
      uint64_t v = 0;
      if (*p == '0') {
        ++p;
      } else {
        while (p < end && *p >= '0' && *p <= '9') {
          if (p - start == 18) return kUnsure;
          v = v * 10 + static_cast<uint64_t>(*p - '0');
          ++p;
        }
      }
      if (p < end && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) {
        return kUnsure;
      }
      if (!h.on_int64(static_cast<int64_t>(v),
                      boost::json::string_view(start, static_cast<size_t>(p - start)), ec)) {
        return refused();
      }
      goto after_value;
    }
  }

key:
  // At the first non-space after '{' or ','.
  if (p >= end || *p != '"') return kUnsure;
  {
    const char* close = ScanString(p + 1, end);
    if (close == nullptr) return kUnsure;
    const size_t n = static_cast<size_t>(close - p - 1);
    if (!h.on_key(boost::json::string_view(p + 1, n), n, ec)) return refused();
    p = SkipSpace(close + 1, end);
  }
  if (p >= end || *p != ':') return kUnsure;
  ++p;
  goto value;

after_value:
  p = SkipSpace(p, end);
  if (depth == 0) {
    if (p != end) return kUnsure;  // trailing data
    if (!h.on_document_end(ec)) return refused();
    return FastJsonResult::kDone;
  }
  if (p >= end) return kUnsure;
  if (*p == ',') {
    p = SkipSpace(p + 1, end);
    if (is_object[depth - 1]) goto key;
    goto value;
  }
  if (is_object[depth - 1] ? *p != '}' : *p != ']') return kUnsure;
  ++p;
  --depth;
  if (is_object[depth] ? !h.on_object_end(count[depth], ec) : !h.on_array_end(count[depth], ec)) {
    return refused();
  }
  goto after_value;
}

}  // namespace comity::core_internal

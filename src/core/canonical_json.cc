#include "core/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "core/internal/json_text.h"

namespace comity {

namespace json = boost::json;

namespace {

// Decodes valid UTF-8 into UTF-16 code units; false on invalid UTF-8 (overlong forms,
// surrogates, values above U+10FFFF, truncated sequences). With `out` null, only checks.
bool ToUtf16(std::string_view s, std::u16string* out) {
  if (out != nullptr) out->clear();
  size_t i = 0;
  while (i < s.size()) {
    auto b0 = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if ((b0 & 0xE0) == 0xC0) {
      cp = b0 & 0x1F;
      len = 2;
    } else if ((b0 & 0xF0) == 0xE0) {
      cp = b0 & 0x0F;
      len = 3;
    } else if ((b0 & 0xF8) == 0xF0) {
      cp = b0 & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (out == nullptr) {
      // checking only
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return true;
}

// ECMAScript Number.prototype.toString (ECMA-262 section 7.1.12.1) for a finite double, as
// RFC 8785 section 3.2.2.3 requires.
void AppendEs6Number(std::string* out, double d) {
  if (d == 0) {  // +0 and -0
    out->push_back('0');
    return;
  }
  if (d < 0) {
    out->push_back('-');
    d = -d;
  }
  // Shortest round-trip digits: "d.ddde+XX" or "de-XX".
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // value = 0.digits x 10^n
  if (k <= n && n <= 21) {
    out->append(digits);
    out->append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out->append(digits, 0, static_cast<size_t>(n));
    out->push_back('.');
    out->append(digits, static_cast<size_t>(n), std::string::npos);
  } else if (-6 < n && n <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-n), '0');
    out->append(digits);
  } else {
    out->push_back(digits[0]);
    if (k > 1) {
      out->push_back('.');
      out->append(digits, 1, std::string::npos);
    }
    out->push_back('e');
    out->push_back(n - 1 >= 0 ? '+' : '-');
    out->append(std::to_string(std::abs(n - 1)));
  }
}

class Canonicalizer {
 public:
  Status Write(const json::value& v, size_t depth) {
    switch (v.kind()) {
      case json::kind::null:
        out_.append("null");
        return OkStatus();
      case json::kind::bool_:
        out_.append(v.get_bool() ? "true" : "false");
        return OkStatus();
      case json::kind::int64: {
        int64_t i = v.get_int64();
        auto d = static_cast<double>(i);
        bool exact = d < 9223372036854775808.0 && static_cast<int64_t>(d) == i;
        return Integer(exact, d, std::to_string(i));
      }
      case json::kind::uint64: {
        uint64_t u = v.get_uint64();
        auto d = static_cast<double>(u);
        bool exact = d < 18446744073709551616.0 && static_cast<uint64_t>(d) == u;
        return Integer(exact, d, std::to_string(u));
      }
      case json::kind::double_: {
        double d = v.get_double();
        if (!std::isfinite(d)) {
          return InvalidArgumentError(
              "numbers must be finite (NaN and Infinity have no JSON form)");
        }
        AppendEs6Number(&out_, d);
        return OkStatus();
      }
      case json::kind::string:
        return String(v.get_string());
      case json::kind::array: {
        if (depth >= kMaxJsonDepth) return TooDeep();
        out_.push_back('[');
        bool first = true;
        for (const auto& x : v.get_array()) {
          if (!first) out_.push_back(',');
          first = false;
          RETURN_IF_ERROR(Write(x, depth + 1));
        }
        out_.push_back(']');
        return OkStatus();
      }
      case json::kind::object: {
        if (depth >= kMaxJsonDepth) return TooDeep();
        const json::object& o = v.get_object();
        // RFC 8785 section 3.2.3: by UTF-16 code units, compared as unsigned integers. Below
        // U+10000 that is the order of the UTF-8 bytes (both are code point order); only a
        // character above it (a 4-byte sequence, lead byte 0xF0..0xF4; two surrogates in UTF-16)
        // sorts differently, so keys are compared as UTF-16 only when one has such a character.
        std::vector<const json::key_value_pair*> members;
        members.reserve(o.size());
        bool supplementary = false;
        for (const auto& kv : o) {
          const std::string_view key = kv.key();
          if (!ToUtf16(key, nullptr)) return InvalidArgumentError("a key is not valid UTF-8");
          for (const char c : key) supplementary |= static_cast<unsigned char>(c) >= 0xF0;
          members.push_back(&kv);
        }
        if (!supplementary) {
          std::sort(members.begin(), members.end(),
                    [](const auto* a, const auto* b) { return a->key() < b->key(); });
        } else {
          std::vector<std::pair<std::u16string, const json::key_value_pair*>> keyed;
          keyed.reserve(members.size());
          for (const json::key_value_pair* kv : members) {
            std::u16string key;
            ToUtf16(kv->key(), &key);  // checked above
            keyed.emplace_back(std::move(key), kv);
          }
          std::sort(keyed.begin(), keyed.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
          for (size_t i = 0; i < keyed.size(); ++i) members[i] = keyed[i].second;
        }
        out_.push_back('{');
        for (size_t i = 0; i < members.size(); ++i) {
          if (i > 0) out_.push_back(',');
          core_internal::AppendJsonString(&out_, members[i]->key());
          out_.push_back(':');
          RETURN_IF_ERROR(Write(members[i]->value(), depth + 1));
        }
        out_.push_back('}');
        return OkStatus();
      }
    }
    return InternalError("unknown JSON kind");
  }

  std::string Take() { return std::move(out_); }

 private:
  // An integer is written as ECMAScript writes its double. It is refused when that loses
  // information: when it is not exactly a double and not already written that way (so that
  // 9007199254740993 is refused, but 44444888888888890, the canonical form of the double
  // nearest to it, is accepted and canonical forms stay fixed points).
  Status Integer(bool exact, double d, const std::string& decimal) {
    if (exact) {
      AppendEs6Number(&out_, d);
      return OkStatus();
    }
    std::string es6;
    AppendEs6Number(&es6, d);
    if (es6 != decimal) {
      return InvalidArgumentError("integer " + decimal +
                                  " cannot be represented exactly as an IEEE-754 double");
    }
    out_.append(es6);
    return OkStatus();
  }

  Status String(std::string_view s) {
    if (!ToUtf16(s, nullptr)) return InvalidArgumentError("a string is not valid UTF-8");
    core_internal::AppendJsonString(&out_, s);
    return OkStatus();
  }

  static Status TooDeep() {
    return InvalidArgumentError("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                " levels");
  }

  std::string out_;
};

}  // namespace

StatusOr<std::string> CanonicalJson(const json::value& v) {
  Canonicalizer c;
  RETURN_IF_ERROR(c.Write(v, 0));
  return c.Take();
}

}  // namespace comity

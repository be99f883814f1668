#include "core/internal/json_parse.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/codec.h"
#include "core/internal/json_text.h"

namespace comity::core_internal {

namespace json = boost::json;

namespace {

json::parse_options Options() {
  json::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  return opt;
}

// Builds the DOM like Boost.JSON's own handler, and also: refuses non-finite numbers (Boost.JSON
// turns 1e999 into infinity), and records the member count of every object in the order the
// objects close, so that duplicate keys (which the DOM drops) can be detected afterwards.
struct DomHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  DomHandler(json::storage_ptr sp, unsigned char* buffer, std::size_t size)
      : st(std::move(sp), buffer, size) {}

  json::value_stack st;
  std::vector<uint32_t> object_sizes;
  std::string number_text;  // a number split across input pieces
  bool number_out_of_range = false;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    object_sizes.push_back(static_cast<uint32_t>(n));
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_text.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_text.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_text.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code& ec) {
    // Boost.JSON 1.81 may be one unit in the last place off; numbers that are signed and
    // canonicalised (RFC 8785) must read exactly, so re-read the text correctly rounded.
    std::string_view text(s.data(), s.size());
    if (!number_text.empty()) {
      number_text.append(s.data(), s.size());
      text = number_text;
    }
    d = ExactDouble(d, text);
    number_text.clear();
    if (!std::isfinite(d)) {
      number_out_of_range = true;
      ec = json::error::exponent_overflow;
      return false;
    }
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// Finds the first duplicate key, in document order (only run once a duplicate is known).
struct DuplicateKeyHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  std::vector<std::unordered_set<std::string>> open;
  std::string partial;
  std::string duplicate;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    open.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    open.pop_back();
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    partial.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    partial.append(s.data(), s.size());
    if (!open.back().insert(partial).second) {
      duplicate = partial;
      ec = json::error::syntax;
      return false;
    }
    partial.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// Post-order walk comparing each object's size with the member count the parser saw.
bool SizesMatch(const json::value& v, const std::vector<uint32_t>& sizes, size_t* next) {
  if (v.is_array()) {
    for (const auto& x : v.get_array()) {
      if (!SizesMatch(x, sizes, next)) return false;
    }
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (!SizesMatch(kv.value(), sizes, next)) return false;
    }
    if (*next >= sizes.size() || sizes[*next] != v.get_object().size()) return false;
    ++*next;
  }
  return true;
}

std::string Describe(std::string_view text, size_t offset, json::error_code ec) {
  if (ec == json::error::incomplete || offset >= text.size()) return "unexpected end of input";
  auto c = static_cast<unsigned char>(text[offset]);
  if (ec == json::error::extra_data) return "unexpected data after the JSON value";
  if (ec == json::error::expected_hex_digit) return "expected a hexadecimal digit in a \\u escape";
  if (ec == json::error::illegal_leading_surrogate ||
      ec == json::error::illegal_trailing_surrogate || ec == json::error::expected_utf16_escape) {
    return "invalid UTF-16 surrogate pair in a \\u escape";
  }
  if (ec == json::error::exponent_overflow) return "number out of range";
  if (c >= 0x80) return "invalid UTF-8";
  char buf[64];
  if (c < 0x20) {
    std::snprintf(buf, sizeof buf, "unexpected control character U+%04X", c);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "unexpected character '%c'", c);
  return buf;
}

Status Malformed(std::string_view text, size_t offset, const std::string& reason) {
  size_t line = 0, column = 0;
  LineAndColumn(text, offset, &line, &column);
  return InvalidArgumentError("malformed JSON at line " + std::to_string(line) + ", column " +
                              std::to_string(column) + ": " + reason);
}

Status DuplicateKeyError(std::string_view text) {
  json::basic_parser<DuplicateKeyHandler> p(Options());
  json::error_code ec;
  size_t n = 0;
  try {
    n = p.write_some(false, text.data(), text.size(), ec);
  } catch (const std::exception& e) {
    return ResourceExhaustedError(std::string("cannot parse JSON: ") + e.what());
  }
  const std::string& key = p.handler().duplicate;
  if (key.empty()) return InternalError("duplicate key reported but not found");
  // `n` is just past the key's closing quote; point at its opening quote.
  size_t at = n > 0 ? n - 1 : 0;
  while (at > 0) {
    --at;
    if (text[at] != '"') continue;
    size_t backslashes = 0;
    while (at > backslashes && text[at - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) break;
  }
  return Malformed(text, at, "duplicate key " + QuoteForMessage(key) + " (keys must be unique)");
}

}  // namespace

double ExactDouble(double approximate, std::string_view text) {
  double exact = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), exact);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return exact;
  return approximate;  // out of range: Boost.JSON's infinity or zero
}

void LineAndColumn(std::string_view text, size_t offset, size_t* line, size_t* column) {
  if (offset > text.size()) offset = text.size();
  size_t l = 1, line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++l;
      line_start = i + 1;
    }
  }
  *line = l;
  *column = CountCodePoints(text.substr(line_start, offset - line_start)) + 1;
}

struct JsonParser::Impl {
  Impl() : parser(Options(), json::storage_ptr(), temp, sizeof temp) {}
  // Scratch for the value stack while the DOM is being built (not the DOM itself).
  unsigned char temp[4096];
  json::basic_parser<DomHandler> parser;
};

JsonParser::JsonParser() : impl_(std::make_unique<Impl>()) {}
JsonParser::~JsonParser() = default;

StatusOr<json::value> JsonParser::Parse(std::string_view text, json::storage_ptr sp) {
  auto& p = impl_->parser;
  auto& h = p.handler();
  p.reset();
  h.st.reset(std::move(sp));
  h.object_sizes.clear();
  h.number_text.clear();
  h.number_out_of_range = false;
  json::error_code ec;
  size_t n = 0;
  try {
    n = p.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = json::error::extra_data;
    if (ec) {
      if (ec == json::error::too_deep) {
        size_t line = 0, column = 0;
        LineAndColumn(text, n, &line, &column);
        return ResourceExhaustedError("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                      " levels at line " + std::to_string(line) + ", column " +
                                      std::to_string(column));
      }
      return Malformed(text, n, Describe(text, n, ec));
    }
    json::value v = h.st.release();
    size_t next = 0;
    if (!SizesMatch(v, h.object_sizes, &next) || next != h.object_sizes.size()) {
      return DuplicateKeyError(text);
    }
    return v;
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("out of memory while parsing JSON");
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("cannot parse JSON: ") + e.what());
  }
}

}  // namespace comity::core_internal

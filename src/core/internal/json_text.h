// Internal to core: small pieces of JSON text shared by the serialisers, canonical JSON and
// error messages.
//
//   std::string out;
//   AppendJsonString(&out, "a\"b\n");  // "\"a\\\"b\\n\""
//   AppendShortestDouble(&out, 0.1);   // "0.1"
//
// Thread-safe: stateless functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

namespace comity::core_internal {

// A JSON string literal with the escaping of RFC 8785 section 3.2.2.2 (which is also what
// boost::json::serialize produces): \" \\ \b \f \n \r \t, other control characters as \u00xx
// (lower-case hex), everything else (including "/", DEL and non-ASCII) as is.
void AppendJsonString(std::string* out, std::string_view s);
// The same without the quotes. Escaping maps each byte on its own, so the content of a
// concatenation is the concatenation of the contents.
void AppendJsonStringContent(std::string* out, std::string_view s);

// The shortest decimal that reads back as `d` (std::to_chars), e.g. "0.1", "1e+30". `d` must be
// finite.
void AppendShortestDouble(std::string* out, double d);

// A JSON number as it should appear in messages: integers exactly, doubles shortest.
void AppendNumber(std::string* out, const boost::json::value& v);

// A short description of a value for error messages: a string quoted and cut after
// kEchoCodePoints code points ("..." marks the cut), a number or literal as itself, and
// "an object" / "an array" for containers.
inline constexpr size_t kEchoCodePoints = 64;
std::string DescribeValue(const boost::json::value& v);

// `s` as a quoted JSON string for a message, cut like DescribeValue.
std::string QuoteForMessage(std::string_view s);

// "a string", "a number", "a boolean", "null", "an object", "an array".
std::string_view KindWithArticle(const boost::json::value& v);

// Number of Unicode code points in valid UTF-8 (continuation bytes are not counted).
size_t CountCodePoints(std::string_view s);

}  // namespace comity::core_internal

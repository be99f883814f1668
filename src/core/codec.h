// JSON codecs for the domain model, with validation against spec/*.schema.json.
//
// Parsing validates everything the schemas say — unknown properties, types, enums, patterns,
// ranges, lengths, required fields, uniqueness, real calendar dates — and reports the first
// problems, each with its JSON Pointer and reason:
//
//   StatusOr<Request> r = ParseRequest(text);
//   // !r.ok(): r.status().code() == kInvalidArgument,
//   //          r.status().pointer() == "/measures/0/duration_days",
//   //          r.status().message() == "/measures/0/duration_days: expected an integer, got a
//   string"
//   //          (further problems, if any, follow in the message separated by "; ")
//
// Documents over kMaxDocumentBytes are refused with kResourceExhausted before parsing.
// Malformed JSON is kInvalidArgument with line and column.
//
// Thread-safe: all functions may be called concurrently.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/status.h"

namespace comity {

inline constexpr size_t kMaxDocumentBytes = 1 << 20;  // 1 MiB
// Deepest nesting of arrays and objects accepted (the schemas need 6); deeper documents are
// refused with kResourceExhausted, so that no recursive walk can exhaust the stack.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses JSON text (with the size limit and line:column errors), no schema.
StatusOr<boost::json::value> ParseJson(std::string_view text);

// comity.request/v1
StatusOr<Request> ParseRequest(std::string_view text);
// The same into `*out`, reusing the storage of the request it held before: a caller that parses
// many requests (comity screen --batch) keeps one Request. On error *out is unspecified, but can
// be parsed into again.
Status ParseRequestInto(std::string_view text, Request* out);
StatusOr<Request> RequestFromJson(const boost::json::value& v);
boost::json::value RequestToJson(const Request& r);

// comity.state/v1
StatusOr<StateProfile> ParseProfile(std::string_view text);
StatusOr<StateProfile> ProfileFromJson(const boost::json::value& v);
boost::json::value ProfileToJson(const StateProfile& p);

// comity.decision/v1
StatusOr<Decision> ParseDecision(std::string_view text);
StatusOr<Decision> DecisionFromJson(const boost::json::value& v);
boost::json::value DecisionToJson(const Decision& d);
// Compact JSON text of DecisionToJson(d).
std::string SerializeDecision(const Decision& d);
// The same text appended to `out`, which keeps its capacity from call to call.
void AppendDecision(const Decision& d, std::string* out);

// JSON string escaping exactly as the serialisers above write it (RFC 8785 section 3.2.2.2, which
// is also Boost.JSON's): \" \\ \b \f \n \r \t, other control characters as \u00xx, every other
// byte as is. For code that writes decision JSON itself and must produce the same bytes.
void AppendJsonString(std::string* out, std::string_view s);  // with the quotes
// Without the quotes. Each byte is escaped on its own, so the escaped content of a
// concatenation is the concatenation of the escaped contents.
void AppendJsonStringContent(std::string* out, std::string_view s);

// Validates a JSON value against one of the shipped schemas by $id ("comity.request/v1",
// "comity.state/v1", "comity.decision/v1"). OK or kInvalidArgument as above.
Status ValidateAgainstSchema(std::string_view schema_id, const boost::json::value& v);

// Reads a file (refusing files over kMaxDocumentBytes) and parses it as a profile; errors are
// prefixed with the path.
StatusOr<StateProfile> LoadProfileFile(const std::string& path);

}  // namespace comity

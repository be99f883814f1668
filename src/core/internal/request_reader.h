// Internal to core: the fast path of ParseRequest. It reads the JSON text as a stream of events
// (no DOM), validates each against the compiled request schema as it goes, and fills the Request
// in the same pass.
//
//   Request r;
//   if (!ReadValidRequest(schema, text, &r)) { /* parse, validate and convert the full way */ }
//
// It answers only "valid, and here is the request" or "not sure": at the first problem or
// anything unusual (a duplicate key, a property or shape it does not bind, a number out of
// int32), it stops and returns false, and the caller takes the full path, which produces the
// exact error messages. It must never accept what the full path refuses nor convert differently;
// the unit tests and the request fuzzer check that both paths agree.
//
// Leaf values are checked by the validator's own leaf checks (ScalarAccepts), so the rules are
// implemented once.
//
// Thread-safe: the reader keeps its state per thread.
#pragma once

#include <string_view>

#include "core/json_schema.h"
#include "core/model.h"

namespace comity::core_internal {

// `schema` is the compiled comity.request/v1; `text` is within kMaxDocumentBytes. *out is reset
// first, its strings and arrays kept (per thread) for reuse by this and later requests, so that
// reading many requests into one Request allocates almost nothing. On false, *out is
// unspecified (but valid: it can be read into again).
bool ReadValidRequest(const JsonSchema& schema, std::string_view text, Request* out);

// RequestFromJson's full path alone (validator, then converter); for tests and the fuzzer.
StatusOr<Request> RequestFromJsonFullPath(const boost::json::value& v);

}  // namespace comity::core_internal

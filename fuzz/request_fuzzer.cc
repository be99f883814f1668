// libFuzzer target for the request parser (src/core/codec.h) and the JSON layer under it.
//
// Properties, for any input:
// - nothing crashes, leaks or trips a sanitizer;
// - ParseRequest's streaming path and the full path (DOM, validator, converter) agree: same
//   verdict, and the same Request when valid;
// - a parsed request written back (RequestToJson) is valid against the schema and parses to an
//   equal Request;
// - canonical JSON (RFC 8785) of any parsed document is a fixed point.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/canonical_json.h"
#include "core/codec.h"
#include "core/internal/request_reader.h"

namespace {

void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "property violated: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comity;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  StatusOr<Request> r = ParseRequest(text);
  StatusOr<boost::json::value> doc = ParseJson(text);
  if (doc.ok()) {
    StatusOr<Request> full = core_internal::RequestFromJsonFullPath(*doc);
    if (full.ok() != r.ok()) Fail("streaming and full paths disagree on validity", text);
    if (r.ok() && !(*full == *r)) Fail("streaming and full paths convert differently", text);
    if (!r.ok() && r.status().message() != full.status().message()) {
      Fail("ParseRequest and RequestFromJson word the error differently", r.status().message());
    }

    // The other codecs and canonical JSON must not crash either.
    (void)ProfileFromJson(*doc);
    (void)DecisionFromJson(*doc);
    StatusOr<std::string> canon = CanonicalJson(*doc);
    if (canon.ok()) {
      StatusOr<boost::json::value> again = ParseJson(*canon);
      if (!again.ok()) Fail("canonical JSON does not parse", *canon);
      StatusOr<std::string> canon2 = CanonicalJson(*again);
      if (!canon2.ok() || *canon2 != *canon) Fail("canonical JSON is not a fixed point", *canon);
    }
  } else if (r.ok()) {
    Fail("a request was accepted from text that is not JSON", text);
  }

  if (r.ok()) {
    boost::json::value back = RequestToJson(*r);
    Status valid = ValidateAgainstSchema("comity.request/v1", back);
    if (!valid.ok()) Fail("RequestToJson is not schema-valid", valid.ToString());
    std::string written = boost::json::serialize(back);
    StatusOr<Request> reparsed = ParseRequest(written);
    if (!reparsed.ok()) Fail("RequestToJson does not parse back", reparsed.status().ToString());
    if (!(*reparsed == *r)) Fail("round trip changed the request", written);
  }
  return 0;
}

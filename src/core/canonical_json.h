// RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact form that is hashed and signed
// (log leaves, federation envelopes).
//
//   std::string c = CanonicalJson(value);  // keys sorted by UTF-16 code units, ES6 numbers
//
// Fails (kInvalidArgument) on numbers that are not finite or integers outside the IEEE-754
// double range that cannot be represented exactly. Thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "core/status.h"

namespace comity {

StatusOr<std::string> CanonicalJson(const boost::json::value& v);

}  // namespace comity

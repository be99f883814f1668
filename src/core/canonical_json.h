// RFC 8785 JSON Canonicalization Scheme (JCS): the byte-exact form that is hashed and signed
// (log leaves, federation envelopes).
//
//   std::string c = CanonicalJson(value);  // keys sorted by UTF-16 code units, ES6 numbers
//
// Numbers follow ECMAScript's Number.prototype.toString (shortest round-trip digits; fixed
// notation for exponents -6 < n <= 21, else "1e+21" style). Strings are escaped per RFC 8785
// section 3.2.2.2 and otherwise written as UTF-8. Object members are sorted by the UTF-16 code
// units of their names.
//
// Fails (kInvalidArgument) on numbers that are not finite; on integers that would change value
// as an IEEE-754 double (9007199254740993 is refused; 44444888888888890, which is how ECMAScript
// writes the double nearest to it, is accepted, so that canonical forms are fixed points); on
// strings or keys that are not valid UTF-8; and on nesting deeper than kMaxJsonDepth
// (core/codec.h). Thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "core/status.h"

namespace comity {

StatusOr<std::string> CanonicalJson(const boost::json::value& v);

}  // namespace comity

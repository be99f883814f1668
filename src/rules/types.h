// The rule language's types and runtime values.
//
// Every field path of the language (see fields.h) has a static Type; the compiler checks each
// expression against these types at load time, so that evaluation never fails. At run time a
// Value is 16 bytes, returned in registers, and never owns memory: strings and lists point into
// the Request and StateProfile being screened.
//
//   Type t = Type::Enum(EnumId::kMeasureType);
//   TypeName(t);                      // "measure type"
//   Value v = Value::Enum(MeasureType::kIntercept);
//   v.present && v.bits == 5;         // enum values are their ordinals
//
// Thread-safe: plain values and constant tables.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/enums.h"
#include "core/model.h"

namespace comity::rules {

// The enumerations the language knows, one per closed vocabulary of the schemas.
enum class EnumId : uint8_t {
  kNone = 0,
  kOffenceCategory,
  kAuthorityKind,
  kProceedingKind,
  kUrgency,
  kEmergencyRisk,
  kMeasureType,
  kDataCategory,
  kSelectorKind,
  kDomesticAuthorityKind,
  kAssurance,
  kPersonRole,
  kPersonStatus,
  kUnccStatus,
  kDeathPenalty,
  kDualCriminality,
  kSpeechPolicy,
  kAuthorizationItem,
  kEffect,
};

// Wire names of an enumeration, in declaration order (ordinal = index).
std::span<const std::string_view> EnumNames(EnumId id);
// A human label: "offence category", "measure type".
std::string_view EnumLabel(EnumId id);

enum class Kind : uint8_t {
  kBool,
  kNumber,  // every JSON number; integers are exact below 2^53
  kString,
  kEnum,        // one member of an enumeration
  kSet,         // a set of members of one enumeration (bitmask)
  kState,       // an ISO 3166-1 alpha-2 code
  kStateList,   // an array of state codes
  kStringList,  // an array of free strings
  kDate,        // days since 1970-01-01
  kTimestamp,   // seconds since the epoch
  kPeriod,      // {from, to}
  kObject,      // an optional sub-object: only presence can be tested
  kList,        // an array of objects: iterated with `for each`, counted with count()
  kLexicon,     // a named lexicon (only as an argument of mentions()/matched())
};

struct Type {
  Kind kind = Kind::kBool;
  EnumId en = EnumId::kNone;  // for kEnum and kSet

  static constexpr Type Of(Kind k) { return Type{k, EnumId::kNone}; }
  static constexpr Type Enum(EnumId e) { return Type{Kind::kEnum, e}; }
  static constexpr Type Set(EnumId e) { return Type{Kind::kSet, e}; }
  constexpr bool operator==(const Type&) const = default;
};

// "number", "measure type", "set of data category", "list of state codes".
std::string TypeName(Type t);

// Two enumerations are compatible when one is a view of the other: the items of
// policy.independent_authorization_required are data categories and measure types, and
// policy.speech_offences names effects. Compatible members are matched by wire name.
bool EnumsCompatible(EnumId a, EnumId b);

// A runtime value. `present` is false for an absent optional field; every comparison with an
// absent value is false. The payload depends on the static type:
//   kBool, kEnum (ordinal), kSet (bitmask), kState (two chars), kList (count): bits
//   kNumber: num; kDate, kTimestamp: i; kPeriod: i = from, aux = to
//   kString: ptr (chars) + aux (length); kStateList, kStringList: ptr to the std::vector
struct Value {
  union {
    uint64_t bits;
    double num;
    int64_t i;
    const void* ptr;
  };
  uint32_t aux = 0;
  bool present = false;

  Value() : bits(0) {}

  static Value Absent() { return Value(); }
  static Value Bool(bool b) {
    Value v;
    v.bits = b ? 1 : 0;
    v.present = true;
    return v;
  }
  static Value Number(double d) {
    Value v;
    v.num = d;
    v.present = true;
    return v;
  }
  static Value Ordinal(uint64_t ordinal) {
    Value v;
    v.bits = ordinal;
    v.present = true;
    return v;
  }
  template <typename E>
  static Value Enum(E e) {
    return Ordinal(static_cast<uint64_t>(e));
  }
  template <typename E>
  static Value Set(EnumSet<E> s) {
    return Ordinal(s.bits());
  }
  static Value Str(std::string_view s) {
    Value v;
    v.ptr = s.data();
    v.aux = static_cast<uint32_t>(s.size());
    v.present = true;
    return v;
  }
  static Value State(StateCode s) {
    Value v;
    v.bits = static_cast<uint64_t>(static_cast<uint8_t>(s.c[0])) |
             (static_cast<uint64_t>(static_cast<uint8_t>(s.c[1])) << 8);
    v.present = true;
    return v;
  }
  static Value States(const std::vector<StateCode>& list) {
    Value v;
    v.ptr = &list;
    v.present = true;
    return v;
  }
  static Value Strings(const std::vector<std::string>& list) {
    Value v;
    v.ptr = &list;
    v.present = true;
    return v;
  }
  static Value Day(Date d) {
    Value v;
    v.i = d.days;
    v.present = true;
    return v;
  }
  static Value Instant(Timestamp t) {
    Value v;
    v.i = t.seconds;
    v.present = true;
    return v;
  }
  static Value Span(const Period& p) {
    Value v;
    v.i = p.from.days;
    v.aux = static_cast<uint32_t>(p.to.days);
    v.present = true;
    return v;
  }
  static Value Count(size_t n) { return Ordinal(n); }

  bool truthy() const { return present && bits != 0; }
  std::string_view str() const { return {static_cast<const char*>(ptr), aux}; }
  const std::vector<StateCode>& states() const {
    return *static_cast<const std::vector<StateCode>*>(ptr);
  }
  const std::vector<std::string>& strings() const {
    return *static_cast<const std::vector<std::string>*>(ptr);
  }
  StateCode state() const {
    StateCode s;
    s.c[0] = static_cast<char>(bits & 0xff);
    s.c[1] = static_cast<char>((bits >> 8) & 0xff);
    return s;
  }
};

// Renders a value for a person: numbers without trailing zeros, codes with spaces for
// underscores ("computer fraud"), sets as "a, b and c", absent values as "not given".
std::string FormatValue(Type t, const Value& v);
// The same, appended to `out` (no temporary string for the common types).
void AppendValue(std::string* out, Type t, const Value& v);

}  // namespace comity::rules

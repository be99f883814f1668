// A small regular-expression matcher for JSON Schema `pattern` (an ECMA-262 subset), compiled
// once and matched in linear time without recursion or allocation.
//
//   StatusOr<Pattern> p = Pattern::Compile("^[A-Z]{2}$");
//   p->Matches("XA");  // true
//   p->Matches("xa");  // false
//
// Supported: literals; `.`; classes `[a-z0-9._-]`, `[^...]`; escapes \d \D \w \W \s \S \t \n \r
// \f \v \0 \xHH \uHHHH and escaped syntax characters; groups `(...)` and `(?:...)`; alternation
// `|`; quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}` (greedy or lazy: the same for a yes/no
// match); anchors `^` and `$` (whole input: no multiline mode). Anything else (back references,
// look-around, word boundaries, flags) is refused at compile time, never silently misread.
//
// Semantics are ECMA-262's: the pattern is searched for anywhere in the input unless anchored,
// and matches code points (the input is UTF-8; an invalid byte counts as U+FFFD).
//
// Matching runs a Thompson NFA (a Pike VM): O(input length x program size) time, whatever the
// input, so an attacker cannot make it backtrack. Programs are limited to kMaxInstructions.
//
// Thread-safe: a compiled Pattern is immutable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace comity {

class Pattern {
 public:
  static constexpr size_t kMaxInstructions = 4096;

  // kInvalidArgument naming the position and the construct when `source` is not supported.
  static StatusOr<Pattern> Compile(std::string_view source);

  bool Matches(std::string_view text) const;
  const std::string& source() const { return source_; }

  // Implementation types, public only so that the compiler in pattern.cc can build them.
  struct Range {
    uint32_t lo;
    uint32_t hi;
  };
  struct CharClass {
    uint64_t ascii[2] = {0, 0};  // bitmap of code points 0..127
    std::vector<Range> wide;     // sorted ranges above 127
    bool Contains(uint32_t cp) const;
  };
  enum class Op : uint8_t { kClass, kSplit, kJmp, kBol, kEol, kMatch };
  struct Inst {
    Op op;
    uint32_t x = 0;  // kClass: class index; kSplit, kJmp: target
    uint32_t y = 0;  // kSplit: second target
  };

 private:
  std::string source_;
  std::vector<Inst> prog_;
  std::vector<CharClass> classes_;
  bool anchored_start_ = false;  // every path starts with ^: only position 0 can start a match

  // Most schema patterns are ^ (class{min,max})* $ where no repeated class overlaps a later one;
  // those match greedily in one pass (a counted loop per atom), without the NFA.
  struct Atom {
    uint32_t cls;
    uint32_t min;
    uint32_t max;  // UINT32_MAX: unbounded
  };
  std::vector<Atom> simple_;
  bool is_simple_ = false;
  bool MatchesSimple(std::string_view text) const;

  friend class PatternCompiler;
};

}  // namespace comity

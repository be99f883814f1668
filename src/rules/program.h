// Internal: the compiled form of a rule base and its interpreter.
//
// Each expression is a tree of Nodes in one contiguous vector; fields are pre-resolved to
// their FieldDef (typed accessor), enum literals to ordinals, sets to bitmasks, lexicons to
// their automaton. Eval() walks the tree with a switch and never allocates.
//
// Thread-safe after construction (immutable); Eval mutates only the caller's Env.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/model.h"
#include "rules/fields.h"
#include "rules/lexicon.h"
#include "rules/types.h"

namespace comity::rules {

enum class Op : uint8_t {
  kConst,
  kField,       // field->Read(env, 0)
  kFieldKeyed,  // field->Read(env, Eval(a).bits)
  kNot,
  kAnd,
  kOr,
  kCmpNum,    // sub: CmpOp; a, b numbers
  kCmpInt,    // sub: CmpOp; dates, timestamps (i)
  kEqBits,    // bool, enum (same enumeration), state
  kEqMapped,  // enum a (remapped) == enum b
  kEqStr,
  kInSet,          // enum a in set b (remap when the enumerations differ)
  kInStates,       // state a in list b
  kInStrings,      // text a in list b
  kIntersectsSet,  // set a (remapped) & set b
  kIntersectsStates,
  kIntersectsStrings,
  kIsPresent,
  kIsBlank,      // text absent or only whitespace
  kIsEmptyBits,  // set with no member, or list with count 0
  kIsEmptyStates,
  kIsEmptyStrings,
  kAny,  // var; a: the condition
  kNo,
  kCount,     // a: list, set, state list or text list
  kDays,      // a: period -> to - from, in days
  kMentions,  // a: text; lexicon
  kMatched,   // a: text; lexicon -> the entry matched, or absent
};

enum CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Node {
  Op op = Op::kConst;
  uint8_t sub = 0;
  uint8_t var = 0;
  Type type;
  int32_t a = -1;
  int32_t b = -1;
  int16_t remap = -1;
  const FieldDef* field = nullptr;
  const Lexicon* lexicon = nullptr;
  Value constant;
};

// One piece of a message: literal text, or an expression rendered with FormatValue.
struct MessagePiece {
  std::string text;
  int32_t node = -1;
};

struct CompiledRule {
  std::string id;
  std::vector<Citation> citations;
  std::vector<Var> loops;
  int32_t when = -1;
  Effect effect = Effect::kNote;
  int32_t effect_node = -1;  // effect taken from a profile field (enum remapped to Effect)
  int16_t effect_remap = -1;
  std::string condition_code;
  std::vector<MessagePiece> message;
  std::vector<const FieldDef*> pointers;  // request fields read by `when`, bound by the loops
};

class Program {
 public:
  std::vector<Node> nodes;
  std::vector<CompiledRule> rules;
  // remaps[i][ordinal of the source enumeration] = ordinal in the target, or 0xFF.
  std::vector<std::array<uint8_t, 64>> remaps;
  std::deque<std::string> strings;  // storage for string constants (stable addresses)
  std::vector<std::unique_ptr<Lexicon>> lexicons;
  std::vector<std::pair<std::string, std::string>> names;  // name -> description

  Value Eval(int32_t n, Env& env) const;
  uint64_t Remap(int16_t remap, uint64_t bits, bool is_set) const;
};

// Number of items a variable iterates over in `env` (selectors: of the bound measure).
size_t ItemCount(Var v, const Env& env);

}  // namespace comity::rules

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

// The hottest fields, read inline by Fetch instead of through their accessor (the accessor
// stays the reference: a test checks both agree).
enum class Direct : uint8_t { kNone, kOffenceCategory, kMeasureType, kMeasureDataCategories };
Direct DirectFor(const FieldDef* f);

struct Node {
  Op op = Op::kConst;
  uint8_t sub = 0;
  uint8_t var = 0;
  bool neg = false;  // a boolean operator whose result is negated (`!=`, `not in`, `not (...)`)
  Type type;
  int32_t a = -1;
  int32_t b = -1;
  int16_t remap = -1;
  const FieldDef* field = nullptr;
  // The field's accessor, copied here so that reading a field is one indirect call.
  Root root = Root::kRequest;
  Direct direct = Direct::kNone;
  Getter get = nullptr;
  ProfileGetter profile_get = nullptr;
  const Lexicon* lexicon = nullptr;
  Value constant;
};

// One piece of a message: literal text, or an expression rendered with FormatValue.
struct MessagePiece {
  std::string text;
  int32_t node = -1;
  std::string json = {};  // `text` escaped for a JSON string, without quotes (PrepareDecisionJson)
};

// A finding's JSON Pointer pattern ("/measures/{measure}/selectors/{selector}") split for the
// hot path: literal text (JSON-escaped) followed by the index of a variable (or none).
struct PointerPiece {
  std::string json;
  int8_t var = -1;  // a Var, or -1 for the last piece
};

// A conjunct of a rule's condition in the form the hot path tests without the interpreter
// when it can: `field in {const set}`, `field == const`, `field is present`, `field` (boolean),
// `field <op> number`; anything else is kGeneric (interpreted).
struct Test {
  enum Kind : uint8_t { kGeneric, kInConst, kEqConst, kPresent, kTruthy, kCmpConst };
  Kind kind = kGeneric;
  bool neg = false;
  uint8_t cmp = 0;
  int32_t node = -1;  // the whole conjunct (kGeneric) or its field
  uint64_t bits = 0;
  double num = 0;
};

struct CompiledRule {
  std::string id;
  std::vector<Citation> citations;
  std::vector<Var> loops;
  int32_t when = -1;
  // The conjuncts of `when` (its top-level `and`s), grouped by the loop depth at which all the
  // variables they read are bound: levels[0] is checked once per request, levels[d] once per
  // binding of loops[0..d). Hoisting is exact because expressions have no side effects.
  std::vector<std::vector<int32_t>> levels;
  // The same, flattened for the hot path: conjuncts of level d are
  // conds[level_begin[d] .. level_begin[d + 1]).
  std::vector<Test> conds;
  std::array<uint16_t, kVarCount + 2> level_begin{};
  Effect effect = Effect::kNote;
  int32_t effect_node = -1;  // effect taken from a profile field (enum remapped to Effect)
  int16_t effect_remap = -1;
  std::string condition_code;
  std::vector<MessagePiece> message;
  std::vector<const FieldDef*> pointers;  // request fields read by `when`, bound by the loops

  // The constant parts of this rule's finding and condition as JSON text, rendered once by
  // PrepareDecisionJson for RuleBase::AppendDecisionJson:
  std::string json_rule;                                 // {"rule":"<id>","effect":"
  std::string json_citations;                            // ","citations":[...],"message":"
  std::vector<std::vector<PointerPiece>> json_pointers;  // one per entry of `pointers`
  std::string json_condition;                            // {"code":"<condition code>","text":"
  std::string json_condition_citations;  // ","citations":[...]} (or "} with no citation)
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

  Value Eval(int32_t n, Env& env) const {
    Value v = EvalRaw(n, env);
    return nodes[n].neg ? Value::Bool(!v.truthy()) : v;
  }
  Value EvalRaw(int32_t n, Env& env) const;

  // Eval with the two commonest leaves (constants and plain fields) handled inline.
  Value Fetch(int32_t n, Env& env) const {
    const Node& node = nodes[n];
    if (node.op == Op::kConst) return node.constant;
    if (node.op == Op::kField) {
      switch (node.direct) {
        case Direct::kOffenceCategory:
          return Value::Enum(env.offence().category);
        case Direct::kMeasureType:
          return Value::Enum(env.measure().type);
        case Direct::kMeasureDataCategories:
          return Value::Set(env.measure().data_categories);
        case Direct::kNone:
          break;
      }
      return Read(node, env, 0);
    }
    return Eval(n, env);
  }
  static Value Read(const Node& node, const Env& env, uint64_t key) {
    switch (node.root) {
      case Root::kRequesting:
        return node.profile_get(*env.requesting, key);
      case Root::kRequested:
        return node.profile_get(*env.requested, key);
      default:
        return node.get(env, key);
    }
  }
  uint64_t Remap(int16_t remap, uint64_t bits, bool is_set) const;
};

// Number of items a variable iterates over in `env` (selectors: of the bound measure).
size_t ItemCount(Var v, const Env& env);

// Renders the JSON fragments of every rule (CompiledRule::json_*, MessagePiece::json); the
// compiler calls it once the rules are final.
void PrepareDecisionJson(Program* program);

}  // namespace comity::rules

// The rule language's syntax tree and its parser (the first stage of loading; see
// docs/rules.md for the grammar). The parser checks syntax only; names, fields and types are
// checked by the compiler (compiler.h).
//
//   std::vector<RuleError> errors;
//   std::optional<FileAst> ast = ParseRuleFile(text, "intercept.rules", &errors);
//
// Limits: files over kMaxFileBytes and expressions nested deeper than kMaxDepth are refused
// with an error, so that no input can exhaust memory or the stack.
// Thread-safe: free functions without shared state.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/error.h"

namespace comity::rules {

inline constexpr size_t kMaxFileBytes = 1 << 20;  // 1 MiB per rule or lexicon file
inline constexpr int kMaxDepth = 64;              // expression nesting

struct Pos {
  int line = 1;
  int col = 1;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct PathSegment {
  std::string name;
  Pos pos;
  ExprPtr index;  // `[expr]` after the name, or null
};

struct Expr {
  enum class K {
    kNumber,
    kString,
    kBool,
    kSetLiteral,  // {"a", "b"}: items are kString
    kName,        // a bare name: a named set or a lexicon
    kPath,        // request.facts, requested.criminalizes[offence.category].max_penalty_years
    kNot,
    kAnd,
    kOr,
    kCompare,  // op: == != < <= > >=
    kIn,       // negated: `not in`
    kIntersects,
    kIs,          // op: present absent blank empty; negated: `is not`
    kCall,        // text: function name
    kQuantifier,  // op: any / no; text: variable; kids[0]: the condition
  };
  K kind = K::kBool;
  Pos pos;
  std::string text;  // string value, name, function, variable
  std::string op;
  double number = 0;
  bool boolean = false;
  bool negated = false;
  Pos var_pos;  // for kQuantifier: where the variable is named
  std::vector<PathSegment> path;
  std::vector<ExprPtr> kids;
};

struct CitationAst {
  Pos pos;
  std::string instrument;
  long article = -1;
  std::string paragraph;  // "1(c)", "h"; empty when none
};

// A string literal with its raw text (escapes not yet processed) and where it starts, so that
// `{...}` interpolations can be parsed with exact positions.
struct StringAst {
  Pos pos;  // of the opening quote
  std::string raw;
};

struct RuleAst {
  Pos pos;
  std::string id;
  Pos id_pos;
  std::vector<CitationAst> citations;
  std::vector<std::pair<std::string, Pos>> loops;  // `for each offence, measure`
  ExprPtr when;
  // `then <effect> "message"`: effect is a keyword (refuse, incomplete, review, note,
  // condition) or a path naming a profile field (effect_path).
  std::string effect;
  Pos effect_pos;
  ExprPtr effect_path;
  std::string condition_code;  // for `then condition <code> "..."`
  Pos condition_pos;
  StringAst message;
  std::optional<StringAst> because;
  int first_line = 0;
  int last_line = 0;
};

struct SetAst {
  Pos pos;
  std::string name;
  ExprPtr of;  // the path whose type the members have
  std::vector<std::pair<std::string, Pos>> members;
};

struct LexiconAst {
  Pos pos;
  std::string name;
  StringAst file;
};

struct FileAst {
  std::string file;
  std::optional<StringAst> version;
  Pos version_pos;
  std::vector<SetAst> sets;
  std::vector<LexiconAst> lexicons;
  std::vector<RuleAst> rules;
};

// Parses one rule file. On syntax errors, appends them to `errors` and returns nullopt.
std::optional<FileAst> ParseRuleFile(std::string_view text, const std::string& file,
                                     std::vector<RuleError>* errors);

// Parses one expression that starts at `start` in `file` (used for `{...}` in messages).
ExprPtr ParseExpression(std::string_view text, const std::string& file, Pos start,
                        std::vector<RuleError>* errors);

// The text of a string literal with escapes processed (\" \\ \{ \} \n) and every run of
// whitespace containing a line break folded to one space, so that long messages may span
// lines.
std::string UnescapeString(std::string_view raw);

}  // namespace comity::rules

// The safeguards engine: a rule base loaded from text files, compiled once, that screens a
// request against the treaty and the requested state's law and policy.
//
//   LoadResult loaded = RuleBase::LoadDirectory("rules");
//   if (!loaded.ok()) { for (auto& e : loaded.errors) puts(e.ToString().c_str()); return; }
//   const RuleBase& rb = *loaded.rulebase;
//   Decision d = rb.Screen(request, requesting_profile, requested_profile);
//   // d.outcome, d.findings (each with rule id, effect, citations, message, pointers),
//   // d.conditions, d.respond_by, d.rulebase.{version,digest}
//
// Hot path: Evaluate() fills a caller-owned Evaluation with every finding that fires (rule
// index + the bound offence/measure/selector/person/attachment indices) and the outcome, and
// allocates nothing once the Evaluation has grown to its working size. ToDecision() renders
// messages and pointers afterwards.
//
// Loading reads every `*.rules` file under the directory (recursively, sorted by relative
// path) and the lexicon files they name. Any syntax, name, field, type or citation problem is
// reported as file:line:column and the rule base is not built: a rule base with errors is
// never used.
//
// Digest: "sha256:" + hex SHA-256 over the files loaded (rule files and lexicons), sorted by
// their relative path with '/' separators (byte order); for each file the hash takes the path,
// a NUL byte, the size in decimal ASCII, a NUL byte, then the content. It names exactly the
// bytes that decide the rule base's behaviour (docs/rules.md).
//
// Thread-safety: a RuleBase is immutable after loading; Evaluate, ToDecision and Screen may be
// called concurrently, each thread with its own Evaluation. Evaluation is thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "rules/error.h"
#include "rules/fields.h"

namespace comity::rules {

class Program;  // the compiled form (program.h)

struct SourceFile {
  std::string path;  // relative to the rule base's directory, '/' separated
  std::string content;
};

// Reads a file that a rule file refers to (a lexicon), by path relative to the rule base.
using FileReader = std::function<StatusOr<std::string>(const std::string& relative_path)>;

// What `comity rules list` and `explain` show about one rule.
struct RuleInfo {
  std::string id;
  std::string file;
  int line = 0;
  std::vector<Citation> citations;
  std::string effect;  // "refuse", ..., or the profile field it comes from
  std::string condition_code;
  std::vector<std::string> loops;  // "offence", "measure", ...
  std::string source;              // the rule's text as written in its file
  std::string because;             // the plain-language explanation, if given
};

// One finding that fired: the rule, its effect, and the bound indices (-1 when unbound).
struct Hit {
  uint16_t rule = 0;
  Effect effect = Effect::kNote;
  std::array<int16_t, kVarCount> idx{-1, -1, -1, -1, -1};
};

// Caller-owned scratch for RuleBase::Evaluate; reuse it to avoid allocation.
class Evaluation {
 public:
  const std::vector<Hit>& hits() const { return hits_; }
  Outcome outcome() const { return outcome_; }

 private:
  friend class RuleBase;
  std::vector<Hit> hits_;
  Outcome outcome_ = Outcome::kProceed;
};

class RuleBase;

struct LoadResult {
  std::shared_ptr<const RuleBase> rulebase;  // null when errors is not empty
  std::vector<RuleError> errors;
  bool ok() const { return rulebase != nullptr; }
  // All errors, one "file:line:column: message" per line.
  std::string ErrorText() const;
};

class RuleBase {
 public:
  static constexpr size_t kMaxFiles = 1000;
  static constexpr size_t kMaxRules = 10000;

  // Loads DIR/**/*.rules and the lexicons they name.
  static LoadResult LoadDirectory(const std::string& dir);
  // Compiles in-memory rule files; lexicons are read through `read`.
  static LoadResult Compile(std::vector<SourceFile> rule_files, const FileReader& read);

  ~RuleBase();
  RuleBase(const RuleBase&) = delete;
  RuleBase& operator=(const RuleBase&) = delete;

  // Screens one request. The profiles must be those of request.requesting_state and
  // request.requested_state. No heap allocation once `out` has grown to its working size.
  void Evaluate(const Request& request, const StateProfile& requesting,
                const StateProfile& requested, Evaluation* out) const;

  // The same findings as Evaluate, computed the plain way: every binding of every rule, the
  // whole condition interpreted, no hoisting or fast paths. Slow; the reference against which
  // tests check the optimised evaluator.
  void EvaluateReference(const Request& request, const StateProfile& requesting,
                         const StateProfile& requested, Evaluation* out) const;

  // The explained decision for an evaluation of the same request and profiles.
  Decision ToDecision(const Evaluation& evaluation, const Request& request,
                      const StateProfile& requesting, const StateProfile& requested) const;
  // The same into `out`, reusing the storage of its findings, messages and conditions: a
  // caller that screens many requests (comity screen --batch) keeps one Decision.
  void ToDecision(const Evaluation& evaluation, const Request& request,
                  const StateProfile& requesting, const StateProfile& requested,
                  Decision* out) const;

  // Appends the decision for an evaluation of the same request and profiles to `out` as compact
  // JSON: exactly the bytes of AppendDecision(ToDecision(...)) (core/codec.h), without building
  // the Decision. The constant parts (rule ids, citations, message text, the rule base's id) are
  // rendered once at load time; `out` keeps its capacity from call to call, and nothing else is
  // allocated unless a message shows a set or a timestamp. The hot path of
  // `comity screen --batch`.
  void AppendDecisionJson(const Evaluation& evaluation, const Request& request,
                          const StateProfile& requesting, const StateProfile& requested,
                          std::string* out) const;

  // Evaluate + ToDecision.
  Decision Screen(const Request& request, const StateProfile& requesting,
                  const StateProfile& requested) const;

  const RulebaseId& id() const { return id_; }
  std::span<const RuleInfo> rules() const { return infos_; }
  const RuleInfo* FindRule(std::string_view id) const;
  // Named sets and lexicons, for `comity rules list`: name -> one-line description.
  std::vector<std::pair<std::string, std::string>> Names() const;

 private:
  RuleBase();
  friend class Compiler;

  std::unique_ptr<Program> program_;
  std::vector<RuleInfo> infos_;
  RulebaseId id_;
  std::string json_tail_;  // ,"rulebase":{"version":"...","digest":"..."}}
};

// The answer deadline: created + the requested policy's response_days for the urgency (hours
// for emergencies); nullopt unless both are present.
std::optional<Timestamp> RespondBy(const Request& request, const StateProfile& requested);

// "sha256:<hex>" of files as described above (exposed for tests and tools).
std::string DigestFiles(std::vector<SourceFile> files);

}  // namespace comity::rules

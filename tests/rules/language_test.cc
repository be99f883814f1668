// The rule language: broken rule files with the exact error expected, and the semantics of
// expressions on small in-memory rule bases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "rules/fixtures.h"
#include "rules/rulebase.h"
#include "rules/syntax.h"

namespace comity::rules {
namespace {

using testing::BaselineRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::RequestingProfile;
using testing::StrictProfile;

FileReader MapReader(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return NotFoundError("no such file");
    return it->second;
  };
}

LoadResult CompileOne(const std::string& text, std::map<std::string, std::string> others = {}) {
  return RuleBase::Compile({SourceFile{"t.rules", text}}, MapReader(std::move(others)));
}

std::vector<std::string> Errors(const std::string& text,
                                std::map<std::string, std::string> others = {}) {
  LoadResult r = CompileOne(text, std::move(others));
  std::vector<std::string> out;
  for (const RuleError& e : r.errors) out.push_back(e.ToString());
  EXPECT_EQ(r.ok(), out.empty());
  return out;
}

// A valid rule with `when` and `then` lines replaceable.
std::string Rule(const std::string& when, const std::string& then = "then review \"x\"",
                 const std::string& loops = "") {
  return "version \"t\"\n"
         "rule t.r\n"
         "  cites UNCC 40\n" +
         (loops.empty() ? "" : "  " + loops + "\n") + "  when " + when + "\n  " + then + "\n";
}

struct BrokenCase {
  const char* name;
  std::string text;
  std::string error;  // the first error, exactly
};

const std::vector<BrokenCase>& BrokenCases() {
  static const std::vector<BrokenCase> kCases = {
      {"missing then",
       "version \"t\"\nrule t.r\n  cites UNCC 40\n  when request.facts is blank\n  incomplete "
       "\"x\"\n",
       "t.rules:5:3: expected 'then' after the condition, got 'incomplete'"},
      {"missing cites", "version \"t\"\nrule t.r\n  when request.facts is blank\n",
       "t.rules:3:3: expected 'cites' after the rule's id: every rule cites its articles, got "
       "'when'"},
      {"unknown field", Rule("request.fact is blank"),
       "t.rules:4:16: unknown field request.fact; did you mean request.facts?"},
      {"unknown nested field", Rule("requested.policy.suspend is empty"),
       "t.rules:4:25: unknown field requested.policy.suspend; did you mean "
       "requested.policy.suspended?"},
      {"unknown root", Rule("profile.name is blank"),
       "t.rules:4:8: unknown field profile.name: a field starts with request, requesting, "
       "requested, offence, measure, selector, person or attachment"},
      {"enum compared with a number",
       Rule("measure.type == 3", "then review \"x\"", "for each measure"),
       "t.rules:5:21: type mismatch: cannot compare a measure type with a number using =="},
      {"unknown enum literal",
       Rule("measure.type == \"intercep\"", "then review \"x\"", "for each measure"),
       "t.rules:5:24: unknown measure type \"intercep\"; expected one of: preserve, "
       "disclose_preserved_traffic, produce, search_seize, realtime_traffic, intercept, "
       "emergency_disclosure, surrender, testimony, service_of_documents"},
      {"unknown member in a set literal",
       Rule("measure.type in {\"produce\", \"seize\"}", "then review \"x\"", "for each measure"),
       "t.rules:5:36: unknown measure type \"seize\"; expected one of: preserve, "
       "disclose_preserved_traffic, produce, search_seize, realtime_traffic, intercept, "
       "emergency_disclosure, surrender, testimony, service_of_documents"},
      {"number compared with text",
       Rule("measure.duration_days == \"30\"", "then review \"x\"", "for each measure"),
       "t.rules:5:33: type mismatch: a number cannot be compared with text \"30\""},
      {"ordering on enums", Rule("request.urgency < \"emergency\""),
       "t.rules:4:24: type mismatch: cannot compare a urgency with a urgency using <"},
      {"unknown function", Rule("foo(request.facts)"),
       "t.rules:4:8: unknown function 'foo'; known: count, days, mentions, matched"},
      {"wrong arity", Rule("count(request.offences, request.measures) > 1"),
       "t.rules:4:8: count() takes 1 argument, got 2"},
      {"missing article", "version \"t\"\nrule t.r\n  cites UNCC\n  when true\n  then note \"x\"\n",
       "t.rules:4:3: expected an article number after 'UNCC', got 'when'"},
      {"unknown instrument",
       "version \"t\"\nrule t.r\n  cites UNCX 40\n  when true\n  then note "
       "\"x\"\n",
       "t.rules:3:9: unknown instrument 'UNCX' in citation; known: UNCC"},
      {"article out of range",
       "version \"t\"\nrule t.r\n  cites UNCC 40, UNCC 69\n  when true\n  then note \"x\"\n",
       "t.rules:3:18: UNCC has articles 1 to 68, not 69"},
      {"fractional article",
       "version \"t\"\nrule t.r\n  cites UNCC 4.5\n  when true\n  then note \"x\"\n",
       "t.rules:3:14: article must be a whole number, got 4.5"},
      {"malformed paragraph",
       "version \"t\"\nrule t.r\n  cites UNCC 2(H)\n  when true\n  then note \"x\"\n",
       "t.rules:3:16: expected a paragraph such as '(1)' or '(h)', got 'H'"},
      {"unbound variable", Rule("offence.category == \"csam\""),
       "t.rules:4:8: 'offence' is not bound here: add 'for each offence' to the rule or use "
       "'any offence where (...)'"},
      {"selector without measure",
       Rule("selector.kind == \"ip\"", "then review \"x\"", "for each selector"),
       "t.rules:4:12: a selector belongs to a measure: write 'for each measure, selector'"},
      {"unknown loop", Rule("true", "then review \"x\"", "for each country"),
       "t.rules:4:12: cannot iterate over 'country': expected offence, measure, selector, person "
       "or attachment"},
      {"unknown effect", Rule("true", "then deny \"x\""),
       "t.rules:5:8: unknown effect 'deny'; expected refuse, incomplete, review, condition or "
       "note"},
      {"effect field of the wrong type",
       Rule("true", "then requested.policy.dual_criminality \"x\""),
       "t.rules:5:8: the effect must be refuse, incomplete, review, condition or note, or a "
       "profile field that names one; requested.policy.dual_criminality is a dual criminality "
       "policy"},
      {"condition without code", Rule("true", "then condition \"x\""),
       "t.rules:5:18: expected the condition's code (e.g. use-limitation), got a string"},
      {"unknown field in a message", Rule("true", "then review \"Facts: {request.factz}.\""),
       "t.rules:5:32: unknown field request.factz; did you mean request.facts?"},
      {"unclosed interpolation", Rule("true", "then review \"Facts: {request.facts.\""),
       "t.rules:5:23: unclosed '{' in the message"},
      {"empty message", Rule("true", "then review \"  \""),
       "t.rules:5:15: the message is empty: say what was found, naming the values"},
      {"unterminated string",
       "version \"t\"\nrule t.r\n  cites UNCC 40\n  when true\n  then "
       "review \"x\n",
       "t.rules:5:15: unterminated string"},
      {"no version", "rule t.r\n  cites UNCC 40\n  when true\n  then review \"x\"\n",
       "t.rules:1:1: the rule base states no version: add 'version \"...\"' to one file"},
      {"single equals", Rule("request.urgency = \"routine\""), "t.rules:4:24: use '==' to compare"},
      {"condition not boolean", Rule("request.facts"),
       "t.rules:4:8: the condition must be true or false, but this is a text"},
      {"and on a number", Rule("request.urgency == \"routine\" and count(request.offences)"),
       "t.rules:4:41: 'and' needs true or false, but this is a number"},
      {"unknown set", Rule("offence.category in speech", "then review \"x\"", "for each offence"),
       "t.rules:5:28: unknown name 'speech' (not a declared set or lexicon)"},
      {"set of the wrong kind",
       "version \"t\"\nset s of measure.type = {\"produce\"}\n" +
           std::string("rule t.r\n  cites UNCC 40\n  for each offence\n  when offence.category "
                       "in s\n  then review \"x\"\n"),
       "t.rules:6:25: type mismatch: cannot look for a offence category in a set of measure "
       "type"},
      {"set of a non-enum field", "version \"t\"\nset s of request.facts = {\"a\"}\n",
       "t.rules:2:10: a set holds codes of an enumeration, but request.facts is a text"},
      {"is empty on text", Rule("request.facts is empty"),
       "t.rules:4:22: 'is empty' applies to sets and lists, not to a text (use 'is blank')"},
      {"index of the wrong type",
       Rule("requested.criminalizes[measure.type].max_penalty_years > 1", "then review \"x\"",
            "for each measure"),
       "t.rules:5:31: the index of requested.criminalizes must be an offence category, not a "
       "measure type"},
      {"index missing", Rule("requested.criminalizes.max_penalty_years > 1"),
       "t.rules:4:31: unknown field requested.criminalizes.max_penalty_years; did you mean "
       "requested.criminalizes[...].max_penalty_years?"},
      {"not indexable", Rule("requested.name[\"csam\"] is blank"),
       "t.rules:4:18: requested.name cannot be indexed"},
      {"bad rule id",
       "version \"t\"\nrule T.r\n  cites UNCC 40\n  when true\n  then review "
       "\"x\"\n",
       "t.rules:2:6: rule id 'T.r' must be lowercase words separated by dots, e.g. "
       "uncc.intercept.serious-crime"},
      {"nested too deep", Rule(std::string(70, '(') + "true" + std::string(70, ')')),
       "t.rules:4:21: expression nested more than 64 levels deep"},
      // Found by fuzz_rules: a control byte in a message confused interpolation.
      {"control character in a message", Rule("true", "then review \"a\x01{request.facts}\""),
       "t.rules:5:17: control character (byte 1) in a string"},
      {"escaped control character", Rule("true", "then review \"a\\\x01\""),
       "t.rules:5:18: control character (byte 1) in a string"},
      {"stray character", Rule("request.facts is blank ; true"),
       "t.rules:4:31: unexpected character ';'"},
      {"lexicon outside the rule base", "version \"t\"\nlexicon l from \"../secret.txt\"\n",
       "t.rules:2:16: lexicon file '../secret.txt' must be a path relative to the rule base, "
       "inside it"},
      {"lexicon missing", "version \"t\"\nlexicon l from \"missing.txt\"\n",
       "t.rules:2:16: cannot read lexicon file 'missing.txt': no such file"},
      {"mentions without lexicon",
       Rule("mentions(offence.description, offence.national_provision)", "then review \"x\"",
            "for each offence"),
       "t.rules:5:38: mentions() needs a declared lexicon as its second argument"},
      {"quantifier over a bound variable",
       Rule("any offence where (offence.category == \"csam\")", "then review \"x\"",
            "for each offence"),
       "t.rules:5:12: 'offence' is already bound here"},
  };
  return kCases;
}

TEST(BrokenRules, ExactErrors) {
  for (const BrokenCase& c : BrokenCases()) {
    std::vector<std::string> errors = Errors(c.text);
    ASSERT_FALSE(errors.empty()) << c.name << ": no error for\n" << c.text;
    EXPECT_EQ(errors[0], c.error) << c.name << "\n" << c.text;
  }
}

TEST(BrokenRules, DuplicateIdsAcrossFiles) {
  std::string rule = "rule t.same\n  cites UNCC 40\n  when true\n  then note \"x\"\n";
  LoadResult r = RuleBase::Compile(
      {SourceFile{"b.rules", "\n" + rule}, SourceFile{"a.rules", "version \"t\"\n" + rule}},
      MapReader({}));
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(), "b.rules:2:6: duplicate rule id 't.same' (first at a.rules:2)");
}

TEST(BrokenRules, EveryErrorIsReportedAndNothingIsBuilt) {
  std::string text = Rule("request.fact is blank") +
                     "rule t.s\n  cites UNCC 99\n  when true\n  then note \"x\"\n"
                     "rule t.u\n  cites UNCC 1\n  when request.urgency == \"soon\"\n"
                     "  then note \"x\"\n";
  LoadResult r = CompileOne(text);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.rulebase, nullptr);
  ASSERT_EQ(r.errors.size(), 3u) << r.ErrorText();
  EXPECT_EQ(r.errors[1].ToString(), "t.rules:7:9: UNCC has articles 1 to 68, not 99");
  EXPECT_THAT(r.errors[2].ToString(), HasSubstr("t.rules:12:27: unknown urgency \"soon\""));
}

TEST(BrokenRules, SyntaxErrorsInSeveralRulesAreAllReported) {
  std::string text =
      "version \"t\"\nrule t.a\n  cites UNCC 40\n  when (true\n  then note \"x\"\n"
      "rule t.b\n  cites 40\n  when true\n  then note \"x\"\n";
  std::vector<std::string> errors = Errors(text);
  EXPECT_THAT(errors, ElementsAre("t.rules:5:3: expected ')' to close '(', got 'then'",
                                  "t.rules:7:9: expected a citation such as 'UNCC 46', got number "
                                  "40"));
}

TEST(BrokenRules, FileTooLarge) {
  std::string big = "version \"t\"\n" + std::string(kMaxFileBytes, '#');
  EXPECT_THAT(Errors(big), ElementsAre("t.rules:1:1: file is larger than 1048576 bytes"));
}

TEST(BrokenRules, CountLimits) {
  std::vector<SourceFile> files;
  files.push_back({"v.rules", "version \"t\"\n"});
  for (size_t i = 0; i < RuleBase::kMaxFiles; ++i) {
    std::string name = "f";
    name += std::to_string(i);
    name += ".rules";
    files.push_back({name, "# empty\n"});
  }
  LoadResult r = RuleBase::Compile(files, MapReader({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].ToString(), "(rule base): more than 1000 rule files");
  std::string many = "version \"t\"\n";
  for (size_t i = 0; i <= RuleBase::kMaxRules; ++i) {
    many += "rule r.n";
    many += std::to_string(i);
    many += " cites UNCC 1 when true then note \"n\"\n";
  }
  r = CompileOne(many);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].ToString(), "(rule base): more than 10000 rules");
  r = RuleBase::Compile({}, MapReader({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].ToString(), "(rule base): no rule files (*.rules) found");
}

TEST(BrokenRules, LexiconErrorsNameTheLexiconFile) {
  std::string text = "version \"t\"\nlexicon l from \"l.txt\"\n";
  EXPECT_THAT(
      Errors(text, {{"l.txt",
                     "en: fine\nno colon here\nxx1: bad lang\nen: a*b\n"
                     "fr: \nen: fine\nen: ...\n"}}),
      ElementsAre("l.txt:2:1: expected '<language>: <phrase>', e.g. 'en: false news'",
                  "l.txt:3:1: language must be a 2- or 3-letter lowercase code, got 'xx1'",
                  "l.txt:4:6: '*' is allowed only at the end of a phrase",
                  "l.txt:5:4: empty phrase", "l.txt:6:5: duplicate phrase 'fine' (first on line 1)",
                  "l.txt:7:5: phrase has no letters or digits"));
}

// Inputs that once crashed fuzz_rules (tests/rules/regressions/): they must load or fail
// cleanly.
TEST(BrokenRules, FuzzRegressions) {
  namespace fs = std::filesystem;
  size_t n = 0;
  for (const auto& e :
       fs::directory_iterator(fs::path(COMITY_SOURCE_DIR) / "tests" / "rules" / "regressions")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    LoadResult r = CompileOne(ss.str());
    EXPECT_EQ(r.ok(), r.errors.empty()) << e.path();
    ++n;
  }
  EXPECT_GE(n, 1u);
}

TEST(RuleErrorFormat, WholeFileProblemsHaveNoPosition) {
  EXPECT_EQ((RuleError{"rules", 0, 0, "not a directory"}).ToString(), "rules: not a directory");
  EXPECT_EQ((RuleError{"a.rules", 3, 7, "x"}).ToString(), "a.rules:3:7: x");
}

// --- semantics -------------------------------------------------------------------------------

struct Probe {
  Request request = BaselineRequest();
  StateProfile requesting = RequestingProfile();
  StateProfile requested = StrictProfile();
};

// Compiles `when` as the condition of one rule and reports the bindings it fired for.
std::vector<std::string> Fire(const std::string& when, const Probe& p,
                              const std::string& loops = "", const std::string& message = "hit") {
  LoadResult r = CompileOne(Rule(when, "then review \"" + message + "\"", loops));
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  if (!r.ok()) return {"<error>"};
  Decision d = r.rulebase->Screen(p.request, p.requesting, p.requested);
  std::vector<std::string> out;
  for (const Finding& f : d.findings) out.push_back(f.message);
  return out;
}

bool Fires(const std::string& when, const Probe& p = Probe(), const std::string& loops = "") {
  return !Fire(when, p, loops).empty();
}

TEST(Semantics, AbsentValuesNeverCompare) {
  Probe p;
  p.request.offences[0].max_penalty_years.reset();
  const std::string loop = "for each offence";
  EXPECT_FALSE(Fires("offence.max_penalty_years < 4", p, loop));
  EXPECT_FALSE(Fires("offence.max_penalty_years >= 4", p, loop));
  EXPECT_FALSE(Fires("offence.max_penalty_years == 4", p, loop));
  EXPECT_TRUE(Fires("offence.max_penalty_years != 4", p, loop));  // not (==)
  EXPECT_TRUE(Fires("offence.max_penalty_years is absent", p, loop));
  EXPECT_FALSE(Fires("request.emergency.imminent == false", p));
  EXPECT_TRUE(Fires("request.emergency.risk not in {\"life\"}", p));
}

TEST(Semantics, SetsListsAndViews) {
  Probe p;
  EXPECT_TRUE(Fires("\"traffic\" in measure.data_categories", p, "for each measure"));
  EXPECT_FALSE(Fires("\"content\" in measure.data_categories", p, "for each measure"));
  // Data categories and measure types are views of authorization items.
  EXPECT_TRUE(Fires(
      "measure.data_categories intersects requested.policy.independent_authorization_required", p,
      "for each measure"));
  EXPECT_FALSE(Fires("measure.type in requested.policy.independent_authorization_required", p,
                     "for each measure"));
  EXPECT_TRUE(Fires("\"XB\" in person.nationalities", p, "for each person"));
  EXPECT_TRUE(Fires("request.requesting_state == \"XB\"", p));
  EXPECT_TRUE(Fires("requesting.code == request.requesting_state", p));
  p.requesting.other_legal_bases = {"budapest", "bilateral:XA-XB"};
  p.requested.other_legal_bases = {"bilateral:XA-XB"};
  EXPECT_TRUE(Fires("requesting.other_legal_bases intersects requested.other_legal_bases", p));
  EXPECT_TRUE(Fires("\"budapest\" in requesting.other_legal_bases", p));
  EXPECT_TRUE(Fires("count(request.offences) == 1 and count(measure.data_categories) == 2", p,
                    "for each measure"));
  EXPECT_TRUE(Fires("days(measure.period) == 121", p, "for each measure"));
  EXPECT_TRUE(Fires("\"computer_fraud\" in requested.criminalizes", p));
  EXPECT_TRUE(Fires("requested.criminalizes[\"computer_fraud\"].max_penalty_years == 8", p));
  EXPECT_TRUE(Fires("requested.criminalizes[\"defamation\"] is absent", p));
}

TEST(Semantics, QuantifiersAndNestedLoops) {
  Probe p;
  Selector s{SelectorKind::kIp, "192.0.2.1", std::nullopt};
  p.request.measures[0].selectors.push_back(s);
  p.request.measures.push_back(p.request.measures[0]);
  p.request.measures[1].type = MeasureType::kPreserve;
  EXPECT_THAT(Fire("selector.kind == \"ip\"", p, "for each measure, selector",
                   "{measure.type}/{selector.value}"),
              ElementsAre("produce/192.0.2.1", "preserve/192.0.2.1"));
  EXPECT_TRUE(Fires("any measure where (measure.type == \"preserve\")", p));
  EXPECT_FALSE(Fires("no measure where (measure.type == \"preserve\")", p));
  EXPECT_TRUE(Fires(
      "any measure where (any selector where (selector.kind == \"ip\" and measure.all_users == "
      "false))",
      p));
  EXPECT_THAT(Fire("true", p, "for each offence, measure", "{offence.category}+{measure.type}"),
              ElementsAre("computer fraud+produce", "computer fraud+preserve"));
}

TEST(Semantics, MessagesFoldLinesAndEscapeBraces) {
  Probe p;
  LoadResult r =
      CompileOne(Rule("true",
                      "then review \"Penalty \\{years\\}:\n        {offence.max_penalty_years}\n"
                      "     years in {requesting.name}; period {measure.period}; data "
                      "{measure.data_categories}; \\\"quoted\\\"\"",
                      "for each offence, measure"));
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  Decision d = r.rulebase->Screen(p.request, p.requesting, p.requested);
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].message,
            "Penalty {years}: 8 years in Kingdom of Borealia; period 2026-03-01 to 2026-06-30; "
            "data subscriber and traffic; \"quoted\"");
}

TEST(Semantics, EffectFromAProfileFieldAndConditions) {
  std::string text =
      "version \"t\"\n"
      "rule t.speech\n  cites UNCC 6\n  when true\n  then requested.policy.speech_offences \"s\"\n"
      "rule t.cond\n  cites UNCC 40\n  for each measure\n  when true\n"
      "  then condition limit-use \"Use limited ({measure.type}).\"\n";
  LoadResult r = CompileOne(text);
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  Probe p;
  p.request.measures.push_back(p.request.measures[0]);
  p.request.measures[1].type = MeasureType::kSearchSeize;
  Decision d = r.rulebase->Screen(p.request, p.requesting, p.requested);
  ASSERT_EQ(d.findings.size(), 3u);
  EXPECT_EQ(d.findings[0].effect, Effect::kRefuse);
  EXPECT_EQ(d.outcome, Outcome::kRefuse);
  EXPECT_EQ(d.findings[1].effect, Effect::kCondition);
  // One condition per code, with the first binding's text and the rule's citations.
  ASSERT_EQ(d.conditions.size(), 1u);
  EXPECT_EQ(d.conditions[0].code, "limit-use");
  EXPECT_EQ(d.conditions[0].text, "Use limited (produce).");
  EXPECT_EQ(d.conditions[0].citations, (std::vector<Citation>{{"UNCC", 40, std::nullopt}}));
  p.requested.policy.speech_offences = SpeechPolicy::kReview;
  EXPECT_EQ(r.rulebase->Screen(p.request, p.requesting, p.requested).outcome, Outcome::kReview);
}

TEST(Semantics, RulesAcrossFilesShareSets) {
  LoadResult r = RuleBase::Compile(
      {SourceFile{"z.rules",
                  "rule t.a\n  cites UNCC 40\n  for each offence\n  when offence.category in "
                  "mine\n  then note \"{offence.category}\"\n"},
       SourceFile{"a.rules",
                  "version \"v1\"\nset mine of offence.category = {\"computer_fraud\"}"}},
      MapReader({}));
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  EXPECT_EQ(r.rulebase->id().version, "v1");
  Probe p;
  EXPECT_EQ(r.rulebase->Screen(p.request, p.requesting, p.requested).findings.size(), 1u);
}

TEST(Digest, DefinedOverSortedPathsAndContents) {
  // sha256 of "a.rules\0" "3\0" "abc" "b.txt\0" "1\0" "x", computed independently.
  std::string d1 = DigestFiles({{"b.txt", "x"}, {"a.rules", "abc"}});
  std::string d2 = DigestFiles({{"a.rules", "abc"}, {"b.txt", "x"}});
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(d1, "sha256:1dff41c69bc657c5f82c81735d7d63836ffae21da14ba6e383c435d34a8d5cbc");
  EXPECT_NE(d1, DigestFiles({{"a.rules", "abd"}, {"b.txt", "x"}}));
  // The boundary between path and content matters.
  EXPECT_NE(DigestFiles({{"ab", "c"}}), DigestFiles({{"a", "bc"}}));
}

TEST(Digest, CoversRuleFilesAndLexicons) {
  std::string rules = "version \"t\"\nlexicon l from \"lex/l.txt\"\n";
  auto a = RuleBase::Compile({{"t.rules", rules}}, MapReader({{"lex/l.txt", "en: one\n"}}));
  auto b = RuleBase::Compile({{"t.rules", rules}}, MapReader({{"lex/l.txt", "en: two\n"}}));
  ASSERT_TRUE(a.ok()) << a.ErrorText();
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a.rulebase->id().digest, b.rulebase->id().digest);
  EXPECT_EQ(a.rulebase->id().digest, DigestFiles({{"t.rules", rules}, {"lex/l.txt", "en: one\n"}}));
}

TEST(LoadDirectory, ReadsRulesRecursivelyAndLexicons) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("comity-rules-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub" / "lex");
  fs::create_directories(dir / ".hidden");
  auto write = [&](const fs::path& p, const std::string& s) { std::ofstream(p) << s; };
  std::string main_rules = "version \"dir\"\nlexicon l from \"sub/lex/l.txt\"\n";
  std::string sub_rules =
      "rule t.a\n  cites UNCC 6\n  for each offence\n  when mentions(offence.description, l)\n"
      "  then review \"{matched(offence.description, l)}\"\n";
  write(dir / "main.rules", main_rules);
  write(dir / "sub" / "more.rules", sub_rules);
  write(dir / "sub" / "lex" / "l.txt", "en: bank account*\n");
  write(dir / "README.md", "not a rule file");
  write(dir / ".hidden" / "x.rules", "garbage that would not parse");
  LoadResult r = RuleBase::LoadDirectory(dir.string());
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  EXPECT_EQ(r.rulebase->id().version, "dir");
  EXPECT_EQ(r.rulebase->id().digest, DigestFiles({{"main.rules", main_rules},
                                                  {"sub/more.rules", sub_rules},
                                                  {"sub/lex/l.txt", "en: bank account*\n"}}));
  Probe p;
  Decision d = r.rulebase->Screen(p.request, p.requesting, p.requested);
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].message, "bank account*");
  write(dir / "sub" / "more.rules", sub_rules + "oops");
  r = RuleBase::LoadDirectory(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].ToString(),
            "sub/more.rules:6:1: expected 'rule', 'set', 'lexicon' or 'version', got 'oops'");
  fs::remove_all(dir);
  r = RuleBase::LoadDirectory(dir.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].ToString(), dir.string() + ": not a directory");
}

TEST(RuleInfo, ListsAndExplains) {
  const RuleInfo* r = testing::ShippedRules().FindRule("uncc.intercept.serious-offence");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->file, "intrusive.rules");
  EXPECT_EQ(r->effect, "refuse");
  EXPECT_THAT(r->loops, ElementsAre("measure", "offence"));
  EXPECT_THAT(r->source, HasSubstr("rule uncc.intercept.serious-offence"));
  EXPECT_THAT(r->source, HasSubstr("cites UNCC 46"));
  EXPECT_FALSE(r->because.empty());
  EXPECT_EQ(testing::ShippedRules().FindRule("uncc.rights.speech-offence")->effect,
            "requested.policy.speech_offences");
  EXPECT_EQ(testing::ShippedRules().FindRule("no.such.rule"), nullptr);
}

}  // namespace
}  // namespace comity::rules

// libFuzzer target for the rule language: the input is a rule file (or, when it starts with
// "L\n", a lexicon). Properties checked beyond "no crash": a rule base with errors is never
// built and every error has a position; one that compiles evaluates a request to an outcome
// equal to its most serious finding, with citations on every finding, and the optimised
// evaluator finds exactly what the reference evaluation finds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/model.h"
#include "rules/error.h"
#include "rules/lexicon.h"
#include "rules/rulebase.h"

namespace {

using namespace comity;

void Check(bool ok) {
  if (!ok) std::abort();
}

StateCode Code(const char* s) {
  StateCode c;
  c.c[0] = s[0];
  c.c[1] = s[1];
  return c;
}

Request MakeRequest() {
  Request r;
  r.id = "REQ-F";
  r.created = Timestamp{1793610000, 0};
  r.requesting_state = Code("XB");
  r.requested_state = Code("XA");
  r.requesting_authority = {"Ministry", AuthorityKind::kPolice, false};
  Offence a{OffenceCategory::kOther, "Penal Code: false news", 3, true, "Insult of officials"};
  Offence b{OffenceCategory::kComputerFraud, "Criminal Code s. 301", std::nullopt, false, {}};
  r.offences = {a, b};
  r.urgency = Urgency::kEmergency;
  r.emergency = EmergencyInfo{EmergencyRisk::kLife, false, std::nullopt};
  Measure m;
  m.type = MeasureType::kIntercept;
  m.data_categories = {DataCategory::kContent};
  m.selectors.push_back(Selector{SelectorKind::kIp, "192.0.2.1", std::nullopt});
  m.period = Period{Date{20000}, Date{20500}};
  m.duration_days = 400;
  Measure p = m;
  p.type = MeasureType::kPreserve;
  p.selectors.clear();
  r.measures = {m, p};
  Person person;
  person.nationalities = {Code("XB")};
  person.status = {PersonStatus::kJournalist, PersonStatus::kRefugee};
  r.persons = {person};
  r.confidentiality = Confidentiality{true, true, std::nullopt};
  r.attachments.push_back(Attachment{"a.pdf", std::string(64, 'a'), std::nullopt});
  return r;
}

StateProfile MakeProfile(const char* code) {
  StateProfile p;
  p.code = Code(code);
  p.name = "State";
  p.criminalizes[0] = Criminalization{3, "s. 1"};
  p.policy.protected_status_review_set = {PersonStatus::kJournalist};
  p.policy.protected_status_review = {"journalist"};
  p.policy.response_days = ResponseDays{30, 7, 8};
  p.other_legal_bases = {"budapest"};
  p.policy.suspended = {Code("XZ")};
  return p;
}

Outcome OutcomeOf(Effect e) {
  switch (e) {
    case Effect::kRefuse:
      return Outcome::kRefuse;
    case Effect::kIncomplete:
      return Outcome::kIncomplete;
    case Effect::kReview:
      return Outcome::kReview;
    default:
      return Outcome::kProceed;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (text.rfind("L\n", 0) == 0) {
    std::vector<rules::RuleError> errors;
    std::optional<rules::Lexicon> lex = rules::Lexicon::Parse(text.substr(2), "l.txt", &errors);
    Check(lex.has_value() == errors.empty());
    if (lex) {
      for (const char* probe : {"false news", "Фейк", "", "\xff\xfe", "a b c d e f"}) {
        bool m = lex->Matches(probe);
        Check(m == lex->FirstMatch(probe).has_value());
      }
      lex->Matches(text);
    }
    return 0;
  }
  rules::FileReader reader = [](const std::string& path) -> StatusOr<std::string> {
    if (path == "l.txt") return std::string("en: false news\nru: фейк*\n");
    return NotFoundError("no such file");
  };
  rules::LoadResult r = rules::RuleBase::Compile({rules::SourceFile{"f.rules", text}}, reader);
  Check(r.ok() == r.errors.empty());
  for (const rules::RuleError& e : r.errors) {
    Check(!e.message.empty());
    Check(e.line == 0 || e.column >= 1);
  }
  if (!r.ok()) return 0;
  static const Request request = MakeRequest();
  static const StateProfile requesting = MakeProfile("XB");
  static const StateProfile requested = MakeProfile("XA");
  Decision d = r.rulebase->Screen(request, requesting, requested);
  // The optimised evaluator finds exactly what the plain reading of each rule finds.
  rules::Evaluation fast, plain;
  r.rulebase->Evaluate(request, requesting, requested, &fast);
  r.rulebase->EvaluateReference(request, requesting, requested, &plain);
  Check(fast.hits().size() == plain.hits().size());
  for (size_t i = 0; i < fast.hits().size(); ++i) {
    Check(fast.hits()[i].rule == plain.hits()[i].rule);
    Check(fast.hits()[i].effect == plain.hits()[i].effect);
    Check(fast.hits()[i].idx == plain.hits()[i].idx);
  }
  Check(fast.outcome() == plain.outcome());
  Outcome max = Outcome::kProceed;
  for (const Finding& f : d.findings) {
    max = MaxOutcome(max, OutcomeOf(f.effect));
    Check(!f.citations.empty());
  }
  Check(d.outcome == max);
  return 0;
}

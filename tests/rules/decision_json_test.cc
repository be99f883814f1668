// RuleBase::AppendDecisionJson (the batch's direct JSON writer) against the reference path,
// AppendDecision(ToDecision(...)): the same bytes for every request, whatever its findings,
// values and escapes.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <map>

#include "core/codec.h"
#include "rules/fixtures.h"
#include "rules/generator.h"
#include "rules/profiles.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

using testing::BaselineRequest;
using testing::RequestingProfile;
using testing::StrictProfile;

// Both writers, appending after `prefix` (which must be kept).
void ExpectSameJson(const RuleBase& rb, const Request& request, const StateProfile& requesting,
                    const StateProfile& requested, const std::string& prefix = "") {
  Evaluation ev;
  rb.Evaluate(request, requesting, requested, &ev);
  std::string expected = prefix;
  AppendDecision(rb.ToDecision(ev, request, requesting, requested), &expected);
  std::string direct = prefix;
  rb.AppendDecisionJson(ev, request, requesting, requested, &direct);
  ASSERT_EQ(direct, expected);
}

TEST(DecisionJson, SameBytesAsTheModelSerialiserOnGeneratedRequests) {
  const std::vector<std::string> states = {"XA", "XB", "XC", "XD", "XF", "XZ"};
  ProfileDirectory profiles((std::filesystem::path(COMITY_SOURCE_DIR) / "profiles").string());
  const RuleBase& rb = testing::ShippedRules();
  for (auto mix :
       {testing::RequestGenerator::Mix::kAdversarial, testing::RequestGenerator::Mix::kRealistic}) {
    testing::RequestGenerator gen(7, states, mix);
    std::string out;  // reused, as the batch does: capacity kept, previous decisions kept
    for (int i = 0; i < 2000; ++i) {
      Request r = gen.Next();
      const StateProfile* requesting = *profiles.Get(r.requesting_state);
      const StateProfile* requested = *profiles.Get(r.requested_state);
      SCOPED_TRACE(boost::json::serialize(RequestToJson(r)));
      ASSERT_NO_FATAL_FAILURE(ExpectSameJson(rb, r, *requesting, *requested, "prefix\n"));
      Evaluation ev;
      rb.Evaluate(r, *requesting, *requested, &ev);
      size_t before = out.size();
      rb.AppendDecisionJson(ev, r, *requesting, *requested, &out);
      ASSERT_EQ(out.substr(before),
                SerializeDecision(rb.ToDecision(ev, r, *requesting, *requested)));
      if (out.size() > (1 << 16)) out.clear();
    }
  }
}

// A small rule base whose messages show every kind of value, with characters that must be
// escaped in the literal text and in the values, an effect taken from a profile field, and two
// conditions with the same code.
TEST(DecisionJson, EscapesValuesOfEveryKindAndKeepsOneConditionPerCode) {
  const std::string text =
      "version \"v\\\"1\\\\\"\n"
      "rule t.values\n"
      "  cites UNCC 46(1)(c), UNCC 40\n"
      "  for each offence\n"
      "  when offence.max_penalty_years > 0\n"
      "  then review \"Quote \\\" backslash \\\\ tab\tend \\n: {offence.national_provision} /\n"
      "     {offence.max_penalty_years} {offence.category} {request.created} {request.urgency}\n"
      "     {offence.description} {request.facts} {request.assurances} "
      "{offence.death_penalty_possible}\n"
      "     {request.requesting_state} {requested.policy.enhanced_scrutiny}\"\n"
      "rule t.first\n"
      "  cites UNCC 40\n"
      "  for each measure\n"
      "  when measure.type is present\n"
      "  then condition same-code \"First {measure.type} \\\"{measure.duration_days}\\\"\"\n"
      "rule t.second\n"
      "  cites UNCC 36\n"
      "  when request.urgency is present\n"
      "  then condition same-code \"Second\"\n"
      "rule t.from-profile\n"
      "  cites UNCC 2(h)\n"
      "  for each offence\n"
      "  when offence.category is present\n"
      "  then requested.policy.speech_offences \"Profile effect for offence {offence.category}\"\n";
  LoadResult loaded = RuleBase::Compile({SourceFile{"t.rules", text}},
                                        [](const std::string&) -> StatusOr<std::string> {
                                          return NotFoundError("no lexicons here");
                                        });
  ASSERT_TRUE(loaded.ok()) << loaded.ErrorText();
  const RuleBase& rb = *loaded.rulebase;

  StateProfile requesting = RequestingProfile();
  StateProfile requested = StrictProfile();
  requested.policy.enhanced_scrutiny = {StateCode{{'X', 'B'}}, StateCode{{'X', 'C'}}};
  Request r = BaselineRequest();
  r.id = std::string("id \"with\" \\ and \x01 and \xC3\xA9");
  r.offences[0].national_provision = "Code \"pénal\" art. 1\\2 \n\t\x1f end";
  r.offences[0].max_penalty_years = 7.5;
  r.offences[0].description = std::nullopt;  // "not given"
  r.facts = std::string("Facts with \x7f and \xE2\x82\xAC and \"quotes\"");
  r.offences.push_back(r.offences[0]);
  r.offences[1].max_penalty_years = 1e20;
  r.offences[1].description = "second";
  r.measures.push_back(r.measures[0]);
  r.measures[1].duration_days = std::nullopt;
  for (SpeechPolicy policy : {SpeechPolicy::kReview, SpeechPolicy::kRefuse}) {
    requested.policy.speech_offences = policy;
    SCOPED_TRACE(static_cast<int>(policy));
    ASSERT_NO_FATAL_FAILURE(ExpectSameJson(rb, r, requesting, requested));
  }
  // Without created, id or response days: no respond_by, no request_id.
  r.created = std::nullopt;
  r.id = std::nullopt;
  ASSERT_NO_FATAL_FAILURE(ExpectSameJson(rb, r, requesting, requested));

  // The escapes are really there (not just the same on both sides).
  Evaluation ev;
  rb.Evaluate(r, requesting, requested, &ev);
  std::string out;
  rb.AppendDecisionJson(ev, r, requesting, requested, &out);
  EXPECT_NE(out.find(R"(Code \"pénal\" art. 1\\2 \n\t\u001f end)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("version":"v\"1\\")"), std::string::npos) << out;
  EXPECT_EQ(out.find("\"conditions\":[{\"code\":\"same-code\",\"text\":\"First"),
            out.find("\"conditions\":"))
      << out;
  EXPECT_EQ(out.find("Second\",\"citations\":[{\"instrument\":\"UNCC\",\"article\":36}]}]"),
            std::string::npos)
      << "only the first rule's text for a code: " << out;
}

TEST(DecisionJson, NoFindingsNoConditions) {
  const std::string text =
      "version \"1\"\n"
      "rule t.never\n"
      "  cites UNCC 40\n"
      "  when request.urgency is absent\n"
      "  then refuse \"never\"\n";
  LoadResult loaded = RuleBase::Compile({SourceFile{"t.rules", text}},
                                        [](const std::string&) -> StatusOr<std::string> {
                                          return NotFoundError("no lexicons here");
                                        });
  ASSERT_TRUE(loaded.ok()) << loaded.ErrorText();
  Request r = BaselineRequest();
  ASSERT_NO_FATAL_FAILURE(
      ExpectSameJson(*loaded.rulebase, r, RequestingProfile(), StrictProfile()));
  Evaluation ev;
  loaded.rulebase->Evaluate(r, RequestingProfile(), StrictProfile(), &ev);
  std::string out;
  loaded.rulebase->AppendDecisionJson(ev, r, RequestingProfile(), StrictProfile(), &out);
  EXPECT_NE(out.find("\"outcome\":\"proceed\",\"findings\":[],\"respond_by\""), std::string::npos)
      << out;
}

}  // namespace
}  // namespace comity::rules

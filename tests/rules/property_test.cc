// Property: for any schema-valid request, screening returns a decision valid against the
// decision schema whose outcome is the highest effect among its findings.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <filesystem>

#include "core/codec.h"
#include "rules/fixtures.h"
#include "rules/generator.h"
#include "rules/profiles.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

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

TEST(Property, EveryValidRequestGetsAValidExplainedDecision) {
  const std::vector<std::string> states = {"XA", "XB", "XC", "XD", "XF", "XZ"};
  ProfileDirectory profiles((std::filesystem::path(COMITY_SOURCE_DIR) / "profiles").string());
  testing::RequestGenerator gen(20261102, states);
  const RuleBase& rb = testing::ShippedRules();
  Evaluation ev;
  int per_outcome[4] = {0, 0, 0, 0};
  for (int i = 0; i < 3000; ++i) {
    Request generated = gen.Next();
    boost::json::value json = RequestToJson(generated);
    Status valid = ValidateAgainstSchema("comity.request/v1", json);
    ASSERT_TRUE(valid.ok()) << "generator produced an invalid request: " << valid.ToString();
    // Through the parser, as the CLI does.
    StatusOr<Request> request = ParseRequest(boost::json::serialize(json));
    ASSERT_TRUE(request.ok()) << request.status().ToString();
    const StateProfile* requesting = *profiles.Get(request->requesting_state);
    const StateProfile* requested = *profiles.Get(request->requested_state);
    rb.Evaluate(*request, *requesting, *requested, &ev);
    Decision d = rb.ToDecision(ev, *request, *requesting, *requested);
    Status ok = ValidateAgainstSchema("comity.decision/v1", DecisionToJson(d));
    ASSERT_TRUE(ok.ok()) << ok.ToString();
    Outcome max = Outcome::kProceed;
    for (const Finding& f : d.findings) {
      max = MaxOutcome(max, OutcomeOf(f.effect));
      ASSERT_FALSE(f.citations.empty()) << f.rule;
      ASSERT_FALSE(f.message.empty()) << f.rule;
      for (const std::string& p : f.pointers) ASSERT_EQ(p.rfind('/', 0), 0u) << p;
    }
    ASSERT_EQ(d.outcome, max);
    ASSERT_EQ(d.findings.size(), ev.hits().size());
    ASSERT_EQ(d.request_id, request->id);
    ASSERT_EQ(d.respond_by.has_value(),
              request->created.has_value() && requested->policy.response_days.has_value());
    // Deterministic: the same request screens the same way.
    Decision again = rb.Screen(*request, *requesting, *requested);
    // The optimised evaluator (hoisted conjuncts, fast paths) finds exactly what the plain
    // reading of every rule finds.
    Evaluation plain;
    rb.EvaluateReference(*request, *requesting, *requested, &plain);
    ASSERT_EQ(SerializeDecision(rb.ToDecision(plain, *request, *requesting, *requested)),
              SerializeDecision(d));
    ASSERT_EQ(SerializeDecision(again), SerializeDecision(d));
    ++per_outcome[static_cast<int>(d.outcome)];
  }
  // The generator exercises every outcome.
  for (int n : per_outcome) EXPECT_GT(n, 50);
}

}  // namespace
}  // namespace comity::rules

// Evaluation allocates nothing once its scratch has grown: this binary counts every call to
// the global operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "rules/fixtures.h"
#include "rules/rulebase.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Replacements of the global allocation functions (malloc-backed, so free() is right).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  std::abort();  // out of memory in a test
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace comity::rules {
namespace {

using testing::BaselineRequest;
using testing::RequestingProfile;
using testing::ShippedRules;
using testing::StrictProfile;

// A request that makes most rules fire, several times each.
Request Busy() {
  Request r = BaselineRequest();
  r.facts.reset();
  r.purpose.reset();
  r.urgency = Urgency::kEmergency;
  r.emergency = EmergencyInfo{EmergencyRisk::kLife, false, std::nullopt};
  Offence speech = r.offences[0];
  speech.category = OffenceCategory::kOther;
  speech.national_provision = "УК ст. 207.3: распространение заведомо ложной информации";
  speech.description = "Publication de fausses nouvelles";
  speech.max_penalty_years = 2;
  speech.death_penalty_possible = true;
  r.offences.push_back(speech);
  r.offences.push_back(r.offences[0]);
  r.offences[2].category = OffenceCategory::kFalseInformation;
  for (MeasureType t : {MeasureType::kIntercept, MeasureType::kPreserve, MeasureType::kSurrender}) {
    Measure m = r.measures[0];
    m.type = t;
    m.duration_days = 400;
    m.all_users = true;
    r.measures.push_back(m);
  }
  r.persons[0].status = {PersonStatus::kJournalist, PersonStatus::kRefugee};
  r.confidentiality = Confidentiality{true, true, std::nullopt};
  return r;
}

TEST(Allocation, EvaluateAllocatesNothingAfterWarmUp) {
  const RuleBase& rb = ShippedRules();
  Request r = Busy();
  StateProfile requesting = RequestingProfile();
  StateProfile requested = StrictProfile();
  requested.policy.enhanced_scrutiny = {requesting.code};
  Evaluation ev;
  rb.Evaluate(r, requesting, requested, &ev);  // grows the scratch
  ASSERT_GT(ev.hits().size(), 25u);
  Request clean = BaselineRequest();
  long before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    rb.Evaluate(r, requesting, requested, &ev);
    rb.Evaluate(clean, requesting, requested, &ev);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  rb.Evaluate(r, requesting, requested, &ev);
  EXPECT_EQ(ev.outcome(), Outcome::kRefuse);
  // Rendering the decision is where strings are built.
  Decision d = rb.ToDecision(ev, r, requesting, requested);
  EXPECT_EQ(d.findings.size(), ev.hits().size());
}

}  // namespace
}  // namespace comity::rules

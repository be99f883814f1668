// Every rule of the shipped rule base: a request where it fires and one where it must not
// (table-driven), plus outcome precedence, respond_by, pointers and messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "rules/fixtures.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

using testing::BaselineRequest;
using testing::Code;
using testing::RequestingProfile;
using testing::ShippedRules;
using testing::StrictProfile;

struct World {
  Request request = BaselineRequest();
  StateProfile requesting = RequestingProfile();
  StateProfile requested = StrictProfile();
};

struct Case {
  const char* name;
  const char* rule;
  bool fires;
  Effect effect;  // when it fires
  std::function<void(World&)> change;
};

Measure& M0(World& w) { return w.request.measures[0]; }
Offence& O0(World& w) { return w.request.offences[0]; }
void Uncriminalize(StateProfile& p, OffenceCategory c) {
  p.criminalizes[static_cast<size_t>(c)].reset();
}
void OnlyPreserve(World& w) {
  M0(w).type = MeasureType::kPreserve;
  M0(w).duration_days = 90;
  M0(w).period.reset();
}

const Case kCases[] = {
    // --- completeness ---
    {"facts blank", "uncc.complete.facts", true, Effect::kIncomplete,
     [](World& w) { w.request.facts = "  \n"; }},
    {"facts absent", "uncc.complete.facts", true, Effect::kIncomplete,
     [](World& w) { w.request.facts.reset(); }},
    {"facts given", "uncc.complete.facts", false, Effect::kIncomplete, [](World&) {}},
    {"facts blank with preservation: the other rule", "uncc.complete.facts", false,
     Effect::kIncomplete,
     [](World& w) {
       w.request.facts = "";
       OnlyPreserve(w);
     }},
    {"facts blank, preservation", "uncc.complete.facts-preservation", true, Effect::kIncomplete,
     [](World& w) {
       w.request.facts = "";
       OnlyPreserve(w);
     }},
    {"facts blank, no preservation", "uncc.complete.facts-preservation", false,
     Effect::kIncomplete, [](World& w) { w.request.facts = ""; }},
    {"no proceeding", "uncc.complete.proceeding", true, Effect::kIncomplete,
     [](World& w) { w.request.proceeding.reset(); }},
    {"no proceeding, preservation only", "uncc.complete.proceeding", false, Effect::kIncomplete,
     [](World& w) {
       w.request.proceeding.reset();
       OnlyPreserve(w);
     }},
    {"no purpose", "uncc.complete.purpose", true, Effect::kIncomplete,
     [](World& w) { w.request.purpose.reset(); }},
    {"no purpose, preservation only", "uncc.complete.purpose", false, Effect::kIncomplete,
     [](World& w) {
       w.request.purpose.reset();
       OnlyPreserve(w);
     }},
    {"no selectors", "uncc.complete.selectors", true, Effect::kIncomplete,
     [](World& w) { M0(w).selectors.clear(); }},
    {"no selectors but all users", "uncc.complete.selectors", false, Effect::kIncomplete,
     [](World& w) {
       M0(w).selectors.clear();
       M0(w).all_users = true;
     }},
    {"surrender needs no selector", "uncc.complete.selectors", false, Effect::kIncomplete,
     [](World& w) {
       M0(w).type = MeasureType::kSurrender;
       M0(w).selectors.clear();
     }},
    {"produce without data categories", "uncc.complete.data-categories", true,
     Effect::kIncomplete, [](World& w) { M0(w).data_categories = {}; }},
    {"testimony without data categories", "uncc.complete.data-categories", false,
     Effect::kIncomplete,
     [](World& w) {
       M0(w).type = MeasureType::kTestimony;
       M0(w).data_categories = {};
     }},
    {"intercept without duration", "uncc.complete.duration", true, Effect::kIncomplete,
     [](World& w) { M0(w).type = MeasureType::kIntercept; }},
    {"intercept with duration", "uncc.complete.duration", false, Effect::kIncomplete,
     [](World& w) {
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 30;
     }},
    {"emergency undescribed", "uncc.complete.emergency", true, Effect::kIncomplete,
     [](World& w) { w.request.urgency = Urgency::kEmergency; }},
    {"emergency described", "uncc.complete.emergency", false, Effect::kIncomplete,
     [](World& w) {
       w.request.urgency = Urgency::kEmergency;
       w.request.emergency = EmergencyInfo{EmergencyRisk::kLife, true, "Kidnapping"};
     }},
    {"non-Convention offence without penalty", "uncc.complete.penalty", true,
     Effect::kIncomplete,
     [](World& w) {
       O0(w).category = OffenceCategory::kFraud;
       O0(w).max_penalty_years.reset();
     }},
    {"Convention offence without penalty", "uncc.complete.penalty", false, Effect::kIncomplete,
     [](World& w) { O0(w).max_penalty_years.reset(); }},
    {"traffic data with police authorization", "uncc.complete.independent-authorization", true,
     Effect::kIncomplete,
     [](World& w) {
       w.request.domestic_authorization->authority_kind = DomesticAuthorityKind::kPolice;
     }},
    {"traffic data without authorization", "uncc.complete.independent-authorization", true,
     Effect::kIncomplete, [](World& w) { w.request.domestic_authorization.reset(); }},
    {"intercept (a listed measure type) by a prosecutor",
     "uncc.complete.independent-authorization", true, Effect::kIncomplete,
     [](World& w) {
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 10;
       M0(w).data_categories = {};
       w.requested.policy.independent_authorization_required = {AuthorizationItem::kIntercept};
       w.request.domestic_authorization->authority_kind = DomesticAuthorityKind::kProsecutor;
     }},
    {"subscriber data only, police", "uncc.complete.independent-authorization", false,
     Effect::kIncomplete,
     [](World& w) {
       M0(w).data_categories = {DataCategory::kSubscriber};
       w.request.domestic_authorization->authority_kind = DomesticAuthorityKind::kPolice;
     }},
    {"independent authority", "uncc.complete.independent-authorization", false,
     Effect::kIncomplete,
     [](World& w) {
       w.request.domestic_authorization->authority_kind =
           DomesticAuthorityKind::kIndependentAuthority;
     }},
    // --- scope ---
    {"non-Convention offence of 3 years", "uncc.scope.serious-crime", true, Effect::kRefuse,
     [](World& w) {
       O0(w).category = OffenceCategory::kFraud;
       O0(w).max_penalty_years = 3;
     }},
    {"exactly four years is serious", "uncc.scope.serious-crime", false, Effect::kRefuse,
     [](World& w) {
       O0(w).category = OffenceCategory::kFraud;
       O0(w).max_penalty_years = 4;
     }},
    {"Convention offence of 2 years", "uncc.scope.serious-crime", false, Effect::kRefuse,
     [](World& w) { O0(w).max_penalty_years = 2; }},
    {"suspended", "uncc.scope.suspended", true, Effect::kRefuse,
     [](World& w) { w.requested.policy.suspended = {Code("XB")}; }},
    {"not suspended", "uncc.scope.suspended", false, Effect::kRefuse,
     [](World& w) { w.requested.policy.suspended = {Code("XZ")}; }},
    {"requesting state a signatory only", "uncc.scope.no-treaty-basis", true, Effect::kReview,
     [](World& w) { w.requesting.uncc.status = UnccStatus::kSignatory; }},
    {"requested state not a signatory", "uncc.scope.no-treaty-basis", true, Effect::kReview,
     [](World& w) { w.requested.uncc.status = UnccStatus::kNone; }},
    {"signatory with a bilateral treaty", "uncc.scope.no-treaty-basis", false, Effect::kReview,
     [](World& w) {
       w.requesting.uncc.status = UnccStatus::kSignatory;
       w.requesting.other_legal_bases = {"bilateral:XA-XB"};
       w.requested.other_legal_bases = {"budapest", "bilateral:XA-XB"};
     }},
    {"both parties", "uncc.scope.no-treaty-basis", false, Effect::kReview, [](World&) {}},
    // --- dual criminality ---
    {"required, not criminal, produce", "uncc.dual-criminality.required", true, Effect::kRefuse,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kRequired;
       Uncriminalize(w.requested, OffenceCategory::kComputerFraud);
     }},
    {"required, not criminal, preserve", "uncc.dual-criminality.required", false,
     Effect::kRefuse,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kRequired;
       Uncriminalize(w.requested, OffenceCategory::kComputerFraud);
       OnlyPreserve(w);
     }},
    {"required, category other", "uncc.dual-criminality.required", false, Effect::kRefuse,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kRequired;
       O0(w).category = OffenceCategory::kOther;
     }},
    {"coercive_only, not criminal, produce", "uncc.dual-criminality.coercive", true,
     Effect::kRefuse, [](World& w) { Uncriminalize(w.requested, OffenceCategory::kComputerFraud); }},
    {"coercive_only, not criminal, preserved traffic", "uncc.dual-criminality.coercive", false,
     Effect::kRefuse,
     [](World& w) {
       Uncriminalize(w.requested, OffenceCategory::kComputerFraud);
       M0(w).type = MeasureType::kDisclosePreservedTraffic;
     }},
    {"not_required", "uncc.dual-criminality.coercive", false, Effect::kRefuse,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kNotRequired;
       Uncriminalize(w.requested, OffenceCategory::kComputerFraud);
     }},
    {"required, preserve, non-Convention offence", "uncc.dual-criminality.preservation-reservation",
     true, Effect::kRefuse,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kRequired;
       O0(w).category = OffenceCategory::kTaxOffence;
       Uncriminalize(w.requested, OffenceCategory::kTaxOffence);
       OnlyPreserve(w);
     }},
    {"required, preserve, Convention offence", "uncc.dual-criminality.preservation-reservation",
     false, Effect::kRefuse,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kRequired;
       Uncriminalize(w.requested, OffenceCategory::kComputerFraud);
       OnlyPreserve(w);
     }},
    {"preserve, Convention offence not criminal (policy not_required)",
     "uncc.dual-criminality.preservation-convention", true, Effect::kNote,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kNotRequired;
       O0(w).category = OffenceCategory::kNcii;
       Uncriminalize(w.requested, OffenceCategory::kNcii);
       OnlyPreserve(w);
     }},
    {"preserve, Convention offence criminal", "uncc.dual-criminality.preservation-convention",
     false, Effect::kNote, [](World& w) { OnlyPreserve(w); }},
    {"other, required", "uncc.dual-criminality.other", true, Effect::kReview,
     [](World& w) {
       w.requested.policy.dual_criminality = DualCriminality::kRequired;
       O0(w).category = OffenceCategory::kOther;
     }},
    {"other, coercive_only, produce", "uncc.dual-criminality.other", true, Effect::kReview,
     [](World& w) { O0(w).category = OffenceCategory::kOther; }},
    {"other, coercive_only, testimony", "uncc.dual-criminality.other", false, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       M0(w).type = MeasureType::kTestimony;
     }},
    {"other, not_required", "uncc.dual-criminality.other", false, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       w.requested.policy.dual_criminality = DualCriminality::kNotRequired;
     }},
    // --- intrusive measures ---
    {"intercept below threshold", "uncc.intercept.serious-offence", true, Effect::kRefuse,
     [](World& w) {
       O0(w).category = OffenceCategory::kIllegalAccess;
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 30;
     }},
    {"intercept, category not criminal, threshold 0", "uncc.intercept.serious-offence", true,
     Effect::kRefuse,
     [](World& w) {
       w.requested.policy.interception_min_penalty_years = 0;
       Uncriminalize(w.requested, OffenceCategory::kComputerFraud);
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 30;
     }},
    {"intercept at the threshold", "uncc.intercept.serious-offence", false, Effect::kRefuse,
     [](World& w) {
       w.requested.policy.interception_min_penalty_years = 8;
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 30;
     }},
    {"intercept rule ignores realtime", "uncc.intercept.serious-offence", false, Effect::kRefuse,
     [](World& w) {
       O0(w).category = OffenceCategory::kIllegalAccess;
       M0(w).type = MeasureType::kRealtimeTraffic;
       M0(w).duration_days = 30;
     }},
    {"realtime below threshold", "uncc.realtime.serious-offence", true, Effect::kRefuse,
     [](World& w) {
       O0(w).category = OffenceCategory::kIllegalAccess;
       M0(w).type = MeasureType::kRealtimeTraffic;
       M0(w).duration_days = 30;
     }},
    {"realtime above threshold", "uncc.realtime.serious-offence", false, Effect::kRefuse,
     [](World& w) {
       M0(w).type = MeasureType::kRealtimeTraffic;
       M0(w).duration_days = 30;
     }},
    {"intercept for other", "uncc.intercept.other-offence", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 30;
     }},
    {"produce for other", "uncc.intercept.other-offence", false, Effect::kReview,
     [](World& w) { O0(w).category = OffenceCategory::kOther; }},
    {"realtime for other", "uncc.realtime.other-offence", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       M0(w).type = MeasureType::kRealtimeTraffic;
       M0(w).duration_days = 30;
     }},
    {"intercept for other is not realtime", "uncc.realtime.other-offence", false, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 30;
     }},
    {"interception 61 days over 60", "uncc.intrusive.duration", true, Effect::kReview,
     [](World& w) {
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 61;
     }},
    {"interception 60 days", "uncc.intrusive.duration", false, Effect::kReview,
     [](World& w) {
       M0(w).type = MeasureType::kIntercept;
       M0(w).duration_days = 60;
     }},
    {"stored period of 366 days", "uncc.intrusive.stored-period", true, Effect::kReview,
     [](World& w) { M0(w).period = Period{Date{20000}, Date{20366}}; }},
    {"stored period of 365 days", "uncc.intrusive.stored-period", false, Effect::kReview,
     [](World& w) { M0(w).period = Period{Date{20000}, Date{20365}}; }},
    {"no stored-period limit", "uncc.intrusive.stored-period", false, Effect::kReview,
     [](World& w) {
       M0(w).period = Period{Date{10000}, Date{20365}};
       w.requested.policy.max_stored_period_days.reset();
     }},
    {"all users", "uncc.intrusive.bulk", true, Effect::kRefuse,
     [](World& w) { M0(w).all_users = true; }},
    {"specific selector", "uncc.intrusive.bulk", false, Effect::kRefuse, [](World&) {}},
    // --- human rights ---
    {"speech offence, policy refuse", "uncc.rights.speech-offence", true, Effect::kRefuse,
     [](World& w) { O0(w).category = OffenceCategory::kFalseInformation; }},
    {"speech offence, policy review", "uncc.rights.speech-offence", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kLgbtConduct;
       w.requested.policy.speech_offences = SpeechPolicy::kReview;
     }},
    {"not a speech offence", "uncc.rights.speech-offence", false, Effect::kRefuse,
     [](World& w) { O0(w).category = OffenceCategory::kTreason; }},
    {"other, English wording", "uncc.rights.speech-wording", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       O0(w).national_provision = "Penal Code s. 207.3: dissemination of FALSE NEWS";
     }},
    {"other, French wording in the description", "uncc.rights.speech-wording", true,
     Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       O0(w).national_provision = "Code pénal art. 411";
       O0(w).description = "Publication de Fausses Nouvelles sur un réseau social.";
     }},
    {"other, Spanish wording", "uncc.rights.speech-wording", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       O0(w).national_provision = "Código Penal art. 143: DIFUSIÓN DE INFORMACIÓN FALSA";
     }},
    {"other, Russian wording", "uncc.rights.speech-wording", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       O0(w).national_provision =
           "УК ст. 207.3: Публичное распространение ЗАВЕДОМО ЛОЖНОЙ информации";
     }},
    {"other, unsanctioned protest", "uncc.rights.speech-wording", true, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       O0(w).description = "Organised an unsanctioned rally in the capital.";
     }},
    {"other, livestock", "uncc.rights.speech-wording", false, Effect::kReview,
     [](World& w) {
       O0(w).category = OffenceCategory::kOther;
       O0(w).national_provision = "Livestock Act s. 12 (unregistered sale of cattle)";
       O0(w).description = "Sale of unregistered cattle through an online marketplace.";
     }},
    {"wording in a named category is H1's business", "uncc.rights.speech-wording", false,
     Effect::kReview,
     [](World& w) { O0(w).national_provision = "Criminal Code s. 12: false news"; }},
    {"journalist", "uncc.rights.protected-person", true, Effect::kReview,
     [](World& w) { w.request.persons[0].status = {PersonStatus::kJournalist}; }},
    {"minor is not in the policy", "uncc.rights.protected-person", false, Effect::kReview,
     [](World& w) { w.request.persons[0].status = {PersonStatus::kMinor}; }},
    {"refugee sought by the state of nationality", "uncc.rights.refugee", true, Effect::kRefuse,
     [](World& w) { w.request.persons[0].status = {PersonStatus::kRefugee}; }},
    {"asylum seeker sought by the state of nationality", "uncc.rights.refugee", true,
     Effect::kRefuse, [](World& w) { w.request.persons[0].status = {PersonStatus::kAsylumSeeker}; }},
    {"refugee of another nationality", "uncc.rights.refugee", false, Effect::kRefuse,
     [](World& w) {
       w.request.persons[0].status = {PersonStatus::kRefugee};
       w.request.persons[0].nationalities = {Code("XC")};
     }},
    {"no refugee protection", "uncc.rights.refugee", false, Effect::kRefuse,
     [](World& w) {
       w.request.persons[0].status = {PersonStatus::kRefugee};
       w.requested.policy.refugee_protection = false;
     }},
    {"surrender, death penalty, no assurance", "uncc.rights.death-penalty-surrender", true,
     Effect::kRefuse,
     [](World& w) {
       O0(w).death_penalty_possible = true;
       M0(w).type = MeasureType::kSurrender;
     }},
    {"surrender, moratorium state", "uncc.rights.death-penalty-surrender", true, Effect::kRefuse,
     [](World& w) {
       O0(w).death_penalty_possible = true;
       M0(w).type = MeasureType::kSurrender;
       w.requested.death_penalty = DeathPenalty::kMoratorium;
     }},
    {"surrender with assurance", "uncc.rights.death-penalty-surrender", false, Effect::kRefuse,
     [](World& w) {
       O0(w).death_penalty_possible = true;
       M0(w).type = MeasureType::kSurrender;
       w.request.assurances.insert(Assurance::kNoDeathPenalty);
     }},
    {"surrender, retentionist requested state", "uncc.rights.death-penalty-surrender", false,
     Effect::kRefuse,
     [](World& w) {
       O0(w).death_penalty_possible = true;
       M0(w).type = MeasureType::kSurrender;
       w.requested.death_penalty = DeathPenalty::kRetained;
     }},
    {"surrender, assurance not required by policy", "uncc.rights.death-penalty-surrender", false,
     Effect::kRefuse,
     [](World& w) {
       O0(w).death_penalty_possible = true;
       M0(w).type = MeasureType::kSurrender;
       w.requested.policy.death_penalty_assurance_required = false;
     }},
    {"produce, death penalty, no assurance", "uncc.rights.death-penalty-assistance", true,
     Effect::kReview, [](World& w) { O0(w).death_penalty_possible = true; }},
    {"surrender is H5, not H6", "uncc.rights.death-penalty-assistance", false, Effect::kReview,
     [](World& w) {
       O0(w).death_penalty_possible = true;
       M0(w).type = MeasureType::kSurrender;
     }},
    {"enhanced scrutiny", "uncc.rights.enhanced-scrutiny", true, Effect::kReview,
     [](World& w) { w.requested.policy.enhanced_scrutiny = {Code("XB")}; }},
    {"no enhanced scrutiny", "uncc.rights.enhanced-scrutiny", false, Effect::kReview,
     [](World& w) { w.requested.policy.enhanced_scrutiny = {Code("XF")}; }},
    {"secrecy about a journalist", "uncc.rights.non-notification", true, Effect::kReview,
     [](World& w) {
       w.request.persons[0].status = {PersonStatus::kJournalist};
       w.request.confidentiality = Confidentiality{true, true, std::nullopt};
     }},
    {"secrecy, no protected person", "uncc.rights.non-notification", false, Effect::kReview,
     [](World& w) { w.request.confidentiality = Confidentiality{true, true, std::nullopt}; }},
    // --- urgency and conditions ---
    {"emergency not imminent", "uncc.urgency.not-imminent", true, Effect::kReview,
     [](World& w) {
       w.request.urgency = Urgency::kEmergency;
       w.request.emergency = EmergencyInfo{EmergencyRisk::kLife, false, std::nullopt};
     }},
    {"emergency imminent", "uncc.urgency.not-imminent", false, Effect::kReview,
     [](World& w) {
       w.request.urgency = Urgency::kEmergency;
       w.request.emergency = EmergencyInfo{EmergencyRisk::kLife, true, std::nullopt};
     }},
    {"emergency absent (C6's business)", "uncc.urgency.not-imminent", false, Effect::kReview,
     [](World& w) { w.request.urgency = Urgency::kEmergency; }},
    {"routine with a non-imminent emergency block", "uncc.urgency.not-imminent", false,
     Effect::kReview,
     [](World& w) { w.request.emergency = EmergencyInfo{EmergencyRisk::kLife, false, {}}; }},
    {"preserve 30 days", "uncc.condition.preservation-period", true, Effect::kCondition,
     [](World& w) {
       OnlyPreserve(w);
       M0(w).duration_days = 30;
     }},
    {"preserve 60 days", "uncc.condition.preservation-period", false, Effect::kCondition,
     [](World& w) {
       OnlyPreserve(w);
       M0(w).duration_days = 60;
     }},
    {"coercive measure", "uncc.condition.use-limitation", true, Effect::kCondition,
     [](World&) {}},
    {"preservation only", "uncc.condition.use-limitation", false, Effect::kCondition,
     [](World& w) { OnlyPreserve(w); }},
    {"data transferred", "uncc.condition.onward-transfer", true, Effect::kCondition,
     [](World&) {}},
    {"surrender transfers no data", "uncc.condition.onward-transfer", false, Effect::kCondition,
     [](World& w) { M0(w).type = MeasureType::kSurrender; }},
};

class RuleCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(RuleCaseTest, FiresOrNot) {
  const Case& c = GetParam();
  ASSERT_NE(ShippedRules().FindRule(c.rule), nullptr) << c.rule;
  World w;
  c.change(w);
  Decision d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  const Finding* hit = nullptr;
  for (const Finding& f : d.findings) {
    if (f.rule == c.rule) hit = &f;
  }
  if (!c.fires) {
    EXPECT_EQ(hit, nullptr) << c.rule << " fired: " << (hit ? hit->message : "");
    return;
  }
  ASSERT_NE(hit, nullptr) << c.rule << " did not fire";
  EXPECT_EQ(hit->effect, c.effect) << hit->message;
  EXPECT_FALSE(hit->citations.empty());
  EXPECT_FALSE(hit->message.empty());
  EXPECT_EQ(hit->message.find('{'), std::string::npos) << hit->message;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string n = std::to_string(info.index) + "_" + info.param.rule;
  for (char& ch : n) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Shipped, RuleCaseTest, ::testing::ValuesIn(kCases), CaseName);

// Every rule of the shipped rule base has a case where it fires and one where it does not.
TEST(RuleCoverage, EveryRuleHasBothCases) {
  for (const RuleInfo& r : ShippedRules().rules()) {
    bool fires = false, silent = false;
    for (const Case& c : kCases) {
      if (r.id != c.rule) continue;
      (c.fires ? fires : silent) = true;
    }
    EXPECT_TRUE(fires) << r.id << " has no case where it fires";
    EXPECT_TRUE(silent) << r.id << " has no case where it must not fire";
  }
}

// RULEBASE.md: each rule cites at least these articles of the UNCC.
TEST(RuleCoverage, CitesWhatRulebaseRequires) {
  struct Need {
    const char* rule;
    std::vector<int> articles;
  };
  const Need kNeeds[] = {
      {"uncc.complete.facts", {40}},
      {"uncc.complete.facts-preservation", {40, 42}},
      {"uncc.complete.proceeding", {40}},
      {"uncc.complete.purpose", {40}},
      {"uncc.complete.selectors", {40}},
      {"uncc.complete.data-categories", {40}},
      {"uncc.complete.duration", {24}},
      {"uncc.complete.emergency", {2}},
      {"uncc.complete.penalty", {2, 35}},
      {"uncc.complete.independent-authorization", {24}},
      {"uncc.scope.serious-crime", {35, 2}},
      {"uncc.scope.suspended", {40}},
      {"uncc.scope.no-treaty-basis", {35}},
      {"uncc.dual-criminality.required", {40}},
      {"uncc.dual-criminality.coercive", {40}},
      {"uncc.dual-criminality.preservation-reservation", {42}},
      {"uncc.dual-criminality.preservation-convention", {42}},
      {"uncc.dual-criminality.other", {40}},
      {"uncc.intercept.serious-offence", {46}},
      {"uncc.realtime.serious-offence", {45}},
      {"uncc.intercept.other-offence", {46}},
      {"uncc.realtime.other-offence", {45}},
      {"uncc.intrusive.duration", {24}},
      {"uncc.intrusive.stored-period", {24}},
      {"uncc.intrusive.bulk", {24}},
      {"uncc.rights.speech-offence", {6}},
      {"uncc.rights.speech-wording", {6}},
      {"uncc.rights.protected-person", {6, 40}},
      {"uncc.rights.refugee", {40}},
      {"uncc.rights.death-penalty-surrender", {37}},
      {"uncc.rights.death-penalty-assistance", {40}},
      {"uncc.rights.enhanced-scrutiny", {40}},
      {"uncc.rights.non-notification", {42}},
      {"uncc.urgency.not-imminent", {2}},
      {"uncc.condition.preservation-period", {42}},
      {"uncc.condition.use-limitation", {40}},
      {"uncc.condition.onward-transfer", {36}},
  };
  EXPECT_EQ(std::size(kNeeds), ShippedRules().rules().size());
  for (const Need& n : kNeeds) {
    const RuleInfo* r = ShippedRules().FindRule(n.rule);
    ASSERT_NE(r, nullptr) << n.rule;
    for (int a : n.articles) {
      bool found = std::any_of(r->citations.begin(), r->citations.end(), [&](const Citation& c) {
        return c.instrument == "UNCC" && c.article == a;
      });
      EXPECT_TRUE(found) << n.rule << " does not cite UNCC " << a;
    }
  }
}

TEST(Screen, BaselineProceedsWithConditions) {
  World w;
  Decision d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  EXPECT_EQ(d.outcome, Outcome::kProceed);
  ASSERT_EQ(d.conditions.size(), 2u);
  EXPECT_EQ(d.conditions[0].code, "use-limitation");
  EXPECT_EQ(d.conditions[1].code, "no-onward-transfer");
  EXPECT_THAT(d.conditions[1].text, ::testing::HasSubstr("Republic of Arcadia"));
  EXPECT_EQ(d.request_id, "REQ-1");
  EXPECT_EQ(d.rulebase.version, ShippedRules().id().version);
  EXPECT_EQ(d.rulebase.digest.size(), 7u + 64u);
  EXPECT_EQ(d.rulebase.digest.rfind("sha256:", 0), 0u);
}

TEST(Screen, OutcomePrecedence) {
  World w;
  w.request.facts.reset();                                    // incomplete
  w.request.persons[0].status = {PersonStatus::kJournalist};  // review
  Decision d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  EXPECT_EQ(d.outcome, Outcome::kIncomplete);
  w.request.measures[0].all_users = true;  // refuse
  d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  EXPECT_EQ(d.outcome, Outcome::kRefuse);
  World only_review;
  only_review.request.persons[0].status = {PersonStatus::kJournalist};
  EXPECT_EQ(ShippedRules()
                .Screen(only_review.request, only_review.requesting, only_review.requested)
                .outcome,
            Outcome::kReview);
  World only_note;  // D4 note alone: proceed
  only_note.requested.policy.dual_criminality = DualCriminality::kNotRequired;
  only_note.request.offences[0].category = OffenceCategory::kNcii;
  Uncriminalize(only_note.requested, OffenceCategory::kNcii);
  OnlyPreserve(only_note);
  d = ShippedRules().Screen(only_note.request, only_note.requesting, only_note.requested);
  EXPECT_EQ(d.outcome, Outcome::kProceed);
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].effect, Effect::kNote);
}

TEST(Screen, EveryBindingIsAFinding) {
  World w;
  w.request.offences.push_back(w.request.offences[0]);
  w.request.offences[0].category = OffenceCategory::kIllegalAccess;  // 3 years in XA
  w.request.offences[1].category = OffenceCategory::kIllegalInterception;
  w.request.measures[0].type = MeasureType::kIntercept;
  w.request.measures[0].duration_days = 30;
  w.request.measures.push_back(w.request.measures[0]);
  w.request.measures[1].type = MeasureType::kRealtimeTraffic;
  Decision d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  std::vector<std::vector<std::string>> intercept, realtime;
  for (const Finding& f : d.findings) {
    if (f.rule == "uncc.intercept.serious-offence") intercept.push_back(f.pointers);
    if (f.rule == "uncc.realtime.serious-offence") realtime.push_back(f.pointers);
  }
  ASSERT_EQ(intercept.size(), 2u);
  ASSERT_EQ(realtime.size(), 2u);
  EXPECT_THAT(intercept[0], ::testing::ElementsAre("/measures/0/type", "/offences/0/category"));
  EXPECT_THAT(intercept[1], ::testing::ElementsAre("/measures/0/type", "/offences/1/category"));
  EXPECT_THAT(realtime[1], ::testing::ElementsAre("/measures/1/type", "/offences/1/category"));
}

TEST(Screen, MessagesNameTheValues) {
  World w;
  w.request.offences[0].category = OffenceCategory::kIllegalAccess;
  w.request.measures[0].type = MeasureType::kIntercept;
  w.request.measures[0].duration_days = 30;
  Decision d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  auto it = std::find_if(d.findings.begin(), d.findings.end(), [](const Finding& f) {
    return f.rule == "uncc.intercept.serious-offence";
  });
  ASSERT_NE(it, d.findings.end());
  EXPECT_EQ(it->message,
            "Republic of Arcadia intercepts content only for offences punished under its own law "
            "with at least 4 years; illegal access carries 3 years there.");
  ASSERT_EQ(it->citations.size(), 1u);
  EXPECT_EQ(it->citations[0], (Citation{"UNCC", 46, std::nullopt}));

  World s;
  s.request.offences[0].category = OffenceCategory::kFraud;
  s.request.offences[0].max_penalty_years = 2.5;
  d = ShippedRules().Screen(s.request, s.requesting, s.requested);
  it = std::find_if(d.findings.begin(), d.findings.end(),
                    [](const Finding& f) { return f.rule == "uncc.scope.serious-crime"; });
  ASSERT_NE(it, d.findings.end());
  EXPECT_THAT(it->message, ::testing::HasSubstr("at most 2.5 years in Kingdom of Borealia"));
  EXPECT_EQ(it->citations[0], (Citation{"UNCC", 35, "1(c)"}));
  EXPECT_EQ(it->citations[1], (Citation{"UNCC", 2, "h"}));
  EXPECT_THAT(it->pointers,
              ::testing::ElementsAre("/offences/0/category", "/offences/0/max_penalty_years"));
}

TEST(Screen, SpeechWordingNamesTheMatch) {
  World w;
  w.request.offences[0].category = OffenceCategory::kOther;
  w.request.offences[0].national_provision = "УК ст. 280.3: дискредитация вооружённых сил";
  Decision d = ShippedRules().Screen(w.request, w.requesting, w.requested);
  auto it = std::find_if(d.findings.begin(), d.findings.end(),
                         [](const Finding& f) { return f.rule == "uncc.rights.speech-wording"; });
  ASSERT_NE(it, d.findings.end());
  EXPECT_THAT(it->message, ::testing::HasSubstr("found in the provision: дискредитаци*; in the "
                                                "description: not given"));
}

TEST(RespondBy, PerUrgency) {
  World w;
  EXPECT_EQ(RespondBy(w.request, w.requested)->seconds, testing::kCreated + 30 * 86400);
  w.request.urgency = Urgency::kUrgent;
  EXPECT_EQ(RespondBy(w.request, w.requested)->seconds, testing::kCreated + 7 * 86400);
  w.request.urgency = Urgency::kEmergency;
  EXPECT_EQ(RespondBy(w.request, w.requested)->seconds, testing::kCreated + 8 * 3600);
  w.requested.policy.response_days->emergency_hours.reset();
  EXPECT_FALSE(RespondBy(w.request, w.requested).has_value());
  w.request.urgency = Urgency::kRoutine;
  w.request.created.reset();
  EXPECT_FALSE(RespondBy(w.request, w.requested).has_value());
  w.request.created = testing::At(testing::kCreated);
  w.requested.policy.response_days.reset();
  EXPECT_FALSE(RespondBy(w.request, w.requested).has_value());
}

}  // namespace
}  // namespace comity::rules

// Test fixtures for the safeguards engine: a baseline request and state profiles built in C++,
// so that each test changes exactly one thing.
//
//   Request r = BaselineRequest();            // complete, specific, judge-authorised fraud case
//   StateProfile xa = StrictProfile();         // Arcadia-like: coercive_only, abolitionist
//   const RuleBase& rb = ShippedRules();       // rules/ of the source tree, loaded once
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/model.h"
#include "rules/rulebase.h"

namespace comity::rules::testing {

inline StateCode Code(const char* s) {
  StateCode c;
  c.c[0] = s[0];
  c.c[1] = s[1];
  return c;
}

inline Timestamp At(int64_t seconds) { return Timestamp{seconds, 0}; }

// 2026-11-02T09:00:00Z
inline constexpr int64_t kCreated = 1793610000;

// A complete request from XB to XA for computer fraud: produce subscriber and traffic data of
// one e-mail account, with a judge's authorization. Screens to `proceed` with conditions.
inline Request BaselineRequest() {
  Request r;
  r.id = "REQ-1";
  r.created = At(kCreated);
  r.requesting_state = Code("XB");
  r.requested_state = Code("XA");
  r.requesting_authority = {"Ministry of Justice", AuthorityKind::kCentralAuthority, false};
  r.proceeding = Proceeding{ProceedingKind::kInvestigation, "INV-1", "Public Prosecutor"};
  Offence o;
  o.category = OffenceCategory::kComputerFraud;
  o.national_provision = "Criminal Code s. 301 (computer fraud)";
  o.max_penalty_years = 8;
  o.description = "Phishing campaign that emptied 214 bank accounts.";
  r.offences.push_back(o);
  r.facts = "A phishing kit collected bank credentials.";
  r.purpose = "Identify the operator of the account.";
  r.urgency = Urgency::kRoutine;
  Measure m;
  m.type = MeasureType::kProduce;
  m.data_categories = {DataCategory::kSubscriber, DataCategory::kTraffic};
  m.selectors.push_back(Selector{SelectorKind::kEmail, "kit-admin@example.net", "ExampleMail"});
  m.period = Period{Date{20513}, Date{20634}};  // 2026-03-01 .. 2026-06-30
  m.justification = "The account registered the phishing domain.";
  r.measures.push_back(m);
  Person p;
  p.role = PersonRole::kSuspect;
  p.nationalities = {Code("XB")};
  p.residence = Code("XA");
  r.persons.push_back(p);
  r.domestic_authorization = DomesticAuthorization{DomesticAuthorityKind::kJudge, "Order 77", {}};
  r.assurances = {Assurance::kUseLimitedToStatedProceedings};
  r.language = "en";
  return r;
}

// Every category criminal except the speech offences, with the penalties of the demo states.
inline void CriminalizeOrdinary(StateProfile* p) {
  struct Entry {
    OffenceCategory c;
    double years;
  };
  static const Entry kEntries[] = {
      {OffenceCategory::kIllegalAccess, 3},
      {OffenceCategory::kIllegalInterception, 3},
      {OffenceCategory::kDataInterference, 3},
      {OffenceCategory::kSystemInterference, 5},
      {OffenceCategory::kMisuseOfDevices, 2},
      {OffenceCategory::kComputerForgery, 5},
      {OffenceCategory::kComputerFraud, 8},
      {OffenceCategory::kCsam, 10},
      {OffenceCategory::kGrooming, 5},
      {OffenceCategory::kNcii, 3},
      {OffenceCategory::kLaundering, 10},
      {OffenceCategory::kTerrorism, 100},
      {OffenceCategory::kDrugTrafficking, 15},
      {OffenceCategory::kTraffickingInPersons, 15},
      {OffenceCategory::kMigrantSmuggling, 10},
      {OffenceCategory::kFirearmsTrafficking, 10},
      {OffenceCategory::kOrganizedCrime, 10},
      {OffenceCategory::kHomicide, 100},
      {OffenceCategory::kKidnapping, 15},
      {OffenceCategory::kSexualOffence, 15},
      {OffenceCategory::kExtortion, 10},
      {OffenceCategory::kFraud, 8},
      {OffenceCategory::kCorruption, 10},
      {OffenceCategory::kTaxOffence, 5},
      {OffenceCategory::kCulturalPropertyTrafficking, 5},
      {OffenceCategory::kEspionage, 10},
      {OffenceCategory::kTreason, 100},
  };
  for (const Entry& e : kEntries) {
    p->criminalizes[static_cast<size_t>(e.c)] = Criminalization{e.years, std::nullopt};
  }
}

inline void SetProtected(StateProfile* p, std::initializer_list<PersonStatus> statuses) {
  p->policy.protected_status_review.clear();
  p->policy.protected_status_review_set = {};
  for (PersonStatus s : statuses) {
    p->policy.protected_status_review.emplace_back(EnumName(s));
    p->policy.protected_status_review_set.insert(s);
  }
}

// Arcadia-like: party, abolitionist, coercive_only, interception from 4 years, 60 days.
inline StateProfile StrictProfile() {
  StateProfile p;
  p.code = Code("XA");
  p.name = "Republic of Arcadia";
  p.fictional = true;
  p.uncc.status = UnccStatus::kParty;
  p.death_penalty = DeathPenalty::kAbolished;
  CriminalizeOrdinary(&p);
  p.policy.dual_criminality = DualCriminality::kCoerciveOnly;
  p.policy.interception_min_penalty_years = 4;
  p.policy.max_interception_days = 60;
  p.policy.max_stored_period_days = 365;
  p.policy.independent_authorization_required = {
      AuthorizationItem::kTraffic, AuthorizationItem::kContent, AuthorizationItem::kRealtimeTraffic,
      AuthorizationItem::kIntercept};
  p.policy.speech_offences = SpeechPolicy::kRefuse;
  p.policy.refugee_protection = true;
  SetProtected(
      &p, {PersonStatus::kJournalist, PersonStatus::kHumanRightsDefender,
           PersonStatus::kPoliticalOpposition, PersonStatus::kActivist, PersonStatus::kLawyer});
  p.policy.death_penalty_assurance_required = true;
  p.policy.response_days = ResponseDays{30, 7, 8};
  return p;
}

// Borealia-like requesting state: party, moratorium, dual criminality always.
inline StateProfile RequestingProfile() {
  StateProfile p = StrictProfile();
  p.code = Code("XB");
  p.name = "Kingdom of Borealia";
  p.death_penalty = DeathPenalty::kMoratorium;
  p.policy.dual_criminality = DualCriminality::kRequired;
  return p;
}

// The shipped rule base (COMITY_SOURCE_DIR/rules), loaded once per test binary.
inline const RuleBase& ShippedRules() {
  static const std::shared_ptr<const RuleBase> rb = [] {
    LoadResult r = RuleBase::LoadDirectory(std::string(COMITY_SOURCE_DIR) + "/rules");
    if (!r.ok()) ADD_FAILURE() << r.ErrorText();
    return r.rulebase;
  }();
  return *rb;
}

}  // namespace comity::rules::testing

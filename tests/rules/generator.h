// Random but schema-valid requests (seeded), for property tests and benchmarks.
//
//   RequestGenerator gen(/*seed=*/42, {"XA", "XB", "XC"});
//   Request r = gen.Next();   // valid against spec/request.schema.json
//
// Two mixes. kAdversarial (property tests): every field varies uniformly, problems are
// frequent, so that every rule and every outcome is exercised. kRealistic (benchmarks, the
// same distribution as bench/gen_requests/gen_requests.js): mostly complete requests for
// common measures, 1-3 offences and measures weighted to the low end, a tail of problems.
// Thread-compatible.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "core/model.h"

namespace comity::rules::testing {

class RequestGenerator {
 public:
  enum class Mix { kAdversarial, kRealistic };

  RequestGenerator(uint64_t seed, std::vector<std::string> states, Mix mix = Mix::kAdversarial)
      : rng_(seed), states_(std::move(states)), realistic_(mix == Mix::kRealistic) {}

  Request Next() {
    Request r;
    ++n_;
    r.id = "REQ-" + std::to_string(n_);
    if (Chance(0.9)) r.created = Timestamp{1767225600 + Int(0, 365 * 86400), 0};
    r.requesting_state = State();
    do {
      r.requested_state = State();
    } while (states_.size() > 1 && r.requested_state == r.requesting_state);
    r.requesting_authority.name = Pick<std::string>(
        {"Ministry of Justice", "Prosecutor General", "National Police, Cyber Unit"});
    r.requesting_authority.kind = Enum<AuthorityKind>();
    r.requesting_authority.contact_point_24_7 = Chance(0.2);
    if (Chance(0.85)) {
      r.proceeding = Proceeding{Enum<ProceedingKind>(), std::nullopt, "Public Prosecutor"};
      if (Chance(0.5)) r.proceeding->reference = "INV-" + std::to_string(Int(1, 9999));
    }
    int offences = static_cast<int>(realistic_ ? Int(1, 3) - (Chance(0.5) ? 1 : 0) : Int(1, 3));
    if (offences < 1) offences = 1;
    for (int i = 0; i < offences; ++i) r.offences.push_back(MakeOffence());
    if (Chance(0.9))
      r.facts = Pick<std::string>({"A phishing kit collected credentials.",
                                   "Ransomware encrypted a hospital's systems.", "", "   "});
    if (Chance(0.85)) r.purpose = "Identify the account holder.";
    double u = Real();
    r.urgency = u < 0.7 ? Urgency::kRoutine : u < 0.9 ? Urgency::kUrgent : Urgency::kEmergency;
    if ((r.urgency == Urgency::kEmergency && Chance(0.8)) || Chance(0.03)) {
      r.emergency = EmergencyInfo{Enum<EmergencyRisk>(), Chance(0.8), std::nullopt};
      if (Chance(0.5)) r.emergency->explanation = "A child is at risk.";
    }
    int measures = static_cast<int>(realistic_ ? Int(1, 3) - (Chance(0.5) ? 1 : 0) : Int(1, 3));
    if (measures < 1) measures = 1;
    for (int i = 0; i < measures; ++i) r.measures.push_back(MakeMeasure());
    int persons = static_cast<int>(realistic_ ? Int(0, 2) : Int(0, 3));
    for (int i = 0; i < persons; ++i) r.persons.push_back(MakePerson());
    if (Chance(0.85)) {
      DomesticAuthorityKind kind = Enum<DomesticAuthorityKind>();
      if (realistic_ && Chance(0.85)) {
        kind = Chance(0.5) ? DomesticAuthorityKind::kCourt : DomesticAuthorityKind::kJudge;
      }
      r.domestic_authorization = DomesticAuthorization{kind, {}, {}};
      if (Chance(0.5)) r.domestic_authorization->reference = "Order " + std::to_string(Int(1, 99));
      if (Chance(0.5))
        r.domestic_authorization->date = Date{static_cast<int32_t>(Int(20000, 20800))};
    }
    if (Chance(0.2)) {
      r.confidentiality = Confidentiality{Chance(0.8), Chance(0.5), std::nullopt};
      if (Chance(0.3)) r.confidentiality->until = Date{static_cast<int32_t>(Int(20500, 21500))};
    }
    for (size_t i = 0; i < EnumCount<Assurance>(); ++i) {
      if (Chance(0.25)) r.assurances.insert(static_cast<Assurance>(i));
    }
    if (Chance(0.9)) r.language = "en";
    return r;
  }

 private:
  bool Chance(double p) { return Real() < p; }
  double Real() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  T Pick(std::initializer_list<T> items) {
    auto it = items.begin();
    std::advance(it, Int(0, static_cast<int64_t>(items.size()) - 1));
    return *it;
  }
  template <typename E>
  E Enum() {
    return static_cast<E>(Int(0, static_cast<int64_t>(EnumCount<E>()) - 1));
  }
  StateCode State() {
    const std::string& s = states_[Int(0, static_cast<int64_t>(states_.size()) - 1)];
    StateCode c;
    c.c[0] = s[0];
    c.c[1] = s[1];
    return c;
  }

  Offence MakeOffence() {
    Offence o;
    double k = Real();
    o.category = k < 0.5    ? static_cast<OffenceCategory>(Int(0, 10))  // Convention offences
                 : k < 0.92 ? Enum<OffenceCategory>()
                            : OffenceCategory::kOther;
    if (realistic_ && k >= 0.5 && k < 0.92 && Chance(0.8)) {
      o.category = static_cast<OffenceCategory>(Int(11, 24));  // other serious crimes
    }
    o.national_provision = Pick<std::string>(
        {"Criminal Code s. 301", "Penal Code art. 207.3: dissemination of false news",
         "Livestock Act s. 12", "УК ст. 280.3: дискредитация", "Code pénal art. 226-1"});
    if (Chance(0.9)) {
      o.max_penalty_years = realistic_ ? Pick<double>({4, 5, 8, 10, 12, 15, 20, 100})
                                       : Pick<double>({0.5, 1, 2, 3, 4, 5, 8, 10, 15, 20, 100});
    }
    o.death_penalty_possible = Chance(0.05);
    if (Chance(0.7)) o.description = "Conduct described in the facts.";
    return o;
  }

  Measure MakeMeasure() {
    Measure m;
    m.type = Enum<MeasureType>();
    if (realistic_ && Chance(0.8)) {
      m.type =
          Pick<MeasureType>({MeasureType::kPreserve, MeasureType::kProduce, MeasureType::kProduce,
                             MeasureType::kProduce, MeasureType::kSearchSeize,
                             MeasureType::kDisclosePreservedTraffic});
    }
    for (size_t i = 0; i < EnumCount<DataCategory>(); ++i) {
      if (Chance(0.5)) m.data_categories.insert(static_cast<DataCategory>(i));
    }
    if (realistic_ && m.data_categories.empty() && Chance(0.95)) {
      m.data_categories.insert(DataCategory::kSubscriber);
    }
    int selectors = static_cast<int>(Chance(realistic_ ? 0.03 : 0.1) ? 0 : Int(1, 3));
    for (int i = 0; i < selectors; ++i) {
      Selector s{Enum<SelectorKind>(), "selector-" + std::to_string(Int(1, 1000000)), std::nullopt};
      if (Chance(0.5)) s.provider = "ExampleMail Ltd";
      m.selectors.push_back(s);
    }
    m.all_users = Chance(realistic_ ? 0.02 : 0.03);
    if (Chance(0.6)) {
      int32_t from = static_cast<int32_t>(Int(19000, 20600));
      m.period = Period{Date{from}, Date{from + static_cast<int32_t>(Int(0, 900))}};
    }
    if (Chance(0.7)) m.duration_days = static_cast<int32_t>(Int(1, 400));
    if (Chance(0.8)) m.justification = "The account is linked to the offence.";
    return m;
  }

  Person MakePerson() {
    Person p;
    p.role = Enum<PersonRole>();
    if (Chance(0.5)) p.name = "A. Person";
    int nats = static_cast<int>(Int(0, 2));
    for (int i = 0; i < nats; ++i) p.nationalities.push_back(State());
    if (Chance(0.7)) p.residence = State();
    for (size_t i = 0; i < EnumCount<PersonStatus>(); ++i) {
      if (Chance(realistic_ ? 0.007 : 0.04)) p.status.insert(static_cast<PersonStatus>(i));
    }
    return p;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> states_;
  bool realistic_;
  uint64_t n_ = 0;
};

}  // namespace comity::rules::testing

// The domain model: requests, state profiles and decisions, exactly as spec/*.schema.json
// define them (same field names and codes; see enums.h for the vocabularies).
//
// These are plain values. Parsing from JSON (with schema validation and precise errors) lives
// in core/codec.h; nothing here allocates during rule evaluation, which reads these structs
// through the field table of rules/fields.h.
//
// Conventions:
// - An optional scalar in the schema is std::optional<T> here.
// - An optional array is a possibly empty container; "absent" and "empty" are the same to the
//   rule base (C3, C4 treat both as "none").
// - A boolean with a schema default holds that default when absent.
// - Every struct compares member-wise with == (codec round trips are tested that way).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/enums.h"
#include "core/time.h"

namespace comity {

// An ISO 3166-1 alpha-2 code ("XA"). Two uppercase ASCII letters once validated.
struct StateCode {
  char c[2] = {0, 0};
  constexpr bool operator==(const StateCode&) const = default;
  std::string str() const { return std::string(c, 2); }
  bool empty() const { return c[0] == 0; }
};

// --- Request (comity.request/v1) -------------------------------------------------------------

struct RequestingAuthority {
  std::string name;
  AuthorityKind kind = AuthorityKind::kCentralAuthority;
  bool contact_point_24_7 = false;
  bool operator==(const RequestingAuthority&) const = default;
};

struct Proceeding {
  ProceedingKind kind = ProceedingKind::kInvestigation;
  std::optional<std::string> reference;
  std::string conducting_authority;
  bool operator==(const Proceeding&) const = default;
};

struct Offence {
  OffenceCategory category = OffenceCategory::kOther;
  std::string national_provision;
  std::optional<double> max_penalty_years;  // requesting state's law; 100 means life
  bool death_penalty_possible = false;
  std::optional<std::string> description;
  bool operator==(const Offence&) const = default;
};

struct EmergencyInfo {
  EmergencyRisk risk = EmergencyRisk::kOther;
  bool imminent = false;
  std::optional<std::string> explanation;
  bool operator==(const EmergencyInfo&) const = default;
};

struct Selector {
  SelectorKind kind = SelectorKind::kOther;
  std::string value;
  std::optional<std::string> provider;
  bool operator==(const Selector&) const = default;
};

struct Period {
  Date from;
  Date to;
  bool operator==(const Period&) const = default;
};

struct Measure {
  MeasureType type = MeasureType::kProduce;
  EnumSet<DataCategory> data_categories;
  std::vector<Selector> selectors;
  bool all_users = false;
  std::optional<Period> period;
  std::optional<int32_t> duration_days;
  std::optional<std::string> justification;
  bool operator==(const Measure&) const = default;
};

struct Person {
  PersonRole role = PersonRole::kOther;
  std::optional<std::string> name;
  std::vector<StateCode> nationalities;
  std::optional<StateCode> residence;
  EnumSet<PersonStatus> status;
  bool operator==(const Person&) const = default;
};

struct DomesticAuthorization {
  DomesticAuthorityKind authority_kind = DomesticAuthorityKind::kNone;
  std::optional<std::string> reference;
  std::optional<Date> date;
  bool operator==(const DomesticAuthorization&) const = default;
};

struct Confidentiality {
  bool requested = false;
  bool no_user_notification = false;  // Art. 42(3)(g)
  std::optional<Date> until;
  bool operator==(const Confidentiality&) const = default;
};

struct Attachment {
  std::string name;
  std::string sha256;  // 64 lowercase hex digits
  std::optional<std::string> media_type;
  bool operator==(const Attachment&) const = default;
};

struct Request {
  std::optional<std::string> id;
  std::optional<Timestamp> created;
  StateCode requesting_state;
  StateCode requested_state;
  RequestingAuthority requesting_authority;
  std::optional<Proceeding> proceeding;
  std::vector<Offence> offences;  // 1..20
  std::optional<std::string> facts;
  std::optional<std::string> purpose;
  Urgency urgency = Urgency::kRoutine;
  std::optional<EmergencyInfo> emergency;
  std::vector<Measure> measures;  // 1..20
  std::vector<Person> persons;    // 0..50
  std::optional<DomesticAuthorization> domestic_authorization;
  std::optional<Confidentiality> confidentiality;
  EnumSet<Assurance> assurances;
  std::optional<std::string> follows_up;
  std::optional<std::string> language;
  std::vector<Attachment> attachments;
  bool operator==(const Request&) const = default;
};

// --- State profile (comity.state/v1) ---------------------------------------------------------

struct Criminalization {
  double max_penalty_years = 0;
  std::optional<std::string> provision;
  bool operator==(const Criminalization&) const = default;
};

struct ResponseDays {
  std::optional<int32_t> routine;
  std::optional<int32_t> urgent;
  std::optional<int32_t> emergency_hours;
  bool operator==(const ResponseDays&) const = default;
};

struct Policy {
  DualCriminality dual_criminality = DualCriminality::kRequired;
  double interception_min_penalty_years = 0;
  int32_t max_interception_days = 1;
  std::optional<int32_t> max_stored_period_days;
  EnumSet<AuthorizationItem> independent_authorization_required;
  SpeechPolicy speech_offences = SpeechPolicy::kReview;
  bool refugee_protection = false;
  // The schema allows any string here; the known statuses are also kept as a set for the
  // rule base. Unknown strings are kept verbatim (they can never match a person's status).
  std::vector<std::string> protected_status_review;
  EnumSet<PersonStatus> protected_status_review_set;
  bool death_penalty_assurance_required = true;
  std::vector<StateCode> enhanced_scrutiny;
  std::vector<StateCode> suspended;
  std::optional<ResponseDays> response_days;
  bool operator==(const Policy&) const = default;
};

struct Uncc {
  UnccStatus status = UnccStatus::kNone;
  std::vector<std::string> reservations;  // e.g. "7(2)"
  std::optional<std::string> central_authority;
  std::vector<std::string> languages;
  bool operator==(const Uncc&) const = default;
};

struct StateProfile {
  StateCode code;
  std::string name;
  bool fictional = false;
  Uncc uncc;
  std::vector<std::string> other_legal_bases;
  DeathPenalty death_penalty = DeathPenalty::kRetained;
  // Indexed by OffenceCategory; nullopt means not criminal in this state.
  std::array<std::optional<Criminalization>, EnumCount<OffenceCategory>()> criminalizes;
  Policy policy;
  bool operator==(const StateProfile&) const = default;
};

// --- Decision (comity.decision/v1) -----------------------------------------------------------

struct Citation {
  std::string instrument;  // "UNCC", "POLICY:XA", ...
  int article = 0;
  std::optional<std::string> paragraph;  // "1(c)", "h"; only where confirmed
  bool operator==(const Citation&) const = default;
};

struct Finding {
  std::string rule;
  Effect effect = Effect::kNote;
  std::vector<Citation> citations;  // at least one
  std::string message;
  std::vector<std::string> pointers;  // JSON Pointers into the request
  bool operator==(const Finding&) const = default;
};

struct Condition {
  std::string code;
  std::string text;
  std::vector<Citation> citations;
  bool operator==(const Condition&) const = default;
};

struct RulebaseId {
  std::string version;
  std::string digest;  // "sha256:<64 hex>"
  bool operator==(const RulebaseId&) const = default;
};

struct Decision {
  std::optional<std::string> request_id;
  Outcome outcome = Outcome::kProceed;
  std::vector<Finding> findings;
  std::vector<Condition> conditions;
  std::optional<Timestamp> respond_by;
  RulebaseId rulebase;
  bool operator==(const Decision&) const = default;
};

}  // namespace comity

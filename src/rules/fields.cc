#include "rules/fields.h"

#include <algorithm>
#include <string>
#include <vector>

namespace comity::rules {
namespace {

using V = Value;

template <typename T>
V OptStr(const std::optional<T>& s) {
  return s ? V::Str(*s) : V::Absent();
}
V OptNum(const std::optional<double>& d) { return d ? V::Number(*d) : V::Absent(); }
V OptInt(const std::optional<int32_t>& d) { return d ? V::Number(*d) : V::Absent(); }
V OptDate(const std::optional<Date>& d) { return d ? V::Day(*d) : V::Absent(); }

constexpr uint8_t kO = 1 << kOffence, kM = 1 << kMeasure, kS = (1 << kSelector) | (1 << kMeasure),
                  kP = 1 << kPerson, kA = 1 << kAttachment;

constexpr Type kBoolT = Type::Of(Kind::kBool), kNum = Type::Of(Kind::kNumber),
               kStr = Type::Of(Kind::kString), kStateT = Type::Of(Kind::kState),
               kStates = Type::Of(Kind::kStateList), kStrings = Type::Of(Kind::kStringList),
               kDateT = Type::Of(Kind::kDate), kObj = Type::Of(Kind::kObject),
               kListT = Type::Of(Kind::kList);

#define G(body)                         \
  [](const Env& e, uint64_t) -> Value { \
    (void)e;                            \
    body                                \
  }
#define GP(body)                                      \
  +[](const StateProfile& p, uint64_t key) -> Value { \
    (void)p;                                          \
    (void)key;                                        \
    body                                              \
  }

struct ProfileField {
  std::string_view suffix;  // after "requested." / "requesting."
  Type type;
  ProfileGetter fn;
  EnumId key;
  std::string_view doc;
};

#define PF(suffix, type, body, doc) \
  ProfileField { suffix, type, GP(body), EnumId::kNone, doc }

std::vector<FieldDef> BuildTable() {
  std::vector<FieldDef> t;
  auto add = [&t](std::string_view path, Type type, Getter get, std::string_view pointer,
                  uint8_t vars, std::string_view doc) {
    Root root = path.starts_with("request.") ? Root::kRequest : Root::kVar;
    t.push_back(FieldDef{path, type, root, get, nullptr, pointer, EnumId::kNone, vars, doc});
  };
  // --- the request ---------------------------------------------------------------------------
  add("request.schema", kStr, G(return V::Str("comity.request/v1");), "/schema", 0,
      "the schema id, always comity.request/v1");
  add("request.id", kStr, G(return OptStr(e.request->id);), "/id", 0, "the request's id");
  add("request.created", Type::Of(Kind::kTimestamp),
      G(return e.request->created ? V::Instant(*e.request->created) : V::Absent();), "/created", 0,
      "when the request was created");
  add("request.requesting_state", kStateT, G(return V::State(e.request->requesting_state);),
      "/requesting_state", 0, "the requesting state's code");
  add("request.requested_state", kStateT, G(return V::State(e.request->requested_state);),
      "/requested_state", 0, "the requested state's code");
  add("request.requesting_authority", kObj, G(return V::Bool(true);), "/requesting_authority", 0,
      "the authority that makes the request (always present)");
  add("request.requesting_authority.name", kStr,
      G(return V::Str(e.request->requesting_authority.name);), "/requesting_authority/name", 0,
      "its name");
  add("request.requesting_authority.kind", Type::Enum(EnumId::kAuthorityKind),
      G(return V::Enum(e.request->requesting_authority.kind);), "/requesting_authority/kind", 0,
      "its kind");
  add("request.requesting_authority.contact_point_24_7", kBoolT,
      G(return V::Bool(e.request->requesting_authority.contact_point_24_7);),
      "/requesting_authority/contact_point_24_7", 0, "whether it is the 24/7 contact point");
  add("request.proceeding", kObj, G(return e.request->proceeding ? V::Bool(true) : V::Absent();),
      "/proceeding", 0, "the proceeding (Art. 40 contents (b))");
  add("request.proceeding.kind", Type::Enum(EnumId::kProceedingKind),
      G(return e.request->proceeding ? V::Enum(e.request->proceeding->kind) : V::Absent();),
      "/proceeding/kind", 0, "its kind");
  add("request.proceeding.reference", kStr,
      G(return e.request->proceeding ? OptStr(e.request->proceeding->reference) : V::Absent();),
      "/proceeding/reference", 0, "its reference");
  add("request.proceeding.conducting_authority", kStr,
      G(return e.request->proceeding ? V::Str(e.request->proceeding->conducting_authority)
                                     : V::Absent();),
      "/proceeding/conducting_authority", 0, "who conducts it");
  add("request.offences", kListT, G(return V::Count(e.request->offences.size());), "/offences", 0,
      "the offences (iterate with `for each offence`)");
  add("request.facts", kStr, G(return OptStr(e.request->facts);), "/facts", 0,
      "the summary of facts");
  add("request.purpose", kStr, G(return OptStr(e.request->purpose);), "/purpose", 0,
      "why the evidence or action is sought");
  add("request.urgency", Type::Enum(EnumId::kUrgency), G(return V::Enum(e.request->urgency);),
      "/urgency", 0, "routine, urgent or emergency");
  add("request.emergency", kObj, G(return e.request->emergency ? V::Bool(true) : V::Absent();),
      "/emergency", 0, "the emergency (Art. 2(o))");
  add("request.emergency.risk", Type::Enum(EnumId::kEmergencyRisk),
      G(return e.request->emergency ? V::Enum(e.request->emergency->risk) : V::Absent();),
      "/emergency/risk", 0, "what is at risk");
  add("request.emergency.imminent", kBoolT,
      G(return e.request->emergency ? V::Bool(e.request->emergency->imminent) : V::Absent();),
      "/emergency/imminent", 0, "whether the risk is imminent");
  add("request.emergency.explanation", kStr,
      G(return e.request->emergency ? OptStr(e.request->emergency->explanation) : V::Absent();),
      "/emergency/explanation", 0, "the explanation of the emergency");
  add("request.measures", kListT, G(return V::Count(e.request->measures.size());), "/measures", 0,
      "the measures (iterate with `for each measure`)");
  add("request.persons", kListT, G(return V::Count(e.request->persons.size());), "/persons", 0,
      "the persons concerned (iterate with `for each person`)");
  add("request.domestic_authorization", kObj,
      G(return e.request->domestic_authorization ? V::Bool(true) : V::Absent();),
      "/domestic_authorization", 0, "the requesting state's own authorization (Art. 24)");
  add("request.domestic_authorization.authority_kind", Type::Enum(EnumId::kDomesticAuthorityKind),
      G(return e.request->domestic_authorization
                   ? V::Enum(e.request->domestic_authorization->authority_kind)
                   : V::Absent();),
      "/domestic_authorization/authority_kind", 0, "who authorised");
  add("request.domestic_authorization.reference", kStr,
      G(return e.request->domestic_authorization
                   ? OptStr(e.request->domestic_authorization->reference)
                   : V::Absent();),
      "/domestic_authorization/reference", 0, "the authorization's reference");
  add("request.domestic_authorization.date", kDateT,
      G(return e.request->domestic_authorization ? OptDate(e.request->domestic_authorization->date)
                                                 : V::Absent();),
      "/domestic_authorization/date", 0, "the authorization's date");
  add("request.confidentiality", kObj,
      G(return e.request->confidentiality ? V::Bool(true) : V::Absent();), "/confidentiality", 0,
      "confidentiality asked for");
  add("request.confidentiality.requested", kBoolT,
      G(return e.request->confidentiality ? V::Bool(e.request->confidentiality->requested)
                                          : V::Absent();),
      "/confidentiality/requested", 0, "whether confidentiality is requested");
  add("request.confidentiality.no_user_notification", kBoolT,
      G(return e.request->confidentiality
                   ? V::Bool(e.request->confidentiality->no_user_notification)
                   : V::Absent();),
      "/confidentiality/no_user_notification", 0,
      "whether the user must not be notified (Art. 42(3)(g))");
  add("request.confidentiality.until", kDateT,
      G(return e.request->confidentiality ? OptDate(e.request->confidentiality->until)
                                          : V::Absent();),
      "/confidentiality/until", 0, "until when");
  add("request.assurances", Type::Set(EnumId::kAssurance), G(return V::Set(e.request->assurances);),
      "/assurances", 0, "the assurances the requesting state gives");
  add("request.follows_up", kStr, G(return OptStr(e.request->follows_up);), "/follows_up", 0,
      "the id of an earlier request this one follows");
  add("request.language", kStr, G(return OptStr(e.request->language);), "/language", 0,
      "the request's language");
  add("request.attachments", kListT, G(return V::Count(e.request->attachments.size());),
      "/attachments", 0, "attached documents (iterate with `for each attachment`)");

  // --- offence -------------------------------------------------------------------------------
  add("offence.category", Type::Enum(EnumId::kOffenceCategory),
      G(return V::Enum(e.offence().category);), "/offences/{offence}/category", kO,
      "the offence's category");
  add("offence.national_provision", kStr, G(return V::Str(e.offence().national_provision);),
      "/offences/{offence}/national_provision", kO, "the requesting state's provision");
  add("offence.max_penalty_years", kNum, G(return OptNum(e.offence().max_penalty_years);),
      "/offences/{offence}/max_penalty_years", kO,
      "maximum deprivation of liberty there, in years (100 = life)");
  add("offence.death_penalty_possible", kBoolT,
      G(return V::Bool(e.offence().death_penalty_possible);),
      "/offences/{offence}/death_penalty_possible", kO, "whether death may be imposed");
  add("offence.description", kStr, G(return OptStr(e.offence().description);),
      "/offences/{offence}/description", kO, "the conduct, in words");

  // --- measure -------------------------------------------------------------------------------
  add("measure.type", Type::Enum(EnumId::kMeasureType), G(return V::Enum(e.measure().type);),
      "/measures/{measure}/type", kM, "the measure's type");
  add("measure.data_categories", Type::Set(EnumId::kDataCategory),
      G(return V::Set(e.measure().data_categories);), "/measures/{measure}/data_categories", kM,
      "the data categories asked for");
  add("measure.selectors", kListT, G(return V::Count(e.measure().selectors.size());),
      "/measures/{measure}/selectors", kM, "the selectors (iterate with `for each selector`)");
  add("measure.all_users", kBoolT, G(return V::Bool(e.measure().all_users);),
      "/measures/{measure}/all_users", kM, "true when every user of a service is targeted");
  add("measure.period", Type::Of(Kind::kPeriod),
      G(return e.measure().period ? V::Span(*e.measure().period) : V::Absent();),
      "/measures/{measure}/period", kM, "the period of stored data asked for");
  add("measure.period.from", kDateT,
      G(return e.measure().period ? V::Day(e.measure().period->from) : V::Absent();),
      "/measures/{measure}/period/from", kM, "its first day");
  add("measure.period.to", kDateT,
      G(return e.measure().period ? V::Day(e.measure().period->to) : V::Absent();),
      "/measures/{measure}/period/to", kM, "its last day");
  add("measure.duration_days", kNum, G(return OptInt(e.measure().duration_days);),
      "/measures/{measure}/duration_days", kM,
      "duration of real-time collection or preservation, in days");
  add("measure.justification", kStr, G(return OptStr(e.measure().justification);),
      "/measures/{measure}/justification", kM, "the link between the data and the offence");

  // --- selector (of the current measure) -----------------------------------------------------
  add("selector.kind", Type::Enum(EnumId::kSelectorKind), G(return V::Enum(e.selector().kind);),
      "/measures/{measure}/selectors/{selector}/kind", kS, "the selector's kind");
  add("selector.value", kStr, G(return V::Str(e.selector().value);),
      "/measures/{measure}/selectors/{selector}/value", kS, "the selector's value");
  add("selector.provider", kStr, G(return OptStr(e.selector().provider);),
      "/measures/{measure}/selectors/{selector}/provider", kS, "the service provider");

  // --- person --------------------------------------------------------------------------------
  add("person.role", Type::Enum(EnumId::kPersonRole), G(return V::Enum(e.person().role);),
      "/persons/{person}/role", kP, "the person's role");
  add("person.name", kStr, G(return OptStr(e.person().name);), "/persons/{person}/name", kP,
      "the person's name");
  add("person.nationalities", kStates, G(return V::States(e.person().nationalities);),
      "/persons/{person}/nationalities", kP, "the person's nationalities");
  add("person.residence", kStateT,
      G(return e.person().residence ? V::State(*e.person().residence) : V::Absent();),
      "/persons/{person}/residence", kP, "the state of residence");
  add("person.status", Type::Set(EnumId::kPersonStatus), G(return V::Set(e.person().status);),
      "/persons/{person}/status", kP, "statuses known to either side");

  // --- attachment ----------------------------------------------------------------------------
  add("attachment.name", kStr, G(return V::Str(e.attachment().name);),
      "/attachments/{attachment}/name", kA, "the file name");
  add("attachment.sha256", kStr, G(return V::Str(e.attachment().sha256);),
      "/attachments/{attachment}/sha256", kA, "its SHA-256");
  add("attachment.media_type", kStr, G(return OptStr(e.attachment().media_type);),
      "/attachments/{attachment}/media_type", kA, "its media type");

  // --- profiles: requesting.* and requested.* ------------------------------------------------
  static const ProfileField kProfile[] = {
    PF("schema", kStr, return V::Str("comity.state/v1");, "the schema id"),
    PF("code", kStateT, return V::State(p.code);, "the state's code"),
    PF("name", kStr, return V::Str(p.name);, "the state's name"),
    PF("fictional", kBoolT, return V::Bool(p.fictional);, "whether the state is fictional"),
    PF("uncc", kObj, return V::Bool(true);, "the state's relation to the Convention"),
    PF("uncc.status", Type::Enum(EnumId::kUnccStatus), return V::Enum(p.uncc.status);
       , "party, signatory or none"),
    PF("uncc.reservations", kStrings, return V::Strings(p.uncc.reservations);
       , "articles reserved, e.g. 7(2)"),
    PF("uncc.central_authority", kStr, return OptStr(p.uncc.central_authority);
       , "the central authority"),
    PF("uncc.languages", kStrings, return V::Strings(p.uncc.languages);, "languages accepted"),
    PF("other_legal_bases", kStrings, return V::Strings(p.other_legal_bases);
       , "other treaties in force that can carry a request"),
    PF("death_penalty", Type::Enum(EnumId::kDeathPenalty), return V::Enum(p.death_penalty);
       , "abolished, moratorium or retained"),
    ProfileField{"criminalizes", Type::Set(EnumId::kOffenceCategory), GP({
                   uint64_t bits = 0;
                   for (size_t i = 0; i < p.criminalizes.size(); ++i) {
                     if (p.criminalizes[i]) bits |= uint64_t{1} << i;
                   }
                   return V::Ordinal(bits);
                 }),
                 EnumId::kNone, "the offence categories that are criminal in the state"},
    ProfileField{"criminalizes[]", kObj,
                 GP({ return p.criminalizes[key] ? V::Bool(true) : V::Absent(); }),
                 EnumId::kOffenceCategory,
                 "the state's offence for a category; absent when not criminal there"},
    ProfileField{"criminalizes[].max_penalty_years", kNum, GP({
                   return p.criminalizes[key] ? V::Number(p.criminalizes[key]->max_penalty_years)
                                              : V::Absent();
                 }),
                 EnumId::kOffenceCategory, "its maximum penalty there, in years"},
    ProfileField{
        "criminalizes[].provision", kStr,
        GP({ return p.criminalizes[key] ? OptStr(p.criminalizes[key]->provision) : V::Absent(); }),
        EnumId::kOffenceCategory, "its provision there"},
    PF("policy", kObj, return V::Bool(true);, "what the state applies when requested"),
    PF("policy.dual_criminality", Type::Enum(EnumId::kDualCriminality),
       return V::Enum(p.policy.dual_criminality);
       , "required, coercive_only or not_required"),
    PF("policy.interception_min_penalty_years", kNum,
       return V::Number(p.policy.interception_min_penalty_years);
       , "minimum penalty for intercept and realtime_traffic"),
    PF("policy.max_interception_days", kNum, return V::Number(p.policy.max_interception_days);
       , "longest real-time collection without review"),
    PF("policy.max_stored_period_days", kNum, return OptInt(p.policy.max_stored_period_days);
       , "longest stored-data period without review"),
    PF("policy.independent_authorization_required", Type::Set(EnumId::kAuthorizationItem),
       return V::Set(p.policy.independent_authorization_required);
       , "data categories and measures that need a court, judge or independent authority"),
    PF("policy.speech_offences", Type::Enum(EnumId::kSpeechPolicy),
       return V::Enum(p.policy.speech_offences);
       , "refuse or review speech offences"),
    PF("policy.refugee_protection", kBoolT, return V::Bool(p.policy.refugee_protection);
       , "refuse requests about refugees by their state of nationality"),
    PF("policy.protected_status_review", Type::Set(EnumId::kPersonStatus),
       return V::Set(p.policy.protected_status_review_set);
       , "person statuses that send a request to review"),
    PF("policy.death_penalty_assurance_required", kBoolT,
       return V::Bool(p.policy.death_penalty_assurance_required);
       , "whether an assurance against the death penalty is required"),
    PF("policy.enhanced_scrutiny", kStates, return V::States(p.policy.enhanced_scrutiny);
       , "requesting states whose every request is reviewed"),
    PF("policy.suspended", kStates, return V::States(p.policy.suspended);
       , "requesting states with which cooperation is suspended"),
    PF("policy.response_days", kObj, return p.policy.response_days ? V::Bool(true) : V::Absent();
       , "answer deadlines"),
    PF("policy.response_days.routine", kNum,
       return p.policy.response_days ? OptInt(p.policy.response_days->routine) : V::Absent();
       , "days for a routine request"),
    PF("policy.response_days.urgent", kNum,
       return p.policy.response_days ? OptInt(p.policy.response_days->urgent) : V::Absent();
       , "days for an urgent request"),
    PF("policy.response_days.emergency_hours", kNum,
       return p.policy.response_days ? OptInt(p.policy.response_days->emergency_hours)
                                     : V::Absent();
       , "hours for an emergency"),
  };
  // Paths are stored as views; the concatenated names live as long as the table.
  static std::vector<std::string> names;
  names.reserve(2 * std::size(kProfile));
  struct Role {
    std::string_view prefix;
    bool requested;
  };
  for (Role role : {Role{"requesting.", false}, Role{"requested.", true}}) {
    for (const ProfileField& f : kProfile) {
      names.push_back(std::string(role.prefix) + std::string(f.suffix));
    }
  }
  size_t n = std::size(kProfile);
  for (size_t r = 0; r < 2; ++r) {
    for (size_t i = 0; i < n; ++i) {
      t.push_back(FieldDef{names[r * n + i],
                           kProfile[i].type,
                           r == 0 ? Root::kRequesting : Root::kRequested,
                           nullptr,
                           kProfile[i].fn,
                           {},
                           kProfile[i].key,
                           0,
                           kProfile[i].doc});
    }
  }
  return t;
}

const std::vector<FieldDef>& Table() {
  static const std::vector<FieldDef> table = BuildTable();
  return table;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string_view VarName(Var v) {
  static constexpr std::string_view kNames[] = {"offence", "measure", "selector", "person",
                                                "attachment"};
  return kNames[v];
}

std::optional<Var> ParseVar(std::string_view name) {
  for (uint8_t i = 0; i < kVarCount; ++i) {
    if (VarName(static_cast<Var>(i)) == name) return static_cast<Var>(i);
  }
  return std::nullopt;
}

std::span<const FieldDef> Fields() { return Table(); }

const FieldDef* FindField(std::string_view path) {
  for (const FieldDef& f : Table()) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::string_view SuggestField(std::string_view path) {
  std::string_view best;
  size_t best_d = 4;  // suggest only close misspellings
  for (const FieldDef& f : Table()) {
    size_t d = EditDistance(path, f.path);
    if (d < best_d) {
      best_d = d;
      best = f.path;
    }
  }
  return best;
}

}  // namespace comity::rules

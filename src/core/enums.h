// The closed vocabularies of spec/*.schema.json as C++ enums, with their wire names.
//
// Each list is an X-macro so that the enum, its names, and parsing stay in one place; the
// order of each list is the order of the schema's `enum` array, except Effect, which is
// declared in increasing precedence (the schema lists it the other way round).
// tests/core/enums_schema_test.cc checks both. Wire names are the schema's
// lowercase snake_case codes.
//
//   std::optional<MeasureType> t = ParseEnum<MeasureType>("intercept");
//   std::string_view name = EnumName(MeasureType::kIntercept);  // "intercept"
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace comity {

#define COMITY_OFFENCE_CATEGORIES(X)                               \
  X(kIllegalAccess, "illegal_access")                              \
  X(kIllegalInterception, "illegal_interception")                  \
  X(kDataInterference, "data_interference")                        \
  X(kSystemInterference, "system_interference")                    \
  X(kMisuseOfDevices, "misuse_of_devices")                         \
  X(kComputerForgery, "computer_forgery")                          \
  X(kComputerFraud, "computer_fraud")                              \
  X(kCsam, "csam")                                                 \
  X(kGrooming, "grooming")                                         \
  X(kNcii, "ncii")                                                 \
  X(kLaundering, "laundering")                                     \
  X(kTerrorism, "terrorism")                                       \
  X(kDrugTrafficking, "drug_trafficking")                          \
  X(kTraffickingInPersons, "trafficking_in_persons")               \
  X(kMigrantSmuggling, "migrant_smuggling")                        \
  X(kFirearmsTrafficking, "firearms_trafficking")                  \
  X(kOrganizedCrime, "organized_crime")                            \
  X(kHomicide, "homicide")                                         \
  X(kKidnapping, "kidnapping")                                     \
  X(kSexualOffence, "sexual_offence")                              \
  X(kExtortion, "extortion")                                       \
  X(kFraud, "fraud")                                               \
  X(kCorruption, "corruption")                                     \
  X(kTaxOffence, "tax_offence")                                    \
  X(kCulturalPropertyTrafficking, "cultural_property_trafficking") \
  X(kDefamation, "defamation")                                     \
  X(kInsult, "insult")                                             \
  X(kFalseInformation, "false_information")                        \
  X(kExtremism, "extremism")                                       \
  X(kBlasphemy, "blasphemy")                                       \
  X(kUnlawfulAssembly, "unlawful_assembly")                        \
  X(kSeparatism, "separatism")                                     \
  X(kEspionage, "espionage")                                       \
  X(kTreason, "treason")                                           \
  X(kLgbtConduct, "lgbt_conduct")                                  \
  X(kOther, "other")

#define COMITY_AUTHORITY_KINDS(X)           \
  X(kCentralAuthority, "central_authority") \
  X(kCourt, "court")                        \
  X(kJudge, "judge")                        \
  X(kProsecutor, "prosecutor")              \
  X(kPolice, "police")                      \
  X(kOther, "other")

#define COMITY_PROCEEDING_KINDS(X)              \
  X(kInvestigation, "investigation")            \
  X(kProsecution, "prosecution")                \
  X(kJudicialProceeding, "judicial_proceeding") \
  X(kExecutionOfSentence, "execution_of_sentence")

#define COMITY_URGENCIES(X) \
  X(kRoutine, "routine")    \
  X(kUrgent, "urgent")      \
  X(kEmergency, "emergency")

#define COMITY_EMERGENCY_RISKS(X)                       \
  X(kLife, "life")                                      \
  X(kPhysicalSafety, "physical_safety")                 \
  X(kChildSafety, "child_safety")                       \
  X(kCriticalInfrastructure, "critical_infrastructure") \
  X(kOther, "other")

#define COMITY_MEASURE_TYPES(X)                              \
  X(kPreserve, "preserve")                                   \
  X(kDisclosePreservedTraffic, "disclose_preserved_traffic") \
  X(kProduce, "produce")                                     \
  X(kSearchSeize, "search_seize")                            \
  X(kRealtimeTraffic, "realtime_traffic")                    \
  X(kIntercept, "intercept")                                 \
  X(kEmergencyDisclosure, "emergency_disclosure")            \
  X(kSurrender, "surrender")                                 \
  X(kTestimony, "testimony")                                 \
  X(kServiceOfDocuments, "service_of_documents")

#define COMITY_DATA_CATEGORIES(X) \
  X(kSubscriber, "subscriber")    \
  X(kTraffic, "traffic")          \
  X(kContent, "content")

#define COMITY_SELECTOR_KINDS(X) \
  X(kAccount, "account")         \
  X(kEmail, "email")             \
  X(kPhone, "phone")             \
  X(kIp, "ip")                   \
  X(kDomain, "domain")           \
  X(kUrl, "url")                 \
  X(kDevice, "device")           \
  X(kPayment, "payment")         \
  X(kWallet, "wallet")           \
  X(kPerson, "person")           \
  X(kOther, "other")

#define COMITY_DOMESTIC_AUTHORITY_KINDS(X)          \
  X(kCourt, "court")                                \
  X(kJudge, "judge")                                \
  X(kIndependentAuthority, "independent_authority") \
  X(kProsecutor, "prosecutor")                      \
  X(kPolice, "police")                              \
  X(kNone, "none")

#define COMITY_ASSURANCES(X)                                               \
  X(kUseLimitedToStatedProceedings, "use_limited_to_stated_proceedings")   \
  X(kNoOnwardTransferWithoutConsent, "no_onward_transfer_without_consent") \
  X(kNoDeathPenalty, "no_death_penalty")                                   \
  X(kNoTorture, "no_torture")                                              \
  X(kFairTrial, "fair_trial")                                              \
  X(kDeleteAfterProceedings, "delete_after_proceedings")

#define COMITY_PERSON_ROLES(X)        \
  X(kSuspect, "suspect")              \
  X(kAccused, "accused")              \
  X(kConvicted, "convicted")          \
  X(kVictim, "victim")                \
  X(kWitness, "witness")              \
  X(kAccountHolder, "account_holder") \
  X(kOther, "other")

#define COMITY_PERSON_STATUSES(X)                  \
  X(kJournalist, "journalist")                     \
  X(kHumanRightsDefender, "human_rights_defender") \
  X(kPoliticalOpposition, "political_opposition")  \
  X(kActivist, "activist")                         \
  X(kLawyer, "lawyer")                             \
  X(kReligiousLeader, "religious_leader")          \
  X(kTradeUnionist, "trade_unionist")              \
  X(kRefugee, "refugee")                           \
  X(kAsylumSeeker, "asylum_seeker")                \
  X(kMinor, "minor")                               \
  X(kDiplomat, "diplomat")                         \
  X(kMemberOfParliament, "member_of_parliament")

#define COMITY_UNCC_STATUSES(X) \
  X(kParty, "party")            \
  X(kSignatory, "signatory")    \
  X(kNone, "none")

#define COMITY_DEATH_PENALTY(X) \
  X(kAbolished, "abolished")    \
  X(kMoratorium, "moratorium")  \
  X(kRetained, "retained")

#define COMITY_DUAL_CRIMINALITY(X)  \
  X(kRequired, "required")          \
  X(kCoerciveOnly, "coercive_only") \
  X(kNotRequired, "not_required")

#define COMITY_SPEECH_POLICIES(X) \
  X(kRefuse, "refuse")            \
  X(kReview, "review")

// Items of policy.independent_authorization_required: data categories and measure types.
#define COMITY_AUTHORIZATION_ITEMS(X)     \
  X(kSubscriber, "subscriber")            \
  X(kTraffic, "traffic")                  \
  X(kContent, "content")                  \
  X(kRealtimeTraffic, "realtime_traffic") \
  X(kIntercept, "intercept")              \
  X(kSearchSeize, "search_seize")         \
  X(kSurrender, "surrender")

// Decision outcomes, in increasing precedence.
#define COMITY_OUTCOMES(X)     \
  X(kProceed, "proceed")       \
  X(kReview, "review")         \
  X(kIncomplete, "incomplete") \
  X(kRefuse, "refuse")

// Finding effects. note and condition do not change the outcome.
#define COMITY_EFFECTS(X)      \
  X(kNote, "note")             \
  X(kCondition, "condition")   \
  X(kReview, "review")         \
  X(kIncomplete, "incomplete") \
  X(kRefuse, "refuse")

#define COMITY_ENUM_MEMBER(id, name) id,
#define COMITY_DECLARE_ENUM(Type, LIST) enum class Type : uint8_t { LIST(COMITY_ENUM_MEMBER) };

COMITY_DECLARE_ENUM(OffenceCategory, COMITY_OFFENCE_CATEGORIES)
COMITY_DECLARE_ENUM(AuthorityKind, COMITY_AUTHORITY_KINDS)
COMITY_DECLARE_ENUM(ProceedingKind, COMITY_PROCEEDING_KINDS)
COMITY_DECLARE_ENUM(Urgency, COMITY_URGENCIES)
COMITY_DECLARE_ENUM(EmergencyRisk, COMITY_EMERGENCY_RISKS)
COMITY_DECLARE_ENUM(MeasureType, COMITY_MEASURE_TYPES)
COMITY_DECLARE_ENUM(DataCategory, COMITY_DATA_CATEGORIES)
COMITY_DECLARE_ENUM(SelectorKind, COMITY_SELECTOR_KINDS)
COMITY_DECLARE_ENUM(DomesticAuthorityKind, COMITY_DOMESTIC_AUTHORITY_KINDS)
COMITY_DECLARE_ENUM(Assurance, COMITY_ASSURANCES)
COMITY_DECLARE_ENUM(PersonRole, COMITY_PERSON_ROLES)
COMITY_DECLARE_ENUM(PersonStatus, COMITY_PERSON_STATUSES)
COMITY_DECLARE_ENUM(UnccStatus, COMITY_UNCC_STATUSES)
COMITY_DECLARE_ENUM(DeathPenalty, COMITY_DEATH_PENALTY)
COMITY_DECLARE_ENUM(DualCriminality, COMITY_DUAL_CRIMINALITY)
COMITY_DECLARE_ENUM(SpeechPolicy, COMITY_SPEECH_POLICIES)
COMITY_DECLARE_ENUM(AuthorizationItem, COMITY_AUTHORIZATION_ITEMS)
COMITY_DECLARE_ENUM(Outcome, COMITY_OUTCOMES)
COMITY_DECLARE_ENUM(Effect, COMITY_EFFECTS)

// EnumTraits<E>::names lists the wire names in declaration order.
template <typename E>
struct EnumTraits;

#define COMITY_ENUM_NAME(id, name) std::string_view(name),
#define COMITY_ENUM_TRAITS(Type, LIST)                             \
  template <>                                                      \
  struct EnumTraits<Type> {                                        \
    static constexpr std::string_view kTypeName = #Type;           \
    static constexpr std::array kNames = {LIST(COMITY_ENUM_NAME)}; \
    static constexpr size_t kCount = kNames.size();                \
  };

COMITY_ENUM_TRAITS(OffenceCategory, COMITY_OFFENCE_CATEGORIES)
COMITY_ENUM_TRAITS(AuthorityKind, COMITY_AUTHORITY_KINDS)
COMITY_ENUM_TRAITS(ProceedingKind, COMITY_PROCEEDING_KINDS)
COMITY_ENUM_TRAITS(Urgency, COMITY_URGENCIES)
COMITY_ENUM_TRAITS(EmergencyRisk, COMITY_EMERGENCY_RISKS)
COMITY_ENUM_TRAITS(MeasureType, COMITY_MEASURE_TYPES)
COMITY_ENUM_TRAITS(DataCategory, COMITY_DATA_CATEGORIES)
COMITY_ENUM_TRAITS(SelectorKind, COMITY_SELECTOR_KINDS)
COMITY_ENUM_TRAITS(DomesticAuthorityKind, COMITY_DOMESTIC_AUTHORITY_KINDS)
COMITY_ENUM_TRAITS(Assurance, COMITY_ASSURANCES)
COMITY_ENUM_TRAITS(PersonRole, COMITY_PERSON_ROLES)
COMITY_ENUM_TRAITS(PersonStatus, COMITY_PERSON_STATUSES)
COMITY_ENUM_TRAITS(UnccStatus, COMITY_UNCC_STATUSES)
COMITY_ENUM_TRAITS(DeathPenalty, COMITY_DEATH_PENALTY)
COMITY_ENUM_TRAITS(DualCriminality, COMITY_DUAL_CRIMINALITY)
COMITY_ENUM_TRAITS(SpeechPolicy, COMITY_SPEECH_POLICIES)
COMITY_ENUM_TRAITS(AuthorizationItem, COMITY_AUTHORIZATION_ITEMS)
COMITY_ENUM_TRAITS(Outcome, COMITY_OUTCOMES)
COMITY_ENUM_TRAITS(Effect, COMITY_EFFECTS)

template <typename E>
constexpr std::string_view EnumName(E e) {
  return EnumTraits<E>::kNames[static_cast<size_t>(e)];
}

template <typename E>
constexpr std::optional<E> ParseEnum(std::string_view name) {
  for (size_t i = 0; i < EnumTraits<E>::kCount; ++i) {
    if (EnumTraits<E>::kNames[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <typename E>
constexpr size_t EnumCount() {
  return EnumTraits<E>::kCount;
}

// A set of enum values as a bitmask (every enum here has fewer than 64 members).
template <typename E>
class EnumSet {
 public:
  static_assert(EnumTraits<E>::kCount <= 64);
  constexpr EnumSet() = default;
  constexpr EnumSet(std::initializer_list<E> values) {
    for (E v : values) insert(v);
  }
  constexpr void insert(E e) { bits_ |= Bit(e); }
  constexpr void erase(E e) { bits_ &= ~Bit(e); }
  constexpr bool contains(E e) const { return (bits_ & Bit(e)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr int size() const { return __builtin_popcountll(bits_); }
  constexpr bool intersects(EnumSet other) const { return (bits_ & other.bits_) != 0; }
  constexpr uint64_t bits() const { return bits_; }
  constexpr bool operator==(const EnumSet&) const = default;

  // Visits members in declaration order.
  template <typename F>
  void ForEach(F&& f) const {
    for (uint64_t b = bits_; b != 0; b &= b - 1) f(static_cast<E>(__builtin_ctzll(b)));
  }

 private:
  static constexpr uint64_t Bit(E e) { return uint64_t{1} << static_cast<unsigned>(e); }
  uint64_t bits_ = 0;
};

// Arts. 7-17: the Convention's own offences, and the article that establishes each.
constexpr bool IsConventionOffence(OffenceCategory c) {
  return static_cast<uint8_t>(c) <= static_cast<uint8_t>(OffenceCategory::kLaundering);
}
constexpr int ConventionArticle(OffenceCategory c) {
  return IsConventionOffence(c) ? 7 + static_cast<int>(c) : 0;
}

constexpr Outcome MaxOutcome(Outcome a, Outcome b) { return a < b ? b : a; }

}  // namespace comity

#include "core/codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/internal/request_reader.h"
#include "core/schemas.h"
#include "test_json.h"

namespace comity {
namespace {

using testing_json::Edit;
using testing_json::Edited;
using testing_json::ReadFile;

// Uses every property the request schema defines, so that each can be broken in turn.
constexpr std::string_view kRequest = R"json({
  "schema": "comity.request/v1",
  "id": "REQ-1",
  "created": "2026-11-02T09:00:00Z",
  "requesting_state": "XB",
  "requested_state": "XA",
  "requesting_authority": {"name": "Ministry of Justice", "kind": "central_authority",
                           "contact_point_24_7": true},
  "proceeding": {"kind": "investigation", "reference": "INV-1",
                 "conducting_authority": "Public Prosecutor"},
  "offences": [{"category": "computer_fraud", "national_provision": "Criminal Code s. 301",
                "max_penalty_years": 8, "death_penalty_possible": false,
                "description": "Phishing."}],
  "facts": "Between March and June 2026 a phishing kit collected credentials.",
  "purpose": "Identify the operator.",
  "urgency": "urgent",
  "emergency": {"risk": "life", "imminent": true, "explanation": "A threat to kill."},
  "measures": [{"type": "intercept", "data_categories": ["content", "traffic"],
                "selectors": [{"kind": "email", "value": "kit@example.net", "provider": "Mail"}],
                "all_users": false,
                "period": {"from": "2026-03-01", "to": "2026-06-30"},
                "duration_days": 30,
                "justification": "The account ran the kit."}],
  "persons": [{"role": "suspect", "name": "A. Person", "nationalities": ["XB", "XC"],
               "residence": "XA", "status": ["journalist"]}],
  "domestic_authorization": {"authority_kind": "judge", "reference": "Order 77/2026",
                             "date": "2026-10-28"},
  "confidentiality": {"requested": true, "no_user_notification": true, "until": "2027-01-01"},
  "assurances": ["use_limited_to_stated_proceedings", "no_death_penalty"],
  "follows_up": "REQ-0",
  "language": "en",
  "attachments": [{"name": "order.pdf",
                   "sha256": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                   "media_type": "application/pdf"}]
})json";

constexpr std::string_view kProfile = R"json({
  "schema": "comity.state/v1",
  "code": "XA",
  "name": "Republic of Arcadia",
  "fictional": true,
  "uncc": {"status": "party", "reservations": ["7(2)", "14(3)(a)"],
           "central_authority": "Ministry of Justice", "languages": ["en", "fr"]},
  "other_legal_bases": ["budapest"],
  "death_penalty": "abolished",
  "criminalizes": {"illegal_access": {"max_penalty_years": 3, "provision": "PC 1"},
                   "computer_fraud": {"max_penalty_years": 8.5},
                   "other": {"max_penalty_years": 0}},
  "policy": {"dual_criminality": "coercive_only", "interception_min_penalty_years": 4,
             "max_interception_days": 60, "max_stored_period_days": 365,
             "independent_authorization_required": ["traffic", "content", "intercept"],
             "speech_offences": "refuse", "refugee_protection": true,
             "protected_status_review": ["journalist", "lawyer", "poet"],
             "death_penalty_assurance_required": false,
             "enhanced_scrutiny": ["XF"], "suspended": ["XZ"],
             "response_days": {"routine": 30, "urgent": 7, "emergency_hours": 8}}
})json";

constexpr std::string_view kDecision = R"json({
  "schema": "comity.decision/v1",
  "request_id": "REQ-1",
  "outcome": "review",
  "findings": [{"rule": "uncc.protected-status", "effect": "review",
                "citations": [{"instrument": "UNCC", "article": 6},
                              {"instrument": "UNCC", "article": 40, "paragraph": "8"}],
                "message": "The account holder is a journalist.",
                "pointers": ["/persons/0/status"]}],
  "conditions": [{"code": "use-limitation", "text": "Use only for INV-1.",
                  "citations": [{"instrument": "UNCC", "article": 48}]}],
  "respond_by": "2026-12-02T09:00:00Z",
  "rulebase": {"version": "1.0.0",
               "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
})json";

struct BadCase {
  std::string name;
  std::vector<Edit> edits;
  std::string message;
  std::string pointer;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

template <typename T>
void ExpectRefused(const StatusOr<T>& r, const BadCase& c) {
  ASSERT_FALSE(r.ok()) << c.name << " was accepted";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), c.message);
  EXPECT_EQ(r.status().pointer(), c.pointer);
}

TEST(CodecTest, ShippedSchemasCompile) {
  ASSERT_TRUE(ShippedSchemasStatus().ok()) << ShippedSchemasStatus().ToString();
  std::vector<std::string_view> ids = ShippedSchemaIds();
  EXPECT_EQ(ids,
            (std::vector<std::string_view>{kDecisionSchemaId, kRequestSchemaId, kProfileSchemaId}));
  // The embedded text is the file in spec/, byte for byte.
  EXPECT_EQ(ShippedSchemaText(kRequestSchemaId),
            ReadFile(std::string(COMITY_SOURCE_DIR) + "/spec/request.schema.json"));
  EXPECT_EQ(ShippedSchemaText("comity.nothing/v1"), "");
  EXPECT_EQ(ShippedSchema("comity.nothing/v1"), nullptr);
}

TEST(CodecTest, ParsesAFullRequest) {
  auto r = ParseRequest(kRequest);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->id, "REQ-1");
  EXPECT_EQ(FormatTimestamp(*r->created), "2026-11-02T09:00:00Z");
  EXPECT_EQ(r->requesting_state.str(), "XB");
  EXPECT_EQ(r->requested_state.str(), "XA");
  EXPECT_EQ(r->requesting_authority.name, "Ministry of Justice");
  EXPECT_EQ(r->requesting_authority.kind, AuthorityKind::kCentralAuthority);
  EXPECT_TRUE(r->requesting_authority.contact_point_24_7);
  ASSERT_TRUE(r->proceeding.has_value());
  EXPECT_EQ(r->proceeding->kind, ProceedingKind::kInvestigation);
  EXPECT_EQ(*r->proceeding->reference, "INV-1");
  EXPECT_EQ(r->proceeding->conducting_authority, "Public Prosecutor");
  ASSERT_EQ(r->offences.size(), 1u);
  EXPECT_EQ(r->offences[0].category, OffenceCategory::kComputerFraud);
  EXPECT_EQ(r->offences[0].national_provision, "Criminal Code s. 301");
  EXPECT_EQ(*r->offences[0].max_penalty_years, 8.0);
  EXPECT_FALSE(r->offences[0].death_penalty_possible);
  EXPECT_EQ(*r->offences[0].description, "Phishing.");
  EXPECT_EQ(r->urgency, Urgency::kUrgent);
  ASSERT_TRUE(r->emergency.has_value());
  EXPECT_EQ(r->emergency->risk, EmergencyRisk::kLife);
  EXPECT_TRUE(r->emergency->imminent);
  ASSERT_EQ(r->measures.size(), 1u);
  const Measure& m = r->measures[0];
  EXPECT_EQ(m.type, MeasureType::kIntercept);
  EXPECT_EQ(m.data_categories,
            (EnumSet<DataCategory>{DataCategory::kContent, DataCategory::kTraffic}));
  ASSERT_EQ(m.selectors.size(), 1u);
  EXPECT_EQ(m.selectors[0].kind, SelectorKind::kEmail);
  EXPECT_EQ(m.selectors[0].value, "kit@example.net");
  EXPECT_EQ(*m.selectors[0].provider, "Mail");
  EXPECT_FALSE(m.all_users);
  EXPECT_EQ(FormatDate(m.period->from), "2026-03-01");
  EXPECT_EQ(FormatDate(m.period->to), "2026-06-30");
  EXPECT_EQ(*m.duration_days, 30);
  EXPECT_EQ(*m.justification, "The account ran the kit.");
  ASSERT_EQ(r->persons.size(), 1u);
  EXPECT_EQ(r->persons[0].role, PersonRole::kSuspect);
  EXPECT_EQ(*r->persons[0].name, "A. Person");
  ASSERT_EQ(r->persons[0].nationalities.size(), 2u);
  EXPECT_EQ(r->persons[0].nationalities[1].str(), "XC");
  EXPECT_EQ(r->persons[0].residence->str(), "XA");
  EXPECT_TRUE(r->persons[0].status.contains(PersonStatus::kJournalist));
  EXPECT_EQ(r->domestic_authorization->authority_kind, DomesticAuthorityKind::kJudge);
  EXPECT_EQ(FormatDate(*r->domestic_authorization->date), "2026-10-28");
  EXPECT_TRUE(r->confidentiality->requested);
  EXPECT_TRUE(r->confidentiality->no_user_notification);
  EXPECT_EQ(FormatDate(*r->confidentiality->until), "2027-01-01");
  EXPECT_EQ(r->assurances, (EnumSet<Assurance>{Assurance::kUseLimitedToStatedProceedings,
                                               Assurance::kNoDeathPenalty}));
  EXPECT_EQ(*r->follows_up, "REQ-0");
  EXPECT_EQ(*r->language, "en");
  ASSERT_EQ(r->attachments.size(), 1u);
  EXPECT_EQ(r->attachments[0].name, "order.pdf");
  EXPECT_EQ(*r->attachments[0].media_type, "application/pdf");
}

TEST(CodecTest, AbsentOptionalsAndDefaults) {
  auto r = ParseRequest(R"({"schema": "comity.request/v1", "requesting_state": "XB",
      "requested_state": "XA", "requesting_authority": {"name": "MoJ", "kind": "police"},
      "offences": [{"category": "fraud", "national_provision": "PC 1"}],
      "measures": [{"type": "preserve"}], "urgency": "routine"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->id.has_value());
  EXPECT_FALSE(r->created.has_value());
  EXPECT_FALSE(r->proceeding.has_value());
  EXPECT_FALSE(r->offences[0].max_penalty_years.has_value());
  EXPECT_FALSE(r->offences[0].death_penalty_possible);
  EXPECT_FALSE(r->requesting_authority.contact_point_24_7);
  EXPECT_TRUE(r->measures[0].selectors.empty());
  EXPECT_FALSE(r->measures[0].duration_days.has_value());
  EXPECT_TRUE(r->persons.empty());
  EXPECT_TRUE(r->assurances.empty());
  EXPECT_FALSE(r->confidentiality.has_value());
}

TEST(CodecTest, RootMustBeAnObject) {
  for (std::string_view text : {"[]", "null", "\"x\"", "1"}) {
    auto r = ParseRequest(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().pointer(), "");
    EXPECT_EQ(r.status().message().rfind("expected an object, got ", 0), 0u) << text;
  }
  EXPECT_EQ(ParseRequest("[]").status().message(), "expected an object, got an array");
  EXPECT_EQ(ParseProfile("null").status().message(), "expected an object, got null");
  EXPECT_EQ(ParseDecision("1").status().message(), "expected an object, got a number");
}

TEST(CodecTest, IntegerMayBeWrittenWithAZeroFraction) {
  auto r = ParseRequest(Edited(kRequest, {{"/measures/0/duration_days", "30.0"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->measures[0].duration_days, 30);
}

TEST(CodecTest, LengthsCountCodePointsNotBytes) {
  std::string e300, e301;
  for (int i = 0; i < 300; ++i) e300 += "\xC3\xA9";  // U+00E9, two bytes
  e301 = e300 + "\xC3\xA9";
  EXPECT_TRUE(
      ParseRequest(Edited(kRequest, {{"/requesting_authority/name", "\"" + e300 + "\""}})).ok());
  auto r = ParseRequest(Edited(kRequest, {{"/requesting_authority/name", "\"" + e301 + "\""}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "/requesting_authority/name: expected at most 300 characters, got 301");
  // Four-byte code points.
  std::string emoji;
  for (int i = 0; i < 300; ++i) emoji += "\xF0\x9F\x98\x80";
  EXPECT_TRUE(
      ParseRequest(Edited(kRequest, {{"/requesting_authority/name", "\"" + emoji + "\""}})).ok());
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string Offences(int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ",";
    out += R"({"category": "fraud", "national_provision": "PC 1"})";
  }
  return out + "]";
}

std::vector<BadCase> BadRequests() {
  const std::string kA64 = Repeat("a", 64);
  return {
      {"integer_got_string",
       {{"/measures/0/duration_days", "\"30\""}},
       "/measures/0/duration_days: expected an integer, got a string",
       "/measures/0/duration_days"},
      {"integer_got_fraction",
       {{"/measures/0/duration_days", "2.5"}},
       "/measures/0/duration_days: expected an integer, got 2.5",
       "/measures/0/duration_days"},
      {"number_got_string",
       {{"/offences/0/max_penalty_years", "\"8\""}},
       "/offences/0/max_penalty_years: expected a number, got a string",
       "/offences/0/max_penalty_years"},
      {"string_got_number", {{"/facts", "5"}}, "/facts: expected a string, got a number", "/facts"},
      {"string_got_null", {{"/facts", "null"}}, "/facts: expected a string, got null", "/facts"},
      {"boolean_got_string",
       {{"/requesting_authority/contact_point_24_7", "\"yes\""}},
       "/requesting_authority/contact_point_24_7: expected a boolean, got a string",
       "/requesting_authority/contact_point_24_7"},
      {"object_got_string",
       {{"/proceeding", "\"x\""}},
       "/proceeding: expected an object, got a string",
       "/proceeding"},
      {"array_got_object",
       {{"/measures", "{}"}},
       "/measures: expected an array, got an object",
       "/measures"},
      {"unknown_property_root", {{"/penalty", "1"}}, "unknown property \"penalty\"", ""},
      {"unknown_property_offence",
       {{"/offences/0/penalty", "1"}},
       "/offences/0: unknown property \"penalty\"",
       "/offences/0"},
      {"unknown_property_authority",
       {{"/requesting_authority/phone", "\"1\""}},
       "/requesting_authority: unknown property \"phone\"",
       "/requesting_authority"},
      {"unknown_property_proceeding",
       {{"/proceeding/judge", "\"x\""}},
       "/proceeding: unknown property \"judge\"",
       "/proceeding"},
      {"unknown_property_emergency",
       {{"/emergency/level", "3"}},
       "/emergency: unknown property \"level\"",
       "/emergency"},
      {"unknown_property_measure",
       {{"/measures/0/scope", "\"all\""}},
       "/measures/0: unknown property \"scope\"",
       "/measures/0"},
      {"unknown_property_selector",
       {{"/measures/0/selectors/0/note", "\"x\""}},
       "/measures/0/selectors/0: unknown property \"note\"",
       "/measures/0/selectors/0"},
      {"unknown_property_period",
       {{"/measures/0/period/until", "\"2026-01-01\""}},
       "/measures/0/period: unknown property \"until\"",
       "/measures/0/period"},
      {"unknown_property_person",
       {{"/persons/0/age", "40"}},
       "/persons/0: unknown property \"age\"",
       "/persons/0"},
      {"unknown_property_domestic_authorization",
       {{"/domestic_authorization/court", "\"x\""}},
       "/domestic_authorization: unknown property \"court\"",
       "/domestic_authorization"},
      {"unknown_property_confidentiality",
       {{"/confidentiality/level", "\"secret\""}},
       "/confidentiality: unknown property \"level\"",
       "/confidentiality"},
      {"unknown_property_attachment",
       {{"/attachments/0/size", "10"}},
       "/attachments/0: unknown property \"size\"",
       "/attachments/0"},
      {"unknown_property_name_is_escaped",
       {{"/offences/0/a\\\"b", "1"}},
       "/offences/0: unknown property \"a\\\\\\\"b\"",
       "/offences/0"},
      {"enum_string",
       {{"/urgency", "\"soon\""}},
       "/urgency: \"soon\" is not one of routine, urgent, emergency",
       "/urgency"},
      {"enum_number",
       {{"/urgency", "5"}},
       "/urgency: 5 is not one of routine, urgent, emergency",
       "/urgency"},
      {"enum_object",
       {{"/urgency", "{}"}},
       "/urgency: expected one of routine, urgent, emergency, got an object",
       "/urgency"},
      {"enum_in_array",
       {{"/measures/0/data_categories/1", "\"photos\""}},
       "/measures/0/data_categories/1: \"photos\" is not one of subscriber, traffic, content",
       "/measures/0/data_categories/1"},
      {"enum_in_ref",
       {{"/offences/0/category", "\"hacking\""}},
       "/offences/0/category: \"hacking\" is not one of illegal_access, illegal_interception, "
       "data_interference, system_interference, misuse_of_devices, computer_forgery, "
       "computer_fraud, csam, grooming, ncii, laundering, terrorism, drug_trafficking, "
       "trafficking_in_persons, migrant_smuggling, firearms_trafficking, organized_crime, "
       "homicide, kidnapping, sexual_offence, extortion, fraud, corruption, tax_offence, "
       "cultural_property_trafficking, defamation, insult, false_information, extremism, "
       "blasphemy, unlawful_assembly, separatism, espionage, treason, lgbt_conduct, other",
       "/offences/0/category"},
      {"const",
       {{"/schema", "\"comity.request/v2\""}},
       "/schema: expected \"comity.request/v1\", got \"comity.request/v2\"",
       "/schema"},
      {"const_wrong_type",
       {{"/schema", "1"}},
       "/schema: expected \"comity.request/v1\", got 1",
       "/schema"},
      {"required_root",
       {{"/requesting_state", ""}},
       "missing required property \"requesting_state\"",
       ""},
      {"required_schema", {{"/schema", ""}}, "missing required property \"schema\"", ""},
      {"required_nested",
       {{"/requesting_authority/kind", ""}},
       "/requesting_authority: missing required property \"kind\"",
       "/requesting_authority"},
      {"required_in_array_item",
       {{"/measures/0/selectors/0/value", ""}},
       "/measures/0/selectors/0: missing required property \"value\"",
       "/measures/0/selectors/0"},
      {"required_period_to",
       {{"/measures/0/period/to", ""}},
       "/measures/0/period: missing required property \"to\"",
       "/measures/0/period"},
      {"min_items",
       {{"/offences", "[]"}},
       "/offences: expected at least 1 item, got 0",
       "/offences"},
      {"max_items",
       {{"/offences", Offences(21)}},
       "/offences: expected at most 20 items, got 21",
       "/offences"},
      {"unique_items",
       {{"/assurances", R"(["no_torture", "fair_trial", "no_torture"])"}},
       "/assurances/2: \"no_torture\" repeats item 0; items must be unique",
       "/assurances/2"},
      {"unique_items_person_status",
       {{"/persons/0/status", R"(["lawyer", "lawyer"])"}},
       "/persons/0/status/1: \"lawyer\" repeats item 0; items must be unique",
       "/persons/0/status/1"},
      {"unique_items_data_categories",
       {{"/measures/0/data_categories", R"(["content", "content", "content"])"}},
       "/measures/0/data_categories/1: \"content\" repeats item 0; items must be unique; "
       "/measures/0/data_categories/2: \"content\" repeats item 0; items must be unique",
       "/measures/0/data_categories/1"},
      {"min_length",
       {{"/requesting_authority/name", "\"\""}},
       "/requesting_authority/name: expected at least 1 character, got 0",
       "/requesting_authority/name"},
      {"max_length",
       {{"/proceeding/reference", "\"" + Repeat("r", 201) + "\""}},
       "/proceeding/reference: expected at most 200 characters, got 201",
       "/proceeding/reference"},
      {"pattern_state",
       {{"/requesting_state", "\"xa\""}},
       "/requesting_state: \"xa\" does not match the pattern ^[A-Z]{2}$",
       "/requesting_state"},
      {"pattern_state_in_array",
       {{"/persons/0/nationalities/1", "\"X\""}},
       "/persons/0/nationalities/1: \"X\" does not match the pattern ^[A-Z]{2}$",
       "/persons/0/nationalities/1"},
      {"pattern_residence_wrong_type",
       {{"/persons/0/residence", "7"}},
       "/persons/0/residence: expected a string, got a number",
       "/persons/0/residence"},
      {"pattern_language",
       {{"/language", "\"english\""}},
       "/language: \"english\" does not match the pattern ^[a-z]{2,3}$",
       "/language"},
      {"pattern_sha256",
       {{"/attachments/0/sha256", "\"" + Repeat("A", 64) + "\""}},
       "/attachments/0/sha256: \"" + Repeat("A", 64) +
           "\" does not match the pattern ^[0-9a-f]{64}$",
       "/attachments/0/sha256"},
      {"pattern_id_long_value_is_cut",
       {{"/id", "\"" + kA64 + "b\""}},
       "/id: \"" + kA64 + "...\" does not match the pattern ^[A-Za-z0-9._:-]{1,64}$",
       "/id"},
      {"minimum",
       {{"/offences/0/max_penalty_years", "-1"}},
       "/offences/0/max_penalty_years: -1 is less than the minimum 0",
       "/offences/0/max_penalty_years"},
      {"maximum",
       {{"/offences/0/max_penalty_years", "100.5"}},
       "/offences/0/max_penalty_years: 100.5 is greater than the maximum 100",
       "/offences/0/max_penalty_years"},
      {"minimum_integer",
       {{"/measures/0/duration_days", "0"}},
       "/measures/0/duration_days: 0 is less than the minimum 1",
       "/measures/0/duration_days"},
      {"maximum_integer",
       {{"/measures/0/duration_days", "3651"}},
       "/measures/0/duration_days: 3651 is greater than the maximum 3650",
       "/measures/0/duration_days"},
      {"format_date_time",
       {{"/created", "\"2026-02-30T09:00:00Z\""}},
       "/created: \"2026-02-30T09:00:00Z\" is not a valid date-time (February 2026 has 28 "
       "days)",
       "/created"},
      {"format_date_time_leap_second",
       {{"/created", "\"2026-12-31T23:59:60Z\""}},
       "/created: \"2026-12-31T23:59:60Z\" is not a valid date-time (leap second 60 is not "
       "accepted)",
       "/created"},
      {"format_date",
       {{"/measures/0/period/from", "\"2026-13-01\""}},
       "/measures/0/period/from: \"2026-13-01\" is not a valid date (there is no month 13)",
       "/measures/0/period/from"},
      {"format_date_authorization",
       {{"/domestic_authorization/date", "\"2026-02-29\""}},
       "/domestic_authorization/date: \"2026-02-29\" is not a valid date (February 2026 has 28 "
       "days)",
       "/domestic_authorization/date"},
      {"several_problems_in_document_order",
       {{"/measures/0/duration_days", "\"30\""}, {"/urgency", "\"soon\""}},
       "/urgency: \"soon\" is not one of routine, urgent, emergency; "
       "/measures/0/duration_days: expected an integer, got a string",
       "/urgency"},
      {"missing_required_after_members",
       {{"/urgency", ""}, {"/penalty", "1"}},
       "unknown property \"penalty\"; missing required property \"urgency\"",
       ""},
      {"more_than_ten_problems",
       {{"/p01", "1"},
        {"/p02", "1"},
        {"/p03", "1"},
        {"/p04", "1"},
        {"/p05", "1"},
        {"/p06", "1"},
        {"/p07", "1"},
        {"/p08", "1"},
        {"/p09", "1"},
        {"/p10", "1"},
        {"/p11", "1"},
        {"/p12", "1"}},
       "unknown property \"p01\"; unknown property \"p02\"; unknown property \"p03\"; "
       "unknown property \"p04\"; unknown property \"p05\"; unknown property \"p06\"; "
       "unknown property \"p07\"; unknown property \"p08\"; unknown property \"p09\"; "
       "unknown property \"p10\"; and more problems not shown",
       ""},
  };
}

class BadRequestTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadRequestTest, RefusedWithExactError) {
  const BadCase& c = GetParam();
  std::string text = Edited(kRequest, c.edits);
  ExpectRefused(ParseRequest(text), c);
  // The streaming reader must not accept it either.
  Request ignored;
  EXPECT_FALSE(core_internal::ReadValidRequest(*ShippedSchema(kRequestSchemaId), text, &ignored));
  // The same through the value-based entry points.
  auto v = ParseJson(text);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ExpectRefused(RequestFromJson(*v), c);
  Status s = ValidateAgainstSchema(kRequestSchemaId, *v);
  EXPECT_EQ(s.message(), c.message);
  EXPECT_EQ(s.pointer(), c.pointer);
}

INSTANTIATE_TEST_SUITE_P(All, BadRequestTest, testing::ValuesIn(BadRequests()),
                         [](const auto& info) { return info.param.name; });

std::vector<BadCase> BadProfiles() {
  return {
      {"const",
       {{"/schema", "\"comity.state/v2\""}},
       "/schema: expected \"comity.state/v1\", got \"comity.state/v2\"",
       "/schema"},
      {"required_policy", {{"/policy", ""}}, "missing required property \"policy\"", ""},
      {"unknown_property_root",
       {{"/capital", "\"Arcadia City\""}},
       "unknown property \"capital\"",
       ""},
      {"required_in_policy",
       {{"/policy/speech_offences", ""}},
       "/policy: missing required property \"speech_offences\"",
       "/policy"},
      {"unknown_property_policy",
       {{"/policy/extradition", "true"}},
       "/policy: unknown property \"extradition\"",
       "/policy"},
      {"unknown_property_uncc",
       {{"/uncc/ratified", "true"}},
       "/uncc: unknown property \"ratified\"",
       "/uncc"},
      {"unknown_property_criminalization",
       {{"/criminalizes/fraud", R"({"max_penalty_years": 5, "fine": true})"}},
       "/criminalizes/fraud: unknown property \"fine\"",
       "/criminalizes/fraud"},
      {"unknown_property_response_days",
       {{"/policy/response_days/weekly", "1"}},
       "/policy/response_days: unknown property \"weekly\"",
       "/policy/response_days"},
      {"unknown_offence_category",
       {{"/criminalizes/ilegal_access", R"({"max_penalty_years": 3})"}},
       "/criminalizes/ilegal_access: unknown offence category \"ilegal_access\" (expected one "
       "of illegal_access, illegal_interception, data_interference, system_interference, "
       "misuse_of_devices, computer_forgery, computer_fraud, csam, grooming, ncii, laundering, "
       "terrorism, drug_trafficking, trafficking_in_persons, migrant_smuggling, "
       "firearms_trafficking, organized_crime, homicide, kidnapping, sexual_offence, "
       "extortion, fraud, corruption, tax_offence, cultural_property_trafficking, defamation, "
       "insult, false_information, extremism, blasphemy, unlawful_assembly, separatism, "
       "espionage, treason, lgbt_conduct, other)",
       "/criminalizes/ilegal_access"},
      {"criminalization_pointer_is_escaped",
       {{"/criminalizes/a~1b~0c", R"({"max_penalty_years": "3"})"}},
       "/criminalizes/a~1b~0c/max_penalty_years: expected a number, got a string",
       "/criminalizes/a~1b~0c/max_penalty_years"},
      {"criminalization_missing_penalty",
       {{"/criminalizes/fraud", R"({"provision": "PC 2"})"}},
       "/criminalizes/fraud: missing required property \"max_penalty_years\"",
       "/criminalizes/fraud"},
      {"criminalization_penalty_over_maximum",
       {{"/criminalizes/fraud", R"({"max_penalty_years": 101})"}},
       "/criminalizes/fraud/max_penalty_years: 101 is greater than the maximum 100",
       "/criminalizes/fraud/max_penalty_years"},
      {"criminalizes_not_object",
       {{"/criminalizes", "[]"}},
       "/criminalizes: expected an object, got an array",
       "/criminalizes"},
      {"max_interception_days_minimum",
       {{"/policy/max_interception_days", "0"}},
       "/policy/max_interception_days: 0 is less than the minimum 1",
       "/policy/max_interception_days"},
      {"max_interception_days_out_of_int32",
       {{"/policy/max_interception_days", "3000000000"}},
       "/policy/max_interception_days: 3000000000 is out of range (at most 2147483647 here)",
       "/policy/max_interception_days"},
      {"response_days_out_of_int32",
       {{"/policy/response_days/routine", "1e10"}},
       "/policy/response_days/routine: 1e+10 is out of range (at most 2147483647 here)",
       "/policy/response_days/routine"},
      {"interception_min_penalty_negative",
       {{"/policy/interception_min_penalty_years", "-0.5"}},
       "/policy/interception_min_penalty_years: -0.5 is less than the minimum 0",
       "/policy/interception_min_penalty_years"},
      {"authorization_item_enum",
       {{"/policy/independent_authorization_required/1", "\"metadata\""}},
       "/policy/independent_authorization_required/1: \"metadata\" is not one of subscriber, "
       "traffic, content, realtime_traffic, intercept, search_seize, surrender",
       "/policy/independent_authorization_required/1"},
      {"authorization_items_unique",
       {{"/policy/independent_authorization_required", R"(["content", "content"])"}},
       "/policy/independent_authorization_required/1: \"content\" repeats item 0; items must "
       "be unique",
       "/policy/independent_authorization_required/1"},
      {"protected_status_unique",
       {{"/policy/protected_status_review", R"(["lawyer", "poet", "lawyer"])"}},
       "/policy/protected_status_review/2: \"lawyer\" repeats item 0; items must be unique",
       "/policy/protected_status_review/2"},
      {"reservation_pattern",
       {{"/uncc/reservations/1", "\"7(2\""}},
       "/uncc/reservations/1: \"7(2\" does not match the pattern ^[0-9]{1,2}(\\([0-9a-z]+\\))*$",
       "/uncc/reservations/1"},
      {"language_pattern",
       {{"/uncc/languages/0", "\"EN\""}},
       "/uncc/languages/0: \"EN\" does not match the pattern ^[a-z]{2,3}$",
       "/uncc/languages/0"},
      {"suspended_pattern",
       {{"/policy/suspended/0", "\"Zembla\""}},
       "/policy/suspended/0: \"Zembla\" does not match the pattern ^[A-Z]{2}$",
       "/policy/suspended/0"},
      {"death_penalty_enum",
       {{"/death_penalty", "\"sometimes\""}},
       "/death_penalty: \"sometimes\" is not one of abolished, moratorium, retained",
       "/death_penalty"},
      {"name_min_length",
       {{"/name", "\"\""}},
       "/name: expected at least 1 character, got 0",
       "/name"},
      {"fictional_type",
       {{"/fictional", "\"yes\""}},
       "/fictional: expected a boolean, got a string",
       "/fictional"},
  };
}

class BadProfileTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadProfileTest, RefusedWithExactError) {
  const BadCase& c = GetParam();
  std::string text = Edited(kProfile, c.edits);
  ExpectRefused(ParseProfile(text), c);
  auto v = ParseJson(text);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ExpectRefused(ProfileFromJson(*v), c);
}

INSTANTIATE_TEST_SUITE_P(All, BadProfileTest, testing::ValuesIn(BadProfiles()),
                         [](const auto& info) { return info.param.name; });

TEST(CodecTest, ParsesAFullProfile) {
  auto p = ParseProfile(kProfile);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->code.str(), "XA");
  EXPECT_EQ(p->name, "Republic of Arcadia");
  EXPECT_TRUE(p->fictional);
  EXPECT_EQ(p->uncc.status, UnccStatus::kParty);
  EXPECT_EQ(p->uncc.reservations, (std::vector<std::string>{"7(2)", "14(3)(a)"}));
  EXPECT_EQ(*p->uncc.central_authority, "Ministry of Justice");
  EXPECT_EQ(p->uncc.languages, (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(p->other_legal_bases, (std::vector<std::string>{"budapest"}));
  EXPECT_EQ(p->death_penalty, DeathPenalty::kAbolished);
  auto crim = [&](OffenceCategory c) { return p->criminalizes[static_cast<size_t>(c)]; };
  ASSERT_TRUE(crim(OffenceCategory::kIllegalAccess).has_value());
  EXPECT_EQ(crim(OffenceCategory::kIllegalAccess)->max_penalty_years, 3.0);
  EXPECT_EQ(*crim(OffenceCategory::kIllegalAccess)->provision, "PC 1");
  EXPECT_EQ(crim(OffenceCategory::kComputerFraud)->max_penalty_years, 8.5);
  EXPECT_EQ(crim(OffenceCategory::kOther)->max_penalty_years, 0.0);
  EXPECT_FALSE(crim(OffenceCategory::kDefamation).has_value());
  const Policy& pol = p->policy;
  EXPECT_EQ(pol.dual_criminality, DualCriminality::kCoerciveOnly);
  EXPECT_EQ(pol.interception_min_penalty_years, 4.0);
  EXPECT_EQ(pol.max_interception_days, 60);
  EXPECT_EQ(*pol.max_stored_period_days, 365);
  EXPECT_EQ(pol.independent_authorization_required,
            (EnumSet<AuthorizationItem>{AuthorizationItem::kTraffic, AuthorizationItem::kContent,
                                        AuthorizationItem::kIntercept}));
  EXPECT_EQ(pol.speech_offences, SpeechPolicy::kRefuse);
  EXPECT_TRUE(pol.refugee_protection);
  // Unknown statuses are kept verbatim; the set holds the known ones.
  EXPECT_EQ(pol.protected_status_review,
            (std::vector<std::string>{"journalist", "lawyer", "poet"}));
  EXPECT_EQ(pol.protected_status_review_set,
            (EnumSet<PersonStatus>{PersonStatus::kJournalist, PersonStatus::kLawyer}));
  EXPECT_FALSE(pol.death_penalty_assurance_required);
  ASSERT_EQ(pol.enhanced_scrutiny.size(), 1u);
  EXPECT_EQ(pol.enhanced_scrutiny[0].str(), "XF");
  EXPECT_EQ(pol.suspended[0].str(), "XZ");
  EXPECT_EQ(*pol.response_days->routine, 30);
  EXPECT_EQ(*pol.response_days->urgent, 7);
  EXPECT_EQ(*pol.response_days->emergency_hours, 8);
}

TEST(CodecTest, ProfileDefaults) {
  auto p = ParseProfile(
      Edited(kProfile, {{"/policy/death_penalty_assurance_required", ""}, {"/fictional", ""}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->policy.death_penalty_assurance_required);
  EXPECT_FALSE(p->fictional);
}

std::vector<BadCase> BadDecisions() {
  return {
      {"const",
       {{"/schema", "\"comity.request/v1\""}},
       "/schema: expected \"comity.decision/v1\", got \"comity.request/v1\"",
       "/schema"},
      {"outcome_enum",
       {{"/outcome", "\"maybe\""}},
       "/outcome: \"maybe\" is not one of proceed, review, incomplete, refuse",
       "/outcome"},
      {"effect_enum",
       {{"/findings/0/effect", "\"warn\""}},
       "/findings/0/effect: \"warn\" is not one of refuse, incomplete, review, condition, note",
       "/findings/0/effect"},
      {"citations_min_items",
       {{"/findings/0/citations", "[]"}},
       "/findings/0/citations: expected at least 1 item, got 0",
       "/findings/0/citations"},
      {"article_minimum",
       {{"/findings/0/citations/1/article", "-1"}},
       "/findings/0/citations/1/article: -1 is less than the minimum 0",
       "/findings/0/citations/1/article"},
      {"article_integer",
       {{"/findings/0/citations/0/article", "\"6\""}},
       "/findings/0/citations/0/article: expected an integer, got a string",
       "/findings/0/citations/0/article"},
      {"article_out_of_int32",
       {{"/findings/0/citations/0/article", "4294967296"}},
       "/findings/0/citations/0/article: 4294967296 is out of range (at most 2147483647 here)",
       "/findings/0/citations/0/article"},
      {"unknown_property_finding",
       {{"/findings/0/severity", "1"}},
       "/findings/0: unknown property \"severity\"",
       "/findings/0"},
      {"unknown_property_citation",
       {{"/findings/0/citations/0/url", "\"x\""}},
       "/findings/0/citations/0: unknown property \"url\"",
       "/findings/0/citations/0"},
      {"unknown_property_rulebase",
       {{"/rulebase/date", "\"x\""}},
       "/rulebase: unknown property \"date\"",
       "/rulebase"},
      {"required_rulebase", {{"/rulebase", ""}}, "missing required property \"rulebase\"", ""},
      {"unknown_property_root", {{"/reviewer", "\"x\""}}, "unknown property \"reviewer\"", ""},
      {"required_message",
       {{"/findings/0/message", ""}},
       "/findings/0: missing required property \"message\"",
       "/findings/0"},
      {"digest_pattern",
       {{"/rulebase/digest", "\"md5:abc\""}},
       "/rulebase/digest: \"md5:abc\" does not match the pattern ^sha256:[0-9a-f]{64}$",
       "/rulebase/digest"},
      {"respond_by_format",
       {{"/respond_by", "\"2026-12-02\""}},
       "/respond_by: \"2026-12-02\" is not a valid date-time (expected "
       "YYYY-MM-DDThh:mm:ss[.fraction] followed by Z or an offset +hh:mm)",
       "/respond_by"},
      {"pointers_items",
       {{"/findings/0/pointers/0", "3"}},
       "/findings/0/pointers/0: expected a string, got a number",
       "/findings/0/pointers/0"},
      // The schema leaves condition citations open; they are held to the citation schema.
      {"condition_citation_not_object",
       {{"/conditions/0/citations/0", "\"UNCC 48\""}},
       "/conditions/0/citations/0: expected an object, got a string",
       "/conditions/0/citations/0"},
      {"condition_citation_missing_article",
       {{"/conditions/0/citations/0", R"({"instrument": "UNCC"})"}},
       "/conditions/0/citations/0: missing required property \"article\"",
       "/conditions/0/citations/0"},
      {"condition_unknown_property",
       {{"/conditions/0/until", "\"x\""}},
       "/conditions/0: unknown property \"until\"",
       "/conditions/0"},
  };
}

class BadDecisionTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadDecisionTest, RefusedWithExactError) {
  const BadCase& c = GetParam();
  std::string text = Edited(kDecision, c.edits);
  ExpectRefused(ParseDecision(text), c);
  auto v = ParseJson(text);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ExpectRefused(DecisionFromJson(*v), c);
}

INSTANTIATE_TEST_SUITE_P(All, BadDecisionTest, testing::ValuesIn(BadDecisions()),
                         [](const auto& info) { return info.param.name; });

TEST(CodecTest, ParsesADecision) {
  auto d = ParseDecision(kDecision);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d->request_id, "REQ-1");
  EXPECT_EQ(d->outcome, Outcome::kReview);
  ASSERT_EQ(d->findings.size(), 1u);
  EXPECT_EQ(d->findings[0].rule, "uncc.protected-status");
  EXPECT_EQ(d->findings[0].effect, Effect::kReview);
  EXPECT_EQ(d->findings[0].citations,
            (std::vector<Citation>{{"UNCC", 6, std::nullopt}, {"UNCC", 40, "8"}}));
  EXPECT_EQ(d->findings[0].pointers, (std::vector<std::string>{"/persons/0/status"}));
  ASSERT_EQ(d->conditions.size(), 1u);
  EXPECT_EQ(d->conditions[0].code, "use-limitation");
  EXPECT_EQ(d->conditions[0].citations, (std::vector<Citation>{{"UNCC", 48, std::nullopt}}));
  EXPECT_EQ(FormatTimestamp(*d->respond_by), "2026-12-02T09:00:00Z");
  EXPECT_EQ(d->rulebase.version, "1.0.0");
}

// --- Malformed JSON and limits -------------------------------------------------------------

struct MalformedCase {
  std::string name;
  std::string text;
  StatusCode code;
  std::string message;
};

void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class MalformedTest : public testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedTest, Refused) {
  const MalformedCase& c = GetParam();
  auto v = ParseJson(c.text);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), c.code);
  EXPECT_EQ(v.status().message(), c.message);
  // The codecs report the same.
  auto r = ParseRequest(c.text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), c.code);
  EXPECT_EQ(r.status().message(), c.message);
}

std::string Nested(int depth) { return Repeat("[", depth) + Repeat("]", depth); }

INSTANTIATE_TEST_SUITE_P(
    All, MalformedTest,
    testing::Values(
        MalformedCase{"trailing_comma", R"({"a":1,})", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 8: unexpected character '}'"},
        MalformedCase{"missing_colon", "{\n  \"a\" 1\n}", StatusCode::kInvalidArgument,
                      "malformed JSON at line 2, column 7: unexpected character '1'"},
        MalformedCase{"empty", "", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 1: unexpected end of input"},
        MalformedCase{"truncated", "{\"a\": [1, 2", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 12: unexpected end of input"},
        MalformedCase{"trailing_data", "{} x", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 4: unexpected data after the JSON value"},
        MalformedCase{"leading_zero", "[01]", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 3: unexpected character '1'"},
        MalformedCase{"control_character", "{\"a\": \"x\x01\"}", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 9: unexpected control character U+0001"},
        MalformedCase{"invalid_utf8", "{\"a\": \"\xC3\xA9\xFF\"}", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 9: invalid UTF-8"},
        MalformedCase{"bad_escape", R"(["\u12g4"])", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 7: expected a hexadecimal digit in a \\u "
                      "escape"},
        MalformedCase{"number_out_of_range", "[1e999]", StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 7: number out of range"},
        MalformedCase{"duplicate_key", "{\"urgency\": \"routine\",\n \"urgency\": \"emergency\"}",
                      StatusCode::kInvalidArgument,
                      "malformed JSON at line 2, column 2: duplicate key \"urgency\" (keys must "
                      "be unique)"},
        MalformedCase{"duplicate_key_nested",
                      R"({"offences": [{"category": "fraud", "category": "csam"}]})",
                      StatusCode::kInvalidArgument,
                      "malformed JSON at line 1, column 37: duplicate key \"category\" (keys "
                      "must be unique)"},
        MalformedCase{"too_deep", Nested(65), StatusCode::kResourceExhausted,
                      "JSON nested deeper than 64 levels at line 1, column 65"}));

TEST(CodecTest, NumbersAreReadCorrectlyRounded) {
  // Boost.JSON alone reads this one unit in the last place too low.
  auto v = ParseJson("[333333333.33333329, 1e-400, -0.0, 1E2, 18446744073709551616]");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const auto& a = v->as_array();
  EXPECT_EQ(std::bit_cast<uint64_t>(a[0].as_double()), 0x41b3de4355555555u);
  EXPECT_EQ(a[1].as_double(), 0.0);
  EXPECT_TRUE(std::signbit(a[2].as_double()));
  EXPECT_EQ(a[3].as_double(), 100.0);
  EXPECT_EQ(a[4].as_double(), 18446744073709551616.0);
  EXPECT_EQ(ParseJson("[-1e309]").status().message(),
            "malformed JSON at line 1, column 8: number out of range");
}

TEST(CodecTest, DepthLimitIsInclusive) {
  EXPECT_TRUE(ParseJson(Nested(64)).ok());
  EXPECT_FALSE(ParseJson(Nested(65)).ok());
}

TEST(CodecTest, SizeLimit) {
  // Exactly 1 MiB: accepted (a valid request padded with spaces).
  std::string text(kRequest);
  text.append(kMaxDocumentBytes - text.size(), ' ');
  ASSERT_EQ(text.size(), kMaxDocumentBytes);
  EXPECT_TRUE(ParseRequest(text).ok());
  EXPECT_TRUE(ParseJson(text).ok());
  // One byte more: refused before parsing.
  text.push_back(' ');
  for (const Status& s : {ParseRequest(text).status(), ParseJson(text).status(),
                          ParseProfile(text).status(), ParseDecision(text).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(s.message(), "document is 1048577 bytes; the limit is 1048576 bytes (1 MiB)");
  }
}

TEST(CodecTest, LargeUniqueArraysAreCheckedByHash) {
  // 40,000 distinct persons would be O(n^2) if compared pairwise; the schema caps persons at 50,
  // so use a profile list without a cap: other_legal_bases.
  std::string bases = "[";
  for (int i = 0; i < 40000; ++i) bases += (i ? ",\"b" : "\"b") + std::to_string(i) + "\"";
  bases += "]";
  std::string statuses = "[";
  for (int i = 0; i < 40000; ++i) statuses += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  statuses += ",\"s17\"]";
  auto p = ParseProfile(Edited(
      kProfile, {{"/other_legal_bases", bases}, {"/policy/protected_status_review", statuses}}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "/policy/protected_status_review/40000: \"s17\" repeats item 17; items must be "
            "unique");
}

// --- Files ---------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("comity-core-test-" + std::to_string(::getpid()) + "-" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(CodecTest, LoadProfileFile) {
  TempDir dir;
  auto p = LoadProfileFile(dir.Write("XA.json", std::string(kProfile)));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->code.str(), "XA");

  std::string bad = dir.Write("bad.json", Edited(kProfile, {{"/policy/suspended/0", "\"z\""}}));
  auto b = LoadProfileFile(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b.status().message(),
            bad + ": /policy/suspended/0: \"z\" does not match the pattern ^[A-Z]{2}$");
  EXPECT_EQ(b.status().pointer(), "/policy/suspended/0");

  auto missing = LoadProfileFile(dir.path() + "/nowhere.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            dir.path() + "/nowhere.json: cannot open: No such file or directory");

  auto directory = LoadProfileFile(dir.path());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(directory.status().message(), dir.path() + ": is a directory, not a profile file");

  std::string big =
      dir.Write("big.json", std::string(kProfile) + std::string(kMaxDocumentBytes, ' '));
  auto too_big = LoadProfileFile(big);
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_big.status().message(), big + ": document is " +
                                            std::to_string(kProfile.size() + kMaxDocumentBytes) +
                                            " bytes; the limit is 1048576 bytes (1 MiB)");
}

// --- Conformance material and round trips --------------------------------------------------

std::vector<std::string> JsonFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The public conformance material: a copy of the cases lives in tests/core/testdata/cases and
// the profiles ship in profiles/; the shared tree next to the repository, when present, is read
// too, so that new cases there are covered without copying.
std::vector<std::string> ConformanceFiles(const std::string& in_repo, const std::string& shared) {
  std::vector<std::string> files = JsonFiles(std::string(COMITY_SOURCE_DIR) + "/" + in_repo);
  std::string shared_dir = std::string(COMITY_SOURCE_DIR) + "/../shared/conformance/" + shared;
  if (std::filesystem::is_directory(shared_dir)) {
    auto more = JsonFiles(shared_dir);
    files.insert(files.end(), more.begin(), more.end());
  }
  return files;
}

TEST(CodecTest, EveryConformanceRequestParsesAndRoundTrips) {
  auto files = ConformanceFiles("tests/core/testdata/cases", "cases");
  ASSERT_GE(files.size(), 14u);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    auto doc = ParseJson(ReadFile(f));
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    std::string text = boost::json::serialize(doc->as_object().at("request"));
    auto r = ParseRequest(text);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    boost::json::value back = RequestToJson(*r);
    ASSERT_TRUE(ValidateAgainstSchema(kRequestSchemaId, back).ok())
        << ValidateAgainstSchema(kRequestSchemaId, back).ToString();
    auto again = ParseRequest(boost::json::serialize(back));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(*again == *r);
  }
}

TEST(CodecTest, EveryConformanceProfileParsesAndRoundTrips) {
  auto files = ConformanceFiles("profiles", "profiles");
  ASSERT_GE(files.size(), 6u);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    auto p = LoadProfileFile(f);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->code.str(), std::filesystem::path(f).stem().string());
    boost::json::value back = ProfileToJson(*p);
    ASSERT_TRUE(ValidateAgainstSchema(kProfileSchemaId, back).ok());
    auto again = ProfileFromJson(back);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(*again == *p);
  }
}

TEST(CodecTest, FullDocumentsRoundTrip) {
  auto r = *ParseRequest(kRequest);
  auto r2 = ParseRequest(boost::json::serialize(RequestToJson(r)));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_TRUE(*r2 == r);

  auto p = *ParseProfile(kProfile);
  auto p2 = ParseProfile(boost::json::serialize(ProfileToJson(p)));
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  EXPECT_TRUE(*p2 == p);

  auto d = *ParseDecision(kDecision);
  auto d2 = ParseDecision(SerializeDecision(d));
  ASSERT_TRUE(d2.ok()) << d2.status().ToString();
  EXPECT_TRUE(*d2 == d);
}

// ParseRequest reads valid requests in one streaming pass; the full path (DOM, validator,
// converter) must agree with it on every valid request, however it is written.
void ExpectPathsAgree(const std::string& text) {
  SCOPED_TRACE(text.substr(0, 120));
  Request fast;
  ASSERT_TRUE(core_internal::ReadValidRequest(*ShippedSchema(kRequestSchemaId), text, &fast));
  auto v = ParseJson(text);
  ASSERT_TRUE(v.ok());
  auto full = core_internal::RequestFromJsonFullPath(*v);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_TRUE(fast == *full);
}

TEST(CodecTest, StreamingAndFullPathsAgree) {
  ExpectPathsAgree(std::string(kRequest));
  for (const auto& f : ConformanceFiles("tests/core/testdata/cases", "cases")) {
    ExpectPathsAgree(boost::json::serialize(ParseJson(ReadFile(f))->as_object().at("request")));
  }
  // Escapes (strings and keys arrive in pieces), integral doubles, members in another order.
  ExpectPathsAgree(Edited(kRequest, {{"/facts", R"("line\none \u00e9 \ud83d\ude00 \"q\"")"},
                                     {"/measures/0/duration_days", "30.0"},
                                     {"/offences/0/max_penalty_years", "7.5"}}));
  std::string reordered = R"({"urgency":"routine","measures":[{"type":"preserve"}],)"
                          R"("offences":[{"national_provision":"PC 1","category":"fraud"}],)"
                          R"("requesting_authority":{"kind":"police","name":"MoJ"},)"
                          R"("requested_state":"XA","requesting_state":"XB",)"
                          R"("schema":"comity.request/v1"})";
  ExpectPathsAgree(reordered);
  ExpectPathsAgree(
      "{\"schema\":\"comity.request/v1\",\"requesting_state\":\"X\\u0042\","
      "\"requested_state\":\"XA\",\"requesting_authority\":{\"name\":\"M\","
      "\"kind\":\"police\"},\"offences\":[{\"category\":\"fraud\","
      "\"national_provision\":\"P\"}],\"measures\":[{\"type\":\"preserve\"}],"
      "\"u\\u0072gency\":\"routine\"}");
}

// ParseRequestInto reuses the storage of the request it held: nothing of one request may show in
// the next, whichever path (tokenizer, Boost.JSON, full) read either, and after an error too.
TEST(CodecTest, ParseRequestIntoKeepsNothingOfThePreviousRequest) {
  std::vector<std::string> texts;
  for (const auto& f : ConformanceFiles("tests/core/testdata/cases", "cases")) {
    texts.push_back(boost::json::serialize(ParseJson(ReadFile(f))->as_object().at("request")));
  }
  texts.push_back(std::string(kRequest));
  texts.push_back(Edited(kRequest, {{"/facts", R"("escaped\nfacts, read by Boost.JSON")"}}));
  texts.push_back(Edited(kRequest, {{"/offences/0/max_penalty_years", "7.5"}}));
  texts.push_back("{not json");
  texts.push_back(Edited(kRequest, {{"/urgency", R"("soon")"}}));
  ASSERT_GT(texts.size(), 10u);
  std::vector<std::string> order = texts;
  order.insert(order.end(), texts.rbegin(), texts.rend());
  order.insert(order.end(), texts.begin(), texts.end());
  Request reused;
  for (const std::string& text : order) {
    SCOPED_TRACE(text.substr(0, 160));
    StatusOr<Request> fresh = ParseRequest(text);
    Status s = ParseRequestInto(text, &reused);
    ASSERT_EQ(s.ok(), fresh.ok());
    if (!s.ok()) {
      EXPECT_EQ(s.message(), fresh.status().message());
      continue;
    }
    EXPECT_TRUE(reused == *fresh);
  }
}

TEST(CodecTest, StreamingReaderLeavesProblemsToTheFullPath) {
  const JsonSchema& schema = *ShippedSchema(kRequestSchemaId);
  // A duplicate key is refused by the full path with its position.
  std::string dup = std::string(kRequest);
  dup.insert(1, "\"urgency\": \"routine\",");
  Request d;
  EXPECT_FALSE(core_internal::ReadValidRequest(schema, dup, &d));
  EXPECT_EQ(ParseRequest(dup).status().message(),
            "malformed JSON at line 16, column 3: duplicate key \"urgency\" (keys must be unique)");
  // Trailing data.
  EXPECT_FALSE(core_internal::ReadValidRequest(schema, std::string(kRequest) + " x", &d));
}

TEST(CodecTest, ToJsonOmitsAbsentOptionals) {
  Request r;
  r.requesting_state = StateCode{{'X', 'B'}};
  r.requested_state = StateCode{{'X', 'A'}};
  r.requesting_authority.name = "MoJ";
  r.offences.push_back({OffenceCategory::kFraud, "PC 1", std::nullopt, false, std::nullopt});
  r.measures.emplace_back();
  r.measures[0].type = MeasureType::kPreserve;
  EXPECT_EQ(boost::json::serialize(RequestToJson(r)),
            R"({"schema":"comity.request/v1","requesting_state":"XB","requested_state":"XA",)"
            R"("requesting_authority":{"name":"MoJ","kind":"central_authority"},)"
            R"("offences":[{"category":"fraud","national_provision":"PC 1"}],)"
            R"("urgency":"routine","measures":[{"type":"preserve"}]})");
  EXPECT_TRUE(ValidateAgainstSchema(kRequestSchemaId, RequestToJson(r)).ok());

  Decision d;
  d.rulebase = {"1", "sha256:" + Repeat("0", 64)};
  EXPECT_EQ(SerializeDecision(d), R"({"schema":"comity.decision/v1","outcome":"proceed",)"
                                  R"("findings":[],"rulebase":{"version":"1","digest":"sha256:)" +
                                      Repeat("0", 64) + R"("}})");
}

Decision SampleDecision() {
  Decision d;
  d.request_id = "REQ-\"7\"";
  d.outcome = Outcome::kRefuse;
  d.findings.push_back({"uncc.intercept.serious-offence",
                        Effect::kRefuse,
                        {{"UNCC", 46, std::nullopt}, {"UNCC", 30, "1(c)"}},
                        "Interception needs at least 4 years;\n fraud carries 3 under \"XA\" law.",
                        {"/offences/0/max_penalty_years", "/measures/0/type"}});
  d.findings.push_back(
      {"policy.note", Effect::kNote, {{"POLICY:XA", 0, std::nullopt}}, "\x01\t", {}});
  d.conditions.push_back({"confidentiality", "Keep confidential.", {{"UNCC", 42, "3(g)"}}});
  d.conditions.push_back({"retention", "Delete after the proceedings.", {}});
  d.respond_by = *ParseTimestamp("2026-12-02T09:00:00.5Z");
  d.rulebase = {"2026.11", "sha256:" + Repeat("ab", 32)};
  return d;
}

TEST(CodecTest, SerializeDecisionMatchesDecisionToJson) {
  Decision d = SampleDecision();
  std::string fast = SerializeDecision(d);
  EXPECT_EQ(fast, boost::json::serialize(DecisionToJson(d)));
  auto v = ParseJson(fast);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(ValidateAgainstSchema(kDecisionSchemaId, *v).ok());
  auto back = DecisionFromJson(*v);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == d);
}

TEST(CodecTest, ValidateAgainstUnknownSchema) {
  Status s = ValidateAgainstSchema("comity.nothing/v1", boost::json::value());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no shipped schema has the $id \"comity.nothing/v1\"");
}

}  // namespace
}  // namespace comity

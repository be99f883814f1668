// Every enum of core/enums.h lists exactly the codes of its `enum` in the embedded schema, in the
// same order (Effect excepted: it is ordered by precedence, the schema lists it in reverse), so
// that the two cannot drift apart.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/enums.h"
#include "core/schemas.h"

namespace comity {
namespace {

std::vector<std::string> SchemaEnum(std::string_view schema_id, const std::string& pointer) {
  boost::json::value doc = boost::json::parse(ShippedSchemaText(schema_id));
  boost::system::error_code ec;
  const boost::json::value* v = doc.find_pointer(pointer + "/enum", ec);
  if (v == nullptr || !v->is_array()) {
    ADD_FAILURE() << schema_id << "#" << pointer << " has no enum";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& x : v->get_array()) out.emplace_back(x.get_string());
  return out;
}

template <typename E>
std::vector<std::string> Names() {
  std::vector<std::string> out;
  for (auto n : EnumTraits<E>::kNames) out.emplace_back(n);
  return out;
}

template <typename E>
void ExpectSame(std::string_view schema_id, const std::string& pointer) {
  EXPECT_EQ(Names<E>(), SchemaEnum(schema_id, pointer))
      << EnumTraits<E>::kTypeName << " vs " << schema_id << "#" << pointer;
}

TEST(EnumsMatchSchemaTest, Request) {
  const auto r = kRequestSchemaId;
  ExpectSame<OffenceCategory>(r, "/$defs/offence/properties/category");
  ExpectSame<AuthorityKind>(r, "/properties/requesting_authority/properties/kind");
  ExpectSame<ProceedingKind>(r, "/properties/proceeding/properties/kind");
  ExpectSame<Urgency>(r, "/properties/urgency");
  ExpectSame<EmergencyRisk>(r, "/properties/emergency/properties/risk");
  ExpectSame<MeasureType>(r, "/$defs/measure/properties/type");
  ExpectSame<DataCategory>(r, "/$defs/measure/properties/data_categories/items");
  ExpectSame<SelectorKind>(r, "/$defs/measure/properties/selectors/items/properties/kind");
  ExpectSame<DomesticAuthorityKind>(r,
                                    "/properties/domestic_authorization/properties/authority_kind");
  ExpectSame<Assurance>(r, "/properties/assurances/items");
  ExpectSame<PersonRole>(r, "/$defs/person/properties/role");
  ExpectSame<PersonStatus>(r, "/$defs/person/properties/status/items");
}

TEST(EnumsMatchSchemaTest, Profile) {
  const auto p = kProfileSchemaId;
  ExpectSame<UnccStatus>(p, "/properties/uncc/properties/status");
  ExpectSame<DeathPenalty>(p, "/properties/death_penalty");
  ExpectSame<DualCriminality>(p, "/properties/policy/properties/dual_criminality");
  ExpectSame<SpeechPolicy>(p, "/properties/policy/properties/speech_offences");
  ExpectSame<AuthorizationItem>(
      p, "/properties/policy/properties/independent_authorization_required/items");
}

TEST(EnumsMatchSchemaTest, Decision) {
  const auto d = kDecisionSchemaId;
  ExpectSame<Outcome>(d, "/properties/outcome");
  // Effect is declared in increasing precedence; the schema lists it in decreasing precedence.
  std::vector<std::string> effects = Names<Effect>();
  std::reverse(effects.begin(), effects.end());
  EXPECT_EQ(effects, SchemaEnum(d, "/properties/findings/items/properties/effect"));
}

TEST(EnumsMatchSchemaTest, AuthorizationItemsAreDataCategoriesAndMeasureTypes) {
  for (auto n : EnumTraits<AuthorizationItem>::kNames) {
    EXPECT_TRUE(ParseEnum<DataCategory>(n).has_value() || ParseEnum<MeasureType>(n).has_value())
        << n;
  }
}

TEST(EnumsMatchSchemaTest, ConventionOffencesAreArticles7To17) {
  EXPECT_EQ(ConventionArticle(OffenceCategory::kIllegalAccess), 7);
  EXPECT_EQ(ConventionArticle(OffenceCategory::kLaundering), 17);
  EXPECT_FALSE(IsConventionOffence(OffenceCategory::kTerrorism));
}

}  // namespace
}  // namespace comity

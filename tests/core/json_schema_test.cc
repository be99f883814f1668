#include "core/json_schema.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

namespace comity {
namespace {

std::unique_ptr<JsonSchema> Compile(std::string_view schema) {
  auto s = JsonSchema::Compile(boost::json::parse(schema));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::string Check(const JsonSchema& s, std::string_view instance) {
  Status st = s.Check(boost::json::parse(instance));
  return st.ok() ? "OK" : st.message();
}

TEST(JsonSchemaTest, TypeLists) {
  auto s = Compile(R"({"type": ["string", "null"]})");
  EXPECT_EQ(Check(*s, R"("x")"), "OK");
  EXPECT_EQ(Check(*s, "null"), "OK");
  EXPECT_EQ(Check(*s, "1"), "expected a string or null, got a number");
  auto t = Compile(R"({"type": ["integer", "boolean", "array"]})");
  EXPECT_EQ(Check(*t, "{}"), "expected an integer, a boolean or an array, got an object");
  EXPECT_EQ(Check(*t, "1.5"), "expected an integer, a boolean or an array, got 1.5");
  EXPECT_EQ(Check(*t, "1.0"), "OK");
  EXPECT_EQ(Check(*t, "18446744073709551615"), "OK");
}

TEST(JsonSchemaTest, BooleanSchemas) {
  auto s = Compile(R"({"properties": {"never": false, "always": true}})");
  EXPECT_EQ(Check(*s, R"({"always": [1]})"), "OK");
  EXPECT_EQ(Check(*s, R"({"never": 1})"), "/never: no value is allowed here");
  // Keywords apply only to their own type.
  EXPECT_EQ(Check(*s, "[1]"), "OK");
}

TEST(JsonSchemaTest, AdditionalPropertiesSchemaAndRequiredOutsideProperties) {
  auto s = Compile(R"({"type": "object", "required": ["a", "b"],
                       "properties": {"a": {"type": "string"}},
                       "additionalProperties": {"type": "integer", "minimum": 1}})");
  EXPECT_EQ(Check(*s, R"({"a": "x", "b": 2, "c": 3})"), "OK");
  EXPECT_EQ(Check(*s, R"({"a": "x", "c": 0})"),
            "/c: 0 is less than the minimum 1; missing required property \"b\"");
  EXPECT_EQ(Check(*s, R"({"a/b~": "x", "a": "y", "b": 1})"),
            "/a~1b~0: expected an integer, got a string");
}

TEST(JsonSchemaTest, EnumAndConstCompareByJsonValue) {
  auto s = Compile(R"({"enum": [1, "one", {"a": [1, 2]}, null]})");
  EXPECT_EQ(Check(*s, "1.0"), "OK");
  EXPECT_EQ(Check(*s, R"({"a": [1, 2.0]})"), "OK");
  EXPECT_EQ(Check(*s, "null"), "OK");
  EXPECT_EQ(Check(*s, "2"), R"(2 is not one of 1, one, {"a":[1,2]}, null)");
  EXPECT_EQ(Check(*s, R"({"a": [2, 1]})"),
            R"(expected one of 1, one, {"a":[1,2]}, null, got an object)");
  auto c = Compile(R"({"const": {"x": 1, "y": [true]}})");
  EXPECT_EQ(Check(*c, R"({"y": [true], "x": 1})"), "OK");
  EXPECT_EQ(Check(*c, R"({"y": [true]})"),
            R"(expected {"x":1,"y":[true]}, got a different object)");
  EXPECT_EQ(Check(*c, "[1]"), R"(expected {"x":1,"y":[true]}, got an array)");
}

TEST(JsonSchemaTest, UniqueItemsUseJsonEquality) {
  auto s = Compile(R"({"uniqueItems": true})");
  EXPECT_EQ(Check(*s, R"([1, "1", [1], {"a": 1}, true, null])"), "OK");
  EXPECT_EQ(Check(*s, R"([1, 2, 1.0])"), "/2: 1 repeats item 0; items must be unique");
  EXPECT_EQ(Check(*s, R"([{"a": 1, "b": 2}, {"b": 2, "a": 1}])"),
            "/1: an object repeats item 0; items must be unique");
  // Above 16 items the check goes by hash: same answers.
  std::string many = "[";
  for (int i = 0; i < 40; ++i) many += std::to_string(i) + ",";
  many += "{\"k\": [1]}, 7.0, {\"k\": [1.0]}]";
  EXPECT_EQ(Check(*s, many),
            "/41: 7 repeats item 7; items must be unique; /42: an object repeats item 40; items "
            "must be unique");
}

TEST(JsonSchemaTest, RefsAndDefsIncludingRecursion) {
  auto s = Compile(R"({
    "$id": "tree", "$ref": "#/$defs/node",
    "$defs": {"node": {"type": "object", "additionalProperties": false, "required": ["v"],
                        "properties": {"v": {"type": "integer"},
                                       "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}
  })");
  EXPECT_EQ(Check(*s, R"({"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}]})"), "OK");
  EXPECT_EQ(Check(*s, R"({"v": 1, "kids": [{"v": 2, "kids": [{"w": 3}]}]})"),
            "/kids/0/kids/0: unknown property \"w\"; /kids/0/kids/0: missing required property "
            "\"v\"");
  EXPECT_NE(s->Find("/$defs/node"), nullptr);
  EXPECT_NE(s->Find("/$defs/node/properties/v"), nullptr);
  EXPECT_EQ(s->Find("/$defs/nothing"), nullptr);
  EXPECT_EQ(s->id(), "tree");
}

TEST(JsonSchemaTest, ValidateASubschemaAtAPath) {
  auto s = Compile(R"({"$defs": {"n": {"type": "integer", "maximum": 3}}})");
  ValidationErrors errors;
  JsonPath root{nullptr, "list", 0, false};
  JsonPath item{&root, {}, 4, true};
  EXPECT_TRUE(s->Validate(boost::json::value(3), &item, &errors, s->Find("/$defs/n")));
  EXPECT_FALSE(s->Validate(boost::json::value(5), &item, &errors, s->Find("/$defs/n")));
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].ToString(), "/list/4: 5 is greater than the maximum 3");
}

TEST(JsonSchemaTest, PointerEscaping) {
  JsonPath a{nullptr, "a/b", 0, false};
  JsonPath b{&a, "~x", 0, false};
  JsonPath c{&b, {}, 12, true};
  EXPECT_EQ(JsonPointer(&c), "/a~1b/~0x/12");
  EXPECT_EQ(JsonPointer(nullptr), "");
}

TEST(JsonSchemaTest, ErrorLimit) {
  auto s = Compile(R"({"items": {"type": "string"}})");
  EXPECT_EQ(Check(*s, "[1,2,3,4,5,6,7,8,9,10]"),
            "/0: expected a string, got a number; /1: expected a string, got a number; /2: "
            "expected a string, got a number; /3: expected a string, got a number; /4: expected "
            "a string, got a number; /5: expected a string, got a number; /6: expected a string, "
            "got a number; /7: expected a string, got a number; /8: expected a string, got a "
            "number; /9: expected a string, got a number");
  Status st = s->Check(boost::json::parse("[1,2,3,4,5,6,7,8,9,10,11]"));
  EXPECT_EQ(st.pointer(), "/0");
  EXPECT_TRUE(
      st.message().ends_with("/9: expected a string, got a number; and more problems "
                             "not shown"));
}

struct BadSchema {
  const char* schema;
  const char* message;
};

class BadSchemaTest : public testing::TestWithParam<BadSchema> {};

TEST_P(BadSchemaTest, RefusedAtCompileTime) {
  auto s = JsonSchema::Compile(boost::json::parse(GetParam().schema));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, BadSchemaTest,
    testing::Values(
        BadSchema{R"({"properties": {"a": {"oneOf": []}}})",
                  "schema#/properties/a: keyword \"oneOf\" is not supported"},
        BadSchema{R"({"$id": "x", "format": "email"})",
                  "x#/format: format \"email\" is not supported (only date and date-time)"},
        BadSchema{R"({"$ref": "other.json#/a"})",
                  "schema#: $ref \"other.json#/a\" is not supported (only \"#\" and \"#/...\")"},
        BadSchema{R"({"$ref": "#/$defs/missing"})",
                  "schema#: $ref \"#/$defs/missing\" does not resolve"},
        BadSchema{R"({"items": [{"type": "string"}]})",
                  "schema#/items: items must be a schema (use prefixItems for tuples)"},
        BadSchema{R"({"type": "text"})", "schema#/type: unknown type \"text\""},
        BadSchema{R"({"minLength": -1})",
                  "schema#/minLength: minLength must be a non-negative "
                  "integer"},
        BadSchema{R"({"enum": []})", "schema#/enum: enum must be a non-empty array"},
        BadSchema{R"({"pattern": "(a"})",
                  "schema#/pattern: pattern \"(a\" at offset 2: unterminated group"},
        BadSchema{R"({"type": "integer", "minimum": 1, "default": 0})",
                  "schema#: default is not valid: 0 is less than the minimum 1"},
        BadSchema{R"({"properties": 3})", "schema#/properties: properties must be an object"},
        BadSchema{R"({"properties": {"a": 3}})",
                  "schema#/properties/a: a schema must be an object or a boolean"}));

}  // namespace
}  // namespace comity

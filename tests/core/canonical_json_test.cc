#include "core/canonical_json.h"

#include <gtest/gtest.h>

#include <bit>
#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "core/codec.h"

namespace comity {
namespace {

std::string Canon(const boost::json::value& v) {
  auto s = CanonicalJson(v);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : "";
}

std::string CanonText(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return Canon(*v);
}

// RFC 8785 section 3.2.2 (and Appendix C's input): the whole example.
TEST(CanonicalJsonTest, RfcExample) {
  const std::string input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(CanonText(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
            "1e-27],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 section 3.2.3: sorting by UTF-16 code units, not code points or UTF-8 bytes (U+1F600
// sorts before U+FB33 because its high surrogate is 0xD83D).
TEST(CanonicalJsonTest, RfcSortingExample) {
  const std::string input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  EXPECT_EQ(CanonText(input),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

struct NumberCase {
  uint64_t bits;
  const char* expected;  // nullptr: must be refused
};

// RFC 8785 Appendix B.
TEST(CanonicalJsonTest, RfcNumberTable) {
  const NumberCase cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x7fffffffffffffff, nullptr},
      {0x7ff0000000000000, nullptr},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.bits);
    boost::json::value v(std::bit_cast<double>(c.bits));
    auto s = CanonicalJson(v);
    if (c.expected == nullptr) {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(s.status().message(),
                "numbers must be finite (NaN and Infinity have no JSON form)");
    } else {
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      EXPECT_EQ(*s, c.expected);
    }
  }
}

TEST(CanonicalJsonTest, NotationBoundaries) {
  EXPECT_EQ(Canon(1e20), "100000000000000000000");
  EXPECT_EQ(Canon(1e21), "1e+21");
  EXPECT_EQ(Canon(1.5e21), "1.5e+21");
  EXPECT_EQ(Canon(1e-6), "0.000001");
  EXPECT_EQ(Canon(1e-7), "1e-7");
  EXPECT_EQ(Canon(1.25e-7), "1.25e-7");
  EXPECT_EQ(Canon(123.0), "123");
  EXPECT_EQ(Canon(0.1), "0.1");
  EXPECT_EQ(Canon(-2.5), "-2.5");
}

TEST(CanonicalJsonTest, Integers) {
  EXPECT_EQ(Canon(boost::json::value(int64_t{0})), "0");
  EXPECT_EQ(Canon(boost::json::value(int64_t{-42})), "-42");
  EXPECT_EQ(Canon(boost::json::value(int64_t{9007199254740992})), "9007199254740992");
  // Exactly representable beyond 2^53: written as ECMAScript writes the double (shortest
  // digits, then zeros).
  EXPECT_EQ(Canon(boost::json::value(int64_t{1} << 60)), "1152921504606847000");
  EXPECT_EQ(Canon(boost::json::value(uint64_t{1} << 63)), "9223372036854776000");
  EXPECT_EQ(Canon(boost::json::value(std::numeric_limits<int64_t>::min())), "-9223372036854776000");
  auto s = CanonicalJson(boost::json::value(int64_t{9007199254740993}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "integer 9007199254740993 cannot be represented exactly as an IEEE-754 double");
  EXPECT_FALSE(CanonicalJson(boost::json::value(std::numeric_limits<uint64_t>::max())).ok());
  // Found by the request fuzzer: the canonical form of 44444888888888888 (exactly a double) is
  // 44444888888888890, which must itself canonicalise to itself.
  EXPECT_EQ(Canon(boost::json::value(int64_t{44444888888888888})), "44444888888888890");
  EXPECT_EQ(Canon(boost::json::value(int64_t{44444888888888890})), "44444888888888890");
  EXPECT_EQ(CanonText("44444888888888890"), "44444888888888890");
  EXPECT_EQ(Canon(boost::json::value(uint64_t{18446744073709551615u} - 2047)),
            "18446744073709550000");
  EXPECT_FALSE(CanonicalJson(boost::json::value(std::numeric_limits<int64_t>::max())).ok());
}

TEST(CanonicalJsonTest, StringsAndNesting) {
  EXPECT_EQ(CanonText(R"({"b":[1,{"z":null,"a":"\u001f\b\t"}],"a":{}})"),
            R"({"a":{},"b":[1,{"a":"\u001f\b\t","z":null}]})");
  EXPECT_EQ(CanonText("\"\x7f/\""), "\"\x7f/\"");
  // Idempotent.
  std::string once = CanonText(R"({"x":[1.0,2e0,"é"],"a":true})");
  EXPECT_EQ(once, R"({"a":true,"x":[1,2,"é"]})");
  EXPECT_EQ(CanonText(once), once);
}

TEST(CanonicalJsonTest, RefusesInvalidUtf8AndDeepNesting) {
  auto s = CanonicalJson(boost::json::value(boost::json::string("\xC3")));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "a string is not valid UTF-8");
  boost::json::object o;
  o["\xED\xA0\x80"] = 1;  // an encoded surrogate
  EXPECT_EQ(CanonicalJson(o).status().message(), "a key is not valid UTF-8");

  boost::json::value deep = boost::json::array();
  for (size_t i = 1; i < kMaxJsonDepth; ++i) deep = boost::json::array{deep};
  EXPECT_TRUE(CanonicalJson(deep).ok());
  deep = boost::json::array{deep};
  EXPECT_EQ(CanonicalJson(deep).status().message(), "JSON nested deeper than 64 levels");
}

}  // namespace
}  // namespace comity

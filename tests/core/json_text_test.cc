#include "core/internal/json_text.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <random>
#include <string>

#include "core/internal/key_table.h"

namespace comity::core_internal {
namespace {

// The escaping must be exactly Boost.JSON's (SerializeDecision == serialize(DecisionToJson)) and
// RFC 8785's, whatever the position of the characters to escape in the 16- and 8-byte blocks the
// fast scan reads.
TEST(JsonTextTest, EscapingMatchesBoostJsonEverywhere) {
  std::mt19937 rng(7);
  const std::string alphabet =
      std::string("abc \"\\/\x01\x1f\x7f\n\t\r\b\f") + "\xC3\xA9" + "\xE2\x82\xAC";
  for (int round = 0; round < 5000; ++round) {
    std::string s;
    size_t len = rng() % 80;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    std::string ours;
    AppendJsonString(&ours, s);
    ASSERT_EQ(ours, boost::json::serialize(boost::json::value(boost::json::string(s)))) << s;
    std::string content;
    AppendJsonStringContent(&content, s);
    ASSERT_EQ("\"" + content + "\"", ours);
  }
  std::string out;
  AppendJsonString(&out, "0123456789abcdef\"0123456789\\");
  EXPECT_EQ(out, R"("0123456789abcdef\"0123456789\\")");
}

// KeyHash is computed at compile time for the converters' `switch` cases and at run time for the
// keys read: both must agree for every length (the run-time loads differ by length).
constexpr std::string_view kText = "abcdefghijklmnopqrstuvwxyz0123456789";

TEST(JsonTextTest, KeyHashIsTheSameAtCompileAndRunTime) {
  constexpr auto kAtCompileTime = [] {
    std::array<uint64_t, kText.size() + 1> h{};
    for (size_t n = 0; n <= kText.size(); ++n) h[n] = KeyHash(kText.substr(0, n));
    return h;
  }();
  for (size_t n = 0; n <= kText.size(); ++n) {
    std::string copy(kText.substr(0, n));  // not a constant expression
    EXPECT_EQ(KeyHash(copy), kAtCompileTime[n]) << n;
    KeyTable t({"x", copy, "y"});
    EXPECT_EQ(t.Find(copy), 1) << n;
  }
  static_assert(KeyHash("name") != KeyHash("kind"));
}

TEST(JsonTextTest, DescribeAndCount) {
  EXPECT_EQ(CountCodePoints("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), 4u);
  EXPECT_EQ(DescribeValue(boost::json::value(2.5)), "2.5");
  EXPECT_EQ(DescribeValue(boost::json::value(int64_t{-3})), "-3");
  EXPECT_EQ(DescribeValue(boost::json::value(nullptr)), "null");
  EXPECT_EQ(DescribeValue(boost::json::array()), "an array");
  EXPECT_EQ(QuoteForMessage(std::string(70, 'x')), "\"" + std::string(64, 'x') + "...\"");
  // Never cut inside a code point.
  std::string e;
  for (int i = 0; i < 70; ++i) e += "\xC3\xA9";
  std::string q = QuoteForMessage(e);
  EXPECT_EQ(q.size(), 1 + 128 + 3 + 1u);
}

}  // namespace
}  // namespace comity::core_internal

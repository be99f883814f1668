#include "core/pattern.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace comity {
namespace {

Pattern P(std::string_view source) {
  auto p = Pattern::Compile(source);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : *Pattern::Compile("^$");
}

TEST(PatternTest, TheSchemasPatterns) {
  Pattern state = P("^[A-Z]{2}$");
  EXPECT_TRUE(state.Matches("XA"));
  EXPECT_FALSE(state.Matches("xa"));
  EXPECT_FALSE(state.Matches("XAB"));
  EXPECT_FALSE(state.Matches("X"));
  EXPECT_FALSE(state.Matches(""));

  Pattern id = P("^[A-Za-z0-9._:-]{1,64}$");
  EXPECT_TRUE(id.Matches("REQ-1"));
  EXPECT_TRUE(id.Matches("a.b_c:d-e"));
  EXPECT_TRUE(id.Matches(std::string(64, 'a')));
  EXPECT_FALSE(id.Matches(std::string(65, 'a')));
  EXPECT_FALSE(id.Matches(""));
  EXPECT_FALSE(id.Matches("REQ 1"));
  EXPECT_FALSE(id.Matches("REQ/1"));

  Pattern lang = P("^[a-z]{2,3}$");
  EXPECT_TRUE(lang.Matches("en"));
  EXPECT_TRUE(lang.Matches("eng"));
  EXPECT_FALSE(lang.Matches("e"));
  EXPECT_FALSE(lang.Matches("engl"));

  Pattern sha = P("^[0-9a-f]{64}$");
  EXPECT_TRUE(sha.Matches(std::string(64, 'f')));
  EXPECT_FALSE(sha.Matches(std::string(63, 'f')));
  EXPECT_FALSE(sha.Matches(std::string(64, 'F')));

  Pattern digest = P("^sha256:[0-9a-f]{64}$");
  EXPECT_TRUE(digest.Matches("sha256:" + std::string(64, '0')));
  EXPECT_FALSE(digest.Matches("sha512:" + std::string(64, '0')));

  Pattern reservation = P(R"(^[0-9]{1,2}(\([0-9a-z]+\))*$)");
  EXPECT_TRUE(reservation.Matches("7"));
  EXPECT_TRUE(reservation.Matches("7(2)"));
  EXPECT_TRUE(reservation.Matches("14(3)(a)"));
  EXPECT_FALSE(reservation.Matches("7(2"));
  EXPECT_FALSE(reservation.Matches("123"));
  EXPECT_FALSE(reservation.Matches("7()"));
  EXPECT_FALSE(reservation.Matches("(2)"));
}

TEST(PatternTest, UnanchoredPatternsSearch) {
  Pattern p = P("b+c");
  EXPECT_TRUE(p.Matches("abbbcd"));
  EXPECT_FALSE(p.Matches("acb"));
  EXPECT_TRUE(P("").Matches("anything"));
  EXPECT_TRUE(P("x$").Matches("abx"));
  EXPECT_FALSE(P("x$").Matches("xab"));
  EXPECT_TRUE(P("^a").Matches("ab"));
  EXPECT_FALSE(P("^a").Matches("ba"));
}

TEST(PatternTest, Constructs) {
  EXPECT_TRUE(P("^(?:ab|cd)+$").Matches("abcdab"));
  EXPECT_FALSE(P("^(?:ab|cd)+$").Matches("abc"));
  EXPECT_TRUE(P("^a?b*c{2}d{1,}$").Matches("ccd"));
  EXPECT_FALSE(P("^a?b*c{2}d{1,}$").Matches("cccd"));
  EXPECT_TRUE(P("^a?b*c{2}d{1,}$").Matches("abbccdd"));
  EXPECT_FALSE(P("^a?b*c{2}d{1,}$").Matches("aacc d"));
  EXPECT_TRUE(P(R"(^\d\D\w\W\s\S$)").Matches("1xa- y"));
  EXPECT_TRUE(P("^[^a-c]$").Matches("d"));
  EXPECT_FALSE(P("^[^a-c]$").Matches("b"));
  EXPECT_TRUE(P("^[-a]$").Matches("-"));
  EXPECT_TRUE(P("^[a-]$").Matches("-"));
  EXPECT_TRUE(P(R"(^[\d.]+$)").Matches("1.2"));
  EXPECT_TRUE(P(R"(^[\d-z]+$)").Matches("1-z"));  // a class escape cannot start a range
  EXPECT_FALSE(P(R"(^[\d-z]+$)").Matches("y"));
  EXPECT_TRUE(P(R"(^\x41\u00e9\.$)").Matches("A\xC3\xA9."));
  EXPECT_TRUE(P("^.$").Matches("\xE2\x82\xAC"));  // one code point, three bytes
  EXPECT_FALSE(P("^.$").Matches("\n"));
  EXPECT_TRUE(P("^[é-ê]$").Matches("\xC3\xAA"));
  EXPECT_TRUE(P("^(a|)+$").Matches("aaa"));  // empty loop body terminates
  EXPECT_TRUE(P("^a+?$").Matches("aa"));     // lazy: same language
}

// Simple patterns take a one-pass greedy matcher; the same language written with a group takes
// the NFA. Both must agree.
TEST(PatternTest, GreedyPathAgreesWithTheNfa) {
  const std::pair<const char*, const char*> pairs[] = {
      {"^[a-z]{2,3}$", "^(?:[a-z]){2,3}$"},
      {"^sha256:[0-9a-f]{4}$", "^(?:sha256:)(?:[0-9a-f]){4}$"},
      {"^[A-Za-z0-9._:-]{1,64}$", "^(?:[A-Za-z0-9._:-]){1,64}$"},
      {"^x[0-9]*y+$", "^(?:x)(?:[0-9])*(?:y)+$"},
      {"^a*b?a$", "^(?:a)*(?:b)?(?:a)$"},  // overlapping classes: not greedy-safe
  };
  const char* inputs[] = {"",  "a",  "ab",  "abc",    "abcd", "AB",         "sha256:00af",
                          "x", "xy", "x1y", "x12yyy", "xyz",  "aa",         "aba",
                          "a", "ba", "aaa", "REQ-1",  "é",    "sha256:00a", "x9"};
  for (const auto& [simple, grouped] : pairs) {
    Pattern a = P(simple), b = P(grouped);
    for (const char* in : inputs) {
      EXPECT_EQ(a.Matches(in), b.Matches(in)) << simple << " on \"" << in << "\"";
    }
  }
  EXPECT_TRUE(P("^a*b?a$").Matches("aa"));
}

TEST(PatternTest, LinearTimeOnHostileInput) {
  // Exponential for a backtracking engine; linear here.
  Pattern p = P("^(a+)+$");
  std::string input(100000, 'a');
  input.push_back('!');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(p.Matches(input));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Long input for a pattern with a large program.
  EXPECT_FALSE(P("^[A-Za-z0-9._:-]{1,64}$").Matches(std::string(1 << 20, 'a')));
}

struct BadPattern {
  const char* source;
  const char* message;
};

class BadPatternTest : public testing::TestWithParam<BadPattern> {};

TEST_P(BadPatternTest, Refused) {
  auto p = Pattern::Compile(GetParam().source);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, BadPatternTest,
    testing::Values(
        BadPattern{"(a", "pattern \"(a\" at offset 2: unterminated group"},
        BadPattern{"a)", "pattern \"a)\" at offset 1: unmatched ')'"},
        BadPattern{"[a-", "pattern \"[a-\" at offset 3: unterminated character class"},
        BadPattern{"[z-a]", "pattern \"[z-a]\" at offset 4: range out of order in character class"},
        BadPattern{"*a", "pattern \"*a\" at offset 0: nothing to repeat"},
        BadPattern{"a**", "pattern \"a**\" at offset 2: nothing to repeat"},
        BadPattern{"^*", "pattern \"^*\" at offset 2: nothing to repeat"},
        BadPattern{"a{2,1}", "pattern \"a{2,1}\" at offset 6: quantifier {n,m} with m < n"},
        BadPattern{"a{x}",
                   "pattern \"a{x}\" at offset 1: '{' does not start a quantifier {n}, "
                   "{n,} or {n,m}"},
        BadPattern{"a{1001}", "pattern \"a{1001}\" at offset 7: repetition count above 1000"},
        BadPattern{"(a)\\1", "pattern \"(a)\\1\" at offset 4: back references are not supported"},
        BadPattern{"\\bword",
                   "pattern \"\\bword\" at offset 2: word boundaries (\\b) are not "
                   "supported"},
        BadPattern{"(?=a)",
                   "pattern \"(?=a)\" at offset 1: only (?:...) groups are supported (no "
                   "look-around or named groups)"},
        BadPattern{"\\q", "pattern \"\\q\" at offset 1: unsupported escape \\q"},
        BadPattern{"a\\", "pattern \"a\\\" at offset 2: '\\' at the end of the pattern"},
        BadPattern{"(?:a{1000}){5}",
                   "pattern \"(?:a{1000}){5}\" at offset 14: pattern too large "
                   "(over 4096 instructions once repetitions are expanded)"}));

}  // namespace
}  // namespace comity

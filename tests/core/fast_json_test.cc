// The request reader's small JSON tokenizer (core/internal/fast_json.h) against Boost.JSON's
// basic_parser: whatever the tokenizer accepts, Boost.JSON accepts with the same events; what it
// is unsure of it says so, never guesses.
#include "core/internal/fast_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace comity::core_internal {
namespace {

namespace json = boost::json;

// Records every event as text; strings and keys that arrive in parts are joined.
struct Recorder {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  std::vector<std::string> events;
  std::string part;
  int refuse_at = -1;  // refuse the event with this index

  bool Add(std::string e) {
    events.push_back(std::move(e));
    return static_cast<int>(events.size()) - 1 != refuse_at;
  }
  bool on_document_begin(json::error_code&) { return Add("begin"); }
  bool on_document_end(json::error_code&) { return Add("end"); }
  bool on_object_begin(json::error_code&) { return Add("{"); }
  bool on_object_end(std::size_t n, json::error_code&) { return Add("}" + std::to_string(n)); }
  bool on_array_begin(json::error_code&) { return Add("["); }
  bool on_array_end(std::size_t n, json::error_code&) { return Add("]" + std::to_string(n)); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    part.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    part.append(s.data(), s.size());
    std::string k = "k:" + part;
    part.clear();
    return Add(k);
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    part.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    part.append(s.data(), s.size());
    std::string k = "s:" + part;
    part.clear();
    return Add(k);
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    return Add("i:" + std::to_string(i));
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    return Add("u:" + std::to_string(u));
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    return Add("d:" + std::to_string(d));
  }
  bool on_bool(bool b, json::error_code&) { return Add(b ? "true" : "false"); }
  bool on_null(json::error_code&) { return Add("null"); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// Boost.JSON's events for `text`, or nullopt if it does not accept it.
std::optional<std::vector<std::string>> BoostEvents(const std::string& text) {
  json::parse_options opt;
  opt.max_depth = 64;
  json::basic_parser<Recorder> p(opt);
  json::error_code ec;
  size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (ec || n != text.size()) return std::nullopt;
  return p.handler().events;
}

FastJsonResult Fast(const std::string& text, std::vector<std::string>* events = nullptr) {
  Recorder r;
  FastJsonResult result = ParseFastJson(text, r);
  if (events) *events = r.events;
  return result;
}

// The tokenizer's verdict is kDone only for what Boost.JSON reads the same way.
void ExpectSound(const std::string& text) {
  std::vector<std::string> fast;
  if (Fast(text, &fast) != FastJsonResult::kDone) return;
  std::optional<std::vector<std::string>> boost = BoostEvents(text);
  ASSERT_TRUE(boost.has_value()) << "accepted what Boost.JSON refuses: " << text;
  ASSERT_EQ(fast, *boost) << text;
}

const char kRequest[] =
    R"({"schema":"comity.request/v1","id":"REQ-1","created":"2026-03-15T06:37:00Z",)"
    R"("requesting_state":"XD","requested_state":"XC","requesting_authority":{"name":)"
    R"("Ministry of Justice","kind":"central_authority"},"offences":[{"category":"fraud",)"
    R"("national_provision":"УК ст. 280.3: дискредитация","max_penalty_years":15,)"
    R"("death_penalty_possible":false}],"facts":"Code pénal art. 323-1 € 😀","urgency":)"
    R"("urgent","measures":[{"type":"produce","data_categories":["traffic","content"],)"
    R"("selectors":[],"duration_days":0,"justification":null}],"persons":[],"x":{}})";

TEST(FastJsonTest, ReadsThePlainSpellingLikeBoost) {
  for (const std::string& text :
       {std::string(kRequest), std::string("  {\"a\" : [ 1 ,\t2 ,\r\n{} ] }\n"), std::string("0"),
        std::string("123456789012345678"), std::string("\"\""), std::string("[[[[]]]]"),
        std::string("true"), std::string(" null "), std::string("[false,true,null]")}) {
    std::vector<std::string> fast;
    ASSERT_EQ(Fast(text, &fast), FastJsonResult::kDone) << text;
    std::optional<std::vector<std::string>> boost = BoostEvents(text);
    ASSERT_TRUE(boost.has_value()) << text;
    EXPECT_EQ(fast, *boost) << text;
  }
}

TEST(FastJsonTest, IsUnsureOfEverythingElse) {
  for (const char* text : {
           "",
           "   ",
           "-1",
           "1.5",
           "1e5",
           "1E5",
           "01",
           "1234567890123456789",  // 19 digits: may not fit int64
           "\"a\\nb\"",            // an escape
           "\"a\\u0041\"",
           "\"a\x01\"",  // a raw control character (invalid JSON)
           "\"abc",      // unterminated
           "\"\xC3\"",   // truncated UTF-8
           "\"\xC0\xAF\"",
           "\"\xED\xA0\x80\"",  // a surrogate
           "\"\xF4\x90\x80\x80\"",
           "[1,]",
           "{\"a\":1,}",
           "{\"a\" 1}",
           "{a:1}",
           "[1 2]",
           "[1}",
           "{\"a\":1]",
           "tru",
           "nul",
           "falsey",
           "{} x",
           "{}{}",
           "[",
           "{\"a\":",
           "/* c */ 1",
           "NaN",
           "[1,2",
       }) {
    EXPECT_EQ(Fast(text), FastJsonResult::kUnsure) << text;
  }
  std::string deep(kFastJsonMaxDepth + 1, '[');
  deep += std::string(kFastJsonMaxDepth + 1, ']');
  EXPECT_EQ(Fast(deep), FastJsonResult::kUnsure);
  std::string ok(kFastJsonMaxDepth, '[');
  ok += std::string(kFastJsonMaxDepth, ']');
  EXPECT_EQ(Fast(ok), FastJsonResult::kDone);
}

TEST(FastJsonTest, StopsWhenTheHandlerRefuses) {
  for (int at = 0; at < 12; ++at) {
    Recorder r;
    r.refuse_at = at;
    EXPECT_EQ(ParseFastJson(R"({"a":[1,"x",true,null,{}],"b":false})", r), FastJsonResult::kRefused)
        << at;
    EXPECT_EQ(r.events.size(), static_cast<size_t>(at + 1));
  }
}

// Every class of byte at every position of a 1- to 4-byte sequence inside a string: the
// tokenizer accepts exactly the well-formed UTF-8 that Boost.JSON accepts.
TEST(FastJsonTest, Utf8ValidationIsExactlyBoosts) {
  const std::vector<unsigned char> follow = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                             0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                             0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  size_t accepted = 0;
  auto check = [&](const std::string& bytes) {
    for (const std::string& text : {"\"" + bytes + "\"", "\"0123456789abcdef" + bytes + "x\""}) {
      bool fast = Fast(text) == FastJsonResult::kDone;
      bool boost = BoostEvents(text).has_value();
      // Control characters, quotes and backslashes make the tokenizer unsure (or end the
      // string early); everything else must get the same verdict.
      bool plain = true;
      for (unsigned char c : bytes) plain = plain && c >= 0x20 && c != '"' && c != '\\';
      if (plain) {
        ASSERT_EQ(fast, boost) << testing::PrintToString(text);
      } else if (fast) {
        ASSERT_TRUE(boost) << testing::PrintToString(text);
      }
      accepted += fast;
    }
  };
  // Leads: every byte for one- and two-byte strings, every non-ASCII byte before two more,
  // every 4-byte lead (and the classes above) before three more.
  for (int a = 0; a < 256; ++a) {
    std::string s(1, static_cast<char>(a));
    check(s);
    for (unsigned char b : follow) {
      check(s + static_cast<char>(b));
      if (a < 0x80) continue;
      for (unsigned char c : follow) {
        check(s + static_cast<char>(b) + static_cast<char>(c));
        if (a < 0xF0 && std::find(follow.begin(), follow.end(), a) == follow.end()) continue;
        for (unsigned char d : follow) {
          check(s + static_cast<char>(b) + static_cast<char>(c) + static_cast<char>(d));
        }
      }
    }
  }
  EXPECT_GT(accepted, 4000u);
}

// Random edits of a request: whenever the tokenizer accepts the result, Boost.JSON reads it the
// same way.
TEST(FastJsonTest, MutatedDocumentsAreReadLikeBoostOrNotAtAll) {
  std::mt19937 rng(2026);
  const std::string alphabet = std::string("{}[],:\"\\0123456789-.eE+tfnul \t\r\nax") + "\x01" +
                               "\x7f" + "\x80" + "\xC3" + "\xA9" + "\xE2" + "\xF0";
  size_t done = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = kRequest;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % text.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text.erase(pos, 1);
          break;
        case 1:
          text.insert(pos, 1, c);
          break;
        default:
          text[pos] = c;
      }
    }
    ASSERT_NO_FATAL_FAILURE(ExpectSound(text));
    done += Fast(text) == FastJsonResult::kDone;
  }
  EXPECT_GT(done, 1000u);  // many edits (inside strings, numbers) keep the document valid
}

}  // namespace
}  // namespace comity::core_internal

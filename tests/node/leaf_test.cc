#include "node/leaf.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/canonical_json.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "tests/node/test_util.h"

namespace comity::node {
namespace {

namespace json = boost::json;

LeafInput Sample() {
  LeafInput in;
  in.kind = std::string(kLeafRequestSent);
  in.at = ParseTimestamp("2026-11-30T23:59:59Z").value();
  in.requesting = "XA";
  in.requested = "XB";
  in.measures = {"produce", "preserve", "produce"};
  in.offences = {"computer_fraud"};
  in.outcome = "proceed";
  in.rules = {"uncc.b", "uncc.a", "uncc.b"};
  return in;
}

TEST(LeafTest, CanonicalCoarseAndCommitted) {
  json::object record{{"request_id", "XA-2026-0011223344556677"}, {"actor", "ana"}};
  const std::string salt(32, '\x01');
  BuiltLeaf b = BuildLeafWithSalt(Sample(), record, salt).value();
  const std::string expected_record = CanonicalJson(record).value();
  EXPECT_EQ(b.record, expected_record);
  EXPECT_EQ(b.salt_hex, crypto::HexEncode(salt));
  crypto::Sha256Hasher h;
  h.Update(salt);
  h.Update(expected_record);
  const std::string commitment = "sha256:" + crypto::HexEncode(h.Finish());
  EXPECT_EQ(b.leaf,
            "{\"commitment\":\"" + commitment +
                "\",\"kind\":\"request.sent\",\"measures\":[\"preserve\",\"produce\"],"
                "\"month\":\"2026-11\",\"offences\":[\"computer_fraud\"],\"outcome\":\"proceed\","
                "\"requested\":\"XB\",\"requesting\":\"XA\",\"rules\":[\"uncc.a\",\"uncc.b\"],"
                "\"v\":1}");
  EXPECT_TRUE(VerifyCommitment(b.leaf, b.salt_hex, b.record).value());
  // A different record, or salt, does not match.
  EXPECT_FALSE(VerifyCommitment(b.leaf, b.salt_hex, b.record + " ").value());
  EXPECT_FALSE(VerifyCommitment(b.leaf, std::string(64, '2'), b.record).value());
  EXPECT_FALSE(VerifyCommitment(b.leaf, "zz", b.record).ok());
  EXPECT_FALSE(VerifyCommitment("not json", b.salt_hex, b.record).ok());
}

TEST(LeafTest, FreshSaltEveryTime) {
  json::object record{{"x", 1}};
  BuiltLeaf a = BuildLeaf(Sample(), record).value();
  BuiltLeaf b = BuildLeaf(Sample(), record).value();
  EXPECT_NE(a.salt_hex, b.salt_hex);
  EXPECT_NE(a.leaf, b.leaf);  // same record, unlinkable leaves
  EXPECT_EQ(a.salt_hex.size(), 64u);
}

TEST(LeafTest, OnlyCodesGetIntoALeaf) {
  json::object record;
  const std::string salt(32, 'x');
  LeafInput in = Sample();
  in.measures.push_back("John Smith");
  auto r = BuildLeafWithSalt(in, record, salt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("measures"), std::string::npos);
  in = Sample();
  in.outcome = "refused because of X";
  EXPECT_FALSE(BuildLeafWithSalt(in, record, salt).ok());
  in = Sample();
  in.requesting = "Xa";
  EXPECT_FALSE(BuildLeafWithSalt(in, record, salt).ok());
  in = Sample();
  in.kind = "Request Sent";
  EXPECT_FALSE(BuildLeafWithSalt(in, record, salt).ok());
  in = Sample();
  in.rules = {"rule with space"};
  EXPECT_FALSE(BuildLeafWithSalt(in, record, salt).ok());
}

TEST(LeafTest, MonthIsUtc) {
  LeafInput in = Sample();
  in.at = ParseTimestamp("2026-12-01T00:30:00+01:00").value();  // still November in UTC
  BuiltLeaf b = BuildLeafWithSalt(in, json::object{}, std::string(32, 'a')).value();
  EXPECT_NE(b.leaf.find("\"month\":\"2026-11\""), std::string::npos);
}

TEST(LeafTest, FromRequestTakesStatesMeasuresAndOffences) {
  Request r = RequestFromJson(testing::DraftBody("XA", "XB")).value();
  LeafInput in = LeafFromRequest(kLeafRequestDrafted, Timestamp{0, 0}, r);
  EXPECT_EQ(in.requesting, "XA");
  EXPECT_EQ(in.requested, "XB");
  EXPECT_EQ(in.measures, std::vector<std::string>{"produce"});
  EXPECT_EQ(in.offences, std::vector<std::string>{"computer_fraud"});
}

}  // namespace
}  // namespace comity::node

// The federation's tables (security events, receipts, witness state, cosignatures, alerts), the
// retry schedule, and identity documents with their fingerprints.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "federation/discovery.h"
#include "federation/federation_store.h"
#include "federation/retry.h"
#include "tests/federation/fakes.h"
#include "tlog/log.h"

namespace comity::federation {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;
namespace json = boost::json;

// --- FederationStore -------------------------------------------------------------------------

class FederationStoreTest : public ::testing::Test {
 protected:
  FederationStoreTest() : store_(testing::OpenStore(dir_ / "f.db")) {}
  SecurityEvent Event(int64_t at, std::string kind) {
    SecurityEvent e;
    e.at_us = at;
    e.kind = std::move(kind);
    e.http_status = 401;
    e.remote = "10.0.0.1";
    e.size = 100;
    e.envelope_sha256 = std::string(64, 'a');
    e.detail = "why";
    return e;
  }
  TempDir dir_;
  std::unique_ptr<FederationStore> store_;
};

TEST_F(FederationStoreTest, SecurityEventsPageNewestFirstAndFilterByKind) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        store_->RecordSecurityEvent(Event(1000 + i, i % 2 ? "replay" : "bad_signature")).ok());
  }
  auto p1 = store_->ListSecurityEvents("", "", 3).value();
  ASSERT_EQ(p1.items.size(), 3u);
  EXPECT_EQ(p1.items[0].at_us, 1006);
  EXPECT_EQ(p1.items[2].at_us, 1004);
  ASSERT_FALSE(p1.next_cursor.empty());
  auto p2 = store_->ListSecurityEvents("", p1.next_cursor, 3).value();
  ASSERT_EQ(p2.items.size(), 3u);
  EXPECT_EQ(p2.items[0].at_us, 1003);
  auto p3 = store_->ListSecurityEvents("", p2.next_cursor, 3).value();
  ASSERT_EQ(p3.items.size(), 1u);
  EXPECT_TRUE(p3.next_cursor.empty());
  auto replays = store_->ListSecurityEvents("replay", "", 100).value();
  EXPECT_EQ(replays.items.size(), 3u);
  auto counts = store_->CountSecurityEvents().value();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0], std::make_pair(std::string("bad_signature"), int64_t{4}));
  EXPECT_EQ(counts[1], std::make_pair(std::string("replay"), int64_t{3}));
}

TEST_F(FederationStoreTest, SecurityEventListingRefusesBadInput) {
  EXPECT_EQ(store_->ListSecurityEvents("", "", 0).status().message(),
            "limit must be between 1 and 1000");
  EXPECT_EQ(store_->ListSecurityEvents("", "", 1001).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListSecurityEvents("", "nonsense", 10).status().message(),
            "cursor \"nonsense\" is not one this node issued");
}

TEST_F(FederationStoreTest, SecurityEventsKeepBoundedText) {
  SecurityEvent e = Event(1, "malformed");
  e.detail = std::string(5000, 'd');
  e.claimed_from = std::string(500, 'f');
  ASSERT_TRUE(store_->RecordSecurityEvent(e).ok());
  auto got = store_->ListSecurityEvents("", "", 1).value().items.at(0);
  EXPECT_EQ(got.detail.size(), kMaxSecurityDetailBytes + std::string("…").size());
  EXPECT_EQ(got.claimed_from.size(), kMaxClaimedFieldBytes);
  EXPECT_EQ(got.id.size(), 16u);
}

TEST_F(FederationStoreTest, ReceiptsKeepTheFirst) {
  ASSERT_TRUE(store_->PutReceipts({{"m1", "XA", "h1", 5, "first"}}).ok());
  ASSERT_TRUE(
      store_->PutReceipts({{"m1", "XA", "h1", 6, "second"}, {"m2", "XA", "h2", 7, "r2"}}).ok());
  EXPECT_EQ(store_->GetReceipt("m1").value()->receipt, "first");
  EXPECT_EQ(store_->GetReceipt("m2").value()->received_us, 7);
  EXPECT_FALSE(store_->GetReceipt("m3").value().has_value());
  // Many at once (several rows per statement: 16, 4, 1), one id twice among them and one known
  // already: the first of each is kept.
  std::vector<IssuedReceipt> many;
  for (int i = 0; i < 23; ++i) {
    many.push_back({"n" + std::to_string(i), "XB", "h", 100 + i, "r" + std::to_string(i)});
  }
  many.push_back({"n3", "XB", "h", 999, "again"});
  many.push_back({"m1", "XB", "h", 999, "third"});
  ASSERT_TRUE(store_->PutReceipts(many).ok());
  for (int i = 0; i < 23; ++i) {
    auto r = store_->GetReceipt("n" + std::to_string(i)).value();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->receipt, "r" + std::to_string(i));
    EXPECT_EQ(r->received_us, 100 + i);
  }
  EXPECT_EQ(store_->GetReceipt("m1").value()->receipt, "first");
}

TEST_F(FederationStoreTest, WitnessStateIsCompareAndSet) {
  PeerWitnessStore ws(store_.get(), "XB", 1);
  ASSERT_TRUE(ws.Update("o", std::nullopt, 3, "note3").ok());
  EXPECT_EQ(ws.Update("o", std::nullopt, 4, "note4").code(), StatusCode::kAborted);
  EXPECT_EQ(ws.Update("o", 2, 4, "note4").code(), StatusCode::kAborted);
  ASSERT_TRUE(ws.Update("o", 3, 4, "note4").ok());
  EXPECT_EQ(*ws.Latest("o").value(), "note4");
  ASSERT_TRUE(store_->RecordCosignature("XB", "o", 4, "cosigned4", 99).ok());
  ASSERT_TRUE(store_->RecordCosignature("XB", "o", 4, "again", 100).ok());  // once per size
  auto w = store_->ListWitnessed().value();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].cosigned_note, "cosigned4");
  EXPECT_EQ(w[0].cosigned, 1);
  EXPECT_EQ(w[0].updated_us, 99);
}

TEST_F(FederationStoreTest, SplitViewsBecomeAlertsOfThePeer) {
  PeerWitnessStore xb(store_.get(), "XB", 1);
  PeerWitnessStore xd(store_.get(), "XD", 1);
  ASSERT_TRUE(xb.RecordSplitView({"o", "n1", "n2", "differs", 1'795'000'000}).ok());
  ASSERT_TRUE(xd.RecordSplitView({"p", "m1", "m2", "also", 1'795'000'001}).ok());
  auto alerts = store_->ListAlerts().value();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].peer, "XD");  // newest first
  EXPECT_EQ(alerts[1].first_note, "n1");
  EXPECT_EQ(alerts[1].at_us, int64_t{1'795'000'000} * 1'000'000);
  EXPECT_EQ(xb.SplitViews().value().size(), 1u);
  EXPECT_EQ(store_->CountAlerts().value(), 2);
}

TEST_F(FederationStoreTest, ReopeningKeepsEverything) {
  ASSERT_TRUE(store_->RecordSecurityEvent(Event(1, "oversize")).ok());
  store_.reset();
  store_ = testing::OpenStore(dir_ / "f.db");
  EXPECT_EQ(store_->ListSecurityEvents("", "", 10).value().items.size(), 1u);
}

// --- retry -------------------------------------------------------------------------------------

TEST(RetryTest, DoublesUpToTheCapAndJitterOnlyShortens) {
  RetryPolicy p{.initial = 1000ms, .max = 60'000ms, .jitter = 0.5};
  EXPECT_EQ(RetryDelay(p, 1, 0.0), 1000ms);
  EXPECT_EQ(RetryDelay(p, 2, 0.0), 2000ms);
  EXPECT_EQ(RetryDelay(p, 6, 0.0), 32'000ms);
  EXPECT_EQ(RetryDelay(p, 7, 0.0), 60'000ms);
  EXPECT_EQ(RetryDelay(p, 1'000'000, 0.0), 60'000ms);  // no overflow
  EXPECT_EQ(RetryDelay(p, 0, 0.0), 1000ms);
  EXPECT_EQ(RetryDelay(p, 3, 0.5), 3000ms);
  EXPECT_EQ(RetryDelay(p, 3, 0.999999), 2000ms);
  EXPECT_EQ(RetryDelay(p, 3, 7.0), 2000ms);  // clamped
  p.jitter = 0;
  EXPECT_EQ(RetryDelay(p, 3, 0.9), 4000ms);
}

TEST(RetryTest, RandomUnitIsInRangeAndVaries) {
  double lo = 1, hi = 0;
  for (int i = 0; i < 1000; ++i) {
    const double u = RandomUnit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_LT(lo, 0.1);
  EXPECT_GT(hi, 0.9);
}

TEST(RetryTest, PoliciesAreChecked) {
  EXPECT_TRUE(ValidateRetryPolicy({}).ok());
  EXPECT_EQ(ValidateRetryPolicy({.initial = 0ms}).message(),
            "the first retry delay must be between 1 ms and 1 day, not 0 ms");
  EXPECT_EQ(ValidateRetryPolicy({.initial = 5000ms, .max = 1000ms}).message(),
            "the longest retry delay must be between the first (5000 ms) and 1 day, not 1000 ms");
  EXPECT_EQ(ValidateRetryPolicy({.jitter = 1.5}).message(), "retry jitter must be between 0 and 1");
}

// --- identity documents ----------------------------------------------------------------------

class DiscoveryTest : public ::testing::Test {
 protected:
  DiscoveryTest() {
    Identity id = testing::MakeIdentity("XB");
    tlog::MemoryLogStorage storage;
    auto log = tlog::Log::Create(&storage, "comity/XB/main", id.sign_key, {}).value();
    doc_.state = "XB";
    doc_.name = "main";
    doc_.url = "http://127.0.0.1:9000";
    doc_.sign_key = crypto::Base64Encode(crypto::ByteSpan(id.sign_key.public_key()));
    doc_.box_key = crypto::Base64Encode(crypto::ByteSpan(id.box_key.public_key()));
    doc_.log_origin = "comity/XB/main";
    doc_.log_vkey = log->VerifierKey();
    doc_.witness_vkey = "";
  }
  std::string With(const std::string& key, json::value v) {
    json::object o = json::parse(FormatIdentityDocument(doc_)).as_object();
    if (v.is_null()) {
      o.erase(key);
    } else {
      o[key] = v;
    }
    return json::serialize(o);
  }
  IdentityDocument doc_;
};

TEST_F(DiscoveryTest, RoundTripsAndConfirmsItsFingerprint) {
  const std::string text = FormatIdentityDocument(doc_);
  auto parsed = ParseIdentityDocument(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->log_vkey, doc_.log_vkey);
  const std::string fp = IdentityFingerprint(doc_);
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_EQ(std::string(json::parse(text).at("fingerprints").at("identity").as_string()), fp);
  EXPECT_TRUE(ConfirmFingerprint(*parsed, fp).ok());
  // Case, a prefix and separators do not matter.
  std::string grouped = "SHA256:";
  for (size_t i = 0; i < fp.size(); i += 4) {
    grouped += (i ? ":" : "") + fp.substr(i, 4);
  }
  for (char& c : grouped) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(ConfirmFingerprint(*parsed, grouped).ok()) << grouped;
}

TEST_F(DiscoveryTest, TheFingerprintBindsEveryKey) {
  const std::string fp = IdentityFingerprint(doc_);
  for (std::string IdentityDocument::*field :
       {&IdentityDocument::state, &IdentityDocument::sign_key, &IdentityDocument::box_key,
        &IdentityDocument::log_vkey}) {
    IdentityDocument other = doc_;
    other.*field += "x";
    EXPECT_NE(IdentityFingerprint(other), fp);
  }
  IdentityDocument moved = doc_;
  moved.url = "http://elsewhere";  // the URL is where, not who
  EXPECT_EQ(IdentityFingerprint(moved), fp);
}

TEST_F(DiscoveryTest, AWrongFingerprintIsRefusedNamingBoth) {
  std::string wrong(64, '0');
  Status s = ConfirmFingerprint(doc_, wrong);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find(IdentityFingerprint(doc_)), std::string::npos);
  EXPECT_NE(s.message().find(wrong), std::string::npos);
  EXPECT_EQ(ConfirmFingerprint(doc_, "abc").message(),
            "the fingerprint must be 64 hex digits, not 3");
  EXPECT_EQ(ConfirmFingerprint(doc_, std::string(64, 'g')).message(),
            "the fingerprint must be 64 hex digits");
}

TEST_F(DiscoveryTest, ParsingIsStrict) {
  struct Case {
    std::string text;
    std::string message;
    std::string pointer;
  };
  const Case cases[] = {
      {"[]", "the identity is not a JSON object", ""},
      {With("extra", 1), "unknown member \"extra\"", "/extra"},
      {With("state", nullptr), "state is missing", "/state"},
      {With("state", "xb"), "state is not a state code", "/state"},
      {With("schema", "other"), "schema must be \"comity.identity/v1\"", "/schema"},
      {With("sign_key", "AAAA"), "sign_key is not 32 bytes of base64", "/sign_key"},
      {With("box_key", 7), "box_key must be a string", "/box_key"},
      {With("log_origin", "comity/XZ/main"),
       "log_vkey is for \"comity/XB/main\", not the origin \"comity/XZ/main\"", "/log_vkey"},
      {With("fingerprints", json::object{{"identity", std::string(64, 'f')}}),
       "the identity fingerprint does not match the document's keys", "/fingerprints/identity"},
      {std::string(kMaxIdentityBytes + 1, ' '), "an identity document is at most 16384 bytes", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 80));
    auto r = ParseIdentityDocument(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
    EXPECT_EQ(r.status().pointer(), c.pointer);
  }
}

}  // namespace
}  // namespace comity::federation

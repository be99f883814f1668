// The federation end to end, with real `comity serve` processes on loopback ports:
//   - two nodes exchanging requests both ways (discovery, receipts, answers, witnessing, logs);
//   - four nodes: `comity demo --once`, then every log verified from its data directory;
//   - the receiving node killed with SIGKILL during a burst and restarted: every request
//     delivered exactly once, receipted, and both logs verify;
//   - a peer down for a while: the outbox retries (backoff capped at 2 s here) and drains when
//     it returns;
//   - forged, replayed, misaddressed, stale, oversize, unknown-sender and malformed envelopes:
//     refused with their status, recorded as security events (API and /metrics), nothing stored;
//   - a peer showing two views of its log: a split-view alert with both checkpoints.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "federation/batch.h"
#include "federation/envelope.h"
#include "http/server.h"
#include "tests/e2e/cluster.h"
#include "tlog/log.h"
#include "tlog/publish.h"

namespace comity::e2e {
namespace {

using namespace std::chrono_literals;

// Quick retries so that the fault tests take seconds: the same logic as the defaults.
const std::vector<std::pair<std::string, std::string>> kFastRetry = {
    {"retry_max_seconds = 300", "retry_max_seconds = 2"}};

std::string Submit(E2eNode& from, const std::string& to, int n) {
  ApiAnswer d =
      from.Api("POST", "/api/v1/requests", from.officer(), DraftBody(from.state(), to, n));
  EXPECT_EQ(d.status, 201) << d.text;
  if (d.status != 201) return "";
  const std::string id(d.body.at("id").as_string());
  ApiAnswer s =
      from.Api("POST", "/api/v1/requests/" + id + "/submit", from.officer(), json::object{});
  EXPECT_EQ(s.status, 200) << s.text;
  return id;
}

int CountState(const E2eNode& n, const std::string& query) {
  return static_cast<int>(n.Requests(query).size());
}

int CountEvents(const E2eNode& n, const std::string& id, const std::string& action) {
  ApiAnswer a = n.Api("GET", "/api/v1/requests/" + id, n.auditor());
  if (a.status != 200) return -1;
  int count = 0;
  for (const auto& e : a.body.at("history").as_array()) {
    if (e.at("action").as_string() == action) ++count;
  }
  return count;
}

RunResult Verify(const E2eNode& n, const std::string& where) {
  return RunComity({"log", "verify", where, "--vkey", n.vkey()}, n.dir());
}

TEST(FederationE2e, TwoNodesExchangeRequestsBothWays) {
  Cluster c;
  E2eNode& xa = c.Add("XA");
  E2eNode& xb = c.Add("XB");
  ASSERT_TRUE(c.init_status().ok()) << c.init_status().ToString();
  ASSERT_TRUE(xa.Start().ok());
  ASSERT_TRUE(xb.Start().ok());

  // Discovery refuses a fingerprint that does not match, and says whose keys it saw.
  RunResult wrong = RunComity(
      {"peer", "add", xa.data(), "--from-url", xb.url(), "--fingerprint", std::string(64, '0')},
      c.tmp().path());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("has the fingerprint " + xb.Fingerprint()), std::string::npos)
      << wrong.err;
  ASSERT_TRUE(c.Wire(xa, xb).ok());
  ASSERT_TRUE(c.Wire(xb, xa).ok());
  ApiAnswer peers = xa.Api("GET", "/api/v1/peers", xa.auditor());
  ASSERT_EQ(peers.status, 200);
  EXPECT_EQ(std::string(peers.body.at("items").as_array()[0].at("log_vkey").as_string()),
            xb.vkey());

  std::vector<std::string> from_a, from_b;
  for (int i = 0; i < 3; ++i) from_a.push_back(Submit(xa, "XB", i));
  for (int i = 0; i < 3; ++i) from_b.push_back(Submit(xb, "XA", 10 + i));
  ASSERT_TRUE(Eventually([&] {
    return CountState(xa, "direction=outgoing&state=delivered") == 3 &&
           CountState(xb, "direction=outgoing&state=delivered") == 3;
  })) << xa.log();

  // Reviewers decide what arrived; the answers travel back. One of XB's requests is postponed
  // at XA, then closed there without a final decision: XB is told, with the reasons.
  std::string closed_at_xa;
  for (E2eNode* n : {&xa, &xb}) {
    auto incoming = n->Requests("direction=incoming");
    ASSERT_EQ(incoming.size(), 3u);
    for (const auto& r : incoming) {
      EXPECT_EQ(r.at("state").as_string(), "ready");
      const std::string path = "/api/v1/requests/" + std::string(r.at("id").as_string());
      if (n == &xa && closed_at_xa.empty()) {
        closed_at_xa = std::string(r.at("id").as_string());
        ApiAnswer p = n->Api("POST", path + "/decide", n->reviewer(),
                             json::object{{"action", "postpone"}, {"reasons", "a trial first"}});
        EXPECT_EQ(p.status, 200) << p.text;
        ApiAnswer c = n->Api("POST", path + "/close", n->reviewer(),
                             json::object{{"reason", "the trial ended the matter"}});
        EXPECT_EQ(c.status, 200) << c.text;
        continue;
      }
      ApiAnswer d =
          n->Api("POST", path + "/decide", n->reviewer(), json::object{{"action", "execute"}});
      EXPECT_EQ(d.status, 200) << d.text;
    }
  }
  ASSERT_TRUE(Eventually([&] {
    return CountState(xa, "direction=outgoing&state=answered") == 3 &&
           CountState(xb, "direction=outgoing&state=answered") == 2 &&
           CountState(xb, "direction=outgoing&state=closed") == 1;
  }));
  ApiAnswer told = xb.Api("GET", "/api/v1/requests/" + closed_at_xa, xb.officer());
  EXPECT_EQ(told.body.at("decision").at("decision").as_string(), "closed");
  EXPECT_EQ(told.body.at("decision").at("reasons").as_string(), "the trial ended the matter");
  EXPECT_EQ(CountEvents(xb, closed_at_xa, "closed_by_peer"), 1);
  for (const std::string& id : from_a) {
    ApiAnswer a = xa.Api("GET", "/api/v1/requests/" + id, xa.officer());
    EXPECT_EQ(a.body.at("decision").at("decision").as_string(), "executed");
    EXPECT_EQ(CountEvents(xa, id, "delivered"), 1);  // the signed receipt, recorded once
    // The same id on both sides.
    EXPECT_EQ(xb.Api("GET", "/api/v1/requests/" + id, xb.auditor()).status, 200);
  }
  EXPECT_EQ(xa.Metric("comity_outbox_depth"), 0);
  EXPECT_EQ(xa.Metric("comity_federation_security_events_total"), 0);

  // Each side witnessed the other's log, and each log verifies over HTTP.
  ASSERT_TRUE(Eventually([&] {
    ApiAnswer w = xa.Api("GET", "/api/v1/witnessed", xa.auditor());
    return w.status == 200 && !w.body.at("items").as_array().empty() &&
           w.body.at("items").as_array()[0].at("cosigned").as_int64() >= 1;
  }));
  ApiAnswer identity = xa.Api("GET", "/federation/v1/identity", "");
  ASSERT_EQ(identity.status, 200);
  EXPECT_EQ(std::string(identity.body.at("fingerprints").at("identity").as_string()),
            xa.Fingerprint());
  EXPECT_EQ(std::string(identity.body.at("url").as_string()), xa.url());
  for (E2eNode* n : {&xa, &xb}) {
    RunResult v = Verify(*n, n->url());
    EXPECT_EQ(v.exit_code, 0) << v.err;
  }
  EXPECT_EQ(xa.Stop(), 0);
  EXPECT_EQ(xb.Stop(), 0);
}

TEST(FederationE2e, FourNodesInTheDemo) {
  TempDir tmp;
  const std::string dir = tmp / "demo";
  RunResult r = RunComity({"demo", "--dir", dir, "--requests", "36", "--once"}, tmp.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::object summary = json::parse(r.out).as_object();
  const json::array& nodes = summary.at("nodes").as_array();
  ASSERT_EQ(nodes.size(), 4u);
  std::set<std::string> states;
  int64_t sent = 0, received = 0;
  for (const auto& v : nodes) {
    const json::object& n = v.as_object();
    states.insert(std::string(n.at("state").as_string()));
    EXPECT_GT(n.at("sent").as_int64(), 0);
    EXPECT_GT(n.at("received").as_int64(), 0);
    EXPECT_GE(n.at("receipts").as_int64(), n.at("sent").as_int64());
    EXPECT_EQ(n.at("outbox_depth").as_int64(), 0);
    EXPECT_EQ(n.at("alerts").as_int64(), 0);
    EXPECT_EQ(n.at("security_events").as_int64(), 0);
    EXPECT_EQ(n.at("witnessed").as_array().size(), 3u);
    EXPECT_GT(n.at("log_size").as_int64(), 0);
    sent += n.at("sent").as_int64();
    received += n.at("received").as_int64();
    // The data directory stays; its log verifies with the vkey the summary gives.
    RunResult verified = RunComity({"log", "verify", std::string(n.at("data_dir").as_string()),
                                    "--vkey", std::string(n.at("vkey").as_string())},
                                   tmp.path());
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
  }
  EXPECT_EQ(states, (std::set<std::string>{"XA", "XB", "XD", "XF"}));
  EXPECT_EQ(sent, received);
  EXPECT_EQ(summary.at("totals").at("sent").as_int64(), sent);
  // Some requests are refused or need review: the reviewers decided more than "execute".
  int64_t refused = 0;
  for (const auto& v : nodes) {
    const json::object& d = v.at("decisions").as_object();
    if (d.contains("refuse")) refused += d.at("refuse").as_int64();
  }
  EXPECT_GT(refused, 0);
}

TEST(FederationE2e, AReceiverKilledDuringABurstGetsEveryRequestExactlyOnce) {
  Cluster c;
  E2eNode& xa = c.Add("XA", kFastRetry);
  E2eNode& xb = c.Add("XB", kFastRetry);
  ASSERT_TRUE(c.init_status().ok()) << c.init_status().ToString();
  ASSERT_TRUE(xa.Start().ok());
  ASSERT_TRUE(xb.Start().ok());
  ASSERT_TRUE(c.Wire(xa, xb).ok());
  ASSERT_TRUE(c.Wire(xb, xa).ok());

  constexpr int kRequests = 40;
  std::vector<std::string> ids;
  std::atomic<bool> killed{false};
  for (int i = 0; i < kRequests; ++i) {
    ids.push_back(Submit(xa, "XB", i));
    if (i == 12) {
      xb.Kill();  // while deliveries are in flight
      killed = true;
    }
  }
  ASSERT_TRUE(killed);
  EXPECT_GT(xa.Metric("comity_outbox_depth"), 0);
  ASSERT_TRUE(xb.Start().ok());  // same data, same port

  ASSERT_TRUE(Eventually([&] { return xa.Metric("comity_outbox_depth") == 0; }, 60s)) << xa.log();
  std::set<std::string> sent(ids.begin(), ids.end());
  ASSERT_EQ(sent.size(), static_cast<size_t>(kRequests));
  for (const std::string& id : ids) {
    EXPECT_EQ(CountEvents(xa, id, "delivered"), 1) << id;  // receipted once
  }
  EXPECT_EQ(CountState(xa, "direction=outgoing&state=delivered"), kRequests);
  auto incoming = xb.Requests("direction=incoming");
  std::set<std::string> received;
  for (const auto& r : incoming) received.insert(std::string(r.at("id").as_string()));
  EXPECT_EQ(received, sent);  // every one, none twice (ids are unique keys)
  for (const std::string& id : ids) {
    EXPECT_EQ(CountEvents(xb, id, "receive"), 1) << id;  // applied exactly once
  }
  for (E2eNode* n : {&xa, &xb}) {
    RunResult v = Verify(*n, n->url());
    EXPECT_EQ(v.exit_code, 0) << v.err;
  }
}

TEST(FederationE2e, TheOutboxDrainsWhenAPeerReturns) {
  Cluster c;
  E2eNode& xa = c.Add("XA", kFastRetry);
  E2eNode& xb = c.Add("XB", kFastRetry);
  ASSERT_TRUE(c.init_status().ok()) << c.init_status().ToString();
  ASSERT_TRUE(xa.Start().ok());
  ASSERT_TRUE(xb.Start().ok());
  ASSERT_TRUE(c.Wire(xa, xb).ok());
  ASSERT_TRUE(c.Wire(xb, xa).ok());
  EXPECT_EQ(xb.Stop(), 0);

  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(Submit(xa, "XB", i));
  // Down for a while: several rounds of failed attempts, each one rescheduled.
  ASSERT_TRUE(Eventually(
      [&] { return xa.Metric("comity_federation_deliveries_total", {"outcome=\"failed\""}) >= 24; },
      30s));
  EXPECT_EQ(xa.Metric("comity_outbox_depth"), 8);
  EXPECT_EQ(CountState(xa, "direction=outgoing&state=submitted"), 8);
  // Those who watch deliveries see each waiting message, its failed attempts and why.
  ApiAnswer waiting = xa.Api("GET", "/api/v1/outbox", xa.auditor());
  ASSERT_EQ(waiting.status, 200) << waiting.text;
  ASSERT_EQ(waiting.body.at("items").as_array().size(), 8u);
  for (const auto& m : waiting.body.at("items").as_array()) {
    EXPECT_EQ(m.at("to"), "XB");
    EXPECT_GE(m.at("attempts").as_int64(), 1);
    EXPECT_TRUE(m.at("last_error").is_string());
  }
  EXPECT_EQ(xa.Api("GET", "/api/v1/outbox", xa.officer()).status, 403);

  ASSERT_TRUE(xb.Start().ok());
  ASSERT_TRUE(Eventually([&] { return xa.Metric("comity_outbox_depth") == 0; }, 20s));
  EXPECT_EQ(CountState(xa, "direction=outgoing&state=delivered"), 8);
  EXPECT_EQ(CountState(xb, "direction=incoming"), 8);
  EXPECT_TRUE(xa.Api("GET", "/api/v1/outbox", xa.auditor()).body.at("items").as_array().empty());
  // Each request shows its message delivered, with XB's signed receipt for it.
  ApiAnswer view = xa.Api("GET", "/api/v1/requests/" + ids[0], xa.officer());
  ASSERT_EQ(view.status, 200);
  const json::array& messages = view.body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].at("delivered").is_string());
  EXPECT_TRUE(messages[0].at("next_attempt").is_null());
  EXPECT_GE(messages[0].at("attempts").as_int64(), 1);
  EXPECT_EQ(messages[0].at("receipt").at("schema"), "comity.receipt/v1");
  EXPECT_EQ(messages[0].at("receipt").at("message_id"), messages[0].at("message_id"));
}

// A state the test plays itself: its own keys, registered as a peer of the node.
struct FakePeer {
  federation::Identity id{"XC", crypto::Ed25519PrivateKey::Generate(),
                          crypto::X25519PrivateKey::Generate()};
  std::string sign_key() const {
    return crypto::Base64Encode(crypto::ByteSpan(id.sign_key.public_key()));
  }
  std::string box_key() const {
    return crypto::Base64Encode(crypto::ByteSpan(id.box_key.public_key()));
  }
};

federation::PeerKeys KeysFromIdentity(const json::value& identity) {
  federation::PeerKeys k;
  k.state = std::string(identity.at("state").as_string());
  auto sign = crypto::Base64Decode(identity.at("sign_key").as_string());
  auto box = crypto::Base64Decode(identity.at("box_key").as_string());
  std::copy(sign->begin(), sign->end(), k.sign_key.begin());
  std::copy(box->begin(), box->end(), k.box_key.begin());
  return k;
}

std::string RequestFrom(const std::string& from, const std::string& to, int n) {
  json::object r = DraftBody(from, to, n);
  r["id"] = from + "-2026-" + crypto::HexEncode(crypto::RandomString(8));
  r["created"] = FormatTimestamp(Timestamp{SystemClock().Now().seconds, 0});
  return json::serialize(r);
}

http::ClientResponse PostEnvelope(const E2eNode& n, const std::string& wire) {
  http::Client client(http::ClientOptions{30s, 1 << 20});
  auto r = client.Fetch("POST", n.url() + "/federation/v1/inbox", wire);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : http::ClientResponse{};
}

// A running node XB that trusts the fake peer `xc`; returns XB's keys as its identity says.
void StartTrustingXB(Cluster& c, E2eNode& xb, const FakePeer& xc, federation::PeerKeys* to_b) {
  ASSERT_TRUE(c.init_status().ok()) << c.init_status().ToString();
  ASSERT_TRUE(xb.Start().ok());
  ApiAnswer added = xb.Api("POST", "/api/v1/peers", xb.admin(),
                           json::object{{"state", "XC"},
                                        {"url", "http://127.0.0.1:9"},
                                        {"sign_key", xc.sign_key()},
                                        {"box_key", xc.box_key()}});
  ASSERT_EQ(added.status, 201) << added.text;
  *to_b = KeysFromIdentity(xb.Api("GET", "/federation/v1/identity", "").body);
}

TEST(FederationE2e, BadEnvelopesAreRefusedAndRecordedAsSecurityEvents) {
  Cluster c;
  E2eNode& xb = c.Add("XB");
  FakePeer xc;
  federation::PeerKeys to_b;
  ASSERT_NO_FATAL_FAILURE(StartTrustingXB(c, xb, xc, &to_b));
  const Timestamp now{SystemClock().Now().seconds, 0};
  federation::Message m{federation::NewMessageId(), "request", RequestFrom("XC", "XB", 1), ""};

  // The real thing: accepted, with a receipt signed by XB for exactly this body; again: the
  // same receipt.
  http::ClientResponse ok = PostEnvelope(xb, federation::SealEnvelope(xc.id, to_b, m, now));
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto receipt = federation::VerifyReceipt(ok.body, to_b, m.id);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  http::ClientResponse again =
      PostEnvelope(xb, federation::SealEnvelope(xc.id, to_b, m, Timestamp{now.seconds + 1, 0}));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, ok.body);

  struct Case {
    std::string kind;
    int status;
    std::string wire;
  };
  federation::Message replay = m;
  replay.body = RequestFrom("XC", "XB", 2);
  federation::Identity forger{"XC", crypto::Ed25519PrivateKey::Generate(),
                              crypto::X25519PrivateKey::Generate()};
  federation::PeerKeys to_d = to_b;
  to_d.state = "XD";
  federation::Identity stranger{"XZ", crypto::Ed25519PrivateKey::Generate(),
                                crypto::X25519PrivateKey::Generate()};
  federation::Message big{federation::NewMessageId(), "request", std::string(2 << 20, ' '), ""};
  const std::vector<Case> cases = {
      {"replay", 409, federation::SealEnvelope(xc.id, to_b, replay, now)},
      {"bad_signature", 401,
       federation::SealEnvelope(forger, to_b, {federation::NewMessageId(), "request", m.body, ""},
                                now)},
      {"wrong_recipient", 403,
       federation::SealEnvelope(xc.id, to_d, {federation::NewMessageId(), "request", m.body, ""},
                                now)},
      {"stale_timestamp", 401,
       federation::SealEnvelope(xc.id, to_b, {federation::NewMessageId(), "request", m.body, ""},
                                Timestamp{now.seconds - 600, 0})},
      {"oversize", 413, federation::SealEnvelope(xc.id, to_b, big, now)},
      {"unknown_sender", 401,
       federation::SealEnvelope(stranger, to_b, {federation::NewMessageId(), "request", m.body, ""},
                                now)},
      {"malformed", 400, R"({"schema":"comity.envelope/v1"})"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.kind);
    http::ClientResponse r = PostEnvelope(xb, k.wire);
    EXPECT_EQ(r.status, k.status) << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  }

  // Each is a security event, readable by auditors (not officers), counted in /metrics.
  ApiAnswer events = xb.Api("GET", "/api/v1/security-events", xb.auditor());
  ASSERT_EQ(events.status, 200) << events.text;
  std::map<std::string, int> kinds;
  for (const auto& e : events.body.at("items").as_array()) {
    ++kinds[std::string(e.at("kind").as_string())];
    EXPECT_EQ(e.at("remote").as_string(), "127.0.0.1");
    EXPECT_EQ(e.at("envelope_sha256").as_string().size(), 64u);
  }
  for (const Case& k : cases) {
    EXPECT_EQ(kinds[k.kind], 1) << k.kind;
    EXPECT_EQ(xb.Metric("comity_federation_security_events_total", {"kind=\"" + k.kind + "\""}), 1)
        << k.kind;
  }
  EXPECT_EQ(xb.Api("GET", "/api/v1/security-events", xb.officer()).status, 403);
  ApiAnswer only = xb.Api("GET", "/api/v1/security-events?kind=replay", xb.admin());
  ASSERT_EQ(only.status, 200);
  EXPECT_EQ(only.body.at("items").as_array().size(), 1u);
  // Nothing of the refused envelopes was stored: the one real request only.
  EXPECT_EQ(CountState(xb, "direction=incoming"), 1);
}

TEST(FederationE2e, ABatchOfEnvelopesIsAnsweredEnvelopeByEnvelope) {
  Cluster c;
  E2eNode& xb = c.Add("XB");
  FakePeer xc;
  federation::PeerKeys to_b;
  ASSERT_NO_FATAL_FAILURE(StartTrustingXB(c, xb, xc, &to_b));
  const Timestamp now{SystemClock().Now().seconds, 0};
  federation::Identity forger{"XC", crypto::Ed25519PrivateKey::Generate(),
                              crypto::X25519PrivateKey::Generate()};
  std::vector<federation::Message> ms;
  for (int i = 0; i < 3; ++i) {
    ms.push_back({federation::NewMessageId(), "request", RequestFrom("XC", "XB", i), ""});
  }
  const std::vector<std::string> wires = {federation::SealEnvelope(xc.id, to_b, ms[0], now),
                                          federation::SealEnvelope(forger, to_b, ms[1], now),
                                          federation::SealEnvelope(xc.id, to_b, ms[2], now)};
  http::Client client(http::ClientOptions{30s, 1 << 20});
  const std::string url = xb.url() + federation::kInboxBatchPath;
  auto r = client.Fetch("POST", url, federation::SerializeEnvelopeBatch(wires));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto results = federation::ParseBatchResults(r->body, 3);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  EXPECT_EQ((*results)[0].status, 200);
  EXPECT_TRUE(federation::VerifyReceipt((*results)[0].receipt, to_b, ms[0].id).ok());
  EXPECT_EQ((*results)[1].status, 401);
  EXPECT_EQ((*results)[1].code, "unauthenticated");
  EXPECT_EQ((*results)[2].status, 200);
  EXPECT_TRUE(federation::VerifyReceipt((*results)[2].receipt, to_b, ms[2].id).ok());
  EXPECT_EQ(CountState(xb, "direction=incoming"), 2);
  EXPECT_EQ(xb.Metric("comity_federation_security_events_total", {"kind=\"bad_signature\""}), 1);
  // The same batch again: the original receipts, nothing applied twice.
  auto again = client.Fetch("POST", url, federation::SerializeEnvelopeBatch(wires));
  ASSERT_TRUE(again.ok());
  auto second = federation::ParseBatchResults(again->body, 3);
  ASSERT_TRUE(second.ok()) << again->body.substr(0, 300);
  EXPECT_EQ((*second)[0].receipt, (*results)[0].receipt);
  EXPECT_EQ(CountState(xb, "direction=incoming"), 2);

  // What is not a batch: 400 with the pointer; too many envelopes or bytes: 413 — on both batch
  // paths.
  for (const char* path : {federation::kInboxBatchPath, federation::kInboxSignedBatchPath}) {
    const std::string at = xb.url() + path;
    auto bad = client.Fetch("POST", at, R"({"schema":"comity.envelope-batch/v1","envelopes":[1]})");
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(bad->status, 400) << path;
    EXPECT_NE(bad->body.find("\"/envelopes/0\""), std::string::npos) << bad->body;
    std::vector<std::string> many(federation::kMaxBatchEnvelopes + 1, "e");
    auto too_many = client.Fetch("POST", at, federation::SerializeEnvelopeBatch(many));
    ASSERT_TRUE(too_many.ok());
    EXPECT_EQ(too_many->status, 413) << path << ": " << too_many->body;
    auto too_big = client.Fetch("POST", at, std::string(federation::kMaxBatchBytes + 1, ' '));
    if (too_big.ok()) {
      EXPECT_EQ(too_big->status, 413) << path;  // (or the server closes the connection)
    }
  }
  EXPECT_EQ(CountState(xb, "direction=incoming"), 2);
}

// The signed-batch path of a real node: envelopes signed together, one of them changed on the
// way; receipts signed together, each verifiable alone.
TEST(FederationE2e, ABatchSignedTogetherIsAnsweredWithReceiptsSignedTogether) {
  Cluster c;
  E2eNode& xb = c.Add("XB");
  FakePeer xc;
  federation::PeerKeys to_b;
  ASSERT_NO_FATAL_FAILURE(StartTrustingXB(c, xb, xc, &to_b));
  const Timestamp now{SystemClock().Now().seconds, 0};
  std::vector<federation::Message> ms;
  for (int i = 0; i < 4; ++i) {
    ms.push_back({federation::NewMessageId(), "request", RequestFrom("XC", "XB", i), ""});
  }
  std::vector<std::string> wires = federation::SealEnvelopes(xc.id, to_b, ms, now);
  boost::json::object changed = boost::json::parse(wires[1]).as_object();
  changed["sent"] = FormatTimestamp(Timestamp{now.seconds - 1, 0});
  wires[1] = boost::json::serialize(changed);
  http::Client client(http::ClientOptions{30s, 1 << 20});
  const std::string url = xb.url() + federation::kInboxSignedBatchPath;
  auto r = client.Fetch("POST", url, federation::SerializeEnvelopeBatch(wires));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto results = federation::ParseBatchResults(r->body, wires.size());
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  EXPECT_EQ((*results)[1].status, 401);
  for (size_t i : {0u, 2u, 3u}) {
    ASSERT_EQ((*results)[i].status, 200) << (*results)[i].message;
    EXPECT_TRUE(federation::VerifyReceipt((*results)[i].receipt, to_b, ms[i].id).ok());
    EXPECT_NE((*results)[i].receipt.find("\"batch\""), std::string::npos);
  }
  EXPECT_EQ(CountState(xb, "direction=incoming"), 3);
  EXPECT_EQ(xb.Metric("comity_federation_security_events_total", {"kind=\"bad_signature\""}), 1);
  // Its limits are the batch path's (tested with it, above).
}

// A log server for the fake peer: serves its C2SP resources from whichever storage is current.
class LogServer {
 public:
  LogServer() {
    http::Router router;
    router.Add("GET", "/{path...}", [this](const http::Request& req) {
      std::lock_guard<std::mutex> lock(mu_);
      tlog::LogPublisher pub(storage_);
      auto r = pub.Resource(req.param("path"));
      if (!r.ok()) return http::ErrorResponse(r.status());
      return http::TextResponse(200, *r, "application/octet-stream");
    });
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, std::move(router));
  }
  Status Start() { return server_->Start(); }
  void Serve(tlog::LogStorage* s) {
    std::lock_guard<std::mutex> lock(mu_);
    storage_ = s;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  std::mutex mu_;
  tlog::LogStorage* storage_ = nullptr;
  std::unique_ptr<http::Server> server_;
};

TEST(FederationE2e, ASplitViewOfAPeersLogRaisesAnAlertWithBothCheckpoints) {
  Cluster c;
  E2eNode& xb = c.Add("XB");
  ASSERT_TRUE(c.init_status().ok()) << c.init_status().ToString();
  ASSERT_TRUE(xb.Start().ok());
  FakePeer xc;
  tlog::MemoryLogStorage honest_storage, fork_storage;
  auto honest = tlog::Log::Create(&honest_storage, "comity/XC/main", xc.id.sign_key, {}).value();
  auto fork = tlog::Log::Create(&fork_storage, "comity/XC/main", xc.id.sign_key, {}).value();
  LogServer logs;
  logs.Serve(&honest_storage);
  ASSERT_TRUE(logs.Start().ok());
  ApiAnswer added = xb.Api("POST", "/api/v1/peers", xb.admin(),
                           json::object{{"state", "XC"},
                                        {"url", logs.url()},
                                        {"sign_key", xc.sign_key()},
                                        {"box_key", xc.box_key()},
                                        {"log_vkey", honest->VerifierKey()}});
  ASSERT_EQ(added.status, 201) << added.text;
  const federation::PeerKeys to_b =
      KeysFromIdentity(xb.Api("GET", "/federation/v1/identity", "").body);

  const std::string first =
      honest->Append(std::vector<std::string>{"a", "b", "c"}).value().checkpoint;
  federation::Message m1{federation::NewMessageId(), "request", RequestFrom("XC", "XB", 1), first};
  ASSERT_EQ(PostEnvelope(xb, federation::SealEnvelope(xc.id, to_b, m1, SystemClock().Now())).status,
            200);
  ASSERT_TRUE(Eventually([&] {
    ApiAnswer w = xb.Api("GET", "/api/v1/witnessed", xb.auditor());
    return w.status == 200 && w.body.at("items").as_array().size() == 1 &&
           w.body.at("items").as_array()[0].at("size").as_int64() == 3;
  })) << xb.log();
  EXPECT_EQ(xb.Metric("comity_split_view_alerts"), 0);

  // The same key signs another history, and the log server shows that one now.
  const std::string second =
      fork->Append(std::vector<std::string>{"x", "y", "z", "w", "v"}).value().checkpoint;
  logs.Serve(&fork_storage);
  federation::Message m2{federation::NewMessageId(), "request", RequestFrom("XC", "XB", 2), second};
  ASSERT_EQ(PostEnvelope(xb, federation::SealEnvelope(xc.id, to_b, m2, SystemClock().Now())).status,
            200);
  json::object alert;
  ASSERT_TRUE(Eventually([&] {
    ApiAnswer a = xb.Api("GET", "/api/v1/alerts", xb.auditor());
    if (a.status != 200 || !a.body.is_object()) {
      ADD_FAILURE() << "GET /api/v1/alerts: " << a.status << " " << a.text.substr(0, 300);
      return false;
    }
    const json::array& items = a.body.at("items").as_array();
    if (items.size() != 1) return false;
    alert = items[0].as_object();
    return true;
  })) << xb.log();
  EXPECT_EQ(alert.at("kind").as_string(), "split_view");
  EXPECT_EQ(alert.at("peer").as_string(), "XC");
  EXPECT_EQ(std::string(alert.at("first_checkpoint").as_string()), first);
  EXPECT_EQ(std::string(alert.at("second_checkpoint").as_string()), second);
  EXPECT_EQ(xb.Metric("comity_split_view_alerts"), 1);
  EXPECT_EQ(xb.Metric("comity_gossip_checkpoints_total", {"outcome=\"split_view\""}), 1);
}

}  // namespace
}  // namespace comity::e2e

// The HTTP API against a real `comity serve` process on port 0: the role × endpoint matrix for
// all five roles, every error status, the OpenAPI document against the routes served, the log at
// its C2SP paths verified by `comity log verify`, the `comity log` commands on a node's data
// directory, the CLI's user and peer commands, metrics, secrets kept out of the logs, and a clean
// shutdown on SIGTERM.
//
// Backends: SQLite, and PostgreSQL (a fresh schema in the throw-away cluster of the ctest fixture
// `postgres`, see tests/store/test_backend.h); more with COMITY_API_DATABASE_URLS
// (comma-separated database URLs), each giving its own node. Two `comity serve` processes of one
// node sharing a PostgreSQL database are tested at the end.
#include "http/api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "federation/envelope.h"
#include "http/client.h"
#include "http/federation_api.h"
#include "http/metrics.h"
#include "node/node.h"
#include "store/node_store.h"
#include "tests/api/node_process.h"
#include "tests/store/test_backend.h"

namespace comity::api_test {
namespace {

namespace json = boost::json;
using node::Principal;
using node::Role;
using node::testing::DraftBody;
using node::testing::SourceDir;

std::string Text(const json::value& v) { return json::serialize(v); }
std::string RandomKey() { return crypto::Base64Encode(crypto::RandomArray<32>()); }

// Requests put in place through the service before the server starts, for the actions that
// need a request in a given state.
struct Seeds {
  std::deque<std::string> incoming_ready;
  std::deque<std::string> incoming_executed;
  std::deque<std::string> outgoing_info_requested;
  std::deque<std::string> outgoing_answered;
};

void SeedNode(const std::string& dir, Seeds* seeds) {
  auto opened = node::OpenNode(dir, SourceDir() + "/rules");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  node::NodeService& s = *(*opened)->service;
  const Principal admin{"seed-admin", Role::kAdmin, false};
  const Principal officer{"seed-officer", Role::kOfficer, false};
  const Principal reviewer{"seed-reviewer", Role::kReviewer, false};
  ASSERT_TRUE(
      s.AddPeer(admin, {"XB", "http://127.0.0.1:9", RandomKey(), RandomKey(), ""}, false).ok());
  const std::string now = FormatTimestamp(Timestamp{s.clock().Now().seconds, 0});
  for (int i = 0; i < 9; ++i) {
    json::object body = DraftBody("XB", "XA");
    body["id"] = "XB-2026-" + crypto::HexEncode(crypto::RandomString(8));
    body["created"] = now;
    auto r = s.AcceptIncomingRequest("XB", federation::NewMessageId(), Text(body));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (i < 6) {
      seeds->incoming_ready.push_back(r->request_id);
    } else {
      node::ActionInput execute;
      execute.action = workflow::Action::kExecute;
      ASSERT_TRUE(s.Act(reviewer, r->request_id, execute).ok());
      seeds->incoming_executed.push_back(r->request_id);
    }
  }
  for (int i = 0; i < 6; ++i) {
    auto d = s.CreateDraft(officer, Text(DraftBody("XA", "XB")));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    const std::string id = d->record.id;
    node::ActionInput submit;
    submit.action = workflow::Action::kSubmit;
    ASSERT_TRUE(s.Act(officer, id, submit).ok());
    auto due = s.DueMessages(Timestamp{s.clock().Now().seconds + 1, 0}, 100).value();
    for (const auto& m : due) ASSERT_TRUE(s.RecordDelivery(m.message_id, "receipt").ok());
    const bool info = i < 3;
    json::object answer{{"schema", "comity.answer/v1"},
                        {"request_id", id},
                        {"decision", info ? "information_requested" : "executed"},
                        {"decided", now}};
    if (info) answer["reasons"] = "Which account?";
    auto a = s.ApplyReceivedDecision("XB", federation::NewMessageId(), Text(answer));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    (info ? seeds->outgoing_info_requested : seeds->outgoing_answered).push_back(id);
  }
}

std::vector<std::string> Backends() {
  std::vector<std::string> out = {"sqlite", "postgresql"};
  if (const char* extra = std::getenv("COMITY_API_DATABASE_URLS"); extra && *extra) {
    std::string s = extra;
    size_t start = 0;
    while (start <= s.size()) {
      const size_t comma = s.find(',', start);
      const std::string url = s.substr(start, comma - start);
      if (!url.empty()) out.push_back(url);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

// The PostgreSQL node's database URL carries this password (the test cluster ignores it), so
// that the tests can check it never reaches a log.
constexpr std::string_view kDatabasePassword = "db-pw-7f3a9c";

struct Shared {
  std::unique_ptr<store::testing::PostgresSchema> schema;  // outlives the node using it
  std::unique_ptr<NodeProcess> node;
  Seeds seeds;
  std::map<std::string, std::string> tokens;  // role -> token
};

class ApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  static std::map<std::string, Shared>& All() {
    static auto* all = new std::map<std::string, Shared>();
    return *all;
  }
  static void TearDownTestSuite() { All().clear(); }

  void SetUp() override {
    Shared& sh = All()[GetParam()];
    if (!sh.node) {
      NodeProcess::Options o;
      o.database = GetParam() == "sqlite" ? "" : GetParam();
      if (GetParam() == "postgresql") {
        sh.schema = std::make_unique<store::testing::PostgresSchema>("api_");
        ASSERT_TRUE(sh.schema->status().ok()) << sh.schema->status().ToString();
        o.database = store::testing::WithPassword(sh.schema->url(), std::string(kDatabasePassword));
      }
      o.config_edits = {{"max_body_bytes = 1048576", "max_body_bytes = 65536"},
                        {"page_max = 200", "page_max = 50"}};
      Seeds* seeds = &sh.seeds;
      o.seed = [seeds](const std::string& dir) { SeedNode(dir, seeds); };
      sh.node = NodeProcess::Start(o);
      ASSERT_TRUE(sh.node->error().empty()) << sh.node->error();
      sh.tokens["admin"] = sh.node->admin_token();
      for (const char* role : {"officer", "reviewer", "supervisor", "auditor"}) {
        auto r = Call("POST", "/api/v1/users", sh.node->admin_token(),
                      Text(json::object{{"name", std::string(role) + "-1"}, {"role", role}}));
        ASSERT_EQ(r.status, 201) << r.body;
        sh.tokens[role] = std::string(json::parse(r.body).at("token").as_string());
      }
    }
    ASSERT_TRUE(sh.node->error().empty()) << sh.node->error();
    node_ = sh.node.get();
    seeds_ = &sh.seeds;
    tokens_ = &sh.tokens;
  }

  http::ClientResponse Call(const std::string& method, const std::string& path,
                            const std::string& token, const std::string& body = {},
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    const std::string url = All()[GetParam()].node->url();
    auto r = http::Client().Fetch(method, url + path, body, headers);
    EXPECT_TRUE(r.ok()) << method << " " << path << ": " << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  // Creates a draft through the API (as the officer) and returns its id.
  std::string NewDraft() {
    auto r = Call("POST", "/api/v1/requests", tokens_->at("officer"), Text(DraftBody("XA", "XB")));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }

  static std::string Pop(std::deque<std::string>& q) {
    EXPECT_FALSE(q.empty()) << "not enough seeded requests";
    if (q.empty()) return "XA-2026-0000000000000000";
    std::string id = q.front();
    q.pop_front();
    return id;
  }

  // Every item of a paged list, following next_cursor from `path` (which has a query already);
  // each page answers 200 and holds at most `per_page` items.
  std::vector<json::value> AllPages(const std::string& path, const std::string& token,
                                    size_t per_page) {
    std::vector<json::value> items;
    std::string next = path;
    for (int pages = 0; pages < 200; ++pages) {
      auto r = Call("GET", next, token);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      json::object page = json::parse(r.body).as_object();
      EXPECT_LE(page["items"].as_array().size(), per_page);
      for (const auto& item : page["items"].as_array()) items.push_back(item);
      if (page["next_cursor"].is_null()) break;
      next = path + "&cursor=" + std::string(page["next_cursor"].as_string());
    }
    return items;
  }

  static json::object ErrorOf(const http::ClientResponse& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) return {};
    return v.as_object()["error"].as_object();
  }

  NodeProcess* node_ = nullptr;
  Seeds* seeds_ = nullptr;
  std::map<std::string, std::string>* tokens_ = nullptr;
};

// --- the role × endpoint matrix ------------------------------------------------------------

struct Endpoint {
  std::string method;
  std::string pattern;
  std::set<std::string> allowed;
  int ok_status;
};

const std::vector<std::string> kRoles = {"officer", "reviewer", "supervisor", "auditor", "admin"};

TEST_P(ApiTest, EveryEndpointWithEveryRole) {
  const std::set<std::string> readers = {"officer", "reviewer", "supervisor", "auditor"};
  const std::set<std::string> everyone(kRoles.begin(), kRoles.end());
  const std::vector<Endpoint> endpoints = {
      {"GET", "/api/v1/requests", readers, 200},
      {"GET", "/api/v1/requests/{id}", readers, 200},
      {"POST", "/api/v1/requests", {"officer", "supervisor"}, 201},
      {"POST", "/api/v1/requests/{id}/submit", {"officer", "supervisor"}, 200},
      {"POST", "/api/v1/requests/{id}/withdraw", {"officer", "supervisor"}, 200},
      {"POST", "/api/v1/requests/{id}/reply", {"officer", "supervisor"}, 200},
      {"POST", "/api/v1/requests/{id}/decide", {"reviewer", "supervisor"}, 200},
      {"POST", "/api/v1/requests/{id}/close", {"officer", "reviewer", "supervisor"}, 200},
      {"POST", "/api/v1/requests/{id}/assign", {"supervisor"}, 200},
      {"GET", "/api/v1/users", {"auditor", "admin"}, 200},
      {"POST", "/api/v1/users", {"admin"}, 201},
      {"POST", "/api/v1/users/{name}/revoke", {"admin"}, 200},
      {"GET", "/api/v1/peers", everyone, 200},
      {"POST", "/api/v1/peers", {"admin"}, 201},
      {"GET", "/api/v1/profiles", everyone, 200},
      {"GET", "/api/v1/profiles/{code}", everyone, 200},
      {"PUT", "/api/v1/profiles/{code}", {"admin"}, 200},
      {"GET", "/api/v1/me", everyone, 200},
      {"GET", "/api/v1/node", everyone, 200},
      {"GET", "/api/v1/outbox", {"supervisor", "auditor", "admin"}, 200},
  };
  const std::string reserved = seeds_->incoming_executed.back();  // read, never changed
  int users = 0;
  // The path and body for an allowed role: a fresh resource in the right state.
  auto prepare = [&](const Endpoint& e,
                     const std::string& role) -> std::pair<std::string, std::string> {
    const std::string& p = e.pattern;
    auto with_id = [&](const std::string& id) {
      std::string out = p;
      out.replace(out.find("{id}"), 4, id);
      return out;
    };
    if (p == "/api/v1/requests/{id}") return {with_id(reserved), ""};
    if (p == "/api/v1/requests" && e.method == "POST") {
      return {p, Text(DraftBody("XA", "XB"))};
    }
    if (p.ends_with("/submit")) return {with_id(NewDraft()), "{}"};
    if (p.ends_with("/withdraw")) return {with_id(NewDraft()), "{\"reason\":\"duplicate\"}"};
    if (p.ends_with("/reply")) {
      return {with_id(Pop(seeds_->outgoing_info_requested)), "{\"information\":\"Account 7.\"}"};
    }
    if (p.ends_with("/decide")) {
      return {with_id(Pop(seeds_->incoming_ready)), "{\"action\":\"execute\"}"};
    }
    if (p.ends_with("/close")) {
      return {
          with_id(Pop(role == "reviewer" ? seeds_->incoming_executed : seeds_->outgoing_answered)),
          ""};
    }
    if (p.ends_with("/assign")) {
      return {with_id(Pop(seeds_->incoming_ready)), "{\"assignee\":\"reviewer-1\"}"};
    }
    if (p == "/api/v1/users" && e.method == "POST") {
      return {p, Text(json::object{{"name", "matrix-" + std::to_string(++users)},
                                   {"role", "officer"}})};
    }
    if (p.ends_with("/revoke")) {
      const std::string name = "victim-" + std::to_string(++users);
      auto r = Call("POST", "/api/v1/users", tokens_->at("admin"),
                    Text(json::object{{"name", name}, {"role", "auditor"}}));
      EXPECT_EQ(r.status, 201);
      return {"/api/v1/users/" + name + "/revoke", ""};
    }
    if (p == "/api/v1/peers" && e.method == "POST") {
      return {p, Text(json::object{{"state", "XC"},
                                   {"url", "http://127.0.0.1:7"},
                                   {"sign_key", RandomKey()},
                                   {"box_key", RandomKey()}})};
    }
    if (p == "/api/v1/profiles/{code}") {
      return {"/api/v1/profiles/XD",
              e.method == "PUT" ? node::testing::ReadFile(SourceDir() + "/profiles/XD.json") : ""};
    }
    return {p, ""};
  };
  for (const Endpoint& e : endpoints) {
    for (const std::string& role : kRoles) {
      const bool allowed = e.allowed.count(role) == 1;
      std::pair<std::string, std::string> call;
      if (allowed) {
        call = prepare(e, role);
      } else {
        // Refused before anything is looked up: placeholders will do.
        std::string path = e.pattern;
        for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
                 {"{id}", reserved}, {"{name}", "officer-1"}, {"{code}", "XA"}}) {
          if (auto at = path.find(from); at != std::string::npos) path.replace(at, from.size(), to);
        }
        call = {path, e.method == "GET" ? "" : "{}"};
      }
      auto r = Call(e.method, call.first, tokens_->at(role), call.second);
      if (allowed) {
        EXPECT_EQ(r.status, e.ok_status)
            << e.method << " " << e.pattern << " as " << role << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << e.method << " " << e.pattern << " as " << role << ": "
                                 << r.body;
        EXPECT_EQ(ErrorOf(r)["code"], "permission_denied");
      }
    }
  }
}

TEST_P(ApiTest, PublicRoutesNeedNoToken) {
  for (const char* path :
       {"/healthz", "/metrics", "/checkpoint", "/disclosed", "/api/v1/openapi.json"}) {
    EXPECT_EQ(Call("GET", path, "").status, 200) << path;
  }
  // Everything else under /api/v1 does.
  for (const char* path : {"/api/v1/requests", "/api/v1/users", "/api/v1/peers", "/api/v1/profiles",
                           "/api/v1/me", "/api/v1/node"}) {
    auto r = Call("GET", path, "");
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"comity\"");
  }
}

// --- requests through the API --------------------------------------------------------------

TEST_P(ApiTest, DraftSubmitAndReadBack) {
  const std::string& officer = tokens_->at("officer");
  auto created = Call("POST", "/api/v1/requests", officer, Text(DraftBody("XA", "XB")));
  ASSERT_EQ(created.status, 201) << created.body;
  json::object d = json::parse(created.body).as_object();
  const std::string id(d["id"].as_string());
  EXPECT_EQ(d["state"], "draft");
  EXPECT_EQ(d["version"], 1);
  EXPECT_EQ(d["screening"].as_object()["schema"], "comity.decision/v1");
  EXPECT_EQ(created.header("location"), "/api/v1/requests/" + id);
  auto stale = Call("POST", "/api/v1/requests/" + id + "/submit", officer, "{\"version\":9}");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(ErrorOf(stale)["code"], "aborted");
  auto submitted = Call("POST", "/api/v1/requests/" + id + "/submit", officer, "{\"version\":1}");
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  EXPECT_EQ(json::parse(submitted.body).at("state"), "submitted");
  auto got = Call("GET", "/api/v1/requests/" + id, tokens_->at("auditor"));
  ASSERT_EQ(got.status, 200);
  json::object v = json::parse(got.body).as_object();
  EXPECT_EQ(v["state"], "submitted");
  EXPECT_EQ(v["version"], 2);
  ASSERT_EQ(v["history"].as_array().size(), 2u);
  json::object ev = v["history"].as_array()[1].as_object();
  EXPECT_EQ(ev["action"], "submit");
  EXPECT_EQ(ev["actor"], "officer-1");
  EXPECT_EQ(ev["from"], "draft");
  EXPECT_EQ(ev["to"], "submitted");
  EXPECT_TRUE(ev["log_index"].is_int64());
  EXPECT_TRUE(v["screening"].is_object());
  EXPECT_TRUE(v["request"].as_object().contains("created"));
  EXPECT_TRUE(v["allowed_actions"].as_array().empty());
}

TEST_P(ApiTest, ListFiltersPagesAndRefusesBadParameters) {
  const std::string& auditor = tokens_->at("auditor");
  for (int i = 0; i < 3; ++i) NewDraft();
  std::set<std::string> ids;
  for (const auto& item :
       AllPages("/api/v1/requests?direction=outgoing&state=draft&limit=2", auditor, 2)) {
    EXPECT_EQ(item.at("state"), "draft");
    EXPECT_TRUE(ids.insert(std::string(item.at("id").as_string())).second);
  }
  EXPECT_GE(ids.size(), 3u);
  auto overdue = Call("GET", "/api/v1/requests?overdue=true", auditor);
  ASSERT_EQ(overdue.status, 200);
  EXPECT_TRUE(json::parse(overdue.body).at("items").as_array().empty());
  auto incoming = Call("GET", "/api/v1/requests?direction=incoming&requesting_state=XB", auditor);
  ASSERT_EQ(incoming.status, 200);
  EXPECT_FALSE(json::parse(incoming.body).at("items").as_array().empty());
  for (const char* bad : {"?limit=0", "?limit=51", "?limit=abc", "?overdue=yes", "?state=sleeping",
                          "?direction=up", "?cursor=zzz", "?colour=red", "?requested_state=xb"}) {
    auto r = Call("GET", std::string("/api/v1/requests") + bad, auditor);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(ErrorOf(r)["code"], "invalid_argument") << bad;
  }
}

// The messages a node could not deliver are listed with why, next due first; a request shows
// the messages sent about it. (XB is at a port where nothing listens: every attempt fails.)
TEST_P(ApiTest, TheOutboxListsWhatIsNotDeliveredAndWhy) {
  const std::string& auditor = tokens_->at("auditor");
  std::vector<std::string> sent;
  for (int i = 0; i < 3; ++i) {
    sent.push_back(NewDraft());
    auto r =
        Call("POST", "/api/v1/requests/" + sent.back() + "/submit", tokens_->at("officer"), "{}");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  json::object found;
  for (int tries = 0; tries < 100 && found.empty(); ++tries) {
    auto r = Call("GET", "/api/v1/outbox?limit=500", auditor);
    ASSERT_EQ(r.status, 200) << r.body;
    json::object page = json::parse(r.body).as_object();
    EXPECT_TRUE(page["next_cursor"].is_null());
    for (const auto& item : page["items"].as_array()) {
      EXPECT_EQ(item.at("to"), "XB");
      EXPECT_TRUE(item.at("delivered").is_null());
      EXPECT_TRUE(item.at("next_attempt").is_string());
      if (item.at("request_id") == sent[0].c_str() && item.at("attempts").as_int64() >= 1) {
        found = item.as_object();
      }
    }
    if (found.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(found.empty()) << "no failed attempt recorded for the request " << sent[0] << ": "
                              << Call("GET", "/api/v1/outbox", auditor).body;
  EXPECT_EQ(found["kind"], "request");
  ASSERT_TRUE(found["last_error"].is_string());
  EXPECT_FALSE(found["last_error"].as_string().empty());
  EXPECT_TRUE(found["receipt"].is_null());
  // The request shows the same message.
  auto view = Call("GET", "/api/v1/requests/" + sent[0], tokens_->at("officer"));
  ASSERT_EQ(view.status, 200);
  const json::value viewed = json::parse(view.body);
  const json::array& messages = viewed.at("messages").as_array();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].at("message_id"), found["message_id"]);
  EXPECT_EQ(messages[0].at("kind"), "request");
  // Pages of one, following the cursor (a message tried again meanwhile may move in the order,
  // so it may be seen twice).
  std::set<std::string> ids;
  for (const auto& item : AllPages("/api/v1/outbox?limit=1", auditor, 1)) {
    ids.insert(std::string(item.at("message_id").as_string()));
  }
  for (const std::string& id : sent) {
    EXPECT_EQ(ids.count(id), 0u);  // message ids, not request ids
  }
  EXPECT_GE(ids.size(), 3u);  // the three submitted at least
  for (const auto& [bad, pointer] :
       std::vector<std::pair<std::string, std::string>>{{"?limit=0", "/limit"},
                                                        {"?limit=501", "/limit"},
                                                        {"?limit=ten", "/limit"},
                                                        {"?cursor=zzz", "/cursor"},
                                                        {"?cursor=1_2_XA-2026-0000", "/cursor"},
                                                        {"?colour=red", ""}}) {
    auto r = Call("GET", "/api/v1/outbox" + bad, auditor);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    json::object error = ErrorOf(r);
    EXPECT_EQ(error["code"], "invalid_argument") << bad;
    if (pointer.empty()) {
      EXPECT_FALSE(error.contains("pointer")) << bad;
    } else {
      EXPECT_EQ(error["pointer"], pointer.c_str()) << bad;
    }
  }
}

// --- every error status --------------------------------------------------------------------

TEST_P(ApiTest, ErrorsCarryTheRightStatusCodeAndPointer) {
  const std::string& officer = tokens_->at("officer");
  // 400 with the JSON Pointer of the problem.
  json::object bad = DraftBody("XA", "XB");
  bad["measures"].as_array()[0].as_object()["duration_days"] = "ten";
  auto r400 = Call("POST", "/api/v1/requests", officer, Text(bad));
  EXPECT_EQ(r400.status, 400);
  EXPECT_EQ(ErrorOf(r400)["code"], "invalid_argument");
  EXPECT_EQ(ErrorOf(r400)["pointer"], "/measures/0/duration_days");
  auto malformed = Call("POST", "/api/v1/requests", officer, "{\"schema\":");
  EXPECT_EQ(malformed.status, 400);
  auto bad_action =
      Call("POST", "/api/v1/requests/" + NewDraft() + "/submit", officer, "{\"colour\":1}");
  EXPECT_EQ(bad_action.status, 400);
  EXPECT_EQ(ErrorOf(bad_action)["pointer"], "/colour");
  auto no_reasons = Call("POST", "/api/v1/requests/" + seeds_->incoming_ready.front() + "/decide",
                         tokens_->at("reviewer"), "{\"action\":\"refuse\"}");
  EXPECT_EQ(no_reasons.status, 400);
  EXPECT_EQ(ErrorOf(no_reasons)["pointer"], "/reasons");
  // Closing a postponed request needs its reason: the error points at the body's `reason`.
  const std::string postponed = Pop(seeds_->incoming_ready);
  ASSERT_EQ(Call("POST", "/api/v1/requests/" + postponed + "/decide", tokens_->at("reviewer"),
                 "{\"action\":\"postpone\",\"reasons\":\"the provider is down\"}")
                .status,
            200);
  auto bare_close =
      Call("POST", "/api/v1/requests/" + postponed + "/close", tokens_->at("reviewer"), "{}");
  EXPECT_EQ(bare_close.status, 400);
  EXPECT_EQ(ErrorOf(bare_close)["pointer"], "/reason");
  EXPECT_EQ(Call("POST", "/api/v1/requests/" + postponed + "/close", tokens_->at("reviewer"),
                 "{\"reason\":\"the investigation was discontinued\"}")
                .status,
            200);
  // 401: no token, a malformed one, an unknown one.
  EXPECT_EQ(Call("GET", "/api/v1/me", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/me", "not-a-token").status, 401);
  auto unknown = Call("GET", "/api/v1/me", "comity_" + std::string(64, '0'));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(ErrorOf(unknown)["code"], "unauthenticated");
  // 403.
  EXPECT_EQ(Call("GET", "/api/v1/users", officer).status, 403);
  // 404: an unknown request, an unknown route.
  auto r404 = Call("GET", "/api/v1/requests/XA-2026-ffffffffffffffff", officer);
  EXPECT_EQ(r404.status, 404);
  EXPECT_EQ(ErrorOf(r404)["code"], "not_found");
  EXPECT_EQ(Call("GET", "/api/v1/nothing", officer).status, 404);
  EXPECT_EQ(Call("GET", "/tile/0/999", "").status, 404);
  // 409: not allowed from the current state, with what is allowed.
  const std::string draft = NewDraft();
  auto r409 = Call("POST", "/api/v1/requests/" + draft + "/close", officer, "{}");
  EXPECT_EQ(r409.status, 409);
  json::object err = ErrorOf(r409);
  EXPECT_EQ(err["code"], "failed_precondition");
  EXPECT_EQ(err["state"], "draft");
  EXPECT_EQ(err["allowed"], (json::array{"submit", "withdraw"}));
  auto dup_user = Call("POST", "/api/v1/users", tokens_->at("admin"),
                       "{\"name\":\"officer-1\",\"role\":\"officer\"}");
  EXPECT_EQ(dup_user.status, 409);
  EXPECT_EQ(ErrorOf(dup_user)["code"], "already_exists");
  // 413: over the configured body limit (64 KiB here).
  json::object big = DraftBody("XA", "XB");
  big["facts"] = std::string(70 * 1024, 'x');
  auto r413 = Call("POST", "/api/v1/requests", officer, Text(big));
  EXPECT_EQ(r413.status, 413);
  EXPECT_EQ(ErrorOf(r413)["code"], "resource_exhausted");
  // 405 with Allow.
  auto r405 = Call("DELETE", "/api/v1/requests", officer);
  EXPECT_EQ(r405.status, 405);
  EXPECT_NE(r405.header("allow").find("GET"), std::string::npos);
  // 500: stored data that turns out to be corrupt (a profile damaged behind the node's back).
  {
    auto d = node::OpenNodeDirectory(node_->data_dir());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_TRUE(d->store->PutProfile({"XF", "{\"not\":\"a profile\"}", "damaged", 1, "test"}).ok());
  }
  auto r500 = Call("POST", "/api/v1/requests", officer, Text(DraftBody("XA", "XF")));
  EXPECT_EQ(r500.status, 500) << r500.body;
  EXPECT_EQ(ErrorOf(r500)["code"], "data_loss");
}

// --- the OpenAPI document ------------------------------------------------------------------

TEST_P(ApiTest, OpenApiDescribesExactlyTheRoutesServed) {
  // The routes as registered by the same code the server runs.
  auto opened = node::OpenNode(node_->data_dir(), SourceDir() + "/rules");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  http::Metrics metrics;
  http::Api api((*opened)->service.get(), {}, &metrics);
  http::Router router;
  api.Register(&router);
  // `comity serve` also registers the federation's routes.
  auto federation = http::FederationRuntime::Open(opened->get(), &metrics, {});
  ASSERT_TRUE(federation.ok()) << federation.status().ToString();
  (*federation)->Register(&api, &router);
  std::set<std::pair<std::string, std::string>> routes;
  for (auto [method, pattern] : router.Routes()) {
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = pattern.find("...}"); at != std::string::npos) pattern.erase(at, 3);
    routes.emplace(method, pattern);
  }
  // The document the running server serves.
  auto r = Call("GET", "/api/v1/openapi.json", "");
  ASSERT_EQ(r.status, 200);
  json::object doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      documented.emplace(std::string(method), std::string(path));
      EXPECT_TRUE(op.as_object().contains("responses")) << method << " " << path;
    }
  }
  EXPECT_EQ(documented, routes);
  EXPECT_GE(routes.size(), 25u);
  // Roles are documented where they apply.
  auto decide = doc["paths"].at("/api/v1/requests/{id}/decide").at("post").as_object();
  EXPECT_EQ(decide["x-roles"], (json::array{"reviewer", "supervisor"}));
}

// --- the log -------------------------------------------------------------------------------

TEST_P(ApiTest, TheLogIsServedAndVerifies) {
  NewDraft();
  auto cp = Call("GET", "/checkpoint", "");
  ASSERT_EQ(cp.status, 200);
  EXPECT_EQ(cp.body.rfind("comity/XA/main\n", 0), 0u) << cp.body;
  EXPECT_EQ(cp.header("cache-control"), "no-cache");
  auto tile = Call("GET", "/tile/0/000.p/1", "");
  EXPECT_EQ(tile.status, 200);
  EXPECT_EQ(tile.body.size(), 32u);
  EXPECT_EQ(Call("GET", "/tile/entries/000.p/1", "").status, 200);  // disclosed at once here
  EXPECT_EQ(Call("GET", "/tile/x/y", "").status, 400);
  RunResult verify =
      RunComity({"log", "verify", node_->url(), "--vkey", node_->vkey()}, node_->scratch());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("verified comity/XA/main"), std::string::npos) << verify.out;
  // A wrong key fails.
  RunResult wrong =
      RunComity({"log", "verify", node_->url(), "--vkey",
                 "comity/XA/main+00000000+AcZjQxRJ7npzkk3Irg+U08zIIgxPziCuLdpGxKzYXBQP"},
                node_->scratch());
  EXPECT_NE(wrong.exit_code, 0);
  // The `comity log` commands work on the node's data directory while it serves.
  RunResult checkpoint = RunComity({"log", "checkpoint", node_->data_dir()}, node_->scratch());
  EXPECT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  EXPECT_EQ(checkpoint.out.rfind("comity/XA/main\n", 0), 0u);
  RunResult exported = RunComity({"log", "export", node_->data_dir(), node_->scratch() + "/export"},
                                 node_->scratch());
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  RunResult offline = RunComity(
      {"log", "verify", node_->scratch() + "/export", "--vkey", node_->vkey()}, node_->scratch());
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
}

// --- operations ----------------------------------------------------------------------------

TEST_P(ApiTest, MetricsCountRequestsLatencyOverdueAndOutbox) {
  NewDraft();
  auto r = Call("GET", "/metrics", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
  for (const char* needle :
       {"comity_requests{direction=\"outgoing\",state=\"draft\"",
        "comity_requests{direction=\"incoming\",state=\"executed\",screening_outcome=",
        "comity_requests_overdue 0", "comity_outbox_depth ",
        "comity_http_request_duration_seconds_bucket{route=\"/api/v1/requests\",method=\"POST\"",
        "comity_http_requests_total{route=\"/api/v1/requests\",method=\"POST\",status=\"201\"}",
        "# TYPE comity_http_request_duration_seconds histogram", "comity_log_size "}) {
    EXPECT_NE(r.body.find(needle), std::string::npos) << needle;
  }
  // Round trips to PostgreSQL: some on PostgreSQL (the draft took at least one), none on SQLite.
  auto counter = [&](const std::string& name) -> double {
    const size_t at = r.body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(r.body.substr(at + name.size() + 2));
  };
  if (GetParam() == "sqlite") {
    EXPECT_EQ(counter("comity_database_round_trips_total"), 0);
  } else {
    EXPECT_GT(counter("comity_database_round_trips_total"), 0);
  }
  EXPECT_GE(counter("comity_durability_syncs_total"), 0);
  // The draft was written: at least one group of writes; none waited for more (one client).
  EXPECT_GE(counter("comity_write_groups_total"), 1);
  EXPECT_EQ(counter("comity_write_lingers_total"), 0);
  auto health = Call("GET", "/healthz", "");
  EXPECT_EQ(json::parse(health.body).at("status"), "ok");
}

TEST_P(ApiTest, TokensNeverReachTheLogs) {
  const std::string bogus = "comity_" + std::string(60, 'd') + "beef";
  Call("GET", "/api/v1/me", tokens_->at("officer"));
  Call("GET", "/api/v1/me", bogus);
  Call("GET", "/api/v1/requests?limit=1", tokens_->at("auditor"));
  const std::string log = node_->log_output() + node_->stdout_output();
  EXPECT_NE(log.find("GET /api/v1/me 200"), std::string::npos) << "no access log?\n" << log;
  EXPECT_NE(log.find("user=officer-1"), std::string::npos);
  for (const auto& [role, token] : *tokens_) {
    EXPECT_EQ(log.find(token), std::string::npos) << role << "'s token is in the log";
    EXPECT_EQ(log.find(token.substr(7, 24)), std::string::npos) << role;
  }
  EXPECT_EQ(log.find(bogus), std::string::npos);
  EXPECT_EQ(log.find("dddddddddddd"), std::string::npos);
  EXPECT_EQ(log.find(kDatabasePassword), std::string::npos) << "the database password is logged";
  EXPECT_EQ(Text(node_->init_output()).find(kDatabasePassword), std::string::npos)
      << "comity init printed the database password";
}

TEST_P(ApiTest, CliManagesUsersAndPeersOfAServingNode) {
  RunResult add =
      RunComity({"user", "add", node_->data_dir(), "--name", "cli-officer", "--role", "officer"},
                node_->scratch());
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::string token = add.out.substr(0, add.out.find('\n'));
  EXPECT_TRUE(node::IsWellFormedToken(token)) << add.out;
  EXPECT_EQ(Call("GET", "/api/v1/me", token).status, 200);
  RunResult list = RunComity({"user", "list", node_->data_dir()}, node_->scratch());
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("\"cli-officer\""), std::string::npos);
  EXPECT_EQ(list.out.find(token), std::string::npos);
  RunResult revoke =
      RunComity({"user", "revoke", node_->data_dir(), "cli-officer"}, node_->scratch());
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(Call("GET", "/api/v1/me", token).status, 401);
  EXPECT_EQ(RunComity({"user", "add", node_->data_dir(), "--name", "x", "--role", "king"},
                      node_->scratch())
                .exit_code,
            2);
  EXPECT_EQ(RunComity({"user", "revoke", node_->data_dir(), "nobody"}, node_->scratch()).exit_code,
            1);

  RunResult peer =
      RunComity({"peer", "add", node_->data_dir(), "--state", "XZ", "--url", "http://127.0.0.1:5",
                 "--sign-key", RandomKey(), "--box-key", RandomKey()},
                node_->scratch());
  ASSERT_EQ(peer.exit_code, 0) << peer.err;
  RunResult bad_peer =
      RunComity({"peer", "add", node_->data_dir(), "--state", "XY", "--url", "http://127.0.0.1:5",
                 "--sign-key", "short", "--box-key", RandomKey()},
                node_->scratch());
  EXPECT_EQ(bad_peer.exit_code, 2);
  EXPECT_NE(bad_peer.err.find("--sign-key"), std::string::npos) << bad_peer.err;
  RunResult peers = RunComity({"peer", "list", node_->data_dir()}, node_->scratch());
  EXPECT_NE(peers.out.find("\"XZ\""), std::string::npos);
  auto api_peers = Call("GET", "/api/v1/peers", tokens_->at("officer"));
  EXPECT_NE(api_peers.body.find("\"XZ\""), std::string::npos);
}

TEST_P(ApiTest, InitOutputAndNodeInfo) {
  const json::object& init = node_->init_output();
  auto r = Call("GET", "/api/v1/node", tokens_->at("officer"));
  ASSERT_EQ(r.status, 200);
  json::object info = json::parse(r.body).as_object();
  EXPECT_EQ(info["state"], "XA");
  EXPECT_EQ(info["url"], json::value(node_->url()));
  EXPECT_EQ(info["log_vkey"], init.at("log_vkey"));
  EXPECT_EQ(info["sign_key"], init.at("sign_key"));
  EXPECT_EQ(info["box_key"], init.at("box_key"));
  EXPECT_NE(node_->stdout_output().find("listening on " + node_->url()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "sqlite" || info.param == "postgresql"
                                      ? info.param
                                      : "db" + std::to_string(info.index);
                         });

// --- processes of their own ----------------------------------------------------------------

TEST(ApiProcessTest, RepeatedBadTokensAreAnswered429) {
  NodeProcess::Options o;
  o.config_edits = {{"max_failures = 10", "max_failures = 3"},
                    {"lockout_seconds = 60", "lockout_seconds = 120"}};
  auto node = NodeProcess::Start(o);
  ASSERT_TRUE(node->error().empty()) << node->error();
  http::Client client;
  auto call = [&](const std::string& token) {
    return client
        .Fetch("GET", node->url() + "/api/v1/me", "", {{"Authorization", "Bearer " + token}})
        .value();
  };
  EXPECT_EQ(call(node->admin_token()).status, 200);
  const std::string bad = "comity_" + std::string(64, '1');
  EXPECT_EQ(call(bad).status, 401);
  EXPECT_EQ(call(bad).status, 401);
  EXPECT_EQ(call(bad).status, 401);  // the third failure starts the lockout
  auto locked = call(bad);
  EXPECT_EQ(locked.status, 429);
  const int retry = std::stoi(locked.header("retry-after"));
  EXPECT_GT(retry, 100);
  EXPECT_LE(retry, 120);
  // Even a good token waits: guessing gets nowhere during the lockout.
  EXPECT_EQ(call(node->admin_token()).status, 429);
  EXPECT_EQ(json::parse(locked.body).at("error").at("code"), "resource_exhausted");
  // Public resources are not affected.
  EXPECT_EQ(client.Fetch("GET", node->url() + "/healthz").value().status, 200);
  auto metrics = client.Fetch("GET", node->url() + "/metrics").value();
  EXPECT_NE(metrics.body.find("comity_auth_lockouts_total 1"), std::string::npos);
  EXPECT_NE(node->log_output().find("locked out"), std::string::npos);
}

TEST(ApiProcessTest, SigtermStopsCleanlyAndTheDataSurvives) {
  auto node = NodeProcess::Start({});
  ASSERT_TRUE(node->error().empty()) << node->error();
  http::Client client;
  auto officer =
      client.Fetch("POST", node->url() + "/api/v1/users", "{\"name\":\"o\",\"role\":\"officer\"}",
                   {{"Authorization", "Bearer " + node->admin_token()}});
  ASSERT_EQ(officer.value().status, 201);
  const std::string token(json::parse(officer->body).at("token").as_string());
  auto draft = client.Fetch("POST", node->url() + "/api/v1/requests", Text(DraftBody("XA", "XB")),
                            {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(draft.value().status, 201);
  EXPECT_EQ(node->Stop(), 0);
  EXPECT_NE(node->log_output().find("stopped cleanly"), std::string::npos) << node->log_output();
  // The request and its log entry are there after the stop.
  RunResult checkpoint = RunComity({"log", "checkpoint", node->data_dir()}, node->scratch());
  EXPECT_EQ(checkpoint.exit_code, 0);
  EXPECT_NE(checkpoint.out.find("\n1\n"), std::string::npos) << checkpoint.out;
}

TEST(ApiProcessTest, InitRefusesWhatItCannotDo) {
  TempDir tmp;
  // A database that cannot be reached: refused before anything is written, without echoing
  // the password.
  RunResult pg = RunComity({"init", tmp / "pg", "--state", "XA", "--database",
                            "postgresql://comity:pw-in-url@127.0.0.1:1/comity"},
                           tmp.path());
  EXPECT_EQ(pg.exit_code, 1);
  EXPECT_NE(pg.err.find("postgresql://comity:***@127.0.0.1:1/comity: cannot connect"),
            std::string::npos)
      << pg.err;
  EXPECT_EQ(pg.err.find("pw-in-url"), std::string::npos) << pg.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "pg"));
  RunResult scheme = RunComity(
      {"init", tmp / "my", "--state", "XA", "--database", "mysql://root:pw-in-url@db/comity"},
      tmp.path());
  EXPECT_EQ(scheme.exit_code, 2);
  EXPECT_EQ(scheme.err.find("pw-in-url"), std::string::npos) << scheme.err;
  RunResult state = RunComity({"init", tmp / "x", "--state", "Xa"}, tmp.path());
  EXPECT_EQ(state.exit_code, 2);
  RunResult disclose =
      RunComity({"init", tmp / "y", "--state", "XA", "--disclose", "never"}, tmp.path());
  EXPECT_EQ(disclose.exit_code, 2);
  RunResult serve = RunComity({"serve", tmp / "missing"}, tmp.path());
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_NE(serve.err.find("comity init"), std::string::npos) << serve.err;
}

// Two `comity serve` processes of one node on one PostgreSQL database (DESIGN.md: a large
// authority runs several behind a load balancer): both accept and submit requests in any mix,
// a request changed through both at once is changed once, and the log they share stays one log —
// it verifies, and every event has its own leaf, none lost or doubled.
TEST(ApiProcessTest, TwoServeProcessesShareOnePostgresDatabase) {
  store::testing::PostgresSchema schema("api_shared_");
  ASSERT_TRUE(schema.status().ok()) << schema.status().ToString();
  NodeProcess::Options first;
  first.database = schema.url();
  auto a = NodeProcess::Start(first);
  ASSERT_TRUE(a->error().empty()) << a->error();
  NodeProcess::Options second;
  second.copy_of = a->data_dir();
  auto b = NodeProcess::Start(second);
  ASSERT_TRUE(b->error().empty()) << b->error();
  NodeProcess* nodes[] = {a.get(), b.get()};
  auto call = [](NodeProcess* n, const std::string& method, const std::string& path,
                 const std::string& token, const std::string& body) {
    auto r = http::Client().Fetch(
        method, n->url() + path, body,
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    return r.ok() ? *r : http::ClientResponse{};
  };
  // What one process writes, the other sees: a user added through A signs in at B.
  auto officer = call(a.get(), "POST", "/api/v1/users", a->admin_token(),
                      "{\"name\":\"officer-1\",\"role\":\"officer\"}");
  ASSERT_EQ(officer.status, 201) << officer.body;
  const std::string token(json::parse(officer.body).at("token").as_string());
  auto peer = call(b.get(), "POST", "/api/v1/peers", a->admin_token(),
                   Text(json::object{{"state", "XB"},
                                     {"url", "http://127.0.0.1:9"},
                                     {"sign_key", RandomKey()},
                                     {"box_key", RandomKey()}}));
  ASSERT_EQ(peer.status, 201) << peer.body;

  // Workers create a draft through one process and submit it through the other.
  constexpr int kWorkers = 4, kPerWorker = 8;
  std::atomic<int> submitted{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < kPerWorker; ++i) {
        auto d = call(nodes[(w + i) % 2], "POST", "/api/v1/requests", token,
                      Text(DraftBody("XA", "XB")));
        ASSERT_EQ(d.status, 201) << d.body;
        const std::string id(json::parse(d.body).at("id").as_string());
        auto s = call(nodes[(w + i + 1) % 2], "POST", "/api/v1/requests/" + id + "/submit", token,
                      "{\"version\":1}");
        ASSERT_EQ(s.status, 200) << s.body;
        ++submitted;
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(submitted.load(), kWorkers * kPerWorker);

  // The same draft submitted through both processes at once: one wins, the other gets 409.
  constexpr int kRaces = 6;
  for (int k = 0; k < kRaces; ++k) {
    auto d = call(a.get(), "POST", "/api/v1/requests", token, Text(DraftBody("XA", "XB")));
    ASSERT_EQ(d.status, 201) << d.body;
    const std::string id(json::parse(d.body).at("id").as_string());
    int status[2] = {0, 0};
    std::thread racers[2];
    for (int n = 0; n < 2; ++n) {
      racers[n] = std::thread([&, n] {
        status[n] =
            call(nodes[n], "POST", "/api/v1/requests/" + id + "/submit", token, "{}").status;
      });
    }
    for (auto& t : racers) t.join();
    EXPECT_EQ(std::min(status[0], status[1]), 200) << id;
    EXPECT_EQ(std::max(status[0], status[1]), 409) << id;
    auto got = call(b.get(), "GET", "/api/v1/requests/" + id, token, "");
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(json::parse(got.body).at("history").as_array().size(), 2u) << got.body;
  }

  // One log: every event has its own leaf and private record; nothing lost or doubled.
  const int64_t events = 2 * (kWorkers * kPerWorker + kRaces);
  auto db = store::Database::Connect(schema.url());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto count = [&](const std::string& sql) -> int64_t {
    auto st = (*db)->Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok() || !*(*st)->Step()) return -1;
    const int64_t n = (*st)->Int64(0);
    (*st)->Reset();
    return n;
  };
  EXPECT_EQ(count("SELECT count(*) FROM request_events"), events);
  EXPECT_EQ(count("SELECT count(DISTINCT log_index) FROM request_events"), events);
  EXPECT_EQ(count("SELECT max(log_index) + 1 FROM request_events"), events);
  EXPECT_EQ(count("SELECT count(*) FROM log_records"), events);
  EXPECT_EQ(count("SELECT size FROM tlog_state"), events);
  EXPECT_EQ(count("SELECT count(*) FROM tlog_entries"), events);
  // Both serve it, and it verifies; so does `comity log` on either data directory.
  for (NodeProcess* n : nodes) {
    RunResult v = RunComity({"log", "verify", n->url(), "--vkey", a->vkey()}, n->scratch());
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_NE(v.out.find("verified comity/XA/main"), std::string::npos) << v.out;
    RunResult local =
        RunComity({"log", "verify", n->data_dir(), "--vkey", a->vkey()}, n->scratch());
    EXPECT_EQ(local.exit_code, 0) << local.err;
    RunResult cp = RunComity({"log", "checkpoint", n->data_dir()}, n->scratch());
    EXPECT_EQ(cp.exit_code, 0) << cp.err;
    EXPECT_NE(cp.out.find("\n" + std::to_string(events) + "\n"), std::string::npos) << cp.out;
  }
  EXPECT_EQ(a->Stop(), 0);
  EXPECT_EQ(b->Stop(), 0);
}

}  // namespace
}  // namespace comity::api_test

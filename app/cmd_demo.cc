// `comity demo`: a small network of states on this machine, exchanging, screening, reviewing and
// answering real requests, every step signed and logged.
//
//   comity demo [--dir DIR] [--requests N] [--seed S] [--once] [--timeout SECONDS]
//
// Four nodes (XA, XB, XD, XF from profiles/) are created in DIR (a new temporary directory by
// default), each with its own data directory (`comity init --disclose immediate`), an officer
// and a reviewer; each runs as its own `comity serve` process on a free loopback port. The
// nodes are wired as peers by identity discovery (GET /federation/v1/identity, confirmed by the
// key fingerprint known from init). Then N requests (default 200) go in all directions — most
// clean, some the rule base must refuse or send to review — and the reviewers act by a simple
// policy: confirm refusals with reasons, execute what may proceed, request information on
// incomplete requests (the officers reply), execute with conditions or postpone on review; a
// postponed request is later executed with conditions or, now and then, closed without a final
// decision (with reasons, which reach the requesting state).
// The demo prints, per state, what was sent and received, the screening outcomes, the
// decisions, the receipts, the log sizes, the checkpoints witnessed and the nodes' URLs.
//
// --once prints the summary as JSON on stdout and exits 0 (nodes stopped, data directories
// kept: `comity log verify DIR/XA --vkey VKEY` works on them). Without it the nodes keep
// serving until Ctrl-C (`comity log verify URL --vkey VKEY` on each), then stop cleanly.
// Progress goes to stderr. Exit codes: 0 success, 2 invalid input, 1 otherwise.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/command.h"
#include "federation/discovery.h"
#include "http/client.h"
#include "http/federation_api.h"
#include "node/directory.h"
#include "node/node.h"

namespace comity::app {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kStates[] = {"XA", "XB", "XD", "XF"};
constexpr int kMaxRequests = 100'000;

struct Options {
  std::string dir;
  int requests = 200;
  uint32_t seed = 2026;
  bool once = false;
  int timeout_seconds = 0;  // 0: 60 s + 0.5 s per request
};

Options& Opts() {
  static Options o;
  return o;
}

[[gnu::format(printf, 1, 2)]] void Say(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fflush(stderr);
}

// --- the nodes -------------------------------------------------------------------------------

struct DemoNode {
  std::string state;
  std::string name;  // the state's name from its profile
  std::string dir;
  std::string url;
  std::string vkey;
  std::string admin, officer, reviewer;   // API tokens
  federation::IdentityDocument identity;  // from init (without url)
  pid_t pid = -1;
};

std::string SelfExe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("comity") : p.string();
}

StatusOr<pid_t> SpawnServe(const DemoNode& n, const std::string& exe) {
  const std::string port_file = n.dir + "/port";
  const std::string log_file = n.dir + "/serve.log";
  fs::remove(port_file);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return UnavailableError("fork failed");
  if (pid == 0) {
    // The node stops with the demo even if the demo is killed.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::FILE* log = std::fopen(log_file.c_str(), "a");
    if (log != nullptr) {
      ::dup2(::fileno(log), 1);
      ::dup2(::fileno(log), 2);
    }
    ::execl(exe.c_str(), exe.c_str(), "serve", n.dir.c_str(), "--port-file", port_file.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    std::string port;
    if (in && std::getline(in, port) && !port.empty()) return pid;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return UnavailableError("the " + n.state + " node did not start; see " + log_file);
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGTERM);
  return Status(StatusCode::kDeadlineExceeded,
                "the " + n.state + " node did not start within 60 s; see " + log_file);
}

int StopNode(DemoNode& n) {
  if (n.pid <= 0) return 0;
  ::kill(n.pid, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (::waitpid(n.pid, &status, WNOHANG) != n.pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(n.pid, SIGKILL);
      ::waitpid(n.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  n.pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// --- HTTP --------------------------------------------------------------------------------------

struct Api {
  http::Client client{http::ClientOptions{std::chrono::milliseconds(30'000), 64 << 20}};

  StatusOr<json::value> Call(const std::string& method, const std::string& url,
                             const std::string& token, const json::value* body = nullptr,
                             std::initializer_list<int> ok = {200, 201}) const {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    ASSIGN_OR_RETURN(http::ClientResponse r,
                     client.Fetch(method, url, body ? json::serialize(*body) : "", headers));
    if (std::find(ok.begin(), ok.end(), r.status) == ok.end()) {
      return UnavailableError(method + " " + url + " answered " + std::to_string(r.status) + ": " +
                              r.body.substr(0, 500));
    }
    if (r.body.empty()) return json::value(nullptr);
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec) return json::value(r.body);  // text (metrics, checkpoint)
    return v;
  }
  StatusOr<std::string> Text(const std::string& url) const {
    ASSIGN_OR_RETURN(http::ClientResponse r, client.Fetch("GET", url));
    if (r.status != 200)
      return UnavailableError("GET " + url + " answered " + std::to_string(r.status));
    return r.body;
  }
  // Every page of GET /api/v1/requests with `query`.
  StatusOr<std::vector<json::object>> Requests(const DemoNode& n, const std::string& query) const {
    std::vector<json::object> out;
    std::string cursor;
    do {
      std::string url = n.url + "/api/v1/requests?limit=200&" + query;
      if (!cursor.empty()) url += "&cursor=" + cursor;
      ASSIGN_OR_RETURN(json::value page, Call("GET", url, n.officer.empty() ? n.admin : n.officer));
      for (const json::value& item : page.at("items").as_array()) out.push_back(item.as_object());
      const json::value& next = page.at("next_cursor");
      cursor = next.is_string() ? std::string(next.as_string()) : std::string();
    } while (!cursor.empty());
    return out;
  }
};

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// --- the requests ------------------------------------------------------------------------------

// The scenario's kinds of request: mostly clean ones, and a realistic tail the rule base must
// stop or send to a human.
enum class Kind { kClean, kPreserve, kJournalist, kSpeech, kMissingFacts, kBulk, kIntercept };

Kind PickKind(std::mt19937& rng) {
  const int x = static_cast<int>(rng() % 100);
  if (x < 50) return Kind::kClean;
  if (x < 62) return Kind::kPreserve;
  if (x < 72) return Kind::kJournalist;
  if (x < 80) return Kind::kSpeech;
  if (x < 88) return Kind::kMissingFacts;
  if (x < 94) return Kind::kBulk;
  return Kind::kIntercept;
}

json::object MakeRequest(const std::string& from, const std::string& to, int i, Kind kind,
                         std::mt19937& rng) {
  struct Offence {
    const char* category;
    const char* provision;
    int years;
    const char* description;
  };
  static const Offence kOffences[] = {
      {"computer_fraud", "Criminal Code s. 301 (computer fraud)", 8,
       "Phishing campaign that emptied bank accounts."},
      {"illegal_access", "Criminal Code s. 210 (unauthorised access)", 5,
       "Intrusion into a hospital's patient records system."},
      {"data_interference", "Criminal Code s. 212 (damage to data)", 6,
       "Ransomware that encrypted a municipality's servers."},
      {"system_interference", "Criminal Code s. 213 (hindering systems)", 7,
       "Denial-of-service attacks on a national payment service."},
      {"computer_forgery", "Criminal Code s. 305 (computer forgery)", 6,
       "Forged electronic invoices sent to small businesses."},
      {"laundering", "Money Laundering Act s. 4", 10,
       "Laundering the proceeds of online fraud through mule accounts."},
  };
  static const char* kProviders[] = {"ExampleMail Ltd", "Example Cloud SA", "ExampleNet Telecom",
                                     "Example Payments BV"};
  const Offence& off = kOffences[rng() % std::size(kOffences)];
  const int month = 1 + static_cast<int>(rng() % 9);
  char from_date[16], to_date[16];
  std::snprintf(from_date, sizeof(from_date), "2026-%02d-01", month);
  std::snprintf(to_date, sizeof(to_date), "2026-%02d-28", month + 1);
  const std::string ref = "INV-2026-" + std::to_string(1000 + i);

  json::object offence{{"category", off.category},
                       {"national_provision", off.provision},
                       {"max_penalty_years", off.years},
                       {"description", off.description}};
  if (kind == Kind::kSpeech) {
    offence = json::object{
        {"category", "false_information"},
        {"national_provision", "Penal Code art. 280.3 (false statements about state bodies)"},
        {"max_penalty_years", 10},
        {"description", "Posts criticising the conduct of the police during a protest."}};
  }
  json::object measure{
      {"type", "produce"},
      {"data_categories", json::array{"subscriber", "traffic"}},
      {"selectors",
       json::array{json::object{{"kind", "email"},
                                {"value", "case" + std::to_string(i) + "@example.net"},
                                {"provider", kProviders[rng() % std::size(kProviders)]}}}},
      {"period", json::object{{"from", from_date}, {"to", to_date}}},
      {"justification", "The account is linked to the offence by the payment records."}};
  if (kind == Kind::kPreserve) {
    measure["type"] = "preserve";
    measure["data_categories"] = json::array{"subscriber", "traffic", "content"};
  }
  if (kind == Kind::kBulk) {
    measure["selectors"] = json::array();
    measure["all_users"] = true;
  }
  if (kind == Kind::kIntercept) {
    offence["category"] = "illegal_access";
    offence["national_provision"] = "Criminal Code s. 210 (unauthorised access)";
    offence["max_penalty_years"] = 2;
    measure["type"] = "intercept";
    measure["data_categories"] = json::array{"content"};
    measure.erase("period");
    measure["duration_days"] = 30;
  }
  json::object person{{"role", kind == Kind::kJournalist ? "account_holder" : "suspect"},
                      {"nationalities", json::array{from}},
                      {"residence", to}};
  if (kind == Kind::kJournalist) person["status"] = json::array{"journalist"};

  return json::object{
      {"schema", "comity.request/v1"},
      {"requesting_state", from},
      {"requested_state", to},
      {"requesting_authority",
       json::object{{"name", "Ministry of Justice, International Cooperation Unit"},
                    {"kind", "central_authority"}}},
      {"proceeding",
       json::object{{"kind", "investigation"},
                    {"reference", ref},
                    {"conducting_authority", "Public Prosecutor, Cybercrime Division"}}},
      {"offences", json::array{offence}},
      {"facts", kind == Kind::kMissingFacts
                    ? ""
                    : "Between " + std::string(from_date) + " and " + to_date +
                          " the account received the proceeds of the offence; a service provider "
                          "in the requested state holds its records."},
      {"purpose", "Identify the holder of the account and link it to the offence."},
      {"urgency", rng() % 10 == 0 ? "urgent" : "routine"},
      {"measures", json::array{measure}},
      {"persons", json::array{person}},
      {"domestic_authorization", json::object{{"authority_kind", "judge"},
                                              {"reference", "Order " + std::to_string(i) + "/2026"},
                                              {"date", "2026-10-28"}}},
      {"assurances", json::array{"use_limited_to_stated_proceedings"}},
      {"language", "en"}};
}

// --- the scenario ----------------------------------------------------------------------------

struct Counters {
  std::map<std::string, int> by_key;
  void Add(const std::string& k, int n = 1) { by_key[k] += n; }
};

class Demo {
 public:
  explicit Demo(Options o) : o_(std::move(o)), rng_(o_.seed) {}
  ~Demo() { StopAll(); }

  Status Run();

 private:
  Status CreateNodes();
  Status StartNodes();
  Status WirePeers();
  Status SendRequests();
  Status Settle();
  StatusOr<bool> Round();
  StatusOr<json::object> Summary();
  void PrintText(const json::object& summary);
  void StopAll();
  bool Interrupted();
  DemoNode& Node(const std::string& state) {
    for (DemoNode& n : nodes_) {
      if (n.state == state) return n;
    }
    return nodes_.front();
  }

  Options o_;
  std::mt19937 rng_;
  Api api_;
  std::vector<DemoNode> nodes_;
  std::map<std::string, std::set<std::string>> acted_;  // request id → actions taken
  std::map<std::string, Counters> counters_;            // per state
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

bool Demo::Interrupted() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  timespec zero{0, 0};
  return sigtimedwait(&stop, nullptr, &zero) > 0;
}

Status Demo::CreateNodes() {
  const std::string profiles = (fs::path(DataHome()) / "profiles").string();
  for (const char* state : kStates) {
    DemoNode n;
    n.state = state;
    n.dir = (fs::path(o_.dir) / state).string();
    node::InitOptions in;
    in.data_dir = n.dir;
    in.state = state;
    in.listen = "127.0.0.1:0";
    in.profiles_dir = profiles;
    in.disclose_immediately = true;
    ASSIGN_OR_RETURN(node::InitResult r, node::InitNode(in));
    n.admin = r.admin_token;
    n.vkey = r.log_vkey;
    n.identity.state = state;
    n.identity.sign_key = r.identity.sign_key;
    n.identity.box_key = r.identity.box_key;
    n.identity.log_vkey = r.log_vkey;
    ASSIGN_OR_RETURN(node::NodeDirectory d, node::OpenNodeDirectory(n.dir));
    ASSIGN_OR_RETURN(std::optional<store::ProfileRecord> p, d.store->GetProfile(state));
    if (p) {
      boost::system::error_code ec;
      json::value v = json::parse(p->profile_json, ec);
      if (!ec) n.name = Str(v.as_object(), "name");
    }
    const int64_t now = node::ToMicros(SystemClock().Now());
    ASSIGN_OR_RETURN(node::NewUser officer,
                     node::AddUser(*d.store, "officer", node::Role::kOfficer, "demo", now));
    ASSIGN_OR_RETURN(node::NewUser reviewer,
                     node::AddUser(*d.store, "reviewer", node::Role::kReviewer, "demo", now));
    n.officer = officer.token;
    n.reviewer = reviewer.token;
    Say("  %s  %-22s created in %s\n", state, n.name.c_str(), n.dir.c_str());
    nodes_.push_back(std::move(n));
  }
  return OkStatus();
}

Status Demo::StartNodes() {
  const std::string exe = SelfExe();
  for (DemoNode& n : nodes_) {
    ASSIGN_OR_RETURN(n.pid, SpawnServe(n, exe));
    std::ifstream in(n.dir + "/port");
    std::string port;
    std::getline(in, port);
    n.url = "http://127.0.0.1:" + port;
    Say("  %s  serving at %s (pid %d)\n", n.state.c_str(), n.url.c_str(), static_cast<int>(n.pid));
  }
  return OkStatus();
}

Status Demo::WirePeers() {
  for (DemoNode& n : nodes_) {
    for (const DemoNode& peer : nodes_) {
      if (peer.state == n.state) continue;
      // What an administrator does: fetch the peer's identity and confirm it with the
      // fingerprint its administrator gave out of band (here: known from its init).
      ASSIGN_OR_RETURN(
          node::PeerInput in,
          http::DiscoverPeer(peer.url, federation::IdentityFingerprint(peer.identity), peer.state));
      json::value body = json::object{{"state", in.state},
                                      {"url", in.url},
                                      {"sign_key", in.sign_key},
                                      {"box_key", in.box_key},
                                      {"log_vkey", in.log_vkey}};
      RETURN_IF_ERROR(api_.Call("POST", n.url + "/api/v1/peers", n.admin, &body).status());
    }
    Say("  %s  trusts %zu peers, each confirmed by its identity fingerprint\n", n.state.c_str(),
        nodes_.size() - 1);
  }
  return OkStatus();
}

Status Demo::SendRequests() {
  const int pairs = static_cast<int>(nodes_.size() * (nodes_.size() - 1));
  int withdrawn = 0;
  for (int i = 0; i < o_.requests; ++i) {
    if (Interrupted()) return Status(StatusCode::kCancelled, "interrupted");
    const int pair = i % pairs;
    const int a = pair / static_cast<int>(nodes_.size() - 1);
    int b = pair % static_cast<int>(nodes_.size() - 1);
    if (b >= a) ++b;
    DemoNode& from = nodes_[a];
    DemoNode& to = nodes_[b];
    const Kind kind = PickKind(rng_);
    json::value body = MakeRequest(from.state, to.state, i, kind, rng_);
    ASSIGN_OR_RETURN(json::value draft,
                     api_.Call("POST", from.url + "/api/v1/requests", from.officer, &body));
    const std::string id = Str(draft.as_object(), "id");
    std::string pre;
    if (const json::value* s = draft.as_object().if_contains("screening")) {
      if (s->is_object()) pre = Str(s->as_object(), "outcome");
    }
    if (pre.empty()) pre = Str(draft.as_object(), "screening_outcome");
    counters_[from.state].Add("prescreen_" + pre);
    // An officer who sees the pre-screening refuse sometimes withdraws the draft; most are sent
    // anyway, so that the requested state's safeguards are seen at work.
    if (pre == "refuse" && rng_() % 4 == 0) {
      json::value reason = json::object{{"reason", "Withdrawn after the pre-screening"}};
      RETURN_IF_ERROR(api_.Call("POST", from.url + "/api/v1/requests/" + id + "/withdraw",
                                from.officer, &reason)
                          .status());
      ++withdrawn;
      counters_[from.state].Add("withdrawn");
      continue;
    }
    json::value empty = json::object{};
    RETURN_IF_ERROR(
        api_.Call("POST", from.url + "/api/v1/requests/" + id + "/submit", from.officer, &empty)
            .status());
    counters_[from.state].Add("submitted");
    if ((i + 1) % 50 == 0 || i + 1 == o_.requests) {
      Say("  %d/%d drafted and pre-screened (%d withdrawn by their officers)\n", i + 1, o_.requests,
          withdrawn);
    }
  }
  return OkStatus();
}

// One round of the people at work. True when everything is settled.
StatusOr<bool> Demo::Round() {
  bool settled = true;
  for (DemoNode& n : nodes_) {
    // Reviewers: incoming requests waiting for a decision.
    for (const char* state : {"in_review", "ready", "postponed"}) {
      ASSIGN_OR_RETURN(std::vector<json::object> items,
                       api_.Requests(n, "direction=incoming&state=" + std::string(state)));
      for (const json::object& r : items) {
        settled = false;
        const std::string id = Str(r, "id");
        const std::string outcome = Str(r, "screening_outcome");
        std::set<std::string>& done = acted_[id];
        json::object decide;
        if (std::string(state) == "postponed" && rng_() % 4 == 0) {
          // The reason for the postponement has made the request moot: closed without a final
          // decision, with reasons, which go to the requesting state.
          json::value body = json::object{
              {"reason",
               "The domestic proceedings ended the matter; the assistance is no longer needed."}};
          auto res =
              api_.Call("POST", n.url + "/api/v1/requests/" + id + "/close", n.reviewer, &body);
          if (!res.ok()) return res.status();
          counters_[n.state].Add("decided_close");  // without a final decision
          continue;
        }
        if (std::string(state) == "postponed") {
          decide = {
              {"action", "execute_with_conditions"},
              {"reasons", "The domestic proceedings that justified the postponement ended."},
              {"conditions", json::array{json::object{
                                 {"code", "use-limitation"},
                                 {"text", "Only for the proceedings named in the request."}}}}};
        } else if (outcome == "refuse") {
          decide = {{"action", "refuse"},
                    {"reasons",
                     "The reviewer confirms the screening's refusal: the findings "
                     "cited apply to this request."}};
        } else if (outcome == "incomplete" && !done.count("request_information")) {
          decide = {{"action", "request_information"},
                    {"reasons",
                     "The request does not state the facts that link the measure to "
                     "the offence; please provide them."}};
        } else if (outcome == "review" && !done.count("postpone") && rng_() % 5 == 0) {
          decide = {{"action", "postpone"},
                    {"reasons",
                     "Execution would prejudice domestic proceedings on the same "
                     "facts; postponed until they conclude."}};
        } else if (outcome == "review" || outcome == "incomplete") {
          decide = {
              {"action", "execute_with_conditions"},
              {"reasons", "Reviewed: the measure is proportionate with the conditions set."},
              {"conditions", json::array{json::object{{"code", "use-limitation"},
                                                      {"text", "Only for the proceedings named."}},
                                         json::object{{"code", "retention"},
                                                      {"text", "Delete after the proceedings."},
                                                      {"until", "2031-12-31"}}}}};
        } else {
          decide = {{"action", "execute"}};
        }
        const std::string action = Str(decide, "action");
        json::value body = decide;
        auto res =
            api_.Call("POST", n.url + "/api/v1/requests/" + id + "/decide", n.reviewer, &body);
        if (!res.ok()) return res.status();
        done.insert(action);
        counters_[n.state].Add("decided_" + action);
      }
    }
    // Officers: the requested state asked for more information.
    ASSIGN_OR_RETURN(std::vector<json::object> asked,
                     api_.Requests(n, "direction=outgoing&state=information_requested"));
    for (const json::object& r : asked) {
      settled = false;
      json::value body =
          json::object{{"information",
                        "The account received EUR 48,000 from the victims' accounts between "
                        "the dates given; the bank's records are attached to the file."}};
      auto res = api_.Call("POST", n.url + "/api/v1/requests/" + Str(r, "id") + "/reply", n.officer,
                           &body);
      if (!res.ok()) return res.status();
      counters_[n.state].Add("replied");
    }
    // Still travelling: submitted (no receipt yet) or delivered (no answer yet).
    for (const char* state : {"submitted", "delivered"}) {
      ASSIGN_OR_RETURN(std::vector<json::object> open,
                       api_.Requests(n, "direction=outgoing&state=" + std::string(state)));
      if (!open.empty()) settled = false;
    }
    ASSIGN_OR_RETURN(std::vector<json::object> received,
                     api_.Requests(n, "direction=incoming&state=information_requested"));
    if (!received.empty()) settled = false;
  }
  if (settled) {
    // Answers that are still only a postponement are not final; and every outbox must be empty.
    for (DemoNode& n : nodes_) {
      ASSIGN_OR_RETURN(std::string metrics, api_.Text(n.url + "/metrics"));
      if (metrics.find("\ncomity_outbox_depth 0") == std::string::npos) settled = false;
    }
  }
  return settled;
}

Status Demo::Settle() {
  const int limit = o_.timeout_seconds > 0 ? o_.timeout_seconds : 60 + o_.requests / 2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit);
  int rounds = 0;
  while (true) {
    if (Interrupted()) return Status(StatusCode::kCancelled, "interrupted");
    ASSIGN_OR_RETURN(bool settled, Round());
    ++rounds;
    if (settled) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    "the network did not settle within " + std::to_string(limit) +
                        " s (see the serve.log of each node in " + o_.dir + ")");
    }
    std::this_thread::sleep_for(200ms);
  }
  Say("  settled after %d rounds of review\n", rounds);
  // Officers close the answered requests whose answer is final.
  for (DemoNode& n : nodes_) {
    ASSIGN_OR_RETURN(std::vector<json::object> answered,
                     api_.Requests(n, "direction=outgoing&state=answered"));
    for (const json::object& r : answered) {
      ASSIGN_OR_RETURN(json::value full,
                       api_.Call("GET", n.url + "/api/v1/requests/" + Str(r, "id"), n.officer));
      const json::value* d = full.as_object().if_contains("decision");
      const std::string decision =
          d != nullptr && d->is_object() ? Str(d->as_object(), "decision") : std::string();
      if (decision == "postponed" || decision.empty()) continue;
      json::value body = json::object{{"reason", "Answered: " + decision}};
      RETURN_IF_ERROR(
          api_.Call("POST", n.url + "/api/v1/requests/" + Str(r, "id") + "/close", n.officer, &body)
              .status());
      counters_[n.state].Add("closed");
    }
  }
  return OkStatus();
}

// The value of a Prometheus sample line whose name and labels contain every `needle`.
double MetricSum(const std::string& text, const std::string& name,
                 std::initializer_list<std::string> needles) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    bool all = true;
    for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
    if (!all) continue;
    const size_t sp = line.rfind(' ');
    sum += std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return sum;
}

StatusOr<json::object> Demo::Summary() {
  json::array nodes;
  std::map<std::string, int64_t> totals;
  for (DemoNode& n : nodes_) {
    json::object s;
    s["state"] = n.state;
    s["name"] = n.name;
    s["url"] = n.url;
    s["data_dir"] = n.dir;
    s["vkey"] = n.vkey;
    ASSIGN_OR_RETURN(std::vector<json::object> out, api_.Requests(n, "direction=outgoing"));
    ASSIGN_OR_RETURN(std::vector<json::object> in, api_.Requests(n, "direction=incoming"));
    json::object out_states, in_states, outcomes;
    int64_t sent = 0;
    for (const json::object& r : out) {
      const std::string st = Str(r, "state");
      out_states[st] = out_states.contains(st) ? out_states[st].as_int64() + 1 : 1;
      if (st != "draft" && st != "withdrawn") ++sent;
    }
    for (const json::object& r : in) {
      const std::string st = Str(r, "state");
      in_states[st] = in_states.contains(st) ? in_states[st].as_int64() + 1 : 1;
      const std::string oc = Str(r, "screening_outcome");
      outcomes[oc] = outcomes.contains(oc) ? outcomes[oc].as_int64() + 1 : 1;
    }
    s["sent"] = sent;
    s["received"] = static_cast<int64_t>(in.size());
    s["outgoing"] = out_states;
    s["incoming"] = in_states;
    s["screening"] = outcomes;
    json::object decisions;
    for (const auto& [k, v] : counters_[n.state].by_key) {
      if (k.rfind("decided_", 0) == 0) decisions[k.substr(8)] = v;
    }
    s["decisions"] = decisions;
    ASSIGN_OR_RETURN(std::string metrics, api_.Text(n.url + "/metrics"));
    const auto receipts = static_cast<int64_t>(
        MetricSum(metrics, "comity_federation_deliveries_total", {"outcome=\"delivered\""}));
    s["receipts"] = receipts;
    s["retries"] = static_cast<int64_t>(
        MetricSum(metrics, "comity_federation_deliveries_total", {"outcome=\"failed\""}));
    s["outbox_depth"] = static_cast<int64_t>(MetricSum(metrics, "comity_outbox_depth", {}));
    s["security_events"] =
        static_cast<int64_t>(MetricSum(metrics, "comity_federation_security_events_total", {}));
    ASSIGN_OR_RETURN(std::string checkpoint, api_.Text(n.url + "/checkpoint"));
    int64_t log_size = 0;
    {
      std::istringstream cp(checkpoint);
      std::string origin, size;
      std::getline(cp, origin);
      std::getline(cp, size);
      log_size = std::strtoll(size.c_str(), nullptr, 10);
    }
    s["log_size"] = log_size;
    ASSIGN_OR_RETURN(json::value witnessed,
                     api_.Call("GET", n.url + "/api/v1/witnessed", n.officer));
    json::array w;
    int64_t cosigned = 0;
    for (const json::value& item : witnessed.at("items").as_array()) {
      const json::object& o = item.as_object();
      w.push_back(json::object{
          {"peer", o.at("peer")}, {"size", o.at("size")}, {"cosigned", o.at("cosigned")}});
      cosigned += o.at("cosigned").as_int64();
    }
    s["witnessed"] = w;
    s["witness_vkey"] = witnessed.at("witness_vkey");
    ASSIGN_OR_RETURN(json::value alerts, api_.Call("GET", n.url + "/api/v1/alerts", n.officer));
    s["alerts"] = static_cast<int64_t>(alerts.at("items").as_array().size());

    totals["sent"] += sent;
    totals["received"] += static_cast<int64_t>(in.size());
    totals["receipts"] += receipts;
    totals["log_entries"] += log_size;
    totals["checkpoints_cosigned"] += cosigned;
    totals["alerts"] += static_cast<int64_t>(alerts.at("items").as_array().size());
    for (const auto& [k, v] : counters_[n.state].by_key) {
      if (k.rfind("decided_", 0) == 0) totals["decisions"] += v;
      if (k == "withdrawn") totals["withdrawn"] += v;
    }
    nodes.push_back(std::move(s));
  }
  json::object t;
  t["requests"] = o_.requests;
  for (const auto& [k, v] : totals) t[k] = v;
  const int64_t elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - started_)
                                 .count();
  return json::object{{"schema", "comity.demo/v1"},
                      {"dir", o_.dir},
                      {"elapsed_ms", elapsed_ms},
                      {"nodes", std::move(nodes)},
                      {"totals", std::move(t)}};
}

void Demo::PrintText(const json::object& summary) {
  auto num = [](const json::object& o, const char* k) -> long long {
    const json::value* v = o.if_contains(k);
    return v != nullptr && v->is_int64() ? static_cast<long long>(v->as_int64()) : 0;
  };
  auto counts = [](const json::value& v) {
    std::string out;
    for (const auto& kv : v.as_object()) {
      out += (out.empty() ? "" : ", ") + std::string(kv.key()) + " " +
             std::to_string(kv.value().as_int64());
    }
    return out.empty() ? std::string("none") : out;
  };
  std::printf("\n");
  for (const json::value& v : summary.at("nodes").as_array()) {
    const json::object& s = v.as_object();
    std::printf("%s  %s  %s\n", Str(s, "state").c_str(), Str(s, "name").c_str(),
                Str(s, "url").c_str());
    std::printf("    sent %lld, receipts %lld (retries %lld), received %lld\n", num(s, "sent"),
                num(s, "receipts"), num(s, "retries"), num(s, "received"));
    std::printf("    screening of what it received: %s\n", counts(s.at("screening")).c_str());
    std::printf("    its reviewers decided: %s\n", counts(s.at("decisions")).c_str());
    std::printf("    its requests now: %s\n", counts(s.at("outgoing")).c_str());
    std::printf("    log: %lld entries; checkpoints of its peers witnessed:", num(s, "log_size"));
    for (const json::value& w : s.at("witnessed").as_array()) {
      std::printf(" %s@%lld", Str(w.as_object(), "peer").c_str(),
                  static_cast<long long>(w.at("size").as_int64()));
    }
    std::printf(" (%lld alerts, %lld security events)\n", num(s, "alerts"),
                num(s, "security_events"));
    std::printf("    verify: comity log verify %s --vkey %s\n", Str(s, "url").c_str(),
                Str(s, "vkey").c_str());
  }
  const json::object& t = summary.at("totals").as_object();
  std::printf(
      "\n%lld requests: %lld sent, %lld withdrawn, %lld received, %lld signed receipts, %lld "
      "decisions; %lld log entries; %lld peer checkpoints cosigned; %lld split-view alerts.\n",
      num(t, "requests"), num(t, "sent"), num(t, "withdrawn"), num(t, "received"),
      num(t, "receipts"), num(t, "decisions"), num(t, "log_entries"),
      num(t, "checkpoints_cosigned"), num(t, "alerts"));
  std::fflush(stdout);
}

void Demo::StopAll() {
  // All at once: each node takes a moment to drain.
  for (DemoNode& n : nodes_) {
    if (n.pid > 0) ::kill(n.pid, SIGTERM);
  }
  for (DemoNode& n : nodes_) {
    if (n.pid > 0) {
      const int rc = StopNode(n);
      if (rc != 0) {
        Say("  %s stopped with status %d (see %s/serve.log)\n", n.state.c_str(), rc, n.dir.c_str());
      }
    }
  }
}

Status Demo::Run() {
  Say("comity demo: %zu states, %d requests, in %s\n", std::size(kStates), o_.requests,
      o_.dir.c_str());
  RETURN_IF_ERROR(CreateNodes());
  RETURN_IF_ERROR(StartNodes());
  RETURN_IF_ERROR(WirePeers());
  RETURN_IF_ERROR(SendRequests());
  RETURN_IF_ERROR(Settle());
  // Let the last receipts' checkpoints be witnessed.
  std::this_thread::sleep_for(500ms);
  ASSIGN_OR_RETURN(json::object summary, Summary());
  { std::ofstream(o_.dir + "/summary.json", std::ios::trunc) << json::serialize(summary) << "\n"; }
  if (o_.once) {
    std::printf("%s\n", json::serialize(summary).c_str());
    std::fflush(stdout);
    StopAll();
    return OkStatus();
  }
  PrintText(summary);
  Say("\nThe nodes keep serving (data in %s); Ctrl-C stops them.\n", o_.dir.c_str());
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  while (true) {
    timespec second{1, 0};
    const int sig = sigtimedwait(&stop, nullptr, &second);
    if (sig == SIGINT || sig == SIGTERM) break;
    bool all_gone = true;
    for (DemoNode& n : nodes_) {
      int status = 0;
      if (n.pid > 0 && ::waitpid(n.pid, &status, WNOHANG) == n.pid) {
        Say("  %s stopped on its own (see %s/serve.log)\n", n.state.c_str(), n.dir.c_str());
        n.pid = -1;
      }
      all_gone = all_gone && n.pid <= 0;
    }
    if (all_gone) break;
  }
  Say("stopping the nodes...\n");
  StopAll();
  Say("stopped; the data directories stay in %s\n", o_.dir.c_str());
  return OkStatus();
}

Status RunDemo(Options o) {
  if (o.requests < 0 || o.requests > kMaxRequests) {
    return InvalidArgumentError("--requests must be between 0 and " + std::to_string(kMaxRequests));
  }
  if (o.dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "comity-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return UnavailableError("cannot create a directory");
    o.dir = tmpl;
  } else {
    std::error_code ec;
    if (fs::exists(o.dir, ec) && !fs::is_empty(o.dir, ec)) {
      return InvalidArgumentError("--dir " + o.dir + " exists and is not empty");
    }
    fs::create_directories(o.dir, ec);
    if (ec) return UnavailableError("cannot create " + o.dir + ": " + ec.message());
    o.dir = fs::absolute(o.dir).string();
  }
  // Ctrl-C is waited for, not delivered: the nodes are stopped cleanly.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  Demo demo(o);
  Status s = demo.Run();
  return s;
}

const Registrar kRegistrar("demo", [](CLI::App& app, Context& ctx) {
  Options& o = Opts();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Start four nodes (XA, XB, XD, XF) on this machine, wire them as peers and exchange "
      "requests in all directions, screened, reviewed, answered, signed and logged");
  demo->add_option("--dir", o.dir,
                   "Where the nodes' data directories go (new or empty; default: "
                   "a new temporary directory)");
  demo->add_option("--requests", o.requests, "How many requests to send")->capture_default_str();
  demo->add_option("--seed", o.seed, "Seed of the scenario")->capture_default_str();
  demo->add_option("--timeout", o.timeout_seconds,
                   "Seconds to wait for the network to settle (default 60 + requests / 2)");
  demo->add_flag("--once", o.once,
                 "Print the summary as JSON on stdout and exit (nodes stopped, data kept)");
  demo->callback([&ctx] {
    Status s = RunDemo(Opts());
    ctx.exit_code = s.ok() ? 0 : ReportError(s);
  });
});

}  // namespace
}  // namespace comity::app

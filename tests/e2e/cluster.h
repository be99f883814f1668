// Real nodes for the end-to-end tests: `comity init` in a temporary directory, users added with
// `comity user add`, `comity serve --port-file` as a child process on port 0 (or on the port it
// had, for a restart), stopped with SIGTERM or killed with SIGKILL; peers wired with the
// discovery form of `comity peer add`; and a small JSON client for the API.
//
//   Cluster c;
//   E2eNode& xa = c.Add("XA");
//   E2eNode& xb = c.Add("XB", {{"retry_max_seconds = 300", "retry_max_seconds = 2"}});
//   ASSERT_TRUE(xa.Start().ok());
//   ASSERT_TRUE(c.Wire(xa, xb).ok());              // xa trusts xb (and vice versa: Wire(xb, xa))
//   auto r = xa.Api("POST", "/api/v1/requests", xa.officer(), body);
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "federation/discovery.h"
#include "http/client.h"

extern char** environ;

namespace comity::e2e {

namespace json = boost::json;

inline std::string ComityBinary() { return std::string(COMITY_BINARY_DIR) + "/bin/comity"; }
inline std::string SourceDir() { return COMITY_SOURCE_DIR; }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    // Under the build tree when possible: a real file system, so fsync is real.
    std::filesystem::path base = std::filesystem::path(COMITY_BINARY_DIR) / "Testing";
    std::error_code ec;
    std::filesystem::create_directories(base, ec);
    if (ec) base = std::filesystem::temp_directory_path();
    std::string tmpl = (base / "comity-e2e-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    if (std::getenv("COMITY_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(path_);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `comity args...`, capturing stdout and stderr into files under `scratch`.
inline RunResult RunComity(const std::vector<std::string>& args, const std::string& scratch) {
  static std::atomic<int> counter{0};
  const std::string tag = scratch + "/run" + std::to_string(++counter);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, (tag + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&fa, 2, (tag + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<std::string> argv_s = {ComityBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  RunResult r;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&fa);
  r.out = ReadFile(tag + ".out");
  r.err = ReadFile(tag + ".err");
  return r;
}

// Polls `done` every 50 ms until it is true or `limit` passes.
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

struct ApiAnswer {
  int status = 0;
  json::value body;
  std::string text;
};

class E2eNode {
 public:
  E2eNode(std::string state, std::string dir) : state_(std::move(state)), dir_(std::move(dir)) {}
  ~E2eNode() { Stop(); }

  // comity init (immediate disclosure), the config edits, an officer, a reviewer, an auditor.
  Status Init(const std::vector<std::pair<std::string, std::string>>& config_edits) {
    RunResult r = RunComity(
        {"init", data(), "--state", state_, "--listen", "127.0.0.1:0", "--disclose", "immediate"},
        dir_);
    if (r.exit_code != 0) return InternalError("comity init " + state_ + ": " + r.err);
    init_ = json::parse(r.out).as_object();
    admin_ = std::string(init_["admin"].as_object()["token"].as_string());
    vkey_ = std::string(init_["log_vkey"].as_string());
    const std::string path = data() + "/comity.toml";
    std::string text = ReadFile(path);
    for (const auto& [from, to] : config_edits) {
      const size_t at = text.find(from);
      if (at == std::string::npos) return InternalError("comity.toml has no \"" + from + "\"");
      text.replace(at, from.size(), to);
    }
    std::ofstream(path, std::ios::trunc) << text;
    for (auto [name, role, token] : {std::tuple{"officer", "officer", &officer_},
                                     std::tuple{"reviewer", "reviewer", &reviewer_},
                                     std::tuple{"auditor", "auditor", &auditor_}}) {
      RunResult u = RunComity({"user", "add", data(), "--name", name, "--role", role}, dir_);
      if (u.exit_code != 0) return InternalError("comity user add: " + u.err);
      *token = u.out.substr(0, u.out.find('\n'));
    }
    return OkStatus();
  }

  // Starts `comity serve`; on the port it had before if it ran already (a restart).
  Status Start() {
    const std::string port_file = dir_ + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> argv_s = {ComityBinary(), "serve", data(), "--port-file", port_file};
    if (port_ != 0) {
      argv_s.push_back("--listen");
      argv_s.push_back("127.0.0.1:" + std::to_string(port_));
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = dir_ + "/serve.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return InternalError("cannot spawn comity serve");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      const std::string port = ReadFile(port_file);
      if (!port.empty() && port.back() == '\n') {
        port_ = static_cast<uint16_t>(std::stoi(port));
        return OkStatus();
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return InternalError("comity serve " + state_ + " exited: " + ReadFile(log));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return InternalError("comity serve " + state_ + " did not start: " + ReadFile(log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // SIGTERM and wait: the exit status.
  int Stop() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // SIGKILL: no clean shutdown at all.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  ApiAnswer Api(const std::string& method, const std::string& path, const std::string& token,
                const json::value& body = nullptr) const {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    http::Client client(http::ClientOptions{std::chrono::seconds(30), 64 << 20});
    auto r =
        client.Fetch(method, url() + path, body.is_null() ? "" : json::serialize(body), headers);
    ApiAnswer a;
    if (!r.ok()) {
      a.text = r.status().ToString();
      return a;
    }
    a.status = r->status;
    a.text = r->body;
    boost::system::error_code ec;
    a.body = json::parse(r->body, ec);
    if (ec) a.body = nullptr;
    return a;
  }

  // Every page of GET /api/v1/requests?<query>.
  std::vector<json::object> Requests(const std::string& query) const {
    std::vector<json::object> out;
    std::string cursor;
    do {
      ApiAnswer a =
          Api("GET",
              "/api/v1/requests?limit=200&" + query + (cursor.empty() ? "" : "&cursor=" + cursor),
              auditor_);
      if (a.status != 200) return out;
      for (const auto& v : a.body.at("items").as_array()) out.push_back(v.as_object());
      const json::value& next = a.body.at("next_cursor");
      cursor = next.is_string() ? std::string(next.as_string()) : "";
    } while (!cursor.empty());
    return out;
  }

  // The value of a Prometheus sample (summed over the lines that contain every needle).
  double Metric(const std::string& name, const std::vector<std::string>& needles = {}) const {
    http::Client client;
    auto r = client.Fetch("GET", url() + "/metrics");
    if (!r.ok()) return -1;
    double sum = 0;
    std::istringstream in(r->body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
      if (line[name.size()] != ' ' && line[name.size()] != '{') continue;
      bool all = true;
      for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
      if (all) sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    }
    return sum;
  }

  // The identity fingerprint, computed from what `comity init` printed (not from the server).
  std::string Fingerprint() {
    federation::IdentityDocument d;
    d.state = state_;
    d.sign_key = std::string(init_["sign_key"].as_string());
    d.box_key = std::string(init_["box_key"].as_string());
    d.log_vkey = vkey_;
    return federation::IdentityFingerprint(d);
  }

  const std::string& state() const { return state_; }
  std::string data() const { return dir_ + "/data"; }
  const std::string& dir() const { return dir_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& vkey() const { return vkey_; }
  const std::string& admin() const { return admin_; }
  const std::string& officer() const { return officer_; }
  const std::string& reviewer() const { return reviewer_; }
  const std::string& auditor() const { return auditor_; }
  const json::object& init_output() const { return init_; }
  std::string log() const { return ReadFile(dir_ + "/serve.log"); }

 private:
  std::string state_;
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  json::object init_;
  std::string admin_, officer_, reviewer_, auditor_, vkey_;
};

class Cluster {
 public:
  E2eNode& Add(const std::string& state,
               const std::vector<std::pair<std::string, std::string>>& config_edits = {}) {
    const std::string dir = tmp_ / state;
    std::filesystem::create_directories(dir);
    nodes_.push_back(std::make_unique<E2eNode>(state, dir));
    init_status_ = nodes_.back()->Init(config_edits);
    return *nodes_.back();
  }
  const Status& init_status() const { return init_status_; }

  // `a` trusts `b`: `comity peer add A --from-url B --fingerprint FP(B)` while both run.
  Status Wire(E2eNode& a, E2eNode& b) {
    RunResult r = RunComity(
        {"peer", "add", a.data(), "--from-url", b.url(), "--fingerprint", b.Fingerprint()},
        tmp_.path());
    if (r.exit_code != 0) return InternalError("comity peer add: " + r.err);
    return OkStatus();
  }

  const TempDir& tmp() const { return tmp_; }

 private:
  TempDir tmp_;
  std::vector<std::unique_ptr<E2eNode>> nodes_;
  Status init_status_;
};

// A clean request (the conformance case clean-production) from `from` to `to`, as a draft body.
inline json::object DraftBody(const std::string& from, const std::string& to, int n) {
  json::value c =
      json::parse(ReadFile(SourceDir() + "/tests/conformance/cases/clean-production.json"));
  json::object r = c.as_object()["request"].as_object();
  r.erase("id");
  r.erase("created");
  r["requesting_state"] = from;
  r["requested_state"] = to;
  r["persons"].as_array()[0].as_object()["nationalities"] = json::array{from};
  r["persons"].as_array()[0].as_object()["residence"] = to;
  r["measures"].as_array()[0].as_object()["selectors"].as_array()[0].as_object()["value"] =
      "case" + std::to_string(n) + "@example.net";
  return r;
}

}  // namespace comity::e2e

// A real `comity serve` for API tests: `comity init` in a temporary directory, optional seeding
// through the service in process (before the server starts), then `comity serve --listen
// 127.0.0.1:0 --port-file ...` as a child process, stopped with SIGTERM at the end.
//
//   NodeProcess::Options o;
//   o.database = "sqlite";                      // or a postgresql:// URL once that backend exists
//   o.config_edits = {{"max_failures = 10", "max_failures = 3"}};
//   auto node = NodeProcess::Start(o);           // ASSERT on node->error() being empty
//   http::Client().Fetch("GET", node->url() + "/healthz");
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/node/test_util.h"

extern char** environ;

namespace comity::api_test {

using node::testing::ReadFile;
using node::testing::TempDir;

inline std::string ComityBinary() { return std::string(COMITY_BINARY_DIR) + "/bin/comity"; }

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the comity binary with `args`, capturing stdout and stderr.
inline RunResult RunComity(const std::vector<std::string>& args, const std::string& scratch_dir,
                           const std::vector<std::string>& extra_env = {}) {
  static int counter = 0;
  const std::string tag = scratch_dir + "/run" + std::to_string(++counter);
  const std::string out_path = tag + ".out", err_path = tag + ".err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> argv_s = {ComityBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  RunResult r;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) == 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&fa);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

class NodeProcess {
 public:
  struct Options {
    std::string state = "XA";
    std::string database;  // empty: sqlite
    // Another process of the same node: serves a copy of this data directory (configuration and
    // keys) instead of running `comity init`; with PostgreSQL both share the one database.
    std::string copy_of;
    std::vector<std::pair<std::string, std::string>> config_edits;  // replace text in comity.toml
    std::function<void(const std::string& data_dir)> seed;          // before serve starts
    std::chrono::seconds start_timeout{60};
  };

  static std::unique_ptr<NodeProcess> Start(const Options& o) {
    std::unique_ptr<NodeProcess> p(new NodeProcess());
    p->data_ = p->tmp_ / "data";
    if (!o.copy_of.empty()) {
      std::error_code ec;
      std::filesystem::copy(o.copy_of, p->data_, std::filesystem::copy_options::recursive, ec);
      if (ec) {
        p->error_ = "cannot copy " + o.copy_of + ": " + ec.message();
        return p;
      }
      p->Spawn(o.start_timeout);
      return p;
    }
    std::vector<std::string> init = {"init",     p->data_,      "--state",    o.state,
                                     "--listen", "127.0.0.1:0", "--disclose", "immediate"};
    if (!o.database.empty()) {
      init.push_back("--database");
      init.push_back(o.database);
    }
    RunResult r = RunComity(init, p->tmp_.path());
    if (r.exit_code != 0) {
      p->error_ = "comity init failed (" + std::to_string(r.exit_code) + "): " + r.err;
      return p;
    }
    p->init_ = boost::json::parse(r.out).as_object();
    p->admin_token_ = std::string(p->init_["admin"].as_object()["token"].as_string());
    p->vkey_ = std::string(p->init_["log_vkey"].as_string());
    if (!o.config_edits.empty()) {
      const std::string path = p->data_ + "/comity.toml";
      std::string text = ReadFile(path);
      for (const auto& [from, to] : o.config_edits) {
        const size_t at = text.find(from);
        if (at == std::string::npos) {
          p->error_ = "comity.toml has no \"" + from + "\"";
          return p;
        }
        text.replace(at, from.size(), to);
      }
      std::ofstream(path, std::ios::trunc) << text;
    }
    if (o.seed) o.seed(p->data_);
    p->Spawn(o.start_timeout);
    return p;
  }

  ~NodeProcess() { Stop(); }

  // SIGTERM and wait; returns the exit status (or -1 if it had to be killed).
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = 0;
    while (true) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        exit_status_ = -1;
        return exit_status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_status_;
  }

  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }
  const std::string& data_dir() const { return data_; }
  const std::string& admin_token() const { return admin_token_; }
  const std::string& vkey() const { return vkey_; }
  const boost::json::object& init_output() const { return init_; }
  std::string scratch() const { return tmp_.path(); }
  std::string log_output() const { return ReadFile(tmp_ / "serve.err"); }
  std::string stdout_output() const { return ReadFile(tmp_ / "serve.out"); }

 private:
  NodeProcess() = default;

  void Spawn(std::chrono::seconds timeout) {
    const std::string port_file = tmp_ / "port";
    const std::string out = tmp_ / "serve.out", err = tmp_ / "serve.err";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> argv_s = {ComityBinary(), "serve", data_, "--port-file", port_file};
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
      error_ = "cannot spawn comity serve";
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && error_.empty()) {
      if (std::filesystem::exists(port_file)) {
        const std::string port = ReadFile(port_file);
        if (!port.empty() && port.back() == '\n') {
          url_ = "http://127.0.0.1:" + port.substr(0, port.size() - 1);
          return;
        }
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "comity serve exited early: " + ReadFile(err);
        return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        error_ = "comity serve did not start in time: " + ReadFile(err);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  TempDir tmp_;
  std::string data_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string error_;
  std::string url_;
  std::string admin_token_;
  std::string vkey_;
  boost::json::object init_;
};

}  // namespace comity::api_test

// Helpers for the node tests: temporary directories, a clock the test moves, sample requests,
// and a service over a fresh SQLite database with the shipped profiles and rule base.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/codec.h"
#include "core/time.h"
#include "node/directory.h"
#include "node/node.h"
#include "node/service.h"
#include "rules/rulebase.h"
#include "store/database.h"
#include "store/node_store.h"
#include "tlog/log.h"

namespace comity::node::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "comity-node-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock the test sets and advances. Thread-safe.
class TestClock : public Clock {
 public:
  explicit TestClock(int64_t seconds = 1'794'000'000) : seconds_(seconds) {}  // 2026-11-06T21:20Z
  Timestamp Now() const override { return Timestamp{seconds_.load(), 0}; }
  void Set(int64_t seconds) { seconds_ = seconds; }
  void Advance(int64_t seconds) { seconds_ += seconds; }

 private:
  std::atomic<int64_t> seconds_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string SourceDir() { return COMITY_SOURCE_DIR; }

inline std::shared_ptr<const rules::RuleBase> RuleBase() {
  static const std::shared_ptr<const rules::RuleBase> rb = [] {
    rules::LoadResult r = rules::RuleBase::LoadDirectory(SourceDir() + "/rules");
    if (!r.ok()) std::abort();
    return r.rulebase;
  }();
  return rb;
}

// A clean request from `from` to `to` (the conformance case clean-production), as a draft
// body: without id and created. `marker` goes into every free-text field, a name and a
// selector, so that tests can look for it where it must not appear.
inline boost::json::object DraftBody(const std::string& from, const std::string& to,
                                     const std::string& marker = "Zebulon-Quux") {
  boost::json::value c =
      boost::json::parse(ReadFile(SourceDir() + "/tests/conformance/cases/clean-production.json"));
  boost::json::object r = c.as_object()["request"].as_object();
  r.erase("id");
  r.erase("created");
  r["requesting_state"] = from;
  r["requested_state"] = to;
  r["facts"] = "Facts about " + marker + " and the phishing kit.";
  r["purpose"] = "Identify " + marker + ".";
  r["measures"].as_array()[0].as_object()["selectors"].as_array()[0].as_object()["value"] =
      marker + "@example.net";
  r["persons"].as_array()[0].as_object()["name"] = marker;
  r["requesting_authority"].as_object()["name"] = "Office of " + marker;
  return r;
}

// A request whose screening refuses (a speech offence that XA refuses).
inline boost::json::object RefusedDraftBody(const std::string& from, const std::string& to) {
  boost::json::object r = DraftBody(from, to);
  r["offences"].as_array()[0].as_object()["category"] = "false_information";
  return r;
}

// One node's service over DIR/comity.db (or over `database_url`, a SQLite path or PostgreSQL URL
// that Database::Connect takes), with its log created and the shipped profiles.
struct ServiceFixture {
  TempDir dir;
  TestClock clock;
  crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  std::string state;
  std::string url;
  std::unique_ptr<NodeService> service;

  explicit ServiceFixture(
      std::string state_code, Disclosure disclosure = Disclosure::kEmbargo,
      std::function<std::unique_ptr<tlog::LogStorage>(std::unique_ptr<tlog::LogStorage>)> wrap =
          nullptr,
      std::string database_url = "", std::function<Status()> before_sync = nullptr,
      std::function<void(ServiceOptions&)> tweak = nullptr)
      : state(std::move(state_code)),
        url(database_url.empty() ? dir / "comity.db" : std::move(database_url)) {
    {
      auto db = store::Database::Connect(url).value();
      auto st = store::NodeStore::Open(db.get()).value();
      auto ls = OpenNodeLogStorage(db.get()).value();
      auto log = tlog::Log::Create(ls.get(), "comity/" + state + "/test", key,
                                   {.disclose_immediately = disclosure == Disclosure::kImmediate})
                     .value();
      if (!LoadProfileDirectory(*st, SourceDir() + "/profiles", "test", 1).ok()) std::abort();
    }
    ServiceOptions o;
    o.state = StateCode{{state[0], state[1]}};
    o.rules = RuleBase();
    o.log_key = key;
    o.open_database = [u = url] { return store::Database::Connect(u); };
    o.open_log_storage = OpenNodeLogStorage;
    o.clock = &clock;
    o.disclosure = disclosure;
    o.readers = 2;
    o.wrap_writer_log_storage = std::move(wrap);
    o.before_sync = std::move(before_sync);
    if (tweak) tweak(o);
    auto svc = NodeService::Open(std::move(o));
    if (!svc.ok()) {
      std::fprintf(stderr, "service: %s\n", svc.status().ToString().c_str());
      std::abort();
    }
    service = std::move(*svc);
  }

  // A second connection for inspecting the database directly.
  std::unique_ptr<store::Database> OpenDb() { return store::Database::Connect(url).value(); }
};

inline Principal Person(const std::string& name, Role role) { return Principal{name, role, false}; }

}  // namespace comity::node::testing

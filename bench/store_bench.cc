// Durable commit throughput of the node's storage on SQLite and PostgreSQL: what one writer
// achieves per second, and the latency of each commit.
//
//   store_bench [--postgres URL] [--commits N] [--requests N] [--threads N]
//
// Two measurements per backend, each on a fresh database (PostgreSQL: a new schema, dropped
// afterwards), with durable commits (SQLite synchronous=FULL; PostgreSQL synchronous_commit=on —
// give it a cluster with fsync on, see bench/store_durable.sh):
//   commit   one transaction = a row in a table of the caller + one log entry appended with
//            tlog::Log::AppendInTransaction (the node's pattern), N times, one connection;
//   service  NodeService::CreateDraft + Act(submit) of a clean request (pre-screening with the
//            rule base, two transactions with their events, log leaves, private records and an
//            outbox message), N requests from T threads.
// Prints one line per measurement: backend, what, count, per second, p50 / p99 latency (ms), and
// for PostgreSQL the round trips to the server per commit / per request. Not named bench_*:
// scripts/bench.sh runs those without arguments; bench/store_durable.sh runs this one with a
// durable PostgreSQL cluster.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "node/node.h"
#include "node/service.h"
#include "store/database.h"
#include "store/log_storage.h"
#include "store/postgres_database.h"
#include "tests/node/test_util.h"
#include "tlog/log.h"

namespace comity {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string postgres;
  int commits = 2000;
  int requests = 1000;
  int threads = 4;
};

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "store_bench: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

template <typename T>
T OrDie(StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what, v.status());
  return std::move(v).value();
}

// A fresh database: a SQLite file in `dir`, or a new schema on the PostgreSQL server.
class Target {
 public:
  Target(const std::string& backend, const std::string& pg_url, const std::string& dir)
      : backend_(backend) {
    if (backend == "sqlite") {
      url_ = dir + "/bench-" + std::to_string(++counter_) + ".db";
      return;
    }
    admin_ = OrDie(store::Database::Connect(pg_url), "connect");
    schema_ = "bench_" + std::to_string(std::random_device{}()) + "_" + std::to_string(++counter_);
    if (Status st = admin_->Exec("CREATE SCHEMA " + schema_); !st.ok()) Die("schema", st);
    url_ = pg_url + (pg_url.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema_;
  }
  ~Target() {
    if (admin_) admin_->Exec("DROP SCHEMA " + schema_ + " CASCADE").IgnoreError();
  }
  const std::string& url() const { return url_; }

 private:
  static inline int counter_ = 0;
  std::string backend_, url_, schema_;
  std::unique_ptr<store::Database> admin_;
};

struct Latencies {
  std::vector<double> ms;
  double Percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  }
};

void Report(const std::string& backend, const std::string& what, size_t count, double seconds,
            Latencies& lat, const std::string& extra) {
  std::printf("%-10s %-8s %6zu in %6.2f s  %8.1f /s  p50 %6.2f ms  p99 %6.2f ms%s\n",
              backend.c_str(), what.c_str(), count, seconds, static_cast<double>(count) / seconds,
              lat.Percentile(0.5), lat.Percentile(0.99), extra.c_str());
  std::fflush(stdout);
}

void BenchCommit(const std::string& backend, const Args& a, const std::string& dir) {
  Target target(backend, a.postgres, dir);
  auto db = OrDie(store::Database::Connect(target.url()), "open");
  auto storage = OrDie(store::SqlLogStorage::Open(db.get()), "log storage");
  const auto key = crypto::Ed25519PrivateKey::Generate();
  auto log = OrDie(tlog::Log::Create(storage.get(), "bench.example/log", key, {}), "log");
  if (Status st = db->Exec("CREATE TABLE events (id BIGINT PRIMARY KEY, body TEXT NOT NULL)");
      !st.ok()) {
    Die("table", st);
  }
  auto* pg = dynamic_cast<store::PostgresDatabase*>(db.get());
  const uint64_t trips_before = pg ? pg->round_trips() : 0;
  Latencies lat;
  const std::string body(300, 'x');  // about a leaf's size
  const auto start = Clock::now();
  for (int i = 0; i < a.commits; ++i) {
    const auto t0 = Clock::now();
    Status st = db->Begin();
    if (st.ok()) {
      auto ins = db->Prepare("INSERT INTO events (id, body) VALUES (?, ?)");
      st = ins.status();
      if (st.ok()) st = (*ins)->Bind(i, body);
      if (st.ok()) st = (*ins)->Run();
    }
    if (st.ok()) st = log->AppendInTransaction(std::vector<std::string>{body}).status();
    if (st.ok()) st = db->Commit();
    if (!st.ok()) Die("commit", st);
    lat.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::string extra;
  if (pg) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %.1f round trips/commit",
                  static_cast<double>(pg->round_trips() - trips_before) / a.commits);
    extra = buf;
  }
  Report(backend, "commit", a.commits, seconds, lat, extra);
}

void BenchService(const std::string& backend, const Args& a, const std::string& dir) {
  using node::testing::SourceDir;
  Target target(backend, a.postgres, dir);
  const std::string url = target.url();
  const auto key = crypto::Ed25519PrivateKey::Generate();
  {
    auto db = OrDie(store::Database::Connect(url), "open");
    auto st = OrDie(store::NodeStore::Open(db.get()), "node store");
    auto ls = OrDie(node::OpenNodeLogStorage(db.get()), "log storage");
    OrDie(tlog::Log::Create(ls.get(), "comity/XA/bench", key, {}), "log");
    OrDie(node::LoadProfileDirectory(*st, SourceDir() + "/profiles", "bench", 1), "profiles");
    if (Status s = st->InsertPeer({"XB", "http://127.0.0.1:9", "sk", "bk", std::nullopt, 1, 1});
        !s.ok()) {
      Die("peer", s);
    }
  }
  node::ServiceOptions o;
  o.state = StateCode{{'X', 'A'}};
  o.rules = node::testing::RuleBase();
  o.log_key = key;
  o.open_database = [url] { return store::Database::Connect(url); };
  o.open_log_storage = node::OpenNodeLogStorage;
  o.readers = a.threads;
  auto svc = OrDie(node::NodeService::Open(std::move(o)), "service");
  const node::Principal officer{"officer", node::Role::kOfficer, false};
  const std::string body = boost::json::serialize(node::testing::DraftBody("XA", "XB"));
  std::atomic<int> next{0};
  std::vector<Latencies> lat(a.threads);
  const uint64_t trips_before = store::PostgresDatabase::TotalRoundTrips();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      while (next.fetch_add(1) < a.requests) {
        const auto t0 = Clock::now();
        auto d = svc->CreateDraft(officer, body);
        if (!d.ok()) Die("draft", d.status());
        node::ActionInput submit;
        submit.action = workflow::Action::kSubmit;
        auto s = svc->Act(officer, d->record.id, submit);
        if (!s.ok()) Die("submit", s.status());
        lat[t].ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Latencies all;
  for (auto& l : lat) all.ms.insert(all.ms.end(), l.ms.begin(), l.ms.end());
  std::string extra = "  draft + submit, " + std::to_string(a.threads) + " threads";
  if (backend == "postgresql") {
    char buf[64];
    std::snprintf(buf, sizeof buf, ", %.1f round trips/request",
                  static_cast<double>(store::PostgresDatabase::TotalRoundTrips() - trips_before) /
                      a.requests);
    extra += buf;
  }
  Report(backend, "service", all.ms.size(), seconds, all, extra);
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "store_bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--postgres") {
      a.postgres = value();
    } else if (arg == "--commits") {
      a.commits = std::atoi(value().c_str());
    } else if (arg == "--requests") {
      a.requests = std::atoi(value().c_str());
    } else if (arg == "--threads") {
      a.threads = std::atoi(value().c_str());
    } else {
      std::fprintf(stderr,
                   "usage: store_bench [--postgres URL] [--commits N] [--requests N] "
                   "[--threads N]\n");
      return 2;
    }
  }
  if (a.commits < 1 || a.requests < 1 || a.threads < 1 || a.threads > 64) {
    std::fprintf(stderr, "store_bench: counts must be positive, threads 1..64\n");
    return 2;
  }
  node::testing::TempDir dir;
  std::vector<std::string> backends = {"sqlite"};
  if (!a.postgres.empty()) backends.push_back("postgresql");
  for (const std::string& b : backends) BenchCommit(b, a, dir.path());
  for (const std::string& b : backends) BenchService(b, a, dir.path());
  return 0;
}

}  // namespace
}  // namespace comity

int main(int argc, char** argv) { return comity::Main(argc, argv); }

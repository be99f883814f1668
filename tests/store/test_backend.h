// Databases for the storage test suite, one per test: a fresh SQLite file in a temporary
// directory, or a fresh schema in the throw-away PostgreSQL cluster that the ctest fixture
// `postgres` starts (tests/store/pg-fixture.sh, scripts/pg-tmp.sh).
//
//   TestDatabase t(Dialect::kPostgres);
//   ASSERT_TRUE(t.status().ok()) << t.status().ToString();  // no cluster: a clear failure
//   auto db = t.Connect().value();                          // as often as needed
//
// The cluster's URL comes from $COMITY_PG_URL, else from the file the fixture writes
// (<build>/pg-tmp/env). Without either, PostgreSQL tests fail and say how to get a cluster;
// they never skip silently.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "store/database.h"

namespace comity::store::testing {

inline std::string FixtureEnvFile() { return std::string(COMITY_BINARY_DIR) + "/pg-tmp/env"; }

// The test cluster's URL (a database the tests may create schemas in).
inline StatusOr<std::string> PostgresBaseUrl() {
  if (const char* url = std::getenv("COMITY_PG_URL"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  std::ifstream in(FixtureEnvFile());
  std::string line;
  constexpr std::string_view kPrefix = "export COMITY_PG_URL=";
  while (std::getline(in, line)) {
    if (line.rfind(kPrefix, 0) == 0) return line.substr(kPrefix.size());
  }
  return FailedPreconditionError(
      "the PostgreSQL tests need a cluster: run them through ctest (the `postgres` fixture "
      "starts one with scripts/pg-tmp.sh; `apt-get install postgresql` or `make deps` if that "
      "fails), or set COMITY_PG_URL, e.g. eval \"$(scripts/pg-tmp.sh start /tmp/pg)\"; neither "
      "$COMITY_PG_URL nor " +
      FixtureEnvFile() + " was found");
}

inline std::string RandomName(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return prefix + buf;
}

// `base` with search_path set to `schema` for every session (libpq's options parameter).
inline std::string WithSchema(const std::string& base, const std::string& schema) {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

// `url` with `password` in its userinfo (the test cluster trusts local connections and ignores
// it), to check that a password never reaches a message or a log.
inline std::string WithPassword(const std::string& url, const std::string& password) {
  const size_t start = url.find("://");
  const size_t at = url.find('@');
  if (start == std::string::npos || at == std::string::npos) return url;
  return url.substr(0, at) + ":" + password + url.substr(at);
}

// A new, empty schema in the test cluster; dropped again on destruction.
class PostgresSchema {
 public:
  explicit PostgresSchema(const std::string& prefix = "t_") {
    auto base = PostgresBaseUrl();
    if (!base.ok()) {
      status_ = base.status();
      return;
    }
    auto admin = Database::Connect(*base);
    if (!admin.ok()) {
      status_ = admin.status().WithContext("the PostgreSQL test cluster is not reachable");
      return;
    }
    name_ = RandomName(prefix);
    status_ = (*admin)->Exec("CREATE SCHEMA " + name_);
    base_ = *base;
    url_ = WithSchema(*base, name_);
  }
  ~PostgresSchema() {
    if (!status_.ok() || name_.empty()) return;
    auto admin = Database::Connect(base_, {.busy_timeout = std::chrono::milliseconds(2000)});
    if (admin.ok()) (*admin)->Exec("DROP SCHEMA " + name_ + " CASCADE").IgnoreError();
  }
  PostgresSchema(const PostgresSchema&) = delete;
  PostgresSchema& operator=(const PostgresSchema&) = delete;

  const Status& status() const { return status_; }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  Status status_;
  std::string base_, url_, name_;
};

// A fresh database of either dialect.
class TestDatabase {
 public:
  explicit TestDatabase(Dialect dialect) : dialect_(dialect) {
    if (dialect == Dialect::kPostgres) {
      pg_ = std::make_unique<PostgresSchema>();
      url_ = pg_->url();
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "comity-store-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    url_ = dir_ + "/comity.db";
  }
  ~TestDatabase() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Dialect dialect() const { return dialect_; }
  Status status() const { return pg_ ? pg_->status() : OkStatus(); }
  // The SQLite file's path or the PostgreSQL URL: what Database::Connect takes.
  const std::string& url() const { return url_; }
  StatusOr<std::unique_ptr<Database>> Connect(const DatabaseOptions& o = {}) const {
    return Database::Connect(url_, o);
  }

 private:
  Dialect dialect_;
  std::unique_ptr<PostgresSchema> pg_;
  std::string dir_;
  std::string url_;
};

}  // namespace comity::store::testing

namespace comity::store {
// Names the backend in gtest's messages.
inline void PrintTo(Dialect d, std::ostream* os) { *os << DialectName(d); }
}  // namespace comity::store

namespace comity::store::testing {

inline std::string DialectParamName(const ::testing::TestParamInfo<Dialect>& info) {
  return std::string(info.param == Dialect::kPostgres ? "postgresql" : "sqlite");
}

}  // namespace comity::store::testing

#include "store/postgres_database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>

namespace comity::store {
namespace {

std::atomic<uint64_t> total_round_trips{0};

// Type OIDs (server/catalog/pg_type_d.h; stable across PostgreSQL versions).
constexpr Oid kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23,
              kText = 25, kOid = 26, kFloat4 = 700, kFloat8 = 701, kUnknown = 705, kBpchar = 1042,
              kVarchar = 1043, kNumeric = 1700;

bool IsTextType(Oid t) {
  return t == kText || t == kVarchar || t == kBpchar || t == kName || t == kChar || t == kUnknown;
}
bool IsSupported(Oid t) {
  return IsTextType(t) || t == kBool || t == kBytea || t == kInt8 || t == kInt2 || t == kInt4 ||
         t == kOid || t == kFloat4 || t == kFloat8 || t == kNumeric;
}

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

uint64_t BigEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// PostgreSQL's binary NUMERIC: ndigits, weight, sign, dscale (int16 each), then base-10000
// digits; value = sum(digit[i] * 10000^(weight - i)).
struct Numeric {
  bool ok = false;
  bool negative = false;
  bool special = false;  // NaN or ±infinity
  int weight = 0;
  int dscale = 0;
  std::vector<int> digits;
};

Numeric DecodeNumeric(const char* p, int len) {
  Numeric n;
  if (len < 8) return n;
  const int ndigits = static_cast<int16_t>(BigEndian(p, 2));
  n.weight = static_cast<int16_t>(BigEndian(p + 2, 2));
  const uint16_t sign = static_cast<uint16_t>(BigEndian(p + 4, 2));
  n.dscale = static_cast<int16_t>(BigEndian(p + 6, 2));
  if (ndigits < 0 || len != 8 + 2 * ndigits) return n;
  n.negative = sign == 0x4000;
  n.special = sign != 0 && sign != 0x4000;
  for (int i = 0; i < ndigits; ++i)
    n.digits.push_back(static_cast<int>(BigEndian(p + 8 + 2 * i, 2)));
  n.ok = true;
  return n;
}

int64_t NumericToInt64(const Numeric& n) {
  if (!n.ok || n.special) return 0;
  __int128 acc = 0;
  const __int128 limit = static_cast<__int128>(INT64_MAX) + 1;
  for (int e = n.weight; e >= 0; --e) {
    const int i = n.weight - e;
    acc = acc * 10000 + (i < static_cast<int>(n.digits.size()) ? n.digits[i] : 0);
    if (acc > limit) acc = limit;  // saturate
  }
  if (n.negative) return acc >= limit ? INT64_MIN : static_cast<int64_t>(-acc);
  return acc >= limit ? INT64_MAX : static_cast<int64_t>(acc);
}

double NumericToDouble(const Numeric& n) {
  if (!n.ok) return 0;
  if (n.special) return std::nan("");
  double v = 0;
  for (size_t i = 0; i < n.digits.size(); ++i) {
    v += n.digits[i] * std::pow(10000.0, n.weight - static_cast<int>(i));
  }
  return n.negative ? -v : v;
}

std::string FormatDouble(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

// Percent-decoding, for the password as libpq will see it.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The password in a URL's userinfo or password= parameter, as written and decoded.
std::vector<std::string> UrlSecrets(std::string_view url) {
  std::vector<std::string> out;
  const std::string redacted = RedactUrl(url);
  // RedactUrl puts "***" exactly where a password was: recover the originals by alignment.
  size_t u = 0, r = 0;
  while (u < url.size() && r < redacted.size()) {
    if (redacted.compare(r, 3, "***") == 0 && url.compare(u, 3, "***") != 0) {
      const size_t rest = redacted.size() - (r + 3);  // what follows the password
      const size_t len = url.size() - u - rest;
      const std::string secret(url.substr(u, len));
      if (!secret.empty()) {
        out.push_back(secret);
        const std::string decoded = PercentDecode(secret);
        if (decoded != secret) out.push_back(decoded);
      }
      u += len;
      r += 3;
      continue;
    }
    ++u;
    ++r;
  }
  return out;
}

void IgnoreNotice(void*, const char*) {}

// Opens a connection, or returns libpq's message (still to be scrubbed) in *error.
PGconn* OpenConnection(const std::string& url, const DatabaseOptions& o, std::string* error) {
  const std::string timeout = std::to_string(std::max<int64_t>(1, o.connect_timeout.count()));
  // Values before "dbname" are defaults the URL may override; those after it are forced.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {timeout.c_str(), "comity", url.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    *error = "out of memory";
    return nullptr;
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = PQerrorMessage(conn);
    PQfinish(conn);
    return nullptr;
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  return conn;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// --- placeholders --------------------------------------------------------------------------

StatusOr<std::string> TranslatePlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  size_t i = 0;
  auto unterminated = [&](std::string_view what) {
    return InvalidArgumentError("SQL has an unterminated " + std::string(what) + ": " +
                                std::string(sql.substr(0, 80)));
  };
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    size_t end = i + 1;  // one past what is copied unchanged
    if (c == '\'') {
      const bool escapes =
          i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !IsIdentChar(sql[i - 2]));
      size_t j = i + 1;
      while (true) {
        if (j >= sql.size()) return unterminated("string");
        if (escapes && sql[j] == '\\') {
          j += 2;
          continue;
        }
        if (sql[j] == '\'') {
          if (j + 1 < sql.size() && sql[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      end = j + 1;
    } else if (c == '"') {
      size_t j = i + 1;
      while (true) {
        if (j >= sql.size()) return unterminated("quoted identifier");
        if (sql[j] == '"') {
          if (j + 1 < sql.size() && sql[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      end = j + 1;
    } else if (c == '-' && next == '-') {
      const size_t nl = sql.find('\n', i);
      end = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (c == '/' && next == '*') {
      int depth = 0;
      size_t j = i;
      while (true) {
        if (j + 1 >= sql.size()) return unterminated("comment");
        if (sql[j] == '/' && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && sql[j + 1] == '/') {
          j += 2;
          if (--depth == 0) break;
        } else {
          ++j;
        }
      }
      end = j;
    } else if (c == '$' && (i == 0 || !IsIdentChar(sql[i - 1])) &&
               (next == '$' || (IsIdentChar(next) && !(next >= '0' && next <= '9')))) {
      size_t j = i + 1;
      while (j < sql.size() && sql[j] != '$' && IsIdentChar(sql[j])) ++j;
      if (j < sql.size() && sql[j] == '$') {
        const std::string_view tag = sql.substr(i, j + 1 - i);
        const size_t close = sql.find(tag, j + 1);
        if (close == std::string_view::npos) return unterminated("dollar-quoted string");
        end = close + tag.size();
      }
    } else if (c == '?') {
      if (next >= '0' && next <= '9') {
        return InvalidArgumentError(
            "numbered parameters (?" + std::string(1, next) +
            "...) are not portable; write ? in order: " + std::string(sql.substr(0, 80)));
      }
      out += '$';
      out += std::to_string(++n);
      ++i;
      continue;
    }
    out.append(sql.substr(i, end - i));
    i = end;
  }
  *count = n;
  return out;
}

// --- PostgresStatement ---------------------------------------------------------------------

PostgresStatement::PostgresStatement(PostgresDatabase* db, std::string name, std::string sql,
                                     std::string what, int params)
    : db_(db),
      name_(std::move(name)),
      sql_(std::move(sql)),
      what_(std::move(what)),
      params_(params),
      values_(params),
      null_(params, 1),
      formats_(params, 0) {}

PostgresStatement::~PostgresStatement() { PQclear(result_); }

Status PostgresStatement::Slot(int i) {
  if (i < 1 || i > params_) {
    return InternalError(db_->path() + ": " + what_ + ": parameter " + std::to_string(i) +
                         " does not exist (the statement has " + std::to_string(params_) + ")");
  }
  return OkStatus();
}

Status PostgresStatement::BindInt64(int i, int64_t v) {
  RETURN_IF_ERROR(Slot(i));
  values_[i - 1] = std::to_string(v);
  null_[i - 1] = 0;
  formats_[i - 1] = 0;
  return OkStatus();
}

Status PostgresStatement::BindDouble(int i, double v) {
  RETURN_IF_ERROR(Slot(i));
  values_[i - 1] = FormatDouble(v);
  null_[i - 1] = 0;
  formats_[i - 1] = 0;
  return OkStatus();
}

Status PostgresStatement::BindText(int i, std::string_view v) {
  RETURN_IF_ERROR(Slot(i));
  if (v.find('\0') != std::string_view::npos) {
    return InvalidArgumentError(db_->path() + ": " + what_ + ": text parameter " +
                                std::to_string(i) +
                                " holds a NUL byte, which PostgreSQL text cannot store");
  }
  values_[i - 1].assign(v);  // text format: libpq reads up to the terminating NUL
  null_[i - 1] = 0;
  formats_[i - 1] = 0;
  return OkStatus();
}

Status PostgresStatement::BindBlob(int i, std::string_view v) {
  RETURN_IF_ERROR(Slot(i));
  values_[i - 1].assign(v);
  null_[i - 1] = 0;
  formats_[i - 1] = 1;  // binary: BYTEA as raw bytes
  return OkStatus();
}

Status PostgresStatement::BindNull(int i) {
  RETURN_IF_ERROR(Slot(i));
  values_[i - 1].clear();
  null_[i - 1] = 1;
  return OkStatus();
}

Status PostgresStatement::Send() {
  PGconn* conn = db_->conn_;
  if (generation_ != db_->generation_) {
    // A new connection: prepare again, in the same round trip as the execution.
    if (PQsendPrepare(conn, name_.c_str(), sql_.c_str(), params_, nullptr) == 0) {
      return db_->ConnectionLost(what_);
    }
    db_->pending_.push_back({"prepare " + what_});
    generation_ = db_->generation_;
  }
  std::vector<const char*> values(params_);
  std::vector<int> lengths(params_);
  for (int i = 0; i < params_; ++i) {
    values[i] = null_[i] ? nullptr : values_[i].c_str();
    lengths[i] = static_cast<int>(values_[i].size());
  }
  if (PQsendQueryPrepared(conn, name_.c_str(), params_, values.data(), lengths.data(),
                          formats_.data(), /*resultFormat=*/1) == 0) {
    return db_->ConnectionLost(what_);
  }
  return OkStatus();
}

StatusOr<bool> PostgresStatement::Step() {
  if (row_ >= 0) return ++row_ < rows_;
  if (sent_ && result_ == nullptr && db_->IsPending(this)) {
    // Sent by SendRead() and not answered yet: this round trip takes it and whatever is queued.
    Status flushed = db_->Flush();
    if (!flushed.ok()) {
      sent_ = false;
      return flushed;
    }
  }
  if (sent_ && result_ != nullptr) {
    sent_ = false;  // its answer, read with an earlier round trip
  } else {
    // (A read whose answer was lost — an earlier statement of its round trip failed — runs
    // again: in a failed transaction that fails too.)
    sent_ = false;
    PQclear(result_);
    result_ = nullptr;
    RETURN_IF_ERROR(db_->EnsureConnected());
    RETURN_IF_ERROR(Send());
    db_->pending_.push_back({what_, this, true});
    RETURN_IF_ERROR(db_->Flush());
  }
  if (result_ == nullptr) return InternalError(db_->path() + ": " + what_ + ": no result");
  RETURN_IF_ERROR(CheckColumns());
  rows_ = PQntuples(result_);
  row_ = 0;
  return rows_ > 0;
}

Status PostgresStatement::Run() {
  PQclear(result_);
  result_ = nullptr;
  Status st = db_->EnsureConnected();
  if (st.ok()) st = Send();
  if (st.ok()) {
    db_->pending_.push_back({what_, nullptr, true});
    st = db_->Flush();
  }
  Reset();
  return st;
}

Status PostgresStatement::RunPipelined() {
  if (db_->tx_ == PostgresDatabase::Tx::kNone || PQstatus(db_->conn_) != CONNECTION_OK) {
    return Run();
  }
  PQclear(result_);
  result_ = nullptr;
  Status st = Send();  // libpq copies the parameters into its output buffer
  if (st.ok()) {
    db_->pending_.push_back({what_, nullptr, true});
    if (db_->pending_.size() >= PostgresDatabase::kMaxPipelined) st = db_->Flush();
  }
  Reset();
  return st;
}

Status PostgresStatement::SendRead() {
  if (db_->tx_ != PostgresDatabase::Tx::kWrite || PQstatus(db_->conn_) != CONNECTION_OK) {
    return OkStatus();  // Step() runs it
  }
  if (sent_ && db_->IsPending(this)) RETURN_IF_ERROR(db_->Flush());  // the last one first
  PQclear(result_);
  result_ = nullptr;
  rows_ = 0;
  row_ = -1;
  RETURN_IF_ERROR(Send());
  db_->pending_.push_back({what_, this, true});
  if (!sent_) db_->sent_reads_.push_back(this);
  sent_ = true;
  if (db_->pending_.size() >= PostgresDatabase::kMaxPipelined) return db_->Flush();
  return OkStatus();
}

Status PostgresStatement::RunPipelinedExpecting(int64_t rows, std::string mismatch) {
  if (db_->tx_ == PostgresDatabase::Tx::kNone || PQstatus(db_->conn_) != CONNECTION_OK) {
    RETURN_IF_ERROR(Run());
    if (db_->changes() != rows) return AbortedError(db_->path() + ": " + mismatch);
    return OkStatus();
  }
  PQclear(result_);
  result_ = nullptr;
  Status st = Send();
  if (st.ok()) {
    PostgresDatabase::Pending p{what_, nullptr, true};
    p.expect_changes = rows;
    p.mismatch = std::move(mismatch);
    db_->pending_.push_back(std::move(p));
    if (db_->pending_.size() >= PostgresDatabase::kMaxPipelined) st = db_->Flush();
  }
  Reset();
  return st;
}

Status PostgresStatement::CheckColumns() const {
  const int n = PQnfields(result_);
  for (int c = 0; c < n; ++c) {
    const Oid t = PQftype(result_, c);
    if (!IsSupported(t)) {
      return InternalError(db_->path() + ": " + what_ + ": column " + std::to_string(c) + " (" +
                           PQfname(result_, c) + ") has PostgreSQL type " + std::to_string(t) +
                           ", which the store does not read; CAST it to TEXT, BIGINT, DOUBLE "
                           "PRECISION or BYTEA");
    }
  }
  return OkStatus();
}

const char* PostgresStatement::Value(int col) const {
  if (result_ == nullptr || row_ < 0 || row_ >= rows_ || col < 0 || col >= PQnfields(result_)) {
    return nullptr;
  }
  if (PQgetisnull(result_, row_, col)) return nullptr;
  return PQgetvalue(result_, row_, col);
}

int PostgresStatement::Length(int col) const { return PQgetlength(result_, row_, col); }

unsigned PostgresStatement::Type(int col) const { return PQftype(result_, col); }

int64_t PostgresStatement::Int64(int col) const {
  const char* p = Value(col);
  if (p == nullptr) return 0;
  const int len = Length(col);
  switch (Type(col)) {
    case kInt8:
      return len == 8 ? static_cast<int64_t>(BigEndian(p, 8)) : 0;
    case kInt4:
      return len == 4 ? static_cast<int32_t>(BigEndian(p, 4)) : 0;
    case kInt2:
      return len == 2 ? static_cast<int16_t>(BigEndian(p, 2)) : 0;
    case kOid:
      return len == 4 ? static_cast<int64_t>(BigEndian(p, 4)) : 0;
    case kBool:
      return len == 1 && p[0] != 0 ? 1 : 0;
    case kFloat4:
    case kFloat8: {
      const double d = Double(col);
      if (!(d > -9.2233720368547758e18 && d < 9.2233720368547758e18)) return 0;
      return static_cast<int64_t>(d);
    }
    case kNumeric:
      return NumericToInt64(DecodeNumeric(p, len));
    default: {
      int64_t v = 0;
      std::from_chars(p, p + len, v);  // like SQLite: text that is no number reads as 0
      return v;
    }
  }
}

double PostgresStatement::Double(int col) const {
  const char* p = Value(col);
  if (p == nullptr) return 0;
  const int len = Length(col);
  switch (Type(col)) {
    case kFloat8: {
      if (len != 8) return 0;
      const uint64_t bits = BigEndian(p, 8);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    case kFloat4: {
      if (len != 4) return 0;
      const uint32_t bits = static_cast<uint32_t>(BigEndian(p, 4));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return f;
    }
    case kNumeric:
      return NumericToDouble(DecodeNumeric(p, len));
    case kInt8:
    case kInt4:
    case kInt2:
    case kOid:
    case kBool:
      return static_cast<double>(Int64(col));
    default: {
      double v = 0;
      std::from_chars(p, p + len, v);
      return v;
    }
  }
}

std::string PostgresStatement::Text(int col) const {
  const char* p = Value(col);
  if (p == nullptr) return std::string();
  const Oid t = Type(col);
  if (IsTextType(t) || t == kBytea) return std::string(p, Length(col));
  if (t == kFloat4 || t == kFloat8) return FormatDouble(Double(col));
  if (t == kNumeric) {
    const Numeric n = DecodeNumeric(p, Length(col));
    if (n.ok && !n.special && n.dscale == 0) return std::to_string(NumericToInt64(n));
    return FormatDouble(NumericToDouble(n));
  }
  return std::to_string(Int64(col));
}

std::string PostgresStatement::BlobValue(int col) const { return Text(col); }

bool PostgresStatement::IsNull(int col) const { return Value(col) == nullptr; }

void PostgresStatement::Reset() {
  if (!sent_) {  // a read sent and not stepped keeps its answer for Step()
    PQclear(result_);
    result_ = nullptr;
  }
  rows_ = 0;
  row_ = -1;
  for (int i = 0; i < params_; ++i) {
    values_[i].clear();
    null_[i] = 1;
    formats_[i] = 0;
  }
}

// --- PostgresDatabase ----------------------------------------------------------------------

PostgresDatabase::PostgresDatabase(pg_conn* conn, std::string url, std::string name,
                                   const DatabaseOptions& o)
    : Database(std::move(name)), conn_(conn), url_(std::move(url)), options_(o) {
  secrets_ = UrlSecrets(url_);
}

PostgresDatabase::~PostgresDatabase() {
  statements_.clear();
  PQfinish(conn_);  // an open transaction is rolled back by the server
}

std::string PostgresDatabase::Scrub(std::string message) const {
  for (const std::string& s : secrets_) {
    for (size_t at = message.find(s); at != std::string::npos; at = message.find(s, at + 3)) {
      message.replace(at, s.size(), "***");
    }
  }
  return Trim(std::move(message));
}

StatusOr<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Connect(
    std::string_view url, const DatabaseOptions& options) {
  if (!IsPostgresUrl(url)) {
    return InvalidArgumentError("\"" + RedactUrl(url) + "\" is not a postgresql:// URL");
  }
  std::string error;
  PGconn* conn = OpenConnection(std::string(url), options, &error);
  // Constructed even on failure, to scrub the password from libpq's message.
  std::unique_ptr<PostgresDatabase> db(
      new PostgresDatabase(conn, std::string(url), RedactUrl(url), options));
  if (conn == nullptr) {
    return UnavailableError(db->path() + ": cannot connect: " + db->Scrub(error));
  }
  RETURN_IF_ERROR(db->SetUpSession());
  return db;
}

Status PostgresDatabase::SetUpSession() {
  const std::string sql =
      std::string("SET synchronous_commit = ") + (options_.durable ? "on" : "off") +
      "; SET lock_timeout = " + std::to_string(std::max<int64_t>(1, options_.busy_timeout.count()));
  PGresult* r = PQexec(conn_, sql.c_str());
  CountRoundTrip();
  Status st;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) st = ResultError(r, "session settings");
  PQclear(r);
  RETURN_IF_ERROR(st);
  if (PQenterPipelineMode(conn_) == 0) {
    return InternalError(path() + ": cannot enter pipeline mode: " + Scrub(PQerrorMessage(conn_)));
  }
  return OkStatus();
}

Status PostgresDatabase::EnsureConnected() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return OkStatus();
  if (tx_ != Tx::kNone) {
    return UnavailableError(path() +
                            ": the connection was lost during the transaction; roll back and "
                            "retry the transaction");
  }
  std::string error;
  PGconn* conn = OpenConnection(url_, options_, &error);
  if (conn == nullptr) return UnavailableError(path() + ": cannot reconnect: " + Scrub(error));
  PQfinish(conn_);
  conn_ = conn;
  ++generation_;  // every statement prepares itself again
  pending_.clear();
  ForgetSentReads();
  return SetUpSession();
}

Status PostgresDatabase::ConnectionLost(std::string_view what) {
  const std::string msg = Scrub(PQerrorMessage(conn_));
  pending_.clear();
  ForgetSentReads();
  // Whatever libpq still holds (commands sent, results unread) cannot be matched any more: the
  // connection is dropped and the next statement outside a transaction opens a new one.
  PQfinish(conn_);
  conn_ = nullptr;
  // Keep tx_: the caller must Rollback() before the connection is re-established, so that the
  // rest of a transaction never runs outside it.
  return UnavailableError(path() + ": " + std::string(what) + ": connection lost: " +
                          (msg.empty() ? "server closed the connection" : msg));
}

Status PostgresDatabase::ResultError(pg_result* r, std::string_view what) const {
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string msg = Scrub(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    return UnavailableError(path() + ": " + std::string(what) + ": connection lost: " + msg);
  }
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  // The primary message only: DETAIL may quote the values of a row (a token hash, a name).
  std::string text = primary != nullptr ? primary
                     : r != nullptr     ? PQresultErrorMessage(r)
                                        : PQerrorMessage(conn_);
  const std::string code = state != nullptr ? state : "";
  std::string msg = path() + ": " + std::string(what) + ": " + Scrub(std::move(text));
  if (!code.empty()) msg += " (SQLSTATE " + code + ")";
  const std::string_view cls = std::string_view(code).substr(0, std::min<size_t>(2, code.size()));
  if (code == "23505") return AlreadyExistsError(msg);
  if (cls == "23") return FailedPreconditionError(msg);
  if (cls == "40" || code == "55P03") {
    return AbortedError(msg + "; retry the transaction");
  }
  if (code == "25P02") return AbortedError(msg + "; roll back");
  if (cls == "08" || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300") {
    return UnavailableError(msg);
  }
  if (cls == "53") return ResourceExhaustedError(msg);
  if (code == "42501" || cls == "28") return PermissionDeniedError(msg);
  if (code == "57014") return Status(StatusCode::kDeadlineExceeded, msg);
  if (code == "XX001" || code == "XX002") return DataLossError(msg);
  return InternalError(msg);
}

Status PostgresDatabase::SendCommand(const char* sql, std::string what) {
  if (PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 1) == 0) {
    return ConnectionLost(what);
  }
  pending_.push_back({std::move(what)});
  return OkStatus();
}

Status PostgresDatabase::Flush() {
  if (pending_.empty()) return OkStatus();
  std::deque<Pending> batch;
  batch.swap(pending_);
  if (PQpipelineSync(conn_) == 0) return ConnectionLost(batch.back().what);
  CountRoundTrip();
  Status first;
  for (const Pending& p : batch) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) return ConnectionLost(p.what);
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      if (p.command_tag_changes) CountChanges(r);
      if (p.expect_changes >= 0 && std::atoll(PQcmdTuples(r)) != p.expect_changes && first.ok()) {
        first = AbortedError(path() + ": " + p.mismatch);
      }
      if (std::strcmp(PQcmdStatus(r), "ROLLBACK") == 0 && p.what == "COMMIT" && first.ok()) {
        first = AbortedError(path() +
                             ": COMMIT: the transaction had failed and was rolled back; retry it");
      }
      if (p.keep != nullptr && first.ok()) {
        p.keep->result_ = r;
      } else {
        PQclear(r);
      }
    } else if (status == PGRES_PIPELINE_ABORTED) {
      PQclear(r);
      if (first.ok()) first = AbortedError(path() + ": " + p.what + ": skipped after an error");
    } else {
      Status err = ResultError(r, p.what);
      PQclear(r);
      if (PQstatus(conn_) != CONNECTION_OK) return err;
      if (first.ok()) first = std::move(err);
    }
    // Each command's results end with a null.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!synced) return ConnectionLost("sync");
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      tx_ = Tx::kNone;
      ForgetSentReads();
      break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
      if (tx_ == Tx::kNone) tx_ = Tx::kWrite;  // opened by Exec("BEGIN ...")
      break;
    default:
      break;
  }
  return first;
}

bool PostgresDatabase::IsPending(const PostgresStatement* st) const {
  for (const Pending& p : pending_) {
    if (p.keep == st) return true;
  }
  return false;
}

void PostgresDatabase::ForgetSentReads() {
  for (PostgresStatement* st : sent_reads_) {
    if (!st->sent_) continue;
    st->sent_ = false;
    if (st->row_ < 0) {  // not being read
      PQclear(st->result_);
      st->result_ = nullptr;
    }
  }
  sent_reads_.clear();
}

void PostgresDatabase::CountChanges(pg_result* r) {
  // Like SQLite's changes(): rows written by the last INSERT, UPDATE or DELETE; other commands
  // (SELECT, DDL) leave it alone.
  const std::string_view tag = PQcmdStatus(r);
  if (tag.starts_with("INSERT ") || tag.starts_with("UPDATE ") || tag.starts_with("DELETE ") ||
      tag.starts_with("MERGE ")) {
    changes_ = std::atoll(PQcmdTuples(r));
  }
}

void PostgresDatabase::CountRoundTrip() {
  ++round_trips_;
  total_round_trips.fetch_add(1, std::memory_order_relaxed);
}

uint64_t PostgresDatabase::TotalRoundTrips() {
  return total_round_trips.load(std::memory_order_relaxed);
}

int PostgresDatabase::backend_pid() const { return PQbackendPID(conn_); }

Status PostgresDatabase::Exec(std::string_view sql) {
  RETURN_IF_ERROR(EnsureConnected());
  RETURN_IF_ERROR(Flush());
  const std::string what(sql.substr(0, 80));
  // Several statements in one string need the simple query protocol, outside pipeline mode.
  if (PQexitPipelineMode(conn_) == 0) {
    return InternalError(path() + ": cannot leave pipeline mode: " + Scrub(PQerrorMessage(conn_)));
  }
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  CountRoundTrip();
  Status st;
  const ExecStatusType status = PQresultStatus(r);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    CountChanges(r);
  } else {
    st = ResultError(r, what);
  }
  PQclear(r);
  if (PQstatus(conn_) != CONNECTION_OK) return st.ok() ? ConnectionLost(what) : st;
  if (PQenterPipelineMode(conn_) == 0) {
    return InternalError(path() + ": cannot enter pipeline mode: " + Scrub(PQerrorMessage(conn_)));
  }
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      tx_ = Tx::kNone;
      ForgetSentReads();
      break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
      if (tx_ == Tx::kNone) tx_ = Tx::kWrite;
      break;
    default:
      break;
  }
  return st;
}

StatusOr<Statement*> PostgresDatabase::Prepare(std::string_view sql) {
  const std::string key(sql);
  auto it = statements_.find(key);
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  int params = 0;
  ASSIGN_OR_RETURN(std::string translated, TranslatePlaceholders(sql, &params));
  RETURN_IF_ERROR(EnsureConnected());
  const std::string name = "comity_" + std::to_string(++next_name_);
  const std::string what(sql.substr(0, 80));
  if (PQsendPrepare(conn_, name.c_str(), translated.c_str(), params, nullptr) == 0) {
    return ConnectionLost(what);
  }
  pending_.push_back({what});
  RETURN_IF_ERROR(Flush());
  auto owned = std::unique_ptr<PostgresStatement>(
      new PostgresStatement(this, name, std::move(translated), what, params));
  owned->generation_ = generation_;
  Statement* out = owned.get();
  statements_.emplace(key, std::move(owned));
  return out;
}

Status PostgresDatabase::Begin() {
  if (tx_ != Tx::kNone) return FailedPreconditionError(path() + ": a transaction is already open");
  RETURN_IF_ERROR(EnsureConnected());
  // Sent with the transaction's first statement.
  RETURN_IF_ERROR(SendCommand("BEGIN ISOLATION LEVEL READ COMMITTED", "BEGIN"));
  tx_ = Tx::kWrite;
  return OkStatus();
}

Status PostgresDatabase::BeginRead() {
  if (tx_ != Tx::kNone) return FailedPreconditionError(path() + ": a transaction is already open");
  RETURN_IF_ERROR(EnsureConnected());
  RETURN_IF_ERROR(
      SendCommand("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "BEGIN READ ONLY"));
  tx_ = Tx::kRead;
  return OkStatus();
}

Status PostgresDatabase::Commit() {
  if (tx_ == Tx::kNone) return FailedPreconditionError(path() + ": no transaction to commit");
  RETURN_IF_ERROR(EnsureConnected());
  RETURN_IF_ERROR(SendCommand("COMMIT", "COMMIT"));
  return Flush();
}

Status PostgresDatabase::Savepoint(std::string_view name) {
  if (tx_ != Tx::kWrite)
    return FailedPreconditionError(path() + ": a savepoint needs a transaction");
  RETURN_IF_ERROR(EnsureConnected());
  return SendCommand(("SAVEPOINT " + std::string(name)).c_str(), "SAVEPOINT");
}

Status PostgresDatabase::ReleaseSavepoint(std::string_view name) {
  RETURN_IF_ERROR(EnsureConnected());
  // The first error of the writes since the savepoint, if any — a server's, or a pipelined
  // update that changed the wrong number of rows — while the savepoint is still there to roll
  // back to. The RELEASE itself goes with the next round trip.
  RETURN_IF_ERROR(Flush());
  return SendCommand(("RELEASE SAVEPOINT " + std::string(name)).c_str(), "RELEASE");
}

Status PostgresDatabase::RollbackToSavepoint(std::string_view name) {
  RETURN_IF_ERROR(EnsureConnected());
  RETURN_IF_ERROR(
      SendCommand(("ROLLBACK TO SAVEPOINT " + std::string(name)).c_str(), "ROLLBACK TO"));
  RETURN_IF_ERROR(SendCommand(("RELEASE SAVEPOINT " + std::string(name)).c_str(), "RELEASE"));
  return Flush();
}

Status PostgresDatabase::Rollback() {
  if (tx_ == Tx::kNone && pending_.empty()) return OkStatus();
  if (PQstatus(conn_) != CONNECTION_OK) {
    // The server has already rolled back what the lost connection had begun.
    pending_.clear();
    ForgetSentReads();
    tx_ = Tx::kNone;
    return OkStatus();
  }
  Status st = SendCommand("ROLLBACK", "ROLLBACK");
  if (st.ok()) Flush().IgnoreError();  // an error of a pipelined statement is moot now
  if (st.ok() && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    // The ROLLBACK was skipped after an error in the same round trip: send it again.
    st = SendCommand("ROLLBACK", "ROLLBACK");
    if (st.ok()) st = Flush();
  }
  tx_ = Tx::kNone;
  return PQstatus(conn_) == CONNECTION_OK ? st : OkStatus();
}

}  // namespace comity::store

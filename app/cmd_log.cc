// `comity log`: create, append to, publish, prove and verify a transparency log; witness others.
//
//   comity log init DIR --origin ORIGIN [--disclose manual|immediate]   prints the vkey
//   comity log append DIR [--batch N] [--progress]      entries from stdin, one per line
//   comity log checkpoint DIR                            the latest signed checkpoint
//   comity log export DIR OUT                            the static C2SP layout
//   comity log verify DIR_OR_URL --vkey VKEY [--old FILE] [--ca-file PEM]
//   comity log prove DIR (--index I | --from M) [--size N]   JSON proof
//   comity log disclose DIR (--size N | --all)           release entry bundles
//   comity log entries DIR [--from A] [--count N] [--base64]
//   comity log vkey DIR
//   comity log witness init WDIR --name NAME             prints the witness's cosigner vkey
//   comity log witness cosign WDIR --vkey VKEY DIR_OR_URL
//   comity log witness evidence WDIR                     recorded split views, as JSON
//
// A log directory holds `comity.db` (SQLite: the log's tables, shared with the node's own when
// DIR is a node's data directory) and `log.key` (its Ed25519 key, mode 0600). A node whose
// comity.toml names a PostgreSQL database keeps its log there: the commands that read or extend
// an existing log find it through DIR/comity.toml. A key file
// protected by a passphrase is unlocked with $COMITY_KEY_PASSPHRASE (also used by `init` to
// create a protected key). Entries are appended in batches, each one transaction with one
// fsync, acknowledged (with --progress: "committed <size>" on stderr) only once durable.
// Exit codes: 0 success, 2 invalid input (bad vkey, origin, entry too large), 1 otherwise
// (including a log that fails verification).
#include <poll.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/command.h"
#include "core/time.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/config.h"
#include "store/database.h"
#include "store/log_storage.h"
#include "tlog/log.h"
#include "tlog/publish.h"
#include "tlog/tiled_tree.h"
#include "tlog/verify.h"
#include "tlog/witness.h"

namespace comity::app {
namespace {

namespace fs = std::filesystem;

// Where things live inside a log (or node data) directory. Documented in docs/formats/log.md.
constexpr const char* kDatabaseFile = "comity.db";
constexpr const char* kNodeConfigFile = "comity.toml";  // a node's: may name a PostgreSQL database
constexpr const char* kLogKeyFile = "log.key";
constexpr const char* kWitnessDatabaseFile = "witness.db";
constexpr const char* kWitnessKeyFile = "witness.key";
constexpr const char* kPassphraseEnv = "COMITY_KEY_PASSPHRASE";

constexpr size_t kDefaultBatch = 10000;
constexpr size_t kMaxBatchBytesCli = 64 << 20;
constexpr int kIdleFlushMs = 50;

std::string Join(const std::string& dir, const char* name) { return dir + "/" + name; }

// --- keys ---------------------------------------------------------------------------------------

std::optional<std::string> PassphraseFromEnv() {
  const char* p = std::getenv(kPassphraseEnv);
  if (p == nullptr || *p == '\0') return std::nullopt;
  return std::string(p);
}

StatusOr<crypto::Ed25519PrivateKey> LoadKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, crypto::ReadSecretKeyFile(path));
  auto passphrase = PassphraseFromEnv();
  auto material = crypto::DecodeSecretKey(
      text, passphrase ? std::optional<std::string_view>(*passphrase) : std::nullopt);
  if (!material.ok()) {
    if (material.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError(path + " is protected by a passphrase; set " + kPassphraseEnv);
    }
    return material.status().WithContext(path);
  }
  if (material->type != crypto::SecretKeyType::kEd25519) {
    return InvalidArgumentError(path + " does not hold an Ed25519 key");
  }
  return crypto::Ed25519PrivateKey::FromSeed(material->key);
}

StatusOr<crypto::Ed25519PrivateKey> CreateKey(const std::string& path) {
  crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  std::string text;
  if (auto passphrase = PassphraseFromEnv()) {
    ASSIGN_OR_RETURN(text, crypto::EncodeSecretKeyWithPassphrase(
                               crypto::SecretKeyType::kEd25519, key.seed(), *passphrase,
                               crypto::Argon2idParams::Moderate()));
  } else {
    text = crypto::EncodeSecretKey(crypto::SecretKeyType::kEd25519, key.seed());
  }
  RETURN_IF_ERROR(crypto::WriteSecretKeyFile(path, text));
  return key;
}

// --- the log directory --------------------------------------------------------------------------

struct LogDir {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::SqlLogStorage> storage;
};

// A node's data directory without comity.db: its log is in the PostgreSQL database that its
// configuration names (nullopt when it names none).
StatusOr<std::optional<LogDir>> OpenNodePostgresLog(const std::string& dir) {
  if (!fs::exists(Join(dir, kNodeConfigFile))) return std::optional<LogDir>();
  ASSIGN_OR_RETURN(node::NodeConfig config, node::LoadConfig(Join(dir, kNodeConfigFile)));
  if (!config.is_postgresql()) return std::optional<LogDir>();
  LogDir out;
  ASSIGN_OR_RETURN(out.db, store::Database::Connect(config.database));
  ASSIGN_OR_RETURN(out.storage, store::SqlLogStorage::Open(out.db.get()));
  return std::optional<LogDir>(std::move(out));
}

StatusOr<LogDir> OpenLogDir(const std::string& dir, bool create) {
  const std::string path = Join(dir, kDatabaseFile);
  if (!create && !fs::exists(path)) {
    ASSIGN_OR_RETURN(std::optional<LogDir> pg, OpenNodePostgresLog(dir));
    if (pg) return std::move(*pg);
  }
  if (!create && !fs::exists(path)) {
    return NotFoundError("no log in " + dir + " (expected " + path +
                         "; create one with `comity log init`)");
  }
  LogDir out;
  // A large WAL between checkpoints: bulk appends then cost about one fsync per batch.
  ASSIGN_OR_RETURN(
      out.db, store::Database::Open(path, {.create = create, .wal_autocheckpoint_pages = 16384}));
  ASSIGN_OR_RETURN(out.storage, store::SqlLogStorage::Open(out.db.get()));
  return out;
}

StatusOr<tlog::LogState> ReadState(LogDir& d, const std::string& dir) {
  ASSIGN_OR_RETURN(std::optional<tlog::LogState> state, d.storage->ReadState());
  if (!state) return NotFoundError("no log has been created in " + dir);
  return *state;
}

StatusOr<std::unique_ptr<tlog::Log>> OpenWriter(LogDir& d, const std::string& dir) {
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key, LoadKey(Join(dir, kLogKeyFile)));
  return tlog::Log::Open(d.storage.get(), std::move(key));
}

// --- HTTP(S) fetching ---------------------------------------------------------------------------

// Fetches log resources below a base URL over one kept-alive HTTP/1.1 or HTTPS connection.
// Certificates are checked against the system's roots, or --ca-file. Thread-compatible.
class HttpFetcher : public tlog::TileFetcher {
 public:
  static StatusOr<std::unique_ptr<HttpFetcher>> Create(const std::string& url,
                                                       const std::string& ca_file) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return InvalidArgumentError("invalid URL \"" + url + "\"");
    std::unique_ptr<HttpFetcher> f(new HttpFetcher());
    f->tls_ = parsed->scheme() == "https";
    if (!f->tls_ && parsed->scheme() != "http") {
      return InvalidArgumentError("unsupported URL scheme in \"" + url + "\" (http or https)");
    }
    f->host_ = std::string(parsed->host());
    f->port_ = parsed->has_port() ? std::string(parsed->port()) : (f->tls_ ? "443" : "80");
    f->prefix_ = std::string(parsed->encoded_path());
    if (f->prefix_.empty() || f->prefix_.back() != '/') f->prefix_ += '/';
    if (f->tls_) {
      boost::system::error_code ec;
      if (ca_file.empty()) {
        f->ssl_.set_default_verify_paths(ec);
      } else {
        f->ssl_.load_verify_file(ca_file, ec);
      }
      if (ec) return InvalidArgumentError("cannot load CA certificates: " + ec.message());
      f->ssl_.set_verify_mode(boost::asio::ssl::verify_peer);
    }
    return f;
  }

  StatusOr<std::string> Fetch(const std::string& path) override {
    const size_t limit = tlog::MaxResourceBytes(path);
    if (limit == 0) return InvalidArgumentError("\"" + path + "\" is not a log resource path");
    // One retry on a fresh connection: a kept-alive connection may have been closed.
    auto r = FetchOnce(path, limit);
    if (!r.ok() && r.status().code() == StatusCode::kUnavailable) {
      Disconnect();
      r = FetchOnce(path, limit);
    }
    return r;
  }

 private:
  HttpFetcher() : ssl_(boost::asio::ssl::context::tls_client) {}

  void Disconnect() {
    ssl_stream_.reset();
    tcp_.reset();
  }

  template <typename Op>
  boost::system::error_code RunWithDeadline(Op&& op) {
    boost::system::error_code result = boost::asio::error::would_block;
    op([&](boost::system::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  Status Connect() {
    boost::asio::ip::tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) return UnavailableError("cannot resolve " + host_ + ": " + ec.message());
    tcp_ = std::make_unique<boost::beast::tcp_stream>(ioc_);
    tcp_->expires_after(kTimeout);
    ec = RunWithDeadline([&](auto h) { tcp_->async_connect(endpoints, h); });
    if (ec)
      return UnavailableError("cannot connect to " + host_ + ":" + port_ + ": " + ec.message());
    if (tls_) {
      ssl_stream_ =
          std::make_unique<boost::beast::ssl_stream<boost::beast::tcp_stream&>>(*tcp_, ssl_);
      if (!SSL_set_tlsext_host_name(ssl_stream_->native_handle(), host_.c_str())) {
        return UnavailableError("TLS: cannot set the server name");
      }
      ssl_stream_->set_verify_callback(boost::asio::ssl::host_name_verification(host_));
      tcp_->expires_after(kTimeout);
      ec = RunWithDeadline(
          [&](auto h) { ssl_stream_->async_handshake(boost::asio::ssl::stream_base::client, h); });
      if (ec) return UnavailableError("TLS handshake with " + host_ + " failed: " + ec.message());
    }
    return OkStatus();
  }

  StatusOr<std::string> FetchOnce(const std::string& path, size_t limit) {
    namespace http = boost::beast::http;
    if (!tcp_) RETURN_IF_ERROR(Connect());
    http::request<http::empty_body> req{http::verb::get, prefix_ + path, 11};
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "comity-log-verify");
    req.keep_alive(true);
    http::response_parser<http::string_body> parser;
    parser.body_limit(limit);
    boost::beast::flat_buffer buffer;
    tcp_->expires_after(kTimeout);
    boost::system::error_code ec;
    if (tls_) {
      ec = RunWithDeadline([&](auto h) { http::async_write(*ssl_stream_, req, h); });
      if (!ec)
        ec = RunWithDeadline([&](auto h) { http::async_read(*ssl_stream_, buffer, parser, h); });
    } else {
      ec = RunWithDeadline([&](auto h) { http::async_write(*tcp_, req, h); });
      if (!ec) ec = RunWithDeadline([&](auto h) { http::async_read(*tcp_, buffer, parser, h); });
    }
    const std::string where =
        (tls_ ? "https://" : "http://") + host_ + ":" + port_ + prefix_ + path;
    if (ec == http::error::body_limit) {
      Disconnect();
      return DataLossError(where + " is larger than a resource of its kind can be");
    }
    if (ec) {
      Disconnect();
      return UnavailableError(where + ": " + ec.message());
    }
    auto res = parser.release();
    if (!res.keep_alive()) Disconnect();
    if (res.result() == http::status::not_found) return NotFoundError(where + ": 404 Not Found");
    if (res.result() != http::status::ok) {
      return UnavailableError(where + ": HTTP " + std::to_string(res.result_int()));
    }
    return std::move(res.body());
  }

  static constexpr std::chrono::seconds kTimeout{30};
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ssl_;
  bool tls_ = false;
  std::string host_, port_, prefix_;
  std::unique_ptr<boost::beast::tcp_stream> tcp_;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream&>> ssl_stream_;
};

// A log to read: an http(s) URL, a directory in the static layout, or a log directory
// (comity.db), read through the same publisher an HTTP server would use.
struct Source {
  std::unique_ptr<tlog::TileFetcher> fetcher;
  std::optional<LogDir> dir;
  std::unique_ptr<tlog::LogPublisher> publisher;
};

StatusOr<Source> OpenSource(const std::string& where, const std::string& ca_file) {
  Source s;
  if (where.find("://") != std::string::npos) {
    ASSIGN_OR_RETURN(s.fetcher, HttpFetcher::Create(where, ca_file));
    return s;
  }
  if (fs::exists(Join(where, "checkpoint"))) {
    s.fetcher = std::make_unique<tlog::DirectoryFetcher>(where);
    return s;
  }
  if (fs::exists(Join(where, kDatabaseFile)) || fs::exists(Join(where, kNodeConfigFile))) {
    ASSIGN_OR_RETURN(LogDir d, OpenLogDir(where, false));
    s.dir = std::move(d);
    s.publisher = std::make_unique<tlog::LogPublisher>(s.dir->storage.get());
    s.fetcher = std::make_unique<tlog::PublisherFetcher>(s.publisher.get());
    return s;
  }
  return NotFoundError(where +
                       " is neither a URL, a directory with a `checkpoint`, nor a log "
                       "directory with " +
                       kDatabaseFile);
}

StatusOr<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::string data(limit + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > limit)
    return InvalidArgumentError(path + " is larger than " + std::to_string(limit) + " bytes");
  return data;
}

// --- stdin ------------------------------------------------------------------------------------

// Reads lines from a file descriptor with a bounded buffer; reports when input pauses so that
// a pending batch can be committed without waiting for more.
class LineSource {
 public:
  enum class Event { kLine, kIdle, kEof, kTooLong, kError };
  explicit LineSource(int fd) : fd_(fd), buf_(1 << 20) {}

  // `idle_ms` < 0 waits indefinitely.
  Event Next(std::string* line, int idle_ms) {
    while (true) {
      const char* begin = buf_.data() + start_;
      const char* nl = static_cast<const char*>(std::memchr(begin, '\n', end_ - start_));
      if (nl != nullptr) {
        line->assign(begin, nl);
        start_ += static_cast<size_t>(nl - begin) + 1;
        ++line_number_;
        if (line->size() > tlog::kMaxEntryBytes) return Event::kTooLong;
        return Event::kLine;
      }
      if (end_ - start_ > tlog::kMaxEntryBytes) {
        ++line_number_;
        return Event::kTooLong;
      }
      if (eof_) {
        if (start_ == end_) return Event::kEof;
        line->assign(begin, end_ - start_);
        start_ = end_;
        ++line_number_;
        return Event::kLine;
      }
      if (start_ > 0) {
        std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      if (idle_ms >= 0) {
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, idle_ms);
        if (r == 0) return Event::kIdle;
        if (r < 0 && errno != EINTR) return Event::kError;
      }
      const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Event::kError;
      }
      if (n == 0) eof_ = true;
      end_ += static_cast<size_t>(n);
    }
  }
  uint64_t line_number() const { return line_number_; }

 private:
  int fd_;
  std::vector<char> buf_;
  size_t start_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t line_number_ = 0;
};

// --- commands -----------------------------------------------------------------------------------

struct Options {
  std::string dir, out, origin, disclose = "manual", vkey, old, ca_file, name, where, key_file;
  size_t batch = kDefaultBatch;
  bool progress = false, all = false, base64 = false;
  std::optional<uint64_t> index, from, size, count;
};

Options& Opts() {
  static Options o;
  return o;
}

Status RunInit(const Options& o) {
  RETURN_IF_ERROR(tlog::ValidateOrigin(o.origin));
  if (o.disclose != "manual" && o.disclose != "immediate") {
    return InvalidArgumentError("--disclose must be `manual` or `immediate`");
  }
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return UnavailableError("cannot create " + o.dir + ": " + ec.message());
  const std::string key_path = Join(o.dir, kLogKeyFile);
  if (fs::exists(key_path)) {
    return AlreadyExistsError(o.dir + " already holds a log key (" + key_path + ")");
  }
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, true));
  ASSIGN_OR_RETURN(std::optional<tlog::LogState> existing, d.storage->ReadState());
  if (existing) {
    return AlreadyExistsError(o.dir + " already holds the log \"" + existing->origin + "\"");
  }
  // Undisclosed entries are not public yet: keep the database private to its owner (SQLite gives
  // its -wal and -shm files the same mode).
  fs::permissions(Join(o.dir, kDatabaseFile), fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace, ec);
  crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  if (o.key_file.empty()) {
    ASSIGN_OR_RETURN(key, CreateKey(key_path));
  } else {
    // Adopt an existing key (a node's, or when moving a log): copied as it is, once it is known
    // to decode.
    auto adopted = LoadKey(o.key_file);
    if (!adopted.ok()) {
      return InvalidArgumentError(o.key_file +
                                  " is not a valid key file: " + adopted.status().message());
    }
    key = *adopted;
    ASSIGN_OR_RETURN(std::string text, crypto::ReadSecretKeyFile(o.key_file));
    RETURN_IF_ERROR(crypto::WriteSecretKeyFile(key_path, text));
  }
  auto log = tlog::Log::Create(d.storage.get(), o.origin, std::move(key),
                               {.disclose_immediately = o.disclose == "immediate"});
  if (!log.ok()) {
    fs::remove(key_path, ec);
    return log.status();
  }
  std::printf("%s\n", (*log)->VerifierKey().c_str());
  return OkStatus();
}

Status RunAppend(const Options& o) {
  if (o.batch == 0 || o.batch > tlog::kMaxBatchEntries) {
    return InvalidArgumentError("--batch must be between 1 and " +
                                std::to_string(tlog::kMaxBatchEntries));
  }
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  ASSIGN_OR_RETURN(std::unique_ptr<tlog::Log> log, OpenWriter(d, o.dir));
  ASSIGN_OR_RETURN(tlog::LogState state, log->State());
  uint64_t size = state.size;
  std::vector<std::string> batch;
  batch.reserve(o.batch);
  size_t batch_bytes = 0;
  auto commit = [&]() -> Status {
    if (batch.empty()) return OkStatus();
    ASSIGN_OR_RETURN(tlog::AppendResult r, log->Append(batch));
    size = r.size;
    batch.clear();
    batch_bytes = 0;
    // Acknowledged only now that the batch is durable.
    if (o.progress) std::fprintf(stderr, "committed %llu\n", static_cast<unsigned long long>(size));
    return OkStatus();
  };
  LineSource in(STDIN_FILENO);
  std::string line;
  while (true) {
    const auto ev = in.Next(&line, batch.empty() ? -1 : kIdleFlushMs);
    if (ev == LineSource::Event::kLine) {
      batch_bytes += line.size();
      batch.push_back(std::move(line));
      if (batch.size() >= o.batch || batch_bytes >= kMaxBatchBytesCli) RETURN_IF_ERROR(commit());
      continue;
    }
    if (ev == LineSource::Event::kIdle) {
      RETURN_IF_ERROR(commit());
      continue;
    }
    RETURN_IF_ERROR(commit());
    if (ev == LineSource::Event::kTooLong) {
      return InvalidArgumentError(
          "stdin line " + std::to_string(in.line_number()) + ": entry of more than " +
          std::to_string(tlog::kMaxEntryBytes) +
          " bytes (C2SP entry bundles use 16-bit lengths); the lines before it were appended "
          "(log size " +
          std::to_string(size) + ")");
    }
    if (ev == LineSource::Event::kError) {
      return UnavailableError(std::string("reading stdin: ") + std::strerror(errno) +
                              " (log size " + std::to_string(size) + ")");
    }
    break;  // kEof
  }
  std::printf("%llu\n", static_cast<unsigned long long>(size));
  return OkStatus();
}

Status RunCheckpoint(const Options& o) {
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  ASSIGN_OR_RETURN(tlog::LogState state, ReadState(d, o.dir));
  std::fwrite(state.checkpoint.data(), 1, state.checkpoint.size(), stdout);
  return OkStatus();
}

Status RunExport(const Options& o) {
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  tlog::LogPublisher pub(d.storage.get());
  ASSIGN_OR_RETURN(tlog::ExportStats s, pub.Export(o.out));
  std::printf("exported %llu tiles and %llu entry bundles (size %llu, %llu disclosed) to %s\n",
              static_cast<unsigned long long>(s.tiles), static_cast<unsigned long long>(s.bundles),
              static_cast<unsigned long long>(s.size), static_cast<unsigned long long>(s.disclosed),
              o.out.c_str());
  return OkStatus();
}

Status RunVerify(const Options& o) {
  ASSIGN_OR_RETURN(std::unique_ptr<tlog::NoteVerifier> key, tlog::ParseVerifierKey(o.vkey));
  tlog::VerifyOptions options;
  if (!o.old.empty()) {
    ASSIGN_OR_RETURN(options.old_checkpoint, ReadSmallFile(o.old, tlog::kMaxNoteBytes));
  }
  ASSIGN_OR_RETURN(Source src, OpenSource(o.where, o.ca_file));
  ASSIGN_OR_RETURN(tlog::VerifyReport report, tlog::VerifyLog(*src.fetcher, *key, options));
  std::printf("%s\n", report.Summary().c_str());
  return OkStatus();
}

boost::json::array HashArray(const std::vector<tlog::Hash>& hashes) {
  boost::json::array a;
  for (const tlog::Hash& h : hashes) a.emplace_back(tlog::HashToBase64(h));
  return a;
}

Status RunProve(const Options& o) {
  if (o.index.has_value() == o.from.has_value()) {
    return InvalidArgumentError("give exactly one of --index (inclusion) or --from (consistency)");
  }
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  ASSIGN_OR_RETURN(tlog::LogState state, ReadState(d, o.dir));
  const uint64_t size = o.size.value_or(state.size);
  if (size > state.size) {
    return InvalidArgumentError("--size " + std::to_string(size) +
                                " is beyond the committed size " + std::to_string(state.size));
  }
  tlog::StorageTileReader reader(d.storage.get());
  ASSIGN_OR_RETURN(auto tree, tlog::TiledTree::Open(reader, state.size, state.root, nullptr));
  ASSIGN_OR_RETURN(tlog::Hash root, tree->PrefixRoot(size));
  ASSIGN_OR_RETURN(std::optional<std::string> checkpoint, d.storage->ReadCheckpoint(size));
  boost::json::object out;
  out["origin"] = state.origin;
  out["size"] = size;
  out["root"] = tlog::HashToBase64(root);
  if (checkpoint) {
    out["checkpoint"] = *checkpoint;
  } else {
    out["checkpoint"] = nullptr;
  }
  if (o.index) {
    const uint64_t i = *o.index;
    if (i >= size) {
      return InvalidArgumentError("--index " + std::to_string(i) + " is not below the size " +
                                  std::to_string(size));
    }
    ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof, tlog::InclusionProof(*tree, i, size));
    ASSIGN_OR_RETURN(tlog::Hash leaf, tree->StoredHash(0, i));
    out["index"] = i;
    out["leaf_hash"] = tlog::HashToBase64(leaf);
    out["inclusion_proof"] = HashArray(proof);
    if (i < state.disclosed) {
      ASSIGN_OR_RETURN(std::vector<std::string> entry, d.storage->ReadEntries(i, 1));
      out["entry"] = crypto::Base64Encode(entry[0]);
    }
  } else {
    const uint64_t m = *o.from;
    if (m > size) {
      return InvalidArgumentError("--from " + std::to_string(m) + " is beyond the size " +
                                  std::to_string(size));
    }
    ASSIGN_OR_RETURN(std::vector<tlog::Hash> proof, tlog::ConsistencyProof(*tree, m, size));
    ASSIGN_OR_RETURN(tlog::Hash old_root, tree->PrefixRoot(m));
    out["old_size"] = m;
    out["old_root"] = tlog::HashToBase64(old_root);
    out["consistency_proof"] = HashArray(proof);
  }
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return OkStatus();
}

Status RunDisclose(const Options& o) {
  if (o.all == o.size.has_value())
    return InvalidArgumentError("give exactly one of --size or --all");
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  ASSIGN_OR_RETURN(std::unique_ptr<tlog::Log> log, OpenWriter(d, o.dir));
  ASSIGN_OR_RETURN(tlog::LogState state, log->State());
  RETURN_IF_ERROR(log->Disclose(o.all ? state.size : *o.size));
  ASSIGN_OR_RETURN(state, log->State());
  std::printf("%llu\n", static_cast<unsigned long long>(state.disclosed));
  return OkStatus();
}

Status RunEntries(const Options& o) {
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  ASSIGN_OR_RETURN(tlog::LogState state, ReadState(d, o.dir));
  const uint64_t from = o.from.value_or(0);
  if (from > state.size) {
    return InvalidArgumentError("--from " + std::to_string(from) + " is beyond the size " +
                                std::to_string(state.size));
  }
  const uint64_t count = std::min(o.count.value_or(state.size - from), state.size - from);
  for (uint64_t i = from; i < from + count;) {
    const uint64_t n = std::min<uint64_t>(count - (i - from), 4096);
    ASSIGN_OR_RETURN(std::vector<std::string> entries, d.storage->ReadEntries(i, n));
    for (const std::string& e : entries) {
      if (o.base64) {
        std::printf("%s\n", crypto::Base64Encode(e).c_str());
      } else {
        if (e.find('\n') != std::string::npos) {
          return FailedPreconditionError("entry " + std::to_string(i) +
                                         " contains a newline; use --base64");
        }
        std::fwrite(e.data(), 1, e.size(), stdout);
        std::fputc('\n', stdout);
      }
      ++i;
    }
  }
  return OkStatus();
}

Status RunVkey(const Options& o) {
  ASSIGN_OR_RETURN(LogDir d, OpenLogDir(o.dir, false));
  ASSIGN_OR_RETURN(std::unique_ptr<tlog::Log> log, OpenWriter(d, o.dir));
  std::printf("%s\n", log->VerifierKey().c_str());
  return OkStatus();
}

// --- witness ----------------------------------------------------------------------------------

struct WitnessDir {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::SqlWitnessStore> store;
};

StatusOr<WitnessDir> OpenWitnessDir(const std::string& dir, bool create) {
  const std::string path = Join(dir, kWitnessDatabaseFile);
  if (!create && !fs::exists(path)) {
    return NotFoundError("no witness in " + dir + " (create one with `comity log witness init`)");
  }
  WitnessDir w;
  ASSIGN_OR_RETURN(w.db, store::Database::Open(path, {.create = create}));
  ASSIGN_OR_RETURN(w.store, store::SqlWitnessStore::Open(w.db.get()));
  return w;
}

Status RunWitnessInit(const Options& o) {
  if (!tlog::IsValidKeyName(o.name) || o.name.size() > tlog::kMaxOriginBytes) {
    return InvalidArgumentError("--name \"" + o.name +
                                "\" must be a key name without spaces or '+' (e.g. "
                                "witness.example/w1)");
  }
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return UnavailableError("cannot create " + o.dir + ": " + ec.message());
  ASSIGN_OR_RETURN(WitnessDir w, OpenWitnessDir(o.dir, true));
  ASSIGN_OR_RETURN(std::optional<std::string> name, w.store->Name());
  if (name) return AlreadyExistsError(o.dir + " already holds the witness " + *name);
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key, CreateKey(Join(o.dir, kWitnessKeyFile)));
  RETURN_IF_ERROR(w.store->SetName(o.name));
  tlog::CosignatureV1Signer signer(o.name, std::move(key), SystemClock());
  std::printf("%s\n", signer.VerifierKey().c_str());
  return OkStatus();
}

Status RunWitnessCosign(const Options& o) {
  ASSIGN_OR_RETURN(std::unique_ptr<tlog::NoteVerifier> log_key, tlog::ParseVerifierKey(o.vkey));
  ASSIGN_OR_RETURN(WitnessDir w, OpenWitnessDir(o.dir, false));
  ASSIGN_OR_RETURN(std::optional<std::string> name, w.store->Name());
  if (!name) return FailedPreconditionError(o.dir + " has no witness identity");
  ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key, LoadKey(Join(o.dir, kWitnessKeyFile)));
  tlog::Witness witness(
      w.store.get(),
      std::make_unique<tlog::CosignatureV1Signer>(*name, std::move(key), SystemClock()),
      SystemClock());
  ASSIGN_OR_RETURN(Source src, OpenSource(o.where, o.ca_file));
  ASSIGN_OR_RETURN(std::string note, src.fetcher->Fetch("checkpoint"));
  ASSIGN_OR_RETURN(tlog::WitnessResult r, witness.Observe(note, *log_key, *src.fetcher));
  switch (r.outcome) {
    case tlog::WitnessOutcome::kCosigned:
      std::fwrite(r.cosigned_note.data(), 1, r.cosigned_note.size(), stdout);
      return OkStatus();
    case tlog::WitnessOutcome::kStale:
      std::fprintf(stderr,
                   "comity: the checkpoint of size %llu is older than the one already witnessed "
                   "(%llu) and consistent with it; not cosigned\n",
                   static_cast<unsigned long long>(r.checkpoint.size),
                   static_cast<unsigned long long>(r.previous_size.value_or(0)));
      return OkStatus();
    case tlog::WitnessOutcome::kSplitView:
      std::fprintf(
          stderr,
          "comity: SPLIT VIEW of %s: %s\n--- checkpoint seen before:\n%s--- new checkpoint:\n%s",
          r.checkpoint.origin.c_str(), r.evidence->detail.c_str(), r.evidence->first_note.c_str(),
          r.evidence->second_note.c_str());
      return DataLossError("split view detected; both checkpoints are recorded in " +
                           Join(o.dir, kWitnessDatabaseFile));
    case tlog::WitnessOutcome::kConflict:
      break;  // only from the add-checkpoint protocol
  }
  return InternalError("unknown witness outcome");
}

Status RunWitnessEvidence(const Options& o) {
  ASSIGN_OR_RETURN(WitnessDir w, OpenWitnessDir(o.dir, false));
  ASSIGN_OR_RETURN(std::vector<tlog::SplitViewEvidence> views, w.store->SplitViews());
  boost::json::array out;
  for (const auto& e : views) {
    out.push_back({{"origin", e.origin},
                   {"first_checkpoint", e.first_note},
                   {"second_checkpoint", e.second_note},
                   {"detail", e.detail},
                   {"detected_at", FormatTimestamp({e.detected_at, 0})}});
  }
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return OkStatus();
}

// --- registration -----------------------------------------------------------------------------

void Add(CLI::App* cmd, Context& ctx, Status (*run)(const Options&)) {
  cmd->callback([&ctx, run] {
    Status st = run(Opts());
    ctx.exit_code = st.ok() ? 0 : ReportError(st);
  });
}

template <typename T>
void AddOptional(CLI::App* cmd, const std::string& name, std::optional<T>* out,
                 const std::string& help) {
  cmd->add_option_function<T>(
      name, [out](const T& v) { *out = v; }, help);
}

const Registrar kRegistrar("log", [](CLI::App& app, Context& ctx) {
  Options& o = Opts();
  CLI::App* log =
      app.add_subcommand("log", "The transparency log: append, publish, prove, verify, witness");
  log->require_subcommand(1);

  CLI::App* init = log->add_subcommand("init", "Create a log in DIR and print its verifier key");
  init->add_option("DIR", o.dir, "Log directory (created if missing)")->required();
  init->add_option("--origin", o.origin, "The log's origin, e.g. example.com/log")->required();
  init->add_option("--disclose", o.disclose,
                   "When entry bundles are published: `manual` (comity log disclose) or "
                   "`immediate` (with every append)")
      ->capture_default_str();
  init->add_option("--key", o.key_file, "Use this existing key file instead of a new key");
  Add(init, ctx, RunInit);

  CLI::App* append = log->add_subcommand(
      "append", "Append stdin's lines as entries, durably, and print the new size");
  append->add_option("DIR", o.dir, "Log directory")->required();
  append->add_option("--batch", o.batch, "Entries per transaction (one fsync each)")
      ->capture_default_str();
  append->add_flag("--progress", o.progress,
                   "Print `committed <size>` on stderr as each batch becomes durable");
  Add(append, ctx, RunAppend);

  CLI::App* checkpoint = log->add_subcommand("checkpoint", "Print the latest signed checkpoint");
  checkpoint->add_option("DIR", o.dir, "Log directory")->required();
  Add(checkpoint, ctx, RunCheckpoint);

  CLI::App* exp = log->add_subcommand(
      "export", "Write the static C2SP layout (checkpoint, tiles, disclosed bundles) into OUT");
  exp->add_option("DIR", o.dir, "Log directory")->required();
  exp->add_option("OUT", o.out, "Output directory")->required();
  Add(exp, ctx, RunExport);

  CLI::App* verify = log->add_subcommand(
      "verify", "Verify a published log: signature, every tile, every disclosed bundle");
  verify
      ->add_option("DIR_OR_URL", o.where,
                   "Static layout directory, log directory, or http(s):// URL prefix")
      ->required();
  verify->add_option("--vkey", o.vkey, "The log's verifier key")->required();
  verify->add_option("--old", o.old, "An earlier signed checkpoint that must be a prefix");
  verify->add_option("--ca-file", o.ca_file, "CA certificates (PEM) for https");
  Add(verify, ctx, RunVerify);

  CLI::App* prove = log->add_subcommand("prove", "Print an inclusion or consistency proof (JSON)");
  prove->add_option("DIR", o.dir, "Log directory")->required();
  AddOptional(prove, "--index", &o.index, "Leaf index: inclusion proof");
  AddOptional(prove, "--from", &o.from, "Earlier size: consistency proof");
  AddOptional(prove, "--size", &o.size, "Tree size (default: the committed size)");
  Add(prove, ctx, RunProve);

  CLI::App* disclose = log->add_subcommand(
      "disclose", "Move the disclosed size forward (entry bundles become public)");
  disclose->add_option("DIR", o.dir, "Log directory")->required();
  AddOptional(disclose, "--size", &o.size, "New disclosed size");
  disclose->add_flag("--all", o.all, "Disclose everything committed");
  Add(disclose, ctx, RunDisclose);

  CLI::App* entries = log->add_subcommand("entries", "Print entries, one per line");
  entries->add_option("DIR", o.dir, "Log directory")->required();
  AddOptional(entries, "--from", &o.from, "First index (default 0)");
  AddOptional(entries, "--count", &o.count, "How many (default: all)");
  entries->add_flag("--base64", o.base64, "Print entries in base64");
  Add(entries, ctx, RunEntries);

  CLI::App* vkey = log->add_subcommand("vkey", "Print the log's verifier key");
  vkey->add_option("DIR", o.dir, "Log directory")->required();
  Add(vkey, ctx, RunVkey);

  CLI::App* witness =
      log->add_subcommand("witness", "Witness other logs (cosign, detect split views)");
  witness->require_subcommand(1);
  CLI::App* winit = witness->add_subcommand("init", "Create a witness in WDIR and print its vkey");
  winit->add_option("WDIR", o.dir, "Witness directory (created if missing)")->required();
  winit->add_option("--name", o.name, "The witness's key name, e.g. witness.example/w1")
      ->required();
  Add(winit, ctx, RunWitnessInit);
  CLI::App* cosign = witness->add_subcommand(
      "cosign", "Check a log's latest checkpoint against the last one seen; cosign it");
  cosign->add_option("WDIR", o.dir, "Witness directory")->required();
  cosign->add_option("DIR_OR_URL", o.where, "The log: directory or http(s):// URL")->required();
  cosign->add_option("--vkey", o.vkey, "The log's verifier key")->required();
  cosign->add_option("--ca-file", o.ca_file, "CA certificates (PEM) for https");
  Add(cosign, ctx, RunWitnessCosign);
  CLI::App* evidence = witness->add_subcommand("evidence", "Print recorded split views (JSON)");
  evidence->add_option("WDIR", o.dir, "Witness directory")->required();
  Add(evidence, ctx, RunWitnessEvidence);
});

}  // namespace
}  // namespace comity::app

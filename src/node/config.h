// A node's configuration: DATA/comity.toml (TOML via toml++), every value checked.
//
//   ASSIGN_OR_RETURN(NodeConfig c, LoadConfig(data_dir + "/comity.toml"));
//   c.state.str();            // "XA"
//   c.listen_host, c.listen_port
//   ASSIGN_OR_RETURN(NodeConfig d, DefaultConfig("XA", "main"));
//   RETURN_IF_ERROR(WriteConfig(path, d));          // refuses to overwrite
//
// An unknown table or key, a value of the wrong type or out of its range is kInvalidArgument
// naming the file, the key ("limits.max_body_bytes") and the reason, so that a typo never goes
// unnoticed. The format, with every key and its default, is in docs/api.md ("Configuration").
//
// Thread-safe: plain values and free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/status.h"

namespace comity::node {

inline constexpr std::string_view kConfigFile = "comity.toml";
inline constexpr std::string_view kDatabaseFile = "comity.db";  // the same as `comity log`'s
inline constexpr std::string_view kSignKeyFile = "log.key";     // Ed25519: log, envelopes
inline constexpr std::string_view kBoxKeyFile = "box.key";      // X25519: bodies sealed to us
inline constexpr std::string_view kPassphraseEnv = "COMITY_KEY_PASSPHRASE";
inline constexpr size_t kMaxConfigBytes = 64 << 10;

enum class Disclosure { kEmbargo, kImmediate };

struct NodeConfig {
  // [node]
  StateCode state;
  std::string name = "main";  // [a-z0-9-]{1,32}
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8443;      // 0: any free port (printed by `comity serve`)
  std::string public_url;           // how peers reach us; empty: http://<listen>
  std::string database = "sqlite";  // "sqlite" (DATA/comity.db) or "postgresql://..." (libpq URL)
  std::string rules_dir;            // empty: the shipped rules/

  // [log]
  std::string origin;  // "comity/<state>/<name>" by default
  Disclosure disclosure = Disclosure::kEmbargo;
  int embargo_days = 90;               // 0..3650
  int disclose_interval_seconds = 60;  // how often serve releases entries past the embargo

  // [limits]
  int threads = 16;                     // 1..64
  int64_t max_body_bytes = 1 << 20;     // 1 KiB..64 MiB
  int64_t max_header_bytes = 16 << 10;  // 1 KiB..1 MiB
  int64_t header_timeout_ms = 10'000;   // 100..600000
  int64_t body_timeout_ms = 30'000;     // 100..600000
  int64_t idle_timeout_ms = 60'000;     // 100..3600000
  int max_connections = 512;            // 1..100000
  int page_max = 200;                   // largest page of GET /api/v1/requests (1..1000)

  // [auth]
  int max_failures = 10;            // bad tokens from one address within the window ...
  int failure_window_seconds = 60;  // ... before it is answered 429 ...
  int lockout_seconds = 60;         // ... for this long

  // [federation]
  int retry_initial_seconds = 1;     // first retry delay (then doubling, with jitter)
  int retry_max_seconds = 300;       // longest retry delay
  int delivery_timeout_ms = 10'000;  // one delivery attempt
  int max_clock_skew_seconds = 300;  // accepted |sent - now| of an envelope

  bool is_postgresql() const {
    return database.rfind("postgresql://", 0) == 0 || database.rfind("postgres://", 0) == 0;
  }
  // public_url, or http://<listen_host>:<port> when it is empty.
  std::string PublicUrl(uint16_t bound_port) const;
};

// The defaults for a new node of `state` named `name` (both checked).
StatusOr<NodeConfig> DefaultConfig(std::string_view state, std::string_view name);

// Parses "host:port" (IPv4, a name, or [IPv6]) into the config's listen fields.
Status ParseListen(std::string_view text, NodeConfig* config);
// "sqlite" or a postgresql:// URL; anything else is kInvalidArgument.
Status CheckDatabaseUrl(std::string_view url);

// Reads and checks a configuration (`path` only names the file in errors).
StatusOr<NodeConfig> ParseConfig(std::string_view text, std::string_view path);
StatusOr<NodeConfig> LoadConfig(const std::string& path);

// The TOML text of `config`, with comments.
std::string FormatConfig(const NodeConfig& config);
// Writes the file (mode 0644) atomically; kAlreadyExists if it exists.
Status WriteConfig(const std::string& path, const NodeConfig& config);

// Checks every range and relation (also done by ParseConfig).
Status ValidateConfig(const NodeConfig& config);

}  // namespace comity::node

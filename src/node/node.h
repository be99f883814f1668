// A node's data directory: creating one (`comity init`) and opening one (`comity serve`, the
// offline `comity user|peer` commands).
//
//   ASSIGN_OR_RETURN(InitResult r, InitNode({.data_dir = "/var/lib/comity", .state = "XA",
//                                            .profiles_dir = "profiles"}));
//   std::puts(r.admin_token.c_str());            // printed once, never stored
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Node> node, OpenNode("/var/lib/comity", "rules"));
//   node->service->CreateDraft(...);
//
// Layout of DATA (the log's files are those of `comity log`, so `comity log checkpoint DATA`
// and `comity log export DATA OUT` work on a node):
//   comity.toml   configuration (node/config.h)
//   comity.db     SQLite: the log's tables and the node's (docs/formats/node-store.md)
//   log.key       Ed25519 signing key, mode 0600 (log checkpoints, envelopes, receipts)
//   box.key       X25519 key, mode 0600 (message bodies sealed to this node)
// With database = "postgresql://..." the tables live in PostgreSQL instead of comity.db.
//
// Thread-safe: free functions; a Node's service is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "federation/envelope.h"
#include "node/config.h"
#include "node/identity.h"
#include "node/service.h"
#include "store/database.h"
#include "store/node_store.h"

namespace comity::node {

struct InitOptions {
  std::string data_dir;
  std::string state;
  std::string name = "main";
  std::string listen;    // host:port; empty: the default
  std::string database;  // empty: sqlite
  std::string profiles_dir;
  std::string admin_name = "admin";
  bool disclose_immediately = false;
  std::optional<int> embargo_days;
};

struct InitResult {
  NodeConfig config;
  PublicIdentity identity;
  std::string log_vkey;
  std::string admin_name;
  std::string admin_token;
  int profiles = 0;
};

// Creates DATA (which must not exist or be empty), its keys, log, tables, the shipped profiles
// and an admin user. On failure nothing is left behind in a directory it created.
StatusOr<InitResult> InitNode(const InitOptions& options);

// The node's database: DATA/comity.db for "sqlite", else the PostgreSQL database at the URL
// (several `comity serve` processes may share it; see src/store/README.md).
StatusOr<std::unique_ptr<store::Database>> OpenNodeDatabase(const NodeConfig& config,
                                                            const std::string& data_dir);
// The log's storage over a node database connection.
StatusOr<std::unique_ptr<tlog::LogStorage>> OpenNodeLogStorage(store::Database* db);

// The node store alone (offline commands): config + database, no keys.
struct NodeDirectory {
  NodeConfig config;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::NodeStore> store;
};
StatusOr<NodeDirectory> OpenNodeDirectory(const std::string& data_dir);

struct Node {
  explicit Node(federation::Identity id) : identity(std::move(id)) {}
  std::string data_dir;
  NodeConfig config;
  federation::Identity identity;
  std::shared_ptr<const rules::RuleBase> rules;
  std::unique_ptr<NodeService> service;
};

// Loads the configuration, keys (passphrase from $COMITY_KEY_PASSPHRASE), the rule base
// (config's rules, else `default_rules_dir`), and opens the service.
StatusOr<std::unique_ptr<Node>> OpenNode(const std::string& data_dir,
                                         const std::string& default_rules_dir,
                                         const Clock* clock = &SystemClock());

}  // namespace comity::node

#include "node/node.h"

#include <sys/stat.h>

#include <filesystem>

#include "node/directory.h"
#include "store/log_storage.h"
#include "tlog/log.h"

namespace comity::node {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& dir, std::string_view name) {
  return (fs::path(dir) / name).string();
}

}  // namespace

StatusOr<std::unique_ptr<store::Database>> OpenNodeDatabase(const NodeConfig& config,
                                                            const std::string& data_dir) {
  // Errors name the database by its URL without the password (store::RedactUrl).
  if (config.is_postgresql()) return store::Database::Connect(config.database);
  return store::Database::Open(Join(data_dir, kDatabaseFile));
}

StatusOr<std::unique_ptr<tlog::LogStorage>> OpenNodeLogStorage(store::Database* db) {
  ASSIGN_OR_RETURN(std::unique_ptr<store::SqlLogStorage> s, store::SqlLogStorage::Open(db));
  return std::unique_ptr<tlog::LogStorage>(std::move(s));
}

StatusOr<InitResult> InitNode(const InitOptions& o) {
  ASSIGN_OR_RETURN(NodeConfig config, DefaultConfig(o.state, o.name));
  if (!o.listen.empty()) RETURN_IF_ERROR(ParseListen(o.listen, &config));
  if (!o.database.empty()) {
    RETURN_IF_ERROR(CheckDatabaseUrl(o.database));
    config.database = o.database;
  }
  if (o.disclose_immediately) config.disclosure = Disclosure::kImmediate;
  if (o.embargo_days) {
    if (*o.embargo_days < 0 || *o.embargo_days > 3650) {
      return InvalidArgumentError("embargo days must be between 0 and 3650");
    }
    config.embargo_days = *o.embargo_days;
  }
  RETURN_IF_ERROR(ValidateConfig(config));
  RETURN_IF_ERROR(ValidateUserName(o.admin_name));
  if (o.profiles_dir.empty()) return InvalidArgumentError("no profiles directory given");
  if (config.is_postgresql()) {
    // Refused before anything is written.
    auto db = OpenNodeDatabase(config, o.data_dir);
    if (!db.ok()) return db.status();
  }

  std::error_code ec;
  const bool existed = fs::exists(o.data_dir, ec);
  if (existed && !fs::is_empty(o.data_dir, ec)) {
    return AlreadyExistsError(o.data_dir +
                              " exists and is not empty; a node needs a new "
                              "directory");
  }
  if (!existed) {
    fs::create_directories(o.data_dir, ec);
    if (ec) return UnavailableError("cannot create " + o.data_dir + ": " + ec.message());
  }
  // The directory holds private keys and undisclosed records.
  fs::permissions(o.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  auto cleanup = [&] {
    std::error_code ignored;
    if (!existed) {
      fs::remove_all(o.data_dir, ignored);
      return;
    }
    for (std::string_view f : {kConfigFile, kDatabaseFile, kSignKeyFile, kBoxKeyFile}) {
      fs::remove(Join(o.data_dir, f), ignored);
    }
    for (std::string_view f : {"comity.db-wal", "comity.db-shm"}) {
      fs::remove(Join(o.data_dir, f), ignored);
    }
  };

  auto run = [&]() -> StatusOr<InitResult> {
    InitResult r;
    ASSIGN_OR_RETURN(federation::Identity id, CreateIdentity(o.data_dir, config.state.str()));
    r.identity = Describe(id);
    ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, OpenNodeDatabase(config, o.data_dir));
    if (!config.is_postgresql()) {
      fs::permissions(Join(o.data_dir, kDatabaseFile),
                      fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                      ec);
    }
    ASSIGN_OR_RETURN(std::unique_ptr<store::NodeStore> store, store::NodeStore::Open(db.get()));
    ASSIGN_OR_RETURN(std::unique_ptr<tlog::LogStorage> log_storage, OpenNodeLogStorage(db.get()));
    ASSIGN_OR_RETURN(
        std::unique_ptr<tlog::Log> log,
        tlog::Log::Create(log_storage.get(), config.origin, id.sign_key,
                          {.disclose_immediately = config.disclosure == Disclosure::kImmediate}));
    r.log_vkey = log->VerifierKey();
    const int64_t now = ToMicros(SystemClock().Now());
    ASSIGN_OR_RETURN(r.profiles, LoadProfileDirectory(*store, o.profiles_dir, "init", now));
    ASSIGN_OR_RETURN(NewUser admin, AddUser(*store, o.admin_name, Role::kAdmin, "init", now));
    r.admin_name = admin.user.name;
    r.admin_token = std::move(admin.token);
    RETURN_IF_ERROR(WriteConfig(Join(o.data_dir, kConfigFile), config));
    r.config = config;
    return r;
  };
  StatusOr<InitResult> result = run();
  if (!result.ok()) cleanup();
  return result;
}

StatusOr<NodeDirectory> OpenNodeDirectory(const std::string& data_dir) {
  NodeDirectory d;
  ASSIGN_OR_RETURN(d.config, LoadConfig(Join(data_dir, kConfigFile)));
  if (!d.config.is_postgresql() && !fs::exists(Join(data_dir, kDatabaseFile))) {
    return NotFoundError("no node database in " + data_dir + " (expected " +
                         Join(data_dir, kDatabaseFile) + ")");
  }
  ASSIGN_OR_RETURN(d.db, OpenNodeDatabase(d.config, data_dir));
  ASSIGN_OR_RETURN(d.store, store::NodeStore::Open(d.db.get()));
  return d;
}

StatusOr<std::unique_ptr<Node>> OpenNode(const std::string& data_dir,
                                         const std::string& default_rules_dir, const Clock* clock) {
  ASSIGN_OR_RETURN(NodeConfig loaded_config, LoadConfig(Join(data_dir, kConfigFile)));
  if (!loaded_config.is_postgresql() && !fs::exists(Join(data_dir, kDatabaseFile))) {
    return NotFoundError("no node database in " + data_dir + " (expected " +
                         Join(data_dir, kDatabaseFile) + ")");
  }
  ASSIGN_OR_RETURN(federation::Identity identity,
                   LoadIdentity(data_dir, loaded_config.state.str()));
  auto node = std::make_unique<Node>(std::move(identity));
  node->data_dir = data_dir;
  node->config = std::move(loaded_config);
  const NodeConfig& config = node->config;
  const std::string rules_dir = config.rules_dir.empty() ? default_rules_dir : config.rules_dir;
  rules::LoadResult loaded = rules::RuleBase::LoadDirectory(rules_dir);
  if (!loaded.ok()) {
    return InvalidArgumentError("the rule base in " + rules_dir + " has errors:\n" +
                                loaded.ErrorText());
  }
  node->rules = loaded.rulebase;

  ServiceOptions so;
  so.state = config.state;
  so.rules = node->rules;
  so.log_key = node->identity.sign_key;
  so.open_database = [config, data_dir] { return OpenNodeDatabase(config, data_dir); };
  so.open_log_storage = OpenNodeLogStorage;
  so.clock = clock;
  so.disclosure = config.disclosure;
  so.embargo_days = config.embargo_days;
  so.readers = config.threads;
  ASSIGN_OR_RETURN(node->service, NodeService::Open(std::move(so)));
  ASSIGN_OR_RETURN(tlog::LogState state, node->service->LogState());
  if (state.origin != config.origin) {
    return FailedPreconditionError("the log in " + data_dir + " is \"" + state.origin +
                                   "\" but the configuration says log.origin = \"" + config.origin +
                                   "\"");
  }
  return node;
}

}  // namespace comity::node

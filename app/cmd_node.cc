// The node's commands:
//
//   comity init DATA --state XA [--name main] [--listen 127.0.0.1:8443] [--database URL]
//                    [--profiles DIR] [--admin NAME] [--disclose embargo|immediate]
//                    [--embargo-days N]
//       creates a node; prints JSON (identity, log vkey, and the admin token, shown once)
//   comity serve DATA [--listen HOST:PORT] [--port-file FILE]
//       runs it; prints "listening on http://HOST:PORT" once bound; SIGTERM/SIGINT stop it
//       cleanly (new writes refused, requests in flight finished, database closed)
//   comity user add DATA --name NAME --role ROLE     prints the new user's token (once)
//   comity user list DATA                            JSON
//   comity user revoke DATA NAME
//   comity peer add DATA --state XB --url URL --sign-key KEY --box-key KEY [--log-vkey VKEY]
//                        [--replace]
//   comity peer add DATA --from-url URL --fingerprint FP [--state XB] [--replace]
//       the keys and log vkey from the peer's GET /federation/v1/identity, confirmed by FP
//   comity peer list DATA                            JSON
//
// Key files protected by a passphrase are created and unlocked with $COMITY_KEY_PASSPHRASE.
// Exit codes: 0 success, 2 invalid input, 1 otherwise.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "app/command.h"
#include "federation/batch.h"
#include "http/api.h"
#include "http/federation_api.h"
#include "http/metrics.h"
#include "http/server.h"
#include "node/directory.h"
#include "node/node.h"
#include "store/database.h"

namespace comity::app {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// How long `serve` waits on SIGTERM for open connections to finish before it stops.
constexpr std::chrono::seconds kDrainGrace{2};

struct Options {
  std::string data, state, name = "main", listen, database, profiles, admin = "admin",
                           disclose = "embargo", port_file, role, user, url, sign_key, box_key,
                           log_vkey, from_url, fingerprint;
  std::optional<int> embargo_days;
  bool replace = false;
};

Options& Opts() {
  static Options o;
  return o;
}

void PrintJson(const json::value& v) {
  std::string s = json::serialize(v);
  s.push_back('\n');
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

int64_t NowMicros() { return node::ToMicros(SystemClock().Now()); }

// --- init ----------------------------------------------------------------------------------

Status RunInit(const Options& o) {
  if (o.disclose != "embargo" && o.disclose != "immediate") {
    return InvalidArgumentError("--disclose must be embargo or immediate, not \"" + o.disclose +
                                "\"");
  }
  node::InitOptions in;
  in.data_dir = o.data;
  in.state = o.state;
  in.name = o.name;
  in.listen = o.listen;
  in.database = o.database;
  in.profiles_dir = o.profiles.empty() ? (fs::path(DataHome()) / "profiles").string() : o.profiles;
  in.admin_name = o.admin;
  in.disclose_immediately = o.disclose == "immediate";
  in.embargo_days = o.embargo_days;
  ASSIGN_OR_RETURN(node::InitResult r, node::InitNode(in));
  json::object out;
  out["data_dir"] = o.data;
  out["state"] = r.config.state.str();
  out["name"] = r.config.name;
  out["listen"] = r.config.listen_host + ":" + std::to_string(r.config.listen_port);
  out["database"] = store::RedactUrl(r.config.database);  // never the password
  out["log_origin"] = r.config.origin;
  out["log_vkey"] = r.log_vkey;
  out["sign_key"] = r.identity.sign_key;
  out["box_key"] = r.identity.box_key;
  out["profiles"] = r.profiles;
  out["admin"] = json::object{{"name", r.admin_name}, {"token", r.admin_token}};
  PrintJson(out);
  std::fprintf(stderr,
               "comity: created the %s node in %s; the admin token above is shown only once\n",
               r.config.state.str().c_str(), o.data.c_str());
  return OkStatus();
}

// --- serve ---------------------------------------------------------------------------------

Status WritePortFile(const std::string& path, uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    out.flush();
    if (!out) return UnavailableError("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return UnavailableError("cannot write " + path + ": " + ec.message());
  return OkStatus();
}

Status RunServe(const Options& o) {
  // Logs go to stderr; stdout carries only the "listening on" line that scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("comity"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);

  // Block the stop signals in every thread (the server's threads inherit the mask); this thread
  // waits for them with sigtimedwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n,
                   node::OpenNode(o.data, (fs::path(DataHome()) / "rules").string()));
  node::NodeConfig& config = n->config;
  if (!o.listen.empty()) RETURN_IF_ERROR(node::ParseListen(o.listen, &config));

  ASSIGN_OR_RETURN(uint64_t disclosed, n->service->DiscloseDue());

  http::Metrics metrics;
  http::ApiOptions api_options;
  api_options.page_max = config.page_max;
  api_options.throttle.max_failures = config.max_failures;
  api_options.throttle.window = std::chrono::seconds(config.failure_window_seconds);
  api_options.throttle.lockout = std::chrono::seconds(config.lockout_seconds);
  const node::PublicIdentity pub = node::Describe(n->identity);
  api_options.node =
      http::NodeInfo{config.state.str(),           config.name,  "",         config.origin,
                     n->service->LogVerifierKey(), pub.sign_key, pub.box_key};
  http::Api api(n->service.get(), api_options, &metrics);
  http::Router router;
  api.Register(&router);
  // Federation: the delivery worker, the inbox and the gossip, with their routes.
  ASSIGN_OR_RETURN(
      std::unique_ptr<http::FederationRuntime> federation,
      http::FederationRuntime::Open(n.get(), &metrics, http::FederationOptionsFromConfig(config)));
  federation->Register(&api, &router);

  http::ServerOptions so;
  so.address = config.listen_host;
  so.port = config.listen_port;
  so.threads = config.threads;
  so.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  so.body_limit_for_path[federation::kInboxPath] = federation->InboxBodyLimit();
  so.body_limit_for_path[federation::kInboxBatchPath] = federation::kMaxBatchBytes;
  so.body_limit_for_path[federation::kInboxSignedBatchPath] = federation::kMaxBatchBytes;
  so.max_header_bytes = static_cast<size_t>(config.max_header_bytes);
  so.header_timeout = std::chrono::milliseconds(config.header_timeout_ms);
  so.body_timeout = std::chrono::milliseconds(config.body_timeout_ms);
  so.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  so.max_connections = config.max_connections;
  so.observer = api.Observer();
  http::Server server(so, std::move(router));
  RETURN_IF_ERROR(server.Start());
  const uint16_t port = server.port();
  api.SetNodeUrl(config.PublicUrl(port));
  federation->SetUrl(config.PublicUrl(port));
  RETURN_IF_ERROR(federation->Start());
  const std::string host = config.listen_host.find(':') != std::string::npos
                               ? "[" + config.listen_host + "]"
                               : config.listen_host;
  spdlog::info("node {} ({}) serving {} with log {} (size disclosed {})", config.state.str(),
               config.name, o.data, config.origin, disclosed);
  if (!o.port_file.empty()) RETURN_IF_ERROR(WritePortFile(o.port_file, port));
  std::printf("listening on http://%s:%u\n", host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);

  // Wait for a stop signal; release entries past the embargo on the way.
  int signal_number = 0;
  while (true) {
    timespec timeout{config.disclose_interval_seconds, 0};
    const int sig = sigtimedwait(&stop, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      signal_number = sig;
      break;
    }
    if (sig < 0 && errno != EAGAIN && errno != EINTR) {
      spdlog::error("serve: sigtimedwait failed: {}", std::strerror(errno));
      break;
    }
    if (sig < 0 && errno == EAGAIN) {
      auto d = n->service->DiscloseDue();
      if (!d.ok()) spdlog::warn("serve: disclosure failed: {}", d.status().ToString());
    }
  }
  spdlog::info("serve: {}; finishing requests in flight", signal_number == SIGTERM  ? "SIGTERM"
                                                          : signal_number == SIGINT ? "SIGINT"
                                                                                    : "stopping");
  // New writes are refused from now on; the server stops accepting and reading requests,
  // answers the ones being handled (each is one transaction), closes idle connections, and
  // waits up to kDrainGrace for them all; Stop() then joins its threads; the database closes
  // with the node.
  api.SetDraining();
  if (!server.Drain(kDrainGrace)) {
    spdlog::warn("serve: {} connection(s) still open after {} s; closing them",
                 server.active_connections(), kDrainGrace.count());
  }
  server.Stop();
  federation.reset();  // stops the worker and the gossip before the node closes
  n.reset();
  spdlog::info("serve: stopped cleanly");
  return OkStatus();
}

// --- user / peer ---------------------------------------------------------------------------

Status RunUserAdd(const Options& o) {
  auto role = ParseEnum<node::Role>(o.role);
  if (!role) {
    return InvalidArgumentError(
        "--role must be officer, reviewer, supervisor, auditor or admin, "
        "not \"" +
        o.role + "\"");
  }
  ASSIGN_OR_RETURN(node::NodeDirectory d, node::OpenNodeDirectory(o.data));
  ASSIGN_OR_RETURN(node::NewUser u, node::AddUser(*d.store, o.name, *role, "cli", NowMicros()));
  std::printf("%s\n", u.token.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "comity: added %s (%s); the token above is shown only once\n",
               u.user.name.c_str(), u.user.role.c_str());
  return OkStatus();
}

Status RunUserList(const Options& o) {
  ASSIGN_OR_RETURN(node::NodeDirectory d, node::OpenNodeDirectory(o.data));
  ASSIGN_OR_RETURN(std::vector<store::UserRecord> users, d.store->ListUsers());
  json::array out;
  for (const auto& u : users) {
    out.push_back(json::object{
        {"name", u.name},
        {"role", u.role},
        {"created", FormatTimestamp(node::FromMicros(u.created))},
        {"revoked",
         u.revoked ? json::value(FormatTimestamp(node::FromMicros(*u.revoked))) : nullptr}});
  }
  PrintJson(out);
  return OkStatus();
}

Status RunUserRevoke(const Options& o) {
  ASSIGN_OR_RETURN(node::NodeDirectory d, node::OpenNodeDirectory(o.data));
  RETURN_IF_ERROR(node::RevokeUser(*d.store, o.user, "cli", NowMicros()));
  std::fprintf(stderr, "comity: revoked %s\n", o.user.c_str());
  return OkStatus();
}

Status RunPeerAdd(const Options& o) {
  ASSIGN_OR_RETURN(node::NodeDirectory d, node::OpenNodeDirectory(o.data));
  node::PeerInput in{o.state, o.url, o.sign_key, o.box_key, o.log_vkey};
  if (!o.from_url.empty()) {
    // Discovery: the peer's identity document, confirmed by the fingerprint given out of band.
    if (o.fingerprint.empty()) {
      return InvalidArgumentError(
          "--from-url needs --fingerprint (the peer's identity "
          "fingerprint, from its administrator)");
    }
    if (!o.sign_key.empty() || !o.box_key.empty() || !o.log_vkey.empty()) {
      return InvalidArgumentError(
          "--from-url takes the keys from the peer's identity; leave out "
          "--sign-key, --box-key and --log-vkey");
    }
    ASSIGN_OR_RETURN(in, http::DiscoverPeer(o.from_url, o.fingerprint, o.state));
    if (!o.url.empty()) in.url = o.url;
  } else if (o.state.empty() || o.url.empty() || o.sign_key.empty() || o.box_key.empty()) {
    return InvalidArgumentError(
        "give --state, --url, --sign-key and --box-key, or --from-url "
        "and --fingerprint");
  }
  auto p = node::AddPeer(*d.store, in, d.config.state.str(), o.replace, NowMicros());
  if (!p.ok()) {
    // Name the flag rather than the API's JSON Pointer.
    const std::string ptr = p.status().pointer();
    std::string flag = ptr.empty() ? "" : "--" + ptr.substr(1);
    for (char& c : flag) c = c == '_' ? '-' : c;
    return Status(p.status().code(), (flag.empty() ? "" : flag + ": ") + p.status().message());
  }
  std::fprintf(stderr, "comity: %s peer %s at %s\n", o.replace ? "set" : "added", p->state.c_str(),
               p->url.c_str());
  return OkStatus();
}

Status RunPeerList(const Options& o) {
  ASSIGN_OR_RETURN(node::NodeDirectory d, node::OpenNodeDirectory(o.data));
  ASSIGN_OR_RETURN(std::vector<store::PeerRecord> peers, d.store->ListPeers());
  json::array out;
  for (const auto& p : peers) {
    out.push_back(json::object{{"state", p.state},
                               {"url", p.url},
                               {"sign_key", p.sign_key},
                               {"box_key", p.box_key},
                               {"log_vkey", p.log_vkey ? json::value(*p.log_vkey) : nullptr}});
  }
  PrintJson(out);
  return OkStatus();
}

void Add(CLI::App* cmd, Context& ctx, Status (*run)(const Options&)) {
  cmd->callback([&ctx, run] {
    Status s = run(Opts());
    ctx.exit_code = s.ok() ? 0 : ReportError(s);
  });
}

const Registrar kRegistrar("node", [](CLI::App& app, Context& ctx) {
  Options& o = Opts();

  CLI::App* init = app.add_subcommand(
      "init", "Create a node in DATA: configuration, keys, log, profiles and an admin token");
  init->add_option("DATA", o.data, "The node's data directory (new or empty)")->required();
  init->add_option("--state", o.state, "The node's state, a two-letter code such as XA")
      ->required();
  init->add_option("--name", o.name, "The node's name within its state")->capture_default_str();
  init->add_option("--listen", o.listen, "HOST:PORT to serve on (default 127.0.0.1:8443)");
  init->add_option("--database", o.database, "sqlite (default) or a postgresql:// URL");
  init->add_option("--profiles", o.profiles,
                   "Directory of state profiles to start with (default: the shipped profiles/)");
  init->add_option("--admin", o.admin, "Name of the first admin user")->capture_default_str();
  init->add_option("--disclose", o.disclose,
                   "Publish log entry bundles after the embargo (embargo) or at once (immediate)")
      ->capture_default_str();
  init->add_option("--embargo-days", o.embargo_days, "Days before entries are disclosed (90)");
  Add(init, ctx, RunInit);

  CLI::App* serve = app.add_subcommand("serve", "Run the node in DATA until SIGTERM or SIGINT");
  serve->add_option("DATA", o.data, "The node's data directory")->required();
  serve->add_option("--listen", o.listen, "HOST:PORT instead of the configured one (port 0: any)");
  serve->add_option("--port-file", o.port_file, "Write the bound port to FILE once listening");
  Add(serve, ctx, RunServe);

  CLI::App* user = app.add_subcommand("user", "Manage the node's users and their API tokens");
  user->require_subcommand(1);
  CLI::App* add = user->add_subcommand("add", "Add a user and print its token (shown once)");
  add->add_option("DATA", o.data, "The node's data directory")->required();
  add->add_option("--name", o.name, "User name")->required();
  add->add_option("--role", o.role, "officer, reviewer, supervisor, auditor or admin")->required();
  Add(add, ctx, RunUserAdd);
  CLI::App* list = user->add_subcommand("list", "List users as JSON (never their tokens)");
  list->add_option("DATA", o.data, "The node's data directory")->required();
  Add(list, ctx, RunUserList);
  CLI::App* revoke = user->add_subcommand("revoke", "Revoke a user's token");
  revoke->add_option("DATA", o.data, "The node's data directory")->required();
  revoke->add_option("NAME", o.user, "User name")->required();
  Add(revoke, ctx, RunUserRevoke);

  CLI::App* peer = app.add_subcommand("peer", "Manage the node's peers (its trust list)");
  peer->require_subcommand(1);
  CLI::App* padd = peer->add_subcommand("add", "Add (or with --replace, replace) a peer");
  padd->add_option("DATA", o.data, "The node's data directory")->required();
  padd->add_option("--state", o.state, "The peer's state code");
  padd->add_option("--url", o.url, "The peer node's base URL");
  padd->add_option("--sign-key", o.sign_key, "Its Ed25519 public key (base64)");
  padd->add_option("--box-key", o.box_key, "Its X25519 public key (base64)");
  padd->add_option("--log-vkey", o.log_vkey, "Its log's verifier key");
  padd->add_option("--from-url", o.from_url,
                   "Instead of the keys: fetch them from the peer's /federation/v1/identity");
  padd->add_option("--fingerprint", o.fingerprint,
                   "With --from-url: the peer's identity fingerprint, to confirm its keys");
  padd->add_flag("--replace", o.replace, "Replace a known peer's URL and keys");
  Add(padd, ctx, RunPeerAdd);
  CLI::App* plist = peer->add_subcommand("list", "List peers as JSON");
  plist->add_option("DATA", o.data, "The node's data directory")->required();
  Add(plist, ctx, RunPeerList);
});

}  // namespace
}  // namespace comity::app

#include "node/config.h"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "store/database.h"
#include "tlog/log.h"

namespace comity::node {
namespace {

bool IsStateCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

bool IsNodeName(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// One key of the file: where it goes and how it is checked.
struct Key {
  enum Type { kString, kInt } type;
  std::function<Status(NodeConfig*, const std::string&, int64_t)> set;
};

Status Range(const std::string& key, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) {
    return InvalidArgumentError(key + " must be between " + std::to_string(lo) + " and " +
                                std::to_string(hi) + ", not " + std::to_string(v));
  }
  return OkStatus();
}

template <typename T>
Key IntKey(T NodeConfig::*field, int64_t lo, int64_t hi, const char* name) {
  return {Key::kInt, [field, lo, hi, name](NodeConfig* c, const std::string&, int64_t v) {
            RETURN_IF_ERROR(Range(name, v, lo, hi));
            c->*field = static_cast<T>(v);
            return OkStatus();
          }};
}

Key StringKey(std::string NodeConfig::*field) {
  return {Key::kString, [field](NodeConfig* c, const std::string& s, int64_t) {
            c->*field = s;
            return OkStatus();
          }};
}

const std::map<std::string, std::map<std::string, Key>>& Schema() {
  static const auto* schema = new std::map<std::string, std::map<std::string, Key>>{
      {"node",
       {
           {"state",
            {Key::kString,
             [](NodeConfig* c, const std::string& s, int64_t) {
               if (!IsStateCode(s)) {
                 return InvalidArgumentError(
                     "node.state must be a two-letter code such as "
                     "\"XA\", not \"" +
                     s + "\"");
               }
               c->state = StateCode{{s[0], s[1]}};
               return OkStatus();
             }}},
           {"name",
            {Key::kString,
             [](NodeConfig* c, const std::string& s, int64_t) {
               if (!IsNodeName(s)) {
                 return InvalidArgumentError(
                     "node.name must be 1 to 32 characters a-z, 0-9 or '-', not \"" + s + "\"");
               }
               c->name = s;
               return OkStatus();
             }}},
           {"listen",
            {Key::kString, [](NodeConfig* c, const std::string& s,
                              int64_t) { return ParseListen(s, c).WithContext("node.listen"); }}},
           {"public_url", StringKey(&NodeConfig::public_url)},
           {"database",
            {Key::kString,
             [](NodeConfig* c, const std::string& s, int64_t) {
               RETURN_IF_ERROR(CheckDatabaseUrl(s).WithContext("node.database"));
               c->database = s;
               return OkStatus();
             }}},
           {"rules", StringKey(&NodeConfig::rules_dir)},
       }},
      {"log",
       {
           {"origin",
            {Key::kString,
             [](NodeConfig* c, const std::string& s, int64_t) {
               RETURN_IF_ERROR(tlog::ValidateOrigin(s).WithContext("log.origin"));
               c->origin = s;
               return OkStatus();
             }}},
           {"disclosure",
            {Key::kString,
             [](NodeConfig* c, const std::string& s, int64_t) {
               if (s == "embargo") {
                 c->disclosure = Disclosure::kEmbargo;
               } else if (s == "immediate") {
                 c->disclosure = Disclosure::kImmediate;
               } else {
                 return InvalidArgumentError(
                     "log.disclosure must be \"embargo\" or \"immediate\", not \"" + s + "\"");
               }
               return OkStatus();
             }}},
           {"embargo_days", IntKey(&NodeConfig::embargo_days, 0, 3650, "log.embargo_days")},
           {"disclose_interval_seconds", IntKey(&NodeConfig::disclose_interval_seconds, 1, 86400,
                                                "log.disclose_interval_seconds")},
       }},
      {"limits",
       {
           {"threads", IntKey(&NodeConfig::threads, 1, 64, "limits.threads")},
           {"max_body_bytes",
            IntKey(&NodeConfig::max_body_bytes, 1024, 64 << 20, "limits.max_body_bytes")},
           {"max_header_bytes",
            IntKey(&NodeConfig::max_header_bytes, 1024, 1 << 20, "limits.max_header_bytes")},
           {"header_timeout_ms",
            IntKey(&NodeConfig::header_timeout_ms, 100, 600'000, "limits.header_timeout_ms")},
           {"body_timeout_ms",
            IntKey(&NodeConfig::body_timeout_ms, 100, 600'000, "limits.body_timeout_ms")},
           {"idle_timeout_ms",
            IntKey(&NodeConfig::idle_timeout_ms, 100, 3'600'000, "limits.idle_timeout_ms")},
           {"max_connections",
            IntKey(&NodeConfig::max_connections, 1, 100'000, "limits.max_connections")},
           {"page_max", IntKey(&NodeConfig::page_max, 1, 1000, "limits.page_max")},
       }},
      {"auth",
       {
           {"max_failures", IntKey(&NodeConfig::max_failures, 1, 1000, "auth.max_failures")},
           {"failure_window_seconds",
            IntKey(&NodeConfig::failure_window_seconds, 1, 86400, "auth.failure_window_seconds")},
           {"lockout_seconds",
            IntKey(&NodeConfig::lockout_seconds, 1, 86400, "auth.lockout_seconds")},
       }},
      {"federation",
       {
           {"retry_initial_seconds", IntKey(&NodeConfig::retry_initial_seconds, 1, 3600,
                                            "federation.retry_initial_seconds")},
           {"retry_max_seconds",
            IntKey(&NodeConfig::retry_max_seconds, 1, 86400, "federation.retry_max_seconds")},
           {"delivery_timeout_ms", IntKey(&NodeConfig::delivery_timeout_ms, 100, 600'000,
                                          "federation.delivery_timeout_ms")},
           {"max_clock_skew_seconds", IntKey(&NodeConfig::max_clock_skew_seconds, 1, 3600,
                                             "federation.max_clock_skew_seconds")},
       }},
  };
  return *schema;
}

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string ListenText(const NodeConfig& c) {
  const bool v6 = c.listen_host.find(':') != std::string::npos;
  return (v6 ? "[" + c.listen_host + "]" : c.listen_host) + ":" + std::to_string(c.listen_port);
}

}  // namespace

std::string NodeConfig::PublicUrl(uint16_t bound_port) const {
  if (!public_url.empty()) return public_url;
  NodeConfig copy = *this;
  copy.listen_port = bound_port;
  std::string host = ListenText(copy);
  if (listen_host == "0.0.0.0") host = "127.0.0.1:" + std::to_string(bound_port);
  if (listen_host == "::") host = "[::1]:" + std::to_string(bound_port);
  return "http://" + host;
}

Status ParseListen(std::string_view text, NodeConfig* config) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgumentError("listen address \"" + std::string(text) +
                                  "\" must be [IPv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return InvalidArgumentError("listen address \"" + std::string(text) +
                                  "\" must be host:port (e.g. 127.0.0.1:8443)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    return InvalidArgumentError("listen address \"" + std::string(text) + "\" has no host");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return InvalidArgumentError("listen address \"" + std::string(text) +
                                "\" has an invalid port (0 to 65535)");
  }
  config->listen_host = std::string(host);
  config->listen_port = static_cast<uint16_t>(value);
  return OkStatus();
}

Status CheckDatabaseUrl(std::string_view url) {
  if (url == "sqlite") return OkStatus();
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.rfind(scheme, 0) == 0 && url.size() > scheme.size()) return OkStatus();
  }
  // The URL is quoted without its password.
  return InvalidArgumentError("database must be \"sqlite\" or a postgresql:// URL, not \"" +
                              store::RedactUrl(url) + "\"");
}

StatusOr<NodeConfig> DefaultConfig(std::string_view state, std::string_view name) {
  if (!IsStateCode(state)) {
    return InvalidArgumentError("state must be a two-letter code such as XA, not \"" +
                                std::string(state) + "\"");
  }
  if (!IsNodeName(name)) {
    return InvalidArgumentError("node name must be 1 to 32 characters a-z, 0-9 or '-', not \"" +
                                std::string(name) + "\"");
  }
  NodeConfig c;
  c.state = StateCode{{state[0], state[1]}};
  c.name = std::string(name);
  c.origin = "comity/" + std::string(state) + "/" + std::string(name);
  return c;
}

Status ValidateConfig(const NodeConfig& c) {
  if (c.state.empty()) return InvalidArgumentError("node.state is required");
  RETURN_IF_ERROR(tlog::ValidateOrigin(c.origin).WithContext("log.origin"));
  RETURN_IF_ERROR(CheckDatabaseUrl(c.database).WithContext("node.database"));
  if (!c.public_url.empty() && c.public_url.rfind("http://", 0) != 0 &&
      c.public_url.rfind("https://", 0) != 0) {
    return InvalidArgumentError("node.public_url must start with http:// or https://");
  }
  if (c.retry_initial_seconds > c.retry_max_seconds) {
    return InvalidArgumentError(
        "federation.retry_initial_seconds must not exceed federation.retry_max_seconds");
  }
  return OkStatus();
}

StatusOr<NodeConfig> ParseConfig(std::string_view text, std::string_view path) {
  const std::string where(path);
  toml::table root;
  try {
    root = toml::parse(text, where);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError(where + ":" + std::to_string(e.source().begin.line) + ":" +
                                std::to_string(e.source().begin.column) + ": " +
                                std::string(e.description()));
  }
  NodeConfig c;
  c.origin.clear();
  for (auto&& [table_key, table_node] : root) {
    const std::string table(table_key.str());
    auto it = Schema().find(table);
    if (it == Schema().end()) {
      return InvalidArgumentError(where + ": unknown table [" + table + "]");
    }
    const toml::table* t = table_node.as_table();
    if (t == nullptr) return InvalidArgumentError(where + ": " + table + " must be a table");
    for (auto&& [key, value] : *t) {
      const std::string name = table + "." + std::string(key.str());
      auto k = it->second.find(std::string(key.str()));
      if (k == it->second.end()) return InvalidArgumentError(where + ": unknown key " + name);
      Status st;
      if (k->second.type == Key::kString) {
        const auto* s = value.as_string();
        if (s == nullptr) return InvalidArgumentError(where + ": " + name + " must be a string");
        st = k->second.set(&c, s->get(), 0);
      } else {
        const auto* i = value.as_integer();
        if (i == nullptr) return InvalidArgumentError(where + ": " + name + " must be an integer");
        st = k->second.set(&c, std::string(), i->get());
      }
      if (!st.ok()) return st.WithContext(where);
    }
  }
  if (c.state.empty()) return InvalidArgumentError(where + ": node.state is required");
  if (c.origin.empty()) c.origin = "comity/" + c.state.str() + "/" + c.name;
  RETURN_IF_ERROR(ValidateConfig(c).WithContext(where));
  return c;
}

StatusOr<NodeConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot read " + path +
                         " (is this a node's data directory? create one with `comity init`)");
  }
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    return InvalidArgumentError(path + " is larger than " + std::to_string(kMaxConfigBytes) +
                                " bytes");
  }
  return ParseConfig(text, path);
}

std::string FormatConfig(const NodeConfig& c) {
  std::ostringstream o;
  o << "# Comity node configuration. Every key is documented in docs/api.md (\"Configuration\").\n"
    << "\n[node]\n"
    << "state = " << TomlString(c.state.str()) << "\n"
    << "name = " << TomlString(c.name) << "\n"
    << "listen = " << TomlString(ListenText(c)) << "\n"
    << "# How peers reach this node; empty: http://<listen>.\n"
    << "public_url = " << TomlString(c.public_url) << "\n"
    << "# \"sqlite\" (DATA/comity.db) or a postgresql:// URL.\n"
    << "database = " << TomlString(c.database) << "\n"
    << "# Rule base directory; empty: the rules shipped with comity.\n"
    << "rules = " << TomlString(c.rules_dir) << "\n"
    << "\n[log]\n"
    << "origin = " << TomlString(c.origin) << "\n"
    << "# \"embargo\": entry bundles are published embargo_days after the event; \"immediate\".\n"
    << "disclosure = "
    << TomlString(c.disclosure == Disclosure::kImmediate ? "immediate" : "embargo") << "\n"
    << "embargo_days = " << c.embargo_days << "\n"
    << "disclose_interval_seconds = " << c.disclose_interval_seconds << "\n"
    << "\n[limits]\n"
    << "threads = " << c.threads << "\n"
    << "max_body_bytes = " << c.max_body_bytes << "\n"
    << "max_header_bytes = " << c.max_header_bytes << "\n"
    << "header_timeout_ms = " << c.header_timeout_ms << "\n"
    << "body_timeout_ms = " << c.body_timeout_ms << "\n"
    << "idle_timeout_ms = " << c.idle_timeout_ms << "\n"
    << "max_connections = " << c.max_connections << "\n"
    << "page_max = " << c.page_max << "\n"
    << "\n[auth]\n"
    << "# After max_failures bad tokens from one address within failure_window_seconds, that\n"
    << "# address is answered 429 for lockout_seconds.\n"
    << "max_failures = " << c.max_failures << "\n"
    << "failure_window_seconds = " << c.failure_window_seconds << "\n"
    << "lockout_seconds = " << c.lockout_seconds << "\n"
    << "\n[federation]\n"
    << "retry_initial_seconds = " << c.retry_initial_seconds << "\n"
    << "retry_max_seconds = " << c.retry_max_seconds << "\n"
    << "delivery_timeout_ms = " << c.delivery_timeout_ms << "\n"
    << "max_clock_skew_seconds = " << c.max_clock_skew_seconds << "\n";
  return o.str();
}

Status WriteConfig(const std::string& path, const NodeConfig& config) {
  RETURN_IF_ERROR(ValidateConfig(config));
  const std::string text = FormatConfig(config);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return UnavailableError("cannot write " + tmp + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return UnavailableError("cannot write " + tmp + ": " + std::strerror(errno));
  }
  // link() fails if the target exists: never overwrite a configuration.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return AlreadyExistsError(path + " already exists");
    return UnavailableError("cannot create " + path + ": " + std::strerror(err));
  }
  ::unlink(tmp.c_str());
  return OkStatus();
}

}  // namespace comity::node

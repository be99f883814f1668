#include "http/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <tuple>

#include "core/codec.h"
#include "node/directory.h"
#include "tlog/publish.h"

namespace comity::http {

namespace json = boost::json;
using node::Permission;
using node::Principal;

namespace {

// The user of the request being served on this thread, for the access log line that the
// server's observer writes on the same thread right after the handler.
thread_local std::string current_user;

std::string Time(int64_t us) { return FormatTimestamp(node::FromMicros(us)); }

json::value OptTime(const std::optional<int64_t>& us) {
  if (!us) return nullptr;
  return json::value(Time(*us));
}

// One page of a list: {"items": [...], "next_cursor": "…" | null (the last page)}.
json::object Page(json::array items, const std::string& next_cursor) {
  return json::object{
      {"items", std::move(items)},
      {"next_cursor", next_cursor.empty() ? json::value(nullptr) : json::value(next_cursor)}};
}

json::value ParsedOrNull(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec) return nullptr;
  return v;
}

json::object Summary(const store::RequestRecord& r, int64_t now) {
  json::object o;
  o["id"] = r.id;
  o["direction"] = r.direction;
  o["state"] = r.state;
  o["version"] = r.version;
  o["requesting_state"] = r.requesting_state;
  o["requested_state"] = r.requested_state;
  o["urgency"] = r.urgency;
  o["screening_outcome"] = r.screening_outcome ? json::value(*r.screening_outcome) : nullptr;
  o["respond_by"] = OptTime(r.respond_by);
  o["overdue"] = r.awaiting_answer && r.respond_by && *r.respond_by < now;
  o["assignee"] = r.assignee ? json::value(*r.assignee) : nullptr;
  o["created_by"] = r.created_by;
  o["created"] = Time(r.created);
  o["updated"] = Time(r.updated);
  return o;
}

json::object EventJson(const store::EventRecord& e) {
  json::object o;
  o["seq"] = e.seq;
  o["at"] = Time(e.at);
  o["actor"] = e.actor;
  o["action"] = e.action;
  o["from"] = e.from_state ? json::value(*e.from_state) : nullptr;
  o["to"] = e.to_state;
  o["reason"] = e.reason ? json::value(*e.reason) : nullptr;
  o["detail"] = ParsedOrNull(e.detail_json);
  o["log_index"] = e.log_index;
  return o;
}

// A message this node sent to a peer: where its delivery stands. The body is not shown (the
// request view has the request and the answer).
json::object MessageJson(const store::OutboxMessage& m) {
  json::object o;
  o["message_id"] = m.message_id;
  o["to"] = m.recipient;
  o["kind"] = m.kind;
  o["request_id"] = m.request_id ? json::value(*m.request_id) : nullptr;
  o["created"] = Time(m.created);
  o["attempts"] = m.attempts;
  o["last_error"] = m.last_error ? json::value(*m.last_error) : nullptr;
  o["next_attempt"] = m.delivered ? json::value(nullptr) : json::value(Time(m.next_attempt));
  o["delivered"] = OptTime(m.delivered);
  o["receipt"] = ParsedOrNull(m.receipt);
  return o;
}

json::object UserJson(const store::UserRecord& u) {
  json::object o;
  o["name"] = u.name;
  o["role"] = u.role;
  o["created"] = Time(u.created);
  o["created_by"] = u.created_by;
  o["revoked"] = OptTime(u.revoked);
  o["revoked_by"] = u.revoked_by ? json::value(*u.revoked_by) : nullptr;
  return o;
}

json::object PeerJson(const store::PeerRecord& p) {
  json::object o;
  o["state"] = p.state;
  o["url"] = p.url;
  o["sign_key"] = p.sign_key;
  o["box_key"] = p.box_key;
  o["log_vkey"] = p.log_vkey ? json::value(*p.log_vkey) : nullptr;
  o["added"] = Time(p.added);
  o["updated"] = Time(p.updated);
  return o;
}

json::object ProfileSummary(const store::ProfileRecord& p) {
  json::object o;
  o["code"] = p.code;
  boost::system::error_code ec;
  json::value v = json::parse(p.profile_json, ec);
  const json::value* name = !ec && v.is_object() ? v.as_object().if_contains("name") : nullptr;
  o["name"] = name != nullptr ? *name : json::value(nullptr);
  o["sha256"] = p.sha256;
  o["updated"] = Time(p.updated);
  o["updated_by"] = p.updated_by;
  return o;
}

// The JSON object body of a request, with only `allowed` members. An empty body is {} when
// `empty_ok`.
StatusOr<json::object> ObjectBody(const Request& req, const std::vector<std::string_view>& allowed,
                                  bool empty_ok) {
  if (req.body.empty()) {
    if (empty_ok) return json::object();
    return InvalidArgumentError("a JSON object body is required", "");
  }
  ASSIGN_OR_RETURN(json::value v, ParseJson(req.body));
  if (!v.is_object()) return InvalidArgumentError("the body must be a JSON object", "");
  for (const auto& kv : v.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      return InvalidArgumentError("unknown member \"" + std::string(kv.key()) + "\"",
                                  "/" + std::string(kv.key()));
    }
  }
  return std::move(v.as_object());
}

StatusOr<std::string> StringMember(const json::object& o, std::string_view key, bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required)
      return InvalidArgumentError(std::string(key) + " is required", "/" + std::string(key));
    return std::string();
  }
  if (!v->is_string()) {
    return InvalidArgumentError(std::string(key) + " must be a string", "/" + std::string(key));
  }
  return std::string(v->as_string());
}

StatusOr<std::vector<node::ConditionInput>> ConditionsMember(const json::object& o) {
  std::vector<node::ConditionInput> out;
  const json::value* c = o.if_contains("conditions");
  if (c == nullptr) return out;
  if (!c->is_array()) return InvalidArgumentError("conditions must be an array", "/conditions");
  if (c->as_array().size() > node::kMaxConditions) {
    return InvalidArgumentError("at most " + std::to_string(node::kMaxConditions) + " conditions",
                                "/conditions");
  }
  for (size_t i = 0; i < c->as_array().size(); ++i) {
    const std::string p = "/conditions/" + std::to_string(i);
    const json::value& item = c->as_array()[i];
    if (!item.is_object()) return InvalidArgumentError("a condition is an object", p);
    node::ConditionInput ci;
    for (const auto& kv : item.as_object()) {
      const std::string member(kv.key());
      if (member != "code" && member != "text" && member != "until") {
        return InvalidArgumentError("unknown member \"" + member + "\"", p + "/" + member);
      }
      if (!kv.value().is_string()) {
        return InvalidArgumentError(member + " must be a string", p + "/" + member);
      }
      const std::string value(kv.value().as_string());
      if (member == "code") {
        ci.code = value;
      } else if (member == "text") {
        ci.text = value;
      } else {
        auto d = ParseDate(value);
        if (!d.ok()) return InvalidArgumentError(d.status().message(), p + "/until");
        ci.until = *d;
      }
    }
    out.push_back(std::move(ci));
  }
  return out;
}

StatusOr<std::optional<int64_t>> VersionMember(const json::object& o) {
  const json::value* v = o.if_contains("version");
  if (v == nullptr) return std::optional<int64_t>();
  if (!v->is_int64() || v->as_int64() < 1) {
    return InvalidArgumentError("version must be a positive integer", "/version");
  }
  return std::optional<int64_t>(v->as_int64());
}

Response Unauthorized(const Status& s) {
  Response r = ErrorResponse(s, 401);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"comity\"");
  return r;
}

Response TooManyFailures(int64_t wait) {
  Response r = ErrorResponse(
      ResourceExhaustedError("too many failed authentications from this address; retry in " +
                             std::to_string(wait) + " s"),
      429);
  r.headers.emplace_back("Retry-After", std::to_string(wait));
  return r;
}

std::string OpenApiPath(const std::string& pattern) {
  std::string out = pattern;
  size_t p = 0;
  while ((p = out.find("...}", p)) != std::string::npos) out.erase(p, 3);
  return out;
}

std::string LowerMethod(std::string m) {
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m;
}

std::string StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Invalid input; error.pointer names the member";
    case 401:
      return "Missing, invalid or revoked token";
    case 403:
      return "The role may not do this";
    case 404:
      return "Not found";
    case 409:
      return "Conflict: not allowed from the current state, stale version, or already exists";
    case 413:
      return "Body over the size limit";
    case 429:
      return "Too many failed authentications from this address (see Retry-After)";
    case 500:
      return "Internal error";
    case 501:
      return "Not implemented by this build";
    case 503:
      return "Unavailable (database busy, draining); retry";
    default:
      return "Status " + std::to_string(status);
  }
}

}  // namespace

Api::Api(node::NodeService* service, ApiOptions options, http::Metrics* metrics)
    : service_(service),
      options_(std::move(options)),
      metrics_(metrics),
      throttle_(options_.throttle, &service->clock()) {
  metrics_->Describe("comity_http_requests_total", "counter", "HTTP requests by route and status");
  metrics_->Describe("comity_http_request_duration_seconds", "histogram",
                     "HTTP request latency by route");
  metrics_->Describe("comity_auth_failures_total", "counter",
                     "Requests refused for a missing, invalid or revoked token");
  metrics_->Describe("comity_auth_lockouts_total", "counter",
                     "Addresses locked out after repeated authentication failures");
  metrics_->Describe("comity_requests", "gauge",
                     "Requests by direction, state and screening outcome");
  metrics_->Describe("comity_requests_overdue", "gauge",
                     "Requests awaiting an answer past their respond_by deadline");
  metrics_->Describe("comity_outbox_depth", "gauge", "Messages to peers not yet delivered");
  metrics_->Describe("comity_log_size", "gauge", "Entries committed to the transparency log");
  metrics_->Describe("comity_log_disclosed", "gauge", "Entries whose bundles are published");
  metrics_->Describe("comity_database_round_trips_total", "counter",
                     "Round trips to PostgreSQL (each a wait for the server; 0 on SQLite)");
  metrics_->Describe("comity_durability_syncs_total", "counter",
                     "Syncs that made a group of commits durable");
  metrics_->Describe("comity_write_groups_total", "counter",
                     "Groups of writes committed together (a lone write is a group of one)");
  metrics_->Describe("comity_write_lingers_total", "counter",
                     "Groups whose leader waited briefly for more writes first");
}

std::vector<std::string> Api::RolesFor(Permission p) {
  std::vector<std::string> out;
  for (size_t i = 0; i < EnumCount<node::Role>(); ++i) {
    const auto role = static_cast<node::Role>(i);
    if (node::Allows(role, p)) out.emplace_back(EnumName(role));
  }
  return out;
}

Handler Api::Authed(Permission p, AuthedHandler h) {
  return [this, p, h = std::move(h)](const Request& req) -> Response {
    current_user.clear();
    if (auto wait = throttle_.Blocked(req.remote)) return TooManyFailures(*wait);
    const std::string_view header = req.header("authorization");
    if (header.empty()) {
      return Unauthorized(UnauthenticatedError(
          "this resource needs an API token: send \"Authorization: Bearer <token>\""));
    }
    auto token = node::BearerToken(header);
    StatusOr<Principal> who = token ? service_->Authenticate(*token)
                                    : StatusOr<Principal>(UnauthenticatedError(
                                          "the Authorization header is not a Bearer token"));
    if (!who.ok()) {
      if (who.status().code() != StatusCode::kUnauthenticated) return ErrorResponse(who.status());
      metrics_->Add("comity_auth_failures_total", {});
      if (throttle_.RecordFailure(req.remote)) {
        metrics_->Add("comity_auth_lockouts_total", {});
        spdlog::warn("auth: {} locked out for {} s after {} failed authentications", req.remote,
                     options_.throttle.lockout.count(), options_.throttle.max_failures);
      }
      return Unauthorized(who.status());
    }
    current_user = who->name;
    if (!node::Allows(who->role, p)) {
      std::string roles;
      for (const std::string& r : RolesFor(p)) roles += (roles.empty() ? "" : ", ") + r;
      return ErrorResponse(PermissionDeniedError("role " + std::string(EnumName(who->role)) +
                                                 " may not do this; it is for: " + roles));
    }
    if (draining_.load() && req.method != "GET") {
      Response r = ErrorResponse(UnavailableError("the node is shutting down; retry shortly"));
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return h(req, *who);
  };
}

void Api::Add(Router* router, ApiRoute route) {
  router->Add(route.method, route.pattern, route.handler);
  route.handler = nullptr;
  routes_.push_back(std::move(route));
}

void Api::AddRoute(Router* router, ApiRoute route) {
  if (route.permission)
    route.handler =
        Authed(*route.permission,
               [h = route.handler](const Request& req, const Principal&) { return h(req); });
  Add(router, std::move(route));
}

void Api::Register(Router* router) {
  const std::vector<int> kRead = {200, 401, 403, 429};
  auto with = [](std::vector<int> base, std::initializer_list<int> more) {
    base.insert(base.end(), more.begin(), more.end());
    std::sort(base.begin(), base.end());
    return base;
  };

  // An action on a request: `run` reads the body's members and acts; the answer is the updated
  // summary, or 409 with the current state and the allowed actions.
  using Run = std::function<StatusOr<store::RequestRecord>(const Principal&, const std::string&,
                                                           const json::object&)>;
  auto action_route = [this, with, kRead](std::string verb, Permission p, std::string summary,
                                          std::string body, std::vector<std::string_view> members,
                                          Run run) {
    ApiRoute r;
    r.method = "POST";
    r.pattern = "/api/v1/requests/{id}/" + verb;
    r.summary = std::move(summary);
    r.permission = p;
    r.body = std::move(body);
    r.answer = "The request's summary after the action (as in GET /api/v1/requests).";
    r.statuses = with(kRead, {400, 404, 409, 413, 503});
    r.handler = Authed(p, [this, run, members](const Request& req, const Principal& who) {
      StatusOr<json::object> body = ObjectBody(req, members, /*empty_ok=*/true);
      if (!body.ok()) return ErrorResponse(body.status());
      const std::string id(req.param("id"));
      StatusOr<store::RequestRecord> r = run(who, id, *body);
      if (r.ok()) return JsonResponse(200, Summary(*r, node::ToMicros(service_->clock().Now())));
      Response resp = ErrorResponse(r.status());
      if (r.status().code() == StatusCode::kFailedPrecondition) {
        // Say what is allowed from the current state, for programs as well as people.
        auto view = service_->GetRequest(id);
        if (view.ok()) {
          json::value doc = json::parse(resp.body);
          json::array allowed;
          for (auto a : view->allowed) allowed.emplace_back(EnumName(a));
          json::object& err = doc.as_object()["error"].as_object();
          err["state"] = view->record.state;
          err["allowed"] = std::move(allowed);
          resp = JsonResponse(resp.status, doc);
        }
      }
      return resp;
    });
    return r;
  };
  // Most actions: an ActionInput from the body, then NodeService::Act.
  // `reasons_key`: the body's member that carries the reasons, when it is not `reasons` (an
  // error about the reasons then points at it).
  auto act = [this](std::function<StatusOr<node::ActionInput>(const json::object&)> parse,
                    std::string reasons_key = "reasons") -> Run {
    return [this, parse, reasons_key](const Principal& who, const std::string& id,
                                      const json::object& body) -> StatusOr<store::RequestRecord> {
      ASSIGN_OR_RETURN(node::ActionInput in, parse(body));
      StatusOr<store::RequestRecord> r = service_->Act(who, id, in);
      if (!r.ok() && r.status().pointer() == "/reasons" && reasons_key != "reasons") {
        return Status(r.status().code(), r.status().message(), "/" + reasons_key);
      }
      return r;
    };
  };

  // --- requests ---
  {
    ApiRoute r;
    r.method = "POST";
    r.pattern = "/api/v1/requests";
    r.summary =
        "Create a draft from a comity.request/v1 body (without id and created); it is "
        "pre-screened with the requested state's profile";
    r.permission = Permission::kDraft;
    r.body = "comity.request/v1 without `id` and `created`";
    r.answer = "{id, state, version, screening (comity.decision/v1), request}";
    r.statuses = with(kRead, {201, 400, 409, 413, 503});
    r.handler = Authed(Permission::kDraft, [this](const Request& req, const Principal& who) {
      StatusOr<node::DraftResult> d = service_->CreateDraft(who, req.body);
      if (!d.ok()) return ErrorResponse(d.status());
      json::object o = Summary(d->record, d->record.created);
      o["screening"] = DecisionToJson(d->screening);
      o["request"] = json::parse(d->record.request_json);
      Response resp = JsonResponse(201, o);
      resp.headers.emplace_back("Location", "/api/v1/requests/" + d->record.id);
      return resp;
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/requests";
    r.summary = "List requests, newest first, with filters and paging";
    r.permission = Permission::kReadRequests;
    r.query = {{"direction", "outgoing or incoming"},
               {"state", "a lifecycle state (draft, submitted, in_review, ...)"},
               {"requesting_state", "two-letter code"},
               {"requested_state", "two-letter code"},
               {"overdue", "true: only overdue requests; false: only the others"},
               {"limit", "page size, 1 to limits.page_max (default 50)"},
               {"cursor", "next_cursor of the previous page"}};
    r.answer = "{items: [request summary], next_cursor: string|null}";
    r.statuses = with(kRead, {400});
    r.handler = Authed(Permission::kReadRequests, [this](const Request& req, const Principal&) {
      node::RequestQuery q;
      for (const auto& [k, v] : req.query) {
        if (k == "direction") {
          q.direction = v;
        } else if (k == "state") {
          q.state = v;
        } else if (k == "requesting_state") {
          q.requesting_state = v;
        } else if (k == "requested_state") {
          q.requested_state = v;
        } else if (k == "cursor") {
          q.cursor = v;
        } else if (k == "overdue") {
          if (v != "true" && v != "false") {
            return ErrorResponse(InvalidArgumentError("overdue must be true or false"));
          }
          q.overdue = v == "true";
        } else if (k == "limit") {
          int limit = 0;
          auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
          if (ec != std::errc() || end != v.data() + v.size() || limit < 1 ||
              limit > options_.page_max) {
            return ErrorResponse(InvalidArgumentError("limit must be an integer between 1 and " +
                                                      std::to_string(options_.page_max)));
          }
          q.limit = limit;
        } else {
          return ErrorResponse(InvalidArgumentError("unknown query parameter \"" + k + "\""));
        }
      }
      q.limit = std::min(q.limit, options_.page_max);
      StatusOr<node::RequestPage> page = service_->ListRequests(q);
      if (!page.ok()) return ErrorResponse(page.status());
      const int64_t now = node::ToMicros(service_->clock().Now());
      json::array items;
      for (const auto& rec : page->items) items.push_back(Summary(rec, now));
      return JsonResponse(200, Page(std::move(items), page->next_cursor));
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/requests/{id}";
    r.summary = "A request with its screening, answer, history (events) and allowed actions";
    r.permission = Permission::kReadRequests;
    r.answer =
        "summary + {request, screening, decision, conditions, history: [event], "
        "allowed_actions, messages: [message sent: to, kind, attempts, last_error, "
        "next_attempt, delivered, receipt]}";
    r.statuses = with(kRead, {404});
    r.handler = Authed(Permission::kReadRequests, [this](const Request& req, const Principal&) {
      StatusOr<node::RequestView> v = service_->GetRequest(req.param("id"));
      if (!v.ok()) return ErrorResponse(v.status());
      json::object o = Summary(v->record, node::ToMicros(service_->clock().Now()));
      o["overdue"] = v->overdue;
      o["request"] = json::parse(v->record.request_json);
      o["screening"] = ParsedOrNull(v->record.screening_json);
      o["decision"] = ParsedOrNull(v->record.decision_json);
      o["conditions"] = ParsedOrNull(v->record.conditions_json);
      json::array history;
      for (const auto& e : v->events) history.push_back(EventJson(e));
      o["history"] = std::move(history);
      json::array allowed;
      for (auto a : v->allowed) allowed.emplace_back(EnumName(a));
      o["allowed_actions"] = std::move(allowed);
      json::array messages;
      for (const auto& m : v->messages) messages.push_back(MessageJson(m));
      o["messages"] = std::move(messages);
      return JsonResponse(200, o);
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/outbox";
    r.summary =
        "Messages to peers not yet delivered, next due first: each with its attempts, last "
        "error and next attempt (a message rescheduled between pages may move)";
    r.permission = Permission::kReadDeliveries;
    r.query = {{"limit", "page size, 1 to 500 (default 100)"},
               {"cursor", "next_cursor of the previous page"}};
    r.answer = "{items: [message], next_cursor: string|null}";
    r.statuses = with(kRead, {400});
    r.handler = Authed(Permission::kReadDeliveries, [this](const Request& req, const Principal&) {
      int limit = 100;
      std::string cursor;
      for (const auto& [k, v] : req.query) {
        if (k == "limit") {
          auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
          if (ec != std::errc() || end != v.data() + v.size()) limit = 0;  // refused below
        } else if (k == "cursor") {
          cursor = v;
        } else {
          return ErrorResponse(InvalidArgumentError("unknown query parameter \"" + k + "\""));
        }
      }
      StatusOr<node::OutboxPage> page = service_->ListUndelivered(limit, cursor);
      if (!page.ok()) return ErrorResponse(page.status());
      json::array items;
      for (const auto& m : page->items) items.push_back(MessageJson(m));
      return JsonResponse(200, Page(std::move(items), page->next_cursor));
    });
    Add(router, std::move(r));
  }
  // An action whose body holds at most its reasons (under `reason_key`) and the version.
  auto simple = [&act](workflow::Action a, const char* reason_key) -> Run {
    auto parse = [a, reason_key](const json::object& o) -> StatusOr<node::ActionInput> {
      node::ActionInput in;
      in.action = a;
      if (reason_key != nullptr) {
        ASSIGN_OR_RETURN(in.reasons, StringMember(o, reason_key, false));
      }
      ASSIGN_OR_RETURN(in.expected_version, VersionMember(o));
      return in;
    };
    return act(parse, reason_key != nullptr ? reason_key : "reasons");
  };
  Add(router, action_route("submit", Permission::kDraft,
                           "Submit a draft: screened again, then queued for delivery to the "
                           "requested state",
                           "{version?}", {"version"}, simple(workflow::Action::kSubmit, nullptr)));
  Add(router,
      action_route("withdraw", Permission::kDraft, "Withdraw a draft", "{reason?, version?}",
                   {"reason", "version"}, simple(workflow::Action::kWithdraw, "reason")));
  Add(router,
      action_route("reply", Permission::kDraft,
                   "Answer the requested state's request for information (queued for delivery)",
                   "{information, version?}", {"information", "version"},
                   act([](const json::object& o) -> StatusOr<node::ActionInput> {
                     node::ActionInput in;
                     in.action = workflow::Action::kReplyInformation;
                     ASSIGN_OR_RETURN(in.information, StringMember(o, "information", true));
                     ASSIGN_OR_RETURN(in.expected_version, VersionMember(o));
                     return in;
                   })));
  Add(router,
      action_route("decide", Permission::kDecide,
                   "Decide an incoming request: execute, execute_with_conditions, postpone, "
                   "request_information or refuse (queued for delivery to the requesting state)",
                   "{action, reasons?, conditions?: [{code, text, until?}], version?}",
                   {"action", "reasons", "conditions", "version"},
                   act([](const json::object& o) -> StatusOr<node::ActionInput> {
                     node::ActionInput in;
                     ASSIGN_OR_RETURN(std::string action, StringMember(o, "action", true));
                     auto a = ParseEnum<workflow::Action>(action);
                     if (!a || !(*a == workflow::Action::kExecute ||
                                 *a == workflow::Action::kExecuteWithConditions ||
                                 *a == workflow::Action::kPostpone ||
                                 *a == workflow::Action::kRequestInformation ||
                                 *a == workflow::Action::kRefuse)) {
                       return InvalidArgumentError(
                           "action must be execute, execute_with_conditions, postpone, "
                           "request_information or refuse",
                           "/action");
                     }
                     in.action = *a;
                     ASSIGN_OR_RETURN(in.reasons, StringMember(o, "reasons", false));
                     ASSIGN_OR_RETURN(in.conditions, ConditionsMember(o));
                     ASSIGN_OR_RETURN(in.expected_version, VersionMember(o));
                     return in;
                   })));
  Add(router, action_route("close", Permission::kClose,
                           "Close a request (outgoing once answered: officers; incoming once "
                           "decided: reviewers, with a reason if it was postponed or is "
                           "waiting for information, which is sent to the requesting state)",
                           "{reason?, version?}", {"reason", "version"},
                           simple(workflow::Action::kClose, "reason")));
  Add(router, action_route("assign", Permission::kAssign,
                           "Reassign a request to an officer, reviewer or supervisor",
                           "{assignee, version?}", {"assignee", "version"},
                           [this](const Principal& who, const std::string& id,
                                  const json::object& o) -> StatusOr<store::RequestRecord> {
                             ASSIGN_OR_RETURN(std::string assignee,
                                              StringMember(o, "assignee", true));
                             ASSIGN_OR_RETURN(std::optional<int64_t> version, VersionMember(o));
                             return service_->Assign(who, id, assignee, version);
                           }));

  // --- users ---
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/users";
    r.summary = "List users (never their tokens)";
    r.permission = Permission::kReadUsers;
    r.answer = "{items: [{name, role, created, created_by, revoked, revoked_by}]}";
    r.statuses = kRead;
    r.handler = Authed(Permission::kReadUsers, [this](const Request&, const Principal&) {
      auto users = service_->ListUsers();
      if (!users.ok()) return ErrorResponse(users.status());
      json::array items;
      for (const auto& u : *users) items.push_back(UserJson(u));
      return JsonResponse(200, json::object{{"items", std::move(items)}});
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "POST";
    r.pattern = "/api/v1/users";
    r.summary = "Add a user; the answer holds its API token, shown this once";
    r.permission = Permission::kManageUsers;
    r.body = "{name, role}";
    r.answer = "{name, role, created, ..., token}";
    r.statuses = with(kRead, {201, 400, 409, 413});
    r.handler = Authed(Permission::kManageUsers, [this](const Request& req, const Principal& who) {
      auto body = ObjectBody(req, {"name", "role"}, false);
      if (!body.ok()) return ErrorResponse(body.status());
      auto name = StringMember(*body, "name", true);
      if (!name.ok()) return ErrorResponse(name.status());
      auto role_text = StringMember(*body, "role", true);
      if (!role_text.ok()) return ErrorResponse(role_text.status());
      auto role = ParseEnum<node::Role>(*role_text);
      if (!role) {
        return ErrorResponse(InvalidArgumentError(
            "role must be officer, reviewer, supervisor, auditor or admin", "/role"));
      }
      auto u = service_->AddUser(who, *name, *role);
      if (!u.ok()) return ErrorResponse(u.status());
      json::object o = UserJson(u->user);
      o["token"] = u->token;
      return JsonResponse(201, o);
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "POST";
    r.pattern = "/api/v1/users/{name}/revoke";
    r.summary = "Revoke a user's token (not the last active admin)";
    r.permission = Permission::kManageUsers;
    r.answer = "the user";
    r.statuses = with(kRead, {404, 409});
    r.handler = Authed(Permission::kManageUsers, [this](const Request& req, const Principal& who) {
      const std::string name(req.param("name"));
      Status s = service_->RevokeUser(who, name);
      if (!s.ok()) return ErrorResponse(s);
      auto users = service_->ListUsers();
      if (!users.ok()) return ErrorResponse(users.status());
      for (const auto& u : *users) {
        if (u.name == name) return JsonResponse(200, UserJson(u));
      }
      return ErrorResponse(InternalError("the revoked user vanished"));
    });
    Add(router, std::move(r));
  }

  // --- peers ---
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/peers";
    r.summary = "List peers (the trust list)";
    r.permission = Permission::kReadDirectory;
    r.answer = "{items: [{state, url, sign_key, box_key, log_vkey, added, updated}]}";
    r.statuses = kRead;
    r.handler = Authed(Permission::kReadDirectory, [this](const Request&, const Principal&) {
      auto peers = service_->ListPeers();
      if (!peers.ok()) return ErrorResponse(peers.status());
      json::array items;
      for (const auto& p : *peers) items.push_back(PeerJson(p));
      return JsonResponse(200, json::object{{"items", std::move(items)}});
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "POST";
    r.pattern = "/api/v1/peers";
    r.summary = "Add a peer (or replace one with \"replace\": true)";
    r.permission = Permission::kManagePeers;
    r.body = "{state, url, sign_key, box_key, log_vkey?, replace?}";
    r.answer = "the peer";
    r.statuses = with(kRead, {200, 201, 400, 409, 413});
    r.handler = Authed(Permission::kManagePeers, [this](const Request& req, const Principal& who) {
      auto body =
          ObjectBody(req, {"state", "url", "sign_key", "box_key", "log_vkey", "replace"}, false);
      if (!body.ok()) return ErrorResponse(body.status());
      node::PeerInput in;
      for (auto [key, field, required] :
           {std::tuple{"state", &in.state, true}, std::tuple{"url", &in.url, true},
            std::tuple{"sign_key", &in.sign_key, true}, std::tuple{"box_key", &in.box_key, true},
            std::tuple{"log_vkey", &in.log_vkey, false}}) {
        auto v = StringMember(*body, key, required);
        if (!v.ok()) return ErrorResponse(v.status());
        *field = std::move(*v);
      }
      bool replace = false;
      if (const json::value* v = body->if_contains("replace")) {
        if (!v->is_bool()) {
          return ErrorResponse(InvalidArgumentError("replace must be a boolean", "/replace"));
        }
        replace = v->as_bool();
      }
      auto p = service_->AddPeer(who, in, replace);
      if (!p.ok()) return ErrorResponse(p.status());
      return JsonResponse(replace ? 200 : 201, PeerJson(*p));
    });
    Add(router, std::move(r));
  }

  // --- profiles ---
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/profiles";
    r.summary = "List the state profiles this node screens with";
    r.permission = Permission::kReadDirectory;
    r.answer = "{items: [{code, name, sha256, updated, updated_by}]}";
    r.statuses = kRead;
    r.handler = Authed(Permission::kReadDirectory, [this](const Request&, const Principal&) {
      auto profiles = service_->ListProfiles();
      if (!profiles.ok()) return ErrorResponse(profiles.status());
      json::array items;
      for (const auto& p : *profiles) items.push_back(ProfileSummary(p));
      return JsonResponse(200, json::object{{"items", std::move(items)}});
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/profiles/{code}";
    r.summary = "One state profile (comity.state/v1)";
    r.permission = Permission::kReadDirectory;
    r.answer = "comity.state/v1";
    r.statuses = with(kRead, {404});
    r.handler = Authed(Permission::kReadDirectory, [this](const Request& req, const Principal&) {
      auto p = service_->GetProfile(req.param("code"));
      if (!p.ok()) return ErrorResponse(p.status());
      if (!*p) {
        return ErrorResponse(NotFoundError("no profile for " + std::string(req.param("code"))));
      }
      Response resp = TextResponse(200, (*p)->profile_json + "\n", "application/json");
      resp.headers.emplace_back("ETag", "\"" + (*p)->sha256 + "\"");
      return resp;
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "PUT";
    r.pattern = "/api/v1/profiles/{code}";
    r.summary = "Replace (or add) a state profile, validated against comity.state/v1";
    r.permission = Permission::kManageProfiles;
    r.body = "comity.state/v1 whose code is {code}";
    r.answer = "{code, name, sha256, updated, updated_by}";
    r.statuses = with(kRead, {400, 413});
    r.handler =
        Authed(Permission::kManageProfiles, [this](const Request& req, const Principal& who) {
          auto p = service_->PutProfile(who, req.param("code"), req.body);
          if (!p.ok()) return ErrorResponse(p.status());
          return JsonResponse(200, ProfileSummary(*p));
        });
    Add(router, std::move(r));
  }

  // --- this node ---
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/me";
    r.summary = "Who the token belongs to";
    r.permission = Permission::kReadDirectory;
    r.answer = "{name, role}";
    r.statuses = kRead;
    r.handler = Authed(Permission::kReadDirectory, [](const Request&, const Principal& who) {
      return JsonResponse(
          200, json::object{{"name", who.name}, {"role", std::string(EnumName(who.role))}});
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/node";
    r.summary = "This node's state, URL, log origin and verifier key, and public keys";
    r.permission = Permission::kReadDirectory;
    r.answer = "{state, name, url, log_origin, log_vkey, sign_key, box_key}";
    r.statuses = kRead;
    r.handler = Authed(Permission::kReadDirectory, [this](const Request&, const Principal&) {
      NodeInfo n;
      {
        std::lock_guard<std::mutex> lock(node_mu_);
        n = options_.node;
      }
      return JsonResponse(200, json::object{{"state", n.state},
                                            {"name", n.name},
                                            {"url", n.url},
                                            {"log_origin", n.log_origin},
                                            {"log_vkey", n.log_vkey},
                                            {"sign_key", n.sign_key},
                                            {"box_key", n.box_key}});
    });
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/openapi.json";
    r.summary = "This document";
    r.answer = "OpenAPI 3.1";
    r.statuses = {200};
    r.handler = [this](const Request&) { return JsonResponse(200, OpenApi()); };
    Add(router, std::move(r));
  }

  // --- operations ---
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/healthz";
    r.summary = "Liveness and database check";
    r.answer = "{status: \"ok\", state, log_size}";
    r.statuses = {200, 503};
    r.handler = [this](const Request&) {
      auto state = service_->LogState();
      if (!state.ok())
        return ErrorResponse(UnavailableError("database: " + state.status().message()));
      if (draining_.load()) return ErrorResponse(UnavailableError("draining"));
      return JsonResponse(
          200, json::object{
                   {"status", "ok"}, {"state", options_.node.state}, {"log_size", state->size}});
    };
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/metrics";
    r.summary = "Prometheus metrics (text exposition format 0.0.4)";
    r.answer = "text/plain";
    r.statuses = {200, 503};
    r.handler = [this](const Request&) { return Metrics(); };
    Add(router, std::move(r));
  }

  // --- the log (C2SP tlog-tiles) ---
  auto log_resource = [this](const std::string& path) {
    auto body = service_->LogResource(path);
    if (!body.ok()) return ErrorResponse(body.status());
    const bool tile = path.rfind("tile/", 0) == 0;
    Response resp = TextResponse(200, std::move(*body),
                                 tile ? "application/octet-stream" : "text/plain; charset=utf-8");
    // Full tiles never change; checkpoints and partial tiles do.
    const bool immutable = tile && path.find(".p/") == std::string::npos;
    resp.headers.emplace_back("Cache-Control",
                              immutable ? "public, max-age=31536000, immutable" : "no-cache");
    return resp;
  };
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/checkpoint";
    r.summary = "The log's latest signed checkpoint (C2SP tlog-checkpoint)";
    r.answer = "signed note";
    r.statuses = {200, 404};
    r.handler = [log_resource](const Request&) { return log_resource("checkpoint"); };
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/disclosed";
    r.summary = "How many entries have published bundles (decimal)";
    r.answer = "text";
    r.statuses = {200, 404};
    r.handler = [log_resource](const Request&) {
      return log_resource(std::string(tlog::kDisclosedPath));
    };
    Add(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/tile/{path...}";
    r.summary =
        "Hash tiles (/tile/<L>/<N>[.p/<W>]) and entry bundles up to the disclosed size "
        "(/tile/entries/<N>[.p/<W>])";
    r.answer = "binary tile or entry bundle";
    r.statuses = {200, 400, 404};
    r.handler = [log_resource](const Request& req) {
      return log_resource("tile/" + std::string(req.param("path")));
    };
    Add(router, std::move(r));
  }
}

void Api::SetNodeUrl(std::string url) {
  std::lock_guard<std::mutex> lock(node_mu_);
  options_.node.url = std::move(url);
}

Response Api::Metrics() {
  auto stats = service_->Stats();
  if (!stats.ok()) return ErrorResponse(UnavailableError("metrics: " + stats.status().message()));
  {
    std::lock_guard<std::mutex> lock(gauges_mu_);
    // Label sets seen before and now absent go back to 0 rather than keep a stale count.
    for (const auto& labels : request_gauges_) metrics_->Set("comity_requests", labels, 0);
    for (const store::RequestCount& c : stats->requests) {
      http::Metrics::Labels labels = {{"direction", c.direction},
                                      {"state", c.state},
                                      {"screening_outcome", c.screening_outcome}};
      metrics_->Set("comity_requests", labels, static_cast<double>(c.count));
      request_gauges_.insert(labels);
    }
  }
  metrics_->Set("comity_requests_overdue", {}, static_cast<double>(stats->overdue));
  metrics_->Set("comity_outbox_depth", {}, static_cast<double>(stats->outbox_depth));
  metrics_->Set("comity_log_size", {}, static_cast<double>(stats->log_size));
  metrics_->Set("comity_log_disclosed", {}, static_cast<double>(stats->log_disclosed));
  metrics_->Set("comity_database_round_trips_total", {},
                static_cast<double>(stats->database_round_trips));
  metrics_->Set("comity_durability_syncs_total", {}, static_cast<double>(stats->durability_syncs));
  metrics_->Set("comity_write_groups_total", {}, static_cast<double>(stats->write_groups));
  metrics_->Set("comity_write_lingers_total", {}, static_cast<double>(stats->write_lingers));
  return TextResponse(200, metrics_->Render(), "text/plain; version=0.0.4");
}

std::function<void(const Request&, const Response&, std::chrono::microseconds)> Api::Observer() {
  return [this](const Request& req, const Response& resp, std::chrono::microseconds elapsed) {
    const std::string route = req.route.empty() ? "(none)" : req.route;
    metrics_->Add(
        "comity_http_requests_total",
        {{"route", route}, {"method", req.method}, {"status", std::to_string(resp.status)}});
    metrics_->Observe("comity_http_request_duration_seconds",
                      {{"route", route}, {"method", req.method}},
                      static_cast<double>(elapsed.count()) / 1e6);
    // The route pattern, never the raw target or headers: no token or query text is logged.
    spdlog::info("http {} {} {} {:.1f}ms user={} remote={}", req.method, route, resp.status,
                 static_cast<double>(elapsed.count()) / 1e3,
                 current_user.empty() ? "-" : current_user, req.remote);
    current_user.clear();
  };
}

json::value Api::OpenApi() const {
  json::object paths;
  for (const ApiRoute& r : routes_) {
    const std::string path = OpenApiPath(r.pattern);
    json::object op;
    op["summary"] = r.summary;
    op["operationId"] = LowerMethod(r.method) + path;
    json::array params;
    size_t p = 0;
    while ((p = path.find('{', p)) != std::string::npos) {
      const size_t end = path.find('}', p);
      params.push_back(json::object{{"name", path.substr(p + 1, end - p - 1)},
                                    {"in", "path"},
                                    {"required", true},
                                    {"schema", json::object{{"type", "string"}}}});
      p = end;
    }
    for (const auto& [name, description] : r.query) {
      params.push_back(json::object{{"name", name},
                                    {"in", "query"},
                                    {"required", false},
                                    {"description", description},
                                    {"schema", json::object{{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (r.permission) {
      json::array roles;
      for (const std::string& role : RolesFor(*r.permission)) roles.emplace_back(role);
      op["x-roles"] = std::move(roles);
      op["security"] = json::array{json::object{{"bearer", json::array{}}}};
    } else {
      op["security"] = json::array{};
    }
    if (!r.body.empty()) {
      op["requestBody"] = json::object{
          {"description", r.body},
          {"required", true},
          {"content",
           json::object{{"application/json", json::object{{"schema", json::object{}}}}}}};
    }
    json::object responses;
    for (int status : r.statuses) {
      json::object resp{{"description", status < 300 ? r.answer : StatusText(status)}};
      if (status >= 400) {
        resp["content"] = json::object{
            {"application/json",
             json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}};
      }
      responses[std::to_string(status)] = std::move(resp);
    }
    op["responses"] = std::move(responses);
    json::value& entry = paths[path];
    if (!entry.is_object()) entry = json::object();
    entry.as_object()[LowerMethod(r.method)] = std::move(op);
  }
  json::object error_schema{
      {"type", "object"},
      {"required", json::array{"error"}},
      {"properties",
       json::object{
           {"error",
            json::object{{"type", "object"},
                         {"required", json::array{"code", "message"}},
                         {"properties",
                          json::object{{"code", json::object{{"type", "string"}}},
                                       {"message", json::object{{"type", "string"}}},
                                       {"pointer", json::object{{"type", "string"},
                                                                {"description", "JSON Pointer"}}},
                                       {"state", json::object{{"type", "string"}}},
                                       {"allowed", json::object{{"type", "array"}}}}}}}}}};
  json::object doc;
  doc["openapi"] = "3.1.0";
  doc["info"] =
      json::object{{"title", "Comity node API"},
                   {"version", "1"},
                   {"description",
                    "The API of one Comity node (docs/api.md). x-roles lists the roles allowed."}};
  doc["paths"] = std::move(paths);
  doc["components"] =
      json::object{{"securitySchemes",
                    json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
                   {"schemas", json::object{{"Error", std::move(error_schema)}}}};
  return doc;
}

}  // namespace comity::http

#include "node/service.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include "core/canonical_json.h"
#include "core/codec.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "federation/envelope.h"
#include "node/leaf.h"
#include "store/postgres_database.h"
#include "tlog/tile.h"

namespace comity::node {

using workflow::Action;
using workflow::Actor;
using workflow::RequestState;

namespace json = boost::json;

// --- messages and small helpers ------------------------------------------------------------

namespace {

constexpr std::string_view kOutgoing = "outgoing";
constexpr std::string_view kIncoming = "incoming";
constexpr std::string_view kAnswerSchema = "comity.answer/v1";
constexpr std::string_view kInformationReplySchema = "comity.information-reply/v1";

std::string Sha256Hex(std::string_view data) { return crypto::HexEncode(crypto::Sha256(data)); }

bool IsStateCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

bool IsMessageId(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsRequestId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
           c == '-';
  });
}

bool IsConditionCode(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

bool IsPersonAction(Action a) {
  switch (a) {
    case Action::kSubmit:
    case Action::kWithdraw:
    case Action::kReplyInformation:
    case Action::kExecute:
    case Action::kExecuteWithConditions:
    case Action::kPostpone:
    case Action::kRequestInformation:
    case Action::kRefuse:
    case Action::kClose:
      return true;
    default:
      return false;
  }
}

workflow::Direction DirectionOf(const store::RequestRecord& r) {
  return r.direction == kOutgoing ? workflow::Direction::kOutgoing : workflow::Direction::kIncoming;
}

// Whether a request in `s` waits for an answer (and so can be overdue).
bool Awaiting(std::string_view direction, RequestState s) {
  if (direction == kOutgoing) return s == RequestState::kSubmitted || s == RequestState::kDelivered;
  return workflow::AwaitsDecision(s);
}

std::string Serialize(const json::value& v) { return json::serialize(v); }

StatusOr<RequestState> StoredState(const store::RequestRecord& r) {
  auto s = ParseEnum<RequestState>(r.state);
  if (!s)
    return DataLossError("request " + r.id + " has an unknown stored state \"" + r.state + "\"");
  return *s;
}

json::array ConditionsJson(const std::vector<ConditionInput>& conditions) {
  json::array out;
  for (const ConditionInput& c : conditions) {
    json::object o;
    o["code"] = c.code;
    o["text"] = c.text;
    if (c.until) o["until"] = FormatDate(*c.until);
    out.push_back(std::move(o));
  }
  return out;
}

// The members of `o` must all be in `allowed`; kInvalidArgument with the pointer otherwise.
Status OnlyMembers(const json::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      return InvalidArgumentError("unknown member \"" + std::string(kv.key()) + "\"",
                                  "/" + std::string(kv.key()));
    }
  }
  return OkStatus();
}

StatusOr<std::string> RequiredString(const json::object& o, std::string_view key, size_t max) {
  const json::value* v = o.if_contains(key);
  const std::string pointer = "/" + std::string(key);
  if (v == nullptr) return InvalidArgumentError(std::string(key) + " is required", pointer);
  if (!v->is_string()) return InvalidArgumentError(std::string(key) + " must be a string", pointer);
  if (v->as_string().size() > max) {
    return InvalidArgumentError(
        std::string(key) + " is longer than " + std::to_string(max) + " bytes", pointer);
  }
  return std::string(v->as_string());
}

// Checks the conditions of a decision (ours or a peer's).
Status CheckConditions(const std::vector<ConditionInput>& conditions) {
  if (conditions.size() > kMaxConditions) {
    return InvalidArgumentError("at most " + std::to_string(kMaxConditions) + " conditions",
                                "/conditions");
  }
  for (size_t i = 0; i < conditions.size(); ++i) {
    const std::string p = "/conditions/" + std::to_string(i);
    if (!IsConditionCode(conditions[i].code)) {
      return InvalidArgumentError(
          "a condition code is 1 to 64 characters a-z, 0-9, '_' or '-' (e.g. use-limitation, "
          "confidentiality, retention)",
          p + "/code");
    }
    if (Blank(conditions[i].text)) {
      return InvalidArgumentError("a condition needs its text", p + "/text");
    }
    if (conditions[i].text.size() > kMaxConditionTextBytes) {
      return InvalidArgumentError(
          "a condition's text is at most " + std::to_string(kMaxConditionTextBytes) + " bytes",
          p + "/text");
    }
  }
  return OkStatus();
}

StatusOr<std::vector<ConditionInput>> ParseConditions(const json::value* v) {
  std::vector<ConditionInput> out;
  if (v == nullptr) return out;
  if (!v->is_array()) return InvalidArgumentError("conditions must be an array", "/conditions");
  if (v->as_array().size() > kMaxConditions) {
    return InvalidArgumentError("at most " + std::to_string(kMaxConditions) + " conditions",
                                "/conditions");
  }
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const std::string p = "/conditions/" + std::to_string(i);
    const json::value& c = v->as_array()[i];
    if (!c.is_object()) return InvalidArgumentError("a condition must be an object", p);
    const json::object& o = c.as_object();
    for (const auto& kv : o) {
      if (kv.key() != "code" && kv.key() != "text" && kv.key() != "until") {
        return InvalidArgumentError("unknown member \"" + std::string(kv.key()) + "\"",
                                    p + "/" + std::string(kv.key()));
      }
    }
    ConditionInput in;
    const json::value* code = o.if_contains("code");
    const json::value* text = o.if_contains("text");
    if (code == nullptr || !code->is_string()) {
      return InvalidArgumentError("a condition needs a string code", p + "/code");
    }
    if (text == nullptr || !text->is_string()) {
      return InvalidArgumentError("a condition needs a string text", p + "/text");
    }
    in.code = std::string(code->as_string());
    in.text = std::string(text->as_string());
    if (const json::value* until = o.if_contains("until")) {
      if (!until->is_string()) return InvalidArgumentError("until must be a date", p + "/until");
      auto d = ParseDate(until->as_string());
      if (!d.ok()) return InvalidArgumentError(d.status().message(), p + "/until");
      in.until = *d;
    }
    out.push_back(std::move(in));
  }
  RETURN_IF_ERROR(CheckConditions(out));
  return out;
}

struct Answer {
  std::string request_id;
  RequestState decision = RequestState::kExecuted;
  std::string reasons;
  std::vector<ConditionInput> conditions;
  Timestamp decided;
  std::string canonical;  // the answer as stored
};

// A peer's answer (comity.answer/v1; docs/formats/node-store.md "Messages").
StatusOr<Answer> ParseAnswer(std::string_view text) {
  ASSIGN_OR_RETURN(json::value v, ParseJson(text));
  if (!v.is_object()) return InvalidArgumentError("an answer must be a JSON object");
  const json::object& o = v.as_object();
  RETURN_IF_ERROR(
      OnlyMembers(o, {"schema", "request_id", "decision", "reasons", "conditions", "decided"}));
  ASSIGN_OR_RETURN(std::string schema, RequiredString(o, "schema", 64));
  if (schema != kAnswerSchema) {
    return InvalidArgumentError("schema must be \"" + std::string(kAnswerSchema) + "\"", "/schema");
  }
  Answer a;
  ASSIGN_OR_RETURN(a.request_id, RequiredString(o, "request_id", 64));
  if (!IsRequestId(a.request_id)) return InvalidArgumentError("not a request id", "/request_id");
  ASSIGN_OR_RETURN(std::string decision, RequiredString(o, "decision", 64));
  auto d = ParseEnum<RequestState>(decision);
  if (!d || !(workflow::IsDecision(*d) || *d == RequestState::kClosed)) {
    return InvalidArgumentError(
        "decision must be executed, executed_with_conditions, postponed, information_requested, "
        "refused or closed",
        "/decision");
  }
  a.decision = *d;
  if (o.contains("reasons")) {
    ASSIGN_OR_RETURN(a.reasons, RequiredString(o, "reasons", kMaxReasonBytes));
  }
  ASSIGN_OR_RETURN(a.conditions, ParseConditions(o.if_contains("conditions")));
  ASSIGN_OR_RETURN(std::string decided, RequiredString(o, "decided", 64));
  auto t = ParseTimestamp(decided);
  if (!t.ok()) return InvalidArgumentError(t.status().message(), "/decided");
  a.decided = *t;
  if ((a.decision == RequestState::kRefused || a.decision == RequestState::kPostponed ||
       a.decision == RequestState::kInformationRequested || a.decision == RequestState::kClosed) &&
      Blank(a.reasons)) {
    return InvalidArgumentError(decision + " must come with its reasons (UNCC Art. 40)",
                                "/reasons");
  }
  if (a.decision == RequestState::kClosed && !a.conditions.empty()) {
    return InvalidArgumentError("closed carries no conditions", "/conditions");
  }
  if (a.decision == RequestState::kExecutedWithConditions && a.conditions.empty()) {
    return InvalidArgumentError("executed_with_conditions must list its conditions", "/conditions");
  }
  ASSIGN_OR_RETURN(a.canonical, CanonicalJson(v));
  return a;
}

json::object AnswerJson(const std::string& request_id, RequestState decision,
                        const std::string& reasons, const std::vector<ConditionInput>& conditions,
                        Timestamp decided) {
  json::object o;
  o["schema"] = kAnswerSchema;
  o["request_id"] = request_id;
  o["decision"] = EnumName(decision);
  if (!reasons.empty()) o["reasons"] = reasons;
  if (!conditions.empty()) o["conditions"] = ConditionsJson(conditions);
  o["decided"] = FormatTimestamp(decided);
  return o;
}

struct InformationReply {
  std::string request_id;
  std::string information;
};

StatusOr<InformationReply> ParseInformationReply(std::string_view text) {
  ASSIGN_OR_RETURN(json::value v, ParseJson(text));
  if (!v.is_object()) return InvalidArgumentError("a reply must be a JSON object");
  const json::object& o = v.as_object();
  RETURN_IF_ERROR(OnlyMembers(o, {"schema", "request_id", "information", "sent"}));
  ASSIGN_OR_RETURN(std::string schema, RequiredString(o, "schema", 64));
  if (schema != kInformationReplySchema) {
    return InvalidArgumentError("schema must be \"" + std::string(kInformationReplySchema) + "\"",
                                "/schema");
  }
  InformationReply r;
  ASSIGN_OR_RETURN(r.request_id, RequiredString(o, "request_id", 64));
  if (!IsRequestId(r.request_id)) return InvalidArgumentError("not a request id", "/request_id");
  ASSIGN_OR_RETURN(r.information, RequiredString(o, "information", kMaxInformationBytes));
  if (Blank(r.information)) return InvalidArgumentError("information is empty", "/information");
  ASSIGN_OR_RETURN(std::string sent, RequiredString(o, "sent", 64));
  auto t = ParseTimestamp(sent);
  if (!t.ok()) return InvalidArgumentError(t.status().message(), "/sent");
  return r;
}

}  // namespace

// --- cursor --------------------------------------------------------------------------------

std::string EncodeCursor(int64_t created, std::string_view id) {
  return std::to_string(created) + "_" + std::string(id);
}

StatusOr<std::pair<int64_t, std::string>> DecodeCursor(std::string_view cursor) {
  const Status bad = InvalidArgumentError("cursor \"" + std::string(cursor.substr(0, 100)) +
                                          "\" is not one this node issued");
  const size_t sep = cursor.find('_');
  if (sep == std::string_view::npos || sep == 0) return bad;
  int64_t created = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + sep, created);
  if (ec != std::errc() || end != cursor.data() + sep || created < 0) return bad;
  std::string id(cursor.substr(sep + 1));
  if (!IsRequestId(id)) return bad;
  return std::make_pair(created, id);
}

// --- connections ---------------------------------------------------------------------------

struct NodeService::Connection {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<tlog::LogStorage> log_storage;
  std::unique_ptr<store::NodeStore> store;
  std::unique_ptr<store::Outbox> outbox;
  std::unique_ptr<tlog::LogPublisher> publisher;
};

struct NodeService::PendingEvent {
  store::EventRecord event;  // log_index is set by Commit
  LeafInput leaf;
  std::string request_sha256;
};

struct NodeService::Change {
  std::optional<store::RequestRecord> insert;
  std::optional<store::RequestRecord> update;
  int64_t expected_version = 0;
  std::vector<PendingEvent> events;
  std::vector<store::OutboxMessage> outbox;
  std::optional<store::InboxRecord> inbox;
  std::vector<std::pair<std::string, std::string>> delivered;  // message id, receipt
  bool same_documents = false;  // `update` changes only what UpdateRequestState writes
  // More request updates (a batch of deliveries): the record, its expected version, and
  // whether its documents are unchanged.
  std::vector<std::tuple<store::RequestRecord, int64_t, bool>> updates;
};

template <typename F>
auto NodeService::WithReader(F f) -> decltype(f(std::declval<Connection&>())) {
  std::unique_ptr<Connection> c;
  {
    std::unique_lock<std::mutex> lock(pool_mu_);
    pool_cv_.wait(lock, [this] { return !idle_readers_.empty(); });
    c = std::move(idle_readers_.back());
    idle_readers_.pop_back();
  }
  auto result = f(*c);
  if (c->db->in_transaction()) c->db->Rollback().IgnoreError();
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    idle_readers_.push_back(std::move(c));
  }
  pool_cv_.notify_one();
  return result;
}

NodeService::NodeService(ServiceOptions options) : options_(std::move(options)) {}

NodeService::~NodeService() {
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

void NodeService::SetOutboxListener(OutboxListener listener) {
  std::lock_guard<std::mutex> lock(mu_);  // before the node serves: Commit reads it unlocked
  outbox_listener_ = std::move(listener);
}

StatusOr<std::unique_ptr<NodeService>> NodeService::Open(ServiceOptions options) {
  if (!options.rules) return InvalidArgumentError("the service needs a rule base");
  if (!options.open_database || !options.open_log_storage) {
    return InvalidArgumentError("the service needs a database and log storage opener");
  }
  if (options.readers < 1 || options.readers > 64) {
    return InvalidArgumentError("readers must be between 1 and 64");
  }
  if (options.group_linger < std::chrono::microseconds(0) ||
      options.group_linger > std::chrono::milliseconds(10)) {
    return InvalidArgumentError("the group linger must be between 0 and 10 ms");
  }
  std::unique_ptr<NodeService> svc(new NodeService(std::move(options)));
  const ServiceOptions& o = svc->options_;
  auto open = [&o](bool writer) -> StatusOr<std::unique_ptr<Connection>> {
    auto c = std::make_unique<Connection>();
    ASSIGN_OR_RETURN(c->db, o.open_database());
    ASSIGN_OR_RETURN(c->store, store::NodeStore::Open(c->db.get()));
    ASSIGN_OR_RETURN(c->log_storage, o.open_log_storage(c->db.get()));
    if (writer && o.wrap_writer_log_storage) {
      c->log_storage = o.wrap_writer_log_storage(std::move(c->log_storage));
    }
    c->outbox = std::make_unique<store::Outbox>(c->db.get());
    c->publisher = std::make_unique<tlog::LogPublisher>(c->log_storage.get());
    return c;
  };
  ASSIGN_OR_RETURN(svc->writer_, open(true));
  ASSIGN_OR_RETURN(svc->log_, tlog::Log::Open(svc->writer_->log_storage.get(), o.log_key));
  svc->vkey_ = svc->log_->VerifierKey();
  if (o.group_commit && svc->writer_->db->dialect() == store::Dialect::kSqlite) {
    // Commits append to the WAL without an fsync; Durable() fsyncs the WAL once for a group.
    // (In WAL mode with synchronous=NORMAL, SQLite syncs the WAL before a checkpoint and the
    // database after it, so committed data is durable once the WAL is.)
    RETURN_IF_ERROR(svc->writer_->db->Exec("PRAGMA synchronous=NORMAL"));
    svc->wal_path_ = svc->writer_->db->path() + "-wal";
    svc->group_sync_ = true;
  } else if (o.group_commit && svc->writer_->db->dialect() == store::Dialect::kPostgres) {
    // The writer commits without waiting for the WAL flush; a durable commit on another
    // connection flushes the WAL up to its own commit record, which covers every commit
    // before it: one such barrier serves a group.
    RETURN_IF_ERROR(svc->writer_->db->Exec("SET synchronous_commit = off"));
    ASSIGN_OR_RETURN(svc->sync_db_, o.open_database());
    svc->group_sync_ = true;
  }
  for (int i = 0; i < o.readers; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, open(false));
    svc->idle_readers_.push_back(std::move(c));
  }
  return svc;
}

// --- the one write path --------------------------------------------------------------------

Status NodeService::Commit(Change& c) {
  if (batch_open_ && optimistic_) {
    // A group's first, optimistic pass: written without a savepoint of its own. Should a write
    // fail, nothing of this pass is kept (batch_broken_ fails the group's commit) and the group
    // is written again, each change in its savepoint (below).
    RETURN_IF_ERROR(batch_broken_);
    Status s = Write(c);
    if (!s.ok()) {
      batch_broken_ = s;
      return s;
    }
    batch_outbox_.insert(batch_outbox_.end(), c.outbox.begin(), c.outbox.end());
    return OkStatus();
  }
  if (batch_open_) {
    // Part of a group (combined writes, AcceptIncomingBatch): written now in a savepoint, so
    // that a change that fails is undone alone, and committed with the group.
    store::Database& db = *writer_->db;
    RETURN_IF_ERROR(batch_broken_);
    batch_broken_ = db.Savepoint("comity_change");
    RETURN_IF_ERROR(batch_broken_);
    const size_t staged = log_stage_.leaves.size();
    const size_t staged_events = log_stage_.events.size();
    const bool based = log_stage_.state_known;
    Status s = Write(c);
    // (PostgreSQL reports a failed pipelined write here, at the latest.)
    if (s.ok()) s = db.ReleaseSavepoint("comity_change");
    if (!s.ok()) {
      batch_broken_ = db.RollbackToSavepoint("comity_change");
      // Its log entries go too; and if it was the change that read the log's state, the lock
      // that read took went with its savepoint: the next change reads it again.
      log_stage_.leaves.resize(staged);
      log_stage_.state_known = based;
      if (log_stage_.events.size() != staged_events) {
        log_stage_.events.resize(staged_events);
        log_stage_.records.resize(staged_events);
        log_stage_.last_seq.clear();
        for (const store::EventRecord& e : log_stage_.events) {
          int64_t& last = log_stage_.last_seq[e.request_id];
          last = std::max(last, e.seq);
        }
      }
      return s;
    }
    batch_outbox_.insert(batch_outbox_.end(), c.outbox.begin(), c.outbox.end());
    return OkStatus();
  }
  store::Transaction tx(writer_->db.get());
  RETURN_IF_ERROR(tx.Begin());
  RETURN_IF_ERROR(Write(c));
  RETURN_IF_ERROR(DurableCommit(tx));
  if (!c.outbox.empty() && outbox_listener_) outbox_listener_(c.outbox);
  return OkStatus();
}

Status NodeService::Write(Change& c) {
  Connection& w = *writer_;
  // What the group read of these requests before is no longer what they are.
  if (c.update) group_requests_.erase(c.update->id);
  for (const auto& u : c.updates) group_requests_.erase(std::get<0>(u).id);
  if (c.insert) RETURN_IF_ERROR(w.store->InsertRequest(*c.insert));
  // A state change that leaves the request's documents as they were does not rewrite them.
  auto update = [&](const store::RequestRecord& record, int64_t version, bool same) {
    return same ? w.store->UpdateRequestState(record, version)
                : w.store->UpdateRequest(record, version);
  };
  if (c.update) RETURN_IF_ERROR(update(*c.update, c.expected_version, c.same_documents));
  for (const auto& [record, version, same] : c.updates) {
    RETURN_IF_ERROR(update(record, version, same));
  }

  std::vector<std::string> leaves;
  std::vector<BuiltLeaf> built;
  for (const PendingEvent& pe : c.events) {
    const store::EventRecord& e = pe.event;
    json::object record;
    record["v"] = kLeafVersion;
    record["request_id"] = e.request_id;
    record["request_sha256"] = pe.request_sha256;
    record["seq"] = e.seq;
    record["at"] = FormatTimestamp(FromMicros(e.at));
    record["actor"] = e.actor;
    record["action"] = e.action;
    if (e.from_state) record["from"] = *e.from_state;
    record["to"] = e.to_state;
    if (e.reason) record["reason"] = *e.reason;
    if (e.detail_json) {
      boost::system::error_code ec;
      record["detail"] = json::parse(*e.detail_json, ec);
      if (ec) return InternalError("an event's detail is not JSON: " + ec.message());
    }
    ASSIGN_OR_RETURN(BuiltLeaf b, BuildLeaf(pe.leaf, record));
    leaves.push_back(b.leaf);
    built.push_back(std::move(b));
  }
  if (!leaves.empty()) {
    uint64_t first = 0;
    if (batch_open_) {
      // Part of a group: staged, appended with the group's other entries before it commits.
      for (size_t i = 0; i < leaves.size(); ++i) {
        Status st = tlog::CheckEntrySize(leaves[i].size());
        if (!st.ok()) return st.WithContext("log entry " + std::to_string(i) + " of the change");
      }
      if (!log_stage_.state_known) {
        ASSIGN_OR_RETURN(log_stage_.state, log_->State());  // locks it (PostgreSQL)
        log_stage_.state_known = true;
      }
      first = log_stage_.state.size + log_stage_.leaves.size();
      for (std::string& l : leaves) log_stage_.leaves.push_back(std::move(l));
    } else {
      ASSIGN_OR_RETURN(tlog::AppendResult appended, log_->AppendInTransaction(leaves));
      first = appended.first_index;
    }
    for (size_t i = 0; i < c.events.size(); ++i) {
      store::EventRecord& e = c.events[i].event;
      e.log_index = static_cast<int64_t>(first + i);
      store::LogRecord record{e.log_index, built[i].salt_hex, built[i].record, e.at};
      if (batch_open_) {
        // Written with the group's others (several rows per statement) before it commits.
        int64_t& last = log_stage_.last_seq[e.request_id];
        last = std::max(last, e.seq);
        log_stage_.events.push_back(e);
        log_stage_.records.push_back(std::move(record));
      } else {
        RETURN_IF_ERROR(w.store->InsertEvent(e));
        RETURN_IF_ERROR(w.store->InsertLogRecord(record));
      }
    }
  }
  for (const store::OutboxMessage& m : c.outbox) RETURN_IF_ERROR(w.outbox->Enqueue(m));
  if (c.inbox) RETURN_IF_ERROR(w.store->InsertInbox(*c.inbox));
  for (const auto& [message_id, receipt] : c.delivered) {
    RETURN_IF_ERROR(w.outbox->MarkDelivered(message_id, receipt, ToMicros(options_.clock->Now())));
  }
  return OkStatus();
}

// --- group commit ---------------------------------------------------------------------------

namespace {
// How long a syncer waits for writers already under way to commit, so that one sync covers
// them too (only while some are; an idle node syncs at once).
constexpr auto kGatherWindow = std::chrono::microseconds(1500);
}  // namespace

// Holds mu_ for one write operation, and counts the operation as pending (a syncer may wait
// for it) until it has committed or ended.
class NodeService::WriteLock {
 public:
  explicit WriteLock(NodeService* s) : s_(s) {
    s_->writers_pending_.fetch_add(1);
    s_->mu_.lock();
    s_->write_lock_ = this;
  }
  ~WriteLock() {
    if (held_) Release();
    Committed();
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

  // The operation writes again after a commit: the commit re-takes mu_ after its sync.
  void KeepAfterCommit() { keep_ = true; }
  bool keep() const { return keep_; }
  void Release() {  // requires mu_
    held_ = false;
    s_->write_lock_ = nullptr;
    s_->mu_.unlock();
  }
  void Committed() {  // no longer pending
    if (!pending_) return;
    pending_ = false;
    if (s_->writers_pending_.fetch_sub(1) == 1 && s_->gathering_.load() > 0) {
      std::lock_guard<std::mutex> lock(s_->sync_mu_);
      s_->commit_cv_.notify_all();
    }
  }

 private:
  NodeService* s_;
  bool held_ = true;
  bool pending_ = true;
  bool keep_ = false;
};

// --- combined writes ------------------------------------------------------------------------

// Officers' writes (drafts, actions) that arrive while another is being written are combined:
// one thread (the leader) writes a group of them in ONE transaction and commits once, so that pages
// the writes share (the log's state and tiles, index pages) reach the WAL once per group instead of
// once per write. A write that fails is undone alone; if the group's commit fails, every write in
// it fails with that error (none was kept).
struct NodeService::CombinedJob {
  std::function<Status()> run;       // under mu_, inside the group's transaction
  std::function<void(Status)> fail;  // sets the caller's result to an error
  bool urgent = false;               // goes to the front of the queue
  bool grouped = false;              // a batch: in a group's transaction even alone
  std::string loads;                 // the request it loads, if known
  bool done = false;                 // GUARDED_BY(comb_mu_)
  // Wakes this job's thread alone: when its group is done, or when it is next to lead.
  std::condition_variable wake;
};

namespace {
constexpr size_t kMaxCombined = 32;  // writes in one group
}  // namespace

template <typename T, typename F>
StatusOr<T> NodeService::Combined(F f, bool urgent, std::string_view loads, bool grouped) {
  std::optional<StatusOr<T>> result;
  CombinedJob job;
  job.urgent = urgent;
  job.grouped = grouped;
  job.loads = std::string(loads);
  job.run = [&]() -> Status {
    result.emplace(f());
    return result->status();
  };
  job.fail = [&](Status why) { result.emplace(std::move(why)); };
  RunCombined(&job);
  if (!result) return InternalError("a combined write produced no result");
  return std::move(*result);
}

void NodeService::RunCombined(CombinedJob* job) {
  std::unique_lock<std::mutex> lock(comb_mu_);
  // The average gap between writes, weighted 1/8 to the newest (capped: one long pause must
  // not take long to forget).
  const auto now = std::chrono::steady_clock::now();
  const int64_t gap = std::min<int64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now - comb_last_arrival_).count(),
      1'000'000);
  comb_last_arrival_ = now;
  comb_gap_us_ += (gap - comb_gap_us_) / 8;
  if (job->urgent) {
    comb_queue_.push_front(job);
  } else {
    comb_queue_.push_back(job);
  }
  if (comb_want_ != 0 && comb_queue_.size() >= comb_want_) comb_grown_.notify_one();
  while (!job->done) {
    if (comb_leading_) {
      // Only this job's own thread is woken (not every waiting one): by the leader of its group
      // when the group is done, or by the last leader when the queue is its to lead.
      job->wake.wait(lock);
      continue;
    }
    comb_leading_ = true;
    Linger(lock);
    std::vector<CombinedJob*> group;
    while (!comb_queue_.empty() && group.size() < kMaxCombined) {
      group.push_back(comb_queue_.front());
      comb_queue_.pop_front();
    }
    ++write_groups_;
    comb_last_group_ = group.size();
    lock.unlock();
    std::vector<store::OutboxMessage> enqueued = LeadCombined(group);
    lock.lock();
    for (CombinedJob* j : group) {
      j->done = true;
      if (j != job) j->wake.notify_one();
    }
    comb_leading_ = false;
    if (!comb_queue_.empty() && comb_queue_.front() != job) comb_queue_.front()->wake.notify_one();
    if (!enqueued.empty() && outbox_listener_) {
      // Handed over once the group's writers are released and the next group may start.
      lock.unlock();
      outbox_listener_(std::move(enqueued));
      lock.lock();
    }
  }
}

bool ShouldLinger(std::chrono::microseconds linger, size_t queued, int64_t average_gap_us,
                  size_t last_group) {
  // Not when writes come further apart than twice the wait, nor when no two writes have met
  // (this one alone, and the last group a lone write): a single client writing one thing after
  // another would only be delayed.
  return linger.count() > 0 && queued < kLingerBelow && average_gap_us <= 2 * linger.count() &&
         (queued >= 2 || last_group >= 2);
}

void NodeService::Linger(std::unique_lock<std::mutex>& lock) {
  if (!ShouldLinger(options_.group_linger, comb_queue_.size(), comb_gap_us_, comb_last_group_)) {
    return;
  }
  // The whole wait, unless the queue fills a group: going at the first write to come would
  // gather less (measured: bench/README.md, "Waiting for more writes").
  comb_want_ = kMaxCombined;
  ++lingers_;
  comb_grown_.wait_for(lock, options_.group_linger,
                       [&] { return comb_queue_.size() >= comb_want_; });
  comb_want_ = 0;
}

int64_t NodeService::StagedLastSeq(const std::string& request_id) const {
  if (!batch_open_) return 0;
  auto it = log_stage_.last_seq.find(request_id);
  return it == log_stage_.last_seq.end() ? 0 : it->second;
}

void NodeService::BeginGroup() {
  batch_open_ = true;
  batch_outbox_.clear();
  batch_broken_ = OkStatus();
  log_stage_ = LogStage{};
  group_reads_.reset();
  group_requests_.clear();
}

Status NodeService::SendGroupReads() {
  RETURN_IF_ERROR(writer_->log_storage->SendStateRead());
  return writer_->store->SendGroupReads();
}

Status NodeService::PrefetchRequests(const std::vector<CombinedJob*>& group) {
  std::vector<std::string_view> ids;
  std::set<std::string_view> seen;
  for (const CombinedJob* j : group) {
    if (!j->loads.empty() && seen.insert(j->loads).second) ids.push_back(j->loads);
  }
  if (ids.size() < 2) return OkStatus();  // one read either way
  ASSIGN_OR_RETURN(auto found, writer_->store->GetRequestsAndLastSeq(ids));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (found[i]) group_requests_.emplace(std::string(ids[i]), std::move(*found[i]));
  }
  return OkStatus();
}

Status NodeService::EndGroup() {
  batch_open_ = false;
  group_reads_.reset();
  group_requests_.clear();
  LogStage stage = std::move(log_stage_);
  log_stage_ = LogStage{};
  RETURN_IF_ERROR(batch_broken_);  // nothing of the group will be kept
  if (stage.leaves.empty()) return OkStatus();
  // The state read by the group's first change is locked until the commit (PostgreSQL), or the
  // transaction holds the database's write lock (SQLite): nobody else can have appended since,
  // and it need not be read again.
  RETURN_IF_ERROR(log_->AppendInTransaction(stage.leaves, std::move(stage.state)).status());
  RETURN_IF_ERROR(writer_->store->InsertEvents(stage.events));
  return writer_->store->InsertLogRecords(stage.records);
}

std::vector<store::OutboxMessage> NodeService::LeadCombined(
    const std::vector<CombinedJob*>& group) {
  WriteLock lock(this);
  if (group.size() == 1 && !group.front()->grouped) {
    // Alone: its own transactions (Commit, which hands over what each enqueued), and the
    // writer back after each sync.
    lock.KeepAfterCommit();
    group.front()->run().IgnoreError();  // the caller's result is set
    return {};
  }
  store::Database& db = *writer_->db;
  // First optimistically: the changes are written without savepoints (on PostgreSQL every write
  // is pipelined), so that a change costs no round trip of its own. Should the database refuse
  // any write — at once or at the commit — nothing of that pass is kept: the group is then
  // written again, each change in its own savepoint and checked as it is released, so that the
  // one that fails is undone alone.
  for (const bool optimistic : {true, false}) {
    store::Transaction tx(&db);
    if (Status begun = tx.Begin(); !begun.ok()) {
      for (CombinedJob* j : group) j->fail(begun);
      return {};
    }
    BeginGroup();
    optimistic_ = optimistic;
    Status read = SendGroupReads();
    if (read.ok()) read = PrefetchRequests(group);
    if (!read.ok()) {
      EndGroup().IgnoreError();
      optimistic_ = false;
      db.Rollback().IgnoreError();
      for (CombinedJob* j : group) j->fail(read);
      return {};
    }
    // Commit writes each change (second pass: in its own savepoint, undone alone if it fails).
    std::vector<CombinedJob*> written;
    for (CombinedJob* j : group) {
      if (!batch_broken_.ok()) {
        j->fail(batch_broken_);
        continue;
      }
      if (j->run().ok()) written.push_back(j);
    }
    optimistic_ = false;
    Status committed = EndGroup();
    // Taken under mu_, which the commit lets go.
    std::vector<store::OutboxMessage> enqueued = std::move(batch_outbox_);
    batch_outbox_.clear();
    bool kept = false;
    if (committed.ok()) committed = DurableCommit(tx, &kept);
    if (kept) {
      // mu_ is released: the group is committed, and written again by nobody.
      if (!committed.ok()) {
        for (CombinedJob* j : written) j->fail(committed);  // kept, but not known durable
        return {};
      }
      combined_writes_ += written.size();
      return enqueued;
    }
    if (db.in_transaction()) db.Rollback().IgnoreError();
    if (!optimistic) {
      for (CombinedJob* j : written) j->fail(committed);
      return {};
    }
    spdlog::debug("a group of {} writes failed to commit ({}); writing it again, change by change",
                  group.size(), committed.ToString());
  }
  return {};
}

void NodeService::PublishCommitted(uint64_t seq) {
  if (write_lock_ != nullptr) write_lock_->Committed();
  std::lock_guard<std::mutex> lock(sync_mu_);
  committed_seq_ = seq;  // writers are serialised by mu_: numbers complete in order
  if (commit_waiters_ > 0) commit_cv_.notify_all();
}

Status NodeService::AfterCommit(uint64_t seq) {
  if (!group_sync_) return OkStatus();
  if (write_lock_ != nullptr && !write_lock_->keep()) {
    // The commit was the operation's last use of the writer: let the next writer in for good.
    write_lock_->Release();
    return SyncTo(seq);
  }
  WriteLock* const mine = write_lock_;
  mu_.unlock();
  Status synced = SyncTo(seq);
  mu_.lock();
  write_lock_ = mine;
  return synced;
}

Status NodeService::DurableCommit(store::Transaction& tx, bool* kept) {
  const uint64_t seq = ++reserved_seq_;
  Status committed = tx.Commit();
  PublishCommitted(seq);
  if (kept != nullptr) *kept = committed.ok();
  RETURN_IF_ERROR(committed);
  return AfterCommit(seq);
}

Status NodeService::Durable() {
  const uint64_t seq = ++reserved_seq_;
  PublishCommitted(seq);
  return AfterCommit(seq);
}

Status NodeService::SyncTo(uint64_t seq) {
  if (!group_sync_) return OkStatus();
  std::unique_lock<std::mutex> lock(sync_mu_);
  // A commit that has its number but is still writing cannot be covered by a sync yet.
  if (committed_seq_.load() < seq) {
    ++commit_waiters_;
    commit_cv_.wait(lock, [&] { return committed_seq_.load() >= seq; });
    --commit_waiters_;
  }
  while (synced_seq_ < seq) {
    if (syncing_) {
      sync_cv_.wait(lock);
      continue;
    }
    // Become the syncer: first let the writers under way commit (briefly), then sync every
    // commit whose frames are in the WAL by then.
    syncing_ = true;
    if (writers_pending_.load() > 0) {
      ++gathering_;
      commit_cv_.wait_until(lock, std::chrono::steady_clock::now() + kGatherWindow,
                            [&] { return writers_pending_.load() == 0; });
      --gathering_;
    }
    const uint64_t target = committed_seq_.load();
    lock.unlock();
    Status s = SyncWal();
    lock.lock();
    syncing_ = false;
    if (s.ok()) synced_seq_ = std::max(synced_seq_, target);
    sync_cv_.notify_all();
    if (!s.ok()) return s;
  }
  return OkStatus();
}

Status NodeService::SyncWal() {
  if (options_.before_sync) RETURN_IF_ERROR(options_.before_sync());
  if (sync_db_) {
    // PostgreSQL: a transaction with a transaction id commits with a commit record, and with
    // synchronous_commit on it waits until the WAL is flushed up to it. One statement in a
    // transaction of its own (implicit: no BEGIN and COMMIT to run besides).
    ASSIGN_OR_RETURN(store::Statement * st,
                     sync_db_->Prepare("SELECT CAST(pg_current_xact_id() AS TEXT)"));
    RETURN_IF_ERROR(st->Run());
    ++syncs_;
    return OkStatus();
  }
  // The WAL keeps its inode while the node's connections are open (SQLite resets it in place);
  // reopen if it was replaced anyway.
  struct stat by_path {};
  struct stat by_fd {};
  if (wal_fd_ >= 0 && (::fstat(wal_fd_, &by_fd) != 0 || ::stat(wal_path_.c_str(), &by_path) != 0 ||
                       by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev)) {
    ::close(wal_fd_);
    wal_fd_ = -1;
  }
  if (wal_fd_ < 0) {
    wal_fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) {
      return UnavailableError("cannot open " + wal_path_ +
                              " to make commits durable: " + std::strerror(errno));
    }
  }
  if (::fdatasync(wal_fd_) != 0) {
    return UnavailableError("fdatasync of " + wal_path_ + " failed: " + std::strerror(errno));
  }
  ++syncs_;
  return OkStatus();
}

StatusOr<store::RequestRecord> NodeService::LoadForUpdate(std::string_view id,
                                                          std::optional<int64_t> expected_version,
                                                          int64_t* next_seq) {
  std::optional<std::pair<store::RequestRecord, int64_t>> loaded;
  if (auto it = group_requests_.find(id); it != group_requests_.end()) {
    loaded = std::move(it->second);  // read with the group's other requests
    group_requests_.erase(it);
  } else {
    ASSIGN_OR_RETURN(loaded, writer_->store->GetRequestAndLastSeq(id));
  }
  if (!loaded) return NotFoundError("no request with id " + std::string(id));
  std::optional<store::RequestRecord> r = std::move(loaded->first);
  *next_seq = std::max(loaded->second, StagedLastSeq(r->id)) + 1;
  if (expected_version && *expected_version != r->version) {
    return AbortedError("request " + r->id + " is at version " + std::to_string(r->version) +
                        ", not " + std::to_string(*expected_version) +
                        " as expected: someone changed it; reload it and retry");
  }
  return *r;
}

StatusOr<std::shared_ptr<const StateProfile>> NodeService::Profile(std::string_view code) {
  auto missing = [&] {
    return NotFoundError("no profile for state " + std::string(code) +
                         "; an admin can add one (PUT /api/v1/profiles/" + std::string(code) + ")");
  };
  if (batch_open_) {
    // In a group: the versions read at its start say whether the parsed profile kept here is
    // still the stored one.
    if (!group_reads_) {
      ASSIGN_OR_RETURN(group_reads_, writer_->store->ReadGroupReads());
    }
    auto version = group_reads_->profile_versions.find(code);
    if (version == group_reads_->profile_versions.end()) return missing();
    auto cached = profile_cache_.find(std::string(code));
    if (cached != profile_cache_.end() && cached->second.sha256 == version->second) {
      return cached->second.profile;
    }
  }
  ASSIGN_OR_RETURN(std::optional<store::ProfileRecord> r, writer_->store->GetProfile(code));
  if (!r) return missing();
  auto it = profile_cache_.find(r->code);
  if (it != profile_cache_.end() && it->second.sha256 == r->sha256) return it->second.profile;
  StatusOr<StateProfile> p = ParseProfile(r->profile_json);
  if (!p.ok())
    return DataLossError("the stored profile " + r->code + " is invalid: " + p.status().message());
  auto shared = std::make_shared<const StateProfile>(std::move(*p));
  profile_cache_[r->code] = CachedProfile{r->sha256, shared};
  return shared;
}

StatusOr<bool> NodeService::PeerKnown(const std::string& state) {
  if (batch_open_) {
    if (!group_reads_) {
      ASSIGN_OR_RETURN(group_reads_, writer_->store->ReadGroupReads());
    }
    return group_reads_->peer_states.count(state) != 0;
  }
  ASSIGN_OR_RETURN(std::optional<store::PeerRecord> peer, writer_->store->GetPeer(state));
  return peer.has_value();
}

StatusOr<Decision> NodeService::Screen(const Request& request) {
  auto requesting = Profile(request.requesting_state.str());
  auto requested = Profile(request.requested_state.str());
  for (auto* p : {&requesting, &requested}) {
    if (!p->ok()) {
      const bool ours =
          (p == &requesting ? request.requesting_state : request.requested_state) == options_.state;
      const char* pointer = p == &requesting ? "/requesting_state" : "/requested_state";
      if (p->status().code() == StatusCode::kNotFound && !ours) {
        return InvalidArgumentError(std::string(pointer) + ": " + p->status().message(), pointer);
      }
      if (p->status().code() == StatusCode::kNotFound) {
        return FailedPreconditionError("this node's own profile is missing: " +
                                       p->status().message());
      }
      return p->status();
    }
  }
  return options_.rules->Screen(request, **requesting, **requested);
}

StatusOr<std::string> NodeService::NextRequestId() {
  const Timestamp now = options_.clock->Now();
  const CivilDate d = CivilFromDays(static_cast<int32_t>(now.seconds / 86400));
  return options_.state.str() + "-" + std::to_string(d.year) + "-" +
         crypto::HexEncode(crypto::RandomString(8));
}

StatusOr<std::optional<IncomingResult>> NodeService::CheckDuplicate(std::string_view message_id,
                                                                    std::string_view body) {
  ASSIGN_OR_RETURN(std::optional<store::InboxRecord> seen, writer_->store->GetInbox(message_id));
  return DuplicateOf(seen, message_id, body);
}

StatusOr<std::optional<IncomingResult>> NodeService::DuplicateOf(
    const std::optional<store::InboxRecord>& seen, std::string_view message_id,
    std::string_view body) {
  if (!seen) return std::optional<IncomingResult>();
  if (seen->body_sha256 != Sha256Hex(body)) {
    return AlreadyExistsError("message " + std::string(message_id) +
                              " was already received with different content (a replay)");
  }
  IncomingResult r;
  r.duplicate = true;
  if (seen->request_id) {
    r.request_id = *seen->request_id;
    ASSIGN_OR_RETURN(std::optional<store::RequestRecord> rec,
                     writer_->store->GetRequest(r.request_id));
    if (rec) r.state = rec->state;
  }
  return std::optional<IncomingResult>(r);
}

// --- people --------------------------------------------------------------------------------

StatusOr<DraftResult> NodeService::CreateDraft(const Principal& who,
                                               std::string_view request_json) {
  if (who.system || !Allows(who.role, Permission::kDraft)) {
    return PermissionDeniedError("drafting requests is for officers and supervisors");
  }
  ASSIGN_OR_RETURN(json::value v, ParseJson(request_json));
  if (v.is_object()) {
    if (v.as_object().contains("id")) {
      return InvalidArgumentError("the node assigns request ids; leave out \"id\"", "/id");
    }
    if (v.as_object().contains("created")) {
      return InvalidArgumentError("the node sets \"created\" when the request is submitted",
                                  "/created");
    }
  }
  ASSIGN_OR_RETURN(Request request, RequestFromJson(v));
  if (request.requesting_state != options_.state) {
    return InvalidArgumentError("this node drafts requests of " + options_.state.str() + ", not " +
                                    request.requesting_state.str(),
                                "/requesting_state");
  }
  if (request.requested_state == options_.state) {
    return InvalidArgumentError("a state does not send requests to itself", "/requested_state");
  }

  return Combined<DraftResult>([&]() -> StatusOr<DraftResult> {
    const Timestamp now = options_.clock->Now();
    ASSIGN_OR_RETURN(std::string id, NextRequestId());
    request.id = id;
    request.created = Timestamp{now.seconds, 0};  // indicative until submission
    ASSIGN_OR_RETURN(Decision screening, Screen(request));
    screening.request_id = id;

    store::RequestRecord r;
    r.id = id;
    r.direction = std::string(kOutgoing);
    r.state = std::string(EnumName(RequestState::kDraft));
    r.requesting_state = request.requesting_state.str();
    r.requested_state = request.requested_state.str();
    r.urgency = std::string(EnumName(request.urgency));
    r.request_json = Serialize(RequestToJson(request));
    r.screening_json = Serialize(DecisionToJson(screening));
    r.screening_outcome = std::string(EnumName(screening.outcome));
    if (screening.respond_by) r.respond_by = ToMicros(*screening.respond_by);
    r.awaiting_answer = false;
    r.created_by = who.name;
    r.created = ToMicros(now);
    r.updated = r.created;
    r.version = 1;

    Change c;
    c.insert = r;
    PendingEvent pe;
    pe.event = {id,
                1,
                r.created,
                who.name,
                "create",
                std::nullopt,
                r.state,
                std::nullopt,
                Serialize(json::object{{"screening", *r.screening_outcome}}),
                0};
    pe.leaf = LeafFromRequest(kLeafRequestDrafted, now, request);
    pe.leaf.outcome = r.screening_outcome;
    pe.leaf.rules = FiredRules(screening);
    pe.request_sha256 = Sha256Hex(r.request_json);
    c.events.push_back(std::move(pe));
    RETURN_IF_ERROR(Commit(c));
    return DraftResult{std::move(r), std::move(screening)};
  });
}

StatusOr<store::RequestRecord> NodeService::Act(const Principal& who, std::string_view id,
                                                const ActionInput& in) {
  const Action a = in.action;
  if (!IsPersonAction(a)) {
    return PermissionDeniedError(std::string(EnumName(a)) +
                                 " is recorded by the node itself, not by a person");
  }
  if (in.reasons.size() > kMaxReasonBytes) {
    return InvalidArgumentError(
        "reasons are longer than " + std::to_string(kMaxReasonBytes) + " bytes", "/reasons");
  }
  if (in.information.size() > kMaxInformationBytes) {
    return InvalidArgumentError(
        "information is longer than " + std::to_string(kMaxInformationBytes) + " bytes",
        "/information");
  }
  if (!in.conditions.empty() && a != Action::kExecuteWithConditions) {
    return InvalidArgumentError("conditions go with execute_with_conditions only", "/conditions");
  }
  RETURN_IF_ERROR(CheckConditions(in.conditions));
  if (a == Action::kReplyInformation && Blank(in.information)) {
    return InvalidArgumentError("say what information you send", "/information");
  }
  if (a != Action::kReplyInformation && !in.information.empty()) {
    return InvalidArgumentError("information goes with reply only", "/information");
  }

  // The change, run under the writer inside a group of combined writes that reads `id` with
  // the group's other requests first (PrefetchRequests).
  auto change = [&]() -> StatusOr<store::RequestRecord> {
    int64_t seq = 0;
    ASSIGN_OR_RETURN(store::RequestRecord r, LoadForUpdate(id, in.expected_version, &seq));
    ASSIGN_OR_RETURN(RequestState from, StoredState(r));

    workflow::ActionContext ctx;
    ctx.reasons = in.reasons;
    ctx.condition_count = static_cast<int>(in.conditions.size());
    if (r.screening_outcome) {
      ctx.screening_outcome = ParseEnum<Outcome>(*r.screening_outcome).value_or(Outcome::kProceed);
    }
    const std::optional<Actor> required = workflow::RequiredActor(DirectionOf(r), from, a);
    if (required) {
      const bool may = (*required == Actor::kOfficer && Allows(who.role, Permission::kDraft)) ||
                       (*required == Actor::kReviewer && Allows(who.role, Permission::kDecide));
      if (who.system || !may) {
        return PermissionDeniedError(std::string(EnumName(a)) + " on this " + r.direction +
                                     " request is taken by " +
                                     (*required == Actor::kOfficer ? "an officer or a supervisor"
                                                                   : "a reviewer or a supervisor") +
                                     "; " + who.name + " is " + std::string(EnumName(who.role)));
      }
      ctx.actor = *required;
    }
    // Without a transition for (from, a), ApplyAction answers kFailedPrecondition listing what is
    // allowed.
    ASSIGN_OR_RETURN(RequestState to, workflow::ApplyAction(DirectionOf(r), from, a, ctx));

    const Timestamp now = options_.clock->Now();
    const int64_t now_us = ToMicros(now);
    ASSIGN_OR_RETURN(Request request, ParseRequest(r.request_json));

    store::RequestRecord updated = r;
    updated.state = std::string(EnumName(to));
    updated.updated = now_us;
    updated.version = r.version + 1;
    updated.awaiting_answer = Awaiting(r.direction, to);

    Change c;
    PendingEvent pe;
    pe.event.request_id = r.id;
    pe.event.seq = seq;
    pe.event.at = now_us;
    pe.event.actor = who.name;
    pe.event.action = std::string(EnumName(a));
    pe.event.from_state = r.state;
    pe.event.to_state = updated.state;
    if (!Blank(in.reasons)) pe.event.reason = in.reasons;
    json::object detail;

    auto enqueue = [&](std::string recipient, std::string kind, std::string body) -> Status {
      ASSIGN_OR_RETURN(bool peer, PeerKnown(recipient));
      if (!peer) {
        return FailedPreconditionError("no peer for " + recipient +
                                       ": an admin must add it (POST /api/v1/peers) before "
                                       "messages can be sent there");
      }
      store::OutboxMessage m;
      m.message_id = federation::NewMessageId();
      m.recipient = std::move(recipient);
      m.kind = std::move(kind);
      m.body = std::move(body);
      m.request_id = r.id;
      m.created = now_us;
      m.next_attempt = now_us;
      detail["message_id"] = m.message_id;
      c.outbox.push_back(std::move(m));
      return OkStatus();
    };

    switch (a) {
      case Action::kSubmit: {
        // The request as sent: created now, screened again with the profiles of today.
        request.created = Timestamp{now.seconds, 0};
        ASSIGN_OR_RETURN(Decision screening, Screen(request));
        screening.request_id = r.id;
        updated.request_json = Serialize(RequestToJson(request));
        updated.screening_json = Serialize(DecisionToJson(screening));
        updated.screening_outcome = std::string(EnumName(screening.outcome));
        updated.respond_by.reset();
        if (screening.respond_by) updated.respond_by = ToMicros(*screening.respond_by);
        RETURN_IF_ERROR(enqueue(r.requested_state, "request", updated.request_json));
        detail["screening"] = *updated.screening_outcome;
        pe.leaf = LeafFromRequest(kLeafRequestSent, now, request);
        pe.leaf.outcome = updated.screening_outcome;
        pe.leaf.rules = FiredRules(screening);
        break;
      }
      case Action::kWithdraw:
        pe.leaf = LeafFromRequest(kLeafRequestWithdrawn, now, request);
        break;
      case Action::kReplyInformation: {
        json::object body;
        body["schema"] = kInformationReplySchema;
        body["request_id"] = r.id;
        body["information"] = in.information;
        body["sent"] = FormatTimestamp(Timestamp{now.seconds, 0});
        RETURN_IF_ERROR(enqueue(r.requested_state, "information_reply", Serialize(body)));
        detail["information"] = in.information;
        pe.leaf = LeafFromRequest(kLeafInformationReplySent, now, request);
        break;
      }
      case Action::kClose:
        if (r.direction == kIncoming &&
            (from == RequestState::kPostponed || from == RequestState::kInformationRequested)) {
          // Closed without a final decision: the requesting state is told, with the reasons
          // (its request would otherwise wait on a postponement or an information request).
          json::object answer =
              AnswerJson(r.id, RequestState::kClosed, in.reasons, {}, Timestamp{now.seconds, 0});
          ASSIGN_OR_RETURN(std::string answer_text, CanonicalJson(answer));
          updated.decision_json = answer_text;
          updated.conditions_json.reset();
          RETURN_IF_ERROR(enqueue(r.requesting_state, "decision", answer_text));
          detail["decision"] = answer;
        }
        pe.leaf = LeafFromRequest(kLeafRequestClosed, now, request);
        break;
      default: {  // the decide actions
        json::object answer =
            AnswerJson(r.id, to, in.reasons, in.conditions, Timestamp{now.seconds, 0});
        ASSIGN_OR_RETURN(std::string answer_text, CanonicalJson(answer));
        updated.decision_json = answer_text;
        updated.conditions_json.reset();
        if (!in.conditions.empty())
          updated.conditions_json = Serialize(ConditionsJson(in.conditions));
        RETURN_IF_ERROR(enqueue(
            r.requesting_state,
            a == Action::kRequestInformation ? "information_request" : "decision", answer_text));
        detail["decision"] = answer;
        pe.leaf = LeafFromRequest(kLeafRequestDecided, now, request);
        pe.leaf.outcome = updated.state;
        pe.leaf.screening = r.screening_outcome;
        break;
      }
    }
    if (!detail.empty()) pe.event.detail_json = Serialize(detail);
    pe.request_sha256 = Sha256Hex(updated.request_json);
    c.events.push_back(std::move(pe));
    c.update = updated;
    c.expected_version = r.version;
    c.same_documents = store::NodeStore::SameDocuments(r, updated);
    RETURN_IF_ERROR(Commit(c));
    return updated;
  };
  return Combined<store::RequestRecord>(change, /*urgent=*/false, id);
}

StatusOr<store::RequestRecord> NodeService::Assign(const Principal& who, std::string_view id,
                                                   std::string_view assignee,
                                                   std::optional<int64_t> expected_version) {
  if (who.system || !Allows(who.role, Permission::kAssign)) {
    return PermissionDeniedError("reassigning requests is for supervisors");
  }
  WriteLock lock(this);
  int64_t seq = 0;
  ASSIGN_OR_RETURN(store::RequestRecord r, LoadForUpdate(id, expected_version, &seq));
  ASSIGN_OR_RETURN(RequestState state, StoredState(r));
  if (workflow::IsTerminal(state)) {
    return FailedPreconditionError("request " + r.id + " is " + r.state +
                                   "; there is nothing left to assign");
  }
  ASSIGN_OR_RETURN(std::optional<store::UserRecord> user, writer_->store->GetUser(assignee));
  if (!user || user->revoked) {
    return InvalidArgumentError("no active user named \"" + std::string(assignee) + "\"",
                                "/assignee");
  }
  auto role = ParseEnum<Role>(user->role);
  if (!role || !(Allows(*role, Permission::kDraft) || Allows(*role, Permission::kDecide))) {
    return InvalidArgumentError("\"" + std::string(assignee) + "\" is " + user->role +
                                    "; requests go to officers, reviewers or supervisors",
                                "/assignee");
  }
  const Timestamp now = options_.clock->Now();
  ASSIGN_OR_RETURN(Request request, ParseRequest(r.request_json));
  store::RequestRecord updated = r;
  updated.assignee = std::string(assignee);
  updated.updated = ToMicros(now);
  updated.version = r.version + 1;

  json::object detail;
  detail["assignee"] = std::string(assignee);
  if (r.assignee) detail["previous"] = *r.assignee;
  Change c;
  PendingEvent pe;
  pe.event = {r.id,    seq,     updated.updated, who.name,          "assign",
              r.state, r.state, std::nullopt,    Serialize(detail), 0};
  pe.leaf = LeafFromRequest(kLeafRequestAssigned, now, request);
  pe.request_sha256 = Sha256Hex(r.request_json);
  c.events.push_back(std::move(pe));
  c.update = updated;
  c.expected_version = r.version;
  c.same_documents = store::NodeStore::SameDocuments(r, updated);
  RETURN_IF_ERROR(Commit(c));
  return updated;
}

StatusOr<RequestView> NodeService::GetRequest(std::string_view id) {
  const int64_t now = ToMicros(options_.clock->Now());
  return WithReader([&](Connection& c) -> StatusOr<RequestView> {
    RETURN_IF_ERROR(c.db->BeginRead());
    ASSIGN_OR_RETURN(std::optional<store::RequestRecord> r, c.store->GetRequest(id));
    if (!r) return NotFoundError("no request with id " + std::string(id));
    RequestView v;
    ASSIGN_OR_RETURN(v.events, c.store->ListEvents(id));
    v.record = std::move(*r);
    ASSIGN_OR_RETURN(RequestState s, StoredState(v.record));
    v.allowed = workflow::AllowedActions(DirectionOf(v.record), s);
    v.overdue = v.record.awaiting_answer && v.record.respond_by && *v.record.respond_by < now;
    // The messages its events name that this node sent (the others were received).
    std::set<std::string> seen;
    for (const store::EventRecord& e : v.events) {
      if (!e.detail_json) continue;
      boost::system::error_code ec;
      json::value detail = json::parse(*e.detail_json, ec);
      const json::value* m =
          ec || !detail.is_object() ? nullptr : detail.as_object().if_contains("message_id");
      if (m == nullptr || !m->is_string()) continue;
      std::string message_id(m->as_string());
      if (!seen.insert(message_id).second) continue;
      ASSIGN_OR_RETURN(std::optional<store::OutboxMessage> sent, c.outbox->Get(message_id));
      if (sent && sent->request_id == v.record.id) v.messages.push_back(std::move(*sent));
    }
    return v;
  });
}

StatusOr<RequestPage> NodeService::ListRequests(const RequestQuery& q) {
  store::RequestFilter f;
  if (!q.direction.empty() && q.direction != kOutgoing && q.direction != kIncoming) {
    return InvalidArgumentError("direction must be outgoing or incoming, not \"" + q.direction +
                                "\"");
  }
  f.direction = q.direction;
  if (!q.state.empty() && !ParseEnum<RequestState>(q.state)) {
    return InvalidArgumentError("\"" + q.state + "\" is not a request state");
  }
  f.state = q.state;
  for (const std::string* s : {&q.requesting_state, &q.requested_state}) {
    if (!s->empty() && !IsStateCode(*s)) {
      return InvalidArgumentError("\"" + *s + "\" is not a state code such as XA");
    }
  }
  f.requesting_state = q.requesting_state;
  f.requested_state = q.requested_state;
  f.overdue = q.overdue;
  f.now = ToMicros(options_.clock->Now());
  if (!q.cursor.empty()) {
    ASSIGN_OR_RETURN(f.after, DecodeCursor(q.cursor));
  }
  if (q.limit < 1 || q.limit > store::kMaxPageSize) {
    return InvalidArgumentError("limit must be between 1 and " +
                                std::to_string(store::kMaxPageSize));
  }
  // One more row than asked tells whether there is a next page.
  f.limit = q.limit + 1 > store::kMaxPageSize ? store::kMaxPageSize : q.limit + 1;
  return WithReader([&](Connection& c) -> StatusOr<RequestPage> {
    ASSIGN_OR_RETURN(std::vector<store::RequestRecord> rows, c.store->ListRequests(f));
    RequestPage page;
    const bool more = static_cast<int>(rows.size()) > q.limit;
    if (more) rows.resize(static_cast<size_t>(q.limit));
    if (more && !rows.empty()) page.next_cursor = EncodeCursor(rows.back().created, rows.back().id);
    page.items = std::move(rows);
    return page;
  });
}

// --- directory -----------------------------------------------------------------------------

StatusOr<NewUser> NodeService::AddUser(const Principal& who, std::string_view name, Role role) {
  if (who.system || !Allows(who.role, Permission::kManageUsers)) {
    return PermissionDeniedError("managing users is for admins");
  }
  WriteLock lock(this);
  ASSIGN_OR_RETURN(NewUser u, node::AddUser(*writer_->store, name, role, who.name,
                                            ToMicros(options_.clock->Now())));
  RETURN_IF_ERROR(Durable());
  return u;
}

Status NodeService::RevokeUser(const Principal& who, std::string_view name) {
  if (who.system || !Allows(who.role, Permission::kManageUsers)) {
    return PermissionDeniedError("managing users is for admins");
  }
  WriteLock lock(this);
  RETURN_IF_ERROR(
      node::RevokeUser(*writer_->store, name, who.name, ToMicros(options_.clock->Now())));
  return Durable();
}

StatusOr<std::vector<store::UserRecord>> NodeService::ListUsers() {
  return WithReader([](Connection& c) { return c.store->ListUsers(); });
}

StatusOr<Principal> NodeService::Authenticate(std::string_view token) {
  return WithReader([&](Connection& c) -> StatusOr<Principal> {
    ASSIGN_OR_RETURN(store::UserRecord u, node::Authenticate(*c.store, token));
    auto role = ParseEnum<Role>(u.role);
    if (!role) return DataLossError("user " + u.name + " has an unknown role \"" + u.role + "\"");
    return Principal{u.name, *role, false};
  });
}

StatusOr<store::PeerRecord> NodeService::AddPeer(const Principal& who, const PeerInput& peer,
                                                 bool replace) {
  if (who.system || !Allows(who.role, Permission::kManagePeers)) {
    return PermissionDeniedError("managing peers is for admins");
  }
  WriteLock lock(this);
  ASSIGN_OR_RETURN(store::PeerRecord p, node::AddPeer(*writer_->store, peer, options_.state.str(),
                                                      replace, ToMicros(options_.clock->Now())));
  RETURN_IF_ERROR(Durable());
  return p;
}

StatusOr<std::vector<store::PeerRecord>> NodeService::ListPeers() {
  return WithReader([](Connection& c) { return c.store->ListPeers(); });
}

StatusOr<store::ProfileRecord> NodeService::PutProfile(const Principal& who, std::string_view code,
                                                       std::string_view json_text) {
  if (who.system || !Allows(who.role, Permission::kManageProfiles)) {
    return PermissionDeniedError("managing profiles is for admins");
  }
  WriteLock lock(this);
  ASSIGN_OR_RETURN(store::ProfileRecord p,
                   node::PutProfile(*writer_->store, code, json_text, who.name,
                                    ToMicros(options_.clock->Now())));
  RETURN_IF_ERROR(Durable());
  return p;
}

StatusOr<std::optional<store::ProfileRecord>> NodeService::GetProfile(std::string_view code) {
  return WithReader([&](Connection& c) { return c.store->GetProfile(code); });
}

StatusOr<std::vector<store::ProfileRecord>> NodeService::ListProfiles() {
  return WithReader([](Connection& c) { return c.store->ListProfiles(); });
}

// --- federation seams ----------------------------------------------------------------------

// A message found received before is answered (as a duplicate, with a receipt) only once its
// receiving is durable: the commit that kept it may still be syncing in another thread, or have
// failed to. (In a group, the group's own sync covers it.)
StatusOr<IncomingResult> NodeService::AnsweredDurably(StatusOr<IncomingResult> r) {
  if (r.ok() && r->duplicate) RETURN_IF_ERROR(SyncReserved());
  return r;
}

namespace {
Status CheckSender(std::string_view from_state, std::string_view message_id) {
  if (!IsStateCode(from_state)) {
    return InvalidArgumentError("sender \"" + std::string(from_state) + "\" is not a state code");
  }
  if (!IsMessageId(message_id)) {
    return InvalidArgumentError("message id \"" + std::string(message_id.substr(0, 64)) +
                                "\" is not 32 lowercase hex digits");
  }
  return OkStatus();
}
}  // namespace

// One received message: a batch of one, so that it is written with whatever else is being
// written (combined writes), like a batch. A malformed sender or id is refused before it joins.
StatusOr<IncomingResult> NodeService::AcceptOne(const IncomingMessage& m) {
  RETURN_IF_ERROR(CheckSender(m.from_state, m.message_id));
  std::vector<StatusOr<IncomingResult>> r = AcceptIncomingBatch(std::span(&m, 1));
  return std::move(r.front());
}

StatusOr<IncomingResult> NodeService::AcceptIncomingRequest(std::string_view from_state,
                                                            std::string_view message_id,
                                                            std::string_view request_json) {
  return AcceptOne({from_state, message_id, "request", request_json});
}

StatusOr<IncomingResult> NodeService::AcceptIncomingRequestLocked(std::string_view from_state,
                                                                  std::string_view message_id,
                                                                  std::string_view request_json,
                                                                  ReadIncoming* read) {
  // One read for both checks: the message id seen before (a duplicate, or a replay), and the
  // request id known already.
  std::optional<ReadIncoming> mine;
  if (read == nullptr) {
    mine.emplace(ReadIncoming{ParseRequest(request_json), {}});
    const StatusOr<Request>& p = mine->parsed;
    const std::string parsed_id = p.ok() && p->id ? *p->id : std::string();
    ASSIGN_OR_RETURN(mine->check, writer_->store->CheckInbox(message_id, parsed_id));
    read = &*mine;
  }
  const store::NodeStore::InboxCheck& check = read->check;
  ASSIGN_OR_RETURN(std::optional<IncomingResult> dup,
                   DuplicateOf(check.inbox, message_id, request_json));
  if (dup) return *dup;
  RETURN_IF_ERROR(read->parsed.status());
  const Request& request = *read->parsed;
  if (!request.id) return InvalidArgumentError("a received request must carry its id", "/id");
  if (request.requesting_state.str() != from_state) {
    return InvalidArgumentError("the request is from " + request.requesting_state.str() +
                                    " but was sent by " + std::string(from_state),
                                "/requesting_state");
  }
  if (request.requested_state != options_.state) {
    return InvalidArgumentError("the request is addressed to " + request.requested_state.str() +
                                    ", not to this node's " + options_.state.str(),
                                "/requested_state");
  }
  const std::string& id = *request.id;
  if (id.rfind(std::string(from_state) + "-", 0) != 0) {
    return InvalidArgumentError("a request id from " + std::string(from_state) + " starts with \"" +
                                    std::string(from_state) + "-\"",
                                "/id");
  }
  if (check.request_exists)
    return AlreadyExistsError("a request with id " + id + " already exists");
  ASSIGN_OR_RETURN(Decision screening, Screen(request));
  screening.request_id = id;
  workflow::ActionContext ctx;
  ctx.actor = Actor::kSystem;
  ctx.screening_outcome = screening.outcome;
  ASSIGN_OR_RETURN(RequestState screened,
                   workflow::ApplyAction(workflow::Direction::kIncoming, RequestState::kReceived,
                                         Action::kScreened, ctx));

  const Timestamp now = options_.clock->Now();
  const int64_t now_us = ToMicros(now);
  store::RequestRecord r;
  r.id = id;
  r.direction = std::string(kIncoming);
  r.state = std::string(EnumName(screened));
  r.requesting_state = request.requesting_state.str();
  r.requested_state = request.requested_state.str();
  r.urgency = std::string(EnumName(request.urgency));
  r.request_json = Serialize(RequestToJson(request));
  r.screening_json = Serialize(DecisionToJson(screening));
  r.screening_outcome = std::string(EnumName(screening.outcome));
  if (screening.respond_by) r.respond_by = ToMicros(*screening.respond_by);
  r.awaiting_answer = Awaiting(kIncoming, screened);
  r.created_by = "system";
  r.created = now_us;
  r.updated = now_us;
  r.version = 1;

  Change c;
  c.insert = r;
  const std::string sha = Sha256Hex(r.request_json);
  const std::string received(EnumName(RequestState::kReceived));
  PendingEvent receive;
  receive.event = {id,
                   1,
                   now_us,
                   "system",
                   "receive",
                   std::nullopt,
                   received,
                   std::nullopt,
                   Serialize(json::object{{"message_id", message_id}, {"from", from_state}}),
                   0};
  receive.leaf = LeafFromRequest(kLeafRequestReceived, now, request);
  receive.request_sha256 = sha;
  c.events.push_back(std::move(receive));

  json::array fired;
  for (const std::string& rule : FiredRules(screening)) fired.emplace_back(rule);
  PendingEvent screen;
  screen.event = {id,
                  2,
                  now_us,
                  "system",
                  "screened",
                  received,
                  r.state,
                  std::nullopt,
                  Serialize(json::object{{"outcome", *r.screening_outcome}, {"rules", fired}}),
                  0};
  screen.leaf = LeafFromRequest(kLeafRequestScreened, now, request);
  screen.leaf.outcome = r.screening_outcome;
  screen.leaf.rules = FiredRules(screening);
  screen.request_sha256 = sha;
  c.events.push_back(std::move(screen));
  c.inbox = store::InboxRecord{std::string(message_id),
                               std::string(from_state),
                               "request",
                               Sha256Hex(request_json),
                               id,
                               now_us};
  RETURN_IF_ERROR(Commit(c));
  return IncomingResult{id, r.state, false};
}

StatusOr<IncomingResult> NodeService::ApplyReceivedDecision(std::string_view from_state,
                                                            std::string_view message_id,
                                                            std::string_view answer_json) {
  return AcceptOne({from_state, message_id, "decision", answer_json});
}

StatusOr<IncomingResult> NodeService::ApplyReceivedDecisionLocked(std::string_view from_state,
                                                                  std::string_view message_id,
                                                                  std::string_view answer_json) {
  ASSIGN_OR_RETURN(std::optional<IncomingResult> dup, CheckDuplicate(message_id, answer_json));
  if (dup) return *dup;
  ASSIGN_OR_RETURN(Answer answer, ParseAnswer(answer_json));
  int64_t seq = 0;
  ASSIGN_OR_RETURN(store::RequestRecord r, LoadForUpdate(answer.request_id, std::nullopt, &seq));
  if (r.direction != kOutgoing || r.requested_state != from_state) {
    return PermissionDeniedError(std::string(from_state) + " cannot answer request " + r.id +
                                 ": it was not sent there");
  }
  ASSIGN_OR_RETURN(RequestState from, StoredState(r));
  // On a closed request (closed here, or by the peer already), an answer that crossed the
  // closing is recorded, and the request stays closed.
  const Action a = from == RequestState::kClosed ? Action::kReceivedAfterClose
                   : answer.decision == RequestState::kInformationRequested
                       ? Action::kInformationRequestedByPeer
                   : answer.decision == RequestState::kClosed ? Action::kClosedByPeer
                                                              : Action::kMarkAnswered;
  workflow::ActionContext ctx;
  ctx.actor = Actor::kSystem;
  ASSIGN_OR_RETURN(RequestState to, workflow::ApplyAction(DirectionOf(r), from, a, ctx));

  const Timestamp now = options_.clock->Now();
  const int64_t now_us = ToMicros(now);
  ASSIGN_OR_RETURN(Request request, ParseRequest(r.request_json));
  store::RequestRecord updated = r;
  updated.state = std::string(EnumName(to));
  updated.decision_json = answer.canonical;
  updated.conditions_json.reset();
  if (!answer.conditions.empty()) {
    updated.conditions_json = Serialize(ConditionsJson(answer.conditions));
  }
  updated.awaiting_answer = Awaiting(kOutgoing, to);
  updated.updated = now_us;
  updated.version = r.version + 1;

  json::object detail;
  detail["message_id"] = message_id;
  detail["decision"] = json::parse(answer.canonical);
  Change c;
  PendingEvent pe;
  pe.event = {r.id,    seq,           now_us,       "system",          std::string(EnumName(a)),
              r.state, updated.state, std::nullopt, Serialize(detail), 0};
  if (!Blank(answer.reasons)) pe.event.reason = answer.reasons;
  pe.leaf = LeafFromRequest(kLeafDecisionReceived, now, request);
  pe.leaf.outcome = std::string(EnumName(answer.decision));
  pe.request_sha256 = Sha256Hex(r.request_json);
  c.events.push_back(std::move(pe));
  c.update = updated;
  c.expected_version = r.version;
  c.same_documents = store::NodeStore::SameDocuments(r, updated);
  c.inbox = store::InboxRecord{
      std::string(message_id),
      std::string(from_state),
      answer.decision == RequestState::kInformationRequested ? "information_request" : "decision",
      Sha256Hex(answer_json),
      r.id,
      now_us};
  RETURN_IF_ERROR(Commit(c));
  return IncomingResult{r.id, updated.state, false};
}

StatusOr<IncomingResult> NodeService::AcceptInformationReply(std::string_view from_state,
                                                             std::string_view message_id,
                                                             std::string_view reply_json) {
  return AcceptOne({from_state, message_id, "information_reply", reply_json});
}

StatusOr<IncomingResult> NodeService::AcceptInformationReplyLocked(std::string_view from_state,
                                                                   std::string_view message_id,
                                                                   std::string_view reply_json) {
  ASSIGN_OR_RETURN(std::optional<IncomingResult> dup, CheckDuplicate(message_id, reply_json));
  if (dup) return *dup;
  ASSIGN_OR_RETURN(InformationReply reply, ParseInformationReply(reply_json));
  int64_t seq = 0;
  ASSIGN_OR_RETURN(store::RequestRecord r, LoadForUpdate(reply.request_id, std::nullopt, &seq));
  if (r.direction != kIncoming || r.requesting_state != from_state) {
    return PermissionDeniedError(std::string(from_state) + " cannot reply on request " + r.id +
                                 ": it did not send it");
  }
  ASSIGN_OR_RETURN(RequestState from, StoredState(r));
  workflow::ActionContext ctx;
  ctx.actor = Actor::kSystem;
  // A reply that crossed the closing of the request is recorded; the request stays closed.
  const Action a =
      from == RequestState::kClosed ? Action::kReceivedAfterClose : Action::kInformationReceived;
  ASSIGN_OR_RETURN(RequestState to, workflow::ApplyAction(DirectionOf(r), from, a, ctx));
  const Timestamp now = options_.clock->Now();
  const int64_t now_us = ToMicros(now);
  ASSIGN_OR_RETURN(Request request, ParseRequest(r.request_json));
  store::RequestRecord updated = r;
  updated.state = std::string(EnumName(to));
  updated.awaiting_answer = Awaiting(kIncoming, to);
  updated.updated = now_us;
  updated.version = r.version + 1;
  Change c;
  PendingEvent pe;
  pe.event = {
      r.id,
      seq,
      now_us,
      "system",
      std::string(EnumName(a)),
      r.state,
      updated.state,
      std::nullopt,
      Serialize(json::object{{"message_id", message_id}, {"information", reply.information}}),
      0};
  pe.leaf = LeafFromRequest(kLeafInformationReplyReceived, now, request);
  pe.request_sha256 = Sha256Hex(r.request_json);
  c.events.push_back(std::move(pe));
  c.update = updated;
  c.expected_version = r.version;
  c.same_documents = store::NodeStore::SameDocuments(r, updated);
  c.inbox = store::InboxRecord{std::string(message_id),
                               std::string(from_state),
                               "information_reply",
                               Sha256Hex(reply_json),
                               r.id,
                               now_us};
  RETURN_IF_ERROR(Commit(c));
  return IncomingResult{r.id, updated.state, false};
}

std::vector<StatusOr<IncomingResult>> NodeService::AcceptIncomingBatch(
    std::span<const IncomingMessage> messages) {
  std::vector<StatusOr<IncomingResult>> out;
  out.reserve(messages.size());
  if (messages.size() > kMaxIncomingBatch) {
    for (size_t i = 0; i < messages.size(); ++i) {
      out.push_back(ResourceExhaustedError("a batch holds at most " +
                                           std::to_string(kMaxIncomingBatch) + " messages"));
    }
    return out;
  }
  auto apply = [this](const IncomingMessage& m) -> StatusOr<IncomingResult> {
    RETURN_IF_ERROR(CheckSender(m.from_state, m.message_id));
    if (m.kind == "request") return AcceptIncomingRequestLocked(m.from_state, m.message_id, m.body);
    if (m.kind == "decision" || m.kind == "information_request") {
      return ApplyReceivedDecisionLocked(m.from_state, m.message_id, m.body);
    }
    if (m.kind == "information_reply") {
      return AcceptInformationReplyLocked(m.from_state, m.message_id, m.body);
    }
    return InvalidArgumentError("this node does not accept messages of kind " +
                                std::string(m.kind));
  };
  // The requests are parsed before the writer is taken; under it, all their message and
  // request ids are checked in one read (NodeStore::CheckInboxes) instead of one each.
  std::vector<std::optional<ReadIncoming>> reads(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].kind == "request")
      reads[i].emplace(ReadIncoming{ParseRequest(messages[i].body), {}});
  }
  auto check_all = [&]() -> Status {
    std::vector<store::NodeStore::InboxKey> keys;
    std::vector<size_t> which;
    std::set<std::string_view> ids;
    for (size_t i = 0; i < messages.size(); ++i) {
      // A message id twice (callers send distinct ones) is checked on its own, after the first.
      if (!reads[i] || !ids.insert(messages[i].message_id).second) continue;
      const StatusOr<Request>& p = reads[i]->parsed;
      keys.push_back({messages[i].message_id, p.ok() && p->id ? std::string_view(*p->id) : ""});
      which.push_back(i);
    }
    ASSIGN_OR_RETURN(std::vector<store::NodeStore::InboxCheck> checks,
                     writer_->store->CheckInboxes(keys));
    for (size_t k = 0; k < which.size(); ++k) reads[which[k]]->check = std::move(checks[k]);
    return OkStatus();
  };
  // The batch is one job of combined writes (LeadCombined): it shares its transaction, its log
  // append and its commit with whatever else is being written — officers' writes, other
  // batches that arrived meanwhile. Each message's change goes through Commit: in the group's
  // first, optimistic pass without a savepoint; if the database refused any write, nothing of
  // that pass is kept and the group is written again, each change in its own savepoint, so
  // that the one that fails is undone alone.
  auto run = [&]() -> StatusOr<std::vector<StatusOr<IncomingResult>>> {
    std::vector<StatusOr<IncomingResult>> results;
    results.reserve(messages.size());
    RETURN_IF_ERROR(check_all());
    // What the checks read is kept up to date with the batch's own writes: a request accepted
    // here makes its id known to the messages after it.
    std::set<std::string> accepted;
    std::set<std::string_view> checked;
    for (size_t i = 0; i < messages.size(); ++i) {
      const IncomingMessage& m = messages[i];
      if (!batch_broken_.ok()) {  // the pass is lost: the group is written again, or fails
        results.push_back(batch_broken_);
        continue;
      }
      if (!reads[i] || !checked.insert(m.message_id).second) {
        results.push_back(apply(m));
        continue;
      }
      ReadIncoming& read = *reads[i];
      if (read.parsed.ok() && read.parsed->id && accepted.count(*read.parsed->id) != 0) {
        read.check.request_exists = true;
      }
      StatusOr<IncomingResult> r = [&]() -> StatusOr<IncomingResult> {
        RETURN_IF_ERROR(CheckSender(m.from_state, m.message_id));
        return AcceptIncomingRequestLocked(m.from_state, m.message_id, m.body, &read);
      }();
      if (r.ok() && !r->duplicate) accepted.insert(r->request_id);
      results.push_back(std::move(r));
    }
    return results;
  };
  StatusOr<std::vector<StatusOr<IncomingResult>>> done =
      Combined<std::vector<StatusOr<IncomingResult>>>(run, /*urgent=*/false, /*loads=*/{},
                                                      /*grouped=*/true);
  if (done.ok()) return std::move(*done);
  // Nothing of the batch is known to be kept: apply the messages one by one, each in its own
  // transaction (one kept after all is answered as a duplicate).
  spdlog::warn("inbox batch of {} messages failed ({}); applying them one by one", messages.size(),
               done.status().ToString());
  {
    WriteLock lock(this);
    lock.KeepAfterCommit();
    for (const IncomingMessage& m : messages) out.push_back(apply(m));
  }
  for (StatusOr<IncomingResult>& r : out) r = AnsweredDurably(std::move(r));
  return out;
}

// Adds the recording of one delivery to `c` (requires mu_). False when it was recorded before
// with the same receipt (nothing to do).
StatusOr<bool> NodeService::AddDelivery(Change& c, std::string_view message_id,
                                        std::string_view receipt) {
  ASSIGN_OR_RETURN(auto found, writer_->store->GetOutboxWithRequest(message_id));
  return AddDelivery(c, message_id, found, receipt);
}

StatusOr<bool> NodeService::AddDelivery(
    Change& c, std::string_view message_id,
    const std::optional<store::NodeStore::OutboxWithRequest>& found, std::string_view receipt) {
  if (receipt.empty()) return InvalidArgumentError("a delivery needs the peer's receipt");
  if (!found) return NotFoundError("no outbox message " + std::string(message_id));
  const store::OutboxMessage* m = &found->message;
  if (m->delivered) {
    if (m->receipt && *m->receipt == receipt) return false;  // recorded before
    return FailedPreconditionError("outbox message " + std::string(message_id) +
                                   " was already delivered with another receipt");
  }
  c.delivered.emplace_back(std::string(message_id), std::string(receipt));
  if (m->request_id) {
    const auto& loaded = found->request;
    if (loaded) {
      const store::RequestRecord* r = &loaded->first;
      const int64_t seq = std::max(loaded->second, StagedLastSeq(r->id)) + 1;
      ASSIGN_OR_RETURN(RequestState from, StoredState(*r));
      RequestState to = from;
      std::string action = "receipt";
      if (m->kind == "request" && from == RequestState::kSubmitted) {
        workflow::ActionContext ctx;
        ctx.actor = Actor::kSystem;
        ASSIGN_OR_RETURN(to,
                         workflow::ApplyAction(DirectionOf(*r), from, Action::kMarkDelivered, ctx));
        action = std::string(EnumName(Action::kMarkDelivered));
      }
      const Timestamp now = options_.clock->Now();
      const int64_t now_us = ToMicros(now);
      ASSIGN_OR_RETURN(Request request, ParseRequest(r->request_json));
      store::RequestRecord updated = *r;
      updated.state = std::string(EnumName(to));
      updated.awaiting_answer = Awaiting(r->direction, to);
      updated.updated = now_us;
      updated.version = r->version + 1;
      PendingEvent pe;
      pe.event = {r->id,
                  seq,
                  now_us,
                  "system",
                  action,
                  r->state,
                  updated.state,
                  std::nullopt,
                  Serialize(json::object{{"message_id", message_id}, {"kind", m->kind}}),
                  0};
      pe.leaf = LeafFromRequest(kLeafReceiptReceived, now, request);
      pe.request_sha256 = Sha256Hex(r->request_json);
      c.events.push_back(std::move(pe));
      const bool same = store::NodeStore::SameDocuments(*r, updated);
      c.updates.emplace_back(std::move(updated), r->version, same);
    }
  }
  return true;
}

Status NodeService::RecordDelivery(std::string_view message_id, std::string_view receipt) {
  WriteLock lock(this);
  Change c;
  ASSIGN_OR_RETURN(bool todo, AddDelivery(c, message_id, receipt));
  if (!todo) return OkStatus();
  return Commit(c);
}

std::vector<Status> NodeService::RecordDeliveries(
    const std::vector<std::pair<std::string, std::string>>& receipts) {
  std::vector<Status> results(receipts.size());
  if (receipts.size() > kMaxDeliveryBatch) {
    for (size_t i = 0; i < receipts.size(); ++i) {
      results[i] = RecordDelivery(receipts[i].first, receipts[i].second);
    }
    return results;
  }
  // Combined with officers' writes (service.cc, "combined writes"), at the front of the queue:
  // a receipt completes a delivery already under way, so it goes in the next group rather than
  // wait behind every write queued before it (or for the writer lock).
  StatusOr<std::vector<Status>> done = Combined<std::vector<Status>>(
      [&]() -> StatusOr<std::vector<Status>> { return RecordDeliveriesLocked(receipts); },
      /*urgent=*/true);
  if (!done.ok()) return std::vector<Status>(receipts.size(), done.status());
  return std::move(*done);
}

std::vector<Status> NodeService::RecordDeliveriesLocked(
    const std::vector<std::pair<std::string, std::string>>& receipts) {
  std::vector<Status> results(receipts.size());
  // One log append per round. A request touched twice in one batch (its request and a reply
  // delivered together) waits for the next round, so that each round reads what the previous
  // one wrote.
  std::vector<size_t> todo(receipts.size());
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  while (!todo.empty()) {
    Change c;
    std::set<std::string> touched;
    std::vector<size_t> in_change, later;
    // The round's messages with their requests, in one read.
    std::vector<std::string_view> ids;
    ids.reserve(todo.size());
    for (size_t i : todo) ids.push_back(receipts[i].first);
    auto found = writer_->store->GetOutboxesWithRequest(ids);
    for (size_t k = 0; k < todo.size(); ++k) {
      const size_t i = todo[k];
      if (!found.ok()) {
        results[i] = found.status();
        continue;
      }
      const std::optional<store::NodeStore::OutboxWithRequest>& m = (*found)[k];
      const std::string rid = m && m->message.request_id ? *m->message.request_id : "";
      if (!rid.empty() && touched.count(rid) != 0) {
        later.push_back(i);
        continue;
      }
      StatusOr<bool> added = AddDelivery(c, receipts[i].first, m, receipts[i].second);
      if (!added.ok()) {
        results[i] = added.status();
        continue;
      }
      if (*added) {
        if (!rid.empty()) touched.insert(rid);
        in_change.push_back(i);
      }
    }
    if (!in_change.empty()) {
      Status s = Commit(c);
      if (!s.ok()) {
        // One bad apple (or a conflict): record them one by one.
        for (size_t i : in_change) {
          Change one;
          StatusOr<bool> added = AddDelivery(one, receipts[i].first, receipts[i].second);
          results[i] = !added.ok() ? added.status() : (*added ? Commit(one) : OkStatus());
        }
      }
    }
    todo.swap(later);
  }
  return results;
}

Status NodeService::RecordDeliveryFailure(std::string_view message_id, Timestamp next_attempt,
                                          std::string_view error) {
  WriteLock lock(this);
  RETURN_IF_ERROR(
      writer_->outbox->Reschedule(message_id, ToMicros(next_attempt), error.substr(0, 2000)));
  return Durable();
}

StatusOr<std::vector<store::OutboxMessage>> NodeService::DueMessages(
    Timestamp now, int limit, const store::Outbox::Position* after) {
  // Nothing leaves the node before it is durable here.
  RETURN_IF_ERROR(SyncReserved());
  return WithReader([&](Connection& c) { return c.outbox->Due(ToMicros(now), limit, after); });
}

StatusOr<int64_t> NodeService::OutboxDepth() {
  return WithReader([](Connection& c) { return c.outbox->Depth(); });
}

StatusOr<OutboxPage> NodeService::ListUndelivered(int limit, std::string_view cursor) {
  if (limit < 1 || limit > kMaxOutboxPage) {
    return InvalidArgumentError(
        "limit must be an integer between 1 and " + std::to_string(kMaxOutboxPage), "/limit");
  }
  // The cursor is the last message's place in the order: "<next_attempt>_<created>_<id>".
  std::optional<store::Outbox::Position> after;
  if (!cursor.empty()) {
    const Status bad = InvalidArgumentError(
        "cursor \"" + std::string(cursor.substr(0, 100)) + "\" is not one this node issued",
        "/cursor");
    const size_t first = cursor.find('_');
    const size_t second = first == std::string_view::npos ? first : cursor.find('_', first + 1);
    if (second == std::string_view::npos) return bad;
    store::Outbox::Position p;
    auto number = [](std::string_view text, int64_t* out) {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
      return ec == std::errc() && end == text.data() + text.size() && !text.empty() && *out >= 0;
    };
    if (!number(cursor.substr(0, first), &p.next_attempt) ||
        !number(cursor.substr(first + 1, second - first - 1), &p.created)) {
      return bad;
    }
    p.message_id = std::string(cursor.substr(second + 1));
    if (!IsMessageId(p.message_id)) return bad;
    after = std::move(p);
  }
  ASSIGN_OR_RETURN(std::vector<store::OutboxMessage> rows, WithReader([&](Connection& c) {
                     return c.outbox->Due(std::numeric_limits<int64_t>::max(), limit + 1,
                                          after ? &*after : nullptr);
                   }));
  OutboxPage page;
  if (rows.size() > static_cast<size_t>(limit)) {
    rows.resize(static_cast<size_t>(limit));
    const store::OutboxMessage& last = rows.back();
    page.next_cursor = std::to_string(last.next_attempt) + "_" + std::to_string(last.created) +
                       "_" + last.message_id;
  }
  page.items = std::move(rows);
  return page;
}

StatusOr<std::optional<store::OutboxMessage>> NodeService::FindOutboxMessage(
    std::string_view message_id) {
  return WithReader([&](Connection& c) { return c.outbox->Get(message_id); });
}

StatusOr<std::optional<store::InboxRecord>> NodeService::FindInboxMessage(
    std::string_view message_id) {
  ASSIGN_OR_RETURN(std::optional<store::InboxRecord> r,
                   WithReader([&](Connection& c) { return c.store->GetInbox(message_id); }));
  // A message found is answered as a duplicate only once it is durable; one not found is
  // applied through the writer, which checks again.
  if (r) RETURN_IF_ERROR(SyncReserved());
  return r;
}

StatusOr<std::vector<std::optional<store::InboxRecord>>> NodeService::FindInboxMessages(
    std::span<const std::string> message_ids) {
  std::vector<store::NodeStore::InboxKey> keys;
  keys.reserve(message_ids.size());
  for (const std::string& id : message_ids) keys.push_back({id, ""});
  ASSIGN_OR_RETURN(std::vector<store::NodeStore::InboxCheck> checks,
                   WithReader([&](Connection& c) { return c.store->CheckInboxes(keys); }));
  std::vector<std::optional<store::InboxRecord>> out;
  out.reserve(checks.size());
  bool any = false;
  for (store::NodeStore::InboxCheck& c : checks) {
    any = any || c.inbox.has_value();
    out.push_back(std::move(c.inbox));
  }
  if (any) RETURN_IF_ERROR(SyncReserved());  // as FindInboxMessage
  return out;
}

// --- the log -------------------------------------------------------------------------------

StatusOr<uint64_t> NodeService::DiscloseDue() {
  WriteLock lock(this);
  ASSIGN_OR_RETURN(tlog::LogState state, log_->State());
  uint64_t target = state.size;
  if (options_.disclosure == Disclosure::kEmbargo) {
    const int64_t cutoff =
        ToMicros(options_.clock->Now()) - int64_t{options_.embargo_days} * 86'400'000'000;
    ASSIGN_OR_RETURN(std::optional<int64_t> first, writer_->store->FirstLogRecordAfter(cutoff));
    if (first) target = std::min<uint64_t>(target, static_cast<uint64_t>(*first));
  }
  if (target <= state.disclosed) return state.disclosed;
  RETURN_IF_ERROR(log_->Disclose(target));
  RETURN_IF_ERROR(Durable());
  return target;
}

StatusOr<std::string> NodeService::LogResource(std::string_view path) {
  // A checkpoint is published only once durable: one that a crash took back would look like a
  // split view to the witnesses that saw it.
  RETURN_IF_ERROR(SyncReserved());
  return WithReader([&](Connection& c) { return c.publisher->Resource(path); });
}

StatusOr<tlog::LogState> NodeService::LogState() {
  RETURN_IF_ERROR(SyncReserved());
  return WithReader([](Connection& c) -> StatusOr<tlog::LogState> {
    ASSIGN_OR_RETURN(std::optional<tlog::LogState> s, c.log_storage->ReadState());
    if (!s) return NotFoundError("no log has been created");
    return *s;
  });
}

std::string NodeService::LogVerifierKey() const { return vkey_; }

StatusOr<NodeStats> NodeService::Stats() {
  const int64_t now = ToMicros(options_.clock->Now());
  return WithReader([&](Connection& c) -> StatusOr<NodeStats> {
    RETURN_IF_ERROR(c.db->BeginRead());
    NodeStats s;
    ASSIGN_OR_RETURN(s.requests, c.store->CountRequests());
    ASSIGN_OR_RETURN(s.overdue, c.store->CountOverdue(now));
    ASSIGN_OR_RETURN(s.outbox_depth, c.outbox->Depth());
    ASSIGN_OR_RETURN(std::optional<tlog::LogState> log, c.log_storage->ReadState());
    if (log) {
      s.log_size = log->size;
      s.log_disclosed = log->disclosed;
    }
    s.database_round_trips = store::PostgresDatabase::TotalRoundTrips();
    s.durability_syncs = syncs_.load();
    s.write_groups = write_groups_.load();
    s.write_lingers = lingers_.load();
    return s;
  });
}

}  // namespace comity::node

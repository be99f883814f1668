#include "store/node_store.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <span>
#include <utility>

namespace comity::store {
namespace {

// Built field by field so that the table does not depend on every member of Migration (a
// dialect-specific variant, if ever needed, is set the same way).
constexpr Migration NodeMigration(int version, std::string_view name, std::string_view sql) {
  Migration m{};
  m.version = version;
  m.name = name;
  m.sql = sql;
  return m;
}

// Portable SQL only (docs/formats/node-store.md): TEXT, BIGINT and INTEGER columns, explicit
// keys, `?` placeholders. An optional text is bound as '' and stored as NULL through
// NULLIF(CAST(? AS TEXT), ''); an optional time is bound as 0 and stored as NULL through
// NULLIF(?, CAST(0 AS BIGINT)) (no stored time is the epoch itself).
constexpr Migration kNodeMigrations[] = {
    NodeMigration(1, "node tables",
                  "CREATE TABLE requests ("
                  " id TEXT PRIMARY KEY,"
                  " direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),"
                  " state TEXT NOT NULL,"
                  " requesting_state TEXT NOT NULL,"
                  " requested_state TEXT NOT NULL,"
                  " urgency TEXT NOT NULL,"
                  " request_json TEXT NOT NULL,"
                  " screening_json TEXT,"
                  " screening_outcome TEXT,"
                  " decision_json TEXT,"
                  " conditions_json TEXT,"
                  " respond_by BIGINT,"
                  " awaiting_answer INTEGER NOT NULL CHECK (awaiting_answer IN (0, 1)),"
                  " assignee TEXT,"
                  " created_by TEXT NOT NULL,"
                  " created BIGINT NOT NULL,"
                  " updated BIGINT NOT NULL,"
                  " version BIGINT NOT NULL CHECK (version >= 1));"
                  "CREATE INDEX requests_by_created ON requests (created, id);"
                  "CREATE INDEX requests_by_state ON requests (direction, state);"
                  "CREATE INDEX requests_by_deadline ON requests (awaiting_answer, respond_by);"
                  "CREATE TABLE request_events ("
                  " request_id TEXT NOT NULL REFERENCES requests (id),"
                  " seq BIGINT NOT NULL CHECK (seq >= 1),"
                  " at BIGINT NOT NULL,"
                  " actor TEXT NOT NULL,"
                  " action TEXT NOT NULL,"
                  " from_state TEXT,"
                  " to_state TEXT NOT NULL,"
                  " reason TEXT,"
                  " detail_json TEXT,"
                  " log_index BIGINT NOT NULL UNIQUE,"
                  " PRIMARY KEY (request_id, seq));"
                  "CREATE TABLE log_records ("
                  " leaf_index BIGINT PRIMARY KEY,"
                  " salt TEXT NOT NULL,"
                  " record TEXT NOT NULL,"
                  " created BIGINT NOT NULL);"
                  "CREATE INDEX log_records_by_created ON log_records (created);"
                  "CREATE TABLE users ("
                  " name TEXT PRIMARY KEY,"
                  " role TEXT NOT NULL,"
                  " token_sha256 TEXT NOT NULL UNIQUE,"
                  " created BIGINT NOT NULL,"
                  " created_by TEXT NOT NULL,"
                  " revoked BIGINT,"
                  " revoked_by TEXT);"
                  "CREATE TABLE profiles ("
                  " code TEXT PRIMARY KEY,"
                  " profile_json TEXT NOT NULL,"
                  " sha256 TEXT NOT NULL,"
                  " updated BIGINT NOT NULL,"
                  " updated_by TEXT NOT NULL);"
                  "CREATE TABLE peers ("
                  " state TEXT PRIMARY KEY,"
                  " url TEXT NOT NULL,"
                  " sign_key TEXT NOT NULL,"
                  " box_key TEXT NOT NULL,"
                  " log_vkey TEXT,"
                  " added BIGINT NOT NULL,"
                  " updated BIGINT NOT NULL);"
                  "CREATE TABLE outbox ("
                  " message_id TEXT PRIMARY KEY,"
                  " recipient TEXT NOT NULL,"
                  " kind TEXT NOT NULL,"
                  " body TEXT NOT NULL,"
                  " request_id TEXT,"
                  " created BIGINT NOT NULL,"
                  " next_attempt BIGINT NOT NULL,"
                  " attempts BIGINT NOT NULL,"
                  " last_error TEXT,"
                  " delivered BIGINT,"
                  " receipt TEXT);"
                  "CREATE INDEX outbox_due ON outbox (delivered, next_attempt);"
                  "CREATE TABLE inbox ("
                  " message_id TEXT PRIMARY KEY,"
                  " sender TEXT NOT NULL,"
                  " kind TEXT NOT NULL,"
                  " body_sha256 TEXT NOT NULL,"
                  " request_id TEXT,"
                  " received BIGINT NOT NULL);"),
};

const std::string& OrEmpty(const std::optional<std::string>& s) {
  static const std::string kEmpty;
  return s ? *s : kEmpty;
}
int64_t OrZero(const std::optional<int64_t>& v) { return v ? *v : 0; }

std::optional<std::string> OptText(Statement* st, int col) {
  if (st->IsNull(col)) return std::nullopt;
  return st->Text(col);
}
std::optional<int64_t> OptInt(Statement* st, int col) {
  if (st->IsNull(col)) return std::nullopt;
  return st->Int64(col);
}

// Runs `st` and collects every row through `read`; always leaves the statement reset.
template <typename T, typename F>
StatusOr<std::vector<T>> Collect(Statement* st, F read) {
  std::vector<T> out;
  while (true) {
    StatusOr<bool> row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(read(st));
  }
  st->Reset();
  return out;
}

template <typename T, typename F>
StatusOr<std::optional<T>> One(Statement* st, F read) {
  StatusOr<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    st->Reset();
    return std::optional<T>();
  }
  std::optional<T> out = read(st);
  st->Reset();
  return out;
}

StatusOr<int64_t> Scalar(Statement* st) {
  ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t v = row && !st->IsNull(0) ? st->Int64(0) : 0;
  st->Reset();
  return v;
}

constexpr std::string_view kOutboxColumns =
    "message_id, recipient, kind, body, request_id, created, next_attempt, attempts, "
    "last_error, delivered, receipt";

constexpr std::string_view kRequestColumns =
    "id, direction, state, requesting_state, requested_state, urgency, request_json, "
    "screening_json, screening_outcome, decision_json, conditions_json, respond_by, "
    "awaiting_answer, assignee, created_by, created, updated, version";

// A request's columns (kRequestColumns) from column `at` on.
RequestRecord ReadRequestAt(Statement* st, int at) {
  RequestRecord r;
  r.id = st->Text(at + 0);
  r.direction = st->Text(at + 1);
  r.state = st->Text(at + 2);
  r.requesting_state = st->Text(at + 3);
  r.requested_state = st->Text(at + 4);
  r.urgency = st->Text(at + 5);
  r.request_json = st->Text(at + 6);
  r.screening_json = OptText(st, at + 7);
  r.screening_outcome = OptText(st, at + 8);
  r.decision_json = OptText(st, at + 9);
  r.conditions_json = OptText(st, at + 10);
  r.respond_by = OptInt(st, at + 11);
  r.awaiting_answer = st->Int64(at + 12) != 0;
  r.assignee = OptText(st, at + 13);
  r.created_by = st->Text(at + 14);
  r.created = st->Int64(at + 15);
  r.updated = st->Int64(at + 16);
  r.version = st->Int64(at + 17);
  return r;
}

RequestRecord ReadRequest(Statement* st) { return ReadRequestAt(st, 0); }

EventRecord ReadEvent(Statement* st) {
  EventRecord e;
  e.request_id = st->Text(0);
  e.seq = st->Int64(1);
  e.at = st->Int64(2);
  e.actor = st->Text(3);
  e.action = st->Text(4);
  e.from_state = OptText(st, 5);
  e.to_state = st->Text(6);
  e.reason = OptText(st, 7);
  e.detail_json = OptText(st, 8);
  e.log_index = st->Int64(9);
  return e;
}

UserRecord ReadUser(Statement* st) {
  UserRecord u;
  u.name = st->Text(0);
  u.role = st->Text(1);
  u.token_sha256 = st->Text(2);
  u.created = st->Int64(3);
  u.created_by = st->Text(4);
  u.revoked = OptInt(st, 5);
  u.revoked_by = OptText(st, 6);
  return u;
}

ProfileRecord ReadProfile(Statement* st) {
  ProfileRecord p;
  p.code = st->Text(0);
  p.profile_json = st->Text(1);
  p.sha256 = st->Text(2);
  p.updated = st->Int64(3);
  p.updated_by = st->Text(4);
  return p;
}

InboxRecord ReadInboxAt(Statement* st, int at) {
  InboxRecord r;
  r.message_id = st->Text(at);
  r.sender = st->Text(at + 1);
  r.kind = st->Text(at + 2);
  r.body_sha256 = st->Text(at + 3);
  r.request_id = OptText(st, at + 4);
  r.received = st->Int64(at + 5);
  return r;
}
InboxRecord ReadInbox(Statement* st) { return ReadInboxAt(st, 0); }

PeerRecord ReadPeer(Statement* st) {
  PeerRecord p;
  p.state = st->Text(0);
  p.url = st->Text(1);
  p.sign_key = st->Text(2);
  p.box_key = st->Text(3);
  p.log_vkey = OptText(st, 4);
  p.added = st->Int64(5);
  p.updated = st->Int64(6);
  return p;
}

// An outbox message's columns (kOutboxColumns) from column `at` on.
OutboxMessage ReadOutboxAt(Statement* st, int at) {
  OutboxMessage m;
  m.message_id = st->Text(at + 0);
  m.recipient = st->Text(at + 1);
  m.kind = st->Text(at + 2);
  m.body = st->Text(at + 3);
  m.request_id = OptText(st, at + 4);
  m.created = st->Int64(at + 5);
  m.next_attempt = st->Int64(at + 6);
  m.attempts = st->Int64(at + 7);
  m.last_error = OptText(st, at + 8);
  m.delivered = OptInt(st, at + 9);
  m.receipt = OptText(st, at + 10);
  return m;
}

OutboxMessage ReadOutbox(Statement* st) { return ReadOutboxAt(st, 0); }

// "a, b, c" with every column name prefixed: "o.a, o.b, o.c".
std::string Prefixed(std::string_view columns, std::string_view prefix) {
  std::string out;
  size_t at = 0;
  while (at < columns.size()) {
    size_t end = columns.find(',', at);
    if (end == std::string_view::npos) end = columns.size();
    std::string_view name = columns.substr(at, end - at);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += prefix;
    out += name;
    at = end + 1;
  }
  return out;
}

std::string Sql(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  std::string s(a);
  s += b;
  s += c;
  return s;
}

}  // namespace

StatusOr<std::unique_ptr<NodeStore>> NodeStore::Open(Database* db) {
  RETURN_IF_ERROR(ApplyMigrations(*db, "node", kNodeMigrations));
  return std::unique_ptr<NodeStore>(new NodeStore(db));
}

// --- requests ------------------------------------------------------------------------------

Status NodeStore::InsertRequest(const RequestRecord& r) {
  static const std::string sql = Sql("INSERT INTO requests (", kRequestColumns,
                                     ") VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), "
                                     "NULLIF(CAST(? AS TEXT), ''), NULLIF(CAST(? AS TEXT), ''), "
                                     "NULLIF(CAST(? AS TEXT), ''), NULLIF(?, CAST(0 AS BIGINT)), "
                                     "?, NULLIF(CAST(? AS TEXT), ''), ?, ?, ?, ?)");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  const int64_t respond_by = OrZero(r.respond_by);
  RETURN_IF_ERROR(st->Bind(r.id, r.direction, r.state, r.requesting_state, r.requested_state,
                           r.urgency, r.request_json, OrEmpty(r.screening_json),
                           OrEmpty(r.screening_outcome), OrEmpty(r.decision_json),
                           OrEmpty(r.conditions_json), respond_by, r.awaiting_answer,
                           OrEmpty(r.assignee), r.created_by, r.created, r.updated, r.version));
  Status s = st->RunPipelined();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a request with id " + r.id + " already exists");
  }
  return s;
}

Status NodeStore::UpdateRequest(const RequestRecord& r, int64_t expected_version) {
  if (r.version != expected_version + 1) {
    return InternalError("UpdateRequest: the new version must be the expected version + 1");
  }
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare(
          "UPDATE requests SET direction = ?, state = ?, requesting_state = ?, "
          "requested_state = ?, urgency = ?, request_json = ?, "
          "screening_json = NULLIF(CAST(? AS TEXT), ''), screening_outcome = NULLIF(CAST(? AS "
          "TEXT), ''), "
          "decision_json = NULLIF(CAST(? AS TEXT), ''), conditions_json = NULLIF(CAST(? AS TEXT), "
          "''), "
          "respond_by = NULLIF(?, CAST(0 AS BIGINT)), awaiting_answer = ?, "
          "assignee = NULLIF(CAST(? AS TEXT), ''), created_by = ?, created = ?, updated = ?, "
          "version = ? WHERE id = ? AND version = ?"));
  const int64_t respond_by = OrZero(r.respond_by);
  RETURN_IF_ERROR(st->Bind(r.direction, r.state, r.requesting_state, r.requested_state, r.urgency,
                           r.request_json, OrEmpty(r.screening_json), OrEmpty(r.screening_outcome),
                           OrEmpty(r.decision_json), OrEmpty(r.conditions_json), respond_by,
                           r.awaiting_answer, OrEmpty(r.assignee), r.created_by, r.created,
                           r.updated, r.version, r.id, expected_version));
  return CheckUpdated(st, r, expected_version);
}

Status NodeStore::UpdateRequestState(const RequestRecord& r, int64_t expected_version) {
  if (r.version != expected_version + 1) {
    return InternalError("UpdateRequestState: the new version must be the expected version + 1");
  }
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("UPDATE requests SET state = ?, screening_outcome = NULLIF(CAST(? "
                                "AS TEXT), ''), respond_by = NULLIF(?, CAST(0 AS BIGINT)), "
                                "awaiting_answer = ?, assignee = NULLIF(CAST(? AS TEXT), ''), "
                                "updated = ?, version = ? WHERE id = ? AND version = ?"));
  RETURN_IF_ERROR(st->Bind(r.state, OrEmpty(r.screening_outcome), OrZero(r.respond_by),
                           r.awaiting_answer, OrEmpty(r.assignee), r.updated, r.version, r.id,
                           expected_version));
  return CheckUpdated(st, r, expected_version);
}

bool NodeStore::SameDocuments(const RequestRecord& a, const RequestRecord& b) {
  return a.id == b.id && a.direction == b.direction && a.requesting_state == b.requesting_state &&
         a.requested_state == b.requested_state && a.urgency == b.urgency &&
         a.request_json == b.request_json && a.screening_json == b.screening_json &&
         a.decision_json == b.decision_json && a.conditions_json == b.conditions_json &&
         a.created_by == b.created_by && a.created == b.created;
}

// Runs a version-checked update of `r` (pipelined where it can be) and, when it is refused at
// once, says what is there instead.
Status NodeStore::CheckUpdated(Statement* st, const RequestRecord& r, int64_t expected_version) {
  Status s = st->RunPipelinedExpecting(
      1, "request " + r.id + " was changed concurrently (it is not at version " +
             std::to_string(expected_version) + " any more); reload it and retry");
  if (s.code() != StatusCode::kAborted) return s;
  // Refused at once (not pipelined): say what is there instead, if it can be read.
  StatusOr<std::optional<RequestRecord>> read = GetRequest(r.id);
  if (!read.ok()) return s;
  const std::optional<RequestRecord>& current = *read;
  if (!current) return NotFoundError("no request with id " + r.id);
  return AbortedError("request " + r.id + " was changed concurrently: expected version " +
                      std::to_string(expected_version) + ", found " +
                      std::to_string(current->version) + "; reload it and retry");
}

StatusOr<std::optional<RequestRecord>> NodeStore::GetRequest(std::string_view id) {
  static const std::string sql = Sql("SELECT ", kRequestColumns, " FROM requests WHERE id = ?");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  RETURN_IF_ERROR(st->Bind(id));
  return One<RequestRecord>(st, ReadRequest);
}

// Batched reads by key (GetRequestsAndLastSeq, CheckInboxes, GetOutboxesWithRequest): one
// primary-key equality per key in a UNION ALL. (Not `IN` lists or a join with the keys: on
// PostgreSQL a connection keeps the plan it made while the tables were empty, and for those a scan
// of the table looks cheaper than the index; an equality on the key always uses it.) Each branch
// costs about what a statement of its own would in the executor, so a statement has 1, 2, 4, 8
// or 16 slots — the fewest that hold the keys left — the slots past them bound to '' (no id is
// empty) and numbered so that the rows come back to their keys.
namespace {
constexpr size_t kSlotVariants = 5;  // 1, 2, 4, 8, 16 = NodeStore::kCheckRows
static_assert(size_t{1} << (kSlotVariants - 1) == NodeStore::kCheckRows);

// The variant (0..4) for n keys (1..kCheckRows) and its number of slots.
size_t SlotVariant(size_t n) {
  size_t v = 0;
  while ((size_t{1} << v) < n) ++v;
  return v;
}

// The SQL of every variant, from `build(slots)`.
template <typename Build>
std::array<std::string, kSlotVariants> SlotSql(Build build) {
  std::array<std::string, kSlotVariants> out;
  for (size_t v = 0; v < kSlotVariants; ++v) out[v] = build(size_t{1} << v);
  return out;
}
// Runs a SlotSql statement for `count` keys, kCheckRows per statement: bind(st, start, n,
// slots) binds keys [start, start + n) and pads the statement's other slots; row(st, start, n)
// reads each row of that statement. Always leaves the statement reset.
template <typename Bind, typename Row>
Status RunSlots(Database* db, const std::array<std::string, kSlotVariants>& sql, size_t count,
                Bind bind, Row row) {
  for (size_t start = 0; start < count; start += NodeStore::kCheckRows) {
    const size_t n = std::min(NodeStore::kCheckRows, count - start);
    const size_t v = SlotVariant(n);
    ASSIGN_OR_RETURN(Statement * st, db->Prepare(sql[v]));
    RETURN_IF_ERROR(bind(st, start, n, size_t{1} << v));
    while (true) {
      StatusOr<bool> more = st->Step();
      if (!more.ok()) {
        st->Reset();
        return more.status();
      }
      if (!*more) break;
      row(st, start, n);
    }
    st->Reset();
  }
  return OkStatus();
}

// RunSlots for one key per slot, whose rows carry their slot in the first column; read(st, i)
// reads a row that answers keys[i].
template <typename Read>
Status ReadSlots(Database* db, const std::array<std::string, kSlotVariants>& sql,
                 std::span<const std::string_view> keys, Read read) {
  return RunSlots(
      db, sql, keys.size(),
      [&](Statement* st, size_t start, size_t n, size_t slots) -> Status {
        for (size_t r = 0; r < slots; ++r) {
          RETURN_IF_ERROR(
              st->BindAt(static_cast<int>(r + 1), r < n ? keys[start + r] : std::string_view()));
        }
        return OkStatus();
      },
      [&](Statement* st, size_t start, size_t n) {
        const size_t at = static_cast<size_t>(st->Int64(0));
        if (at < n) read(st, start + at);  // (a padding slot matches nothing anyway)
      });
}
}  // namespace

StatusOr<std::optional<std::pair<RequestRecord, int64_t>>> NodeStore::GetRequestAndLastSeq(
    std::string_view id) {
  ASSIGN_OR_RETURN(auto found, GetRequestsAndLastSeq(std::span(&id, 1)));
  return std::move(found.front());
}

StatusOr<std::vector<std::optional<std::pair<RequestRecord, int64_t>>>>
NodeStore::GetRequestsAndLastSeq(std::span<const std::string_view> ids) {
  // (Batched reads by key, above.)
  static const auto sql = SlotSql([](size_t slots) {
    std::string s;
    for (size_t r = 0; r < slots; ++r) {
      s += r == 0 ? "" : " UNION ALL ";
      s += "SELECT " + std::to_string(r) + ", " + std::string(kRequestColumns) +
           ", (SELECT COALESCE(MAX(e.seq), 0) FROM request_events e "
           "WHERE e.request_id = requests.id) FROM requests WHERE id = ?";
    }
    return s;
  });
  std::vector<std::optional<std::pair<RequestRecord, int64_t>>> out(ids.size());
  RETURN_IF_ERROR(ReadSlots(db_, sql, ids, [&](Statement* st, size_t i) {
    out[i] = std::make_pair(ReadRequestAt(st, 1), st->Int64(19));
  }));
  return out;
}

StatusOr<std::vector<RequestRecord>> NodeStore::ListRequests(const RequestFilter& f) {
  if (f.limit < 1 || f.limit > kMaxPageSize) {
    return InvalidArgumentError("page size must be between 1 and " + std::to_string(kMaxPageSize));
  }
  // One static statement: an empty filter value (or a 0 flag) disables its condition. Newest
  // first; the cursor is the last row's (created, id).
  static const std::string sql =
      Sql("SELECT ", kRequestColumns,
          " FROM requests WHERE (CAST(? AS TEXT) = '' OR direction = ?) AND (CAST(? AS TEXT) = '' "
          "OR state = ?)"
          " AND (CAST(? AS TEXT) = '' OR requesting_state = ?) AND (CAST(? AS TEXT) = '' OR "
          "requested_state = ?)"
          " AND (CAST(? AS BIGINT) = 0 OR (awaiting_answer = 1 AND respond_by IS NOT NULL AND "
          "respond_by < ?))"
          " AND (CAST(? AS BIGINT) = 0 OR NOT (awaiting_answer = 1 AND respond_by IS NOT NULL AND "
          "respond_by < ?))"
          " AND (CAST(? AS BIGINT) = 0 OR created < ? OR (created = ? AND id < ?))"
          " ORDER BY created DESC, id DESC LIMIT ?");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  const int only_overdue = f.overdue.has_value() && *f.overdue ? 1 : 0;
  const int only_not_overdue = f.overdue.has_value() && !*f.overdue ? 1 : 0;
  const int paged = f.after ? 1 : 0;
  const int64_t after_created = f.after ? f.after->first : 0;
  static const std::string kNone;
  const std::string& after_id = f.after ? f.after->second : kNone;
  const int64_t limit = f.limit;
  RETURN_IF_ERROR(st->Bind(f.direction, f.direction, f.state, f.state, f.requesting_state,
                           f.requesting_state, f.requested_state, f.requested_state, only_overdue,
                           f.now, only_not_overdue, f.now, paged, after_created, after_created,
                           after_id, limit));
  return Collect<RequestRecord>(st, ReadRequest);
}

StatusOr<std::vector<RequestCount>> NodeStore::CountRequests() {
  // NULL sorts first in SQLite and last in PostgreSQL: coalesce gives both the same order.
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT direction, state, screening_outcome, count(*) FROM "
                                "requests GROUP BY direction, state, screening_outcome "
                                "ORDER BY direction, state, coalesce(screening_outcome, '')"));
  return Collect<RequestCount>(st, [](Statement* s) {
    RequestCount c;
    c.direction = s->Text(0);
    c.state = s->Text(1);
    c.screening_outcome = s->IsNull(2) ? std::string() : s->Text(2);
    c.count = s->Int64(3);
    return c;
  });
}

StatusOr<int64_t> NodeStore::CountOverdue(int64_t now) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT count(*) FROM requests WHERE awaiting_answer = 1 AND "
                                "respond_by IS NOT NULL AND respond_by < ?"));
  RETURN_IF_ERROR(st->Bind(now));
  return Scalar(st);
}

// --- events --------------------------------------------------------------------------------

Status NodeStore::InsertEvent(const EventRecord& e) {
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare("INSERT INTO request_events (request_id, seq, at, actor, action, from_state, "
                   "to_state, reason, detail_json, log_index) VALUES (?, ?, ?, ?, ?, "
                   "NULLIF(CAST(? AS TEXT), ''), ?, NULLIF(CAST(? AS TEXT), ''), NULLIF(CAST(? AS "
                   "TEXT), ''), ?)"));
  RETURN_IF_ERROR(st->Bind(e.request_id, e.seq, e.at, e.actor, e.action, OrEmpty(e.from_state),
                           e.to_state, OrEmpty(e.reason), OrEmpty(e.detail_json), e.log_index));
  return st->RunPipelined();
}

Status NodeStore::InsertEvents(std::span<const EventRecord> events) {
  static const MultiRowInsert insert(
      "INSERT INTO request_events (request_id, seq, at, actor, action, from_state, to_state, "
      "reason, detail_json, log_index) VALUES ",
      "(?, ?, ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), ?, NULLIF(CAST(? AS TEXT), ''), "
      "NULLIF(CAST(? AS TEXT), ''), ?)",
      10);
  return insert.Run(db_, events, [](Statement* st, int p, const EventRecord& e) -> Status {
    RETURN_IF_ERROR(st->BindAt(p, e.request_id));
    RETURN_IF_ERROR(st->BindAt(p + 1, e.seq));
    RETURN_IF_ERROR(st->BindAt(p + 2, e.at));
    RETURN_IF_ERROR(st->BindAt(p + 3, e.actor));
    RETURN_IF_ERROR(st->BindAt(p + 4, e.action));
    RETURN_IF_ERROR(st->BindAt(p + 5, OrEmpty(e.from_state)));
    RETURN_IF_ERROR(st->BindAt(p + 6, e.to_state));
    RETURN_IF_ERROR(st->BindAt(p + 7, OrEmpty(e.reason)));
    RETURN_IF_ERROR(st->BindAt(p + 8, OrEmpty(e.detail_json)));
    return st->BindAt(p + 9, e.log_index);
  });
}

StatusOr<std::vector<EventRecord>> NodeStore::ListEvents(std::string_view request_id) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT request_id, seq, at, actor, action, from_state, to_state, "
                                "reason, detail_json, log_index FROM request_events WHERE "
                                "request_id = ? ORDER BY seq"));
  RETURN_IF_ERROR(st->Bind(request_id));
  return Collect<EventRecord>(st, ReadEvent);
}

StatusOr<int64_t> NodeStore::CountEvents() {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT count(*) FROM request_events"));
  return Scalar(st);
}

// --- private log records -------------------------------------------------------------------

Status NodeStore::InsertLogRecord(const LogRecord& r) {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("INSERT INTO log_records (leaf_index, salt, "
                                                "record, created) VALUES (?, ?, ?, ?)"));
  RETURN_IF_ERROR(st->Bind(r.leaf_index, r.salt_hex, r.record, r.created));
  Status s = st->RunPipelined();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a private record for leaf " + std::to_string(r.leaf_index) +
                              " already exists");
  }
  return s;
}

Status NodeStore::InsertLogRecords(std::span<const LogRecord> records) {
  static const MultiRowInsert insert(
      "INSERT INTO log_records (leaf_index, salt, record, created) VALUES ", "(?, ?, ?, ?)", 4);
  return insert.Run(db_, records, [](Statement* st, int p, const LogRecord& r) -> Status {
    RETURN_IF_ERROR(st->BindAt(p, r.leaf_index));
    RETURN_IF_ERROR(st->BindAt(p + 1, r.salt_hex));
    RETURN_IF_ERROR(st->BindAt(p + 2, r.record));
    return st->BindAt(p + 3, r.created);
  });
}

StatusOr<std::optional<LogRecord>> NodeStore::GetLogRecord(int64_t leaf_index) {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT leaf_index, salt, record, created FROM "
                                                "log_records WHERE leaf_index = ?"));
  RETURN_IF_ERROR(st->Bind(leaf_index));
  return One<LogRecord>(st, [](Statement* s) {
    LogRecord r;
    r.leaf_index = s->Int64(0);
    r.salt_hex = s->Text(1);
    r.record = s->Text(2);
    r.created = s->Int64(3);
    return r;
  });
}

StatusOr<std::optional<int64_t>> NodeStore::FirstLogRecordAfter(int64_t cutoff) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT min(leaf_index) FROM log_records WHERE created > ?"));
  RETURN_IF_ERROR(st->Bind(cutoff));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<int64_t> out;
  if (row && !st->IsNull(0)) out = st->Int64(0);
  st->Reset();
  return out;
}

StatusOr<int64_t> NodeStore::CountLogRecords() {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT count(*) FROM log_records"));
  return Scalar(st);
}

// --- users ---------------------------------------------------------------------------------

namespace {
constexpr std::string_view kUserColumns =
    "name, role, token_sha256, created, created_by, revoked, revoked_by";
}

Status NodeStore::InsertUser(const UserRecord& u) {
  static const std::string sql =
      Sql("INSERT INTO users (", kUserColumns,
          ") VALUES (?, ?, ?, ?, ?, NULLIF(?, CAST(0 AS BIGINT)), NULLIF(CAST(? AS TEXT), ''))");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  const int64_t revoked = OrZero(u.revoked);
  RETURN_IF_ERROR(st->Bind(u.name, u.role, u.token_sha256, u.created, u.created_by, revoked,
                           OrEmpty(u.revoked_by)));
  Status s = st->Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a user named \"" + u.name + "\" already exists");
  }
  return s;
}

StatusOr<std::optional<UserRecord>> NodeStore::GetUser(std::string_view name) {
  static const std::string sql = Sql("SELECT ", kUserColumns, " FROM users WHERE name = ?");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  RETURN_IF_ERROR(st->Bind(name));
  return One<UserRecord>(st, ReadUser);
}

StatusOr<std::optional<UserRecord>> NodeStore::FindUserByTokenHash(std::string_view token_sha256) {
  static const std::string sql = Sql("SELECT ", kUserColumns, " FROM users WHERE token_sha256 = ?");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  RETURN_IF_ERROR(st->Bind(token_sha256));
  return One<UserRecord>(st, ReadUser);
}

StatusOr<std::vector<UserRecord>> NodeStore::ListUsers() {
  static const std::string sql = Sql("SELECT ", kUserColumns, " FROM users ORDER BY name");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  return Collect<UserRecord>(st, ReadUser);
}

Status NodeStore::RevokeUser(std::string_view name, int64_t at, std::string_view by) {
  ASSIGN_OR_RETURN(std::optional<UserRecord> u, GetUser(name));
  if (!u) return NotFoundError("no user named \"" + std::string(name) + "\"");
  if (u->revoked) {
    return FailedPreconditionError("user \"" + std::string(name) + "\" is already revoked");
  }
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("UPDATE users SET revoked = ?, revoked_by = ? WHERE name = ? AND "
                                "revoked IS NULL"));
  RETURN_IF_ERROR(st->Bind(at, by, name));
  RETURN_IF_ERROR(st->Run());
  if (db_->changes() != 1) {
    return AbortedError("user \"" + std::string(name) + "\" was changed concurrently; retry");
  }
  return OkStatus();
}

StatusOr<int64_t> NodeStore::CountActiveUsers(std::string_view role) {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT count(*) FROM users WHERE role = ? AND "
                                                "revoked IS NULL"));
  RETURN_IF_ERROR(st->Bind(role));
  return Scalar(st);
}

// --- profiles ------------------------------------------------------------------------------

Status NodeStore::PutProfile(const ProfileRecord& p) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO profiles (code, profile_json, sha256, updated, "
                                "updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE "
                                "SET profile_json = excluded.profile_json, sha256 = "
                                "excluded.sha256, updated = excluded.updated, updated_by = "
                                "excluded.updated_by"));
  RETURN_IF_ERROR(st->Bind(p.code, p.profile_json, p.sha256, p.updated, p.updated_by));
  return st->Run();
}

StatusOr<std::optional<ProfileRecord>> NodeStore::GetProfile(std::string_view code) {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT code, profile_json, sha256, updated, "
                                                "updated_by FROM profiles WHERE code = ?"));
  RETURN_IF_ERROR(st->Bind(code));
  return One<ProfileRecord>(st, ReadProfile);
}

StatusOr<std::vector<ProfileRecord>> NodeStore::ListProfiles() {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT code, profile_json, sha256, updated, "
                                                "updated_by FROM profiles ORDER BY code"));
  return Collect<ProfileRecord>(st, ReadProfile);
}

// --- peers ---------------------------------------------------------------------------------

Status NodeStore::InsertPeer(const PeerRecord& p) {
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare("INSERT INTO peers (state, url, sign_key, box_key, log_vkey, "
                   "added, updated) VALUES (?, ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), ?, ?)"));
  RETURN_IF_ERROR(
      st->Bind(p.state, p.url, p.sign_key, p.box_key, OrEmpty(p.log_vkey), p.added, p.updated));
  Status s = st->Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("peer " + p.state + " is already known");
  }
  return s;
}

Status NodeStore::ReplacePeer(const PeerRecord& p) {
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare("INSERT INTO peers (state, url, sign_key, box_key, log_vkey, "
                   "added, updated) VALUES (?, ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), ?, ?) "
                   "ON CONFLICT (state) DO UPDATE SET url = excluded.url, sign_key "
                   "= excluded.sign_key, box_key = excluded.box_key, log_vkey = "
                   "excluded.log_vkey, updated = excluded.updated"));
  RETURN_IF_ERROR(
      st->Bind(p.state, p.url, p.sign_key, p.box_key, OrEmpty(p.log_vkey), p.added, p.updated));
  return st->Run();
}

StatusOr<std::optional<PeerRecord>> NodeStore::GetPeer(std::string_view state) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT state, url, sign_key, box_key, log_vkey, added, updated "
                                "FROM peers WHERE state = ?"));
  RETURN_IF_ERROR(st->Bind(state));
  return One<PeerRecord>(st, ReadPeer);
}

StatusOr<std::vector<PeerRecord>> NodeStore::ListPeers() {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT state, url, sign_key, box_key, log_vkey, added, updated "
                                "FROM peers ORDER BY state"));
  return Collect<PeerRecord>(st, ReadPeer);
}

// --- what a group of writes reads at its start ---------------------------------------------

namespace {
// Profiles (kind 0: code and version) and peers (kind 1: state), one statement for both.
constexpr std::string_view kGroupReads =
    "SELECT 0, code, sha256 FROM profiles UNION ALL SELECT 1, state, '' FROM peers";
}  // namespace

Status NodeStore::SendGroupReads() {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(kGroupReads));
  return st->SendRead();
}

StatusOr<NodeStore::GroupReads> NodeStore::ReadGroupReads() {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(kGroupReads));
  GroupReads out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    if (st->Int64(0) == 0) {
      out.profile_versions.emplace(st->Text(1), st->Text(2));
    } else {
      out.peer_states.insert(st->Text(1));
    }
  }
  st->Reset();
  return out;
}

// --- inbox ---------------------------------------------------------------------------------

Status NodeStore::InsertInbox(const InboxRecord& r) {
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare("INSERT INTO inbox (message_id, sender, kind, body_sha256, "
                   "request_id, received) VALUES (?, ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), ?)"));
  RETURN_IF_ERROR(
      st->Bind(r.message_id, r.sender, r.kind, r.body_sha256, OrEmpty(r.request_id), r.received));
  Status s = st->RunPipelined();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("message " + r.message_id + " was already received");
  }
  return s;
}

StatusOr<NodeStore::InboxCheck> NodeStore::CheckInbox(std::string_view message_id,
                                                      std::string_view request_id) {
  const InboxKey key{message_id, request_id};
  ASSIGN_OR_RETURN(std::vector<InboxCheck> checks, CheckInboxes(std::span(&key, 1)));
  return std::move(checks.front());
}

StatusOr<std::vector<NodeStore::InboxCheck>> NodeStore::CheckInboxes(
    std::span<const InboxKey> keys) {
  // (Batched reads by key, above: the message ids' slots, then the request ids'.)
  static const auto sql = SlotSql([](size_t slots) {
    std::string s;
    for (size_t r = 0; r < slots; ++r) {
      s += r == 0 ? "" : " UNION ALL ";
      s += "SELECT 0, message_id, sender, kind, body_sha256, request_id, received FROM inbox "
           "WHERE message_id = ?";
    }
    for (size_t r = 0; r < slots; ++r) {
      s += " UNION ALL SELECT 1, id, NULL, NULL, NULL, NULL, NULL FROM requests WHERE id = ?";
    }
    return s;
  });
  std::map<std::string, InboxRecord, std::less<>> inbox;
  std::set<std::string, std::less<>> requests;
  RETURN_IF_ERROR(RunSlots(
      db_, sql, keys.size(),
      [&](Statement* st, size_t start, size_t n, size_t slots) -> Status {
        for (size_t r = 0; r < slots; ++r) {
          const InboxKey& k = r < n ? keys[start + r] : InboxKey{};
          RETURN_IF_ERROR(st->BindAt(static_cast<int>(r + 1), k.message_id));
          RETURN_IF_ERROR(st->BindAt(static_cast<int>(slots + r + 1), k.request_id));
        }
        return OkStatus();
      },
      [&](Statement* st, size_t, size_t) {
        if (st->Int64(0) == 0) {
          InboxRecord rec = ReadInboxAt(st, 1);
          std::string id = rec.message_id;
          inbox.emplace(std::move(id), std::move(rec));
        } else {
          requests.insert(st->Text(1));
        }
      }));
  std::vector<InboxCheck> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto it = inbox.find(keys[i].message_id); it != inbox.end()) out[i].inbox = it->second;
    out[i].request_exists = !keys[i].request_id.empty() && requests.count(keys[i].request_id) != 0;
  }
  return out;
}

StatusOr<std::optional<NodeStore::OutboxWithRequest>> NodeStore::GetOutboxWithRequest(
    std::string_view message_id) {
  ASSIGN_OR_RETURN(std::vector<std::optional<OutboxWithRequest>> found,
                   GetOutboxesWithRequest(std::span(&message_id, 1)));
  return std::move(found.front());
}

StatusOr<std::vector<std::optional<NodeStore::OutboxWithRequest>>>
NodeStore::GetOutboxesWithRequest(std::span<const std::string_view> message_ids) {
  // (Batched reads by key, above.) Without the message's body, which recording a delivery
  // does not need (it is the request again, or an answer: kilobytes a row).
  static const auto sql = SlotSql([](size_t slots) {
    std::string columns = Prefixed(kOutboxColumns, "o.");
    columns.replace(columns.find("o.body"), 6, "''");
    std::string s;
    for (size_t r = 0; r < slots; ++r) {
      s += r == 0 ? "" : " UNION ALL ";
      s += "SELECT " + std::to_string(r) + ", " + columns + ", " + Prefixed(kRequestColumns, "r.") +
           ", (SELECT COALESCE(MAX(e.seq), 0) FROM request_events e WHERE e.request_id = r.id) "
           "FROM outbox o LEFT JOIN requests r ON r.id = o.request_id WHERE o.message_id = ?";
    }
    return s;
  });
  std::vector<std::optional<OutboxWithRequest>> out(message_ids.size());
  RETURN_IF_ERROR(ReadSlots(db_, sql, message_ids, [&](Statement* st, size_t i) {
    OutboxWithRequest found;
    found.message = ReadOutboxAt(st, 1);
    if (!st->IsNull(12)) found.request = std::make_pair(ReadRequestAt(st, 12), st->Int64(30));
    out[i] = std::move(found);
  }));
  return out;
}

StatusOr<std::optional<InboxRecord>> NodeStore::GetInbox(std::string_view message_id) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT message_id, sender, kind, body_sha256, request_id, "
                                "received FROM inbox WHERE message_id = ?"));
  RETURN_IF_ERROR(st->Bind(message_id));
  return One<InboxRecord>(st, ReadInbox);
}

// --- outbox --------------------------------------------------------------------------------

Status Outbox::Enqueue(const OutboxMessage& m) {
  static const std::string sql = Sql(
      "INSERT INTO outbox (", kOutboxColumns,
      ") VALUES (?, ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), ?, ?, ?, NULLIF(CAST(? AS TEXT), ''), "
      "NULLIF(?, CAST(0 AS BIGINT)), NULLIF(CAST(? AS TEXT), ''))");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  const int64_t delivered = OrZero(m.delivered);
  RETURN_IF_ERROR(st->Bind(m.message_id, m.recipient, m.kind, m.body, OrEmpty(m.request_id),
                           m.created, m.next_attempt, m.attempts, OrEmpty(m.last_error), delivered,
                           OrEmpty(m.receipt)));
  Status s = st->RunPipelined();
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("message " + m.message_id + " is already in the outbox");
  }
  return s;
}

StatusOr<std::vector<OutboxMessage>> Outbox::Due(int64_t now, int limit, const Position* after) {
  if (limit < 1 || limit > kMaxPageSize) {
    return InvalidArgumentError("limit must be between 1 and " + std::to_string(kMaxPageSize));
  }
  static const std::string sql = Sql("SELECT ", kOutboxColumns,
                                     " FROM outbox WHERE delivered IS NULL AND next_attempt <= ? "
                                     "ORDER BY next_attempt, created, message_id LIMIT ?");
  // (`next_attempt >= ?` as well as the row comparison: the index on next_attempt bounds the
  // scan.)
  static const std::string after_sql =
      Sql("SELECT ", kOutboxColumns,
          " FROM outbox WHERE delivered IS NULL AND next_attempt <= ? AND next_attempt >= ? AND "
          "(next_attempt, created, message_id) > (?, ?, ?) "
          "ORDER BY next_attempt, created, message_id LIMIT ?");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(after == nullptr ? sql : after_sql));
  const int64_t n = limit;
  if (after == nullptr) {
    RETURN_IF_ERROR(st->Bind(now, n));
  } else {
    RETURN_IF_ERROR(st->Bind(now, after->next_attempt, after->next_attempt, after->created,
                             after->message_id, n));
  }
  return Collect<OutboxMessage>(st, ReadOutbox);
}

StatusOr<std::optional<OutboxMessage>> Outbox::Get(std::string_view message_id) {
  static const std::string sql =
      Sql("SELECT ", kOutboxColumns, " FROM outbox WHERE message_id = ?");
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
  RETURN_IF_ERROR(st->Bind(message_id));
  return One<OutboxMessage>(st, ReadOutbox);
}

Status Outbox::MarkDelivered(std::string_view message_id, std::string_view receipt, int64_t at) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("UPDATE outbox SET delivered = ?, receipt = ?, attempts = "
                                "attempts + 1 WHERE message_id = ? AND delivered IS NULL"));
  RETURN_IF_ERROR(st->Bind(at, receipt, message_id));
  Status s = st->RunPipelinedExpecting(1, "outbox message " + std::string(message_id) +
                                              " is not waiting for delivery (unknown, or "
                                              "delivered meanwhile)");
  if (s.code() != StatusCode::kAborted) return s;
  // Refused at once (not pipelined): say why, if it can be read.
  StatusOr<std::optional<OutboxMessage>> read = Get(message_id);
  if (!read.ok()) return s;
  const std::optional<OutboxMessage>& m = *read;
  if (!m) return NotFoundError("no outbox message " + std::string(message_id));
  if (m->delivered) {
    return FailedPreconditionError("outbox message " + std::string(message_id) +
                                   " was already delivered");
  }
  return s;
}

Status Outbox::Reschedule(std::string_view message_id, int64_t next_attempt,
                          std::string_view error) {
  ASSIGN_OR_RETURN(std::optional<OutboxMessage> m, Get(message_id));
  if (!m) return NotFoundError("no outbox message " + std::string(message_id));
  if (m->delivered) {
    return FailedPreconditionError("outbox message " + std::string(message_id) +
                                   " was already delivered");
  }
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("UPDATE outbox SET next_attempt = ?, last_error = ?, attempts = "
                                "attempts + 1 WHERE message_id = ? AND delivered IS NULL"));
  RETURN_IF_ERROR(st->Bind(next_attempt, error, message_id));
  RETURN_IF_ERROR(st->Run());
  if (db_->changes() != 1) {
    return AbortedError("outbox message " + std::string(message_id) + " was changed concurrently");
  }
  return OkStatus();
}

StatusOr<int64_t> Outbox::Depth() {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT count(*) FROM outbox WHERE delivered IS NULL"));
  return Scalar(st);
}

}  // namespace comity::store

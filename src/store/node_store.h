// The node's own records, over a store::Database: requests, their events, users, state profiles,
// peers, the private records behind the log's leaves, and the federation outbox and inbox.
// Tables and columns: docs/formats/node-store.md.
//
//   ASSIGN_OR_RETURN(auto db, Database::Open(dir + "/comity.db"));
//   ASSIGN_OR_RETURN(auto store, NodeStore::Open(db.get()));      // applies the "node" migrations
//   store::Transaction tx(db.get());
//   RETURN_IF_ERROR(tx.Begin());
//   RETURN_IF_ERROR(store->UpdateRequest(updated, /*expected_version=*/3));   // kAborted if not 3
//   RETURN_IF_ERROR(store->InsertEvent(event));
//   ... tlog::Log::AppendInTransaction on the same db, store->InsertLogRecord(...) ...
//   RETURN_IF_ERROR(tx.Commit());                                  // all of it or none
//
// The store knows nothing of the lifecycle: states, roles and kinds are the wire names the node
// layer gives it. It never begins or commits a transaction itself (except in Open, for the
// migrations), so that the caller can put several writes and the log append in one.
//
// Times are microseconds since the Unix epoch (BIGINT). The SQL is portable (standard types,
// `?` placeholders, no AUTOINCREMENT or rowid), so that a PostgreSQL Database can run it too.
//
// Thread-compatible, like the Database it uses.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace comity::store {

// One request, outgoing or incoming.
struct RequestRecord {
  std::string id;
  std::string direction;  // "outgoing" | "incoming"
  std::string state;      // workflow state wire name ("draft", "in_review", ...)
  std::string requesting_state;
  std::string requested_state;
  std::string urgency;
  std::string request_json;                      // comity.request/v1
  std::optional<std::string> screening_json;     // comity.decision/v1 (our screening)
  std::optional<std::string> screening_outcome;  // its outcome, for counting
  std::optional<std::string> decision_json;      // the answer: ours (incoming) or received
  std::optional<std::string> conditions_json;    // the answer's conditions (JSON array)
  std::optional<int64_t> respond_by;             // µs; the answer's deadline
  bool awaiting_answer = false;                  // counts as overdue once respond_by has passed
  std::optional<std::string> assignee;
  std::string created_by;
  int64_t created = 0;  // µs
  int64_t updated = 0;  // µs
  int64_t version = 1;  // 1 on insert; +1 on every update
  bool operator==(const RequestRecord&) const = default;
};

// One event in a request's history. Every event has its log leaf (log_index).
struct EventRecord {
  std::string request_id;
  int64_t seq = 0;  // 1, 2, ... per request
  int64_t at = 0;   // µs
  std::string actor;
  std::string action;
  std::optional<std::string> from_state;  // absent for the event that creates the request
  std::string to_state;
  std::optional<std::string> reason;
  std::optional<std::string> detail_json;
  int64_t log_index = 0;
  bool operator==(const EventRecord&) const = default;
};

struct UserRecord {
  std::string name;
  std::string role;
  std::string token_sha256;  // hex SHA-256 of the token; the token itself is never stored
  int64_t created = 0;
  std::string created_by;
  std::optional<int64_t> revoked;
  std::optional<std::string> revoked_by;
  bool operator==(const UserRecord&) const = default;
};

struct ProfileRecord {
  std::string code;
  std::string profile_json;
  std::string sha256;  // hex SHA-256 of profile_json
  int64_t updated = 0;
  std::string updated_by;
  bool operator==(const ProfileRecord&) const = default;
};

struct PeerRecord {
  std::string state;
  std::string url;
  std::string sign_key;  // base64 Ed25519 public key
  std::string box_key;   // base64 X25519 public key
  std::optional<std::string> log_vkey;
  int64_t added = 0;
  int64_t updated = 0;
  bool operator==(const PeerRecord&) const = default;
};

// What stays private behind a log leaf: the salt and the record its commitment covers.
struct LogRecord {
  int64_t leaf_index = 0;
  std::string salt_hex;  // 32 random bytes, hex
  std::string record;    // canonical JSON
  int64_t created = 0;
  bool operator==(const LogRecord&) const = default;
};

// A message waiting to be (or already) delivered to a peer.
struct OutboxMessage {
  std::string message_id;  // 32 hex digits; the same on every attempt
  std::string recipient;   // state code
  std::string kind;        // request, decision, information_request, information_reply
  std::string body;        // JSON text
  std::optional<std::string> request_id;
  int64_t created = 0;
  int64_t next_attempt = 0;
  int64_t attempts = 0;
  std::optional<std::string> last_error;
  std::optional<int64_t> delivered;
  std::optional<std::string> receipt;  // the peer's signed receipt
  bool operator==(const OutboxMessage&) const = default;
};

// A message accepted from a peer (deduplication by message id).
struct InboxRecord {
  std::string message_id;
  std::string sender;
  std::string kind;
  std::string body_sha256;
  std::optional<std::string> request_id;
  int64_t received = 0;
  bool operator==(const InboxRecord&) const = default;
};

inline constexpr int kMaxPageSize = 1000;  // the store's own bound on one ListRequests page

struct RequestFilter {
  std::string direction;  // empty: any (and likewise below)
  std::string state;
  std::string requesting_state;
  std::string requested_state;
  // Set: only requests that are (true) or are not (false) overdue at `now`.
  std::optional<bool> overdue;
  int64_t now = 0;
  // Paging, newest first: rows strictly after this (created, id) position.
  std::optional<std::pair<int64_t, std::string>> after;
  int limit = 50;  // 1..kMaxPageSize
};

struct RequestCount {
  std::string direction;
  std::string state;
  std::string screening_outcome;  // empty when none
  int64_t count = 0;
};

class NodeStore {
 public:
  // Applies the "node" migrations. `db` must outlive the store.
  static StatusOr<std::unique_ptr<NodeStore>> Open(Database* db);

  Database* database() { return db_; }

  // --- requests ---
  // kAlreadyExists if the id is taken.
  // The inserts below are pipelined inside a PostgreSQL transaction (Statement::RunPipelined):
  // their errors may come from the next call that waits for the server.
  Status InsertRequest(const RequestRecord& r);
  // Writes `r` if the stored version is `expected_version`; r.version must be expected + 1.
  // kAborted when the stored version differs (a concurrent change), kNotFound when absent.
  Status UpdateRequest(const RequestRecord& r, int64_t expected_version);
  // The same, writing only the columns a state change changes (state, screening outcome,
  // deadline, awaiting flag, assignee, updated, version) — for a record that has the same
  // documents as the row it was read from (SameDocuments): the stored JSON is not rewritten.
  Status UpdateRequestState(const RequestRecord& r, int64_t expected_version);
  // True when `a` and `b` differ at most in the columns UpdateRequestState writes.
  static bool SameDocuments(const RequestRecord& a, const RequestRecord& b);
  StatusOr<std::optional<RequestRecord>> GetRequest(std::string_view id);
  // A request and the number of its last event (0 if none), in one read: what a change of it
  // needs to number its next event.
  StatusOr<std::optional<std::pair<RequestRecord, int64_t>>> GetRequestAndLastSeq(
      std::string_view id);
  // The same for several ids, one answer each, in order (kCheckRows per statement).
  StatusOr<std::vector<std::optional<std::pair<RequestRecord, int64_t>>>> GetRequestsAndLastSeq(
      std::span<const std::string_view> ids);
  StatusOr<std::vector<RequestRecord>> ListRequests(const RequestFilter& filter);
  StatusOr<std::vector<RequestCount>> CountRequests();
  StatusOr<int64_t> CountOverdue(int64_t now);

  // --- events ---
  Status InsertEvent(const EventRecord& e);
  // Several at once, several rows per statement (a group's events).
  Status InsertEvents(std::span<const EventRecord> events);
  StatusOr<std::vector<EventRecord>> ListEvents(std::string_view request_id);
  StatusOr<int64_t> CountEvents();

  // --- private log records ---
  Status InsertLogRecord(const LogRecord& r);
  Status InsertLogRecords(std::span<const LogRecord> records);
  StatusOr<std::optional<LogRecord>> GetLogRecord(int64_t leaf_index);
  // The smallest leaf index whose record was created after `cutoff` (nullopt if none): every
  // leaf before it is at least as old as the cutoff.
  StatusOr<std::optional<int64_t>> FirstLogRecordAfter(int64_t cutoff);
  StatusOr<int64_t> CountLogRecords();

  // --- users ---
  Status InsertUser(const UserRecord& u);  // kAlreadyExists for a taken name or token hash
  StatusOr<std::optional<UserRecord>> GetUser(std::string_view name);
  StatusOr<std::optional<UserRecord>> FindUserByTokenHash(std::string_view token_sha256);
  StatusOr<std::vector<UserRecord>> ListUsers();
  // kNotFound if absent; kFailedPrecondition if already revoked.
  Status RevokeUser(std::string_view name, int64_t at, std::string_view by);
  StatusOr<int64_t> CountActiveUsers(std::string_view role);

  // --- profiles ---
  Status PutProfile(const ProfileRecord& p);  // insert or replace
  StatusOr<std::optional<ProfileRecord>> GetProfile(std::string_view code);
  StatusOr<std::vector<ProfileRecord>> ListProfiles();

  // --- peers ---
  Status InsertPeer(const PeerRecord& p);   // kAlreadyExists for a known state
  Status ReplacePeer(const PeerRecord& p);  // insert or replace (keeps `added` of an old row)
  StatusOr<std::optional<PeerRecord>> GetPeer(std::string_view state);
  StatusOr<std::vector<PeerRecord>> ListPeers();

  // --- what a group of writes reads at its start ---
  struct GroupReads {
    std::map<std::string, std::string, std::less<>> profile_versions;  // code -> sha256
    std::set<std::string, std::less<>> peer_states;
  };
  // Starts reading the (code, sha256) of every profile and the state of every peer, in one
  // statement (Statement::SendRead: on PostgreSQL it travels with the transaction's next round
  // trip); ReadGroupReads() then returns them (reading them now if not sent).
  Status SendGroupReads();
  StatusOr<GroupReads> ReadGroupReads();

  // --- inbox ---
  Status InsertInbox(const InboxRecord& r);  // kAlreadyExists for a known message id
  StatusOr<std::optional<InboxRecord>> GetInbox(std::string_view message_id);
  // What a received message's change checks, in one read: the inbox row of its message id (if
  // it was received before) and whether a request with `request_id` is known.
  struct InboxCheck {
    std::optional<InboxRecord> inbox;
    bool request_exists = false;
  };
  StatusOr<InboxCheck> CheckInbox(std::string_view message_id, std::string_view request_id);
  // The same for several messages at once, one answer per key in order (kCheckRows keys per
  // statement). An empty request id is known to no one.
  struct InboxKey {
    std::string_view message_id;
    std::string_view request_id;
  };
  static constexpr size_t kCheckRows = 16;
  StatusOr<std::vector<InboxCheck>> CheckInboxes(std::span<const InboxKey> keys);
  // An outbox message (without its body: left empty) with its request (if it has one and it is
  // there) and that request's last event number, in one read: what recording its delivery needs.
  struct OutboxWithRequest {
    OutboxMessage message;
    std::optional<std::pair<RequestRecord, int64_t>> request;
  };
  StatusOr<std::optional<OutboxWithRequest>> GetOutboxWithRequest(std::string_view message_id);
  // The same for several message ids, one answer each, in order (kCheckRows per statement).
  StatusOr<std::vector<std::optional<OutboxWithRequest>>> GetOutboxesWithRequest(
      std::span<const std::string_view> message_ids);

 private:
  Status CheckUpdated(Statement* st, const RequestRecord& r, int64_t expected_version);
  explicit NodeStore(Database* db) : db_(db) {}
  Database* db_;
};

// The durable outbox of messages to peers. The delivery worker (federation) takes due
// messages, sends them, and records the receipt or reschedules with the error; the message
// itself is enqueued by the node in the same transaction as the state change it announces.
//
//   Outbox outbox(db);
//   ASSIGN_OR_RETURN(auto due, outbox.Due(now, 100));
//   for (auto& m : due) { ... outbox.MarkDelivered(m.message_id, receipt, now) or
//                             outbox.Reschedule(m.message_id, now + backoff, error) ... }
//
// Thread-compatible.
class Outbox {
 public:
  explicit Outbox(Database* db) : db_(db) {}  // the node migrations must have been applied

  // kAlreadyExists for a message id already enqueued.
  Status Enqueue(const OutboxMessage& m);
  // Undelivered messages whose next_attempt ≤ now, ordered by (next_attempt, created,
  // message_id), at most `limit`; with `after`, only those placed after it in that order.
  struct Position {
    int64_t next_attempt = 0;
    int64_t created = 0;
    std::string message_id;
  };
  StatusOr<std::vector<OutboxMessage>> Due(int64_t now, int limit, const Position* after = nullptr);
  StatusOr<std::optional<OutboxMessage>> Get(std::string_view message_id);
  // kNotFound if absent; kFailedPrecondition if already delivered.
  Status MarkDelivered(std::string_view message_id, std::string_view receipt, int64_t at);
  // Counts an attempt, keeps the error, and sets the next attempt. kNotFound if absent;
  // kFailedPrecondition if already delivered.
  Status Reschedule(std::string_view message_id, int64_t next_attempt, std::string_view error);
  // Messages not yet delivered.
  StatusOr<int64_t> Depth();

 private:
  Database* db_;
};

}  // namespace comity::store

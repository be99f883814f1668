// The node's service layer: applies the request lifecycle (workflow/lifecycle.h) to stored
// requests, screens them with the safeguards engine, and commits every state change together
// with its event, its log leaf, its private record and any outgoing message, in ONE
// transaction on one database connection. There is never an event without its log entry, nor
// an entry without its event.
//
//   ASSIGN_OR_RETURN(auto svc, NodeService::Open(options));
//   ASSIGN_OR_RETURN(DraftResult d, svc->CreateDraft(officer, request_json));   // pre-screened
//   ASSIGN_OR_RETURN(auto r, svc->Act(officer, d.record.id, {.action = Action::kSubmit}));
//   // r.state == "submitted"; a "request" message waits in the outbox
//
// Federation seams (the delivery worker and the inbox call these; each is one transaction and
// idempotent on the message id where it says so):
//   AcceptIncomingRequest(from, message_id, body)  a peer's request: stored as received,
//       screened with our profile (requested) and the sender's (requesting) → in_review/ready.
//   ApplyReceivedDecision(from, message_id, body)  a peer's answer to one of our requests
//       (kinds decision and information_request) → answered / information_requested.
//   AcceptInformationReply(from, message_id, body) the requesting state's reply to our request
//       for information → in_review.
//   RecordDelivery(message_id, receipt)             a signed receipt for an outbox message;
//       a request message moves its request submitted → delivered. RecordDeliveries records
//       several in one transaction.
//   RecordDeliveryFailure(message_id, next, error)  reschedules an outbox message.
//   DueMessages(now, limit), OutboxDepth()          what the worker sends next.
//   ListUndelivered(limit, cursor)                  what waits, with its attempts and last
//       error (GET /api/v1/outbox); GetRequest lists a request's messages the same way.
//   FindInboxMessage(id), FindOutboxMessage(id)     what was received / sent under an id
//       (FindInboxMessages: several ids in one read).
// Message bodies are described in docs/formats/node-store.md ("Messages").
//
// Concurrency: thread-safe. Writes are serialised on one writer connection (the log has one
// writer); reads use a small pool of reader connections and never wait for a write.
// Group commit (ServiceOptions::group_commit): a write commits without waiting for the disk
// and then waits, without holding the writer, until one sync covers it (SQLite: an fdatasync of
// the WAL; PostgreSQL: a durable commit on another connection) — writers that commit meanwhile
// share it, so N concurrent writes cost about one flush, not N. No call returns before its write is
// durable, and what leaves the node or is published (due outbox messages, inbox lookups, log
// resources) is read only once durable. Optimistic concurrency protects against other processes
// sharing the database: a request row carries a version, and a write that finds another version
// fails with kAborted (HTTP 409).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "core/time.h"
#include "crypto/ed25519.h"
#include "node/accounts.h"
#include "node/config.h"
#include "node/directory.h"
#include "rules/rulebase.h"
#include "store/database.h"
#include "store/node_store.h"
#include "tlog/log.h"
#include "tlog/publish.h"
#include "tlog/storage.h"
#include "workflow/lifecycle.h"

namespace comity::node {

// Limits on what people write into a request's history (explicit, tested).
inline constexpr size_t kMaxReasonBytes = 10'000;
// Undelivered messages on one page of ListUndelivered.
inline constexpr int kMaxOutboxPage = 500;  // one more is read (Outbox::Due: 1..1000)
inline constexpr size_t kMaxInformationBytes = 100'000;
inline constexpr size_t kMaxConditions = 20;
inline constexpr size_t kMaxConditionTextBytes = 4'000;
inline constexpr size_t kMaxDeliveryBatch = 256;  // deliveries recorded in one transaction

using DatabaseOpener = std::function<StatusOr<std::unique_ptr<store::Database>>()>;
// Builds the log's storage over a connection (SQLite today; the seam for other backends).
using LogStorageOpener =
    std::function<StatusOr<std::unique_ptr<tlog::LogStorage>>(store::Database*)>;

struct ServiceOptions {
  StateCode state;
  std::shared_ptr<const rules::RuleBase> rules;
  crypto::Ed25519PrivateKey log_key = crypto::Ed25519PrivateKey::Generate();
  DatabaseOpener open_database;
  LogStorageOpener open_log_storage;
  const Clock* clock = &SystemClock();
  Disclosure disclosure = Disclosure::kEmbargo;
  int embargo_days = 90;
  int readers = 4;  // reader connections (1..64)
  // Commit without waiting for durability each time, and make commits durable in groups before
  // any call returns: SQLite, one fdatasync of the WAL shared by every writer waiting at that
  // moment; PostgreSQL, the writer commits with synchronous_commit off and one durable commit
  // on another connection (which flushes the WAL past them) serves the group. Off: every
  // commit is durable on its own.
  bool group_commit = true;
  // Combined writes (service.cc): a leader that finds fewer than kLingerBelow writes queued
  // waits this long for more (or until a group is full) — only while writes arrive at most
  // twice this far apart on average and writes have met (two in the queue, or in the last
  // group), so a lightly loaded node, or one client writing one thing after another, never
  // waits. A moderately loaded node so forms fewer, larger groups: a group's transaction, log
  // append, signed checkpoint and sync are shared by more writes. 0: never wait (0..10 ms).
  std::chrono::microseconds group_linger{1000};
  // Fault injection for tests: wraps the writer's log storage.
  std::function<std::unique_ptr<tlog::LogStorage>(std::unique_ptr<tlog::LogStorage>)>
      wrap_writer_log_storage;
  // Fault injection for tests: called before each group-commit sync (fdatasync or barrier); an
  // error fails that sync.
  std::function<Status()> before_sync;
};

// A condition attached to a decision (use limitation, confidentiality, retention, ...).
struct ConditionInput {
  std::string code;  // [a-z0-9_-]{1,64}; e.g. use-limitation, confidentiality, retention
  std::string text;
  std::optional<Date> until;
};

struct ActionInput {
  workflow::Action action = workflow::Action::kSubmit;
  std::string reasons;                     // decide (Art. 40), close, withdraw
  std::vector<ConditionInput> conditions;  // decide
  std::string information;                 // reply
  std::optional<int64_t> expected_version;
};

struct DraftResult {
  store::RequestRecord record;
  Decision screening;
};

struct RequestView {
  store::RequestRecord record;
  std::vector<store::EventRecord> events;
  std::vector<workflow::Action> allowed;
  bool overdue = false;
  // The messages this node sent about the request (named by its events), oldest first: each
  // with its attempts and last error, or its delivery time and the peer's signed receipt.
  std::vector<store::OutboxMessage> messages;
};

// Undelivered messages, next due first (ListUndelivered).
struct OutboxPage {
  std::vector<store::OutboxMessage> items;
  std::string next_cursor;  // empty on the last page
};

struct RequestQuery {
  std::string direction;  // "", "outgoing", "incoming"
  std::string state;
  std::string requesting_state;
  std::string requested_state;
  std::optional<bool> overdue;
  std::string cursor;  // from a previous page's next_cursor
  int limit = 50;
};

struct RequestPage {
  std::vector<store::RequestRecord> items;
  std::string next_cursor;  // empty on the last page
};

struct IncomingResult {
  std::string request_id;
  std::string state;
  bool duplicate = false;  // the message id was seen before with the same body
};

// A message received from a peer, for AcceptIncomingBatch.
struct IncomingMessage {
  std::string_view from_state;
  std::string_view message_id;
  std::string_view kind;  // request, decision, information_request, information_reply
  std::string_view body;
};
inline constexpr size_t kMaxIncomingBatch = 256;

struct NodeStats {
  std::vector<store::RequestCount> requests;
  int64_t overdue = 0;
  int64_t outbox_depth = 0;
  uint64_t log_size = 0;
  uint64_t log_disclosed = 0;
  // Since the process started: round trips to PostgreSQL (every connection; 0 on SQLite), and
  // syncs that made groups of commits durable.
  uint64_t database_round_trips = 0;
  uint64_t durability_syncs = 0;
  uint64_t write_groups = 0;   // groups of combined writes led (a lone write is one)
  uint64_t write_lingers = 0;  // of which waited for more writes first
};

// Combined writes: whether a leader that finds `queued` writes in the queue (its own included)
// waits for more (ServiceOptions::group_linger), given the average gap between writes and the
// size of the last group. Only below kLingerBelow writes — a group's own costs are then shared
// by few, and one more write lowers each one's share the most — while writes come at most twice
// the wait apart, and when two writes have met (two queued, or the last group). Exposed for
// tests.
inline constexpr size_t kLingerBelow = 4;
bool ShouldLinger(std::chrono::microseconds linger, size_t queued, int64_t average_gap_us,
                  size_t last_group);

class NodeService {
 public:
  static StatusOr<std::unique_ptr<NodeService>> Open(ServiceOptions options);
  ~NodeService();
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // --- people ---
  // A draft from a comity.request/v1 body, pre-screened with the requested state's profile.
  // The node assigns `id` and `created`: a body carrying either is refused (pointer /id or
  // /created). The requesting state must be ours.
  StatusOr<DraftResult> CreateDraft(const Principal& who, std::string_view request_json);
  // Applies a person's action (submit, withdraw, reply, decide actions, close).
  // kFailedPrecondition (409) lists what is allowed from the current state; kPermissionDenied
  // when the role does not take this action; kInvalidArgument for missing reasons etc.;
  // kAborted when expected_version is stale.
  StatusOr<store::RequestRecord> Act(const Principal& who, std::string_view id,
                                     const ActionInput& input);
  // Supervisors: gives the request to another user (an officer, reviewer or supervisor).
  StatusOr<store::RequestRecord> Assign(const Principal& who, std::string_view id,
                                        std::string_view assignee,
                                        std::optional<int64_t> expected_version);

  StatusOr<RequestView> GetRequest(std::string_view id);
  StatusOr<RequestPage> ListRequests(const RequestQuery& query);

  // --- directory (admin) ---
  StatusOr<NewUser> AddUser(const Principal& who, std::string_view name, Role role);
  Status RevokeUser(const Principal& who, std::string_view name);
  StatusOr<std::vector<store::UserRecord>> ListUsers();
  // The active user holding `token` (kUnauthenticated otherwise).
  StatusOr<Principal> Authenticate(std::string_view token);
  StatusOr<store::PeerRecord> AddPeer(const Principal& who, const PeerInput& peer, bool replace);
  StatusOr<std::vector<store::PeerRecord>> ListPeers();
  StatusOr<store::ProfileRecord> PutProfile(const Principal& who, std::string_view code,
                                            std::string_view json_text);
  StatusOr<std::optional<store::ProfileRecord>> GetProfile(std::string_view code);
  StatusOr<std::vector<store::ProfileRecord>> ListProfiles();

  // --- federation seams ---
  StatusOr<IncomingResult> AcceptIncomingRequest(std::string_view from_state,
                                                 std::string_view message_id,
                                                 std::string_view request_json);
  StatusOr<IncomingResult> ApplyReceivedDecision(std::string_view from_state,
                                                 std::string_view message_id,
                                                 std::string_view answer_json);
  StatusOr<IncomingResult> AcceptInformationReply(std::string_view from_state,
                                                  std::string_view message_id,
                                                  std::string_view reply_json);
  // Several received messages (any of the kinds above) in ONE transaction: a message that
  // fails is undone alone, and its result says why. At most
  // kMaxIncomingBatch. Results are in the order of `messages`.
  std::vector<StatusOr<IncomingResult>> AcceptIncomingBatch(
      std::span<const IncomingMessage> messages);
  Status RecordDelivery(std::string_view message_id, std::string_view receipt);
  // Several deliveries in one transaction (one log append): what the delivery worker records
  // when receipts arrive together. One status per item, in order; at most kMaxDeliveryBatch
  // are grouped (more are recorded one by one).
  std::vector<Status> RecordDeliveries(
      const std::vector<std::pair<std::string, std::string>>& receipts);
  Status RecordDeliveryFailure(std::string_view message_id, Timestamp next_attempt,
                               std::string_view error);
  StatusOr<std::vector<store::OutboxMessage>> DueMessages(
      Timestamp now, int limit, const store::Outbox::Position* after = nullptr);
  StatusOr<int64_t> OutboxDepth();
  // The messages not yet delivered, in the order they are due (next attempt, then age), for
  // the people who watch deliveries: `limit` 1..kMaxOutboxPage per page, `cursor` from the page
  // before (kInvalidArgument, pointer "/cursor", for one this node did not issue).
  StatusOr<OutboxPage> ListUndelivered(int limit, std::string_view cursor);
  // One outbox message (delivered or not), e.g. to show its receipt.
  StatusOr<std::optional<store::OutboxMessage>> FindOutboxMessage(std::string_view message_id);
  // An accepted message, for the inbox's deduplication before it does any work.
  StatusOr<std::optional<store::InboxRecord>> FindInboxMessage(std::string_view message_id);
  // The same for several message ids, one answer each, in order (read together).
  StatusOr<std::vector<std::optional<store::InboxRecord>>> FindInboxMessages(
      std::span<const std::string> message_ids);

  // --- the log ---
  // Releases entry bundles past the embargo (all of them when disclosure is immediate).
  // Returns the disclosed size.
  StatusOr<uint64_t> DiscloseDue();
  // A C2SP resource ("checkpoint", "tile/0/000", "tile/entries/000.p/3", "disclosed").
  StatusOr<std::string> LogResource(std::string_view path);
  StatusOr<tlog::LogState> LogState();
  std::string LogVerifierKey() const;

  StatusOr<NodeStats> Stats();

  // Called (on the writing thread, after the change is durable) with the messages for peers a
  // change or a group of them enqueued: the delivery worker's Offer, which sends them without
  // reading them back. Set before serving; must be cheap.
  using OutboxListener = std::function<void(std::vector<store::OutboxMessage>)>;
  void SetOutboxListener(OutboxListener listener);
  // fdatasync calls made for group commit so far (tests and metrics).
  uint64_t durability_syncs() const { return syncs_.load(); }
  // Writes that were committed in a group with others (combined writes; for tests and metrics).
  uint64_t combined_writes() const { return combined_writes_.load(); }
  // Groups of writes led (a lone write counts as one), and how many of them waited for more
  // writes first (ServiceOptions::group_linger; tests and metrics).
  uint64_t write_groups() const { return write_groups_.load(); }
  uint64_t write_lingers() const { return lingers_.load(); }

  StateCode state() const { return options_.state; }
  const Clock& clock() const { return *options_.clock; }

 private:
  struct Connection;  // a database connection with the store and log storage over it
  struct Change;      // everything one transaction writes
  struct PendingEvent;
  class WriteLock;  // holds mu_ for one write operation
  struct CombinedJob;

  // Runs `f` (which writes with Commit) combined with concurrent writes of officers: see
  // service.cc, "combined writes".
  // `loads`: the id of the request `f` loads with LoadForUpdate, if known: a group reads its
  // jobs' requests together before running them. `grouped`: `f` writes several changes (a
  // batch), to be committed together even when no other write joins it.
  template <typename T, typename F>
  StatusOr<T> Combined(F f, bool urgent = false, std::string_view loads = {}, bool grouped = false);
  void RunCombined(CombinedJob* job);
  // As the leader, with fewer writes queued than a group may take: waits for more (see
  // ServiceOptions::group_linger). Requires comb_mu_ (held by `lock`; released while waiting).
  void Linger(std::unique_lock<std::mutex>& lock);
  // Writes `group`; returns the messages it placed in the outbox, durable, for the outbox
  // listener (called once the next group may start).
  std::vector<store::OutboxMessage> LeadCombined(const std::vector<CombinedJob*>& group);

  explicit NodeService(ServiceOptions options);

  // Runs `f` with a reader connection from the pool (waits while all are busy).
  template <typename F>
  auto WithReader(F f) -> decltype(f(std::declval<Connection&>()));

  Status Commit(Change& change);  // requires mu_; inside a batch, only writes
  Status Write(Change& change);   // requires mu_ and an open transaction
  std::vector<Status> RecordDeliveriesLocked(
      const std::vector<std::pair<std::string, std::string>>& receipts);  // requires mu_
  // A received request as AcceptIncomingBatch reads it for the writer: parsed before the
  // writer is taken, and its message and request ids checked with the batch's other messages.
  struct ReadIncoming {
    StatusOr<Request> parsed;
    store::NodeStore::InboxCheck check;
  };
  // `read`: what the batch read already (else the request is parsed and checked here).
  StatusOr<IncomingResult> AcceptIncomingRequestLocked(std::string_view from_state,
                                                       std::string_view message_id,
                                                       std::string_view request_json,
                                                       ReadIncoming* read = nullptr);
  StatusOr<IncomingResult> ApplyReceivedDecisionLocked(std::string_view from_state,
                                                       std::string_view message_id,
                                                       std::string_view answer_json);
  StatusOr<IncomingResult> AcceptInformationReplyLocked(std::string_view from_state,
                                                        std::string_view message_id,
                                                        std::string_view reply_json);
  StatusOr<IncomingResult> AcceptOne(const IncomingMessage& m);
  // `r`, once what it answers is durable (a duplicate's first receiving); requires mu_ NOT held.
  StatusOr<IncomingResult> AnsweredDurably(StatusOr<IncomingResult> r);
  StatusOr<bool> AddDelivery(Change& change, std::string_view message_id,
                             std::string_view receipt);  // requires mu_
  StatusOr<bool> AddDelivery(Change& change, std::string_view message_id,
                             const std::optional<store::NodeStore::OutboxWithRequest>& found,
                             std::string_view receipt);  // requires mu_
  // Makes a write already committed by the caller durable; requires mu_, which it releases
  // while it waits so that other writers commit meanwhile (they share the next fdatasync).
  // Unless the operation's WriteLock is kept for more (WriteLock::KeepAfterCommit), mu_ is not
  // taken again: the commit is the operation's last use of the writer.
  Status Durable();
  // Requires mu_: COMMIT, then Durable. *kept (if given) tells whether the COMMIT succeeded: if
  // not, mu_ is still held; if so but the result is an error, the writes are kept but not known
  // to be durable (and mu_ is released unless the WriteLock is kept).
  Status DurableCommit(store::Transaction& tx, bool* kept = nullptr);
  void PublishCommitted(uint64_t seq);  // requires mu_
  Status AfterCommit(uint64_t seq);     // requires mu_; see Durable
  // Everything committed so far is durable (readers call it before they answer).
  Status SyncReserved() { return SyncTo(reserved_seq_.load()); }
  // Waits until the commits numbered up to `seq` are durable (at most one fdatasync per group).
  Status SyncTo(uint64_t seq);
  Status SyncWal();  // requires sync_mu_ not held
  // The request, checked against `expected_version`; *next_seq is its next event's number.
  StatusOr<store::RequestRecord> LoadForUpdate(std::string_view id,
                                               std::optional<int64_t> expected_version,
                                               int64_t* next_seq);
  StatusOr<std::shared_ptr<const StateProfile>> Profile(std::string_view code);  // requires mu_
  StatusOr<Decision> Screen(const Request& request);                             // requires mu_
  StatusOr<std::string> NextRequestId();
  StatusOr<std::optional<IncomingResult>> CheckDuplicate(std::string_view message_id,
                                                         std::string_view body);
  // The result for a message already received (`seen`): a duplicate, or kAlreadyExists for a
  // replay with other content; nullopt when `seen` is empty.
  StatusOr<std::optional<IncomingResult>> DuplicateOf(const std::optional<store::InboxRecord>& seen,
                                                      std::string_view message_id,
                                                      std::string_view body);

  ServiceOptions options_;

  std::mutex mu_;  // serialises writes; guards writer_, log_, profile_cache_, write_lock_
  WriteLock* write_lock_ = nullptr;  // the operation holding mu_
  bool batch_open_ = false;          // AcceptIncomingBatch's transaction is open; GUARDED_BY(mu_)
  std::vector<store::OutboxMessage> batch_outbox_;  // what it enqueued; GUARDED_BY(mu_)
  Status batch_broken_;      // the group's transaction failed; GUARDED_BY(mu_)
  bool optimistic_ = false;  // a group's first pass: no savepoints; GUARDED_BY(mu_)
  // The log entries of a group's changes, appended once, just before the group commits: one
  // read of the log's state, one write of each tile touched, one signed checkpoint per group.
  // Each change gets its indices when it is written (state.size + leaves before it); a change
  // undone takes its entries back out. GUARDED_BY(mu_)
  struct LogStage {
    bool state_known = false;  // `state` was read in this group's transaction
    tlog::LogState state;      // the log's state when the group began appending
    std::vector<std::string> leaves;
    // Their events and private records, written together (several rows per statement) after
    // the append; and each request's highest staged event number, which the next change of the
    // same request in the group numbers from.
    std::vector<store::EventRecord> events;
    std::vector<store::LogRecord> records;
    std::map<std::string, int64_t> last_seq;
  };
  LogStage log_stage_;
  void BeginGroup();  // requires mu_ and the group's open transaction
  Status EndGroup();
  int64_t StagedLastSeq(
      const std::string& request_id) const;  // requires mu_; 0 if none  // requires mu_: appends
                                             // the staged entries; before the commit
  // Within a group, profiles and peers are read once (the group is one transaction, and what
  // it reads of them is read as of its start). GUARDED_BY(mu_)
  // What the group read at its start (SendGroupReads): every profile's version, every peer.
  std::optional<store::NodeStore::GroupReads> group_reads_;
  // The requests a group's jobs will load, read together at its start (PrefetchRequests); each
  // is taken once by LoadForUpdate, and dropped when a change of the group writes its request.
  std::map<std::string, std::pair<store::RequestRecord, int64_t>, std::less<>> group_requests_;
  Status PrefetchRequests(const std::vector<CombinedJob*>& group);  // requires mu_
  // Starts the reads every group makes — the log's state (locked), the profiles' versions, the
  // peers — so that they travel with the group's first round trip (requires mu_).
  Status SendGroupReads();
  StatusOr<bool> PeerKnown(const std::string& state);  // requires mu_
  std::mutex comb_mu_;
  std::deque<CombinedJob*> comb_queue_;  // GUARDED_BY(comb_mu_)
  bool comb_leading_ = false;            // GUARDED_BY(comb_mu_)
  // The leader's wait for more writes (Linger): the queue length that ends it (0: no wait).
  size_t comb_want_ = 0;  // GUARDED_BY(comb_mu_)
  std::condition_variable comb_grown_;
  // When the last write was queued, and the average gap between writes (an exponentially
  // weighted moving average, in µs). GUARDED_BY(comb_mu_)
  std::chrono::steady_clock::time_point comb_last_arrival_{};
  int64_t comb_gap_us_ = 1'000'000;
  size_t comb_last_group_ = 0;             // writes in the last group led; GUARDED_BY(comb_mu_)
  std::atomic<uint64_t> write_groups_{0};  // groups led (a lone write is a group of one)
  std::atomic<uint64_t> lingers_{0};       // waits for more writes (Linger)
  std::atomic<uint64_t> combined_writes_{0};
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<tlog::Log> log_;
  struct CachedProfile {
    std::string sha256;
    std::shared_ptr<const StateProfile> profile;
  };
  std::map<std::string, CachedProfile> profile_cache_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // GUARDED_BY(pool_mu_)
  std::string vkey_;

  // Group commit (SQLite): commits are numbered; synced_seq_ is the last one known durable.
  OutboxListener outbox_listener_;
  // A commit takes its number before its COMMIT (readers wait for every reserved number to be
  // durable, so that they never show what a crash could take back) and publishes it in
  // committed_seq_ once its frames are in the WAL (what an fdatasync then covers).
  std::atomic<uint64_t> reserved_seq_{0};
  std::atomic<uint64_t> committed_seq_{0};
  std::atomic<uint64_t> syncs_{0};
  bool group_sync_ = false;                   // false: every commit is durable by itself
  std::string wal_path_;                      // SQLite: the WAL that SyncWal() fdatasyncs
  std::unique_ptr<store::Database> sync_db_;  // PostgreSQL: the barrier's durable connection
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;    // a sync has ended
  std::condition_variable commit_cv_;  // a commit is published, or no writer is pending
  int commit_waiters_ = 0;             // GUARDED_BY(sync_mu_)
  uint64_t synced_seq_ = 0;            // GUARDED_BY(sync_mu_)
  bool syncing_ = false;               // GUARDED_BY(sync_mu_)
  // Write operations begun and not yet committed (waiting for mu_ or holding it): a syncer
  // lets them commit first, for a short while, so that one sync covers them too.
  std::atomic<int> writers_pending_{0};
  std::atomic<int> gathering_{0};  // syncers waiting for pending writers (changed under sync_mu_)
  int wal_fd_ = -1;                // used by the one thread that is syncing
};

// Encodes/decodes the opaque paging cursor (exposed for tests).
std::string EncodeCursor(int64_t created, std::string_view id);
StatusOr<std::pair<int64_t, std::string>> DecodeCursor(std::string_view cursor);

}  // namespace comity::node

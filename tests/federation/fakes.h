// In-memory implementations of the federation's ports (federation/ports.h) for the unit tests:
// a peer directory, an outbox, a node that applies messages, a transport that carries envelopes
// straight to another node's Inbox (with faults), a clock the test moves, and an observer that
// counts.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "federation/batch.h"
#include "federation/envelope.h"
#include "federation/federation_store.h"
#include "federation/inbox.h"
#include "federation/ports.h"
#include "store/database.h"
#include "tlog/log.h"
#include "tlog/publish.h"
#include "tlog/storage.h"

namespace comity::federation::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "comity-fed-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class TestClock : public Clock {
 public:
  explicit TestClock(int64_t seconds = 1'795'000'000) : us_(seconds * 1'000'000) {}
  Timestamp Now() const override {
    const int64_t us = us_.load();
    return Timestamp{us / 1'000'000, static_cast<int32_t>((us % 1'000'000) * 1000)};
  }
  void Advance(std::chrono::milliseconds d) { us_ += d.count() * 1000; }
  int64_t micros() const { return us_.load(); }

 private:
  std::atomic<int64_t> us_;
};

inline Identity MakeIdentity(std::string state) {
  return Identity{std::move(state), crypto::Ed25519PrivateKey::Generate(),
                  crypto::X25519PrivateKey::Generate()};
}

inline PeerKeys KeysOf(const Identity& id) {
  return PeerKeys{id.state, id.sign_key.public_key(), id.box_key.public_key()};
}

inline std::string Sha256Hex(std::string_view s) { return crypto::HexEncode(crypto::Sha256(s)); }

inline std::unique_ptr<FederationStore> OpenStore(const std::string& path) {
  auto durable = store::Database::Open(path);
  auto fast = store::Database::Open(path, {.durable = false});
  if (!durable.ok() || !fast.ok()) std::abort();
  auto s = FederationStore::Open(std::move(*durable), std::move(*fast));
  if (!s.ok()) std::abort();
  return std::move(*s);
}

class FakePeers : public PeerDirectory {
 public:
  void Add(const Identity& id, std::string url, std::string log_vkey = "") {
    std::lock_guard<std::mutex> lock(mu_);
    peers_[id.state] = PeerInfo{KeysOf(id), std::move(url), std::move(log_vkey)};
  }
  void Remove(const std::string& state) {
    std::lock_guard<std::mutex> lock(mu_);
    peers_.erase(state);
  }
  StatusOr<std::optional<PeerInfo>> Find(std::string_view state) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_) return UnavailableError("the directory is down");
    auto it = peers_.find(std::string(state));
    if (it == peers_.end()) return std::optional<PeerInfo>();
    return std::optional<PeerInfo>(it->second);
  }
  void set_fail(bool f) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = f;
  }

 private:
  std::mutex mu_;
  std::map<std::string, PeerInfo> peers_;
  bool fail_ = false;
};

class FixedCheckpoint : public CheckpointSource {
 public:
  explicit FixedCheckpoint(std::string note = "") : note_(std::move(note)) {}
  StatusOr<std::string> LatestCheckpoint() override {
    std::lock_guard<std::mutex> lock(mu_);
    return note_;
  }
  void Set(std::string note) {
    std::lock_guard<std::mutex> lock(mu_);
    note_ = std::move(note);
  }

 private:
  std::mutex mu_;
  std::string note_;
};

// A node that applies messages once per id, as the node service does.
class FakeNode : public MessageHandler {
 public:
  struct Applied {
    std::string from, id, kind, body;
  };
  StatusOr<Handled> Handle(const OpenedEnvelope& env) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++handle_calls_;
    if (next_error_) {
      Status s = *next_error_;
      next_error_.reset();
      return s;
    }
    auto it = seen_.find(env.message.id);
    if (it != seen_.end()) {
      if (it->second.body_sha256 != env.body_sha256) {
        return AlreadyExistsError("message " + env.message.id + " already received");
      }
      return Handled{"", true};
    }
    seen_[env.message.id] = SeenMessage{env.body_sha256, now_us_};
    applied_.push_back(Applied{env.from, env.message.id, env.message.kind, env.message.body});
    return Handled{"R-" + env.message.id.substr(0, 4), false};
  }
  std::vector<StatusOr<Handled>> HandleBatch(std::span<const OpenedEnvelope> envelopes) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch_sizes_.push_back(envelopes.size());
    }
    return MessageHandler::HandleBatch(envelopes);
  }
  std::vector<size_t> batch_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }
  std::vector<StatusOr<std::optional<SeenMessage>>> LookupBatch(
      std::span<const std::string> ids) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      lookup_batch_sizes_.push_back(ids.size());
      if (lookup_error_) {
        return std::vector<StatusOr<std::optional<SeenMessage>>>(ids.size(), *lookup_error_);
      }
    }
    return MessageHandler::LookupBatch(ids);
  }
  std::vector<size_t> lookup_batch_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return lookup_batch_sizes_;
  }
  // Lookups fail with `s` (the inbox cannot be read) until cleared with nullopt.
  void FailLookups(std::optional<Status> s) {
    std::lock_guard<std::mutex> lock(mu_);
    lookup_error_ = std::move(s);
  }
  StatusOr<std::optional<SeenMessage>> Lookup(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (lookup_error_) return *lookup_error_;
    if (hide_lookups_) return std::optional<SeenMessage>();
    auto it = seen_.find(id);
    if (it == seen_.end()) return std::optional<SeenMessage>();
    return std::optional<SeenMessage>(it->second);
  }
  std::vector<Applied> applied() {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }
  int handle_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return handle_calls_;
  }
  void FailNext(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    next_error_ = std::move(s);
  }
  // Lookup answers "not seen" (to exercise the race where Handle finds the duplicate).
  void HideLookups(bool hide) {
    std::lock_guard<std::mutex> lock(mu_);
    hide_lookups_ = hide;
  }

 private:
  std::vector<size_t> batch_sizes_;
  std::vector<size_t> lookup_batch_sizes_;
  std::optional<Status> lookup_error_;
  std::mutex mu_;
  std::map<std::string, SeenMessage> seen_;
  std::vector<Applied> applied_;
  std::optional<Status> next_error_;
  int handle_calls_ = 0;
  bool hide_lookups_ = false;
  int64_t now_us_ = 1'795'000'000'000'000;
};

// The durable outbox, in memory.
class FakeOutbox : public OutboxPort {
 public:
  struct Row {
    OutgoingMessage m;
    int64_t next_attempt_us = 0;
    std::optional<std::string> receipt;
    std::vector<std::string> errors;
  };
  explicit FakeOutbox(const TestClock* clock) : clock_(clock) {}

  void Enqueue(std::string id, std::string to, std::string kind, std::string body) {
    const int64_t now = clock_->micros();
    EnqueueAt(std::move(id), std::move(to), std::move(kind), std::move(body), now);
  }
  // A message created (and due) at `at`: one another writer committed late.
  void EnqueueAt(std::string id, std::string to, std::string kind, std::string body, int64_t at) {
    std::lock_guard<std::mutex> lock(mu_);
    Row r;
    r.m =
        OutgoingMessage{std::move(id), std::move(to), std::move(kind), std::move(body), at, 0, at};
    r.next_attempt_us = at;
    order_.push_back(r.m.message_id);
    rows_[r.m.message_id] = std::move(r);
  }
  StatusOr<std::vector<OutgoingMessage>> Due(Timestamp now, int limit,
                                             const OutboxPosition* after) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_reads_) return UnavailableError("the outbox is down");
    const int64_t now_us = now.seconds * 1'000'000 + now.nanos / 1000;
    std::vector<OutgoingMessage> out;
    for (const std::string& id : order_) {
      const Row& r = rows_[id];
      if (r.receipt || r.next_attempt_us > now_us) continue;
      if (after != nullptr && !(OutboxPosition::Of(r.m) > *after)) continue;
      out.push_back(r.m);
    }
    std::sort(out.begin(), out.end(), [](const OutgoingMessage& a, const OutgoingMessage& b) {
      return OutboxPosition::Of(a) < OutboxPosition::Of(b);
    });
    if (out.size() > static_cast<size_t>(limit)) out.resize(limit);
    ++due_calls_;
    reads_.push_back(Read{after != nullptr, out.size()});
    return out;
  }
  // The dispatcher's reads: whether each read on from a position, and the rows it got.
  struct Read {
    bool after = false;
    size_t rows = 0;
  };
  std::vector<Read> reads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }
  Status RecordDelivery(const std::string& id, const std::string& receipt) override {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = before_record_;
    }
    if (hook) hook();  // outside the lock: it may block
    std::lock_guard<std::mutex> lock(mu_);
    Row& r = rows_.at(id);
    if (r.receipt) {
      return *r.receipt == receipt ? OkStatus()
                                   : FailedPreconditionError("delivered with another receipt");
    }
    r.receipt = receipt;
    ++r.m.attempts;
    ++deliveries_;
    return OkStatus();
  }
  bool CombinesConcurrentRecords() const override { return combines_.load(); }
  // As an outbox that combines concurrent records itself (the node's combined writes).
  void set_combines(bool c) { combines_ = c; }
  Status RecordFailure(const std::string& id, Timestamp next, const std::string& error) override {
    std::lock_guard<std::mutex> lock(mu_);
    Row& r = rows_.at(id);
    r.next_attempt_us = next.seconds * 1'000'000 + next.nanos / 1000;
    r.m.next_attempt_us = r.next_attempt_us;
    ++r.m.attempts;
    r.errors.push_back(error);
    return OkStatus();
  }
  Row Get(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_.at(id);
  }
  int Undelivered() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [id, r] : rows_) n += r.receipt ? 0 : 1;
    return n;
  }
  int deliveries() {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_;
  }
  int due_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return due_calls_;
  }
  void set_fail_reads(bool f) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_reads_ = f;
  }
  // Runs before each delivery is recorded (e.g. to hold it).
  void set_before_record(std::function<void()> f) {
    std::lock_guard<std::mutex> lock(mu_);
    before_record_ = std::move(f);
  }

 private:
  const TestClock* clock_;
  std::mutex mu_;
  std::map<std::string, Row> rows_;
  std::vector<std::string> order_;
  int deliveries_ = 0;
  int due_calls_ = 0;
  std::vector<Read> reads_;
  bool fail_reads_ = false;
  std::function<void()> before_record_;
  std::atomic<bool> combines_{false};
};

// Carries POSTs to the Inbox registered for a base URL and GETs to a log publisher, in process.
// `fault` may turn an exchange into a network error before or after the inbox sees it.
class LoopbackTransport : public Transport {
 public:
  enum class Fault { kNone, kDropRequest, kDropResponse };

  void Route(const std::string& url, Inbox* inbox) {
    std::lock_guard<std::mutex> lock(mu_);
    inboxes_[url] = inbox;
  }
  void ServeLog(const std::string& url, tlog::LogStorage* storage) {
    std::lock_guard<std::mutex> lock(mu_);
    logs_[url] = storage;
  }
  // Whether the batch path is served (else it answers 404, as an older node would).
  void set_batches(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    batches_ = on;
  }
  // Whether the signed-batch path is served (else it answers 404, as an older node would).
  void set_signed_batches(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    signed_batches_ = on;
  }
  void set_fault(std::function<Fault(const std::string& wire)> f) {
    std::lock_guard<std::mutex> lock(mu_);
    fault_ = std::move(f);
  }
  // Called inside Post, outside the lock (to block or count concurrency).
  void set_hook(std::function<void()> h) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(h);
  }

  StatusOr<TransportResponse> Post(const std::string& base_url, const std::string& path,
                                   const std::string& body, std::chrono::milliseconds) override {
    Inbox* inbox = nullptr;
    std::function<Fault(const std::string&)> fault;
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++posts_;
      wires_.push_back(body);
      auto it = inboxes_.find(base_url);
      if (it != inboxes_.end()) inbox = it->second;
      fault = fault_;
      hook = hook_;
    }
    if (hook) hook();
    if (inbox == nullptr)
      return UnavailableError("POST " + base_url + path + ": connection refused");
    const bool signed_batch = path == kInboxSignedBatchPath && batches_ && signed_batches_;
    if ((path == kInboxBatchPath && batches_) || signed_batch) {
      // The batch paths as the node serves them (src/http/federation_api.cc).
      StatusOr<std::vector<std::string>> wires = ParseEnvelopeBatch(body);
      if (!wires.ok()) return TransportResponse{400, wires.status().message()};
      std::vector<BatchResult> results;
      for (InboxAnswer& a : inbox->ReceiveBatch(
               *wires, "127.0.0.1",
               signed_batch ? Inbox::ReceiptSigning::kTogether : Inbox::ReceiptSigning::kEach)) {
        results.push_back({a.http_status, a.receipt, "x", a.error.message()});
      }
      return TransportResponse{200, SerializeBatchResults(results)};
    }
    if (path != "/federation/v1/inbox") return TransportResponse{404, ""};
    const Fault f = fault ? fault(body) : Fault::kNone;
    if (f == Fault::kDropRequest) return UnavailableError("POST " + base_url + path + ": reset");
    InboxAnswer a = inbox->Receive(body, "127.0.0.1");
    if (f == Fault::kDropResponse) {
      return UnavailableError("POST " + base_url + path + ": no answer within 10 ms");
    }
    TransportResponse r;
    r.status = a.http_status;
    r.body = a.http_status == 200 ? a.receipt
                                  : "{\"error\":{\"code\":\"x\",\"message\":\"" +
                                        a.error.message().substr(0, 40) + "\"}}";
    return r;
  }

  StatusOr<TransportResponse> Get(const std::string& base_url, const std::string& path,
                                  std::chrono::milliseconds) override {
    tlog::LogStorage* storage = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++gets_;
      if (fail_gets_) return UnavailableError("GET " + base_url + path + ": refused");
      auto it = logs_.find(base_url);
      if (it != logs_.end()) storage = it->second;
    }
    if (storage == nullptr) return TransportResponse{404, ""};
    tlog::LogPublisher pub(storage);
    auto r = pub.Resource(path.substr(1));
    if (!r.ok())
      return TransportResponse{r.status().code() == StatusCode::kNotFound ? 404 : 500, ""};
    return TransportResponse{200, std::move(*r)};
  }

  int posts() {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }
  int gets() {
    std::lock_guard<std::mutex> lock(mu_);
    return gets_;
  }
  std::vector<std::string> wires() {
    std::lock_guard<std::mutex> lock(mu_);
    return wires_;
  }
  void set_fail_gets(bool f) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_gets_ = f;
  }

 private:
  bool batches_ = false;
  bool signed_batches_ = true;
  std::mutex mu_;
  std::map<std::string, Inbox*> inboxes_;
  std::map<std::string, tlog::LogStorage*> logs_;
  std::function<Fault(const std::string&)> fault_;
  std::function<void()> hook_;
  std::vector<std::string> wires_;
  int posts_ = 0;
  int gets_ = 0;
  bool fail_gets_ = false;
};

class CountingObserver : public FederationObserver {
 public:
  void SecurityEvent(std::string_view kind) override { Bump("security:" + std::string(kind)); }
  void Received(std::string_view peer, std::string_view kind, bool dup) override {
    Bump("received:" + std::string(peer) + ":" + std::string(kind) + (dup ? ":dup" : ""));
  }
  void Delivery(std::string_view peer, std::string_view outcome, std::optional<double>) override {
    Bump("delivery:" + std::string(peer) + ":" + std::string(outcome));
  }
  void Gossip(std::string_view peer, std::string_view outcome) override {
    Bump("gossip:" + std::string(peer) + ":" + std::string(outcome));
  }
  int Count(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  void Bump(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[key];
  }
  std::mutex mu_;
  std::map<std::string, int> counts_;
};

}  // namespace comity::federation::testing

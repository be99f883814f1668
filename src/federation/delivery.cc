#include "federation/delivery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "federation/batch.h"

namespace comity::federation {
namespace {

constexpr size_t kMaxPeerMessage = 300;  // of a peer's error message kept in last_error

Timestamp Plus(Timestamp t, std::chrono::milliseconds d) {
  const int64_t ns = static_cast<int64_t>(t.nanos) + (d.count() % 1000) * 1'000'000;
  return Timestamp{t.seconds + d.count() / 1000 + ns / 1'000'000'000,
                   static_cast<int32_t>(ns % 1'000'000'000)};
}

int64_t Micros(Timestamp t) { return t.seconds * 1'000'000 + t.nanos / 1000; }

// "XB answered HTTP 409 (already_exists): message ..." from a peer's status and error.
Status PeerError(const std::string& peer, int status, const std::string& code,
                 std::string message) {
  if (message.size() > kMaxPeerMessage) message = message.substr(0, kMaxPeerMessage) + "...";
  std::string text = peer + " answered HTTP " + std::to_string(status);
  if (!code.empty()) text += " (" + code + ")";
  if (!message.empty()) text += ": " + message;
  return UnavailableError(text);
}

// The same, from a peer's JSON error body ({"error": {"code", "message"}}).
Status PeerError(const std::string& peer, const TransportResponse& r) {
  std::string code, message;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error"); e != nullptr && e->is_object()) {
      if (const auto* c = e->as_object().if_contains("code"); c && c->is_string()) {
        code = std::string(c->as_string());
      }
      if (const auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
        message = std::string(m->as_string());
      }
    }
  }
  return PeerError(peer, r.status, code, std::move(message));
}

}  // namespace

Status ValidateDeliveryOptions(const DeliveryOptions& o) {
  RETURN_IF_ERROR(ValidateRetryPolicy(o.retry));
  if (o.threads < 1 || o.threads > 256) {
    return InvalidArgumentError("delivery threads must be between 1 and 256");
  }
  if (o.max_in_flight_per_peer < 1 || o.max_in_flight_per_peer > 256) {
    return InvalidArgumentError("deliveries in flight per peer must be between 1 and 256");
  }
  if (o.batch_max < 1 || o.batch_max > static_cast<int>(kMaxBatchEnvelopes)) {
    return InvalidArgumentError("messages per batch must be between 1 and " +
                                std::to_string(kMaxBatchEnvelopes));
  }
  if (o.fetch_limit < 1 || o.fetch_limit > 1000) {
    return InvalidArgumentError("the outbox fetch limit must be between 1 and 1000");
  }
  if (o.attempt_timeout < std::chrono::milliseconds(1) ||
      o.poll_interval < std::chrono::milliseconds(1)) {
    return InvalidArgumentError("the delivery timeout and poll interval must be positive");
  }
  if (o.coalesce < std::chrono::milliseconds(0) || o.coalesce > o.poll_interval) {
    return InvalidArgumentError("the coalescing time must be between 0 and the poll interval");
  }
  return OkStatus();
}

DeliveryWorker::DeliveryWorker(Identity me, OutboxPort* outbox, PeerDirectory* peers,
                               Transport* transport, CheckpointSource* checkpoints,
                               CheckpointSink* gossip, const Clock& clock, DeliveryOptions options,
                               FederationObserver* observer)
    : me_(std::move(me)),
      outbox_(outbox),
      peers_(peers),
      transport_(transport),
      checkpoints_(checkpoints),
      gossip_(gossip),
      clock_(clock),
      options_(options),
      observer_(observer) {}

DeliveryWorker::~DeliveryWorker() { Stop(); }

Status DeliveryWorker::Start() {
  RETURN_IF_ERROR(ValidateDeliveryOptions(options_));
  std::lock_guard<std::mutex> lock(mu_);
  if (dispatcher_.joinable()) return FailedPreconditionError("the delivery worker is running");
  stop_ = false;
  wake_ = true;  // look at the outbox at once: messages may wait from before a restart
  for (int i = 0; i < options_.threads; ++i) senders_.emplace_back([this] { Send(); });
  dispatcher_ = std::thread([this] { Dispatch(); });
  return OkStatus();
}

void DeliveryWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queues_.clear();
    queued_ = 0;
  }
  dispatch_cv_.notify_all();
  send_cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  for (std::thread& t : senders_) t.join();
  senders_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.clear();
  per_peer_.clear();
}

void DeliveryWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  dispatch_cv_.notify_one();
}

void DeliveryWorker::Offer(std::vector<OutgoingMessage> fresh) {
  int queued = 0;
  bool read = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !dispatcher_.joinable()) return;  // Start() reads the outbox
    const int64_t now = Micros(clock_.Now());
    // The bound the dispatcher keeps to (each queued message holds its body).
    const size_t room =
        static_cast<size_t>(options_.threads) * static_cast<size_t>(options_.batch_max);
    for (OutgoingMessage& m : fresh) {
      if (in_flight_.count(m.message_id) != 0) continue;  // read meanwhile
      if (queued_ >= room || m.next_attempt_us > now) {
        read = true;
        continue;
      }
      in_flight_.insert(m.message_id);
      queues_[m.recipient].push_back(std::move(m));
      ++queued_;
      ++queued;
    }
    wake_ = wake_ || read;
  }
  if (read) dispatch_cv_.notify_one();
  for (int i = 0; i < queued; ++i) send_cv_.notify_one();
}

std::string DeliveryWorker::Checkpoint() {
  if (checkpoints_ == nullptr) return {};
  StatusOr<std::string> cp = checkpoints_->LatestCheckpoint();
  if (!cp.ok()) {
    spdlog::warn("delivery: no checkpoint to carry: {}", cp.status().ToString());
    return {};
  }
  return std::move(*cp);
}

Attempt DeliveryWorker::Fail(const OutgoingMessage& m, Status why) {
  Attempt a;
  const Timestamp next =
      Plus(clock_.Now(), RetryDelay(options_.retry, m.attempts + 1, RandomUnit()));
  Status s = outbox_->RecordFailure(m.message_id, next, why.ToString());
  if (!s.ok()) {
    spdlog::warn("delivery: recording the failure of {} failed: {}", m.message_id, s.ToString());
  }
  if (observer_) observer_->Delivery(m.recipient, "failed", std::nullopt);
  a.error = std::move(why);
  a.next_attempt = next;
  return a;
}

StatusOr<Receipt> DeliveryWorker::CheckReceipt(const OutgoingMessage& m, const PeerInfo& p,
                                               std::string_view text, BatchMemo* memo) {
  StatusOr<Receipt> receipt = VerifyReceipt(text, p.keys, m.message_id, memo);
  if (!receipt.ok()) {
    return UnauthenticatedError("the receipt from " + m.recipient +
                                " does not verify: " + receipt.status().message());
  }
  if (receipt->to != me_.state) {
    return UnauthenticatedError("the receipt from " + m.recipient + " is addressed to " +
                                receipt->to + ", not to " + me_.state);
  }
  const std::string sha = crypto::HexEncode(crypto::Sha256(m.body));
  if (receipt->body_sha256 != sha) {
    return DataLossError("the receipt from " + m.recipient +
                         " acknowledges other content (body SHA-256 " + receipt->body_sha256 +
                         ", sent " + sha + ")");
  }
  return receipt;
}

Attempt DeliveryWorker::DeliverOne(const OutgoingMessage& m,
                                   const std::function<void()>& answered) {
  bool told = false;
  auto peer_done = [&] {
    if (!told && answered) answered();
    told = true;
  };
  auto fail = [&](Status why) {
    peer_done();
    return Fail(m, std::move(why));
  };

  StatusOr<std::optional<PeerInfo>> peer = peers_->Find(m.recipient);
  if (!peer.ok()) return fail(peer.status());
  if (!*peer) {
    return fail(FailedPreconditionError("no peer " + m.recipient + " in the trust list"));
  }
  const PeerInfo& p = **peer;
  Message msg{m.message_id, m.kind, m.body, Checkpoint()};
  const std::string wire = SealEnvelope(me_, p.keys, msg, clock_.Now());
  StatusOr<TransportResponse> resp =
      transport_->Post(p.url, kInboxPath, wire, options_.attempt_timeout);
  peer_done();
  if (!resp.ok()) return fail(resp.status());
  if (resp->status != 200) return fail(PeerError(m.recipient, *resp));
  StatusOr<Receipt> receipt = CheckReceipt(m, p, resp->body);
  if (!receipt.ok()) return fail(receipt.status());
  if (gossip_ != nullptr && !receipt->checkpoint.empty()) {
    gossip_->Offer(m.recipient, receipt->checkpoint);
  }
  Attempt a;
  Status recorded = RecordReceipt(m.message_id, resp->body);
  if (!recorded.ok()) {
    // The peer has the message; the next attempt gets its receipt again and records it.
    spdlog::warn("delivery: recording the receipt of {} failed: {}", m.message_id,
                 recorded.ToString());
    a.error = recorded;
    return a;
  }
  if (observer_) {
    const double latency = static_cast<double>(Micros(clock_.Now()) - m.created_us) / 1'000'000.0;
    observer_->Delivery(m.recipient, "delivered", std::max(latency, 0.0));
  }
  a.delivered = true;
  a.receipt = std::move(resp->body);
  return a;
}

void DeliveryWorker::DeliverBatch(std::vector<OutgoingMessage>& batch,
                                  const std::function<void()>& answered) {
  bool told = false;
  auto peer_done = [&] {
    if (!told && answered) answered();
    told = true;
  };
  const std::string& recipient = batch.front().recipient;
  auto fail_all = [&](const Status& why) {
    peer_done();
    for (const OutgoingMessage& m : batch) Fail(m, why);
  };
  auto one_by_one = [&] {
    peer_done();
    for (const OutgoingMessage& m : batch) DeliverOne(m);
  };
  StatusOr<std::optional<PeerInfo>> peer = peers_->Find(recipient);
  if (!peer.ok()) return fail_all(peer.status());
  if (!*peer)
    return fail_all(FailedPreconditionError("no peer " + recipient + " in the trust list"));
  const PeerInfo& p = **peer;
  bool together = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    together = sign_each_.count(recipient) == 0;
  }
  const std::string checkpoint = Checkpoint();
  const Timestamp now = clock_.Now();
  std::vector<Message> messages;
  messages.reserve(batch.size());
  for (const OutgoingMessage& m : batch) {
    messages.push_back(Message{m.message_id, m.kind, m.body, checkpoint});
  }
  std::vector<std::string> wires;
  if (together) {
    wires = SealEnvelopes(me_, p.keys, messages, now);
  } else {
    wires.reserve(batch.size());
    for (const Message& m : messages) wires.push_back(SealEnvelope(me_, p.keys, m, now));
  }
  size_t size = 0;
  for (const std::string& w : wires) size = SerializedBatchSize(size, w);
  if (size > kMaxBatchBytes) return one_by_one();  // bodies larger than the sender guessed
  StatusOr<TransportResponse> resp =
      transport_->Post(p.url, together ? kInboxSignedBatchPath : kInboxBatchPath,
                       SerializeEnvelopeBatch(wires), options_.attempt_timeout);
  if (together && resp.ok() && (resp->status == 404 || resp->status == 405)) {
    spdlog::info(
        "delivery: {} does not take signed batches; sending to it batches of envelopes "
        "signed one by one",
        recipient);
    {
      std::lock_guard<std::mutex> lock(mu_);
      sign_each_.insert(recipient);
    }
    return DeliverBatch(batch, answered);
  }
  if (resp.ok() && (resp->status == 404 || resp->status == 405)) {
    spdlog::info("delivery: {} does not take batches; sending to it one message at a time",
                 recipient);
    {
      std::lock_guard<std::mutex> lock(mu_);
      single_.insert(recipient);
    }
    return one_by_one();
  }
  peer_done();
  if (!resp.ok()) return fail_all(resp.status());
  if (resp->status != 200) return fail_all(PeerError(recipient, *resp));
  StatusOr<std::vector<BatchResult>> results = ParseBatchResults(resp->body, batch.size());
  if (!results.ok()) {
    return fail_all(UnavailableError("the batch answer from " + recipient +
                                     " is unreadable: " + results.status().message()));
  }
  std::vector<std::pair<std::string, std::string>> receipts;
  std::vector<size_t> which;
  bool offered = false;
  BatchMemo memo;  // the receipts' batch signature, verified once
  for (size_t i = 0; i < batch.size(); ++i) {
    const OutgoingMessage& m = batch[i];
    BatchResult& r = (*results)[i];
    if (r.status != 200) {
      Fail(m, PeerError(recipient, r.status, r.code, r.message));
      continue;
    }
    StatusOr<Receipt> receipt = CheckReceipt(m, p, r.receipt, &memo);
    if (!receipt.ok()) {
      Fail(m, receipt.status());
      continue;
    }
    if (gossip_ != nullptr && !offered && !receipt->checkpoint.empty()) {
      gossip_->Offer(recipient, receipt->checkpoint);  // one checkpoint per batch is enough
      offered = true;
    }
    receipts.emplace_back(m.message_id, std::move(r.receipt));
    which.push_back(i);
  }
  if (receipts.empty()) return;
  std::vector<Status> recorded = RecordReceipts(receipts);
  for (size_t k = 0; k < which.size(); ++k) {
    const OutgoingMessage& m = batch[which[k]];
    if (!recorded[k].ok()) {
      spdlog::warn("delivery: recording the receipt of {} failed: {}", m.message_id,
                   recorded[k].ToString());
      continue;
    }
    if (observer_) {
      const double latency = static_cast<double>(Micros(clock_.Now()) - m.created_us) / 1'000'000.0;
      observer_->Delivery(m.recipient, "delivered", std::max(latency, 0.0));
    }
  }
}

Status DeliveryWorker::RecordReceipt(const std::string& message_id, const std::string& receipt) {
  return RecordReceipts({{message_id, receipt}}).front();
}

std::vector<Status> DeliveryWorker::RecordReceipts(
    const std::vector<std::pair<std::string, std::string>>& items) {
  if (outbox_->CombinesConcurrentRecords()) return outbox_->RecordDeliveries(items);
  std::vector<std::shared_ptr<PendingReceipt>> mine;
  mine.reserve(items.size());
  std::unique_lock<std::mutex> lock(rec_mu_);
  for (const auto& [id, receipt] : items) {
    auto p = std::make_shared<PendingReceipt>();
    p->message_id = id;
    p->receipt = receipt;
    rec_queue_.push_back(p);
    mine.push_back(std::move(p));
  }
  auto all_done = [&] {
    return std::all_of(mine.begin(), mine.end(), [](const auto& p) { return p->done; });
  };
  while (!all_done()) {
    if (recording_) {
      rec_cv_.wait(lock);
      continue;
    }
    // Record everything queued so far, ours included, in one go.
    recording_ = true;
    std::vector<std::shared_ptr<PendingReceipt>> batch;
    batch.swap(rec_queue_);
    lock.unlock();
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(batch.size());
    for (const auto& p : batch) pairs.emplace_back(p->message_id, p->receipt);
    std::vector<Status> results = outbox_->RecordDeliveries(pairs);
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->status = i < results.size() ? results[i] : InternalError("no result recorded");
      batch[i]->done = true;
    }
    recording_ = false;
    rec_cv_.notify_all();
  }
  std::vector<Status> out;
  out.reserve(mine.size());
  for (const auto& p : mine) out.push_back(p->status);
  return out;
}

StatusOr<int> DeliveryWorker::RunOnce() {
  ASSIGN_OR_RETURN(std::vector<OutgoingMessage> due,
                   outbox_->Due(clock_.Now(), options_.fetch_limit, nullptr));
  for (const OutgoingMessage& m : due) DeliverOne(m);
  return static_cast<int>(due.size());
}

void DeliveryWorker::Dispatch() {
  auto last_read = std::chrono::steady_clock::now() - options_.coalesce;
  while (true) {
    size_t in_flight = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Let wakes that come close together be served by one read.
      const auto earliest = last_read + options_.coalesce;
      if (std::chrono::steady_clock::now() < earliest) {
        dispatch_cv_.wait_until(lock, earliest, [this] { return stop_; });
        if (stop_) return;
      }
      // Wait for a reason to look (a wake, the poll) and for a sender to be free: with every
      // sender busy there is nothing to hand out.
      dispatch_cv_.wait_for(lock, options_.poll_interval, [this] {
        return stop_ || (wake_ && queued_ < static_cast<size_t>(options_.threads) *
                                                static_cast<size_t>(options_.batch_max));
      });
      if (stop_) return;
      wake_ = false;
      in_flight = in_flight_.size();
    }
    // No more new messages than there are free senders (each row carries its body). Messages
    // in flight are still due (they are undelivered, and the oldest): read on from where the
    // last read stopped, past them; or, from the start now and then (see delivery.h), with
    // enough rows to see past them.
    const size_t free_senders =
        in_flight < static_cast<size_t>(options_.threads) ? options_.threads - in_flight : 1;
    const size_t fresh = std::min<size_t>(options_.fetch_limit,
                                          free_senders * static_cast<size_t>(options_.batch_max));
    const auto started = std::chrono::steady_clock::now();
    const bool from_start =
        in_flight == 0 || !read_to_ || started - last_full_read_ >= options_.poll_interval;
    const int limit =
        static_cast<int>(std::min<size_t>(1000, (from_start ? in_flight : 0) + fresh));
    StatusOr<std::vector<OutgoingMessage>> due =
        outbox_->Due(clock_.Now(), limit, from_start ? nullptr : &*read_to_);
    last_read = std::chrono::steady_clock::now();
    if (!due.ok()) {
      spdlog::warn("delivery: reading the outbox failed: {}", due.status().ToString());
      continue;
    }
    if (from_start) last_full_read_ = started;
    if (!due->empty()) read_to_ = OutboxPosition::Of(due->back());
    int queued = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // A read that filled its limit may have left due messages behind: read again when a
      // sender finishes. Otherwise new messages come with Wake() and retries with the poll.
      more_due_ = due->size() >= static_cast<size_t>(limit);
      for (OutgoingMessage& m : *due) {
        if (in_flight_.count(m.message_id) != 0) continue;
        in_flight_.insert(m.message_id);
        queues_[m.recipient].push_back(std::move(m));
        ++queued_;
        ++queued;
      }
    }
    // One sender per message at most: waking them all would send most straight back to sleep.
    for (int i = 0; i < queued; ++i) send_cv_.notify_one();
  }
}

void DeliveryWorker::Send() {
  while (true) {
    std::vector<OutgoingMessage> batch;
    std::string peer;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Work: the messages waiting for a peer with a free slot.
      auto ready = [this]() -> std::map<std::string, std::deque<OutgoingMessage>>::iterator {
        for (auto it = queues_.begin(); it != queues_.end(); ++it) {
          auto n = per_peer_.find(it->first);
          if (!it->second.empty() &&
              (n == per_peer_.end() || n->second < options_.max_in_flight_per_peer)) {
            return it;
          }
        }
        return queues_.end();
      };
      send_cv_.wait(lock, [&] { return stop_ || ready() != queues_.end(); });
      if (stop_) return;
      auto it = ready();
      peer = it->first;
      const size_t most = single_.count(peer) != 0 ? 1 : static_cast<size_t>(options_.batch_max);
      size_t bytes = 0;
      while (!it->second.empty() && batch.size() < most) {
        // Sealing adds a third (base64) and the header; keep well inside the batch limit.
        const size_t guess = it->second.front().body.size() * 4 / 3 + 2048;
        if (!batch.empty() && bytes + guess > kMaxBatchBytes / 2) break;
        bytes += guess;
        batch.push_back(std::move(it->second.front()));
        it->second.pop_front();
      }
      queued_ -= batch.size();
      if (it->second.empty()) queues_.erase(it);
      ++per_peer_[peer];
      // More work for another sender?
      if (ready() != queues_.end()) send_cv_.notify_one();
      // A read waits for room in the queues (Offer left messages to it): there is some now.
      if (wake_) dispatch_cv_.notify_one();
    }
    // The peer's slot is freed once it has answered; the messages stay in flight (not handed
    // out again) until their outcome is recorded.
    bool slot_freed = false;
    auto free_slot = [&] {  // requires mu_
      if (slot_freed) return;
      slot_freed = true;
      if (--per_peer_[peer] <= 0) per_peer_.erase(peer);
    };
    auto answered = [&] {
      bool look = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        free_slot();
        look = more_due_;
        wake_ = wake_ || look;
      }
      if (look) dispatch_cv_.notify_one();
      send_cv_.notify_one();  // the slot may let a sender take the peer's next messages
    };
    if (batch.size() == 1) {
      DeliverOne(batch.front(), answered);
    } else {
      DeliverBatch(batch, answered);
    }
    bool look = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_slot();
      for (const OutgoingMessage& m : batch) in_flight_.erase(m.message_id);
      look = more_due_;  // a sender is free: look for the messages the last read left behind
      wake_ = wake_ || look;
    }
    if (look) dispatch_cv_.notify_one();
  }
}

}  // namespace comity::federation

#include "federation/delivery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>

#include "crypto/encoding.h"
#include "crypto/sha256.h"

namespace comity::federation {
namespace {

constexpr size_t kMaxPeerMessage = 300;  // of a peer's error message kept in last_error

Timestamp Plus(Timestamp t, std::chrono::milliseconds d) {
  const int64_t ns = static_cast<int64_t>(t.nanos) + (d.count() % 1000) * 1'000'000;
  return Timestamp{t.seconds + d.count() / 1000 + ns / 1'000'000'000,
                   static_cast<int32_t>(ns % 1'000'000'000)};
}

int64_t Micros(Timestamp t) { return t.seconds * 1'000'000 + t.nanos / 1000; }

// "XB answered 409 (already_exists): message ..." from a peer's JSON error body.
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
  if (message.size() > kMaxPeerMessage) message = message.substr(0, kMaxPeerMessage) + "...";
  std::string text = peer + " answered HTTP " + std::to_string(r.status);
  if (!code.empty()) text += " (" + code + ")";
  if (!message.empty()) text += ": " + message;
  return UnavailableError(text);
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
    queue_.clear();
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

std::string DeliveryWorker::Checkpoint() {
  if (checkpoints_ == nullptr) return {};
  StatusOr<std::string> cp = checkpoints_->LatestCheckpoint();
  if (!cp.ok()) {
    spdlog::warn("delivery: no checkpoint to carry: {}", cp.status().ToString());
    return {};
  }
  return std::move(*cp);
}

Attempt DeliveryWorker::DeliverOne(const OutgoingMessage& m,
                                   const std::function<void()>& answered) {
  Attempt a;
  bool told = false;
  auto peer_done = [&] {
    if (!told && answered) answered();
    told = true;
  };
  auto fail = [&](Status why) {
    peer_done();
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
  StatusOr<Receipt> receipt = VerifyReceipt(resp->body, p.keys, m.message_id);
  if (!receipt.ok()) {
    return fail(UnauthenticatedError("the receipt from " + m.recipient +
                                     " does not verify: " + receipt.status().message()));
  }
  if (receipt->to != me_.state) {
    return fail(UnauthenticatedError("the receipt from " + m.recipient + " is addressed to " +
                                     receipt->to + ", not to " + me_.state));
  }
  const std::string sha = crypto::HexEncode(crypto::Sha256(m.body));
  if (receipt->body_sha256 != sha) {
    return fail(DataLossError("the receipt from " + m.recipient +
                              " acknowledges other content (body SHA-256 " + receipt->body_sha256 +
                              ", sent " + sha + ")"));
  }
  if (gossip_ != nullptr && !receipt->checkpoint.empty()) {
    gossip_->Offer(m.recipient, receipt->checkpoint);
  }
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

Status DeliveryWorker::RecordReceipt(const std::string& message_id, const std::string& receipt) {
  auto mine = std::make_shared<PendingReceipt>();
  mine->message_id = message_id;
  mine->receipt = receipt;
  std::unique_lock<std::mutex> lock(rec_mu_);
  rec_queue_.push_back(mine);
  while (!mine->done) {
    if (recording_) {
      rec_cv_.wait(lock);
      continue;
    }
    // Record everything queued so far, ours included, in one go.
    recording_ = true;
    std::vector<std::shared_ptr<PendingReceipt>> batch;
    batch.swap(rec_queue_);
    lock.unlock();
    std::vector<std::pair<std::string, std::string>> items;
    items.reserve(batch.size());
    for (const auto& p : batch) items.emplace_back(p->message_id, p->receipt);
    std::vector<Status> results = outbox_->RecordDeliveries(items);
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->status = i < results.size() ? results[i] : InternalError("no result recorded");
      batch[i]->done = true;
    }
    recording_ = false;
    rec_cv_.notify_all();
  }
  return mine->status;
}

StatusOr<int> DeliveryWorker::RunOnce() {
  ASSIGN_OR_RETURN(std::vector<OutgoingMessage> due,
                   outbox_->Due(clock_.Now(), options_.fetch_limit));
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
        return stop_ || (wake_ && in_flight_.size() < static_cast<size_t>(options_.threads));
      });
      if (stop_) return;
      wake_ = false;
      in_flight = in_flight_.size();
    }
    // Messages in flight are still due (they are undelivered, and the oldest): ask for enough
    // rows to see past them, and for no more new ones than there are free senders (each row
    // carries its body).
    const size_t free_senders =
        in_flight < static_cast<size_t>(options_.threads) ? options_.threads - in_flight : 1;
    const int limit = static_cast<int>(
        std::min<size_t>(1000, in_flight + std::min<size_t>(options_.fetch_limit, free_senders)));
    StatusOr<std::vector<OutgoingMessage>> due = outbox_->Due(clock_.Now(), limit);
    last_read = std::chrono::steady_clock::now();
    if (!due.ok()) {
      spdlog::warn("delivery: reading the outbox failed: {}", due.status().ToString());
      continue;
    }
    int queued = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (OutgoingMessage& m : *due) {
        if (in_flight_.count(m.message_id) != 0) continue;
        int& n = per_peer_[m.recipient];
        if (n >= options_.max_in_flight_per_peer) continue;
        ++n;
        in_flight_.insert(m.message_id);
        queue_.push_back(std::move(m));
        ++queued;
      }
    }
    // One sender per message: waking them all would send most straight back to sleep.
    for (int i = 0; i < queued; ++i) send_cv_.notify_one();
  }
}

void DeliveryWorker::Send() {
  while (true) {
    OutgoingMessage m;
    {
      std::unique_lock<std::mutex> lock(mu_);
      send_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      m = std::move(queue_.front());
      queue_.pop_front();
    }
    // The peer's slot is freed once it has answered; the message stays in flight (not handed
    // out again) until its outcome is recorded.
    bool slot_freed = false;
    auto free_slot = [&] {  // requires mu_
      if (slot_freed) return;
      slot_freed = true;
      if (--per_peer_[m.recipient] <= 0) per_peer_.erase(m.recipient);
    };
    DeliverOne(m, [&] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        free_slot();
        wake_ = true;
      }
      dispatch_cv_.notify_one();
    });
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_slot();
      in_flight_.erase(m.message_id);
      wake_ = true;  // a sender is free: look for more work (cheap when there is none)
    }
    dispatch_cv_.notify_one();
  }
}

}  // namespace comity::federation

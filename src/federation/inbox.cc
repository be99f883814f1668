#include "federation/inbox.h"

#include <spdlog/spdlog.h>

#include <set>

#include "crypto/encoding.h"
#include "crypto/sha256.h"

namespace comity::federation {
namespace {

int64_t Micros(Timestamp t) { return t.seconds * 1'000'000 + t.nanos / 1000; }

// Header fields as claimed by an unauthenticated sender, safe for a log line.
std::string Printable(std::string_view s, size_t max = kMaxClaimedFieldBytes) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out.empty() ? "-" : out;
}

Timestamp FromMicros(int64_t us) {
  int64_t s = us / 1'000'000;
  int64_t rem = us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --s;
  }
  return Timestamp{s, static_cast<int32_t>(rem * 1000)};
}

}  // namespace

Inbox::Inbox(Identity me, PeerDirectory* peers, MessageHandler* handler, FederationStore* store,
             CheckpointSource* checkpoints, CheckpointSink* gossip, const Clock& clock,
             InboxOptions options, FederationObserver* observer)
    : me_(std::move(me)),
      peers_(peers),
      handler_(handler),
      store_(store),
      checkpoints_(checkpoints),
      gossip_(gossip),
      clock_(clock),
      options_(options),
      observer_(observer) {}

Inbox::~Inbox() { Stop(); }

void Inbox::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (flusher_.joinable()) return;
  stop_ = false;
  flusher_ = std::thread([this] { FlushLoop(); });
}

void Inbox::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Status s = Flush();
  if (!s.ok()) spdlog::warn("inbox: writing receipts failed: {}", s.ToString());
}

void Inbox::FlushLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.flush_interval, [this] { return stop_; });
      if (stop_) return;
    }
    Status s = Flush();
    if (!s.ok()) spdlog::warn("inbox: writing receipts failed (will retry): {}", s.ToString());
  }
}

Status Inbox::Flush() {
  std::lock_guard<std::mutex> one(flush_mu_);
  std::vector<IssuedReceipt> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(unwritten_);
  }
  if (batch.empty()) return OkStatus();
  Status s = store_->PutReceipts(batch);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    // Put them back in front, bounded by the cache size (beyond it they are dropped: a retry
    // then gets a receipt marked duplicate).
    batch.insert(batch.end(), unwritten_.begin(), unwritten_.end());
    if (batch.size() > options_.receipt_cache) batch.resize(options_.receipt_cache);
    unwritten_.swap(batch);
  }
  return s;
}

void Inbox::Remember(IssuedReceipt r, bool persist) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.receipt_cache > 0 && cache_.emplace(r.message_id, r.receipt).second) {
    cache_order_.push_back(r.message_id);
    while (cache_order_.size() > options_.receipt_cache) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
  if (persist) unwritten_.push_back(std::move(r));
}

std::optional<std::string> Inbox::Cached(const std::string& message_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(message_id);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::string Inbox::CurrentCheckpoint() {
  if (checkpoints_ == nullptr) return {};
  StatusOr<std::string> cp = checkpoints_->LatestCheckpoint();
  if (!cp.ok()) {
    spdlog::warn("inbox: no checkpoint for the receipt: {}", cp.status().ToString());
    return {};
  }
  return std::move(*cp);
}

InboxAnswer Inbox::Refuse(int http_status, std::string kind, Status why, std::string_view wire,
                          std::string_view remote, const std::string& claimed_from,
                          const std::string& claimed_id) {
  SecurityEvent e;
  e.at_us = Micros(clock_.Now());
  e.kind = kind;
  e.http_status = http_status;
  e.remote = std::string(remote);
  e.claimed_from = claimed_from;
  e.claimed_id = claimed_id;
  e.size = static_cast<int64_t>(wire.size());
  e.envelope_sha256 = crypto::HexEncode(crypto::Sha256(wire));
  e.detail = why.message();
  Status s = store_->RecordSecurityEvent(std::move(e));
  if (!s.ok()) spdlog::error("inbox: recording a security event failed: {}", s.ToString());
  // A refusal is worth a log line (no secrets: the claimed header fields and the reason).
  spdlog::warn("inbox: refused an envelope from {} (claims {}, id {}): {}: {}", Printable(remote),
               Printable(claimed_from), Printable(claimed_id), kind,
               Printable(why.message(), kMaxSecurityDetailBytes));
  if (observer_) observer_->SecurityEvent(kind);
  InboxAnswer a;
  a.http_status = http_status;
  a.error = std::move(why);
  a.kind = std::move(kind);
  return a;
}

InboxAnswer Inbox::Duplicate(const OpenedEnvelope& env, const SeenMessage& seen) {
  if (observer_) observer_->Received(env.from, env.message.kind, true);
  InboxAnswer a;
  if (auto cached = Cached(env.message.id)) {
    a.receipt = std::move(*cached);
    return a;
  }
  StatusOr<std::optional<IssuedReceipt>> stored = store_->GetReceipt(env.message.id);
  if (stored.ok() && *stored && (*stored)->body_sha256 == env.body_sha256) {
    a.receipt = (*stored)->receipt;
    Remember(**stored, false);
    return a;
  }
  // The original receipt was not kept (a crash within the write-behind window): a new one,
  // marked duplicate, acknowledging the same message and content.
  Receipt r;
  r.message_id = env.message.id;
  r.body_sha256 = env.body_sha256;
  r.to = env.from;
  r.received = seen.received_us > 0 ? FromMicros(seen.received_us) : clock_.Now();
  r.duplicate = true;
  r.checkpoint = CurrentCheckpoint();
  a.receipt = SignReceipt(me_, r);
  Remember(IssuedReceipt{env.message.id, env.from, env.body_sha256, Micros(r.received), a.receipt},
           true);
  return a;
}

InboxAnswer Inbox::Accepted(const OpenedEnvelope& env, std::optional<Receipt>* unsigned_receipt) {
  if (observer_) observer_->Received(env.from, env.message.kind, false);
  Receipt r;
  r.message_id = env.message.id;
  r.body_sha256 = env.body_sha256;
  r.to = env.from;
  r.received = clock_.Now();
  r.duplicate = false;
  r.checkpoint = CurrentCheckpoint();
  InboxAnswer a;
  if (unsigned_receipt != nullptr) {
    *unsigned_receipt = std::move(r);
    return a;
  }
  a.receipt = SignReceipt(me_, r);
  Remember(IssuedReceipt{env.message.id, env.from, env.body_sha256, Micros(r.received), a.receipt},
           true);
  return a;
}

void Inbox::SignTogether(std::vector<InboxAnswer>& answers, std::span<const size_t> where,
                         std::vector<std::optional<Receipt>>& receipts) {
  std::vector<Receipt> todo;
  std::vector<size_t> at;
  for (size_t k = 0; k < receipts.size(); ++k) {
    if (!receipts[k]) continue;
    todo.push_back(std::move(*receipts[k]));
    at.push_back(where[k]);
  }
  if (todo.empty()) return;
  std::vector<std::string> signed_receipts = SignReceipts(me_, todo);
  for (size_t j = 0; j < todo.size(); ++j) {
    const Receipt& r = todo[j];
    answers[at[j]].receipt = std::move(signed_receipts[j]);
    Remember(IssuedReceipt{r.message_id, r.to, r.body_sha256, Micros(r.received),
                           answers[at[j]].receipt},
             true);
  }
}

InboxAnswer Inbox::Receive(std::string_view wire, std::string_view remote) {
  Screened s = Screen(wire, remote);
  if (s.answer) return std::move(*s.answer);
  return Outcome(*s.envelope, handler_->Handle(*s.envelope), wire, remote);
}

std::vector<InboxAnswer> Inbox::ReceiveBatch(std::span<const std::string> wires,
                                             std::string_view remote, ReceiptSigning signing) {
  BatchMemo memo;
  std::vector<InboxAnswer> out(wires.size());
  std::vector<OpenedEnvelope> opened;
  std::vector<size_t> opened_at;
  std::set<std::string> ids;
  std::vector<size_t> again;  // a message id twice in one batch: the later ones after the rest
  for (size_t i = 0; i < wires.size(); ++i) {
    Screened s = Open(wires[i], remote, &memo);
    if (s.answer) {
      out[i] = std::move(*s.answer);
    } else if (!ids.insert(s.envelope->message.id).second) {
      again.push_back(i);
    } else {
      opened.push_back(std::move(*s.envelope));
      opened_at.push_back(i);
    }
  }
  // Duplicates and replays of messages this inbox receipted lately (its receipt cache) are
  // answered here, without the node's writer: their ids are looked up together. Any other id
  // goes to the node, whose one read under its writer finds a message seen before as well (it is
  // then answered the same way, in Outcome): a new message — nearly every one — costs no lookup
  // of its own.
  std::vector<std::string> lookup;
  std::vector<size_t> looked;  // where each looked-up id is in `opened`
  for (size_t k = 0; k < opened.size(); ++k) {
    if (!Cached(opened[k].message.id)) continue;
    lookup.push_back(opened[k].message.id);
    looked.push_back(k);
  }
  std::vector<StatusOr<std::optional<SeenMessage>>> seen(opened.size(),
                                                         std::optional<SeenMessage>());
  if (!lookup.empty()) {
    std::vector<StatusOr<std::optional<SeenMessage>>> found = handler_->LookupBatch(lookup);
    for (size_t j = 0; j < looked.size(); ++j) {
      seen[looked[j]] = j < found.size() ? std::move(found[j])
                                         : StatusOr<std::optional<SeenMessage>>(
                                               InternalError("the node gave no lookup result"));
    }
  }
  std::vector<OpenedEnvelope> envelopes;
  std::vector<size_t> where;
  for (size_t k = 0; k < opened.size(); ++k) {
    const size_t i = opened_at[k];
    Screened s = Seen(std::move(opened[k]), seen[k], wires[i], remote);
    if (s.answer) {
      out[i] = std::move(*s.answer);
    } else {
      envelopes.push_back(std::move(*s.envelope));
      where.push_back(i);
    }
  }
  if (!envelopes.empty()) {
    std::vector<StatusOr<Handled>> handled = handler_->HandleBatch(envelopes);
    const StatusOr<Handled> none = InternalError("the node gave no result for this message");
    const bool together = signing == ReceiptSigning::kTogether;
    std::vector<std::optional<Receipt>> receipts(together ? envelopes.size() : 0);
    for (size_t k = 0; k < envelopes.size(); ++k) {
      out[where[k]] = Outcome(envelopes[k], k < handled.size() ? handled[k] : none, wires[where[k]],
                              remote, together ? &receipts[k] : nullptr);
    }
    if (together) SignTogether(out, where, receipts);
  }
  for (size_t i : again) out[i] = Receive(wires[i], remote);
  return out;
}

Inbox::Screened Inbox::Screen(std::string_view wire, std::string_view remote) {
  Screened s = Open(wire, remote);
  if (s.answer) return s;
  const std::string id = s.envelope->message.id;
  return Seen(std::move(*s.envelope), handler_->Lookup(id), wire, remote);
}

Inbox::Screened Inbox::Open(std::string_view wire, std::string_view remote, BatchMemo* memo) {
  Status directory_error;
  TrustLookup trust = [&](std::string_view state) -> std::optional<PeerKeys> {
    StatusOr<std::optional<PeerInfo>> p = peers_->Find(state);
    if (!p.ok()) {
      directory_error = p.status();
      return std::nullopt;
    }
    if (!*p) return std::nullopt;
    return (*p)->keys;
  };
  EnvelopeCheck check = OpenEnvelope(wire, me_, trust, clock_.Now(), options_.open, memo);
  if (!directory_error.ok()) {
    // Our trust list could not be read: not the sender's fault.
    InboxAnswer a;
    a.http_status = 503;
    a.error = UnavailableError("the trust list cannot be read now; retry later");
    return Screened{std::move(a), std::nullopt};
  }
  if (!check.ok()) {
    return Screened{
        Refuse(HttpStatusForRejection(check.rejection), std::string(RejectionName(check.rejection)),
               check.status, wire, remote, check.claimed_from, check.claimed_id),
        std::nullopt};
  }
  OpenedEnvelope& env = *check.envelope;
  if (gossip_ != nullptr && !env.message.checkpoint.empty()) {
    gossip_->Offer(env.from, env.message.checkpoint);
  }
  return Screened{std::nullopt, std::move(env)};
}

Inbox::Screened Inbox::Seen(OpenedEnvelope env, const StatusOr<std::optional<SeenMessage>>& seen,
                            std::string_view wire, std::string_view remote) {
  if (!seen.ok()) {
    InboxAnswer a;
    a.http_status = 503;
    a.error = UnavailableError("the inbox cannot be read now; retry later");
    spdlog::warn("inbox: lookup failed: {}", seen.status().ToString());
    return Screened{std::move(a), std::nullopt};
  }
  if (*seen) {
    if ((*seen)->body_sha256 != env.body_sha256) {
      return Screened{Replay(env, wire, remote), std::nullopt};
    }
    return Screened{Duplicate(env, **seen), std::nullopt};
  }
  return Screened{std::nullopt, std::move(env)};
}

InboxAnswer Inbox::Replay(const OpenedEnvelope& env, std::string_view wire,
                          std::string_view remote) {
  return Refuse(409, "replay",
                AlreadyExistsError("message " + env.message.id +
                                   " was already received with different content"),
                wire, remote, env.from, env.message.id);
}

InboxAnswer Inbox::Outcome(const OpenedEnvelope& env, const StatusOr<Handled>& handled,
                           std::string_view wire, std::string_view remote,
                           std::optional<Receipt>* unsigned_receipt) {
  auto replay = [&] { return Replay(env, wire, remote); };

  if (handled.ok()) {
    if (handled->duplicate) {
      // Another delivery of the same message won the race: answer as for a duplicate.
      StatusOr<std::optional<SeenMessage>> again = handler_->Lookup(env.message.id);
      SeenMessage s{env.body_sha256, 0};
      if (again.ok() && *again) s = **again;
      return Duplicate(env, s);
    }
    return Accepted(env, unsigned_receipt);
  }
  const Status& st = handled.status();
  switch (st.code()) {
    case StatusCode::kAlreadyExists: {
      StatusOr<std::optional<SeenMessage>> again = handler_->Lookup(env.message.id);
      if (again.ok() && *again && (*again)->body_sha256 != env.body_sha256) {
        return replay();
      }
      return Refuse(409, "conflict", st, wire, remote, env.from, env.message.id);
    }
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return Refuse(400, "invalid_body", st, wire, remote, env.from, env.message.id);
    case StatusCode::kPermissionDenied:
      return Refuse(403, "not_permitted", st, wire, remote, env.from, env.message.id);
    case StatusCode::kNotFound:
      return Refuse(404, "unknown_request", st, wire, remote, env.from, env.message.id);
    case StatusCode::kFailedPrecondition: {
      // Usually an ordering race the sender's retry resolves; not a security event.
      InboxAnswer a;
      a.http_status = 409;
      a.error = st;
      return a;
    }
    default: {
      InboxAnswer a;
      a.http_status = 503;
      a.error = UnavailableError("the message could not be applied now (" + st.message() +
                                 "); retry later");
      spdlog::warn("inbox: applying {} {} from {} failed: {}", env.message.kind, env.message.id,
                   env.from, st.ToString());
      return a;
    }
  }
}

}  // namespace comity::federation

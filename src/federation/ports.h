// The seams of the federation runtime: what the delivery worker, the inbox and the gossip need
// from the rest of the node, as small interfaces. The node implements them over its service
// (src/http/federation_api.cc); tests implement them in memory with faults.
//
//   class MyPeers : public PeerDirectory { ... };
//   DeliveryWorker worker(me, &outbox, &peers, &transport, &checkpoints, &gossip, clock, {});
//
// The federation library knows nothing of HTTP servers, request lifecycles or SQL schemas of
// the node: it signs, seals, sends, opens, deduplicates, dispatches and witnesses.
//
// Thread safety: implementations must be thread-safe; the worker and the inbox call them from
// several threads at once.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "federation/envelope.h"

namespace comity::federation {

// What this node knows about a peer: its keys (the trust list), where it is, and its log's
// verifier key (for witnessing; empty if unknown).
struct PeerInfo {
  PeerKeys keys;
  std::string url;       // base URL, e.g. "http://127.0.0.1:8443"
  std::string log_vkey;  // C2SP vkey of the peer's log
};

class PeerDirectory {
 public:
  virtual ~PeerDirectory() = default;
  // nullopt for a state that is not a peer; errors for a directory that cannot be read.
  virtual StatusOr<std::optional<PeerInfo>> Find(std::string_view state) = 0;
};

// One HTTP exchange's outcome; network failures are a Status (kUnavailable), not a response.
struct TransportResponse {
  int status = 0;
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // POSTs `body` (JSON) to base_url + path within `timeout`.
  virtual StatusOr<TransportResponse> Post(const std::string& base_url, const std::string& path,
                                           const std::string& body,
                                           std::chrono::milliseconds timeout) = 0;
  // GETs base_url + path (log resources for the gossip).
  virtual StatusOr<TransportResponse> Get(const std::string& base_url, const std::string& path,
                                          std::chrono::milliseconds timeout) = 0;
};

// A message waiting in the durable outbox (the node's outbox table).
struct OutgoingMessage {
  std::string message_id;
  std::string recipient;
  std::string kind;
  std::string body;
  int64_t created_us = 0;
  int64_t attempts = 0;         // attempts made so far
  int64_t next_attempt_us = 0;  // when it became (or becomes) due
};

// A message's place in the order the outbox gives due messages in: next attempt, then
// created, then message id.
struct OutboxPosition {
  int64_t next_attempt_us = 0;
  int64_t created_us = 0;
  std::string message_id;
  static OutboxPosition Of(const OutgoingMessage& m) {
    return {m.next_attempt_us, m.created_us, m.message_id};
  }
  friend auto operator<=>(const OutboxPosition&, const OutboxPosition&) = default;
};

// The durable outbox as the delivery worker sees it.
class OutboxPort {
 public:
  virtual ~OutboxPort() = default;
  // Undelivered messages with next_attempt <= now, in OutboxPosition order, at most `limit`;
  // with `after`, only those placed after it (the dispatcher reads on from where it stopped,
  // past the messages it has in flight).
  virtual StatusOr<std::vector<OutgoingMessage>> Due(Timestamp now, int limit,
                                                     const OutboxPosition* after) = 0;
  // Records the peer's verified signed receipt (the proof of delivery). Idempotent for the same
  // receipt.
  virtual Status RecordDelivery(const std::string& message_id, const std::string& receipt) = 0;
  // Several at once (one transaction where the outbox can); one status per item, in order.
  virtual std::vector<Status> RecordDeliveries(
      const std::vector<std::pair<std::string, std::string>>& receipts) {
    std::vector<Status> out;
    out.reserve(receipts.size());
    for (const auto& [id, receipt] : receipts) out.push_back(RecordDelivery(id, receipt));
    return out;
  }
  // True when concurrent RecordDeliveries calls are written together already (the node's
  // combined writes): each sender then records its own receipts at once, instead of queueing
  // them behind the batch being recorded (DeliveryWorker::RecordReceipts).
  virtual bool CombinesConcurrentRecords() const { return false; }
  // Counts a failed attempt and schedules the next one.
  virtual Status RecordFailure(const std::string& message_id, Timestamp next_attempt,
                               const std::string& error) = 0;
};

// What the node did with an accepted message.
struct Handled {
  std::string request_id;
  bool duplicate = false;  // the node had already applied this message id (same content)
};

// A message the inbox found earlier (deduplication before any write).
struct SeenMessage {
  std::string body_sha256;
  int64_t received_us = 0;
};

// The node's side of the inbox: applies an authenticated, decrypted message.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Applies the message (exactly once per message id). Errors:
  //   kAlreadyExists     the message id is known with a different body (a replay), or the
  //                      message would create something that exists (a conflict);
  //   kInvalidArgument   the body is not a valid message of its kind;
  //   kPermissionDenied  the sender may not do this (e.g. answer a request not sent to it);
  //   kNotFound          it refers to a request this node does not know;
  //   kFailedPrecondition not possible in the request's current state (may succeed later);
  //   kUnavailable / kAborted  try again.
  virtual StatusOr<Handled> Handle(const OpenedEnvelope& envelope) = 0;
  // Several messages (distinct ids) received together, one result each, in order. A node
  // applies them in one transaction; by default, one by one.
  virtual std::vector<StatusOr<Handled>> HandleBatch(std::span<const OpenedEnvelope> envelopes) {
    std::vector<StatusOr<Handled>> out;
    out.reserve(envelopes.size());
    for (const OpenedEnvelope& e : envelopes) out.push_back(Handle(e));
    return out;
  }
  // The message id as already received, if it was.
  virtual StatusOr<std::optional<SeenMessage>> Lookup(const std::string& message_id) = 0;
  // The same for several message ids, one answer each, in order. A node reads them together;
  // by default, one by one.
  virtual std::vector<StatusOr<std::optional<SeenMessage>>> LookupBatch(
      std::span<const std::string> message_ids) {
    std::vector<StatusOr<std::optional<SeenMessage>>> out;
    out.reserve(message_ids.size());
    for (const std::string& id : message_ids) out.push_back(Lookup(id));
    return out;
  }
};

// This node's latest signed log checkpoint (C2SP note text), carried in envelopes and receipts.
class CheckpointSource {
 public:
  virtual ~CheckpointSource() = default;
  virtual StatusOr<std::string> LatestCheckpoint() = 0;
};

// Where envelopes' and receipts' checkpoints go to be witnessed (federation/gossip.h).
class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  // Queues `note` seen from `peer`; never blocks on the network.
  virtual void Offer(const std::string& peer, const std::string& note) = 0;
};

// Counters and timings for /metrics; every method has a no-op default.
class FederationObserver {
 public:
  virtual ~FederationObserver() = default;
  virtual void SecurityEvent(std::string_view /*kind*/) {}
  virtual void Received(std::string_view /*peer*/, std::string_view /*kind*/, bool /*duplicate*/) {}
  // A delivery attempt's outcome ("delivered", "failed"), with the latency from enqueueing to
  // the recorded receipt for delivered messages.
  virtual void Delivery(std::string_view /*peer*/, std::string_view /*outcome*/,
                        std::optional<double> /*seconds_since_created*/) {}
  // A gossip outcome per peer: "cosigned", "stale", "split_view", "error", "no_vkey".
  virtual void Gossip(std::string_view /*peer*/, std::string_view /*outcome*/) {}
};

}  // namespace comity::federation

// The delivery worker: sends what waits in the durable outbox to the peers, and keeps their
// signed receipts as proof of delivery.
//
//   DeliveryWorker worker(me, &outbox, &peers, &transport, &checkpoints, &gossip, clock,
//                         {.retry = {.initial = 1s, .max = 5min}}, &observer);
//   RETURN_IF_ERROR(worker.Start());
//   worker.Wake();          // after enqueueing: deliver now rather than at the next poll
//   ...
//   worker.Stop();          // finishes the attempts in flight
//
// Each attempt seals the message again (envelope.md) with a fresh `sent` time and this node's
// latest checkpoint, POSTs it to <peer url>/federation/v1/inbox, and on 200 verifies the
// receipt: signed by the peer's key, for this message id, addressed to us, acknowledging the
// SHA-256 of exactly the body we sent. A verified receipt is recorded (OutboxPort::
// RecordDelivery; receipts arriving together are recorded in one transaction) and its
// checkpoint goes to the gossip. Anything else — a network error, a
// timeout, a non-200 answer, a receipt that does not verify — is a failed attempt: the error
// and the next attempt's time (retry.h: exponential backoff with jitter) are stored with the
// message, so retries survive restarts. The message id stays the same on every attempt, and
// the peer's inbox deduplicates by it, so a message whose receipt was lost is applied once.
//
// Concurrency: one dispatcher thread polls the outbox (every poll_interval, or at once after
// Wake() or a completed attempt) and queues due messages per peer; `threads` sender threads
// take them, with at most max_in_flight_per_peer requests to a peer at a time (a slot is freed
// as soon as the peer has answered, while the outcome is being recorded), so a slow peer cannot
// take every sender. While messages are in flight the dispatcher reads on from the last message
// it read (OutboxPort::Due with a position) instead of reading the messages in flight again; it
// reads from the start when nothing is in flight, and at least every poll_interval, so a message
// placed before that position (committed late by another process sharing the database, or left
// due after a failed recording) waits at most that long.
//
// Batches: a sender takes up to batch_max messages waiting for one peer and, when it has more
// than one, POSTs them together to <peer url>/federation/v1/inbox/signed-batch
// (federation/batch.h), the envelopes signed together and the receipts coming back signed
// together (one signature each way, each envelope and receipt still verifiable on its own); each
// envelope, receipt and failure is still its own, and the receipts of a batch are recorded in
// one transaction. A peer that answers that path with 404 or 405 (an older node) gets batches
// signed envelope by envelope at /federation/v1/inbox/batch from then on, and one that answers
// that path so too gets its messages one by one. So under load a few requests carry many messages,
// while a lone message goes at once.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "federation/batch.h"
#include "federation/envelope.h"
#include "federation/ports.h"
#include "federation/retry.h"

namespace comity::federation {

inline constexpr char kInboxPath[] = "/federation/v1/inbox";

struct DeliveryOptions {
  RetryPolicy retry;
  int threads = 32;                // sender threads (1..256)
  int max_in_flight_per_peer = 8;  // concurrent requests to one peer (1..256)
  int fetch_limit = 256;           // due messages read per poll (1..1000)
  int batch_max = 16;              // messages in one request to a peer (1..kMaxBatchEnvelopes)
  std::chrono::milliseconds attempt_timeout{10'000};
  std::chrono::milliseconds poll_interval{1'000};
  // Least time between two reads of the outbox while busy: wakes that come closer together are
  // served by one read (each read returns the messages in flight too).
  std::chrono::milliseconds coalesce{2};
};

Status ValidateDeliveryOptions(const DeliveryOptions& options);

// The outcome of one attempt.
struct Attempt {
  bool delivered = false;
  std::string receipt;  // the verified receipt, when delivered
  Status error;         // why not
  std::optional<Timestamp> next_attempt;
};

class DeliveryWorker {
 public:
  // Pointers must outlive the worker; `gossip` and `observer` may be null.
  DeliveryWorker(Identity me, OutboxPort* outbox, PeerDirectory* peers, Transport* transport,
                 CheckpointSource* checkpoints, CheckpointSink* gossip, const Clock& clock,
                 DeliveryOptions options, FederationObserver* observer);
  ~DeliveryWorker();

  Status Start();
  void Stop();  // idempotent
  void Wake();
  // Messages just placed in the outbox (and durable there), handed over by the writer so that
  // they go out without being read back: queued for the senders at once, as many as the
  // dispatcher would read for them; the rest, and any not due yet, are left to a read (the
  // dispatcher is woken for them). Ignored unless the worker is running.
  void Offer(std::vector<OutgoingMessage> fresh);

  // One attempt for one message, recorded in the outbox (also what the sender threads run).
  // `answered`, if set, is called as soon as the peer's part is over (its answer, or the
  // failure to get one), before the outcome is recorded.
  Attempt DeliverOne(const OutgoingMessage& m, const std::function<void()>& answered = nullptr);
  // Delivers everything due now on the calling thread, one by one (tests, tools). Returns the
  // number of attempts.
  StatusOr<int> RunOnce();

 private:
  void Dispatch();
  void Send();
  std::string Checkpoint();
  // Several messages for one peer in one request; `answered` as for DeliverOne.
  void DeliverBatch(std::vector<OutgoingMessage>& batch, const std::function<void()>& answered);
  // A failed attempt, recorded with its next time.
  Attempt Fail(const OutgoingMessage& m, Status why);
  // Checks a receipt for `m` from peer `p`: signed by it, for this message, to us, for this body.
  StatusOr<Receipt> CheckReceipt(const OutgoingMessage& m, const PeerInfo& p,
                                 std::string_view receipt, BatchMemo* memo = nullptr);
  // Records verified receipts; receipts that arrive while one batch is being recorded go
  // together into the next (OutboxPort::RecordDeliveries: one transaction for all) — unless the
  // outbox combines concurrent records itself (OutboxPort::CombinesConcurrentRecords), when
  // waiting for the batch ahead would only add its time to every delivery's.
  Status RecordReceipt(const std::string& message_id, const std::string& receipt);
  std::vector<Status> RecordReceipts(const std::vector<std::pair<std::string, std::string>>& items);

  Identity me_;
  OutboxPort* outbox_;
  PeerDirectory* peers_;
  Transport* transport_;
  CheckpointSource* checkpoints_;
  CheckpointSink* gossip_;
  const Clock& clock_;
  DeliveryOptions options_;
  FederationObserver* observer_;

  std::mutex mu_;
  std::condition_variable dispatch_cv_;
  std::condition_variable send_cv_;
  bool stop_ = false;      // GUARDED_BY(mu_)
  bool wake_ = false;      // GUARDED_BY(mu_)
  bool more_due_ = false;  // the last read filled its limit; GUARDED_BY(mu_)
  std::map<std::string, std::deque<OutgoingMessage>> queues_;  // per peer; GUARDED_BY(mu_)
  size_t queued_ = 0;                                          // in queues_; GUARDED_BY(mu_)
  std::set<std::string> single_;         // peers without the batch path; GUARDED_BY(mu_)
  std::set<std::string> sign_each_;      // peers without the signed-batch path; GUARDED_BY(mu_)
  std::set<std::string> in_flight_;      // message ids queued or being sent; GUARDED_BY(mu_)
  std::map<std::string, int> per_peer_;  // attempts in flight per peer; GUARDED_BY(mu_)
  std::thread dispatcher_;
  std::vector<std::thread> senders_;
  // Where the dispatcher's last read stopped, and when it last read from the start (dispatcher
  // thread only).
  std::optional<OutboxPosition> read_to_;
  std::chrono::steady_clock::time_point last_full_read_{};

  struct PendingReceipt {
    std::string message_id;
    std::string receipt;
    Status status;
    bool done = false;
  };
  std::mutex rec_mu_;
  std::condition_variable rec_cv_;
  std::vector<std::shared_ptr<PendingReceipt>> rec_queue_;  // GUARDED_BY(rec_mu_)
  bool recording_ = false;                                  // GUARDED_BY(rec_mu_)
};

}  // namespace comity::federation

// The inbox: what POST /federation/v1/inbox does with the bytes a peer sends.
//
//   Inbox inbox(me, &peers, &handler, store, &checkpoints, &gossip, clock, {}, &observer);
//   inbox.Start();                                   // the receipts' write-behind thread
//   InboxAnswer a = inbox.Receive(body, remote_address);
//   // a.http_status 200: a.receipt is the signed receipt; otherwise a.error says why
//
// In order:
//  1. OpenEnvelope (federation/envelope.h): oversize, malformed, wrong recipient, unknown
//     sender, bad signature, stale timestamp, undecryptable → refused and recorded as a
//     security event (FederationStore) with nothing else stored.
//  2. The sender's checkpoint goes to the gossip (authentic envelopes only).
//  3. Deduplication by message id: a known id with the same body (SHA-256 of the decrypted
//     body) gets the original receipt again, without touching the node; a known id with a
//     different body is a replay: 409 and a security event.
//  4. Dispatch to the node (MessageHandler::Handle), exactly once per message id.
//  5. A signed receipt (comity.receipt/v1) carrying this node's latest checkpoint.
// The node's refusals of an authentic message map to statuses the sender can act on: 400
// invalid body, 403 not permitted, 404 unknown request, 409 replay/conflict or "not yet"
// (e.g. a decision that arrives before the receipt of its request was recorded: the sender
// retries), 503 try again. Refusals that suggest misuse (invalid body, not permitted, unknown
// request, replay, conflict) are security events too.
//
// Receipts given are cached in memory (bounded) and written to the store in the background in
// batches, so that a retry, even after a restart, gets the original receipt; a retry whose
// receipt was lost (a crash within the write-behind window) gets a new one marked duplicate.
//
// Thread-safe: Receive may run on many server threads at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "federation/envelope.h"
#include "federation/federation_store.h"
#include "federation/ports.h"

namespace comity::federation {

struct InboxOptions {
  OpenOptions open;                              // size and clock-skew limits
  size_t receipt_cache = 100'000;                // receipts kept in memory for retries
  std::chrono::milliseconds flush_interval{50};  // receipts' write-behind
};

struct InboxAnswer {
  int http_status = 200;
  std::string receipt;  // the signed receipt (200)
  Status error;         // why not (otherwise)
  std::string kind;     // the security event recorded, if any ("bad_signature", "replay", ...)
};

class Inbox {
 public:
  // Pointers must outlive the inbox; `gossip` and `observer` may be null.
  Inbox(Identity me, PeerDirectory* peers, MessageHandler* handler, FederationStore* store,
        CheckpointSource* checkpoints, CheckpointSink* gossip, const Clock& clock,
        InboxOptions options, FederationObserver* observer);
  ~Inbox();

  InboxAnswer Receive(std::string_view wire, std::string_view remote);
  // A batch (federation/batch.h): each envelope as Receive would take it, one answer each, in
  // order; the messages accepted are handed to the node together (MessageHandler::HandleBatch).
  // What envelopes signed together share (BatchMemo: the signature, the box key) is worked out
  // once. With kTogether, the receipts of the
  // messages accepted are signed together (SignReceipts) — for senders that asked for it (the
  // signed-batch path).
  enum class ReceiptSigning { kEach, kTogether };
  std::vector<InboxAnswer> ReceiveBatch(std::span<const std::string> wires, std::string_view remote,
                                        ReceiptSigning signing = ReceiptSigning::kEach);

  void Start();
  void Stop();     // flushes the receipts not yet written
  Status Flush();  // writes pending receipts now

 private:
  InboxAnswer Refuse(int http_status, std::string kind, Status why, std::string_view wire,
                     std::string_view remote, const std::string& claimed_from,
                     const std::string& claimed_id);
  // Steps 1–3: an answer now (refused, duplicate, replay, try later), or the envelope to apply.
  struct Screened {
    std::optional<InboxAnswer> answer;
    std::optional<OpenedEnvelope> envelope;
  };
  Screened Screen(std::string_view wire, std::string_view remote);
  // Screen in two parts, for a batch whose message ids are looked up together: the envelope
  // opened (steps 1–2), then what its lookup says (step 3).
  Screened Open(std::string_view wire, std::string_view remote, BatchMemo* memo = nullptr);
  Screened Seen(OpenedEnvelope env, const StatusOr<std::optional<SeenMessage>>& seen,
                std::string_view wire, std::string_view remote);
  // Steps 4–5 once the node has applied (or refused) the message. With `unsigned_receipt`, an
  // accepted message's receipt is left there unsigned (and not yet remembered) for the caller to
  // sign with others (SignTogether).
  InboxAnswer Outcome(const OpenedEnvelope& env, const StatusOr<Handled>& handled,
                      std::string_view wire, std::string_view remote,
                      std::optional<Receipt>* unsigned_receipt = nullptr);
  InboxAnswer Duplicate(const OpenedEnvelope& env, const SeenMessage& seen);
  InboxAnswer Replay(const OpenedEnvelope& env, std::string_view wire, std::string_view remote);
  InboxAnswer Accepted(const OpenedEnvelope& env, std::optional<Receipt>* unsigned_receipt);
  // Signs the receipts left unsigned in a batch, together, into their answers, and remembers them.
  void SignTogether(std::vector<InboxAnswer>& answers, std::span<const size_t> where,
                    std::vector<std::optional<Receipt>>& receipts);
  void Remember(IssuedReceipt r, bool persist);
  std::optional<std::string> Cached(const std::string& message_id);
  std::string CurrentCheckpoint();
  void FlushLoop();

  Identity me_;
  PeerDirectory* peers_;
  MessageHandler* handler_;
  FederationStore* store_;
  CheckpointSource* checkpoints_;
  CheckpointSink* gossip_;
  const Clock& clock_;
  InboxOptions options_;
  FederationObserver* observer_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::string> cache_;  // message id → receipt; GUARDED_BY(mu_)
  std::deque<std::string> cache_order_;                 // GUARDED_BY(mu_)
  std::vector<IssuedReceipt> unwritten_;                // GUARDED_BY(mu_)
  bool stop_ = false;                                   // GUARDED_BY(mu_)
  std::thread flusher_;
  std::mutex flush_mu_;  // one flush at a time
};

}  // namespace comity::federation

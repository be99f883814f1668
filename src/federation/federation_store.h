// The federation's own records, over store::Database (tables in docs/formats/node-store.md and
// docs/federation.md):
//   federation_security_events  refused envelopes: what, when, from where — never the envelope
//   federation_receipts         the signed receipt given for each accepted message id, so that
//                               a retry gets the original receipt again
//   federation_witness          the latest checkpoint witnessed per peer log (tlog::WitnessStore)
//   federation_cosignatures     every checkpoint this node cosigned (cosignature/v1), as evidence
//   federation_alerts           split views: both signed checkpoints, kept as evidence
//
//   ASSIGN_OR_RETURN(auto fs, FederationStore::Open(std::move(durable), std::move(fast)));
//   RETURN_IF_ERROR(fs->RecordSecurityEvent(event));
//   PeerWitnessStore ws(fs.get(), "XB");          // a tlog::WitnessStore for one peer's log
//   tlog::Witness witness(&ws, std::move(signer), clock);
//
// Two connections: `durable` (fsync per commit) for alerts, which are rare evidence; `fast` (no
// fsync per commit) for what may come at the rate of messages — receipts, the witness state and
// security events (a flood of bad envelopes must not cost an fsync each). The node's own commits
// fsync the same write-ahead log all the time, which makes these durable within moments; after
// a machine crash (not a process crash) the last few may be lost: then a retry gets a fresh
// receipt marked `duplicate` and the witness checks against the checkpoint before — both safe.
// Both may be the same database file.
//
// Thread-safe: each connection is used under its own mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "tlog/witness.h"

namespace comity::federation {

// Bounds on what a security event keeps of attacker-controlled text.
inline constexpr size_t kMaxSecurityDetailBytes = 1000;
inline constexpr size_t kMaxClaimedFieldBytes = 64;
inline constexpr int kMaxListLimit = 1000;

struct SecurityEvent {
  std::string id;  // assigned by RecordSecurityEvent when empty (16 hex digits)
  int64_t at_us = 0;
  std::string kind;  // oversize, malformed, ..., replay (envelope.md)
  int http_status = 0;
  std::string remote;        // the client's address
  std::string claimed_from;  // from the envelope's header, if it could be read (unverified)
  std::string claimed_id;
  int64_t size = 0;             // bytes received
  std::string envelope_sha256;  // hex SHA-256 of the bytes received (to correlate repeats)
  std::string detail;           // why it was refused
  bool operator==(const SecurityEvent&) const = default;
};

struct SecurityEventPage {
  std::vector<SecurityEvent> items;  // newest first
  std::string next_cursor;           // empty on the last page
};

struct IssuedReceipt {
  std::string message_id;
  std::string sender;
  std::string body_sha256;
  int64_t received_us = 0;
  std::string receipt;  // the signed receipt (comity.receipt/v1)
};

struct Alert {
  std::string id;
  int64_t at_us = 0;
  std::string kind;  // "split_view"
  std::string peer;
  std::string origin;
  std::string first_note;   // the checkpoint seen earlier
  std::string second_note;  // the checkpoint that contradicts it
  std::string detail;
};

struct WitnessedLog {
  std::string origin;
  std::string peer;
  uint64_t size = 0;
  std::string note;           // the peer's checkpoint as signed by it
  std::string cosigned_note;  // with this node's cosignature (empty until cosigned)
  int64_t updated_us = 0;
  int64_t cosigned = 0;  // checkpoints of this log cosigned so far
};

class FederationStore {
 public:
  // Applies the "federation" migrations on `durable`. `fast` may be null: `durable` serves both.
  static StatusOr<std::unique_ptr<FederationStore>> Open(std::unique_ptr<store::Database> durable,
                                                         std::unique_ptr<store::Database> fast);

  // --- security events ---
  Status RecordSecurityEvent(SecurityEvent event);
  // Newest first; `cursor` from a previous page; `kind` filters when not empty.
  StatusOr<SecurityEventPage> ListSecurityEvents(std::string_view kind, std::string_view cursor,
                                                 int limit);
  StatusOr<std::vector<std::pair<std::string, int64_t>>> CountSecurityEvents();

  // --- receipts given ---
  // Keeps the first receipt for a message id (a second Put for the same id is ignored).
  Status PutReceipts(const std::vector<IssuedReceipt>& receipts);
  StatusOr<std::optional<IssuedReceipt>> GetReceipt(std::string_view message_id);

  // --- witnessing ---
  StatusOr<std::optional<std::string>> WitnessLatest(std::string_view origin);
  Status WitnessUpdate(std::string_view peer, std::string_view origin,
                       std::optional<uint64_t> expected_size, uint64_t size, std::string_view note);
  Status RecordCosignature(std::string_view peer, std::string_view origin, uint64_t size,
                           std::string_view cosigned_note, int64_t at_us);
  StatusOr<std::vector<WitnessedLog>> ListWitnessed();

  // --- alerts ---
  Status RecordAlert(Alert alert);
  StatusOr<std::vector<Alert>> ListAlerts();
  StatusOr<int64_t> CountAlerts();

 private:
  FederationStore(std::unique_ptr<store::Database> durable, std::unique_ptr<store::Database> fast)
      : durable_(std::move(durable)), fast_(std::move(fast)) {}
  store::Database& fast() { return fast_ ? *fast_ : *durable_; }
  std::mutex& fast_mu() { return fast_ ? fast_mu_ : durable_mu_; }

  std::mutex durable_mu_;
  std::unique_ptr<store::Database> durable_;  // GUARDED_BY(durable_mu_)
  std::mutex fast_mu_;
  std::unique_ptr<store::Database> fast_;  // GUARDED_BY(fast_mu_)
};

// tlog::WitnessStore over a FederationStore for the logs of one peer, so that what the witness
// records (its latest checkpoint, split views) is attributed to that peer. Split views become
// alerts. Thread-compatible (the FederationStore beneath is thread-safe).
class PeerWitnessStore : public tlog::WitnessStore {
 public:
  PeerWitnessStore(FederationStore* store, std::string peer, int64_t now_us)
      : store_(store), peer_(std::move(peer)), now_us_(now_us) {}
  StatusOr<std::optional<std::string>> Latest(std::string_view origin) override;
  Status Update(std::string_view origin, std::optional<uint64_t> expected_size, uint64_t size,
                std::string_view note) override;
  Status RecordSplitView(const tlog::SplitViewEvidence& evidence) override;
  StatusOr<std::vector<tlog::SplitViewEvidence>> SplitViews() override;

 private:
  FederationStore* store_;
  std::string peer_;
  int64_t now_us_;
};

}  // namespace comity::federation

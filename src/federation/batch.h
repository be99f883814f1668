// Batches of envelopes: several envelopes to one peer in one HTTP request, and their answers in
// one response (docs/formats/envelope.md, "Batches").
//
//   POST /federation/v1/inbox/batch
//   {"schema": "comity.envelope-batch/v1", "envelopes": ["<envelope>", ...]}
//   → 200 {"schema": "comity.receipt-batch/v1",
//          "results": [{"status": 200, "receipt": "<receipt>"},
//                      {"status": 409, "error": {"code": "...", "message": "..."}}, ...]}
//
// Each envelope is the exact text that POST /federation/v1/inbox takes, and each result is what
// that endpoint would have answered for it, in the same order: a batch changes the transport
// (and lets the receiver apply the accepted messages in one transaction), not the meaning.
// POST /federation/v1/inbox/signed-batch takes and answers the same documents, with envelopes
// and receipts signed together (envelope.h, SealEnvelopes and SignReceipts).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace comity::federation {

inline constexpr char kInboxBatchPath[] = "/federation/v1/inbox/batch";
// The same documents, but the envelopes may be signed together (SealEnvelopes) and the receipts
// of the messages accepted are signed together (SignReceipts): one signature each way per batch.
inline constexpr char kInboxSignedBatchPath[] = "/federation/v1/inbox/signed-batch";
inline constexpr size_t kMaxBatchEnvelopes = 256;
inline constexpr size_t kMaxBatchBytes = 4 << 20;  // the whole batch on the wire

// What the inbox answered for one envelope of a batch.
struct BatchResult {
  int status = 200;
  std::string receipt;  // status 200
  std::string code;     // otherwise: the error's code ("already_exists", ...) and message
  std::string message;
};

// The request body. The caller keeps within kMaxBatchEnvelopes; SerializedBatchSize tells the
// size before serialising.
std::string SerializeEnvelopeBatch(std::span<const std::string> envelopes);
// The size SerializeEnvelopeBatch gives `envelopes` plus one more envelope `next`.
size_t SerializedBatchSize(size_t current, std::string_view next);
// Errors: kResourceExhausted (over kMaxBatchEnvelopes or kMaxBatchBytes), kInvalidArgument (not
// such a document; the message says where).
StatusOr<std::vector<std::string>> ParseEnvelopeBatch(std::string_view body);

std::string SerializeBatchResults(std::span<const BatchResult> results);
// Errors: kInvalidArgument when the body is not a result list of exactly `expected` entries.
StatusOr<std::vector<BatchResult>> ParseBatchResults(std::string_view body, size_t expected);

}  // namespace comity::federation

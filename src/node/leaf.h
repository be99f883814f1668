// Log leaves: what the node's public transparency log says about each event, and the private
// record behind it ("commit now, disclose later"; docs/formats/leaf.md).
//
//   LeafInput in = LeafFromRequest(kLeafRequestSent, now, request);   // states, measures, ...
//   in.outcome = "proceed";
//   ASSIGN_OR_RETURN(BuiltLeaf b, BuildLeaf(in, private_record_json));
//   // b.leaf: {"commitment":"sha256:…","kind":"request.sent","measures":["produce"],
//   //          "month":"2026-11","offences":["computer_fraud"],"outcome":"proceed",
//   //          "requested":"XB","requesting":"XA","rules":[],"v":1}
//   // b.salt_hex, b.record: kept in the node's store, never published
//
// A leaf holds coarse public fields only: the event kind, the month, the two states, the
// measure types and offence categories, an outcome, the ids of the rules that fired. Never a
// name, a selector, free text, a request id or an exact time. Its commitment is
// SHA-256(salt ‖ record) over a fresh 32-byte random salt, so that the record can later be
// shown to a court or an oversight body and checked against the published leaf, while the leaf
// alone reveals nothing about it (the salt defeats guessing).
//
// Thread-safe: pure functions (BuildLeaf draws its salt from the system's CSPRNG).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "core/time.h"

namespace comity::node {

inline constexpr int kLeafVersion = 1;
inline constexpr size_t kSaltBytes = 32;

// Event kinds (docs/formats/leaf.md).
inline constexpr std::string_view kLeafRequestDrafted = "request.drafted";
inline constexpr std::string_view kLeafRequestSent = "request.sent";
inline constexpr std::string_view kLeafRequestWithdrawn = "request.withdrawn";
inline constexpr std::string_view kLeafReceiptReceived = "receipt.received";
inline constexpr std::string_view kLeafDecisionReceived = "decision.received";
inline constexpr std::string_view kLeafInformationReplySent = "information_reply.sent";
inline constexpr std::string_view kLeafRequestReceived = "request.received";
inline constexpr std::string_view kLeafRequestScreened = "request.screened";
inline constexpr std::string_view kLeafRequestDecided = "request.decided";
inline constexpr std::string_view kLeafInformationReplyReceived = "information_reply.received";
inline constexpr std::string_view kLeafRequestAssigned = "request.assigned";
inline constexpr std::string_view kLeafRequestClosed = "request.closed";

struct LeafInput {
  std::string kind;
  Timestamp at;
  std::string requesting;
  std::string requested;
  std::vector<std::string> measures;     // measure type codes
  std::vector<std::string> offences;     // offence category codes
  std::optional<std::string> outcome;    // screening outcome or decision
  std::optional<std::string> screening;  // request.decided: the screening's recommendation
  std::vector<std::string> rules;        // ids of the rules that fired
};

struct BuiltLeaf {
  std::string leaf;      // canonical JSON, the log entry
  std::string salt_hex;  // 64 hex digits
  std::string record;    // canonical JSON of the private record
};

// The coarse fields of a request: its states, measure types and offence categories.
LeafInput LeafFromRequest(std::string_view kind, Timestamp at, const Request& request);
// The ids of the rules whose findings are in `decision` (sorted, without repeats).
std::vector<std::string> FiredRules(const Decision& decision);

// Canonicalises `private_record`, draws a salt, and builds the leaf. kInvalidArgument if a
// field is not of the expected shape (codes are [a-z0-9_.-], states two capital letters), so
// that nothing else can slip into a leaf.
StatusOr<BuiltLeaf> BuildLeaf(const LeafInput& in, const boost::json::value& private_record);
// The same with a given salt (tests, verification).
StatusOr<BuiltLeaf> BuildLeafWithSalt(const LeafInput& in, const boost::json::value& private_record,
                                      std::string_view salt);

// "sha256:<hex>" of salt ‖ record.
std::string Commitment(std::string_view salt, std::string_view record);
// Whether `leaf`'s commitment matches the salt (hex) and record: how a court checks an entry.
StatusOr<bool> VerifyCommitment(std::string_view leaf, std::string_view salt_hex,
                                std::string_view record);

}  // namespace comity::node

// A node's public identity document (GET /federation/v1/identity) and its fingerprint, so that
// an administrator can add a peer from its URL and confirm the keys out of band by comparing
// one short string, as with SSH host keys.
//
//   IdentityDocument me{.state = "XA", .name = "main", .url = url, .sign_key = ..., ...};
//   std::string json = FormatIdentityDocument(me);          // what the route serves
//   ...
//   ASSIGN_OR_RETURN(IdentityDocument peer, ParseIdentityDocument(body));
//   RETURN_IF_ERROR(ConfirmFingerprint(peer, fingerprint_read_over_the_phone));
//
// The identity fingerprint is the hex SHA-256 of
//   "comity.identity/v1\n" state "\n" sign_key "\n" box_key "\n" log_vkey "\n"
// (keys in base64 as in the document), so it binds the state, both keys and the log's verifier
// key (its origin and key) at once. Key fingerprints are the hex SHA-256 of the raw public key.
// Format: docs/formats/envelope.md (the identity document).
//
// Thread-safe: free functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace comity::federation {

inline constexpr std::string_view kIdentitySchema = "comity.identity/v1";
inline constexpr std::string_view kIdentityPath = "/federation/v1/identity";
inline constexpr size_t kMaxIdentityBytes = 16 << 10;

struct IdentityDocument {
  std::string state;
  std::string name;
  std::string url;
  std::string sign_key;  // base64 Ed25519 public key
  std::string box_key;   // base64 X25519 public key
  std::string log_origin;
  std::string log_vkey;
  std::string witness_vkey;  // this node's cosignature/v1 key, as a witness of its peers' logs
};

std::string IdentityFingerprint(const IdentityDocument& doc);
// Hex SHA-256 of a base64 public key's bytes; empty if it is not base64.
std::string KeyFingerprint(std::string_view base64_key);

// JSON with the members above, "schema" and "fingerprints" {identity, sign_key, box_key}.
std::string FormatIdentityDocument(const IdentityDocument& doc);

// Strict: every member present and well-formed (state code, 32-byte keys, a vkey whose name is
// the origin), no unknown member, fingerprints (if given) matching the keys. kInvalidArgument
// with a JSON Pointer otherwise.
StatusOr<IdentityDocument> ParseIdentityDocument(std::string_view json);

// Compares `given` (64 hex digits; case, a "sha256:" prefix, spaces and colons ignored) with
// the document's identity fingerprint: kInvalidArgument if it is not a fingerprint,
// kPermissionDenied naming both if they differ.
Status ConfirmFingerprint(const IdentityDocument& doc, std::string_view given);

}  // namespace comity::federation

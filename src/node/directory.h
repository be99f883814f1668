// The node's directory: users, peers and state profiles, over a store::NodeStore. Used by the
// service (behind the API) and by the offline commands (`comity user ...`, `comity peer ...`,
// `comity init`), so that both apply the same checks.
//
//   ASSIGN_OR_RETURN(NewUser u, AddUser(store, "ana", Role::kOfficer, "admin", now));
//   std::puts(u.token.c_str());                    // shown once; only its hash is stored
//   RETURN_IF_ERROR(RevokeUser(store, "ana", "admin", now));
//   RETURN_IF_ERROR(AddPeer(store, {.state = "XB", .url = ..., .sign_key = ..., .box_key = ...},
//                           /*replace=*/false, now));
//   RETURN_IF_ERROR(PutProfile(store, "XB", json_text, "admin", now));
//
// Each function runs its writes in its own transaction unless one is already open on the
// store's database (then the caller commits). Thread-compatible, like the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/status.h"
#include "node/accounts.h"
#include "store/node_store.h"

namespace comity::node {

struct NewUser {
  store::UserRecord user;
  std::string token;  // shown once
};

// kInvalidArgument for a bad name (pointer /name); kAlreadyExists for a taken name.
StatusOr<NewUser> AddUser(store::NodeStore& store, std::string_view name, Role role,
                          std::string_view created_by, int64_t now_us);
// kNotFound, kFailedPrecondition (already revoked, or the last active admin).
Status RevokeUser(store::NodeStore& store, std::string_view name, std::string_view by,
                  int64_t now_us);
// The active user holding `token`; kUnauthenticated for an unknown, malformed or revoked token
// (one message for all three: the answer does not tell which).
StatusOr<store::UserRecord> Authenticate(store::NodeStore& store, std::string_view token);

struct PeerInput {
  std::string state;
  std::string url;
  std::string sign_key;  // base64, 32 bytes
  std::string box_key;   // base64, 32 bytes
  std::string log_vkey;  // optional: the peer log's verifier key (signed-note vkey)
};
// Checks every field (pointers /state, /url, /sign_key, /box_key, /log_vkey). `own_state`
// cannot be a peer. kAlreadyExists for a known state unless `replace`.
StatusOr<store::PeerRecord> AddPeer(store::NodeStore& store, const PeerInput& peer,
                                    std::string_view own_state, bool replace, int64_t now_us);

// Validates `json_text` against comity.state/v1 (errors carry the JSON Pointer) and that its
// code is `code`; stores its canonical form.
StatusOr<store::ProfileRecord> PutProfile(store::NodeStore& store, std::string_view code,
                                          std::string_view json_text, std::string_view by,
                                          int64_t now_us);

// Loads every <CODE>.json of `dir` into the store (comity init). Returns how many.
StatusOr<int> LoadProfileDirectory(store::NodeStore& store, const std::string& dir,
                                   std::string_view by, int64_t now_us);

// Microseconds since the epoch, and back.
int64_t ToMicros(Timestamp t);
Timestamp FromMicros(int64_t us);

}  // namespace comity::node

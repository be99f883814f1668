// A node's keys: DATA/log.key (Ed25519: signs the log's checkpoints, envelopes and receipts)
// and DATA/box.key (X25519: peers seal message bodies to it). Key files are
// crypto/keyfile.h's format, mode 0600; with $COMITY_KEY_PASSPHRASE set they are created
// protected by it (Argon2id + XChaCha20-Poly1305) and unlocked with it. The passphrase is never
// logged or printed.
//
//   ASSIGN_OR_RETURN(federation::Identity id, CreateIdentity(data_dir, "XA"));
//   ASSIGN_OR_RETURN(federation::Identity id, LoadIdentity(data_dir, "XA"));
//   PublicIdentity pub = Describe(id);   // base64 public keys, for `comity peer add` elsewhere
//
// The signing key is the log's key (the file `comity log` commands use), so a peer that knows
// our signing key and log origin knows our log's verifier key.
//
// Thread-safe: free functions.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "crypto/box.h"
#include "crypto/ed25519.h"
#include "federation/envelope.h"

namespace comity::node {

struct PublicIdentity {
  std::string state;
  std::string sign_key;  // base64 Ed25519 public key
  std::string box_key;   // base64 X25519 public key
};

// The passphrase from $COMITY_KEY_PASSPHRASE, if set and not empty.
std::optional<std::string> PassphraseFromEnv();

// Creates both key files in `dir` (kAlreadyExists if either exists).
StatusOr<federation::Identity> CreateIdentity(const std::string& dir, const std::string& state);
// Loads both key files. kFailedPrecondition naming the variable when a key is protected and no
// passphrase is set; kPermissionDenied for a wrong passphrase or a file others may read.
StatusOr<federation::Identity> LoadIdentity(const std::string& dir, const std::string& state);
StatusOr<crypto::Ed25519PrivateKey> LoadSignKey(const std::string& dir);

PublicIdentity Describe(const federation::Identity& id);

// Strict base64 of exactly 32 bytes (a public key given on the command line or in the API);
// kInvalidArgument naming `what` otherwise.
StatusOr<std::array<uint8_t, 32>> ParsePublicKey(std::string_view base64, std::string_view what);

}  // namespace comity::node

// State profiles from a directory: DIR/<CODE>.json, loaded on first use and cached.
//
//   ProfileDirectory profiles("profiles");
//   StatusOr<const StateProfile*> xa = profiles.Get(request.requested_state);
//   // unknown state: kInvalidArgument "unknown state XQ: no profile profiles/XQ.json"
//   // invalid profile: kInvalidArgument naming the file and the JSON Pointer
//
// The code inside a profile must match its file name. Failures are cached too, so a batch
// that names an unknown state many times reads the directory once per state.
//
// Thread-compatible: use one ProfileDirectory per thread, or guard it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/model.h"
#include "core/status.h"

namespace comity::rules {

class ProfileDirectory {
 public:
  explicit ProfileDirectory(std::string dir) : dir_(std::move(dir)) {}

  StatusOr<const StateProfile*> Get(StateCode code);
  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    Status status;
    std::unique_ptr<StateProfile> profile;
  };
  std::string dir_;
  std::map<std::string, Entry> cache_;
};

}  // namespace comity::rules

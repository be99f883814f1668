#include "rules/profiles.h"

#include <filesystem>

#include "core/codec.h"

namespace comity::rules {

StatusOr<const StateProfile*> ProfileDirectory::Get(StateCode code) {
  std::string key = code.str();
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    Entry e;
    std::string path = (std::filesystem::path(dir_) / (key + ".json")).string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      e.status = InvalidArgumentError("unknown state " + key + ": no profile " + path);
    } else {
      StatusOr<StateProfile> p = LoadProfileFile(path);
      if (!p.ok()) {
        e.status = p.status();
      } else if (!(p->code == code)) {
        e.status = InvalidArgumentError(path + ": /code: the profile is for " + p->code.str() +
                                            ", not " + key + " as its file name says",
                                        "/code");
      } else {
        e.profile = std::make_unique<StateProfile>(std::move(*p));
      }
    }
    it = cache_.emplace(key, std::move(e)).first;
  }
  if (!it->second.status.ok()) return it->second.status;
  return static_cast<const StateProfile*>(it->second.profile.get());
}

}  // namespace comity::rules

#include "tlog/storage.h"

namespace comity::tlog {

Status MemoryLogStorage::RequireWrite() const {
  if (!in_write_) return FailedPreconditionError("log storage: write outside a transaction");
  return OkStatus();
}

Status MemoryLogStorage::BeginWrite() {
  if (in_write_) return FailedPreconditionError("log storage: a write transaction is open");
  in_write_ = true;
  return OkStatus();
}

Status MemoryLogStorage::Commit() {
  RETURN_IF_ERROR(RequireWrite());
  if (staged_state_) state_ = std::move(staged_state_);
  for (auto& [k, v] : staged_tiles_) tiles_[k] = std::move(v);
  for (auto& e : staged_entries_) entries_.push_back(std::move(e));
  for (auto& [k, v] : staged_checkpoints_) checkpoints_[k] = std::move(v);
  return Rollback();
}

Status MemoryLogStorage::Rollback() {
  in_write_ = false;
  staged_state_.reset();
  staged_tiles_.clear();
  staged_entries_.clear();
  staged_checkpoints_.clear();
  return OkStatus();
}

StatusOr<std::optional<LogState>> MemoryLogStorage::ReadState() {
  if (staged_state_) return staged_state_;
  return state_;
}

Status MemoryLogStorage::WriteState(const LogState& state) {
  RETURN_IF_ERROR(RequireWrite());
  staged_state_ = state;
  return OkStatus();
}

StatusOr<std::optional<std::string>> MemoryLogStorage::ReadTile(int level, uint64_t index) {
  const auto key = std::make_pair(level, index);
  if (auto it = staged_tiles_.find(key); it != staged_tiles_.end()) return {it->second};
  if (auto it = tiles_.find(key); it != tiles_.end()) return {it->second};
  return std::optional<std::string>();
}

Status MemoryLogStorage::WriteTile(int level, uint64_t index, std::string_view hashes) {
  RETURN_IF_ERROR(RequireWrite());
  staged_tiles_[{level, index}] = std::string(hashes);
  return OkStatus();
}

Status MemoryLogStorage::WriteEntries(uint64_t first, std::span<const std::string> entries) {
  RETURN_IF_ERROR(RequireWrite());
  if (first != entries_.size() + staged_entries_.size()) {
    return FailedPreconditionError("log storage: entries must be written in order (next is " +
                                   std::to_string(entries_.size() + staged_entries_.size()) +
                                   ", got " + std::to_string(first) + ")");
  }
  staged_entries_.insert(staged_entries_.end(), entries.begin(), entries.end());
  return OkStatus();
}

StatusOr<std::vector<std::string>> MemoryLogStorage::ReadEntries(uint64_t first, uint64_t count) {
  const uint64_t total = entries_.size() + staged_entries_.size();
  if (first > total || count > total - first) {
    return DataLossError("log storage: entries [" + std::to_string(first) + ", " +
                         std::to_string(first + count) + ") are not all stored (have " +
                         std::to_string(total) + ")");
  }
  std::vector<std::string> out;
  out.reserve(count);
  for (uint64_t i = first; i < first + count; ++i) {
    out.push_back(i < entries_.size() ? entries_[i] : staged_entries_[i - entries_.size()]);
  }
  return out;
}

Status MemoryLogStorage::WriteCheckpoint(uint64_t size, std::string_view note) {
  RETURN_IF_ERROR(RequireWrite());
  staged_checkpoints_[size] = std::string(note);
  return OkStatus();
}

StatusOr<std::optional<std::string>> MemoryLogStorage::ReadCheckpoint(uint64_t size) {
  if (auto it = staged_checkpoints_.find(size); it != staged_checkpoints_.end())
    return {it->second};
  if (auto it = checkpoints_.find(size); it != checkpoints_.end()) return {it->second};
  return std::optional<std::string>();
}

}  // namespace comity::tlog

#include "tlog/log.h"

#include <utility>

namespace comity::tlog {

// --- RightEdge -------------------------------------------------------------------------------

void RightEdge::Push(int level, const Hash& h, TreeHasher& hasher,
                     std::vector<CompletedTile>* completed) {
  auto& partial = partial_[level];
  auto& stack = stack_[level];
  partial.push_back(h);
  stack.emplace_back(0, h);
  while (stack.size() >= 2 && stack[stack.size() - 1].first == stack[stack.size() - 2].first) {
    Hash merged = hasher.Node(stack[stack.size() - 2].second, stack[stack.size() - 1].second);
    const int height = stack.back().first + 1;
    stack.pop_back();
    stack.back() = {height, merged};
  }
  dirty_ |= 1u << level;
  if (partial.size() == static_cast<size_t>(kTileWidth)) {
    // The tile is full; its root (the single stack entry, height 8) goes one level up.
    const Hash root = stack.back().second;
    CompletedTile t{level, full_count_[level], std::string()};
    t.data.reserve(kFullTileBytes);
    for (const Hash& x : partial) t.data.append(HashBytes(x));
    completed->push_back(std::move(t));
    partial.clear();
    stack.clear();
    ++full_count_[level];
    Push(level + 1, root, hasher, completed);
  }
}

void RightEdge::AppendLeaf(const Hash& leaf, TreeHasher& hasher,
                           std::vector<CompletedTile>* completed) {
  Push(0, leaf, hasher, completed);
  ++size_;
}

Hash RightEdge::Root(TreeHasher& hasher) const {
  std::vector<const Hash*> parts;
  for (int level = kMaxUsedTileLevels - 1; level >= 0; --level) {
    for (const auto& [height, h] : stack_[level]) parts.push_back(&h);
  }
  if (parts.empty()) return EmptyRootHash();
  Hash r = *parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) r = hasher.Node(*parts[i], r);
  return r;
}

std::string RightEdge::PartialData(int level) const {
  std::string out;
  out.reserve(partial_[level].size() * kHashSize);
  for (const Hash& h : partial_[level]) out.append(HashBytes(h));
  return out;
}

StatusOr<RightEdge> RightEdge::Load(uint64_t size, LogStorage& storage) {
  RightEdge edge;
  TreeHasher hasher;
  std::vector<CompletedTile> none;
  edge.size_ = size;
  for (int level = 0; level < kMaxUsedTileLevels; ++level) {
    edge.full_count_[level] = FullTileCount(size, level);
  }
  for (int level = 0; level < TileLevelCount(size); ++level) {
    const int width = PartialTileWidth(size, level);
    if (width == 0) continue;
    const uint64_t index = edge.full_count_[level];
    ASSIGN_OR_RETURN(std::optional<std::string> data, storage.ReadTile(level, index));
    const std::string name = TilePath({level, index, width});
    if (!data) return DataLossError("stored " + name + " is missing");
    if (data->size() < static_cast<size_t>(width) * kHashSize || data->size() % kHashSize != 0) {
      return DataLossError("stored " + name + " holds " + std::to_string(data->size()) +
                           " bytes, fewer than the committed size needs");
    }
    for (int i = 0; i < width; ++i) edge.Push(level, TileHashAt(*data, i), hasher, &none);
  }
  edge.dirty_ = 0;
  return edge;
}

// --- Log ---------------------------------------------------------------------------------------

Status ValidateOrigin(std::string_view origin) {
  if (origin.size() > kMaxOriginBytes) {
    return InvalidArgumentError("origin of " + std::to_string(origin.size()) +
                                " bytes exceeds the limit of " + std::to_string(kMaxOriginBytes));
  }
  if (!IsValidKeyName(origin) || !IsValidNoteText(origin)) {
    return InvalidArgumentError("origin \"" + std::string(origin) +
                                "\" must be non-empty UTF-8 without spaces, '+' or control "
                                "characters (e.g. \"example.com/log\")");
  }
  return OkStatus();
}

Log::Log(LogStorage* storage, std::string origin, crypto::Ed25519PrivateKey key)
    : storage_(storage), signer_(origin, key), verifier_(std::move(origin), key.public_key()) {}

StatusOr<std::unique_ptr<Log>> Log::Create(LogStorage* storage, std::string origin,
                                           crypto::Ed25519PrivateKey key, LogOptions options) {
  RETURN_IF_ERROR(ValidateOrigin(origin));
  std::unique_ptr<Log> log(new Log(storage, origin, std::move(key)));
  RETURN_IF_ERROR(storage->BeginWrite());
  auto write = [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<LogState> existing, storage->ReadState());
    if (existing) {
      return AlreadyExistsError("storage already holds the log \"" + existing->origin + "\"");
    }
    LogState state;
    state.origin = origin;
    state.root = EmptyRootHash();
    state.disclose_immediately = options.disclose_immediately;
    ASSIGN_OR_RETURN(state.checkpoint,
                     SignNote(FormatCheckpoint({origin, 0, state.root, {}}), log->signer_));
    RETURN_IF_ERROR(storage->WriteState(state));
    RETURN_IF_ERROR(storage->WriteCheckpoint(0, state.checkpoint));
    return storage->Commit();
  };
  if (Status st = write(); !st.ok()) {
    storage->Rollback().IgnoreError();
    return st;
  }
  log->edge_root_ = EmptyRootHash();
  return log;
}

StatusOr<std::unique_ptr<Log>> Log::Open(LogStorage* storage, crypto::Ed25519PrivateKey key) {
  ASSIGN_OR_RETURN(std::optional<LogState> state, storage->ReadState());
  if (!state) return NotFoundError("no log has been created in this storage");
  std::unique_ptr<Log> log(new Log(storage, state->origin, std::move(key)));
  auto cp = OpenCheckpoint(state->checkpoint, log->verifier_);
  if (!cp.ok()) {
    if (cp.status().code() == StatusCode::kUnauthenticated) {
      return PermissionDeniedError("the key does not match the log \"" + state->origin +
                                   "\": its checkpoints were signed by another key");
    }
    return DataLossError("stored checkpoint: " + cp.status().message());
  }
  if (cp->checkpoint.size != state->size || cp->checkpoint.root != state->root) {
    return DataLossError("stored checkpoint (size " + std::to_string(cp->checkpoint.size) +
                         ") does not match the stored state (size " + std::to_string(state->size) +
                         ")");
  }
  if (state->disclosed > state->size) {
    return DataLossError("stored disclosed size exceeds the committed size");
  }
  RETURN_IF_ERROR(log->LoadEdge(*state));
  return log;
}

Status Log::LoadEdge(const LogState& state) {
  ASSIGN_OR_RETURN(RightEdge edge, RightEdge::Load(state.size, *storage_));
  const Hash root = edge.Root(hasher_);
  if (root != state.root) {
    return DataLossError("stored tiles hash to " + HashToBase64(root) +
                         ", not to the committed root " + HashToBase64(state.root) + " (size " +
                         std::to_string(state.size) + ")");
  }
  edge_ = std::move(edge);
  edge_root_ = root;
  return OkStatus();
}

StatusOr<LogState> Log::State() {
  ASSIGN_OR_RETURN(std::optional<LogState> state, storage_->ReadState());
  if (!state) return NotFoundError("no log has been created in this storage");
  return *state;
}

StatusOr<AppendResult> Log::AppendInTransaction(std::span<const std::string> entries) {
  ASSIGN_OR_RETURN(LogState state, State());
  return AppendInTransaction(entries, std::move(state));
}

StatusOr<AppendResult> Log::AppendInTransaction(std::span<const std::string> entries,
                                                LogState state) {
  if (entries.size() > kMaxBatchEntries) {
    return ResourceExhaustedError("batch of " + std::to_string(entries.size()) +
                                  " entries exceeds the limit of " +
                                  std::to_string(kMaxBatchEntries));
  }
  size_t bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    Status st = CheckEntrySize(entries[i].size());
    if (!st.ok()) return st.WithContext("entry " + std::to_string(i) + " of the batch");
    bytes += entries[i].size();
  }
  if (bytes > kMaxBatchBytes) {
    return ResourceExhaustedError("batch of " + std::to_string(bytes) +
                                  " bytes exceeds the limit of " + std::to_string(kMaxBatchBytes));
  }
  if (state.origin != origin()) {
    return FailedPreconditionError("storage now holds the log \"" + state.origin + "\"");
  }
  AppendResult result;
  result.first_index = state.size;
  if (entries.empty()) {
    result.size = state.size;
    result.root = state.root;
    result.checkpoint = state.checkpoint;
    return result;
  }
  if (entries.size() > kMaxLogSize - state.size) {
    return ResourceExhaustedError("the log is full (" + std::to_string(kMaxLogSize) + " entries)");
  }
  if (edge_.size() != state.size || edge_root_ != state.root) RETURN_IF_ERROR(LoadEdge(state));

  RightEdge next = edge_;
  next.ClearDirty();
  std::vector<RightEdge::CompletedTile> completed;
  for (const std::string& e : entries)
    next.AppendLeaf(hasher_.Leaf(AsBytes(e)), hasher_, &completed);
  for (const auto& t : completed) RETURN_IF_ERROR(storage_->WriteTile(t.level, t.index, t.data));
  for (int level = 0; level < kMaxUsedTileLevels; ++level) {
    if (!next.dirty(level)) continue;
    std::string data = next.PartialData(level);
    if (!data.empty()) RETURN_IF_ERROR(storage_->WriteTile(level, next.PartialIndex(level), data));
  }
  RETURN_IF_ERROR(storage_->WriteEntries(state.size, entries));

  const Hash root = next.Root(hasher_);
  ASSIGN_OR_RETURN(std::string note,
                   SignNote(FormatCheckpoint({state.origin, next.size(), root, {}}), signer_));
  state.size = next.size();
  state.root = root;
  state.checkpoint = note;
  if (state.disclose_immediately) state.disclosed = state.size;
  RETURN_IF_ERROR(storage_->WriteState(state));
  RETURN_IF_ERROR(storage_->WriteCheckpoint(state.size, note));

  edge_ = std::move(next);
  edge_root_ = root;
  result.size = state.size;
  result.root = root;
  result.checkpoint = std::move(note);
  return result;
}

StatusOr<AppendResult> Log::Append(std::span<const std::string> entries) {
  RETURN_IF_ERROR(storage_->BeginWrite());
  auto result = AppendInTransaction(entries);
  if (!result.ok()) {
    storage_->Rollback().IgnoreError();
    return result.status();
  }
  if (Status st = storage_->Commit(); !st.ok()) {
    storage_->Rollback().IgnoreError();
    return st;
  }
  return result;
}

Status Log::DiscloseInTransaction(uint64_t size) {
  ASSIGN_OR_RETURN(LogState state, State());
  if (size > state.size) {
    return FailedPreconditionError("cannot disclose " + std::to_string(size) + " entries: only " +
                                   std::to_string(state.size) + " are committed");
  }
  if (size < state.disclosed) {
    return FailedPreconditionError("the disclosed size only moves forward: it is already " +
                                   std::to_string(state.disclosed));
  }
  if (size == state.disclosed) return OkStatus();
  state.disclosed = size;
  return storage_->WriteState(state);
}

Status Log::Disclose(uint64_t size) {
  RETURN_IF_ERROR(storage_->BeginWrite());
  Status st = DiscloseInTransaction(size);
  if (st.ok()) st = storage_->Commit();
  if (!st.ok()) storage_->Rollback().IgnoreError();
  return st;
}

}  // namespace comity::tlog

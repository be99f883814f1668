// Helpers shared by the tlog tests: test data location, temporary directories, a fixed clock,
// and a reference Merkle tree hash computed the slow, obvious way.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/time.h"
#include "tlog/hash.h"
#include "tlog/merkle.h"

namespace comity::tlog::testing {

// Directory holding tlog/ test data: $COMITY_TESTDATA_DIR, else /work/shared/testdata, else the
// copy kept in this repository (tests/tlog/testdata).
inline std::string TestdataDir() {
  if (const char* env = std::getenv("COMITY_TESTDATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  if (std::filesystem::exists("/work/shared/testdata/tlog")) return "/work/shared/testdata";
  return std::string(COMITY_SOURCE_DIR) + "/tests/tlog/testdata";
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "comity-tlog-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class FixedClock : public Clock {
 public:
  explicit FixedClock(int64_t seconds) : now_{seconds, 0} {}
  Timestamp Now() const override { return now_; }
  void Set(int64_t seconds) { now_ = {seconds, 0}; }

 private:
  Timestamp now_;
};

// MTH(D[lo:hi]) over leaf hashes, straight from RFC 6962.
inline Hash ReferenceHash(const std::vector<Hash>& leaves, uint64_t lo, uint64_t hi) {
  if (hi - lo == 1) return leaves[lo];
  const uint64_t k = LargestPowerOfTwoBelow(hi - lo);
  return NodeHash(ReferenceHash(leaves, lo, lo + k), ReferenceHash(leaves, lo + k, hi));
}
inline Hash ReferenceRoot(const std::vector<Hash>& leaves, uint64_t size) {
  return size == 0 ? EmptyRootHash() : ReferenceHash(leaves, 0, size);
}

// A HashReader over leaf hashes in memory, computing every stored hash from the leaves.
class LeafHashReader : public HashReader {
 public:
  explicit LeafHashReader(const std::vector<Hash>* leaves) : leaves_(leaves) {}
  StatusOr<Hash> StoredHash(int level, uint64_t index) override {
    const uint64_t lo = index << level;
    const uint64_t hi = (index + 1) << level;
    if (hi > leaves_->size()) return OutOfRangeError("beyond the leaves");
    return ReferenceHash(*leaves_, lo, hi);
  }

 private:
  const std::vector<Hash>* leaves_;
};

inline std::vector<Hash> MakeLeaves(size_t n) {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash(AsBytes("leaf " + std::to_string(i))));
  return out;
}

}  // namespace comity::tlog::testing

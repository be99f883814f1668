#include "tlog/hash.h"

#include <algorithm>
#include <array>

#include "crypto/encoding.h"

namespace comity::tlog {

Hash TreeHasher::Leaf(ByteSpan entry) {
  static constexpr uint8_t kLeafPrefix = 0x00;
  sha_.Update(ByteSpan(&kLeafPrefix, 1));
  sha_.Update(entry);
  return sha_.Finish();
}

Hash TreeHasher::Node(const Hash& left, const Hash& right) {
  // One contiguous buffer: a single EVP update is measurably faster than three.
  std::array<uint8_t, 1 + 2 * kHashSize> buf;
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + kHashSize);
  sha_.Update(buf);
  return sha_.Finish();
}

namespace {
TreeHasher& ThreadHasher() {
  thread_local TreeHasher hasher;
  return hasher;
}
}  // namespace

Hash LeafHash(ByteSpan entry) { return ThreadHasher().Leaf(entry); }
Hash NodeHash(const Hash& left, const Hash& right) { return ThreadHasher().Node(left, right); }

const Hash& EmptyRootHash() {
  static const Hash empty = crypto::Sha256(ByteSpan());
  return empty;
}

std::string HashToBase64(const Hash& h) { return crypto::Base64Encode(h); }

StatusOr<Hash> HashFromBase64(std::string_view text, std::string_view what) {
  auto raw = crypto::Base64Decode(text);
  if (!raw.ok()) return InvalidArgumentError(std::string(what) + ": " + raw.status().message());
  return HashFromBytes(AsBytes(*raw), what);
}

StatusOr<Hash> HashFromBytes(ByteSpan bytes, std::string_view what) {
  if (bytes.size() != kHashSize) {
    return InvalidArgumentError(std::string(what) + " is " + std::to_string(bytes.size()) +
                                " bytes; a SHA-256 hash is 32");
  }
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

}  // namespace comity::tlog

#include "crypto/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "crypto/aead.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

namespace comity::crypto {
namespace {

constexpr std::string_view kMagic = "comity-secret-key/v1";

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

StatusOr<uint64_t> ParseDecimal(std::string_view s, std::string_view what) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || (s.size() > 1 && s[0] == '0')) {
    return InvalidArgumentError("key file: " + std::string(what) + " is not a decimal number");
  }
  return v;
}

StatusOr<std::array<uint8_t, 32>> Decode32(std::string_view b64, std::string_view what) {
  auto raw = Base64Decode(b64);
  if (!raw.ok() || raw->size() != 32) {
    return InvalidArgumentError("key file: " + std::string(what) + " is not 32 bytes of base64");
  }
  std::array<uint8_t, 32> out;
  std::memcpy(out.data(), raw->data(), 32);
  SecureWipe(raw->data(), raw->size());
  return out;
}

std::string ErrnoText() { return std::strerror(errno); }

// Joins fields with single spaces. (Plain operator+ chains trip a GCC 12 -Wrestrict false
// positive at -O3.)
std::string JoinFields(std::initializer_list<std::string_view> fields) {
  std::string out;
  for (std::string_view f : fields) {
    if (!out.empty()) out += ' ';
    out.append(f);
  }
  return out;
}

}  // namespace

std::string_view SecretKeyTypeName(SecretKeyType type) {
  return type == SecretKeyType::kEd25519 ? "ed25519" : "x25519";
}

SecretKeyMaterial::~SecretKeyMaterial() { SecureWipe(key.data(), key.size()); }

std::string EncodeSecretKey(SecretKeyType type, const std::array<uint8_t, 32>& key) {
  return JoinFields({kMagic, SecretKeyTypeName(type), "plain", Base64Encode(key)}) + "\n";
}

StatusOr<std::string> EncodeSecretKeyWithPassphrase(SecretKeyType type,
                                                    const std::array<uint8_t, 32>& key,
                                                    std::string_view passphrase,
                                                    const Argon2idParams& params) {
  if (passphrase.empty()) return InvalidArgumentError("key file: the passphrase is empty");
  const auto salt = RandomArray<kArgon2idSaltSize>();
  const auto nonce = RandomArray<kAeadNonceSize>();
  ASSIGN_OR_RETURN(AeadKey wrap, DeriveKeyArgon2id(passphrase, salt, params));
  const std::string header =
      JoinFields({kMagic, SecretKeyTypeName(type), "argon2id", std::to_string(params.opslimit),
                  std::to_string(params.memlimit), Base64Encode(salt), Base64Encode(nonce)});
  std::string ct = AeadSeal(wrap, nonce, key, AsBytes(header));
  SecureWipe(wrap.data(), wrap.size());
  return JoinFields({header, Base64Encode(AsBytes(ct))}) + "\n";
}

bool SecretKeyIsProtected(std::string_view text) {
  auto f = SplitSpaces(text.substr(0, text.find('\n')));
  return f.size() >= 3 && f[2] == "argon2id";
}

StatusOr<SecretKeyMaterial> DecodeSecretKey(std::string_view text,
                                            std::optional<std::string_view> passphrase) {
  if (text.size() > kMaxKeyFileBytes) return InvalidArgumentError("key file: too large");
  if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1) {
    return InvalidArgumentError("key file: expected exactly one line ending in a newline");
  }
  std::string_view line = text.substr(0, text.size() - 1);
  auto f = SplitSpaces(line);
  if (f.size() < 4 || f[0] != kMagic) {
    return InvalidArgumentError("key file: does not start with \"comity-secret-key/v1\"");
  }
  SecretKeyMaterial out;
  if (f[1] == "ed25519") {
    out.type = SecretKeyType::kEd25519;
  } else if (f[1] == "x25519") {
    out.type = SecretKeyType::kX25519;
  } else {
    return InvalidArgumentError("key file: unknown key type \"" + std::string(f[1]) + "\"");
  }
  if (f[2] == "plain") {
    if (f.size() != 4) return InvalidArgumentError("key file: extra fields after the key");
    ASSIGN_OR_RETURN(out.key, Decode32(f[3], "the key"));
    return out;
  }
  if (f[2] != "argon2id") {
    return InvalidArgumentError("key file: unknown protection \"" + std::string(f[2]) + "\"");
  }
  if (f.size() != 8) return InvalidArgumentError("key file: argon2id needs 8 fields");
  if (!passphrase.has_value()) {
    return FailedPreconditionError("key file is protected by a passphrase; none was given");
  }
  Argon2idParams params;
  ASSIGN_OR_RETURN(params.opslimit, ParseDecimal(f[3], "opslimit"));
  ASSIGN_OR_RETURN(params.memlimit, ParseDecimal(f[4], "memlimit"));
  auto salt = Base64Decode(f[5]);
  auto nonce = Base64Decode(f[6]);
  auto ct = Base64Decode(f[7]);
  if (!salt.ok() || salt->size() != kArgon2idSaltSize) {
    return InvalidArgumentError("key file: salt is not 16 bytes of base64");
  }
  if (!nonce.ok() || nonce->size() != kAeadNonceSize) {
    return InvalidArgumentError("key file: nonce is not 24 bytes of base64");
  }
  if (!ct.ok() || ct->size() != 32 + kAeadTagSize) {
    return InvalidArgumentError("key file: ciphertext is not 48 bytes of base64");
  }
  ASSIGN_OR_RETURN(AeadKey wrap, DeriveKeyArgon2id(*passphrase, AsBytes(*salt), params));
  AeadNonce n;
  std::memcpy(n.data(), nonce->data(), n.size());
  const std::string_view header = line.substr(0, line.rfind(' '));
  auto pt = AeadOpen(wrap, n, AsBytes(*ct), AsBytes(header));
  SecureWipe(wrap.data(), wrap.size());
  if (!pt.ok()) {
    return PermissionDeniedError("key file: wrong passphrase, or the file was modified");
  }
  std::memcpy(out.key.data(), pt->data(), 32);
  SecureWipe(pt->data(), pt->size());
  return out;
}

Status WriteSecretKeyFile(const std::string& path, std::string_view encoded) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError("key file " + path + " already exists");
    return UnavailableError("cannot create key file " + path + ": " + ErrnoText());
  }
  // The umask cannot widen 0600, but make the mode explicit in case the file system ignores it.
  Status st;
  if (::fchmod(fd, 0600) != 0) st = InternalError("chmod " + path + ": " + ErrnoText());
  size_t off = 0;
  while (st.ok() && off < encoded.size()) {
    ssize_t n = ::write(fd, encoded.data() + off, encoded.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = UnavailableError("write " + path + ": " + ErrnoText());
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = UnavailableError("fsync " + path + ": " + ErrnoText());
  ::close(fd);
  if (!st.ok()) {
    ::unlink(path.c_str());
    return st;
  }
  // Make the new directory entry durable too.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return OkStatus();
}

StatusOr<std::string> ReadSecretKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("key file " + path + " does not exist");
    return UnavailableError("cannot open key file " + path + ": " + ErrnoText());
  }
  struct stat sb;
  if (::fstat(fd, &sb) != 0) {
    ::close(fd);
    return UnavailableError("stat " + path + ": " + ErrnoText());
  }
  if ((sb.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(sb.st_mode & 07777));
    return PermissionDeniedError("key file " + path + " is accessible by group or others (mode " +
                                 mode + "); run chmod 600 " + path);
  }
  if (sb.st_size > static_cast<off_t>(kMaxKeyFileBytes)) {
    ::close(fd);
    return InvalidArgumentError("key file " + path + " is larger than 4096 bytes");
  }
  std::string out(static_cast<size_t>(sb.st_size), '\0');
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(off);
  return out;
}

}  // namespace comity::crypto

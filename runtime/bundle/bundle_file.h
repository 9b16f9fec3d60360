// The bundle container: one file holding a JSON manifest, LLVM bitcode and
// (optionally) object code for one target, a SHA-256 digest over all of it,
// and optionally an ed25519 signature over the digest. docs/bundle-format.md
// describes the bytes. Reading verifies before anything is interpreted; a
// bundle that fails verification is refused whole and its code never reaches
// the JIT.
#ifndef DUET_RUNTIME_BUNDLE_BUNDLE_FILE_H_
#define DUET_RUNTIME_BUNDLE_BUNDLE_FILE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace duet::bundle {

inline constexpr uint32_t kFormatVersion = 1;

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;
using Digest = std::array<uint8_t, 32>;

struct Contents {
  std::string manifest;  // JSON text
  std::string bitcode;
  std::string object;         // may be empty
  std::string object_triple;  // target triple of `object`
};

// The unsigned bundle bytes. Equal contents give equal bytes.
std::string Serialize(const Contents& contents);

// `bundle` (as Serialize made it) with a signature block appended.
Expected<std::string> Sign(std::string_view bundle, const SecretKey& key);

struct ReadOptions {
  // When set, only bundles signed with this key are accepted.
  std::optional<PublicKey> trusted_key;
};

struct Verified {
  Contents contents;
  Digest digest;
  std::optional<PublicKey> signed_by;
};

// Checks magic, format version, digest and (if present or required) the
// signature, then splits the sections. Every failure names what is wrong.
Expected<Verified> Parse(std::string_view bytes, const ReadOptions& options);
Expected<Verified> ReadFile(const std::string& path, const ReadOptions& options);

// Key handling (libsodium ed25519).
struct KeyPair {
  PublicKey public_key;
  SecretKey secret_key;
};
KeyPair GenerateKeyPair();
// Text forms, one line each: "duet-ed25519-public <hex>" and
// "duet-ed25519-secret <hex>".
std::string FormatPublicKey(const PublicKey& key);
std::string FormatSecretKey(const SecretKey& key);
Expected<PublicKey> ParsePublicKey(std::string_view text);
Expected<SecretKey> ParseSecretKey(std::string_view text);

std::string Hex(std::string_view bytes);
Digest Sha256(std::string_view bytes);

}  // namespace duet::bundle

#endif  // DUET_RUNTIME_BUNDLE_BUNDLE_FILE_H_

#include "runtime/bundle/bundle_file.h"

#include <sodium.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace duet::bundle {
namespace {

constexpr std::string_view kMagic = "DUETBNDL";
constexpr std::string_view kSignatureMagic = "DUETSIG1";
constexpr size_t kHeaderSize = 32;
constexpr size_t kSectionEntrySize = 24;
constexpr size_t kDigestSize = 32;
constexpr size_t kSignatureBlockSize = 8 + 32 + 64;
constexpr uint32_t kMaxSections = 16;

enum SectionKind : uint32_t {
  kManifest = 1,
  kBitcode = 2,
  kObject = 3,
  kObjectTriple = 4,
};

void InitSodium() {
  // sodium_init is idempotent and thread-safe; a failure means no usable
  // random source, which the key generator would hit first.
  static const int kResult = sodium_init();
  (void)kResult;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  return v;
}
uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  return v;
}

Status Refuse(std::string why) { return DataLossError("refusing bundle: " + why); }

template <size_t N>
Expected<std::array<uint8_t, N>> ParseHexKey(std::string_view text, std::string_view label) {
  std::string_view s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.remove_suffix(1);
  if (!s.starts_with(label) || s.size() != label.size() + 1 + 2 * N || s[label.size()] != ' ') {
    return InvalidArgumentError("not a key file: expected one line '" + std::string(label) +
                                " <hex>'");
  }
  std::array<uint8_t, N> key{};
  size_t bin_length = 0;
  std::string_view hex = s.substr(label.size() + 1);
  if (sodium_hex2bin(key.data(), N, hex.data(), hex.size(), nullptr, &bin_length, nullptr) != 0 ||
      bin_length != N) {
    return InvalidArgumentError("key file holds malformed hex");
  }
  return key;
}

}  // namespace

std::string Hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

Digest Sha256(std::string_view bytes) {
  InitSodium();
  Digest d{};
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return d;
}

std::string Serialize(const Contents& contents) {
  std::vector<std::pair<uint32_t, const std::string*>> sections = {{kManifest, &contents.manifest},
                                                                   {kBitcode, &contents.bitcode}};
  if (!contents.object.empty()) {
    sections.emplace_back(kObject, &contents.object);
    sections.emplace_back(kObjectTriple, &contents.object_triple);
  }
  size_t offset = kHeaderSize + kSectionEntrySize * sections.size();
  size_t content_length = offset;
  for (const auto& [kind, data] : sections) content_length += data->size();
  std::string out;
  out.reserve(content_length + kDigestSize);
  out += kMagic;
  PutU32(out, kFormatVersion);
  PutU32(out, static_cast<uint32_t>(sections.size()));
  PutU64(out, content_length);
  PutU64(out, 0);
  for (const auto& [kind, data] : sections) {
    PutU32(out, kind);
    PutU32(out, 0);
    PutU64(out, offset);
    PutU64(out, data->size());
    offset += data->size();
  }
  for (const auto& [kind, data] : sections) out += *data;
  Digest d = Sha256(out);
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

Expected<std::string> Sign(std::string_view bundle, const SecretKey& key) {
  InitSodium();
  if (bundle.size() < kHeaderSize + kDigestSize) return InvalidArgumentError("not a bundle");
  uint64_t content_length = GetU64(bundle, 16);
  if (content_length + kDigestSize != bundle.size()) {
    return InvalidArgumentError("bundle is already signed or malformed");
  }
  std::string_view digest = bundle.substr(content_length, kDigestSize);
  std::array<uint8_t, 64> signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(digest.data()), digest.size(),
                       key.data());
  std::string out(bundle);
  out += kSignatureMagic;
  // The public half is the second 32 bytes of a libsodium ed25519 secret key.
  out.append(reinterpret_cast<const char*>(key.data() + 32), 32);
  out.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  return out;
}

Expected<Verified> Parse(std::string_view bytes, const ReadOptions& options) {
  InitSodium();
  if (bytes.size() < kHeaderSize + kDigestSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return Refuse("not a duet bundle (bad magic)");
  }
  uint32_t version = GetU32(bytes, 8);
  if (version != kFormatVersion) {
    return Refuse("format version " + std::to_string(version) +
                  " is not supported (this duet reads version " + std::to_string(kFormatVersion) +
                  ")");
  }
  uint32_t count = GetU32(bytes, 12);
  uint64_t content_length = GetU64(bytes, 16);
  if (GetU64(bytes, 24) != 0 || count > kMaxSections ||
      content_length > bytes.size() - kDigestSize ||
      content_length < kHeaderSize + kSectionEntrySize * count) {
    return Refuse("the header is corrupt");
  }
  Digest actual = Sha256(bytes.substr(0, content_length));
  if (std::memcmp(actual.data(), bytes.data() + content_length, kDigestSize) != 0) {
    return Refuse(
        "its SHA-256 digest does not match its contents (the file is damaged or was altered)");
  }
  Verified out;
  out.digest = actual;
  std::string_view rest = bytes.substr(content_length + kDigestSize);
  if (!rest.empty()) {
    if (rest.size() != kSignatureBlockSize ||
        rest.substr(0, kSignatureMagic.size()) != kSignatureMagic) {
      return Refuse("unexpected bytes after the digest");
    }
    PublicKey key{};
    std::memcpy(key.data(), rest.data() + 8, key.size());
    const auto* signature = reinterpret_cast<const unsigned char*>(rest.data() + 40);
    if (crypto_sign_verify_detached(signature, actual.data(), actual.size(), key.data()) != 0) {
      return Refuse("its signature does not verify");
    }
    out.signed_by = key;
  }
  if (options.trusted_key) {
    if (!out.signed_by) return Refuse("it is not signed, and only signed bundles are accepted");
    if (*out.signed_by != *options.trusted_key)
      return Refuse("it is signed by a key that is not trusted");
  }
  // Only the canonical layout Serialize writes is accepted: the kinds in the
  // order manifest, bitcode[, object code, object triple], reserved fields
  // zero, each section starting where the one before it ends (the first
  // right after the table, the last ending at content_length). So one
  // bundle has one byte form, and no bytes under the digest go unread.
  size_t table_end = kHeaderSize + kSectionEntrySize * count;
  constexpr uint32_t kCanonicalOrder[] = {kManifest, kBitcode, kObject, kObjectTriple};
  uint64_t expected_offset = table_end;
  for (uint32_t i = 0; i < count; ++i) {
    size_t entry = kHeaderSize + kSectionEntrySize * i;
    uint32_t kind = GetU32(bytes, entry);
    uint64_t offset = GetU64(bytes, entry + 8);
    uint64_t size = GetU64(bytes, entry + 16);
    if (kind < kManifest || kind > kObjectTriple) {
      return Refuse("unknown section kind " + std::to_string(kind));
    }
    if (offset < table_end || offset > content_length || size > content_length - offset) {
      return Refuse("a section lies outside the bundle");
    }
    if (i >= std::size(kCanonicalOrder) || kind != kCanonicalOrder[i]) {
      return Refuse("the sections are not in the order manifest, bitcode, object code, triple");
    }
    if (GetU32(bytes, entry + 4) != 0) return Refuse("a section entry's reserved field is not 0");
    if (offset != expected_offset) {
      return Refuse("the sections do not follow each other without gaps or overlaps");
    }
    expected_offset = offset + size;
    std::string section(bytes.substr(offset, size));
    switch (kind) {
      case kManifest:
        out.contents.manifest = std::move(section);
        break;
      case kBitcode:
        out.contents.bitcode = std::move(section);
        break;
      case kObject:
        out.contents.object = std::move(section);
        break;
      case kObjectTriple:
        out.contents.object_triple = std::move(section);
        break;
    }
  }
  if (count != 2 && count != 4) {
    return Refuse("the manifest or the code is missing, or object code comes without its triple");
  }
  if (out.contents.manifest.empty() || out.contents.bitcode.empty()) {
    return Refuse("the manifest or the code is missing");
  }
  if (count == 4 && out.contents.object.empty()) {
    return Refuse("the object code section is empty");
  }
  if (expected_offset != content_length) {
    return Refuse("bytes before the digest belong to no section");
  }
  return out;
}

Expected<Verified> ReadFile(const std::string& path, const ReadOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFoundError("cannot open bundle '" + path + "'");
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (!file && !file.eof()) return IoError("cannot read bundle '" + path + "'");
  Expected<Verified> v = Parse(bytes.str(), options);
  if (!v.ok()) return Status(v.status().code(), path + ": " + v.status().message());
  return v;
}

KeyPair GenerateKeyPair() {
  InitSodium();
  KeyPair pair{};
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

std::string FormatPublicKey(const PublicKey& key) {
  return "duet-ed25519-public " +
         Hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size())) + "\n";
}

std::string FormatSecretKey(const SecretKey& key) {
  return "duet-ed25519-secret " +
         Hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size())) + "\n";
}

Expected<PublicKey> ParsePublicKey(std::string_view text) {
  return ParseHexKey<32>(text, "duet-ed25519-public");
}

Expected<SecretKey> ParseSecretKey(std::string_view text) {
  return ParseHexKey<64>(text, "duet-ed25519-secret");
}

}  // namespace duet::bundle

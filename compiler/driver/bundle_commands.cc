#include "compiler/driver/bundle_commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <filesystem>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/bundler/bundler.h"
#include "runtime/base/files.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/manifest.h"

namespace duet::driver {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitIo = 2;

Expected<std::string> ReadText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFoundError("cannot open '" + path + "'");
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

std::string DigestHex(const bundle::Digest& d) {
  return bundle::Hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string KeyHex(const bundle::PublicKey& k) {
  return bundle::Hex(std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
}

int Fail(const Status& status) {
  std::cerr << "duetc: " << status.message() << "\n";
  return kExitIo;
}

}  // namespace

int WriteBundle(const frontend::Result& result, const CompileFlags& flags) {
  bundler::Options options;
  options.codegen.opt_level = flags.opt_level;
  options.include_object = !flags.no_object;
  options.maps = flags.maps;
  Expected<bundle::Contents> contents = bundler::Build(result, options);
  if (!contents.ok()) return Fail(contents.status());
  std::string bytes = bundle::Serialize(*contents);
  std::string signed_note;
  if (!flags.sign_key.empty()) {
    Expected<std::string> key_text = ReadText(flags.sign_key);
    if (!key_text.ok()) return Fail(key_text.status());
    Expected<bundle::SecretKey> key = bundle::ParseSecretKey(*key_text);
    if (!key.ok())
      return Fail(Status(key.status().code(), flags.sign_key + ": " + key.status().message()));
    Expected<std::string> signed_bytes = bundle::Sign(bytes, *key);
    if (!signed_bytes.ok()) return Fail(signed_bytes.status());
    bytes = std::move(*signed_bytes);
    signed_note = ", signed";
  }
  if (Status s = WriteFileAtomically(flags.output, bytes, kSharedFileMode); !s.ok()) return Fail(s);
  Expected<bundle::Manifest> manifest = bundle::ParseManifest(contents->manifest);
  size_t transforms = 0;
  for (const bundle::Map& m : manifest->maps) transforms += m.transforms.size();
  bundle::Digest digest = bundle::Sha256(
      std::string_view(bytes).substr(0, bytes.size() - (signed_note.empty() ? 32 : 32 + 104)));
  auto count = [](size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
  };
  std::cerr << fmt::format("wrote {}: {}, {}, {} bytes{}; sha256 {}\n", flags.output,
                           count(manifest->maps.size(), "map"), count(transforms, "transform"),
                           bytes.size(), signed_note, DigestHex(digest));
  // --maps may bring maps along (the ones looked up): name what is in.
  if (!flags.maps.empty()) {
    std::cerr << fmt::format("maps, in initial-sync order: {}; tables: {}\n",
                             fmt::join(manifest->initial_sync_order, ", "),
                             manifest->tables.size());
  }
  return kExitClean;
}

int InspectBundle(const std::string& path, bool json, const std::string& trusted_key_file) {
  bundle::ReadOptions options;
  if (!trusted_key_file.empty()) {
    Expected<std::string> text = ReadText(trusted_key_file);
    if (!text.ok()) return Fail(text.status());
    Expected<bundle::PublicKey> key = bundle::ParsePublicKey(*text);
    if (!key.ok())
      return Fail(Status(key.status().code(), trusted_key_file + ": " + key.status().message()));
    options.trusted_key = *key;
  }
  Expected<bundle::Verified> verified = bundle::ReadFile(path, options);
  if (!verified.ok()) return Fail(verified.status());
  Expected<bundle::Manifest> manifest = bundle::ParseManifest(verified->contents.manifest);
  if (!manifest.ok()) return Fail(manifest.status());
  if (json) {
    nlohmann::json doc = nlohmann::json::parse(verified->contents.manifest);
    doc["bundle"] = {{"sha256", DigestHex(verified->digest)},
                     {"signed_by", verified->signed_by ? KeyHex(*verified->signed_by) : ""},
                     {"bitcode_bytes", verified->contents.bitcode.size()},
                     {"object_bytes", verified->contents.object.size()},
                     {"object_triple", verified->contents.object_triple}};
    std::cout << doc.dump(2) << "\n";
    return kExitClean;
  }
  const bundle::Manifest& m = *manifest;
  std::cout << fmt::format("bundle      {}\n", path);
  std::cout << fmt::format("sha256      {}\n", DigestHex(verified->digest));
  std::cout << fmt::format("signed by   {}\n",
                           verified->signed_by ? KeyHex(*verified->signed_by) : "(not signed)");
  std::cout << fmt::format("compiler    {} (format {}, abi {})\n", m.compiler, m.format,
                           m.abi_version);
  std::cout << fmt::format(
      "code        {} bytes bitcode, {} bytes object code{}\n", verified->contents.bitcode.size(),
      verified->contents.object.size(),
      verified->contents.object.empty() ? "" : " for " + verified->contents.object_triple);
  std::cout << "sources\n";
  for (const bundle::Source& s : m.sources)
    std::cout << fmt::format("  {}  {}\n", s.sha256.substr(0, 16), s.path);
  std::cout << "maps (initial sync order: ";
  for (size_t i = 0; i < m.initial_sync_order.size(); ++i)
    std::cout << (i ? ", " : "") << m.initial_sync_order[i];
  std::cout << ")\n";
  for (const bundle::Map& map : m.maps) {
    std::cout << fmt::format("  {} {}  {} {} {}\n", map.name, map.version, map.left_table,
                             map.direction, map.right_table);
    std::cout << fmt::format("    master {}, initial from {}, {} fields{}\n",
                             map.master.empty() ? "-" : map.master, map.initial, map.fields.size(),
                             map.depends_on.empty()
                                 ? ""
                                 : ", after " + fmt::format("{}", fmt::join(map.depends_on, ", ")));
    for (const bundle::Transform& t : map.transforms) {
      std::cout << fmt::format("    {} -> {}: {} inputs, {} outputs ({})\n", t.from, t.to,
                               t.inputs.size(), t.outputs.size(), t.symbol);
    }
  }
  return kExitClean;
}

int GenerateKeys(const std::string& name) {
  bundle::KeyPair pair = bundle::GenerateKeyPair();
  // The secret is private from its first byte (see WriteFileAtomically).
  if (Status s = WriteFileAtomically(name + ".key", bundle::FormatSecretKey(pair.secret_key),
                                     kPrivateFileMode);
      !s.ok()) {
    return Fail(s);
  }
  if (Status s = WriteFileAtomically(name + ".pub", bundle::FormatPublicKey(pair.public_key),
                                     kSharedFileMode);
      !s.ok()) {
    return Fail(s);
  }
  std::cerr << fmt::format("wrote {0}.key (secret: keep it out of version control) and {0}.pub\n",
                           name);
  return kExitClean;
}

}  // namespace duet::driver

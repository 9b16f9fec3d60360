// libFuzzer entry point: bundle files (bundle::Parse, what `duet` and
// `duetc inspect` run on a file before anything else). The first input byte
// chooses the input's form: raw bytes as a file, or the fields of a bundle
// that is serialized (and maybe signed) and then damaged at a few places, so
// that inputs get past the digest check into the section table. No input may
// throw, crash or trip a sanitizer; an accepted bundle's manifest goes on to
// ParseManifest; an undamaged unsigned bundle reads back to its contents.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/manifest.h"

namespace {

namespace bundle = duet::bundle;

void Require(bool holds, const char* contract) {
  if (holds) return;
  std::fprintf(stderr, "bundle_file_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

// One key pair for the whole run: which key signed is not what is fuzzed.
const bundle::KeyPair& Keys() {
  static const bundle::KeyPair keys = bundle::GenerateKeyPair();
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  bundle::ReadOptions options;
  if (in.ConsumeBool()) options.trusted_key = Keys().public_key;
  std::string bytes;
  bundle::Contents made;
  bool damaged = false;
  if (in.ConsumeBool()) {
    made.manifest = in.ConsumeRandomLengthString(4096);
    made.bitcode = in.ConsumeRandomLengthString(4096);
    if (in.ConsumeBool()) {
      made.object = in.ConsumeRandomLengthString(4096);
      made.object_triple = in.ConsumeRandomLengthString(64);
      // Serialize writes a triple only with object code.
      if (made.object.empty()) made.object_triple.clear();
    }
    bytes = bundle::Serialize(made);
    if (in.ConsumeBool()) {
      duet::Expected<std::string> signed_bytes = bundle::Sign(bytes, Keys().secret_key);
      Require(signed_bytes.ok(), "a serialized bundle can be signed");
      bytes = *signed_bytes;
    }
    for (int n = in.ConsumeIntegralInRange(0, 3); n > 0 && !bytes.empty(); --n) {
      size_t at = in.ConsumeIntegralInRange<size_t>(0, bytes.size() - 1);
      bytes[at] = static_cast<char>(in.ConsumeIntegral<uint8_t>());
      damaged = true;
    }
    if (in.ConsumeBool()) {
      bytes.resize(in.ConsumeIntegralInRange<size_t>(0, bytes.size()));
      damaged = true;
    }
  } else {
    bytes = in.ConsumeRemainingBytesAsString();
    damaged = true;
  }
  duet::Expected<bundle::Verified> verified = bundle::Parse(bytes, options);
  if (!verified.ok()) {
    Require(verified.status().message().find("refusing bundle") != std::string::npos,
            "a refusal starts with 'refusing bundle'");
    return 0;
  }
  if (!damaged && !options.trusted_key && !verified->signed_by) {
    Require(verified->contents.manifest == made.manifest &&
                verified->contents.bitcode == made.bitcode &&
                verified->contents.object == made.object &&
                verified->contents.object_triple == made.object_triple,
            "an undamaged bundle reads back to its contents");
  }
  duet::Expected<bundle::Manifest> manifest = bundle::ParseManifest(verified->contents.manifest);
  (void)manifest;
  return 0;
}

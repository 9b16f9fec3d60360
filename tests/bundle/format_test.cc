// The bundle container: equal maps give equal bytes, and a bundle that is
// not exactly what a writer produced is refused whole, before any of it is
// interpreted. bundle::Parse is driven in-process for every single-bit
// change of the structural bytes (header, section table, digest, signature
// block) and for a few hundred seeded random positions inside each section;
// a sample of the same files goes through `duetc inspect` and `duet
// transform`, which must exit 2 and never run the bundle's code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bundle/bundle_file.h"
#include "tests/bundle/test_env.h"

namespace duet::bundle_test {
namespace {

constexpr std::string_view kMinimal = "examples/minimal";
constexpr std::string_view kStdlib = "stdlib-maps";

// Random positions flipped per section (all of a section's bytes when it is
// smaller).
constexpr size_t kRandomFlipsPerSection = 300;

// One row that examples/minimal writes: if a refused bundle's code ran, it
// would print it.
constexpr std::string_view kGoodRow =
    R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization"})"
    "\n";

// The first offset where `a` and `b` differ, with the section it lies in,
// so a determinism failure says where to look.
std::string FirstDifference(std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() && i == b.size()) return "identical";
  Layout layout = Layout::Of(a);
  std::string where = "outside every section";
  if (i < Layout::kHeaderSize) {
    where = "the header";
  } else if (i < Layout::kHeaderSize + Layout::kSectionEntrySize * layout.count) {
    where = "the section table";
  } else if (i >= layout.content_length) {
    where = "the digest or signature";
  }
  for (const Layout::Section& s : layout.sections) {
    if (i >= s.offset && i < s.offset + s.size) where = "section of kind " + std::to_string(s.kind);
  }
  return "sizes " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
         ", first difference at byte " + std::to_string(i) + " (" + where + ")";
}

// The minimal example compiled once per process, unsigned and signed.
struct Fixture {
  bundle::Contents contents;
  std::string unsigned_bytes;
  std::string signed_bytes;
  bundle::KeyPair keys;
};

const Fixture& Minimal() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    f->contents = BuildContents({std::string(kMinimal)});
    f->unsigned_bytes = bundle::Serialize(f->contents);
    f->keys = bundle::GenerateKeyPair();
    Expected<std::string> signed_bytes = bundle::Sign(f->unsigned_bytes, f->keys.secret_key);
    if (signed_bytes.ok()) f->signed_bytes = *signed_bytes;
    return f;
  }();
  return *fixture;
}

uint32_t TamperSeed() {
  static const uint32_t seed = [] {
    if (const char* env = std::getenv("DUET_TAMPER_SEED"))
      return static_cast<uint32_t>(std::strtoul(env, nullptr, 10));
    return std::random_device{}();
  }();
  return seed;
}

std::string SeedNote() {
  return "seed " + std::to_string(TamperSeed()) +
         " (rerun with DUET_TAMPER_SEED=" + std::to_string(TamperSeed()) + ")";
}

// ---- determinism ----

TEST(Determinism, StdlibMapsBuildToIdenticalBytesInProcess) {
  bundle::Contents a = BuildContents({std::string(kStdlib)});
  bundle::Contents b = BuildContents({std::string(kStdlib)});
  ASSERT_FALSE(a.manifest.empty());
  EXPECT_EQ(a.manifest, b.manifest) << "the manifest differs between two builds";
  EXPECT_TRUE(a.bitcode == b.bitcode) << "the bitcode differs between two builds";
  EXPECT_TRUE(a.object == b.object) << "the object code differs between two builds";
  EXPECT_EQ(a.object_triple, b.object_triple);
  std::string bytes_a = bundle::Serialize(a);
  std::string bytes_b = bundle::Serialize(b);
  EXPECT_TRUE(bytes_a == bytes_b) << FirstDifference(bytes_a, bytes_b);
}

TEST(Determinism, MinimalBuildsToIdenticalBytesInProcessWithEveryOption) {
  for (bool include_object : {true, false}) {
    std::string a = bundle::Serialize(BuildContents({std::string(kMinimal)}, include_object));
    std::string b = bundle::Serialize(BuildContents({std::string(kMinimal)}, include_object));
    EXPECT_TRUE(a == b) << "include_object " << include_object << ": " << FirstDifference(a, b);
  }
}

TEST(Determinism, SigningTwiceWithOneKeyGivesIdenticalBytes) {
  const Fixture& f = Minimal();
  Expected<std::string> again = bundle::Sign(f.unsigned_bytes, f.keys.secret_key);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(*again == f.signed_bytes) << FirstDifference(*again, f.signed_bytes);
}

class DeterminismProcess : public ProcessTest {};

TEST_F(DeterminismProcess, DuetcCompilesStdlibMapsToIdenticalBytesAndSameAsInProcess) {
  fs::path a = CompileWithDuetc({std::string(kStdlib)}, "a.duetb");
  fs::path b = CompileWithDuetc({std::string(kStdlib)}, "b.duetb");
  std::string bytes_a = ReadAll(a);
  std::string bytes_b = ReadAll(b);
  ASSERT_GT(bytes_a.size(), Layout::kHeaderSize);
  EXPECT_TRUE(bytes_a == bytes_b) << FirstDifference(bytes_a, bytes_b);
  // The same compiler in-process, from the same directory with the same
  // paths: the same bytes.
  std::string in_process = bundle::Serialize(BuildContents({std::string(kStdlib)}));
  EXPECT_TRUE(bytes_a == in_process) << FirstDifference(bytes_a, in_process);
}

TEST_F(DeterminismProcess, DuetcCompilesMinimalToIdenticalBytesWithEachFlagSet) {
  const std::vector<std::vector<std::string>> flag_sets = {
      {}, {"--no-object"}, {"-O", "0"}, {"-O", "3"}};
  for (const std::vector<std::string>& flags : flag_sets) {
    fs::path a = CompileWithDuetc({std::string(kMinimal)}, "a.duetb", flags);
    fs::path b = CompileWithDuetc({std::string(kMinimal)}, "b.duetb", flags);
    std::string bytes_a = ReadAll(a);
    std::string bytes_b = ReadAll(b);
    std::string label = flags.empty() ? "(defaults)" : flags[0];
    EXPECT_TRUE(bytes_a == bytes_b) << label << ": " << FirstDifference(bytes_a, bytes_b);
    EXPECT_TRUE(bundle::Parse(bytes_a, {}).ok()) << label;
  }
  std::string in_process = bundle::Serialize(BuildContents({std::string(kMinimal)}));
  std::string from_duetc = ReadAll(CompileWithDuetc({std::string(kMinimal)}, "c.duetb"));
  EXPECT_TRUE(in_process == from_duetc) << FirstDifference(in_process, from_duetc);
}

TEST_F(DeterminismProcess, SigningInDuetcIsDeterministicToo) {
  TextKeys keys = NewTextKeys();
  fs::path key = Write("k.key", keys.secret_text);
  std::string a =
      ReadAll(CompileWithDuetc({std::string(kMinimal)}, "a.duetb", {"--sign", key.string()}));
  std::string b =
      ReadAll(CompileWithDuetc({std::string(kMinimal)}, "b.duetb", {"--sign", key.string()}));
  EXPECT_TRUE(a == b) << FirstDifference(a, b);
  EXPECT_EQ(a.size(), bundle::Serialize(BuildContents({std::string(kMinimal)})).size() +
                          Layout::kSignatureBlockSize);
}

// ---- the fixture's layout is what the tamper tests assume ----

TEST(Layout, MinimalHasTheDocumentedLayout) {
  const Fixture& f = Minimal();
  ASSERT_FALSE(f.signed_bytes.empty());
  Layout u = Layout::Of(f.unsigned_bytes);
  EXPECT_EQ(f.unsigned_bytes.substr(0, 8), "DUETBNDL");
  EXPECT_EQ(u.version, bundle::kFormatVersion);
  ASSERT_EQ(u.count, 4u) << "manifest, bitcode, object code, triple";
  EXPECT_EQ(u.content_length + Layout::kDigestSize, f.unsigned_bytes.size());
  EXPECT_FALSE(u.is_signed);
  uint64_t expected_offset = Layout::kHeaderSize + Layout::kSectionEntrySize * u.count;
  for (uint32_t i = 0; i < u.count; ++i) {
    EXPECT_EQ(u.sections[i].kind, i + 1);
    EXPECT_EQ(u.sections[i].offset, expected_offset) << "sections follow the table back to back";
    expected_offset += u.sections[i].size;
  }
  EXPECT_EQ(expected_offset, u.content_length);
  EXPECT_TRUE(Layout::Of(f.signed_bytes).is_signed);
  EXPECT_EQ(f.signed_bytes.substr(0, f.unsigned_bytes.size()), f.unsigned_bytes);
  EXPECT_EQ(f.signed_bytes.substr(f.unsigned_bytes.size(), 8), "DUETSIG1");

  Expected<bundle::Verified> v = bundle::Parse(f.signed_bytes, {.trusted_key = f.keys.public_key});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->contents.manifest, f.contents.manifest);
  EXPECT_TRUE(v->contents.bitcode == f.contents.bitcode);
  EXPECT_TRUE(v->contents.object == f.contents.object);
  EXPECT_EQ(v->contents.object_triple, f.contents.object_triple);
  ASSERT_TRUE(v->signed_by.has_value());
  EXPECT_EQ(*v->signed_by, f.keys.public_key);
}

// ---- single-bit changes ----

struct Flip {
  size_t byte;
  int bit;
};

// Flips `flip` in a copy of `bytes` and returns Parse's error, or nullopt
// when the tampered bundle was accepted.
std::optional<std::string> ParseFlipped(const std::string& bytes, Flip flip,
                                        const bundle::ReadOptions& options) {
  std::string tampered = bytes;
  tampered[flip.byte] = static_cast<char>(tampered[flip.byte] ^ (1 << flip.bit));
  Expected<bundle::Verified> v = bundle::Parse(tampered, options);
  if (v.ok()) return std::nullopt;
  return v.status().message();
}

// Every bit of [begin, end).
std::vector<Flip> EveryBit(size_t begin, size_t end) {
  std::vector<Flip> flips;
  for (size_t i = begin; i < end; ++i) {
    for (int bit = 0; bit < 8; ++bit) flips.push_back({i, bit});
  }
  return flips;
}

// Up to `n` seeded random bits inside [begin, end): all of them when the
// range has fewer than `n` bytes.
std::vector<Flip> RandomBits(size_t begin, size_t end, size_t n, std::mt19937& random) {
  if (end - begin <= n) {
    std::vector<Flip> flips;
    std::uniform_int_distribution<int> bit(0, 7);
    for (size_t i = begin; i < end; ++i) flips.push_back({i, bit(random)});
    return flips;
  }
  std::uniform_int_distribution<size_t> at(begin, end - 1);
  std::uniform_int_distribution<int> bit(0, 7);
  std::vector<Flip> flips;
  for (size_t k = 0; k < n; ++k) flips.push_back({at(random), bit(random)});
  return flips;
}

// The regions of a bundle and the flips tried in each.
struct Region {
  std::string name;
  std::vector<Flip> flips;
};

std::vector<Region> Regions(const std::string& bytes, std::mt19937& random) {
  Layout layout = Layout::Of(bytes);
  std::vector<Region> regions;
  size_t table_end = Layout::kHeaderSize + Layout::kSectionEntrySize * layout.count;
  regions.push_back({"header", EveryBit(0, Layout::kHeaderSize)});
  regions.push_back({"section table", EveryBit(Layout::kHeaderSize, table_end)});
  for (const Layout::Section& s : layout.sections) {
    regions.push_back({"section of kind " + std::to_string(s.kind),
                       RandomBits(s.offset, s.offset + s.size, kRandomFlipsPerSection, random)});
  }
  regions.push_back(
      {"digest", EveryBit(layout.content_length, layout.content_length + Layout::kDigestSize)});
  if (layout.is_signed) {
    regions.push_back(
        {"signature block", EveryBit(layout.content_length + Layout::kDigestSize, bytes.size())});
  }
  return regions;
}

void ExpectEveryFlipRefused(const std::string& bytes, const bundle::ReadOptions& options,
                            std::string_view label) {
  std::mt19937 random(TamperSeed());
  size_t tried = 0;
  for (const Region& region : Regions(bytes, random)) {
    ASSERT_FALSE(region.flips.empty()) << label << ": " << region.name;
    size_t accepted = 0;
    std::string first_accepted;
    for (const Flip& flip : region.flips) {
      std::optional<std::string> error = ParseFlipped(bytes, flip, options);
      ++tried;
      if (error) {
        EXPECT_TRUE(error->starts_with("refusing bundle: ")) << *error;
        continue;
      }
      if (accepted++ == 0) {
        first_accepted = "byte " + std::to_string(flip.byte) + " bit " + std::to_string(flip.bit);
      }
    }
    EXPECT_EQ(accepted, 0u) << label << ": " << accepted << " of " << region.flips.size()
                            << " single-bit changes in " << region.name
                            << " were accepted, the first at " << first_accepted << "; "
                            << SeedNote();
  }
  std::cout << "[ TAMPER   ] " << label << ": " << tried << " single-bit changes refused; "
            << SeedNote() << "\n";
}

TEST(Tamper, EverySingleBitChangeOfAnUnsignedBundleIsRefused) {
  ExpectEveryFlipRefused(Minimal().unsigned_bytes, {}, "unsigned");
}

TEST(Tamper, EverySingleBitChangeOfASignedBundleIsRefused) {
  const Fixture& f = Minimal();
  ExpectEveryFlipRefused(f.signed_bytes, {}, "signed, no key required");
  ExpectEveryFlipRefused(f.signed_bytes, {.trusted_key = f.keys.public_key},
                         "signed, key required");
}

// What each kind of damage is called: the message names the problem.
TEST(Tamper, RefusalsNameWhatIsWrong) {
  const Fixture& f = Minimal();
  Layout layout = Layout::Of(f.signed_bytes);
  auto message = [&](size_t byte) {
    return ParseFlipped(f.signed_bytes, {byte, 0}, {}).value_or("(accepted)");
  };
  EXPECT_EQ(message(0), "refusing bundle: not a duet bundle (bad magic)");
  EXPECT_EQ(message(8),
            "refusing bundle: format version 0 is not supported (this duet reads version 1)");
  EXPECT_EQ(message(24), "refusing bundle: the header is corrupt");
  EXPECT_EQ(message(Layout::kHeaderSize + 4),
            "refusing bundle: its SHA-256 digest does not match its contents (the file is damaged "
            "or was altered)");
  EXPECT_EQ(message(layout.sections[0].offset + 1), message(Layout::kHeaderSize + 4));
  EXPECT_EQ(message(layout.content_length), message(Layout::kHeaderSize + 4));
  EXPECT_EQ(message(layout.content_length + Layout::kDigestSize),
            "refusing bundle: unexpected bytes after the digest");
  EXPECT_EQ(message(layout.content_length + Layout::kDigestSize + 8),
            "refusing bundle: its signature does not verify");
  EXPECT_EQ(message(f.signed_bytes.size() - 1), "refusing bundle: its signature does not verify");
}

// ---- truncation and extra bytes ----

TEST(Tamper, TruncatedBundlesAreRefused) {
  const Fixture& f = Minimal();
  for (const std::string* bytes : {&f.unsigned_bytes, &f.signed_bytes}) {
    std::vector<size_t> lengths;
    for (size_t n = 0; n <= Layout::kHeaderSize; ++n) lengths.push_back(n);
    Layout layout = Layout::Of(*bytes);
    // Inside the table, each section, the digest; and one byte short.
    lengths.push_back(Layout::kHeaderSize + Layout::kSectionEntrySize * layout.count - 1);
    for (const Layout::Section& s : layout.sections) lengths.push_back(s.offset + s.size / 2);
    lengths.push_back(layout.content_length);
    lengths.push_back(layout.content_length + Layout::kDigestSize - 1);
    lengths.push_back(bytes->size() - 1);
    for (size_t n : lengths) {
      Expected<bundle::Verified> v = bundle::Parse(std::string_view(*bytes).substr(0, n), {});
      EXPECT_FALSE(v.ok()) << (layout.is_signed ? "signed" : "unsigned") << " bundle cut to " << n
                           << " of " << bytes->size() << " bytes was accepted";
    }
  }
}

// Every length that cuts into the signature block.
TEST(Tamper, APartialSignatureBlockIsRefused) {
  const Fixture& f = Minimal();
  size_t unsigned_size = f.unsigned_bytes.size();
  for (size_t n = unsigned_size + 1; n < f.signed_bytes.size(); ++n) {
    Expected<bundle::Verified> v = bundle::Parse(std::string_view(f.signed_bytes).substr(0, n), {});
    ASSERT_FALSE(v.ok()) << "cut to " << n;
    EXPECT_EQ(v.status().message(), "refusing bundle: unexpected bytes after the digest")
        << "cut to " << n;
  }
}

// Cutting the whole signature block off leaves a well-formed unsigned
// bundle: that is only caught when a key is required.
TEST(Tamper, AStrippedSignatureIsOnlyCaughtWhenAKeyIsRequired) {
  const Fixture& f = Minimal();
  std::string_view stripped = std::string_view(f.signed_bytes).substr(0, f.unsigned_bytes.size());
  Expected<bundle::Verified> open = bundle::Parse(stripped, {});
  ASSERT_TRUE(open.ok()) << open.status().message();
  EXPECT_FALSE(open->signed_by.has_value());
  Expected<bundle::Verified> trusted = bundle::Parse(stripped, {.trusted_key = f.keys.public_key});
  ASSERT_FALSE(trusted.ok());
  EXPECT_EQ(trusted.status().message(),
            "refusing bundle: it is not signed, and only signed bundles are accepted");
}

TEST(Tamper, AppendedBytesAreRefused) {
  const Fixture& f = Minimal();
  std::mt19937 random(TamperSeed());
  std::string noise(Layout::kSignatureBlockSize, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"unsigned + one byte", f.unsigned_bytes + '\0'},
      {"unsigned + newline", f.unsigned_bytes + '\n'},
      {"unsigned + random signature-sized block", f.unsigned_bytes + noise},
      {"unsigned + DUETSIG1 and random bytes", f.unsigned_bytes + "DUETSIG1" + noise.substr(8)},
      {"signed + one byte", f.signed_bytes + '\0'},
      {"signed + its signature block again",
       f.signed_bytes + f.signed_bytes.substr(f.unsigned_bytes.size())},
      {"signed + a whole bundle", f.signed_bytes + f.unsigned_bytes},
  };
  for (const auto& [name, bytes] : cases) {
    Expected<bundle::Verified> v = bundle::Parse(bytes, {});
    EXPECT_FALSE(v.ok()) << name << " was accepted; " << SeedNote();
  }
  // Signing an already signed bundle is refused rather than stacking blocks.
  EXPECT_FALSE(bundle::Sign(f.signed_bytes, f.keys.secret_key).ok());
}

// ---- well-formed digests around bad structure ----

TEST(Tamper, AnUnknownFormatVersionIsRefusedByName) {
  const Fixture& f = Minimal();
  for (uint32_t version : {uint32_t{0}, uint32_t{2}, uint32_t{0xFFFFFFFF}}) {
    std::string bytes = f.unsigned_bytes;
    PutU32(bytes, 8, version);
    RewriteDigest(bytes);  // only the version is wrong
    Expected<bundle::Verified> v = bundle::Parse(bytes, {});
    ASSERT_FALSE(v.ok()) << "version " << version << " accepted";
    EXPECT_EQ(v.status().message(), "refusing bundle: format version " + std::to_string(version) +
                                        " is not supported (this duet reads version 1)");
  }
}

// Rewrites the kind of the last section (the object triple) to `kind`, then
// recomputes the digest; a signed bundle is signed again, so only the kind
// is wrong.
std::string WithSectionKind(uint32_t kind, bool sign) {
  const Fixture& f = Minimal();
  std::string bytes = f.unsigned_bytes;
  Layout layout = Layout::Of(bytes);
  PutU32(bytes, Layout::kHeaderSize + Layout::kSectionEntrySize * (layout.count - 1), kind);
  RewriteDigest(bytes);
  if (!sign) return bytes;
  Expected<std::string> signed_bytes = bundle::Sign(bytes, f.keys.secret_key);
  EXPECT_TRUE(signed_bytes.ok());
  return signed_bytes.ok() ? *signed_bytes : bytes;
}

TEST(Tamper, AnUnknownSectionKindIsRefusedEvenWithAGoodDigestAndSignature) {
  const Fixture& f = Minimal();
  for (uint32_t kind : {uint32_t{0}, uint32_t{5}, uint32_t{99}, uint32_t{0x80000004}}) {
    Expected<bundle::Verified> open = bundle::Parse(WithSectionKind(kind, false), {});
    ASSERT_FALSE(open.ok()) << "kind " << kind;
    EXPECT_EQ(open.status().message(),
              "refusing bundle: unknown section kind " + std::to_string(kind));
    Expected<bundle::Verified> signed_v =
        bundle::Parse(WithSectionKind(kind, true), {.trusted_key = f.keys.public_key});
    ASSERT_FALSE(signed_v.ok()) << "kind " << kind << " (signed)";
    EXPECT_EQ(signed_v.status().message(),
              "refusing bundle: unknown section kind " + std::to_string(kind));
  }
}

TEST(Tamper, BadStructureBehindAGoodDigestIsRefused) {
  const Fixture& f = Minimal();
  Layout layout = Layout::Of(f.unsigned_bytes);
  size_t table_end = Layout::kHeaderSize + Layout::kSectionEntrySize * layout.count;
  struct Case {
    std::string name;
    std::string bytes;
  };
  std::vector<Case> cases;
  auto patched = [&](std::string name, auto patch) {
    std::string bytes = f.unsigned_bytes;
    patch(bytes);
    RewriteDigest(bytes);
    cases.push_back({std::move(name), std::move(bytes)});
  };
  patched("reserved header field set", [](std::string& b) { PutU64(b, 24, 1); });
  patched("17 sections", [](std::string& b) { PutU32(b, 12, 17); });
  patched("no sections", [](std::string& b) { PutU32(b, 12, 0); });
  patched("only the manifest section", [](std::string& b) { PutU32(b, 12, 1); });
  patched("a section starting inside the table",
          [&](std::string& b) { PutU64(b, Layout::kHeaderSize + 8, table_end - 1); });
  patched("a section running past the content", [&](std::string& b) {
    PutU64(b, Layout::kHeaderSize + Layout::kSectionEntrySize * (layout.count - 1) + 16,
           layout.sections.back().size + 1);
  });
  patched("a section of 2^64-1 bytes",
          [&](std::string& b) { PutU64(b, Layout::kHeaderSize + 16, ~uint64_t{0}); });
  patched("a section at offset 2^64-1",
          [&](std::string& b) { PutU64(b, Layout::kHeaderSize + 8, ~uint64_t{0}); });
  patched("an empty manifest", [&](std::string& b) { PutU64(b, Layout::kHeaderSize + 16, 0); });
  patched("an empty bitcode section", [&](std::string& b) {
    PutU64(b, Layout::kHeaderSize + Layout::kSectionEntrySize + 16, 0);
  });
  for (const Case& c : cases) {
    Expected<bundle::Verified> v = bundle::Parse(c.bytes, {});
    EXPECT_FALSE(v.ok()) << c.name << " was accepted";
  }
  // A content length that does not reach the digest where it is.
  std::string bytes = f.unsigned_bytes;
  PutU64(bytes, 16, layout.content_length - 1);
  EXPECT_FALSE(bundle::Parse(bytes, {}).ok());
}

// Layouts no writer produces, each behind a correct digest (which anyone
// can compute for an unsigned bundle, and a signer for a signed one). The
// reader requires the canonical layout Serialize writes (reserved fields
// zero, each kind once and in order, sections back to back and covering the
// content, a triple with object code).
TEST(Tamper, NonCanonicalLayoutsBehindAGoodDigestAreRefused) {
  const Fixture& f = Minimal();
  Layout layout = Layout::Of(f.unsigned_bytes);
  auto entry = [](uint32_t i) { return Layout::kHeaderSize + Layout::kSectionEntrySize * i; };
  std::vector<std::pair<std::string, std::string>> cases;
  auto patched = [&](std::string name, auto patch) {
    std::string bytes = f.unsigned_bytes;
    patch(bytes);
    RewriteDigest(bytes);
    cases.emplace_back(std::move(name), std::move(bytes));
  };
  patched("reserved field of a section entry set",
          [&](std::string& b) { PutU32(b, entry(0) + 4, 0xDEADBEEF); });
  patched("the manifest kind twice (the triple's entry says manifest)",
          [&](std::string& b) { PutU32(b, entry(3), 1); });
  patched("object code that is the bitcode's bytes (overlapping sections)", [&](std::string& b) {
    PutU64(b, entry(2) + 8, layout.sections[1].offset);
    PutU64(b, entry(2) + 16, layout.sections[1].size);
  });
  patched("object code without a triple", [](std::string& b) { PutU32(b, 12, 3); });
  {
    // Bytes inside the digested content that no section covers.
    std::string bytes =
        f.unsigned_bytes.substr(0, layout.content_length) + "UNREFERENCED" + std::string(32, '\0');
    PutU64(bytes, 16, layout.content_length + 12);
    RewriteDigest(bytes);
    cases.emplace_back("unreferenced bytes before the digest", std::move(bytes));
  }
  for (const auto& [name, bytes] : cases) {
    EXPECT_FALSE(bundle::Parse(bytes, {}).ok()) << name << " was accepted";
  }
}

// ---- the same files through the command-line tools ----

class TamperProcess : public ProcessTest {};

// One flip per region (and a truncation, a bad version, an unknown section
// kind), each written to a file: `duetc inspect` refuses it with exit 2,
// and `duet transform` exits 2 without printing a row, so the bundle's code
// never ran. The untampered files are run the same way first, so the tests
// fail if the good path breaks rather than passing vacuously.
TEST_F(TamperProcess, InspectAndTransformRefuseASampleOfDamagedBundles) {
  const Fixture& f = Minimal();
  fs::path pub = Write("trusted.pub", bundle::FormatPublicKey(f.keys.public_key));
  for (const std::string* original : {&f.unsigned_bytes, &f.signed_bytes}) {
    std::string label = original == &f.signed_bytes ? "signed" : "unsigned";
    fs::path good = Write(label + "-good.duetb", *original);
    RunResult inspect = Duetc({"inspect", good.string()});
    ASSERT_EQ(inspect.exit_code, kExitClean) << Show(inspect);
    RunResult run = Duet(
        {"transform", "--bundle", good.string(), "--map", "customers", "--from", "fo"}, kGoodRow);
    ASSERT_EQ(run.exit_code, kExitClean) << Show(run);
    ASSERT_NE(run.out, "") << Show(run);

    Layout layout = Layout::Of(*original);
    std::vector<std::pair<std::string, std::string>> samples;
    auto flipped = [&](const std::string& what, size_t byte) {
      std::string bytes = *original;
      bytes[byte] = static_cast<char>(bytes[byte] ^ 0x10);
      samples.emplace_back(what, std::move(bytes));
    };
    flipped("magic", 3);
    flipped("version", 9);
    flipped("section count", 12);
    flipped("content length", 17);
    flipped("section table", Layout::kHeaderSize + 9);
    for (const Layout::Section& s : layout.sections) {
      flipped("section " + std::to_string(s.kind), s.offset + s.size / 2);
    }
    flipped("digest", layout.content_length + 5);
    if (layout.is_signed) {
      flipped("signature magic", layout.content_length + Layout::kDigestSize + 2);
      flipped("signer key", layout.content_length + Layout::kDigestSize + 20);
      flipped("signature", original->size() - 3);
    }
    samples.emplace_back("cut in half", original->substr(0, original->size() / 2));
    samples.emplace_back("empty file", "");
    std::string versioned = *original;
    PutU32(versioned, 8, 7);
    RewriteDigest(versioned);
    samples.emplace_back("version 7", versioned);
    samples.emplace_back("unknown section kind", WithSectionKind(42, layout.is_signed));

    for (size_t i = 0; i < samples.size(); ++i) {
      const auto& [what, bytes] = samples[i];
      fs::path path = Write(label + "-" + std::to_string(i) + ".duetb", bytes);
      std::string context = label + " bundle, damaged " + what;
      RunResult r = Duetc({"inspect", path.string()});
      EXPECT_EQ(r.exit_code, kExitUsage) << context << "\n" << Show(r);
      EXPECT_EQ(r.out, "") << context;
      EXPECT_NE(r.err.find("refusing bundle: "), std::string::npos) << context << "\n" << Show(r);
      RunResult t = Duet(
          {"transform", "--bundle", path.string(), "--map", "customers", "--from", "fo"}, kGoodRow);
      EXPECT_TRUE(t.exited) << context << "\n" << Show(t);
      EXPECT_EQ(t.exit_code, kExitUsage) << context << "\n" << Show(t);
      EXPECT_EQ(t.out, "") << context << ": the bundle's code ran\n" << Show(t);
      EXPECT_NE(t.err.find("refusing bundle: "), std::string::npos) << context << "\n" << Show(t);
      if (what == "version 7") {
        EXPECT_NE(r.err.find("format version 7 is not supported"), std::string::npos) << Show(r);
        EXPECT_NE(t.err.find("format version 7 is not supported"), std::string::npos) << Show(t);
      }
      if (layout.is_signed) {
        RunResult trusted = Duet({"transform", "--bundle", path.string(), "--map", "customers",
                                  "--from", "fo", "--trust", pub.string()},
                                 kGoodRow);
        EXPECT_EQ(trusted.exit_code, kExitUsage) << context << " (--trust)\n" << Show(trusted);
        EXPECT_EQ(trusted.out, "") << context << " (--trust)";
      }
    }
  }
}

TEST_F(TamperProcess, RefusalMessagesNameTheFile) {
  // The first 100 bytes of a bundle: its header promises more.
  fs::path path = Write("damaged.duetb", Minimal().unsigned_bytes.substr(0, 100));
  RunResult r = Duetc({"inspect", path.string()});
  EXPECT_EQ(r.exit_code, kExitUsage) << Show(r);
  EXPECT_EQ(r.err, "duetc: " + path.string() + ": refusing bundle: the header is corrupt\n")
      << Show(r);
  RunResult missing = Duetc({"inspect", (dir_ / "nope.duetb").string()});
  EXPECT_EQ(missing.exit_code, kExitUsage) << Show(missing);
  EXPECT_NE(missing.err.find("cannot open bundle"), std::string::npos) << Show(missing);
}

}  // namespace
}  // namespace duet::bundle_test

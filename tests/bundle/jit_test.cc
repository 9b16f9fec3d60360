// The JIT engine and the verified-bundle loader: compiled code is cached by
// key (in memory and in a cache directory), object code loads without code
// generation, code can be unloaded and loaded again, and every failure
// (unknown symbols, bytes that are not code) is an error, not a crash.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duet/abi.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/loaded_bundle.h"
#include "runtime/bundle/manifest.h"
#include "runtime/jit/engine.h"
#include "runtime/jit/helpers.h"
#include "tests/bundle/test_env.h"

namespace duet::bundle_test {
namespace {

constexpr std::string_view kMinimal = "examples/minimal";
constexpr std::string_view kSymbol = "customers__fo_to_ce";

// examples/minimal compiled once, with object code for this process.
struct Minimal {
  bundle::Contents contents;
  bundle::Manifest manifest;
  const bundle::Transform* fo_to_ce = nullptr;
};

const Minimal& GetMinimal() {
  static const Minimal* minimal = [] {
    auto* m = new Minimal;
    m->contents = BuildContents({std::string(kMinimal)});
    Expected<bundle::Manifest> manifest = bundle::ParseManifest(m->contents.manifest);
    if (manifest.ok()) m->manifest = std::move(*manifest);
    if (const bundle::Map* map = m->manifest.FindMap("customers")) {
      for (const bundle::Transform& t : map->transforms) {
        if (t.from == "fo") m->fo_to_ce = &t;
      }
    }
    return m;
  }();
  return *minimal;
}

std::unique_ptr<jit::Engine> NewEngine(const std::string& cache_directory = "") {
  Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({cache_directory});
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  return engine.ok() ? std::move(*engine) : nullptr;
}

// A value as text, for comparing rows: null, 42, "text", or decimal:LO@SCALE.
std::string Text(const duet_value& v) {
  switch (v.tag) {
    case DUET_NULL:
      return "null";
    case DUET_BOOL:
      return v.u.i != 0 ? "true" : "false";
    case DUET_INT:
      return std::to_string(v.u.i);
    case DUET_STRING:
      return "\"" + std::string(v.u.s, v.length) + "\"";
    case DUET_DECIMAL:
      return "decimal:" + std::to_string(v.u.d.lo) + "/" + std::to_string(v.u.d.hi) + "@" +
             std::to_string(v.scale);
    default:
      return "tag " + std::to_string(v.tag);
  }
}

// Runs the fo -> ce transform of examples/minimal on one organization and
// returns its status and output row by column name.
struct Row {
  int32_t status = -1;
  std::map<std::string, std::string> columns;
  std::string error;
};

Row RunCustomers(duet_transform_fn fn, std::string_view party_type = "Organization") {
  const bundle::Transform& t = *GetMinimal().fo_to_ce;
  const std::map<std::string, std::string> given = {{"DATAAREAID", "usmf"},
                                                    {"CUSTOMERACCOUNT", "C-1"},
                                                    {"ORGANIZATIONNAME", " Contoso "},
                                                    {"PARTYTYPE", std::string(party_type)},
                                                    {"ONHOLDSTATUS", "all"}};
  std::vector<duet_value> in(t.inputs.size());
  std::vector<duet_value> out(t.outputs.size());
  std::memset(in.data(), 0, in.size() * sizeof(duet_value));
  std::memset(out.data(), 0, out.size() * sizeof(duet_value));
  for (size_t i = 0; i < t.inputs.size(); ++i) {
    auto it = given.find(t.inputs[i].Name());
    if (it == given.end()) continue;
    in[i].tag = DUET_STRING;
    in[i].u.s = it->second.data();
    in[i].length = static_cast<uint32_t>(it->second.size());
  }
  jit::Context context;
  Row row;
  row.status = fn(in.data(), out.data(), context.get());
  if (row.status == DUET_ERROR) row.error = context.get()->error_message;
  if (row.status != DUET_OK) return row;
  for (size_t i = 0; i < t.outputs.size(); ++i) row.columns[t.outputs[i].Name()] = Text(out[i]);
  return row;
}

void ExpectCustomerRow(const Row& row) {
  ASSERT_EQ(row.status, DUET_OK) << row.error;
  EXPECT_EQ(row.columns.at("accountnumber"), "\"C-1\"");
  EXPECT_EQ(row.columns.at("msdyn_company.cdm_companycode"), "\"usmf\"");
  EXPECT_EQ(row.columns.at("msdyn_searchname"), "\"CONTOSO\"");
  EXPECT_EQ(row.columns.at("msdyn_onholdstatus"), "806380002");
  EXPECT_EQ(row.columns.at("customertypecode"), "3");
  EXPECT_EQ(row.columns.at("creditlimit"), "null");
}

class EngineTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(GetMinimal().contents.bitcode.empty());
    ASSERT_NE(GetMinimal().fo_to_ce, nullptr)
        << "examples/minimal has no fo -> ce transform of 'customers'";
    engine_ = NewEngine();
    ASSERT_NE(engine_, nullptr);
  }

  // Loads the bitcode under `key` and finds the transform (which compiles
  // it, or takes it from the cache).
  duet_transform_fn LoadAndFind(std::string_view key, std::unique_ptr<jit::LoadedCode>* code) {
    Expected<std::unique_ptr<jit::LoadedCode>> loaded =
        engine_->Load(GetMinimal().contents.bitcode, key);
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    if (!loaded.ok()) return nullptr;
    *code = std::move(*loaded);
    Expected<duet_transform_fn> fn = (*code)->Find(kSymbol);
    EXPECT_TRUE(fn.ok()) << fn.status().message();
    return fn.ok() ? *fn : nullptr;
  }

  std::unique_ptr<jit::Engine> engine_;
};

TEST_F(EngineTest, TheSameKeyHitsTheCacheAndAnotherKeyMisses) {
  EXPECT_EQ(engine_->cache_stats().hits, 0u);
  EXPECT_EQ(engine_->cache_stats().misses, 0u);

  std::unique_ptr<jit::LoadedCode> first;
  duet_transform_fn f1 = LoadAndFind("key-a", &first);
  ASSERT_NE(f1, nullptr);
  EXPECT_EQ(engine_->cache_stats().hits, 0u);
  EXPECT_EQ(engine_->cache_stats().misses, 1u) << "the first load compiles";
  ExpectCustomerRow(RunCustomers(f1));

  std::unique_ptr<jit::LoadedCode> second;
  duet_transform_fn f2 = LoadAndFind("key-a", &second);
  ASSERT_NE(f2, nullptr);
  EXPECT_EQ(engine_->cache_stats().hits, 1u)
      << "the second load with the same key comes from the cache";
  EXPECT_EQ(engine_->cache_stats().misses, 1u);
  ExpectCustomerRow(RunCustomers(f2));
  // Both copies are loaded at once, each in its own JITDylib.
  ExpectCustomerRow(RunCustomers(f1));

  std::unique_ptr<jit::LoadedCode> third;
  duet_transform_fn f3 = LoadAndFind("key-b", &third);
  ASSERT_NE(f3, nullptr);
  EXPECT_EQ(engine_->cache_stats().hits, 1u);
  EXPECT_EQ(engine_->cache_stats().misses, 2u) << "another key is compiled again";
  ExpectCustomerRow(RunCustomers(f3));
}

TEST_F(EngineTest, ObjectCodeLoadsWithoutCodeGeneration) {
  const bundle::Contents& contents = GetMinimal().contents;
  ASSERT_FALSE(contents.object.empty());
  ASSERT_EQ(contents.object_triple, jit::Engine::ProcessTriple())
      << "the build machine's object code must be loadable by the same machine";
  Expected<std::unique_ptr<jit::LoadedCode>> code = engine_->LoadObject(contents.object);
  ASSERT_TRUE(code.ok()) << code.status().message();
  Expected<duet_transform_fn> fn = (*code)->Find(kSymbol);
  ASSERT_TRUE(fn.ok()) << fn.status().message();
  ExpectCustomerRow(RunCustomers(*fn));
  Row filtered = RunCustomers(*fn, "Person");
  EXPECT_EQ(filtered.status, DUET_FILTERED);
  EXPECT_EQ(engine_->cache_stats().hits, 0u);
  EXPECT_EQ(engine_->cache_stats().misses, 0u)
      << "object code is not compiled, so the cache is not asked";
}

TEST_F(EngineTest, UnloadedCodeCanBeLoadedAgain) {
  for (int round = 0; round < 5; ++round) {
    std::unique_ptr<jit::LoadedCode> code;
    duet_transform_fn fn = LoadAndFind("unload", &code);
    ASSERT_NE(fn, nullptr) << "round " << round;
    ExpectCustomerRow(RunCustomers(fn));
    code.reset();  // removes the code from the process
  }
  EXPECT_EQ(engine_->cache_stats().misses, 1u);
  EXPECT_EQ(engine_->cache_stats().hits, 4u);
  for (int round = 0; round < 3; ++round) {
    Expected<std::unique_ptr<jit::LoadedCode>> code =
        engine_->LoadObject(GetMinimal().contents.object);
    ASSERT_TRUE(code.ok()) << code.status().message();
    Expected<duet_transform_fn> fn = (*code)->Find(kSymbol);
    ASSERT_TRUE(fn.ok()) << fn.status().message();
    ExpectCustomerRow(RunCustomers(*fn));
  }
}

// A LoadedCode shares the engine's state, so it stays usable (and can be
// destroyed) after the Engine object is gone.
TEST_F(EngineTest, CodeOutlivesTheEngineObject) {
  std::unique_ptr<jit::LoadedCode> code;
  duet_transform_fn fn = LoadAndFind("outlive", &code);
  ASSERT_NE(fn, nullptr);
  engine_.reset();
  ExpectCustomerRow(RunCustomers(fn));
  Expected<duet_transform_fn> again = code->Find(kSymbol);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, fn);
  code.reset();
}

TEST_F(EngineTest, AMissingSymbolIsAnError) {
  std::unique_ptr<jit::LoadedCode> code;
  ASSERT_NE(LoadAndFind("missing", &code), nullptr);
  for (std::string_view name :
       {"no_such_transform", "", "customers__ce_to_fo_x", "duet_rt_alloc"}) {
    Expected<duet_transform_fn> fn = code->Find(name);
    // The helpers live in the engine's main JITDylib; a loaded piece of code
    // only exports its own transforms.
    if (name == "duet_rt_alloc") {
      if (fn.ok()) ADD_FAILURE() << "a runtime helper is reachable as a transform: " << name;
      continue;
    }
    ASSERT_FALSE(fn.ok()) << "'" << name << "' was found";
    EXPECT_NE(fn.status().message().find("no function '" + std::string(name) + "' in the code"),
              std::string::npos)
        << fn.status().message();
  }
  // The code is still fine after failed lookups.
  Expected<duet_transform_fn> fn = code->Find(kSymbol);
  ASSERT_TRUE(fn.ok()) << fn.status().message();
  ExpectCustomerRow(RunCustomers(*fn));
  // The other direction is there too.
  EXPECT_TRUE(code->Find("customers__ce_to_fo").ok());
}

TEST_F(EngineTest, BytesThatAreNotCodeAreErrors) {
  const std::string& bitcode = GetMinimal().contents.bitcode;
  for (const std::string& bytes : {std::string(), std::string("not bitcode at all"),
                                   bitcode.substr(0, 4), bitcode.substr(0, bitcode.size() / 2)}) {
    Expected<std::unique_ptr<jit::LoadedCode>> code =
        engine_->Load(bytes, "bad-" + std::to_string(bytes.size()));
    EXPECT_FALSE(code.ok()) << bytes.size() << " bytes of bitcode accepted";
  }
  const std::string& object = GetMinimal().contents.object;
  for (const std::string& bytes :
       {std::string(), std::string("not an object file"), object.substr(0, 16)}) {
    Expected<std::unique_ptr<jit::LoadedCode>> code = engine_->LoadObject(bytes);
    if (code.ok()) {
      // Accepting the bytes is only allowed if using them then fails cleanly.
      EXPECT_FALSE((*code)->Find(kSymbol).ok())
          << bytes.size() << " bytes of object code gave a function";
    }
  }
  // The engine still works afterwards.
  std::unique_ptr<jit::LoadedCode> code;
  duet_transform_fn fn = LoadAndFind("after-bad", &code);
  ASSERT_NE(fn, nullptr);
  ExpectCustomerRow(RunCustomers(fn));
}

// ---- the cache directory ----

class CacheDirectoryTest : public ProcessTest {};

TEST_F(CacheDirectoryTest, ASecondEngineFindsTheCompiledCodeOnDisk) {
  fs::path cache = dir_ / "cache";
  {
    std::unique_ptr<jit::Engine> engine = NewEngine(cache.string());
    ASSERT_NE(engine, nullptr);
    Expected<std::unique_ptr<jit::LoadedCode>> code =
        engine->Load(GetMinimal().contents.bitcode, "disk-key");
    ASSERT_TRUE(code.ok()) << code.status().message();
    Expected<duet_transform_fn> fn = (*code)->Find(kSymbol);
    ASSERT_TRUE(fn.ok()) << fn.status().message();
    EXPECT_EQ(engine->cache_stats().misses, 1u);
  }
  ASSERT_TRUE(fs::exists(cache / "disk_key.o")) << "the object is kept in the directory";
  EXPECT_GT(fs::file_size(cache / "disk_key.o"), 0u);
  EXPECT_FALSE(fs::exists(cache / "disk_key.o.tmp"));

  std::unique_ptr<jit::Engine> engine = NewEngine(cache.string());
  ASSERT_NE(engine, nullptr);
  Expected<std::unique_ptr<jit::LoadedCode>> code =
      engine->Load(GetMinimal().contents.bitcode, "disk-key");
  ASSERT_TRUE(code.ok()) << code.status().message();
  Expected<duet_transform_fn> fn = (*code)->Find(kSymbol);
  ASSERT_TRUE(fn.ok()) << fn.status().message();
  EXPECT_EQ(engine->cache_stats().hits, 1u) << "a new engine reads the object from the directory";
  EXPECT_EQ(engine->cache_stats().misses, 0u);
  ExpectCustomerRow(RunCustomers(*fn));
}

// The objects in a cache directory run as this process's code, so a
// directory others can write is refused when the engine starts, and a new
// one is made private.
TEST_F(CacheDirectoryTest, ADirectoryOthersCanWriteIsRefused) {
  fs::path shared = dir_ / "shared";
  fs::create_directories(shared);
  fs::permissions(shared, fs::perms::group_write | fs::perms::others_write, fs::perm_options::add);
  Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({shared.string()});
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("can be written by other users"), std::string::npos)
      << engine.status().message();

  fs::path fresh = dir_ / "parent" / "fresh";
  std::unique_ptr<jit::Engine> made = NewEngine(fresh.string());
  ASSERT_NE(made, nullptr);
  EXPECT_EQ(fs::status(fresh).permissions() & fs::perms::all, fs::perms::owner_all);
}

// Loading through the bundle loader: object code for this triple is used
// as it is; bitcode only (or object code for another triple) is compiled
// and cached under the bundle's digest and this triple.
TEST_F(CacheDirectoryTest, TheLoaderPrefersObjectCodeAndCachesBitcodeByDigest) {
  fs::path cache = dir_ / "cache";
  std::unique_ptr<jit::Engine> engine = NewEngine(cache.string());
  ASSERT_NE(engine, nullptr);
  const bundle::Contents& contents = GetMinimal().contents;

  Expected<bundle::Verified> with_object = bundle::Parse(bundle::Serialize(contents), {});
  ASSERT_TRUE(with_object.ok()) << with_object.status().message();
  Expected<std::unique_ptr<bundle::LoadedBundle>> a =
      bundle::LoadedBundle::FromVerified(*engine, *with_object);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE((*a)->loaded_object_code());
  Expected<bundle::LoadedTransform> ta = (*a)->Find("customers", "fo");
  ASSERT_TRUE(ta.ok()) << ta.status().message();
  ExpectCustomerRow(RunCustomers(ta->function));
  EXPECT_EQ(engine->cache_stats().misses, 0u);

  bundle::Contents foreign = contents;
  foreign.object_triple = "riscv64-unknown-linux-gnu";
  Expected<bundle::Verified> other_triple = bundle::Parse(bundle::Serialize(foreign), {});
  ASSERT_TRUE(other_triple.ok());
  Expected<std::unique_ptr<bundle::LoadedBundle>> b =
      bundle::LoadedBundle::FromVerified(*engine, *other_triple);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_FALSE((*b)->loaded_object_code()) << "object code for another triple must not be loaded";
  Expected<bundle::LoadedTransform> tb = (*b)->Find("customers", "fo");
  ASSERT_TRUE(tb.ok()) << tb.status().message();
  ExpectCustomerRow(RunCustomers(tb->function));
  EXPECT_EQ(engine->cache_stats().misses, 1u);
  std::string key = bundle::Hex(std::string_view(
                        reinterpret_cast<const char*>(other_triple->digest.data()), 32)) +
                    "-" + jit::Engine::ProcessTriple();
  std::string file;
  for (char c : key) file += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  EXPECT_TRUE(fs::exists(cache / (file + ".o")))
      << "cache file named after digest and triple: " << file;

  // The loader finds transforms by map and source system only.
  Expected<bundle::LoadedTransform> back = (*b)->Find("customers", "ce");
  EXPECT_TRUE(back.ok()) << back.status().message();
  Expected<bundle::LoadedTransform> none = (*b)->Find("customers", "xx");
  EXPECT_FALSE(none.ok());
}

// Two `duet transform` processes with one --cache-dir: the first compiles
// the bitcode and leaves the object in the directory; the second finds it
// there (and gives the same rows).
TEST_F(CacheDirectoryTest, CacheDirPersistsBetweenTwoDuetProcesses) {
  fs::path bundle =
      CompileWithDuetc({std::string(kMinimal)}, "bitcode-only.duetb", {"--no-object"});
  fs::path cache = dir_ / "cache";
  std::string rows =
      R"({"DATAAREAID": "usmf", "CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization", "ORGANIZATIONNAME": "a"})"
      "\n";
  std::vector<std::string> args = {"transform", "--bundle",    bundle.string(),
                                   "--map",     "customers",   "--from",
                                   "fo",        "--cache-dir", cache.string()};
  RunResult first = Duet(args, rows);
  ASSERT_EQ(first.exit_code, kExitClean) << Show(first);
  ASSERT_TRUE(fs::is_directory(cache)) << Show(first);
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(cache)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u) << "one compiled object expected in " << cache;
  EXPECT_EQ(files[0].extension(), ".o");
  Expected<bundle::Verified> verified = bundle::ReadFile(bundle.string(), {});
  ASSERT_TRUE(verified.ok());
  std::string digest =
      bundle::Hex(std::string_view(reinterpret_cast<const char*>(verified->digest.data()), 32));
  EXPECT_TRUE(files[0].filename().string().starts_with(digest + "_")) << files[0];
  std::string object = ReadAll(files[0]);
  EXPECT_TRUE(
      object.starts_with("\x7f"
                         "ELF"))
      << "an ELF object file";

  RunResult second = Duet(args, rows);
  ASSERT_EQ(second.exit_code, kExitClean) << Show(second);
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(second.err, first.err);
  ASSERT_TRUE(fs::exists(files[0])) << "the second process keeps the cached object";
  EXPECT_TRUE(ReadAll(files[0]) == object) << "the cached object was not rewritten";
  size_t count = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(cache)) count += e.is_regular_file();
  EXPECT_EQ(count, 1u);
}

// The cache directory holds object code outside any bundle. A cache file is
// used only when its trailer binds it to the key (the bundle's digest and
// triple) and to this engine; anything else is ignored and replaced
// (docs/bundle-format.md, "The cache directory").

// A damaged cache file must not break every later run (it once failed each
// run with "no function ... in the code" until someone deleted the file).
TEST_F(CacheDirectoryTest, ADamagedCacheFileIsNotFatal) {
  fs::path bundle =
      CompileWithDuetc({std::string(kMinimal)}, "bitcode-only.duetb", {"--no-object"});
  fs::path cache = dir_ / "cache";
  const std::string row =
      R"({"CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization", "ORGANIZATIONNAME": "a"})"
      "\n";
  std::vector<std::string> args = {"transform", "--bundle",    bundle.string(),
                                   "--map",     "customers",   "--from",
                                   "fo",        "--cache-dir", cache.string()};
  RunResult first = Duet(args, row);
  ASSERT_EQ(first.exit_code, kExitClean) << Show(first);
  for (const fs::directory_entry& e : fs::directory_iterator(cache)) {
    std::string object = ReadAll(e.path());
    WriteAll(e.path(), object.substr(0, object.size() / 2));
  }
  RunResult second = Duet(args, row);
  EXPECT_EQ(second.exit_code, kExitClean) << Show(second);
  EXPECT_EQ(second.out, first.out) << Show(second);
}

// A file planted in the cache directory under a signed bundle's key must
// not run in its place: --trust promises that only code the trusted key
// signed runs. The planted object (here: the same map with lower() instead
// of upper(), with its own valid trailer) was written for another key.
TEST_F(CacheDirectoryTest, APlantedCacheFileDoesNotRunInPlaceOfASignedBundle) {
  RunResult keygen = Duetc({"keygen", "-o", (dir_ / "release").string()});
  ASSERT_EQ(keygen.exit_code, kExitClean) << Show(keygen);
  fs::path trusted = CompileWithDuetc({std::string(kMinimal)}, "trusted.duetb",
                                      {"--no-object", "--sign", (dir_ / "release.key").string()});
  std::string source = ReadAll(fs::path(GlobalEnv().repo_root) / kMinimal / "customers.duet");
  size_t at = source.find("upper(trim(ORGANIZATIONNAME))");
  ASSERT_NE(at, std::string::npos);
  source.replace(at, 5, "lower");
  fs::path other_map = Write("other/customers.duet", source);
  fs::path other = CompileWithDuetc({other_map.string()}, "other.duetb", {"--no-object"});

  const std::string row =
      R"({"CUSTOMERACCOUNT": "C-1", "PARTYTYPE": "Organization", "ORGANIZATIONNAME": "Abc"})"
      "\n";
  auto run = [&](const fs::path& bundle, const fs::path& cache, bool trust) {
    std::vector<std::string> args = {"transform", "--bundle",    bundle.string(),
                                     "--map",     "customers",   "--from",
                                     "fo",        "--cache-dir", cache.string()};
    if (trust) args.insert(args.end(), {"--trust", (dir_ / "release.pub").string()});
    return Duet(args, row);
  };
  RunResult honest = run(trusted, dir_ / "trusted-cache", true);
  ASSERT_EQ(honest.exit_code, kExitClean) << Show(honest);
  ASSERT_NE(honest.out.find("\"msdyn_searchname\":\"ABC\""), std::string::npos) << Show(honest);
  RunResult planted_source = run(other, dir_ / "other-cache", false);
  ASSERT_EQ(planted_source.exit_code, kExitClean) << Show(planted_source);
  std::vector<fs::path> trusted_files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_ / "trusted-cache"))
    trusted_files.push_back(e.path());
  std::vector<fs::path> other_files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_ / "other-cache"))
    other_files.push_back(e.path());
  ASSERT_EQ(trusted_files.size(), 1u);
  ASSERT_EQ(other_files.size(), 1u);
  fs::copy_file(other_files[0], trusted_files[0], fs::copy_options::overwrite_existing);

  RunResult after = run(trusted, dir_ / "trusted-cache", true);
  EXPECT_EQ(after.out, honest.out) << "code the trusted key never signed ran:\n" << Show(after);
}

}  // namespace
}  // namespace duet::bundle_test

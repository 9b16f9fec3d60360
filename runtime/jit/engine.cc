#include "runtime/jit/engine.h"

#include <fcntl.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "runtime/jit/helpers.h"

namespace duet::jit {
namespace {

// Machine code for bitcode loaded at run time. duetc has already run the
// IR optimisation passes (and code generation at its own -O level for the
// bundle's object code), so the JIT runs no IR passes, and by default uses
// the fast instruction selector and register allocator (level None): code
// generation is where a cold load spends its time, and this cuts a cold
// load of the standard maps from about 880 ms (level Default) to about
// 150 ms, for code about 1.6x slower per row (docs/performance.md).
// EngineOptions::optimize_code chooses level Default instead.
llvm::CodeGenOpt::Level LoadCodeGenLevel(const EngineOptions& options) {
  return options.optimize_code ? llvm::CodeGenOpt::Default : llvm::CodeGenOpt::None;
}

// The trailer of a cache file, after the object bytes:
//   SHA-256 of the binding (32) | object size, u64 little-endian (8) | magic (8)
// The binding is the trailer's format, the load's key (the bundle digest and
// triple), the engine's identity (LLVM version, CPU, features, code
// generation level) and the object bytes. So a cache file is used only for
// the key it was written for, by an engine that would generate the same
// code, and only if no byte of it changed.
constexpr std::string_view kTrailerMagic = "DUETJOC1";
constexpr size_t kTrailerSize = 32 + 8 + 8;

void InitializeNativeTargetOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

// LLVM reports errors as llvm::Error; they become Status here and go no
// further.
Status ToStatus(llvm::Error error, std::string_view what) {
  std::string text;
  llvm::raw_string_ostream out(text);
  out << error;
  return InternalError(std::string(what) + ": " + out.str());
}

std::array<uint8_t, 32> Binding(std::string_view key, std::string_view identity,
                                std::string_view object) {
  llvm::SHA256 hash;
  auto add = [&](std::string_view part) {
    // Length-prefixed, so no two different tuples hash the same bytes.
    uint64_t size = part.size();
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(size >> (8 * i));
    hash.update(llvm::ArrayRef<uint8_t>(length, 8));
    hash.update(llvm::StringRef(part.data(), part.size()));
  };
  add(kTrailerMagic);
  add(key);
  add(identity);
  add(object);
  return hash.final();
}

// A cache directory may hold code only this user can have put there.
Status CheckPrivate(const std::string& path, const struct stat& st, std::string_view what) {
  if (st.st_uid != geteuid()) {
    return FailedPreconditionError("the cache " + std::string(what) + " '" + path +
                                   "' belongs to another user; its code would run as yours");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return FailedPreconditionError("the cache " + std::string(what) + " '" + path +
                                   "' can be written by other users (chmod go-w it)");
  }
  return Status();
}

// Compiled object code by key: in memory, and optionally in a directory.
// Thread-safe.
class ObjectStore {
 public:
  ObjectStore(std::string directory, std::string identity)
      : directory_(std::move(directory)), identity_(std::move(identity)) {}

  // Makes the directory (private) if needed and checks it is private.
  Status Open() {
    if (directory_.empty()) return Status();
    std::error_code ec;
    std::filesystem::path dir(directory_);
    if (!std::filesystem::exists(dir, ec)) {
      if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
      if (mkdir(directory_.c_str(), 0700) != 0 && errno != EEXIST) {
        return IoError("cannot create the cache directory '" + directory_ +
                       "': " + std::strerror(errno));
      }
    }
    struct stat st {};
    if (lstat(directory_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return FailedPreconditionError("the cache directory '" + directory_ + "' is not a directory");
    }
    return CheckPrivate(directory_, st, "directory");
  }

  // The object stored under `key`: from memory, else from a cache file that
  // verifies. nullopt when there is none.
  std::optional<std::string> Find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(key);
    if (it != objects_.end()) return it->second;
    if (directory_.empty()) return std::nullopt;
    std::optional<std::string> object = ReadVerified(Path(key), key);
    if (object) objects_.emplace(key, *object);
    return object;
  }

  // Keeps `object` under `key` in memory and, best effort, on disk: a
  // cache file that cannot be written only costs the next process a
  // compile.
  void Store(const std::string& key, std::string_view object) {
    std::lock_guard lock(mutex_);
    objects_[key] = std::string(object);
    if (!directory_.empty()) WriteFile(Path(key), key, object);
  }

  void Forget(const std::string& key) {
    std::lock_guard lock(mutex_);
    objects_.erase(key);
  }

  void Count(bool hit) {
    std::lock_guard lock(mutex_);
    ++(hit ? stats_.hits : stats_.misses);
  }

  CacheStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  std::string Path(const std::string& key) const {
    std::string safe;
    for (char c : key) safe += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
    return (std::filesystem::path(directory_) / (safe + ".o")).string();
  }

  // The object of a cache file whose trailer verifies for `key`, or nullopt
  // for a missing, foreign, damaged or stale file (which Store replaces).
  std::optional<std::string> ReadVerified(const std::string& path, const std::string& key) const {
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string bytes;
    struct stat st {};
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && CheckPrivate(path, st, "file").ok();
    if (ok) {
      bytes.resize(static_cast<size_t>(st.st_size));
      size_t done = 0;
      while (ok && done < bytes.size()) {
        ssize_t n = read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        done += n > 0 ? static_cast<size_t>(n) : 0;
      }
    }
    close(fd);
    if (!ok || bytes.size() < kTrailerSize) return std::nullopt;
    std::string_view trailer = std::string_view(bytes).substr(bytes.size() - kTrailerSize);
    if (trailer.substr(40) != kTrailerMagic) return std::nullopt;
    uint64_t size = 0;
    for (int i = 7; i >= 0; --i) size = (size << 8) | static_cast<uint8_t>(trailer[32 + i]);
    if (size != bytes.size() - kTrailerSize) return std::nullopt;
    std::string_view object = std::string_view(bytes).substr(0, size);
    std::array<uint8_t, 32> expected = Binding(key, identity_, object);
    if (std::memcmp(expected.data(), trailer.data(), expected.size()) != 0) return std::nullopt;
    bytes.resize(size);
    return bytes;
  }

  // Writes through a temporary file of this process and a rename, so a
  // reader sees the old file or the whole new one.
  void WriteFile(const std::string& path, const std::string& key, std::string_view object) {
    std::string bytes(object);
    std::array<uint8_t, 32> binding = Binding(key, identity_, object);
    bytes.append(reinterpret_cast<const char*>(binding.data()), binding.size());
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>((object.size() >> (8 * i)) & 0xFF);
    bytes += kTrailerMagic;
    std::string temporary =
        path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(next_temporary_++);
    int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    size_t done = 0;
    bool ok = true;
    while (ok && done < bytes.size()) {
      ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      done += n > 0 ? static_cast<size_t>(n) : 0;
    }
    if (close(fd) != 0) ok = false;
    if (!ok || rename(temporary.c_str(), path.c_str()) != 0) unlink(temporary.c_str());
  }

  const std::string directory_;
  const std::string identity_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> objects_;
  CacheStats stats_;
  uint64_t next_temporary_ = 0;
};

}  // namespace

struct Engine::Impl {
  std::unique_ptr<ObjectStore> store;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  // Generates the machine code of loaded bitcode; used under `mutex`.
  std::unique_ptr<llvm::TargetMachine> machine;
  std::atomic<uint64_t> next_dylib{0};
  std::mutex mutex;

  // `object` in a JITDylib of its own, linked to the helpers. Caller holds
  // `mutex`.
  Expected<std::unique_ptr<LoadedCode>> AddObject(std::shared_ptr<Impl> self,
                                                  std::string_view object);
};

struct LoadedCode::Impl {
  std::shared_ptr<Engine::Impl> engine;
  llvm::orc::JITDylib* dylib = nullptr;
  llvm::orc::ResourceTrackerSP tracker;
};

LoadedCode::LoadedCode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LoadedCode::~LoadedCode() {
  if (!impl_ || impl_->dylib == nullptr) return;
  std::lock_guard lock(impl_->engine->mutex);
  llvm::consumeError(impl_->tracker->remove());
  llvm::consumeError(impl_->engine->jit->getExecutionSession().removeJITDylib(*impl_->dylib));
}

namespace {

// The address of `symbol` in `dylib`; `what` names it in the error.
Expected<llvm::orc::ExecutorAddr> Lookup(Engine::Impl& engine, llvm::orc::JITDylib& dylib,
                                         std::string_view symbol, std::string_view what) {
  std::lock_guard lock(engine.mutex);
  auto address = engine.jit->lookup(dylib, llvm::StringRef(symbol.data(), symbol.size()));
  if (!address) {
    return ToStatus(address.takeError(),
                    "no " + std::string(what) + " '" + std::string(symbol) + "' in the code");
  }
  return *address;
}

}  // namespace

Expected<duet_transform_fn> LoadedCode::Find(std::string_view symbol) const {
  Expected<llvm::orc::ExecutorAddr> address =
      Lookup(*impl_->engine, *impl_->dylib, symbol, "function");
  if (!address.ok()) return address.status();
  return address->toPtr<duet_transform_fn>();
}

Expected<const void*> LoadedCode::FindData(std::string_view symbol) const {
  Expected<llvm::orc::ExecutorAddr> address =
      Lookup(*impl_->engine, *impl_->dylib, symbol, "constant");
  if (!address.ok()) return address.status();
  return address->toPtr<const void*>();
}

Expected<std::unique_ptr<LoadedCode>> Engine::Impl::AddObject(std::shared_ptr<Impl> self,
                                                              std::string_view object) {
  std::string name = "bundle-" + std::to_string(next_dylib++);
  auto dylib = jit->createJITDylib(name);
  if (!dylib) return ToStatus(dylib.takeError(), "cannot create a JITDylib");
  dylib->addToLinkOrder(jit->getMainJITDylib());
  auto code = std::make_unique<LoadedCode::Impl>();
  code->engine = std::move(self);
  code->dylib = &*dylib;
  code->tracker = dylib->createResourceTracker();
  auto buffer =
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()), name);
  if (llvm::Error e = jit->addObjectFile(code->tracker, std::move(buffer))) {
    llvm::consumeError(jit->getExecutionSession().removeJITDylib(*dylib));
    return ToStatus(std::move(e), "cannot add the object code to the JIT");
  }
  return std::unique_ptr<LoadedCode>(new LoadedCode(std::move(code)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Expected<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  InitializeNativeTargetOnce();
  auto impl = std::make_unique<Impl>();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) return ToStatus(builder.takeError(), "cannot describe this machine");
  builder->setCodeGenOptLevel(LoadCodeGenLevel(options));
  auto machine = builder->createTargetMachine();
  if (!machine) return ToStatus(machine.takeError(), "cannot generate code for this machine");
  impl->machine = std::move(*machine);
  std::string identity = std::string("LLVM ") + LLVM_VERSION_STRING + "; " +
                         impl->machine->getTargetTriple().str() + "; " +
                         impl->machine->getTargetCPU().str() + "; " +
                         impl->machine->getTargetFeatureString().str() + "; O" +
                         std::to_string(static_cast<int>(LoadCodeGenLevel(options)));
  impl->store = std::make_unique<ObjectStore>(options.cache_directory, std::move(identity));
  if (Status s = impl->store->Open(); !s.ok()) return s;
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*builder)).create();
  if (!jit) return ToStatus(jit.takeError(), "cannot start the JIT");
  impl->jit = std::move(*jit);
  llvm::orc::MangleAndInterner mangle(impl->jit->getExecutionSession(), impl->jit->getDataLayout());
  llvm::orc::SymbolMap symbols;
  for (const HelperSymbol& helper : HelperSymbols()) {
    symbols[mangle(llvm::StringRef(helper.name.data(), helper.name.size()))] =
        llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(helper.address),
                                 llvm::JITSymbolFlags::Exported);
  }
  if (llvm::Error e =
          impl->jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols)))) {
    return ToStatus(std::move(e), "cannot define the runtime helpers");
  }
  // Code generation may lower to libc calls (memcpy, memset).
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      impl->jit->getDataLayout().getGlobalPrefix());
  if (!process) return ToStatus(process.takeError(), "cannot search the process's symbols");
  impl->jit->getMainJITDylib().addGenerator(std::move(*process));
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Expected<std::unique_ptr<LoadedCode>> Engine::Load(std::string_view bitcode,
                                                   std::string_view cache_key) {
  std::string key(cache_key);
  std::lock_guard lock(impl_->mutex);
  // A cached object skips parsing the bitcode as well as code generation.
  // One that cannot be added is forgotten and compiled again.
  if (std::optional<std::string> object = impl_->store->Find(key)) {
    Expected<std::unique_ptr<LoadedCode>> code = impl_->AddObject(impl_, *object);
    if (code.ok()) {
      impl_->store->Count(true);
      return code;
    }
    impl_->store->Forget(key);
  }
  impl_->store->Count(false);
  llvm::LLVMContext context;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()),
                                                 "bundle", false);
  auto module = llvm::parseBitcodeFile(buffer->getMemBufferRef(), context);
  if (!module) return ToStatus(module.takeError(), "cannot read the bundle's bitcode");
  (*module)->setModuleIdentifier(key);
  if ((*module)->getDataLayout().isDefault()) (*module)->setDataLayout(impl_->jit->getDataLayout());
  if ((*module)->getDataLayout() != impl_->jit->getDataLayout()) {
    return InternalError("the bundle's bitcode has a data layout this machine does not use");
  }
  llvm::orc::SimpleCompiler compile(*impl_->machine);
  auto object = compile(**module);
  if (!object) return ToStatus(object.takeError(), "cannot generate code for the bundle");
  std::string_view bytes((*object)->getBufferStart(), (*object)->getBufferSize());
  Expected<std::unique_ptr<LoadedCode>> code = impl_->AddObject(impl_, bytes);
  if (code.ok()) impl_->store->Store(key, bytes);
  return code;
}

Expected<std::unique_ptr<LoadedCode>> Engine::LoadObject(std::string_view object) {
  std::lock_guard lock(impl_->mutex);
  return impl_->AddObject(impl_, object);
}

std::string Engine::ProcessTriple() { return llvm::sys::getProcessTriple(); }

CacheStats Engine::cache_stats() const { return impl_->store->stats(); }

}  // namespace duet::jit

#include "runtime/jit/engine.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "runtime/jit/helpers.h"

namespace duet::jit {
namespace {

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

// Object code by module identifier (the cache key), in memory and optionally
// on disk.
class Cache : public llvm::ObjectCache {
 public:
  explicit Cache(std::string directory) : directory_(std::move(directory)) {}

  void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef object) override {
    std::lock_guard lock(mutex_);
    std::string key = m->getModuleIdentifier();
    objects_[key] = std::string(object.getBuffer());
    if (!directory_.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(directory_, ec);
      std::string path = Path(key);
      std::string temporary = path + ".tmp";
      std::ofstream file(temporary, std::ios::binary);
      file.write(object.getBufferStart(), static_cast<std::streamsize>(object.getBufferSize()));
      file.close();
      if (file) std::filesystem::rename(temporary, path, ec);
    }
  }

  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module* m) override {
    std::lock_guard lock(mutex_);
    std::string key = m->getModuleIdentifier();
    auto it = objects_.find(key);
    if (it == objects_.end() && !directory_.empty()) {
      std::ifstream file(Path(key), std::ios::binary);
      if (file) {
        std::ostringstream bytes;
        bytes << file.rdbuf();
        it = objects_.emplace(key, std::move(bytes).str()).first;
      }
    }
    if (it == objects_.end()) {
      ++stats_.misses;
      return nullptr;
    }
    ++stats_.hits;
    return llvm::MemoryBuffer::getMemBufferCopy(it->second, key);
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

  std::string directory_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> objects_;
  CacheStats stats_;
};

}  // namespace

struct Engine::Impl {
  std::unique_ptr<Cache> cache;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::atomic<uint64_t> next_dylib{0};
  std::mutex mutex;
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

Expected<duet_transform_fn> LoadedCode::Find(std::string_view symbol) const {
  std::lock_guard lock(impl_->engine->mutex);
  auto address =
      impl_->engine->jit->lookup(*impl_->dylib, llvm::StringRef(symbol.data(), symbol.size()));
  if (!address)
    return ToStatus(address.takeError(), "no function '" + std::string(symbol) + "' in the code");
  return address->toPtr<duet_transform_fn>();
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Expected<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  InitializeNativeTargetOnce();
  auto impl = std::make_unique<Impl>();
  impl->cache = std::make_unique<Cache>(options.cache_directory);
  Cache* cache = impl->cache.get();
  auto jit = llvm::orc::LLJITBuilder()
                 .setCompileFunctionCreator(
                     [cache](llvm::orc::JITTargetMachineBuilder jtmb)
                         -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                       auto machine = jtmb.createTargetMachine();
                       if (!machine) return machine.takeError();
                       return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(
                           std::move(*machine), cache);
                     })
                 .create();
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
  auto context = std::make_unique<llvm::LLVMContext>();
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()),
                                                 "bundle", false);
  auto module = llvm::parseBitcodeFile(buffer->getMemBufferRef(), *context);
  if (!module) return ToStatus(module.takeError(), "cannot read the bundle's bitcode");
  (*module)->setModuleIdentifier(llvm::StringRef(cache_key.data(), cache_key.size()));
  std::lock_guard lock(impl_->mutex);
  std::string name = "bundle-" + std::to_string(impl_->next_dylib++);
  auto dylib = impl_->jit->createJITDylib(name);
  if (!dylib) return ToStatus(dylib.takeError(), "cannot create a JITDylib");
  dylib->addToLinkOrder(impl_->jit->getMainJITDylib());
  auto code = std::make_unique<LoadedCode::Impl>();
  code->engine = impl_;
  code->dylib = &*dylib;
  code->tracker = dylib->createResourceTracker();
  llvm::orc::ThreadSafeModule tsm(std::move(*module), std::move(context));
  if (llvm::Error e = impl_->jit->addIRModule(code->tracker, std::move(tsm))) {
    llvm::consumeError(impl_->jit->getExecutionSession().removeJITDylib(*dylib));
    return ToStatus(std::move(e), "cannot add the bundle's code to the JIT");
  }
  return std::unique_ptr<LoadedCode>(new LoadedCode(std::move(code)));
}

Expected<std::unique_ptr<LoadedCode>> Engine::LoadObject(std::string_view object) {
  std::lock_guard lock(impl_->mutex);
  std::string name = "bundle-" + std::to_string(impl_->next_dylib++);
  auto dylib = impl_->jit->createJITDylib(name);
  if (!dylib) return ToStatus(dylib.takeError(), "cannot create a JITDylib");
  dylib->addToLinkOrder(impl_->jit->getMainJITDylib());
  auto code = std::make_unique<LoadedCode::Impl>();
  code->engine = impl_;
  code->dylib = &*dylib;
  code->tracker = dylib->createResourceTracker();
  auto buffer =
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()), name);
  if (llvm::Error e = impl_->jit->addObjectFile(code->tracker, std::move(buffer))) {
    llvm::consumeError(impl_->jit->getExecutionSession().removeJITDylib(*dylib));
    return ToStatus(std::move(e), "cannot add the bundle's object code to the JIT");
  }
  return std::unique_ptr<LoadedCode>(new LoadedCode(std::move(code)));
}

std::string Engine::ProcessTriple() { return llvm::sys::getProcessTriple(); }

CacheStats Engine::cache_stats() const { return impl_->cache->stats(); }

}  // namespace duet::jit

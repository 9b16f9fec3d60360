#include "tests/bundle/test_env.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include "compiler/bundler/bundler.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"

extern char** environ;

namespace duet::bundle_test {

Env& GlobalEnv() {
  static Env env;
  return env;
}

std::string Show(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.exited ? "" : " (killed by a signal)") +
         "\n--- stdout ---\n" + r.out + "\n--- stderr ---\n" + r.err;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

void ProcessTest::SetUp() {
  const Env& env = GlobalEnv();
  ASSERT_FALSE(env.duetc.empty()) << "pass --duetc=PATH or set DUETC to the duetc binary";
  ASSERT_FALSE(env.duet.empty()) << "pass --duet=PATH or set DUET to the duet binary";
  ASSERT_FALSE(env.repo_root.empty()) << "pass --repo-root=PATH or set DUET_REPO_ROOT";
  ASSERT_TRUE(fs::exists(env.duetc)) << env.duetc;
  ASSERT_TRUE(fs::exists(env.duet)) << env.duet;
  std::string pattern = (fs::temp_directory_path() / "duet_bundle_XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
  dir_ = pattern;
}

void ProcessTest::TearDown() {
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

fs::path ProcessTest::Write(const std::string& name, std::string_view bytes) {
  fs::path path = dir_ / name;
  fs::create_directories(path.parent_path());
  WriteAll(path, bytes);
  return path;
}

RunResult ProcessTest::Run(const std::string& binary, const std::vector<std::string>& args,
                           std::string_view stdin_text, const fs::path& cwd) {
  RunResult result;
  fs::path in_path = dir_ / ".stdin";
  fs::path out_path = dir_ / ".stdout";
  fs::path err_path = dir_ / ".stderr";
  WriteAll(in_path, stdin_text);
  std::string dir = (cwd.empty() ? fs::path(GlobalEnv().repo_root) : cwd).string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << binary << ": " << std::strerror(rc);
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exited = WIFEXITED(status);
  result.exit_code = result.exited ? WEXITSTATUS(status) : -WTERMSIG(status);
  result.out = ReadAll(out_path);
  result.err = ReadAll(err_path);
  return result;
}

fs::path ProcessTest::CompileWithDuetc(const std::vector<std::string>& paths,
                                       const std::string& name,
                                       const std::vector<std::string>& extra_args) {
  fs::path output = dir_ / name;
  std::vector<std::string> args = {"compile"};
  args.insert(args.end(), paths.begin(), paths.end());
  args.insert(args.end(), {"-o", output.string()});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  RunResult r = Duetc(args);
  EXPECT_EQ(r.exit_code, kExitClean) << Show(r);
  EXPECT_TRUE(fs::exists(output)) << Show(r);
  return output;
}

bundle::Contents BuildContents(const std::vector<std::string>& paths, bool include_object) {
  std::unique_ptr<frontend::Result> result = frontend::CheckPaths(paths, frontend::Options{});
  if (result == nullptr || !result->ok() || !result->checked) {
    ADD_FAILURE() << "the maps do not check:\n"
                  << (result ? diag::RenderText(result->diagnostics, result->sources,
                                                diag::RenderOptions{})
                             : "");
    return {};
  }
  bundler::Options options;
  options.include_object = include_object;
  Expected<bundle::Contents> contents = bundler::Build(*result, options);
  if (!contents.ok()) {
    ADD_FAILURE() << "bundler::Build failed: " << contents.status().message();
    return {};
  }
  return std::move(*contents);
}

uint32_t GetU32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(bytes[at + static_cast<size_t>(i)]);
  return v;
}

uint64_t GetU64(std::string_view bytes, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(bytes[at + static_cast<size_t>(i)]);
  return v;
}

void PutU32(std::string& bytes, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

void PutU64(std::string& bytes, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

Layout Layout::Of(std::string_view bytes) {
  Layout layout;
  if (bytes.size() < kHeaderSize) return layout;
  layout.version = GetU32(bytes, 8);
  layout.count = GetU32(bytes, 12);
  layout.content_length = GetU64(bytes, 16);
  for (uint32_t i = 0;
       i < layout.count && kHeaderSize + kSectionEntrySize * (i + 1) <= bytes.size(); ++i) {
    size_t entry = kHeaderSize + kSectionEntrySize * i;
    layout.sections.push_back(
        {GetU32(bytes, entry), GetU64(bytes, entry + 8), GetU64(bytes, entry + 16)});
  }
  layout.is_signed = bytes.size() == layout.content_length + kDigestSize + kSignatureBlockSize;
  return layout;
}

void RewriteDigest(std::string& bytes) {
  uint64_t content_length = GetU64(bytes, 16);
  bundle::Digest d = bundle::Sha256(std::string_view(bytes).substr(0, content_length));
  bytes.replace(content_length, d.size(), reinterpret_cast<const char*>(d.data()), d.size());
}

TextKeys NewTextKeys() {
  bundle::KeyPair pair = bundle::GenerateKeyPair();
  return {bundle::FormatPublicKey(pair.public_key), bundle::FormatSecretKey(pair.secret_key)};
}

}  // namespace duet::bundle_test

#include "compiler/driver/docs_command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "compiler/docs/docs.h"
#include "runtime/base/status.h"

extern char** environ;

namespace duet::driver {
namespace {

namespace fs = std::filesystem;

constexpr int kExitClean = 0;
constexpr int kExitIo = 2;

Status WriteText(const fs::path& path, std::string_view text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.flush();
  if (!file) return IoError(fmt::format("cannot write '{}'", path.string()));
  return Status::Ok();
}

std::string ReadText(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// Removes a temporary directory and everything in it when it goes out of scope.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(fs::path path) : path_(std::move(path)) {}
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  ~TemporaryDirectory() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs Graphviz's `dot -Tsvg` on `source`. Its input, output and messages go
// through files in a private temporary directory: no pipe can fill up, and a
// failed run leaves nothing half-written in the output directory.
Expected<std::string> RenderSvg(const std::string& source) {
  std::string pattern = (fs::temp_directory_path() / "duetc_docs_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return IoError(fmt::format("cannot make a temporary directory: {}", std::strerror(errno)));
  }
  TemporaryDirectory temporary{fs::path(pattern)};
  fs::path input = temporary.path() / docs::kGraphFile;
  fs::path output = temporary.path() / docs::kDiagramFile;
  fs::path messages = temporary.path() / "dot.stderr";
  if (Status written = WriteText(input, source); !written.ok()) return written;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, messages.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = {"dot", "-Tsvg", "-o", output.string(), input.string()};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT) {
    return NotFoundError(
        fmt::format("Graphviz 'dot' is not on PATH, so {} cannot be drawn: install Graphviz "
                    "(Debian: apt-get install graphviz), or pass --no-svg to write the pages "
                    "without the diagram",
                    docs::kDiagramFile));
  }
  if (rc != 0) return IoError(fmt::format("cannot run Graphviz 'dot': {}", std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string said = ReadText(messages);
    return IoError(fmt::format("Graphviz 'dot -Tsvg' failed ({} {}){}{}",
                               WIFEXITED(status) ? "exit" : "signal",
                               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                               said.empty() ? "" : ":\n", said));
  }
  return ReadText(output);
}

int Fail(const Status& status) {
  std::cerr << "duetc: " << status.message() << "\n";
  return kExitIo;
}

}  // namespace

int WriteDocs(const frontend::Result& result, const DocsFlags& flags) {
  docs::Files files = docs::Generate(*result.checked);
  if (!flags.no_svg) {
    Expected<std::string> svg = RenderSvg(files.at(std::string(docs::kGraphFile)));
    if (!svg.ok()) return Fail(svg.status());
    files.emplace(docs::kDiagramFile, std::move(*svg));
  }

  fs::path directory(flags.output);
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec || !fs::is_directory(directory)) {
    return Fail(IoError(fmt::format("cannot make the directory '{}': {}", flags.output,
                                    ec ? ec.message() : "a file of that name exists")));
  }
  for (const auto& [name, text] : files) {
    if (Status written = WriteText(directory / name, text); !written.ok()) return Fail(written);
  }

  std::vector<std::string> removed;
  // Error codes throughout: a directory that changes under us is an I/O
  // problem to report, not an exception to escape main.
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    bool stale_page = it->path().extension() == ".md" && !files.contains(name);
    bool stale_svg = flags.no_svg && name == docs::kDiagramFile;
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && (stale_page || stale_svg)) removed.push_back(name);
  }
  if (ec) return Fail(IoError(fmt::format("cannot list '{}': {}", flags.output, ec.message())));
  std::sort(removed.begin(), removed.end());
  for (const std::string& name : removed) {
    if (!fs::remove(directory / name, ec) && ec) {
      return Fail(IoError(
          fmt::format("cannot remove '{}': {}", (directory / name).string(), ec.message())));
    }
  }
  std::cerr << fmt::format("wrote {} files to {}{}{}\n", files.size(), flags.output,
                           removed.empty() ? "" : "; removed ", fmt::join(removed, ", "));
  return kExitClean;
}

}  // namespace duet::driver

#include "tests/support/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>

#include "runtime/base/files.h"

extern char** environ;

namespace duet::test {
namespace {

// Part of the template's name: change it when what the template holds
// changes (initdb options, the role, the database), so that no test process
// uses a template an older harness made.
constexpr std::string_view kTemplateFormat = "1";

// Free ports are taken from here: below the kernel's ephemeral range
// (32768 and up), where outgoing connections take their local ports.
constexpr int kPortLow = 20000;
constexpr int kPortHigh = 32000;
constexpr int kLaunchAttempts = 8;

constexpr auto kToolTimeout = std::chrono::minutes(3);

// Written by the server's log when the postmaster exits, also after a
// failed start ("could not create any TCP/IP sockets").
constexpr std::string_view kShutDownLine = "database system is shut down";

// The OS user that runs initdb and postgres.
struct ServerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  bool via_runuser = false;  // the tests run as root: runuser -u postgres --
};

std::string SetupHint() {
  return "run scripts/setup.sh (it installs postgresql-15 and libpq-dev; CI runs it first)";
}

fs::path DefaultBinDir() {
  const char* env = std::getenv("DUET_PG_BINDIR");
  if (env != nullptr && *env != '\0') return env;
  return DUET_PG_BINDIR_DEFAULT;
}

fs::path RunuserPath() {
  for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return {};
}

Expected<ServerUser> GetServerUser() {
  ServerUser user;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return FailedPreconditionError(
          "the tests run as root, and PostgreSQL refuses to: it runs as the 'postgres' OS user, "
          "which does not exist; " +
          SetupHint() + " (the postgresql-15 package creates that user)");
    }
    if (RunuserPath().empty()) {
      return FailedPreconditionError("the tests run as root and runuser is missing (util-linux)");
    }
    user = {pw->pw_name, pw->pw_uid, pw->pw_gid, true};
  } else {
    const passwd* pw = getpwuid(geteuid());
    if (pw == nullptr) return FailedPreconditionError("no passwd entry for the current user");
    user = {pw->pw_name, pw->pw_uid, pw->pw_gid, false};
  }
  return user;
}

// The OS user that runs the tests (and psql); the superuser's peer map
// admits it.
std::string TestOsUser() {
  const passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? std::string(pw->pw_name) : std::to_string(geteuid());
}

std::vector<std::string> AsServerUser(const ServerUser& user, std::vector<std::string> argv) {
  if (!user.via_runuser) return argv;
  std::vector<std::string> wrapped = {RunuserPath().string(), "-u", user.name, "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

// Whether every directory from / down to `dir` lets other users through,
// as the `postgres` OS user must be let through to its directories.
bool TraversableByOthers(const fs::path& dir) {
  fs::path path;
  for (const fs::path& part : dir) {
    path /= part;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
  }
  return true;
}

// The private directories live here. A unix socket path has at most 107
// bytes, so a long TMPDIR gives way to /tmp, as does one the `postgres` user
// cannot reach when the tests run as root.
fs::path TempBase() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec || base.string().size() > 64 || (geteuid() == 0 && !TraversableByOthers(base))) {
    base = "/tmp";
  }
  return base;
}

// The environment of every PostgreSQL program the harness runs: none of the
// caller's PG* variables (PGHOST, PGPASSWORD, PGSERVICE, ...), no
// ~/.pgpass, English messages.
EnvChanges HermeticEnv(const fs::path& dir) {
  EnvChanges env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, 2) == "PG")
      env[std::string(entry.substr(0, entry.find('=')))] = std::nullopt;
  }
  env["PGPASSFILE"] = (dir / "no-pgpass").string();
  env["LC_MESSAGES"] = "C";
  return env;
}

Status ChownToServer(const fs::path& path, const ServerUser& user) {
  if (!user.via_runuser) return Status::Ok();
  if (lchown(path.c_str(), user.uid, user.gid) != 0) {
    return IoError("cannot chown '" + path.string() + "' to " + user.name + ": " +
                   std::strerror(errno));
  }
  return Status::Ok();
}

Status WriteServerFile(const fs::path& path, std::string_view text, const ServerUser& user) {
  Status s = WriteFileAtomically(path.string(), text, kPrivateFileMode);
  if (!s.ok()) return s;
  return ChownToServer(path, user);
}

// Field 22 of /proc/PID/stat (the start time in clock ticks since boot),
// which with the PID names one process even after PIDs wrap; "" when the
// process does not exist. `state` gets field 3 ('Z' for a zombie).
std::string ProcStartTime(pid_t pid, char* state) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return "";
  size_t paren = line.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  std::vector<std::string> rest;
  while (fields >> field) rest.push_back(field);
  // rest[0] is field 3 (state), so field 22 is rest[19].
  if (rest.size() < 20) return "";
  *state = rest[0].empty() ? '?' : rest[0][0];
  return rest[19];
}

// A new private directory (mode 0700) owned by the server user, with an
// owner file naming this process, so that SweepLeftoverServers can tell a
// directory whose test process is gone.
Expected<fs::path> MakePrivateDir(const std::string& stem, const ServerUser& user) {
  std::string pattern = (TempBase() / (stem + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a directory like '" + pattern + "': " + std::strerror(errno));
  }
  fs::path dir = pattern;
  char state = 0;
  std::string owner = std::to_string(getpid()) + " " + ProcStartTime(getpid(), &state) + "\n";
  Status s = WriteFileAtomically((dir / "owner").string(), owner, kPrivateFileMode);
  if (s.ok()) s = ChownToServer(dir, user);
  if (!s.ok()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return s;
  }
  return dir;
}

bool ProcessAlive(pid_t pid) {
  char state = 0;
  return !ProcStartTime(pid, &state).empty() && state != 'Z';
}

bool OwnerAlive(const fs::path& owner_file) {
  std::istringstream in(ReadFile(owner_file));
  long pid = 0;
  std::string start;
  if (!(in >> pid >> start) || pid <= 0) return false;
  char state = 0;
  return ProcStartTime(static_cast<pid_t>(pid), &state) == start && state != 'Z';
}

std::optional<pid_t> ReadPostmasterPid(const fs::path& data_dir) {
  std::ifstream in(data_dir / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// Whether `pid` is a postgres process of `data_dir` (pg_ctl starts it as
// `postgres -D "DATA"`), so that a stale postmaster.pid whose PID now
// belongs to something else is never signalled.
bool IsPostmasterOf(pid_t pid, const fs::path& data_dir) {
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : cmdline) {
    if (c == '\0') c = ' ';
  }
  return cmdline.find("postgres") != std::string::npos &&
         cmdline.find(data_dir.string()) != std::string::npos;
}

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string ReadFrom(const fs::path& path, uintmax_t offset) {
  std::string text = ReadFile(path);
  return offset < text.size() ? text.substr(offset) : std::string();
}

std::string TrimTrailingNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string Hex(uint64_t value, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) {
    out[static_cast<size_t>(i)] = "0123456789abcdef"[value & 0xf];
  }
  return out;
}

std::string RandomHex(int bytes) {
  std::random_device random;
  std::string out;
  for (int i = 0; i < bytes; i += 4) out += Hex(random(), 8);
  return out.substr(0, static_cast<size_t>(bytes) * 2);
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

Status Failed(const std::string& what, const std::vector<std::string>& argv, const RunResult& r) {
  return UnavailableError(what + "\n" + Show(argv, r));
}

// Runs a PostgreSQL program; OK when it exits 0.
Status RunTool(const std::vector<std::string>& argv, const fs::path& dir, const std::string& what,
               std::string_view stdin_text = "") {
  RunResult r = RunProcess(argv, dir, dir, stdin_text, HermeticEnv(dir), kToolTimeout);
  if (r.exited && r.exit_code == 0) return Status::Ok();
  return Failed(what, argv, r);
}

// Whether a port is free on 127.0.0.1 now (the server binds it a moment
// later; a clash in between is caught by Launch, which tries another).
bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

int PickPort() {
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int> pick(kPortLow, kPortHigh - 1);
  int port = pick(random);
  for (int i = 0; i < 200 && !PortFree(port); ++i) port = pick(random);
  return port;
}

struct Launched {
  Status status;
  bool port_in_use = false;
};

// Starts the cluster in `data` with pg_ctl (not waiting) and polls
// pg_isready on its socket until it accepts connections, the log says the
// postmaster exited, or `deadline` passes.
Launched LaunchCluster(const fs::path& bin, const ServerUser& user, const fs::path& dir, int port,
                       std::chrono::milliseconds deadline) {
  fs::path data = dir / "data";
  fs::path log = dir / "server.log";
  std::error_code ec;
  uintmax_t offset = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
  Launched result;
  result.status = RunTool(AsServerUser(user, {(bin / "pg_ctl").string(), "start", "-W", "-D",
                                              data.string(), "-l", log.string()}),
                          dir, "pg_ctl start failed");
  if (!result.status.ok()) return result;

  std::vector<std::string> isready = {(bin / "pg_isready").string(), "-q", "-h", dir.string(), "-p",
                                      std::to_string(port)};
  EnvChanges env = HermeticEnv(dir);
  bool exited = false;
  bool ready = PollUntil(
      [&] {
        RunResult r = RunProcess(isready, dir, dir, "", env, kToolTimeout);
        if (r.exited && r.exit_code == 0) return true;
        exited = ReadFrom(log, offset).find(kShutDownLine) != std::string::npos;
        return exited;
      },
      deadline, std::chrono::milliseconds(10));
  std::string new_log = ReadFrom(log, offset);
  if (ready && !exited) return result;
  if (exited) {
    result.port_in_use = new_log.find("Address already in use") != std::string::npos;
    result.status = UnavailableError("PostgreSQL did not start (" + data.string() +
                                     "); its log:\n" + Tail(new_log, 4000));
    return result;
  }
  // Not up in time: stop whatever is there, so that nothing is left running.
  (void)RunTool(AsServerUser(user, {(bin / "pg_ctl").string(), "stop", "-D", data.string(), "-m",
                                    "immediate", "-w", "-t", "60"}),
                dir, "pg_ctl stop failed");
  result.status =
      UnavailableError("PostgreSQL was not accepting connections on port " + std::to_string(port) +
                       " after " + std::to_string(deadline.count()) + " ms (" + data.string() +
                       "); its log:\n" + Tail(new_log, 4000));
  return result;
}

Status StopCluster(const fs::path& bin, const ServerUser& user, const fs::path& dir,
                   const char* mode) {
  fs::path data = dir / "data";
  std::vector<std::string> argv = AsServerUser(
      user, {(bin / "pg_ctl").string(), "stop", "-D", data.string(), "-m", mode, "-w", "-t", "60"});
  RunResult r = RunProcess(argv, dir, dir, "", HermeticEnv(dir), kToolTimeout);
  if (r.exited && r.exit_code == 0) return Status::Ok();
  // pg_ctl says so when no server runs there: nothing to stop.
  if (r.err.find("Is server running?") != std::string::npos) return Status::Ok();
  return Failed(std::string("pg_ctl stop -m ") + mode + " failed", argv, r);
}

// The template cluster: made by initdb once, with the test role and
// database, then copied for every server.
struct Template {
  fs::path dir;  // TEMP/duet-pg-template-HASH, with data/ and password
  std::string password;
};

bool TemplateUsable(const fs::path& dir, const ServerUser& user, Template* out) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != user.uid) return false;
  std::error_code ec;
  if (!fs::exists(dir / "data" / "PG_VERSION", ec)) return false;
  std::string password = TrimTrailingNewlines(ReadFile(dir / "password"));
  if (password.empty()) return false;
  *out = {dir, password};
  return true;
}

Expected<Template> BuildTemplate(const fs::path& bin, const ServerUser& user,
                                 const fs::path& final_dir) {
  Expected<fs::path> made = MakePrivateDir(final_dir.filename().string() + ".tmp-", user);
  if (!made.ok()) return made.status();
  fs::path dir = *made;
  auto cleanup = [&](Status s) -> Expected<Template> {
    (void)StopCluster(bin, user, dir, "immediate");
    std::error_code ec;
    fs::remove_all(dir, ec);
    return s;
  };
  fs::path data = dir / "data";
  // trust only while the template is made: every server gets its own
  // pg_hba.conf. -N (no fsync) because nothing here must survive a power cut.
  Status s = RunTool(
      AsServerUser(user, {(bin / "initdb").string(), "-D", data.string(), "-U", user.name, "-A",
                          "trust", "-N", "-E", "UTF8", "--locale=C", "--no-instructions"}),
      dir, "initdb failed");
  if (!s.ok()) return cleanup(s);
  {
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << "\n# Written by tests/support/pg_server.cc: each server's settings.\n"
            "include_if_exists = 'duet_test.conf'\n";
    if (!conf.good())
      return cleanup(IoError("cannot append to " + (data / "postgresql.conf").string()));
  }
  // A socket-only run (no TCP, so no port to clash) to create the role and
  // the database once.
  constexpr int kTemplatePort = 5432;
  s = WriteServerFile(data / "duet_test.conf",
                      "listen_addresses = ''\nport = " + std::to_string(kTemplatePort) +
                          "\nunix_socket_directories = '" + dir.string() + "'\nfsync = off\n",
                      user);
  if (!s.ok()) return cleanup(s);
  Launched launched = LaunchCluster(bin, user, dir, kTemplatePort, std::chrono::seconds(60));
  if (!launched.status.ok()) return cleanup(launched.status);
  std::string password = "duet-test-" + RandomHex(16);
  s = RunTool({(bin / "psql").string(), "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-d",
               "host=" + dir.string() + " port=" + std::to_string(kTemplatePort) +
                   " dbname=postgres user=" + user.name},
              dir, "creating the test role and database failed",
              "CREATE ROLE " + std::string(PgServer::kUser) + " LOGIN REPLICATION PASSWORD '" +
                  password + "';\nCREATE DATABASE " + std::string(PgServer::kDatabase) + " OWNER " +
                  std::string(PgServer::kUser) + ";\n");
  if (!s.ok()) return cleanup(s);
  s = StopCluster(bin, user, dir, "fast");
  if (!s.ok()) return cleanup(s);
  std::error_code ec;
  fs::remove(data / "duet_test.conf", ec);
  fs::remove(data / "postmaster.opts", ec);
  fs::remove(dir / "server.log", ec);
  s = WriteServerFile(dir / "password", password + "\n", user);
  if (!s.ok()) return cleanup(s);
  fs::remove(dir / "owner", ec);
  // Publish it whole; when another test process was first, use theirs.
  if (std::rename(dir.c_str(), final_dir.c_str()) != 0) {
    fs::remove_all(dir, ec);
    Template theirs;
    if (TemplateUsable(final_dir, user, &theirs)) return theirs;
    return IoError("cannot publish the template cluster at " + final_dir.string());
  }
  return Template{final_dir, password};
}

// The template for `bin` and `user`, made when no test process has made it
// yet; built at most once per process.
Expected<Template> GetTemplate(const fs::path& bin, const ServerUser& user) {
  static std::mutex mutex;
  static std::map<std::string, Template> made;  // by programs and server user
  std::lock_guard<std::mutex> guard(mutex);
  std::string made_key = bin.string() + "\n" + user.name;
  auto found = made.find(made_key);
  if (found != made.end()) return found->second;
  // The template's name: the harness's template format, the programs and
  // their version, and the server user (the superuser's name).
  std::vector<std::string> version_argv = {(bin / "initdb").string(), "--version"};
  RunResult version = RunProcess(version_argv, TempBase(), TempBase(), "", {}, kToolTimeout);
  if (!version.exited || version.exit_code != 0 || version.out.empty()) {
    return Failed("initdb --version failed", version_argv, version);
  }
  std::string key = std::string(kTemplateFormat) + "\n" + made_key + "\n" + version.out;
  fs::path final_dir = TempBase() / ("duet-pg-template-" + Hex(Fnv1a(key), 16));
  // One test process makes it while the others (ctest -j) wait, instead of
  // each running initdb; the lock goes away with its process.
  std::string lock_path = final_dir.string() + ".lock";
  int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock < 0) return IoError("cannot open '" + lock_path + "': " + std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> unlock(&lock, [](int* fd) { close(*fd); });
  // Owned like the template, so that the server user running the tests
  // itself (not as root) can take it too.
  if (user.via_runuser && fchown(lock, user.uid, user.gid) != 0) {
    return IoError("cannot chown '" + lock_path + "': " + std::strerror(errno));
  }
  while (flock(lock, LOCK_EX) != 0) {
    if (errno != EINTR) return IoError("cannot lock '" + lock_path + "': " + std::strerror(errno));
  }
  Template t;
  if (!TemplateUsable(final_dir, user, &t)) {
    struct stat st {};
    if (lstat(final_dir.c_str(), &st) == 0) {
      if (st.st_uid != user.uid) {
        return FailedPreconditionError(final_dir.string() + " belongs to another user; remove it");
      }
      std::error_code ec;
      fs::remove_all(final_dir, ec);  // half there: made again
    }
    Expected<Template> built = BuildTemplate(bin, user, final_dir);
    if (!built.ok()) return built.status();
    t = *built;
  }
  made[made_key] = t;
  return t;
}

Status CheckInstalled(const fs::path& bin) {
  for (const char* tool : {"initdb", "pg_ctl", "postgres", "pg_isready", "psql"}) {
    fs::path path = bin / tool;
    if (access(path.c_str(), X_OK) != 0) {
      return FailedPreconditionError("PostgreSQL 15 is not installed: no " + path.string() + "; " +
                                     SetupHint() + ", or set DUET_PG_BINDIR to its bin directory");
    }
  }
  return Status::Ok();
}

void SweepOnce(const fs::path& bin) {
  static std::once_flag once;
  std::call_once(once, [&] { SweepLeftoverServers(bin); });
}

}  // namespace

PgServer::PgServer(PgServerOptions options)
    : options_(std::move(options)),
      bin_dir_(options_.bin_dir.empty() ? DefaultBinDir() : options_.bin_dir) {}

PgServer::~PgServer() {
  const char* keep_env = std::getenv("DUET_PG_KEEP");
  bool keep = testing::Test::HasFailure() ||
              (keep_env != nullptr && *keep_env != '\0' && std::string_view(keep_env) != "0");
  if (running_) {
    // A directory about to be removed needs no shutdown checkpoint; a kept
    // one is left clean for inspection.
    Status s = keep ? Stop() : StopImmediate();
    if (!s.ok()) s = StopImmediate();
    if (!s.ok()) {
      std::optional<pid_t> pid = PostmasterPid();
      if (pid && IsPostmasterOf(*pid, data_dir())) kill(*pid, SIGKILL);
      ADD_FAILURE() << "could not stop the PostgreSQL server in " << dir_ << ": " << s.ToString();
    }
  }
  if (dir_.empty()) return;
  std::error_code ec;
  if (keep) {
    fs::remove(dir_ / "owner", ec);  // kept: the sweep leaves it alone
    std::cerr << "[ pg ] server directory kept (its log: " << log_file().string() << ")\n";
    return;
  }
  fs::remove_all(dir_, ec);
}

Status PgServer::Start() {
  if (running_) return Status::Ok();
  if (!created_) {
    Status s = Create();
    if (!s.ok()) {
      std::error_code ec;
      if (!dir_.empty()) fs::remove_all(dir_, ec);
      dir_.clear();
      return s;
    }
    created_ = true;
  }
  return Launch();
}

Status PgServer::Create() {
  Status s = CheckInstalled(bin_dir_);
  if (!s.ok()) return s;
  Expected<ServerUser> user = GetServerUser();
  if (!user.ok()) return user.status();
  SweepOnce(bin_dir_);
  Expected<Template> templ = GetTemplate(bin_dir_, *user);
  if (!templ.ok()) return templ.status();
  Expected<fs::path> dir = MakePrivateDir("duet-pg-", *user);
  if (!dir.ok()) return dir.status();
  dir_ = *dir;
  password_ = templ->password;
  // cp -a keeps the owner (the server user) and the modes (0700 data).
  s = RunTool({"/bin/cp", "-a", (templ->dir / "data").string(), data_dir().string()}, dir_,
              "copying the template cluster failed");
  if (!s.ok()) return s;
  // Who may connect: the test role (and any role a test makes) with its
  // password over TCP and the socket; the superuser only over the socket,
  // as the OS user running the tests (peer, mapped).
  std::string super = user->name;
  s = WriteServerFile(data_dir() / "pg_hba.conf",
                      "# Written by tests/support/pg_server.cc.\n"
                      "local all         " +
                          super +
                          " peer map=duet_admin\n"
                          "local replication " +
                          super +
                          " peer map=duet_admin\n"
                          "local all         all scram-sha-256\n"
                          "local replication all scram-sha-256\n"
                          "host  all         all 127.0.0.1/32 scram-sha-256\n"
                          "host  replication all 127.0.0.1/32 scram-sha-256\n",
                      *user);
  if (s.ok()) {
    s = WriteServerFile(data_dir() / "pg_ident.conf",
                        "duet_admin " + TestOsUser() + " " + super + "\n", *user);
  }
  if (!s.ok()) return s;
  port_ = PickPort();
  return Status::Ok();
}

Status PgServer::WriteServerConf() {
  Expected<ServerUser> user = GetServerUser();
  if (!user.ok()) return user.status();
  std::string conf =
      "# Written by tests/support/pg_server.cc.\n"
      "listen_addresses = '127.0.0.1'\n"
      "port = " +
      std::to_string(port_) +
      "\n"
      "unix_socket_directories = '" +
      dir_.string() +
      "'\n"
      "unix_socket_permissions = 0700\n"
      // Logical decoding (pgoutput) through replication slots.
      "wal_level = logical\n"
      "max_wal_senders = 10\n"
      "max_replication_slots = 10\n"
      // For tests only: no fsync and no full-page images. Safe for every
      // test here, crash tests included: StopImmediate (and kill -9) ends
      // processes, not the kernel, so all that was written reaches the data
      // files through the page cache and recovery replays the WAL.
      // synchronous_commit stays on: a commit is in the WAL (the kernel's
      // page cache) before the client hears of it, so an immediate stop
      // loses no committed transaction.
      "fsync = off\n"
      "full_page_writes = off\n"
      "timezone = 'UTC'\n"
      "lc_messages = 'C'\n";
  for (const auto& [name, value] : options_.settings) conf += name + " = " + value + "\n";
  return WriteServerFile(data_dir() / "duet_test.conf", conf, *user);
}

Status PgServer::Launch() {
  Expected<ServerUser> user = GetServerUser();
  if (!user.ok()) return user.status();
  // A port that another process took between PickPort and the bind makes
  // the server exit; the first start tries others, a restart keeps its port
  // (the tests' connection strings name it).
  int attempts = launched_ ? 1 : kLaunchAttempts;
  for (int attempt = 1;; ++attempt) {
    Status s = WriteServerConf();
    if (!s.ok()) return s;
    Launched launched = LaunchCluster(bin_dir_, *user, dir_, port_, options_.start_deadline);
    if (launched.status.ok()) {
      running_ = true;
      launched_ = true;
      return Status::Ok();
    }
    if (!launched.port_in_use || attempt >= attempts) return launched.status;
    port_ = PickPort();
  }
}

Status PgServer::PgCtlStop(const char* mode) {
  if (!running_) return Status::Ok();
  Expected<ServerUser> user = GetServerUser();
  if (!user.ok()) return user.status();
  Status s = StopCluster(bin_dir_, *user, dir_, mode);
  if (s.ok()) running_ = false;
  return s;
}

Status PgServer::Stop() { return PgCtlStop("fast"); }

Status PgServer::StopImmediate() { return PgCtlStop("immediate"); }

Status PgServer::Restart() {
  Status s = Stop();
  if (!s.ok()) return s;
  return Start();
}

std::optional<pid_t> PgServer::PostmasterPid() const {
  if (dir_.empty()) return std::nullopt;
  return ReadPostmasterPid(data_dir());
}

std::string PgServer::LogTail(size_t bytes) const { return Tail(ReadFile(log_file()), bytes); }

std::string PgServer::Uri() const {
  return "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" +
         std::string(kDatabase);
}

std::string PgServer::ConnInfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + std::string(kDatabase) +
         " user=" + std::string(kUser);
}

std::string PgServer::SocketConnInfo() const {
  return "host=" + dir_.string() + " port=" + std::to_string(port_) +
         " dbname=" + std::string(kDatabase) + " user=" + std::string(kUser);
}

std::string PgServer::ConnInfoWithPassword() const { return ConnInfo() + " password=" + password_; }

RunResult PgServer::RunPsql(std::string_view conninfo, const std::optional<std::string>& password,
                            std::string_view sql) const {
  EnvChanges env = HermeticEnv(dir_);
  if (password.has_value()) env["PGPASSWORD"] = *password;
  // -w: never prompt for a password (there is no terminal to answer).
  return RunProcess({(bin_dir_ / "psql").string(), "-X", "-A", "-t", "-q", "-w", "-v",
                     "ON_ERROR_STOP=1", "-d", std::string(conninfo)},
                    dir_, dir_, sql, env, kToolTimeout);
}

namespace {

Expected<std::string> PsqlOutput(const RunResult& r) {
  if (r.exited && r.exit_code == 0) return TrimTrailingNewlines(r.out);
  return UnavailableError("psql failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
}

}  // namespace

Expected<std::string> PgServer::Psql(std::string_view sql) const {
  return PsqlOutput(RunPsql(ConnInfo(), password_, sql));
}

Expected<std::string> PgServer::AdminPsql(std::string_view sql, std::string_view database) const {
  Expected<ServerUser> user = GetServerUser();
  if (!user.ok()) return user.status();
  std::string conninfo = "host=" + dir_.string() + " port=" + std::to_string(port_) +
                         " dbname=" + std::string(database.empty() ? kDatabase : database) +
                         " user=" + user->name;
  return PsqlOutput(RunPsql(conninfo, std::nullopt, sql));
}

Expected<int> PgServer::TerminateSessions(std::string_view application_name) const {
  Expected<std::string> out = AdminPsql(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = " +
      std::string("'") + std::string(application_name) + "'");
  if (!out.ok()) return out.status();
  return std::atoi(out->c_str());
}

Status PgServer::GrantReplicationOrigins(std::string_view database) const {
  return AdminPsql(
             "GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text),"
             " pg_replication_origin_drop(text), pg_replication_origin_oid(text),"
             " pg_replication_origin_session_setup(text), pg_replication_origin_session_reset(),"
             " pg_replication_origin_session_is_setup() TO " +
                 std::string(kUser),
             database)
      .status();
}

int SweepLeftoverServers(const fs::path& bin_dir) {
  fs::path bin = bin_dir.empty() ? DefaultBinDir() : bin_dir;
  Expected<ServerUser> user = GetServerUser();
  if (!user.ok()) return 0;
  int removed = 0;
  std::error_code ec;
  fs::directory_iterator it(TempBase(), fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    fs::path dir = it->path();
    if (dir.filename().string().rfind("duet-pg-", 0) != 0) continue;
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != user->uid) continue;
    // No owner file: being made right now, a template, or kept on purpose.
    fs::path owner = dir / "owner";
    std::error_code exists_ec;
    if (!fs::exists(owner, exists_ec) || OwnerAlive(owner)) continue;
    std::optional<pid_t> pid = ReadPostmasterPid(dir / "data");
    if (pid && ProcessAlive(*pid) && IsPostmasterOf(*pid, dir / "data")) {
      std::cerr << "[ pg ] stopping a server left by a test process that is gone: " << dir.string()
                << "\n";
      if (!StopCluster(bin, *user, dir, "immediate").ok()) kill(*pid, SIGKILL);
    }
    std::error_code remove_ec;
    fs::remove_all(dir, remove_ec);
    if (!remove_ec) ++removed;
  }
  return removed;
}

}  // namespace duet::test

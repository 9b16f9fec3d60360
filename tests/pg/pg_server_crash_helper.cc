// Plays a test process that crashes with a PostgreSQL server running: starts
// a PgServer, writes its directory and postmaster PID to the file named by
// argv[1] (two lines), and exits without running any destructor, so the
// server is left behind. pg_server_test runs it.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "tests/support/pg_server.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: pg_server_crash_helper OUT_FILE\n";
    return 2;
  }
  auto* server = new duet::test::PgServer();  // never deleted: left running
  duet::Status s = server->Start();
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  std::optional<pid_t> pid = server->PostmasterPid();
  {
    std::ofstream out(argv[1]);
    out << server->dir().string() << "\n" << (pid ? *pid : 0) << "\n";
  }
  std::_Exit(0);
}

#!/usr/bin/env bash
# Installs the Debian 12 packages duet needs to build and test.
# Idempotent: when everything is present it only asks dpkg and exits (no apt-get).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  antlr4 libantlr4-runtime-dev default-jre-headless
  llvm-16-dev
  libfmt-dev nlohmann-json3-dev libcli11-dev libsodium-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 libcpp-httplib-dev
  # PostgreSQL 15: the server and its programs (initdb, pg_ctl, psql, ...,
  # in /usr/lib/postgresql/15/bin) for the throwaway servers the tests start
  # (tests/support/pg_server.h), and libpq to build against.
  postgresql-15 postgresql-client-15 libpq-dev
  clang libclang-rt-14-dev
  python3
  graphviz
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: dpkg-query/apt-get not found; this script supports Debian 12 only" >&2
  exit 1
fi

echo "setup: checking ${#PACKAGES[@]} packages"
missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("${pkg}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup: missing packages (${missing[*]}) and not root and no sudo" >&2
    exit 1
  fi
fi

# apt's own output is kept in a log and shown only when a step fails.
log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
run_logged() {
  if ! "$@" >"${log}" 2>&1; then
    cat "${log}" >&2
    echo "setup: FAILED: $*" >&2
    exit 1
  fi
}

echo "setup: missing: ${missing[*]}"
echo "setup: apt-get update"
run_logged "${SUDO[@]}" apt-get update
echo "setup: apt-get install ${#missing[@]} package(s)"
run_logged "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: done"

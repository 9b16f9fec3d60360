# The layering test: reads the link graph duet_write_link_graph wrote
# (-DGRAPH=FILE, "target|library" lines) and checks the runtime's layers
# (docs/architecture.md, "The dependency rule"):
#   - only the SQLite endpoint and the state store link SQLite, only the
#     JIT and code generation link LLVM, and only runtime/pg (the libpq
#     wrapper) and the libpq smoke test link libpq (direct links);
#   - the engine and everything database-agnostic reach neither SQLite nor
#     LLVM nor libpq through any chain of links, nor the libraries that hold
#     an implementation (endpoint, state store, JIT loader, openers);
#   - the PostgreSQL test servers (duet_test_support) reach no libpq: they
#     drive PostgreSQL's own programs.
# Every violation is printed with the chain of links that causes it; any
# violation fails the test.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED GRAPH OR NOT EXISTS "${GRAPH}")
  message(FATAL_ERROR "layering: no link graph at '${GRAPH}' (-DGRAPH=FILE)")
endif()

set(kSqlite "SQLite::SQLite3|sqlite3")
set(kLlvm "LLVM")
# Who may link them directly: the implementations, the bench, and the
# tests that play the application with sqlite3's own API.
set(kSqliteUsers duet_endpoint_sqlite duet_state_sqlite duet_sync_bench endpoint_conformance_test
                 state_store_conformance_test engine_test)
set(kLlvmUsers duet_jit duet_codegen)
# libpq (pkg-config's imported target, or a plain library name); only code
# that needs it links it.
set(kLibpq "^(PkgConfig::LIBPQ|PostgreSQL::PostgreSQL|pq|libpq)$")
set(kLibpqUsers duet_pg pg_libpq_test)

file(STRINGS "${GRAPH}" edges)
set(targets "")
foreach(edge IN LISTS edges)
  string(FIND "${edge}" "|" bar)
  string(SUBSTRING "${edge}" 0 ${bar} from)
  math(EXPR after "${bar} + 1")
  string(SUBSTRING "${edge}" ${after} -1 to)
  list(APPEND targets "${from}")
  if(NOT to STREQUAL "")
    list(APPEND "links_${from}" "${to}")
  endif()
endforeach()
list(REMOVE_DUPLICATES targets)

set(failures 0)
macro(fail text)
  message(SEND_ERROR "layering: ${text}")
  math(EXPR failures "${failures} + 1")
endmacro()

# Direct links to a library matching `pattern` by targets not in `allowed`.
function(check_direct pattern what allowed)
  foreach(target IN LISTS targets)
    foreach(library IN LISTS links_${target})
      if(library MATCHES "${pattern}" AND NOT target IN_LIST allowed)
        fail("${target} links ${what} (${library}) directly; only ${allowed} may")
      endif()
    endforeach()
  endforeach()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

# Breadth-first over the links from `start`, not leaving the targets in
# `stop`; a library matching `pattern` is a failure, shown with its chain.
function(check_reach start pattern what stop)
  if(NOT start IN_LIST targets)
    fail("${start} is not a target (the layering rules name a library that is gone)")
    set(failures ${failures} PARENT_SCOPE)
    return()
  endif()
  set(queue "${start}")
  set(seen "${start}")
  set("chain_${start}" "${start}")
  while(queue)
    list(POP_FRONT queue node)
    if(node IN_LIST stop AND NOT node STREQUAL start)
      continue()
    endif()
    foreach(library IN LISTS links_${node})
      if(library IN_LIST seen)
        continue()
      endif()
      list(APPEND seen "${library}")
      set("chain_${library}" "${chain_${node}} -> ${library}")
      if(library MATCHES "${pattern}")
        fail("${start} reaches ${what}: ${chain_${library}}")
      endif()
      list(APPEND queue "${library}")
    endforeach()
  endwhile()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

check_direct("${kSqlite}" "SQLite" "${kSqliteUsers}")
check_direct("${kLlvm}" "LLVM" "${kLlvmUsers}")
check_direct("${kLibpq}" "libpq" "${kLibpqUsers}")

# The engine: no implementation of an endpoint, no JIT loader, no opener.
check_reach(duet_engine "^(${kLlvm}|duet_jit|duet_bundle|duet_codegen)$" "LLVM or the JIT" "")
check_reach(duet_engine
            "^(duet_endpoint_sqlite|duet_endpoint_postgres|duet_endpoint_open|duet_state_sqlite|duet_state_postgres|duet_state_open|duet_pg)$"
            "an endpoint or state store implementation" "")
check_reach(duet_engine "${kSqlite}" "SQLite" "")
check_reach(duet_engine "${kLibpq}" "libpq" "")
# Database-agnostic libraries: neither SQLite nor LLVM nor libpq.
foreach(agnostic duet_base duet_value duet_abi duet_manifest duet_config duet_endpoint_api
                 duet_state duet_jit_helpers)
  check_reach(${agnostic} "${kSqlite}" "SQLite" "")
  check_reach(${agnostic} "${kLlvm}" "LLVM" "")
  check_reach(${agnostic} "${kLibpq}" "libpq" "")
endforeach()
check_reach(duet_test_support "${kLibpq}" "libpq" "")
# Implementations stay apart: the SQLite endpoint links no LLVM, the JIT no
# SQLite, the PostgreSQL state store no SQLite.
check_reach(duet_endpoint_sqlite "${kLlvm}" "LLVM" "")
check_reach(duet_jit "${kSqlite}" "SQLite" "")
# The PostgreSQL state store reaches libpq only through duet_pg, and no
# SQLite.
check_reach(duet_state_postgres "${kSqlite}" "SQLite" "")

if(failures GREATER 0)
  message(FATAL_ERROR "layering: ${failures} violation(s)")
endif()
list(LENGTH targets count)
message(STATUS "layering: ${count} targets checked, no violation")

# postgres_tests.cmake: the store unit tests and the API suite run a second
# time against PostgreSQL. Included by CMakeLists.txt inside if(IAMD_TESTS),
# after the unit tests are defined (it refers to their targets).
#
# Each test starts its own throwaway cluster (scripts/pg-test-cluster.sh run:
# initdb in a temporary directory, a free loopback port) and stops and removes
# it when done, so they run in parallel with everything else (cluster/postgres
# starts its own: it stops and starts its server mid-test). The unit tests
# read IAMD_TEST_STORE (the cluster's maintenance URL) and create one database
# per test case; the API suite reads IAMD_TEST_DATABASE_URL_BASE and creates
# one database per iamd it starts.
#
# Skipped (not failed) at configure time when no PostgreSQL server binaries are
# installed: scripts/install-deps.sh installs Debian's postgresql.

# Debian keeps the server programs out of PATH, in /usr/lib/postgresql/<version>/bin.
file(GLOB IAMD_PG_INITDB_DEBIAN /usr/lib/postgresql/*/bin/initdb)
find_program(IAMD_PG_INITDB_ON_PATH initdb)
set(IAMD_PG_CLUSTER ${CMAKE_SOURCE_DIR}/scripts/pg-test-cluster.sh)

if(IAMD_PG_INITDB_DEBIAN OR IAMD_PG_INITDB_ON_PATH)
  foreach(pg_test test_store_sqlite test_store_access test_store_postgres test_store_copy test_store_audit test_iam_audit test_iam_sessions)
    if(TARGET ${pg_test})
      add_test(NAME unit/${pg_test}-postgres COMMAND ${IAMD_PG_CLUSTER} run $<TARGET_FILE:${pg_test}>)
      set_tests_properties(unit/${pg_test}-postgres PROPERTIES TIMEOUT 300)
    endif()
  endforeach()

  # `iamd db copy` from SQLite into PostgreSQL, then a real iamd on the copy (tests/db/copy.sh).
  find_program(JQ jq)
  find_program(CURL_PROGRAM curl)
  if(JQ AND CURL_PROGRAM AND EXISTS ${CMAKE_SOURCE_DIR}/tests/db/copy.sh)
    add_test(NAME db/copy-postgres COMMAND ${IAMD_PG_CLUSTER} run ${CMAKE_SOURCE_DIR}/tests/db/copy.sh $<TARGET_FILE:iamd>)
    set_tests_properties(db/copy-postgres PROPERTIES TIMEOUT 300)
  endif()

  find_program(NODE node)
  if(NODE AND EXISTS ${CMAKE_SOURCE_DIR}/tests/api/run-postgres.sh)
    add_test(NAME api/node-postgres
             COMMAND ${CMAKE_SOURCE_DIR}/tests/api/run-postgres.sh $<TARGET_FILE:iamd>
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(api/node-postgres PROPERTIES TIMEOUT 1200)
  endif()
  # Several iamd nodes on one database (tests/cluster): starts its own cluster, which it stops and starts again.
  if(NODE AND EXISTS ${CMAKE_SOURCE_DIR}/tests/cluster/run.sh)
    add_test(NAME cluster/postgres
             COMMAND ${CMAKE_SOURCE_DIR}/tests/cluster/run.sh $<TARGET_FILE:iamd>
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(cluster/postgres PROPERTIES TIMEOUT 300)
  endif()
else()
  message(STATUS "PostgreSQL server not found: the PostgreSQL runs of the tests are not registered")
endif()

/*
 * store_location.h: where a unit test's store lives, shared by the tests that
 * run on either backend (test_store_*.c, test_iam_audit.c,
 * test_iam_sessions.c). Owns the location switch: with IAMD_TEST_STORE set to
 * a PostgreSQL URL (a maintenance database, e.g. scripts/pg-test-cluster.sh's)
 * each test case gets a database of its own, created here and dropped
 * afterwards, instead of a SQLite file in a fresh mkdtemp directory under
 * /tmp. Also the raw access to a database behind the store's back that those
 * tests use to check what the interface hides.
 *
 * Every function here fails the running cmocka test on error instead of
 * returning one: they are fixtures, not code under test.
 */
#ifndef IAMD_TEST_SUPPORT_STORE_LOCATION_H
#define IAMD_TEST_SUPPORT_STORE_LOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store/store.h"

struct test_store_location {
    char dir[64];      /* SQLite: the mkdtemp directory; empty on PostgreSQL */
    char path[512];    /* the SQLite file, or the PostgreSQL database's URL */
    char base[512];    /* PostgreSQL: the maintenance URL the database was created through */
    char database[64]; /* PostgreSQL: the database's name; empty on SQLite */
};

/* True when `location` (may be NULL) is a PostgreSQL URL. */
bool test_is_postgres(const char *location);

/*
 * A fresh location for one test case: a database named iamd_<label>_<pid>_<n>
 * when IAMD_TEST_STORE is a PostgreSQL URL, else <dir>/iamd.db in a new
 * /tmp/iamd-<label>-XXXXXX directory. `label` is letters, digits and '_'.
 */
void test_store_location_create(struct test_store_location *location, const char *label);

/* Drops the database, or removes the SQLite file (and -wal, -shm, -journal) and its directory. */
void test_store_location_remove(const struct test_store_location *location);

/* Creates database iamd_<label>_<pid>_<n> through the maintenance URL `base`; fills base, database and path. */
void test_postgres_database_create(struct test_store_location *location, const char *base, const char *label);

/* DROP DATABASE ... WITH (FORCE) through location->base. */
void test_postgres_database_drop(const struct test_store_location *location);

/* Removes a SQLite file and its -wal, -shm and -journal companions (missing ones are fine). */
void test_sqlite_remove(const char *path);

/* iam_store_open on `location`; the test fails with the store's message when it cannot. */
struct iam_store *test_store_open(const char *location);

/* A connection to `url` with notices silenced ("database ... does not exist, skipping"); the caller PQfinishes it. */
PGconn *test_postgres_connect(const char *url);

/* Runs constant SQL (no input) on the PostgreSQL `url`. */
void test_postgres_exec(const char *url, const char *sql);

/* The first column of the first row of constant SQL run on the PostgreSQL `url`, as an integer. */
int64_t test_postgres_integer(const char *url, const char *sql);

/* The integer one query returns, run on either backend behind the store's back. */
int64_t test_store_integer(const char *location, const char *sql);

/*
 * `base` with its database name replaced by `database` and `extra` (may be
 * "") appended to its query string, into `out` (no user input: all come from
 * the test).
 */
void test_url_with_database(const char *base, const char *database, const char *extra, char *out, size_t size);

#endif

/*
 * store_location.c: the unit tests' store location switch and raw database
 * access (see store_location.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/store_location.h"

bool test_is_postgres(const char *location)
{
    return location && (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0);
}

static void quiet(void *argument, const char *message)
{
    (void)argument;
    (void)message;
}

PGconn *test_postgres_connect(const char *url)
{
    PGconn *pg = PQconnectdb(url);
    if (!pg || PQstatus(pg) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", url, pg ? PQerrorMessage(pg) : "out of memory");
    PQsetNoticeProcessor(pg, quiet, NULL);
    return pg;
}

void test_postgres_exec(const char *url, const char *sql)
{
    PGconn *pg = test_postgres_connect(url);
    PGresult *result = PQexec(pg, sql);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(result);
    PQfinish(pg);
}

int64_t test_postgres_integer(const char *url, const char *sql)
{
    PGconn *pg = test_postgres_connect(url);
    PGresult *result = PQexec(pg, sql);
    if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) < 1)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    int64_t value = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    PQclear(result);
    PQfinish(pg);
    return value;
}

int64_t test_store_integer(const char *location, const char *sql)
{
    if (test_is_postgres(location))
        return test_postgres_integer(location, sql);
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    assert_int_equal(sqlite3_open_v2(location, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &statement, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    int64_t value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

void test_url_with_database(const char *base, const char *database, const char *extra, char *out, size_t size)
{
    const char *authority = strstr(base, "://") + 3;
    size_t end = strcspn(authority, "/?");
    const char *query = strchr(authority + end, '?');
    int written = snprintf(out, size, "%.*s/%s%s%s%s", (int)(authority + end - base), base, database,
                           query ? query : "", extra[0] ? (query ? "&" : "?") : "", extra);
    assert_true(written > 0 && (size_t)written < size);
}

void test_postgres_database_create(struct test_store_location *location, const char *base, const char *label)
{
    static int counter;
    char sql[200];
    snprintf(location->base, sizeof location->base, "%s", base);
    snprintf(location->database, sizeof location->database, "iamd_%s_%ld_%d", label, (long)getpid(), ++counter);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", location->database);
    test_postgres_exec(base, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", location->database);
    test_postgres_exec(base, sql);
    test_url_with_database(base, location->database, "", location->path, sizeof location->path);
}

void test_postgres_database_drop(const struct test_store_location *location)
{
    char sql[200];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", location->database);
    test_postgres_exec(location->base, sql);
}

void test_sqlite_remove(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[600];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

void test_store_location_create(struct test_store_location *location, const char *label)
{
    memset(location, 0, sizeof *location);
    const char *base = getenv("IAMD_TEST_STORE");
    if (test_is_postgres(base)) {
        test_postgres_database_create(location, base, label);
        return;
    }
    snprintf(location->dir, sizeof location->dir, "/tmp/iamd-%s-XXXXXX", label);
    assert_non_null(mkdtemp(location->dir));
    snprintf(location->path, sizeof location->path, "%s/iamd.db", location->dir);
}

void test_store_location_remove(const struct test_store_location *location)
{
    if (location->database[0]) {
        test_postgres_database_drop(location);
        return;
    }
    test_sqlite_remove(location->path);
    rmdir(location->dir);
}

struct iam_store *test_store_open(const char *location)
{
    struct iam_store *store = NULL;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_store_open(location, &store, &err);
    if (result != IAM_OK)
        fail_msg("iam_store_open: %s: %s", iam_strerror(result), err.message);
    return store;
}

/*
 * db_command.c: `iamd db copy --from LOCATION --to LOCATION [--replace]`
 * and `iamd db --help`.
 *
 * Opens both databases (the target is created and migrated if needed; the
 * source must exist), runs iam_store_copy and prints the row counts of
 * every table. A PostgreSQL URL may hold a password: it is never printed,
 * messages say "--from" or "--to" instead (as main.c says "--database").
 * Secrets are not in the database and are not touched here.
 */
#include "db_command.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/config.h"
#include "common/log.h"
#include "store/copy.h"
#include "store/store.h"

#define SQLITE_SCHEME "sqlite:"

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: iamd db copy --from LOCATION --to LOCATION [--replace]\n"
            "\n"
            "Copies every row of an iamd database into another: accounts, users, service IDs,\n"
            "API keys (hashes, sealed values, usage counters), history, signing keys (sealed),\n"
            "settings, revoked refresh tokens, policies, custom roles, access groups and their\n"
            "members, registered services and instance metadata. The source is read in one\n"
            "consistent snapshot; the target is written in one transaction, checked (rows per\n"
            "table, source against target) before it commits, and its revision is bumped so\n"
            "running nodes reload. Prints the row counts of every table; exits 1 on any failure\n"
            "or count mismatch (and then writes nothing).\n"
            "\n"
            "LOCATION is what --database takes: sqlite:PATH or a PATH, or a libpq URL\n"
            "postgres://... / postgresql://... The source must exist; the target is created if\n"
            "needed. Both are migrated to this iamd's schema when opened, as iamd does at start.\n"
            "\n"
            "Options (each also read from its environment variable):\n"
            "  --from LOCATION       IAMD_COPY_FROM\n"
            "        The database to read.\n"
            "  --to LOCATION         IAMD_COPY_TO\n"
            "        The database to write. Refused when it holds any row, unless --replace.\n"
            "  --replace\n"
            "        Empty the target's tables first, inside the copy's transaction.\n"
            "  -h, --help\n"
            "        Show this help and exit.\n"
            "\n"
            "Passwords: prefer ~/.pgpass or PGPASSWORD, or the environment variables above,\n"
            "to a password in a URL on the command line (other users can read it in ps).\n"
            "\n"
            "Secrets are not in the database: start iamd on the target with the source's\n"
            "pepper and key-encryption key (copy <data-dir>/secrets/, or set IAMD_PEPPER and\n"
            "IAMD_KEK to the same values), or no API key and no signing key will work.\n"
            "Stop the nodes writing to the source first: writes made after the copy starts\n"
            "are not copied. See docs/operations.md, \"Moving from SQLite to PostgreSQL\".\n");
}

static bool is_postgres(const char *location)
{
    return strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0;
}

/* What messages call a location: a SQLite path as given, a PostgreSQL URL (maybe with a password) by its flag. */
static const char *label_of(const char *location, const char *flag)
{
    return is_postgres(location) ? flag : location;
}

static const char *sqlite_path(const char *location)
{
    size_t scheme = strlen(SQLITE_SCHEME);
    return strncmp(location, SQLITE_SCHEME, scheme) == 0 ? location + scheme : location;
}

/* Refuses a SQLite source that does not exist: opening it would create an empty database. */
static bool source_exists(const char *location)
{
    if (is_postgres(location))
        return true;
    struct stat info;
    return stat(sqlite_path(location), &info) == 0 && S_ISREG(info.st_mode);
}

/* Whether both locations name the same database (the same SQLite file, or the same URL). */
static bool same_database(const char *from, const char *to)
{
    if (is_postgres(from) || is_postgres(to))
        return strcmp(from, to) == 0;
    char from_real[PATH_MAX], to_real[PATH_MAX];
    if (!realpath(sqlite_path(from), from_real) || !realpath(sqlite_path(to), to_real))
        return false; /* the target does not exist yet */
    return strcmp(from_real, to_real) == 0;
}

static void print_counts(const struct iam_store_copy_report *report)
{
    int64_t source_total = 0, target_total = 0;
    printf("%-24s %12s %12s\n", "table", "source", "target");
    for (size_t i = 0; i < report->table_count; i++) {
        const struct iam_store_copy_count *count = &report->tables[i];
        if (count->source < 0)
            break; /* the source was not counted: nothing to show */
        char target[24];
        if (count->target >= 0)
            snprintf(target, sizeof target, "%lld", (long long)count->target);
        else
            snprintf(target, sizeof target, "-");
        printf("%-24s %12lld %12s%s\n", count->table, (long long)count->source, target,
               count->target >= 0 && count->target != count->source ? "  MISMATCH" : "");
        source_total += count->source;
        target_total += count->target > 0 ? count->target : 0;
    }
    printf("%-24s %12lld %12lld\n", "total", (long long)source_total, (long long)target_total);
}

static int db_copy(const char *from, const char *to, bool replace)
{
    struct iam_error err;
    iam_error_clear(&err);
    if (!from[0] || !to[0]) {
        fprintf(stderr, "iamd: db copy needs --from and --to (see iamd db --help)\n");
        return 2;
    }
    const char *from_label = label_of(from, "--from"), *to_label = label_of(to, "--to");
    if (!source_exists(from)) {
        fprintf(stderr, "iamd: db copy: the source database %s does not exist\n", from_label);
        return 1;
    }
    if (same_database(from, to)) {
        fprintf(stderr, "iamd: db copy: --from and --to name the same database\n");
        return 2;
    }
    int status = 1;
    struct iam_store *source = NULL, *target = NULL;
    if (iam_store_open(from, &source, &err) != IAM_OK) {
        fprintf(stderr, "iamd: db copy: cannot open the source database (%s): %s\n", from_label, err.message);
        goto out;
    }
    if (iam_store_open(to, &target, &err) != IAM_OK) {
        fprintf(stderr, "iamd: db copy: cannot open the target database (%s): %s\n", to_label, err.message);
        goto out;
    }
    struct iam_store_copy_options options = {.replace = replace};
    struct iam_store_copy_report report;
    enum iam_result result = iam_store_copy(source, target, &options, &report, &err);
    if (report.table_count > 0 && report.tables[0].target >= 0)
        print_counts(&report); /* the copy reached the target's counts */
    if (result == IAM_ECONFLICT) {
        fprintf(stderr, "iamd: db copy: %s; nothing was written (--replace empties the target first)\n",
                err.message);
        goto out;
    }
    if (result != IAM_OK) {
        fprintf(stderr, "iamd: db copy from %s to %s failed: %s\n", from_label, to_label, err.message);
        goto out;
    }
    printf("iamd: copied %lld rows from %s to %s; every table's count matches; the target's revision is now "
           "%lld.\n",
           (long long)report.rows, from_label, to_label, (long long)report.target_revision);
    printf("iamd: start iamd on the target with the source's pepper and KEK (<data-dir>/secrets/ or "
           "IAMD_PEPPER/IAMD_KEK).\n");
    status = 0;
out:
    iam_store_close(target);
    iam_store_close(source);
    return status;
}

int iamd_db_command(int argc, char **argv)
{
    /* Store messages below warn (migrations applied) would bury the table of counts. */
    enum iam_log_level level = IAM_LOG_WARN;
    const char *level_text = getenv("IAMD_LOG_LEVEL");
    if (level_text && iam_log_level_parse(level_text, &level) != IAM_OK) {
        fprintf(stderr, "iamd: IAMD_LOG_LEVEL must be debug, info, warn or error\n");
        return 2;
    }
    iam_log_set_level(level);

    if (argc < 3 || strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "help") == 0) {
        print_usage(argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    if (strcmp(argv[2], "copy") != 0) {
        fprintf(stderr, "iamd: unknown command 'db %s' (see iamd db --help)\n", argv[2]);
        return 2;
    }
    const char *from = "", *to = "";
    bool replace = false;
    const struct iam_setting table[] = {
        {"from", "IAMD_COPY_FROM", IAM_SETTING_STRING, "", 0, 0, false, "", &from, NULL, NULL},
        {"to", "IAMD_COPY_TO", IAM_SETTING_STRING, "", 0, 0, false, "", &to, NULL, NULL},
        /* No environment variable: a forgotten one would make every copy destructive. */
        {"replace", NULL, IAM_SETTING_BOOLEAN, "false", 0, 0, false, "", NULL, NULL, &replace},
    };
    /* A stray argument may be a URL with a password: named by position, never echoed (the loader would). */
    for (int a = 3; a < argc; a++) {
        if (strcmp(argv[a], "--from") == 0 || strcmp(argv[a], "--to") == 0) {
            a++;
        } else if (strncmp(argv[a], "-", 1) != 0) {
            fprintf(stderr,
                    "iamd: db copy: unexpected argument %d; locations follow --from and --to (see iamd db --help)\n", a);
            return 2;
        }
    }
    struct iam_error err;
    iam_error_clear(&err);
    bool help = false;
    /* argv + 2: "copy" stands where the loader expects the program's name. */
    if (iam_config_load(table, sizeof table / sizeof table[0], argc - 2, argv + 2, &help, &err) != IAM_OK) {
        fprintf(stderr, "iamd: db copy: %s\n", err.message);
        return 2;
    }
    if (help) {
        print_usage(stdout);
        return 0;
    }
    return db_copy(from, to, replace);
}

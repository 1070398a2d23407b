/*
 * audit_command.c: `iamd audit verify`, the offline check of the audit
 * trail's hash chain (iam_audit_verify; docs/operations.md).
 *
 *   iamd audit verify [--anchor SEQ:HASH] [--data-dir DIR] [--database URL]
 *
 * The database and the pepper are found exactly as iamd finds them (the
 * same flags and IAMD_* environment variables, see commands.h); the pepper
 * is read, never created. Prints the number of records verified (and the
 * events they count: an aggregate record of token requests counts many) and the head
 * (seq and hash, worth keeping outside the database as an anchor for a
 * later run), or the first broken seq and why. Exit status: 0 intact,
 * 1 broken, 2 bad usage, 3 the check could not run (no pepper, database
 * unreachable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/log.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "iam/audit.h"
#include "store/store.h"

#define EXIT_INTACT 0
#define EXIT_BROKEN 1
#define EXIT_USAGE 2
#define EXIT_UNCHECKED 3
#define ARGS_MAX 64

static const char usage[] =
    "Usage: iamd audit verify [--anchor SEQ:HASH] [iamd options: --data-dir DIR, --database URL, ...]\n"
    "\n"
    "Checks the audit trail's hash chain from its first record to its last, with the pepper\n"
    "(IAMD_PEPPER or <data-dir>/secrets/pepper). --anchor SEQ:HASH, a head printed by an earlier run\n"
    "and kept outside the database, also proves that record SEQ still has that hash.\n"
    "Exit status: 0 intact, 1 broken, 2 bad usage, 3 could not check.\n";

/* "SEQ:64 hex digits". */
static bool anchor_parse(const char *text, struct iam_audit_anchor *anchor)
{
    int64_t seq = 0;
    size_t digits = 0;
    for (; text[digits] >= '0' && text[digits] <= '9'; digits++) {
        if (digits >= 18)
            return false;
        seq = seq * 10 + (text[digits] - '0');
    }
    if (digits == 0 || seq < 1 || text[digits] != ':' || strlen(text + digits + 1) != 2 * IAM_AUDIT_HASH_SIZE)
        return false;
    if (iam_hex_decode(text + digits + 1, anchor->hash, IAM_AUDIT_HASH_SIZE) != IAM_OK)
        return false;
    anchor->seq = seq;
    return true;
}

static void print_report(const struct iam_audit_verify_report *report)
{
    char hex[2 * IAM_AUDIT_HASH_SIZE + 1];
    iam_hex_encode(report->head_hash, IAM_AUDIT_HASH_SIZE, hex);
    if (report->intact) {
        printf("audit chain intact: %lld records verified (%lld events counted)\n", (long long)report->verified,
               (long long)report->events);
        if (report->head_seq > 0)
            printf("head: %lld:%s\n", (long long)report->head_seq, hex);
        return;
    }
    if (report->broken_seq > 0)
        printf("audit chain broken at seq %lld: %s\n", (long long)report->broken_seq, report->reason);
    else
        printf("audit chain broken: %s\n", report->reason);
    printf("%lld records verified before the break\n", (long long)report->verified);
}

static int verify(int argc, char **argv)
{
    char *args[ARGS_MAX];
    int count = 0;
    struct iam_audit_anchor anchor;
    bool have_anchor = false;
    args[count++] = "iamd audit verify";
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_INTACT;
        }
        if (strcmp(argv[i], "--anchor") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "iamd audit verify: --anchor needs a value\n");
                return EXIT_USAGE;
            }
            value = argv[++i];
        } else if (strncmp(argv[i], "--anchor=", 9) == 0) {
            value = argv[i] + 9;
        } else if (count < ARGS_MAX) {
            args[count++] = argv[i];
            continue;
        } else {
            fprintf(stderr, "iamd audit verify: too many arguments\n");
            return EXIT_USAGE;
        }
        if (!anchor_parse(value, &anchor)) {
            fprintf(stderr, "iamd audit verify: --anchor must be SEQ:HASH (64 hex digits), as verify prints it\n");
            return EXIT_USAGE;
        }
        have_anchor = true;
    }

    struct iamd_store_settings settings;
    memset(&settings, 0, sizeof settings);
    int status = iamd_store_settings_load(count, args, "iamd audit verify: checks the audit trail's hash chain.",
                                          &settings);
    if (status >= 0)
        return status == 1 ? EXIT_UNCHECKED : status;

    status = EXIT_UNCHECKED;
    struct iam_store *store = NULL;
    struct iam_audit *audit = NULL;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_store_open(settings.database, &store, &err) != IAM_OK) {
        /* Never the location itself: a PostgreSQL URL may carry a password. */
        fprintf(stderr, "iamd audit verify: cannot open the database (%s): %s\n",
                strncmp(settings.database, "sqlite:", 7) == 0 ? settings.database : "--database", err.message);
        goto out;
    }
    if (iam_audit_new(store, settings.pepper, sizeof settings.pepper, IAM_AUDIT_FAIL_CLOSED, &audit) != IAM_OK) {
        fprintf(stderr, "iamd audit verify: cannot derive the audit keys from the pepper\n");
        goto out;
    }
    iam_wipe(settings.pepper, sizeof settings.pepper);
    struct iam_audit_verify_report report;
    enum iam_result result = iam_audit_verify(audit, have_anchor ? &anchor : NULL, &report);
    if (result != IAM_OK) {
        fprintf(stderr, "iamd audit verify: the audit records could not be read: %s\n", iam_strerror(result));
        goto out;
    }
    print_report(&report);
    status = report.intact ? EXIT_INTACT : EXIT_BROKEN;
out:
    iam_wipe(settings.pepper, sizeof settings.pepper);
    iam_audit_free(audit);
    iam_store_close(store);
    return status;
}

int iamd_audit_command(int argc, char **argv)
{
    /* A tool's output is its report: only warnings and errors go to the log (stderr). */
    iam_log_set_level(IAM_LOG_WARN);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return EXIT_INTACT;
    }
    fputs(usage, stderr);
    return EXIT_USAGE;
}

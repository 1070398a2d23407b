/*
 * service_fixture.h: the domain tests' service (test_iam_apikeys.c,
 * test_iam_groups.c, ...): a struct iam_service over a SQLite store in a
 * fresh /tmp directory, with the parts the test needs, torn down in one call.
 * The accounts, users and other rows each test starts with stay in the test:
 * they differ from file to file.
 */
#ifndef IAMD_TEST_SUPPORT_SERVICE_FIXTURE_H
#define IAMD_TEST_SUPPORT_SERVICE_FIXTURE_H

#include <stdbool.h>

#include "iam/principal.h"
#include "iam/service.h"

#define TEST_SERVICE_DIRECTORY_SIZE 64

/*
 * Creates /tmp/iamd-<label>-XXXXXX into `directory`, applies the default
 * options and opens the store <directory>/iamd.db into service->store. With
 * `credentials`, also what API keys need: a hasher over a random pepper, a
 * random KEK and the usage counters (hourly). Returns IAM_OK, or an error
 * (the caller fails its setup).
 */
enum iam_result test_service_open(struct iam_service *service, char directory[TEST_SERVICE_DIRECTORY_SIZE],
                                  const char *label, bool credentials) IAM_MUST_CHECK;

/*
 * Frees the engine, the usage counters and the hasher (those that are set),
 * closes the store and removes `directory`. Returns 0, or -1 when the
 * directory could not be removed (a failed teardown).
 */
int test_service_close(struct iam_service *service, const char *directory);

/* A user principal of `account_id`, its subject its own iam_id. */
struct iam_principal test_user_principal(const char *iam_id, const char *account_id);

#endif

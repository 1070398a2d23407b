/* service_fixture.c: the domain tests' service over a temporary SQLite store (service_fixture.h). */
#include "support/service_fixture.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/random.h"
#include "iam/engine.h"
#include "iam/usage.h"

enum iam_result test_service_open(struct iam_service *service, char directory[TEST_SERVICE_DIRECTORY_SIZE],
                                  const char *label, bool credentials)
{
    char location[128];
    snprintf(directory, TEST_SERVICE_DIRECTORY_SIZE, "/tmp/iamd-%s-XXXXXX", label);
    if (!mkdtemp(directory))
        return IAM_EINTERNAL;
    snprintf(location, sizeof location, "sqlite:%s/iamd.db", directory);
    struct iam_error err;
    iam_service_options_default(&service->options);
    enum iam_result result = iam_store_open(location, &service->store, &err);
    if (result != IAM_OK || !credentials)
        return result;
    uint8_t pepper[32];
    result = iam_random_bytes(pepper, sizeof pepper);
    if (result == IAM_OK)
        result = iam_hasher_new(pepper, sizeof pepper, &service->hasher);
    if (result == IAM_OK)
        result = iam_random_bytes(service->kek, sizeof service->kek);
    if (result == IAM_OK)
        result = iam_usage_new(service->store, 3600 * 1000, &service->usage);
    return result;
}

int test_service_close(struct iam_service *service, const char *directory)
{
    iam_engine_free(service->engine);
    iam_usage_free(service->usage);
    iam_hasher_free(service->hasher);
    iam_store_close(service->store);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", directory);
    return system(command) == 0 ? 0 : -1;
}

struct iam_principal test_user_principal(const char *iam_id, const char *account_id)
{
    return (struct iam_principal){
        .kind = IAM_PRINCIPAL_USER, .iam_id = iam_id, .account_id = account_id, .subject_id = iam_id};
}

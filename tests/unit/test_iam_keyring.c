/* test_iam_keyring.c: signing-key lifecycle: creation, successor, rotation, retention, reload, sealing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "crypto/random.h"
#include "iam/keyring.h"
#include "store/store.h"

#define ROTATION 1000
#define RETENTION 300
#define T0 1800000000

struct fixture {
    char directory[64];
    char location[128];
    struct iam_store *store;
    uint8_t kek[IAM_AEAD_KEY_SIZE];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->directory, sizeof f->directory, "/tmp/iamd-keyring-XXXXXX");
    if (!mkdtemp(f->directory))
        return -1;
    snprintf(f->location, sizeof f->location, "sqlite:%s/iamd.db", f->directory);
    struct iam_error err;
    if (iam_store_open(f->location, &f->store, &err) != IAM_OK)
        return -1;
    if (iam_random_bytes(f->kek, sizeof f->kek) != IAM_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_store_close(f->store);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", f->directory);
    if (system(command) != 0)
        return -1;
    free(f);
    return 0;
}

static const struct iam_keyring_options options = {.alg = IAM_JWT_ES256, .rotation = ROTATION, .retention = RETENTION};

static size_t jwks_size(struct iam_keyring *keyring, int64_t now)
{
    json_t *jwks = iam_keyring_jwks(keyring, now);
    size_t size = json_array_size(json_object_get(jwks, "keys"));
    json_decref(jwks);
    return size;
}

static char *kid_of(const char *token)
{
    /* header is the first segment: decode it cheaply by signing claims we know */
    const char *dot = strchr(token, '.');
    assert_non_null(dot);
    return strndup(token, (size_t)(dot - token));
}

static char *sign_header(struct iam_keyring *keyring, int64_t now)
{
    json_t *claims = json_pack("{s:s,s:I}", "sub", "x", "exp", (json_int_t)(now + 60));
    char *token = NULL;
    assert_int_equal(iam_keyring_sign(keyring, claims, now, &token), IAM_OK);
    json_decref(claims);
    char *header = kid_of(token);
    free(token);
    return header;
}

static void first_open_publishes_active_and_successor(void **state)
{
    struct fixture *f = *state;
    struct iam_keyring *keyring = NULL;
    struct iam_error err;
    assert_int_equal(iam_keyring_open(f->store, f->kek, &options, T0, &keyring, &err), IAM_OK);
    assert_int_equal(jwks_size(keyring, T0), 2);
    iam_keyring_free(keyring);
}

static void rotation_switches_signer_and_retains_old_key(void **state)
{
    struct fixture *f = *state;
    struct iam_keyring *keyring = NULL;
    struct iam_error err;
    assert_int_equal(iam_keyring_open(f->store, f->kek, &options, T0, &keyring, &err), IAM_OK);
    char *before = sign_header(keyring, T0);
    json_t *claims = json_pack("{s:s,s:I,s:I}", "sub", "x", "iat", (json_int_t)(T0 + ROTATION - 1), "exp",
                               (json_int_t)(T0 + ROTATION + 200));
    char *old_token = NULL;
    assert_int_equal(iam_keyring_sign(keyring, claims, T0 + ROTATION - 1, &old_token), IAM_OK);
    json_decref(claims);

    int64_t later = T0 + ROTATION + 1;
    assert_int_equal(iam_keyring_maintain(keyring, later), IAM_OK);
    char *after = sign_header(keyring, later);
    assert_string_not_equal(before, after); /* the successor signs now */
    assert_int_equal(jwks_size(keyring, later), 3); /* retired, active, new successor */

    /* A token signed just before the switch still verifies after it. */
    struct iam_jwt_verify_options verify = {.now = later + 100, .leeway = 0, .require_exp = true};
    json_t *verified = NULL;
    assert_int_equal(iam_keyring_verify(keyring, old_token, &verify, &verified, NULL), IAM_OK);
    json_decref(verified);

    /* After the retention, the retired key is gone from the JWKS and its tokens fail. */
    int64_t much_later = T0 + ROTATION + RETENTION + 1;
    assert_int_equal(iam_keyring_maintain(keyring, much_later), IAM_OK);
    assert_int_equal(jwks_size(keyring, much_later), 2);
    verify.now = much_later;
    verify.require_exp = false;
    assert_int_equal(iam_keyring_verify(keyring, old_token, &verify, &verified, NULL), IAM_EUNAUTH);
    free(old_token);
    free(before);
    free(after);
    iam_keyring_free(keyring);
}

static void reopen_loads_the_same_keys(void **state)
{
    struct fixture *f = *state;
    struct iam_keyring *keyring = NULL;
    struct iam_error err;
    assert_int_equal(iam_keyring_open(f->store, f->kek, &options, T0, &keyring, &err), IAM_OK);
    char *first = sign_header(keyring, T0 + 10);
    iam_keyring_free(keyring);
    assert_int_equal(iam_keyring_open(f->store, f->kek, &options, T0 + 20, &keyring, &err), IAM_OK);
    char *second = sign_header(keyring, T0 + 20);
    assert_string_equal(first, second);
    assert_int_equal(jwks_size(keyring, T0 + 20), 2);
    free(first);
    free(second);
    iam_keyring_free(keyring);
}

static void wrong_kek_cannot_unseal(void **state)
{
    struct fixture *f = *state;
    struct iam_keyring *keyring = NULL;
    struct iam_error err;
    assert_int_equal(iam_keyring_open(f->store, f->kek, &options, T0, &keyring, &err), IAM_OK);
    iam_keyring_free(keyring);
    uint8_t other[IAM_AEAD_KEY_SIZE];
    memcpy(other, f->kek, sizeof other);
    other[0] ^= 1;
    assert_int_equal(iam_keyring_open(f->store, other, &options, T0, &keyring, &err), IAM_ECRYPTO);
    assert_null(keyring);
    assert_non_null(strstr(err.message, "key-encryption key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(first_open_publishes_active_and_successor, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation_switches_signer_and_retains_old_key, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_loads_the_same_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_kek_cannot_unseal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

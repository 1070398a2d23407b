/*
 * passwords.c: the password policy, argon2id hashing and verification with
 * a same-cost dummy for unknown logins, password authentication, and the
 * process-wide failed-attempt limiter (rules in passwords.h, counting in
 * iam/ratelimit.c). The limiter's mutex is never held during the argon2id
 * work.
 */
#include "iam/passwords.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/time.h"
#include "iam/ratelimit.h"
#include "iam/usage.h"
#include "store/store.h"

#define LOGIN_KEY_MAX 65        /* 64 + NUL: logins are at most 64 characters */
#define LOGIN_MIN 3
#define LOGIN_MAX 64

/* --- policy and hashing --- */

/* Length of the UTF-8 sequence at `p` (1..4), 0 when malformed. */
static size_t utf8_sequence(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t length;
    uint32_t code;
    if ((p[0] & 0xe0) == 0xc0) {
        length = 2;
        code = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        length = 3;
        code = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        length = 4;
        code = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < length; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (p[i] & 0x3f);
    }
    static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return length;
}

enum iam_result iam_password_check(const char *password, struct iam_error *err)
{
    if (!password)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property password is required.");
    size_t bytes = strnlen(password, IAM_PASSWORD_BYTES_MAX + 1);
    if (bytes > IAM_PASSWORD_BYTES_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The password is longer than %d characters.",
                             IAM_PASSWORD_MAX);
    size_t characters = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p;) {
        size_t length = utf8_sequence(p);
        if (length == 0)
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The password is not valid UTF-8.");
        if (length == 1 && (*p < 0x20 || *p == 0x7f))
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The password contains a control character.");
        p += length;
        characters++;
    }
    if (characters < IAM_PASSWORD_MIN || characters > IAM_PASSWORD_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The password must have from %d to %d characters.",
                             IAM_PASSWORD_MIN, IAM_PASSWORD_MAX);
    return IAM_OK;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];
static atomic_uint_fast64_t verify_count;

/* A hash of a random password with the same parameters as real ones, so verifying against it costs the same. */
static void dummy_init(void)
{
    unsigned char secret[32];
    char text[65];
    if (sodium_init() < 0) {
        iam_log(IAM_LOG_ERROR, "password_dummy", "libsodium failed to initialise");
        return;
    }
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(text, sizeof text, secret, sizeof secret);
    if (crypto_pwhash_str_alg(dummy_hash, text, strlen(text), IAM_PASSWORD_OPSLIMIT, IAM_PASSWORD_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        dummy_hash[0] = '\0';
        iam_log(IAM_LOG_ERROR, "password_dummy", "cannot compute the dummy password hash (out of memory?)");
    }
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(text, sizeof text);
}

enum iam_result iam_password_hash(struct iam_arena *arena, const char *password, const char **hash,
                                  struct iam_error *err)
{
    *hash = NULL;
    enum iam_result result = iam_password_check(password, err);
    if (result != IAM_OK)
        return result;
    if (sodium_init() < 0)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "libsodium failed to initialise.");
    char encoded[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(encoded, password, strlen(password), IAM_PASSWORD_OPSLIMIT, IAM_PASSWORD_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Cannot hash the password (out of memory).");
    *hash = iam_arena_strdup(arena, encoded);
    return *hash ? IAM_OK : iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

bool iam_password_verify(const char *hash, const char *password)
{
    pthread_once(&dummy_once, dummy_init);
    size_t length = password ? strnlen(password, IAM_PASSWORD_BYTES_MAX + 1) : 0;
    bool usable = hash && strncmp(hash, crypto_pwhash_argon2id_STRPREFIX, strlen(crypto_pwhash_argon2id_STRPREFIX)) == 0 &&
                  strlen(hash) < crypto_pwhash_STRBYTES;
    bool candidate = usable && password && length <= IAM_PASSWORD_BYTES_MAX;
    const char *against = candidate ? hash : dummy_hash;
    if (!against[0])
        return false; /* the dummy could not be computed (logged at start) */
    int verified = crypto_pwhash_str_verify(against, candidate ? password : "", candidate ? length : 0);
    atomic_fetch_add(&verify_count, 1);
    return candidate && verified == 0;
}

uint64_t iam_password_verify_count(void)
{
    return atomic_load(&verify_count);
}

/* --- failure limits (iam/ratelimit.h, with the numbers of passwords.h) --- */

static pthread_once_t limiter_once = PTHREAD_ONCE_INIT;
static struct iam_ratelimit *limiter; /* process-wide; NULL when it could not be created */

static void limiter_init(void)
{
    struct iam_ratelimit_options options = {
        .window = IAM_PASSWORD_WINDOW_S,
        .address_max = IAM_PASSWORD_ADDRESS_FAILURES_MAX,
        .subject_max = IAM_PASSWORD_USER_FAILURES_MAX,
        .subject_rule = IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES,
    };
    if (iam_ratelimit_new(&options, &limiter) != IAM_OK) {
        limiter = NULL;
        iam_log(IAM_LOG_ERROR, "password_limits", "cannot create the failed sign-in limits (out of memory?)");
    }
}

static struct iam_ratelimit *password_limiter(void)
{
    pthread_once(&limiter_once, limiter_init);
    return limiter;
}

enum iam_result iam_password_limit_begin(const char *login, const char *address, int64_t now, int64_t *retry_after)
{
    struct iam_ratelimit *limits = password_limiter();
    *retry_after = 0;
    if (!limits)
        return IAM_ENOMEM;
    return iam_ratelimit_begin(limits, login ? login : "", address, now, retry_after);
}

void iam_password_limit_end(const char *login, const char *address, enum iam_password_attempt outcome, int64_t now)
{
    static const enum iam_ratelimit_outcome outcomes[] = {
        [IAM_PASSWORD_ATTEMPT_SUCCEEDED] = IAM_RATELIMIT_SUCCEEDED,
        [IAM_PASSWORD_ATTEMPT_FAILED] = IAM_RATELIMIT_FAILED,
        [IAM_PASSWORD_ATTEMPT_VOID] = IAM_RATELIMIT_VOID,
    };
    (void)iam_ratelimit_end(password_limiter(), login ? login : "", address, outcomes[outcome], now, NULL);
}

void iam_password_limits_reset(void)
{
    iam_ratelimit_reset(password_limiter());
}

void iam_password_limits_stats(struct iam_ratelimit_stats *out)
{
    iam_ratelimit_stats(password_limiter(), out);
}

/* --- authentication --- */

/* Lowercases `login` into `out`; false when it is not a well-formed login (3..64 of [A-Za-z0-9._@-]). */
static bool normalize_login(const char *login, char out[LOGIN_KEY_MAX])
{
    size_t length = strnlen(login, LOGIN_MAX + 1);
    bool valid = length >= LOGIN_MIN && length <= LOGIN_MAX;
    size_t i = 0;
    for (; i < length && i < LOGIN_KEY_MAX - 1; i++) {
        char c = login[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-'))
            valid = false;
        out[i] = c;
    }
    out[i] = '\0';
    return valid;
}

static enum iam_result bad_credentials(struct iam_error *err)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0602E", "The credentials you provided are incorrect.");
}

/* Fills `who` from a user record, as authn.c does for users. */
static void principal_from_user(struct iam_arena *arena, const struct iam_user_record *user,
                                struct iam_principal *who)
{
    memset(who, 0, sizeof *who);
    who->kind = IAM_PRINCIPAL_USER;
    who->iam_id = user->iam_id;
    who->account_id = user->account_id;
    who->subject_id = user->iam_id;
    who->login = user->login;
    who->email = user->email;
    who->given_name = user->given_name;
    who->family_name = user->family_name;
    if (user->given_name && user->family_name)
        who->name = iam_arena_printf(arena, "%s %s", user->given_name, user->family_name);
    else
        who->name = user->given_name ? user->given_name : user->login;
}

enum iam_result iam_authn_password_with_retry(struct iam_service *service, struct iam_arena *arena,
                                              const char *login, const char *password, const char *client_address,
                                              struct iam_principal *who, int64_t *retry_after,
                                              struct iam_error *err)
{
    int64_t ignored_retry;
    if (!retry_after)
        retry_after = &ignored_retry;
    *retry_after = 0;
    memset(who, 0, sizeof *who);
    if (!service || !service->store || !arena)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Password authentication is not set up.");
    if (!login || !*login)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "Property missing or empty. Property name: username");
    if (!password || !*password)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "Property missing or empty. Property name: password");

    char normalized[LOGIN_KEY_MAX];
    bool well_formed = normalize_login(login, normalized);
    int64_t now = iam_now();
    enum iam_result result = iam_password_limit_begin(normalized, client_address, now, retry_after);
    if (result == IAM_ETOOMANY)
        return iam_error_set(err, IAM_ETOOMANY, "BXNIM0431E",
                             "Too many failed sign-in attempts. Try again in %lld seconds.", (long long)*retry_after);
    if (result != IAM_OK)
        return iam_error_set(err, result, "BXNIM0500E", "Cannot check the password now.");

    struct iam_user_record user;
    memset(&user, 0, sizeof user);
    bool found = false;
    if (well_formed) {
        result = iam_store_user_get_by_login(service->store, arena, normalized, &user);
        if (result == IAM_OK) {
            found = true;
        } else if (result != IAM_ENOTFOUND) {
            iam_password_limit_end(normalized, client_address, IAM_PASSWORD_ATTEMPT_VOID, now);
            if (result == IAM_ENOMEM)
                return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
            return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        }
    }
    /* Exactly one verification whatever happened so far: unknown logins cost the same as known ones. */
    bool matches = iam_password_verify(found ? user.password_hash : NULL, password);
    bool active = found && user.state && strcmp(user.state, "ACTIVE") == 0;
    if (!matches || !active) {
        iam_password_limit_end(normalized, client_address, IAM_PASSWORD_ATTEMPT_FAILED, now);
        return bad_credentials(err);
    }
    iam_password_limit_end(normalized, client_address, IAM_PASSWORD_ATTEMPT_SUCCEEDED, now);
    iam_usage_record_user(service->usage, user.iam_id, now);
    principal_from_user(arena, &user, who);
    return IAM_OK;
}

enum iam_result iam_authn_password(struct iam_service *service, struct iam_arena *arena, const char *login,
                                   const char *password, const char *client_address, struct iam_principal *who,
                                   struct iam_error *err)
{
    return iam_authn_password_with_retry(service, arena, login, password, client_address, who, NULL, err);
}

/*
 * tls.c: the HTTPS server's certificate chain and private key, and their
 * replacement while serving (SIGHUP).
 *
 * GnuTLS asks for the certificate in every handshake through the callback
 * libmicrohttpd installs (MHD_OPTION_HTTPS_CERT_CALLBACK2, GnuTLS's
 * retrieve_function3). The callback hands out fresh copies of the current
 * chain and key, parsed from the PEM text kept here, which GnuTLS frees with
 * the session (GNUTLS_CERT_RETR_DEINIT_ALL). A reload therefore only swaps
 * the PEM pair under a lock and frees the old one: handshakes and
 * connections in progress hold their own copies, nothing is reference
 * counted, and no connection is dropped. Parsing per handshake costs tens of
 * microseconds, small next to the handshake's own signature and key exchange.
 *
 * Only GnuTLS parses the key file (stack.md: never two libraries on one
 * private key). The callback has no user pointer, so the pair lives in one
 * slot per process: one HTTPS server per process.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "http/tls.h"

#define TLS_FILE_MAX_BYTES ((size_t)1024 * 1024)
#define TLS_CHAIN_MAX 16

/* One certificate chain and its key, as read from the files (PEM). Immutable once installed. */
struct tls_pair {
    gnutls_datum_t chain_pem;
    gnutls_datum_t key_pem;
    unsigned chain_length;
};

static pthread_rwlock_t tls_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct tls_pair *tls_current;    /* guarded by tls_lock */
static char *tls_cert_path, *tls_key_path; /* set by iam_http_tls_open, constant until close */
static atomic_bool tls_slot_taken;

static void tls_datum_wipe_free(gnutls_datum_t *datum)
{
    if (datum->data) {
        iam_wipe(datum->data, datum->size);
        free(datum->data);
    }
    datum->data = NULL;
    datum->size = 0;
}

static void tls_pair_free(struct tls_pair *pair)
{
    if (!pair)
        return;
    tls_datum_wipe_free(&pair->chain_pem);
    tls_datum_wipe_free(&pair->key_pem);
    free(pair);
}

/*
 * Reads a whole PEM file. With `secret`, the file must not be accessible to
 * others (group read is allowed: Debian's ssl-cert group convention). Symbolic
 * links are followed (certbot's live/ directory is made of them); the checks
 * apply to the file itself, on the descriptor that is read.
 */
static enum iam_result tls_read_file(const char *path, bool secret, gnutls_datum_t *out, struct iam_error *err)
{
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return iam_error_set(err, IAM_EINVAL, NULL, "cannot open %s: %s", path, strerror(errno));
    struct stat info;
    enum iam_result result = IAM_OK;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        result = iam_error_set(err, IAM_EINVAL, NULL, "%s is not a regular file", path);
        goto out;
    }
    if (secret && (info.st_mode & S_IRWXO)) {
        result = iam_error_set(err, IAM_EINVAL, NULL,
                               "%s is accessible to other users (mode %o); chmod 600 it (or 640 with a group)", path,
                               (unsigned)(info.st_mode & 0777));
        goto out;
    }
    if (info.st_size <= 0 || (size_t)info.st_size > TLS_FILE_MAX_BYTES) {
        result = iam_error_set(err, IAM_EINVAL, NULL, "%s is empty or larger than 1 MiB", path);
        goto out;
    }
    size_t size = (size_t)info.st_size;
    unsigned char *data = malloc(size + 1);
    if (!data) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto out;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done != size) {
        iam_wipe(data, size);
        free(data);
        result = iam_error_set(err, IAM_EINVAL, NULL, "cannot read %s", path);
        goto out;
    }
    data[size] = '\0';
    out->data = data;
    out->size = (unsigned)size;
out:
    close(fd);
    return result;
}

/* Parses the chain; `*list` has `*count` entries to gnutls_pcert_deinit and free with gnutls_free. */
static int tls_import_chain(const gnutls_datum_t *pem, gnutls_pcert_st **list, unsigned *count)
{
    unsigned capacity = TLS_CHAIN_MAX;
    gnutls_pcert_st *pcerts = gnutls_malloc(capacity * sizeof *pcerts);
    if (!pcerts)
        return GNUTLS_E_MEMORY_ERROR;
    int rc = gnutls_pcert_list_import_x509_raw(pcerts, &capacity, pem, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0) {
        gnutls_free(pcerts);
        return rc;
    }
    *list = pcerts;
    *count = capacity;
    return 0;
}

static void tls_free_chain(gnutls_pcert_st *list, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        gnutls_pcert_deinit(&list[i]);
    gnutls_free(list);
}

static int tls_import_key(const gnutls_datum_t *pem, gnutls_privkey_t *key)
{
    int rc = gnutls_privkey_init(key);
    if (rc < 0)
        return rc;
    rc = gnutls_privkey_import_x509_raw(*key, pem, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        gnutls_privkey_deinit(*key);
        *key = NULL;
    }
    return rc;
}

/* True when `key` is the private half of the leaf's public key. */
static bool tls_key_matches(gnutls_privkey_t key, gnutls_pubkey_t leaf)
{
    gnutls_pubkey_t derived = NULL;
    unsigned char id_key[64], id_leaf[64];
    size_t key_size = sizeof id_key, leaf_size = sizeof id_leaf;
    bool same = false;
    if (gnutls_pubkey_init(&derived) < 0)
        return false;
    if (gnutls_pubkey_import_privkey(derived, key, 0, 0) >= 0 &&
        gnutls_pubkey_get_key_id(derived, GNUTLS_KEYID_USE_SHA256, id_key, &key_size) >= 0 &&
        gnutls_pubkey_get_key_id(leaf, GNUTLS_KEYID_USE_SHA256, id_leaf, &leaf_size) >= 0)
        same = key_size == leaf_size && memcmp(id_key, id_leaf, key_size) == 0;
    gnutls_pubkey_deinit(derived);
    return same;
}

/* Reads and checks both files; on success `*out` is a new pair and the leaf's facts are logged. */
static enum iam_result tls_load(const char *cert_path, const char *key_path, struct tls_pair **out,
                                struct iam_error *err)
{
    struct tls_pair *pair = calloc(1, sizeof *pair);
    gnutls_pcert_st *chain = NULL;
    unsigned chain_length = 0;
    gnutls_privkey_t key = NULL;
    gnutls_x509_crt_t leaf = NULL;
    enum iam_result result = IAM_OK;
    int rc = 0;

    *out = NULL;
    if (!pair)
        return iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    result = tls_read_file(cert_path, false, &pair->chain_pem, err);
    if (result == IAM_OK)
        result = tls_read_file(key_path, true, &pair->key_pem, err);
    if (result != IAM_OK)
        goto fail;
    if ((rc = tls_import_chain(&pair->chain_pem, &chain, &chain_length)) < 0 || chain_length == 0) {
        result = iam_error_set(err, IAM_EINVAL, NULL, "%s holds no usable PEM certificate chain (%s)", cert_path,
                               rc < 0 ? gnutls_strerror(rc) : "no certificate");
        goto fail;
    }
    if ((rc = tls_import_key(&pair->key_pem, &key)) < 0) {
        result = iam_error_set(err, IAM_EINVAL, NULL,
                               "%s holds no usable unencrypted PEM private key (%s)", key_path, gnutls_strerror(rc));
        goto fail;
    }
    if (!tls_key_matches(key, chain[0].pubkey)) {
        result = iam_error_set(err, IAM_EINVAL, NULL, "the key in %s does not belong to the first certificate in %s",
                               key_path, cert_path);
        goto fail;
    }

    unsigned char digest[32];
    size_t digest_size = sizeof digest;
    char fingerprint[2 * sizeof digest + 1] = "";
    if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &chain[0].cert, digest, &digest_size) >= 0) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < digest_size && i < sizeof digest; i++) {
            fingerprint[2 * i] = hex[digest[i] >> 4];
            fingerprint[2 * i + 1] = hex[digest[i] & 15];
            fingerprint[2 * i + 2] = '\0';
        }
    }
    time_t not_after = 0, not_before = 0;
    if (gnutls_x509_crt_init(&leaf) >= 0 && gnutls_x509_crt_import(leaf, &chain[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
        not_after = gnutls_x509_crt_get_expiration_time(leaf);
        not_before = gnutls_x509_crt_get_activation_time(leaf);
    }
    int64_t now = iam_now();
    char until[IAM_TIME_TEXT_SIZE] = "";
    if (not_after > 0)
        iam_time_format_rfc3339((int64_t)not_after, until);
    iam_log(IAM_LOG_INFO, "tls_certificate_loaded", "sha256=%s not_after=%s chain=%u file=%s", fingerprint, until,
            chain_length, cert_path);
    if (not_after > 0 && (int64_t)not_after < now)
        iam_log(IAM_LOG_WARN, "tls_certificate_expired", "the certificate in %s expired at %s", cert_path, until);
    else if (not_before > 0 && (int64_t)not_before > now)
        iam_log(IAM_LOG_WARN, "tls_certificate_not_yet_valid", "the certificate in %s is not valid yet", cert_path);
    iam_metrics_set(IAM_METRIC_TLS_CERT_NOT_AFTER, (int64_t)not_after);

    pair->chain_length = chain_length;
    *out = pair;
    pair = NULL;
fail:
    if (leaf)
        gnutls_x509_crt_deinit(leaf);
    if (chain)
        tls_free_chain(chain, chain_length);
    if (key)
        gnutls_privkey_deinit(key);
    tls_pair_free(pair);
    return result;
}

int iam_http_tls_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
                          unsigned int *certs_length, gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                          gnutls_privkey_t *privkey, unsigned int *flags)
{
    (void)session;
    (void)info;
    gnutls_pcert_st *chain = NULL;
    unsigned chain_length = 0;
    gnutls_privkey_t key = NULL;
    int rc = GNUTLS_E_CERTIFICATE_ERROR;

    *certs = NULL;
    *certs_length = 0;
    *ocsp = NULL;
    *ocsp_length = 0;
    *privkey = NULL;
    pthread_rwlock_rdlock(&tls_lock);
    if (tls_current) {
        rc = tls_import_chain(&tls_current->chain_pem, &chain, &chain_length);
        if (rc >= 0)
            rc = tls_import_key(&tls_current->key_pem, &key);
    }
    pthread_rwlock_unlock(&tls_lock);
    if (rc < 0) {
        if (chain)
            tls_free_chain(chain, chain_length);
        iam_log(IAM_LOG_ERROR, "tls_handshake_no_certificate", "no certificate for a handshake: %s",
                gnutls_strerror(rc));
        return -1;
    }
    *certs = chain;
    *certs_length = chain_length;
    *privkey = key;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL; /* GnuTLS frees the copies with the session */
    return 0;
}

enum iam_result iam_http_tls_open(const char *cert_path, const char *key_path, struct iam_error *err)
{
    if (!cert_path || !*cert_path || !key_path || !*key_path)
        return iam_error_set(err, IAM_EINVAL, NULL, "TLS needs both a certificate file and a key file");
    if (atomic_exchange(&tls_slot_taken, true))
        return iam_error_set(err, IAM_ECONFLICT, NULL, "another HTTPS server runs in this process");
    struct tls_pair *pair = NULL;
    enum iam_result result = tls_load(cert_path, key_path, &pair, err);
    if (result == IAM_OK) {
        tls_cert_path = strdup(cert_path);
        tls_key_path = strdup(key_path);
        if (!tls_cert_path || !tls_key_path)
            result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    }
    if (result != IAM_OK) {
        tls_pair_free(pair);
        iam_http_tls_close();
        return result;
    }
    pthread_rwlock_wrlock(&tls_lock);
    tls_current = pair;
    pthread_rwlock_unlock(&tls_lock);
    return IAM_OK;
}

enum iam_result iam_http_tls_reload(struct iam_error *err)
{
    if (!atomic_load(&tls_slot_taken) || !tls_cert_path)
        return iam_error_set(err, IAM_EINVAL, NULL, "the server does not serve TLS");
    struct tls_pair *pair = NULL;
    enum iam_result result = tls_load(tls_cert_path, tls_key_path, &pair, err);
    if (result != IAM_OK) {
        iam_metrics_add(IAM_METRIC_TLS_RELOADS_FAILED, 1);
        return result;
    }
    pthread_rwlock_wrlock(&tls_lock);
    struct tls_pair *old = tls_current;
    tls_current = pair;
    pthread_rwlock_unlock(&tls_lock);
    tls_pair_free(old);
    iam_metrics_add(IAM_METRIC_TLS_RELOADS_OK, 1);
    return IAM_OK;
}

void iam_http_tls_close(void)
{
    pthread_rwlock_wrlock(&tls_lock);
    struct tls_pair *old = tls_current;
    tls_current = NULL;
    pthread_rwlock_unlock(&tls_lock);
    tls_pair_free(old);
    free(tls_cert_path);
    free(tls_key_path);
    tls_cert_path = NULL;
    tls_key_path = NULL;
    atomic_store(&tls_slot_taken, false);
}

/*
 * tls.h: the HTTPS certificate slot of tls.c, for server.c only (other
 * modules use iam_http_server_reload_tls).
 */
#ifndef IAM_HTTP_TLS_H
#define IAM_HTTP_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "common/error.h"

/*
 * TLS 1.2 and 1.3 only; ECDHE key exchange and AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305): no RSA key transport, no CBC, no SHA-1 MACs, no RC4 or
 * 3DES. The server's preference order wins.
 */
#define IAM_HTTP_TLS_PRIORITIES                                                                               \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:" \
    "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/*
 * Reads and checks the PEM certificate chain and key, and installs them in
 * the process's one slot. IAM_EINVAL (with the reason) for a missing,
 * unreadable or malformed file, a key file others can access, or a key not
 * matching the leaf certificate; IAM_ECONFLICT when the slot is taken.
 */
enum iam_result iam_http_tls_open(const char *cert_path, const char *key_path, struct iam_error *err) IAM_MUST_CHECK;

/* Reads the same files again and swaps them in; on failure the old pair stays (see iam_http_server_reload_tls). */
enum iam_result iam_http_tls_reload(struct iam_error *err) IAM_MUST_CHECK;

/* Empties the slot. Not concurrently with iam_http_tls_reload. */
void iam_http_tls_close(void);

/* GnuTLS's retrieve_function3 (MHD_OPTION_HTTPS_CERT_CALLBACK2): copies of the current pair, freed by GnuTLS. */
int iam_http_tls_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
                          unsigned int *certs_length, gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                          gnutls_privkey_t *privkey, unsigned int *flags);

#endif

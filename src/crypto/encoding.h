/*
 * encoding.h: byte-to-text encodings (base64url without padding, hex) and CRC-32.
 * Decoders reject anything that is not canonical for their alphabet.
 */
#ifndef IAM_CRYPTO_ENCODING_H
#define IAM_CRYPTO_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Characters needed to base64url-encode `length` bytes without padding, plus the NUL. */
size_t iam_base64url_encoded_size(size_t length);

/* Unpadded base64url of `data` into `out` (`out_size` >= iam_base64url_encoded_size). */
enum iam_result iam_base64url_encode(const void *data, size_t length, char *out, size_t out_size) IAM_MUST_CHECK;

/*
 * Decodes unpadded base64url `text` (`text_length` characters) into `out`.
 * Rejects padding, whitespace and characters outside the alphabet with IAM_EINVAL,
 * and output longer than `out_size` with IAM_ETOOBIG.
 */
enum iam_result iam_base64url_decode(const char *text, size_t text_length, uint8_t *out,
                                     size_t out_size, size_t *out_length) IAM_MUST_CHECK;

/* Lowercase hex of `length` bytes into `out` (2*length + 1 bytes). */
void iam_hex_encode(const void *data, size_t length, char *out);

/* Decodes exactly 2*out_length hex digits. IAM_EINVAL otherwise. */
enum iam_result iam_hex_decode(const char *text, uint8_t *out, size_t out_length) IAM_MUST_CHECK;

/* CRC-32 (IEEE 802.3, as zlib) of `data`. */
uint32_t iam_crc32(const void *data, size_t length);

#endif

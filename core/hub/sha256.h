/*
 * sha256.h - SHA-256 (FIPS 180-4), used to verify files fetched from the
 * Hugging Face Hub, whose LFS etags are the SHA-256 of the content.
 * Private to libnlp.
 */
#ifndef NLP_SHA256_H
#define NLP_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/status.h"

typedef struct nlp_sha256 {
    uint32_t h[8];      /* chaining state */
    uint64_t nbytes;    /* message bytes absorbed so far */
    uint8_t buf[64];    /* pending partial block */
    size_t nbuf;        /* bytes used in buf */
} nlp_sha256;

/* Start a new digest. */
void nlp_sha256_init(nlp_sha256 *s);

/* Absorb len bytes of data. */
void nlp_sha256_update(nlp_sha256 *s, const void *data, size_t len);

/* Finish: writes the 32-byte digest to out.  s must be re-initialised
 * before further use. */
void nlp_sha256_final(nlp_sha256 *s, uint8_t out[32]);

/* Digest of a whole file as 64 lowercase hex digits plus NUL in hex.
 * Errors name the path. */
nlp_status nlp_sha256_file(const char *path, char hex[65], nlp_error *err);

/* out = 64 lowercase hex digits + NUL of a 32-byte digest. */
void nlp_sha256_hex(const uint8_t digest[32], char out[65]);

#endif /* NLP_SHA256_H */

/* What the files of the signer share with each other (sigv4.c: hashing, keys, signatures;
 * sigv4_canonical.c: the canonical request; sigv4_presign.c: query signing; sigv4_chunked.c:
 * aws-chunked). Nothing outside csrc/sign/ includes this header: sigv4.h is the contract. */
#ifndef AWSPROMISE_SIGN_SIGV4_INTERNAL_H
#define AWSPROMISE_SIGN_SIGV4_INTERNAL_H

#include "sign/sigv4.h"

#include <openssl/evp.h>

#define KEY_SLOTS 8
#define SLOT_SECRET_MAX 128
#define SLOT_REGION_MAX 48
#define SLOT_SERVICE_MAX 64

/* Ends the argument list of sigv4_cat: a bare NULL may be an int, which va_arg cannot read
 * back as a pointer. */
#define CAT_END ((const char *)NULL)

/* One derived key. The inputs are kept verbatim (not hashed) because comparing ~100 bytes is
 * far cheaper than hashing them on every signing; the cache is wiped on free. */
typedef struct key_slot {
    unsigned long stamp;           /* 0 = empty; otherwise last use, for LRU eviction */
    unsigned char key[32];
    char date[8];
    unsigned char secret_len, region_len, service_len;
    char secret[SLOT_SECRET_MAX];
    char region[SLOT_REGION_MAX];
    char service[SLOT_SERVICE_MAX];
} key_slot;

/* Offsets rather than pointers: the scratch buffer may move while entries are added. */
typedef struct hent {
    size_t name_off, name_len, val_off, val_len, order;
    const char *name, *val;        /* set once the scratch buffer stops growing */
} hent;

typedef struct qent {
    size_t off, name_len, val_len;
    const char *p;                 /* name, immediately followed by the value */
} qent;

struct sigv4_signer {
    EVP_MD *sha256;                /* fetched once: implicit fetches cost more than the hash */
    EVP_MD_CTX *ctx;
    strbuf cr, sts, hdr, hscratch, qscratch, cquery, sh, scope, auth, aq, tmp;
    hent *hents;
    size_t hents_cap;
    qent *qents;
    size_t qents_cap;
    char phash[65];
    key_slot slots[KEY_SLOTS];
    unsigned long clock, hits, misses;
};

/* Which headers the canonical request leaves out, besides the hop-by-hop ones. */
enum {
    DROP_DATE = 1,     /* x-amz-date: the signer sets its own (header) or uses the query */
    DROP_TOKEN = 2,    /* x-amz-security-token: the signer sets it from the credentials */
    DROP_SHA = 4,      /* x-amz-content-sha256: the signer sets it (SIGV4_SIGN_BODY) */
    KEEP_ALL = 8       /* trailers: sign every name given */
};

/* sigv4.c */
int sigv4_sha256(sigv4_signer *s, const void *a, size_t alen, const void *b, size_t blen,
                 unsigned char out[32]);
/* Appends NUL-terminated pieces up to CAT_END; returns 0 when the buffer failed. */
int sigv4_cat(strbuf *b, ...);
/* s->scope = "<date8>/<region>/<service>/aws4_request" */
int sigv4_build_scope(sigv4_signer *s, const char *date, const char *region, const char *service);
/* Hex HMAC of msg under the key of p's secret, region and service on date8. */
int sigv4_sign_message(sigv4_signer *s, const sigv4_params *p, const char *date8,
                       const char *msg, size_t len, char sig[65]);
int sigv4_has_token(const sigv4_params *p);
/* HMAC-SHA256 of msg under the key k1 followed by k2 (k2 may be NULL/0). */
int sigv4_hmac(sigv4_signer *s, const void *k1, size_t k1len, const void *k2, size_t k2len,
               const void *msg, size_t mlen, unsigned char out[32]);

/* sigv4_canonical.c */
/* Percent-encodes (upper-case hex) and, when decode, reads %XX escapes back first. */
int sigv4_encode_component(strbuf *dst, const char *src, size_t len, int decode);
/* Collects one header (lower-cased name, folded value) unless drop skips it. */
int sigv4_push_header(sigv4_signer *s, size_t *n, const char *name, size_t nlen,
                      const char *val, size_t vlen, unsigned drop);
/* Sorts the n collected headers into "name:v1,v2\n" lines in s->hdr and, with_signed_list,
 * their names "a;b" in s->sh. */
int sigv4_emit_headers(sigv4_signer *s, size_t n, int with_signed_list);
/* Collects one query parameter (name and value encoded; decoded first when decode). */
int sigv4_push_pair(sigv4_signer *s, size_t *n, const char *name, size_t nlen,
                    const char *val, size_t vlen, int decode);
/* Collects every pair of a query string ("a=b&c", percent-escapes decoded and re-encoded). */
int sigv4_collect_query(sigv4_signer *s, size_t *n, const char *q, size_t len);
/* The n collected pairs sorted (by name, then value) and joined with '&' into s->cquery. */
int sigv4_emit_query(sigv4_signer *s, size_t n);

/* sigv4_presign.c */
/* The X-Amz-* parameters a presigned URL signs, into the canonical query being collected. */
int sigv4_presign_pairs(sigv4_signer *s, size_t *n, const sigv4_params *p, const char *date);
/* out->auth_query: the parameters to append to the URL, X-Amz-Signature last. */
int sigv4_presign_query(sigv4_signer *s, const sigv4_params *p, sigv4_result *out);

#endif

/* AWS Signature Version 4 (AWS4-HMAC-SHA256): header signing, presigned URLs and aws-chunked
 * payload signatures. Pure C on top of libcrypto; no Lua here so the HTTP engine can call it
 * directly on its hot path.
 *
 * A sigv4_signer owns reusable scratch buffers, a SHA-256 context and a small cache of derived
 * signing keys, so a steady stream of signings reuses memory instead of allocating. It is not
 * thread-safe: use one per thread (or per event loop). Every string a sigv4_result points to
 * lives inside the signer and stays valid until the next call on the same signer. */
#ifndef AWSPROMISE_SIGV4_H
#define AWSPROMISE_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define SIGV4_STREAMING_TRAILER_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"

/* flags of sigv4_params */
enum {
    /* Canonical URI = the request path percent-encoded once more (every AWS service but S3).
     * Without it the path is only completed: bytes outside the unreserved set are escaped but
     * existing %XX escapes are kept, which is what S3 expects. */
    SIGV4_DOUBLE_ENCODE = 1 << 0,
    /* Remove "." and ".." segments and empty segments from the path before encoding. */
    SIGV4_NORMALIZE = 1 << 1,
    /* Header signing: send and sign x-amz-content-sha256 with the payload hash (S3 needs it). */
    SIGV4_SIGN_BODY = 1 << 2,
    /* The session token is added to the request (header or query) but left out of what is
     * signed; a few services (IoT, older STS flows) want it that way. */
    SIGV4_OMIT_SESSION_TOKEN = 1 << 3
};

enum {
    SIGV4_OK = 0,
    SIGV4_ENOMEM = 1,   /* an allocation failed */
    SIGV4_EINVAL = 2,   /* a required field is missing or malformed */
    SIGV4_ECRYPTO = 3   /* libcrypto refused (should not happen) */
};

typedef struct sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sigv4_header;

typedef struct sigv4_request {
    const char *method;              /* NUL-terminated, e.g. "PUT" */
    /* The path exactly as it goes on the request line, without the query: the caller's own
     * percent-encoding (if any) is kept and, for SIGV4_DOUBLE_ENCODE, encoded again. Raw bytes
     * (spaces, UTF-8) are accepted and escaped in the canonical form. Empty means "/". */
    const char *path;
    size_t path_len;
    /* The query string without '?', as given ("a=b&c", may already be percent-encoded): each
     * name and value is decoded and re-encoded canonically; '+' is a literal plus. May be NULL. */
    const char *query;
    size_t query_len;
    /* In arrival order, duplicates allowed (joined with ',' in that order). The caller supplies
     * Host; the signer never invents it. Headers the signer adds (X-Amz-Date, the token,
     * x-amz-content-sha256 with SIGV4_SIGN_BODY, Authorization) replace same-named ones here,
     * and hop-by-hop or proxy-rewritten ones (user-agent, expect, transfer-encoding,
     * connection, x-amzn-trace-id) are never signed. */
    const sigv4_header *headers;
    size_t n_headers;
    /* The payload: payload_hash when set (64 hex chars, UNSIGNED-PAYLOAD, STREAMING-...) is
     * used as is; otherwise body is hashed (NULL/0 = empty body). */
    const void *body;
    size_t body_len;
    const char *payload_hash;
} sigv4_request;

typedef struct sigv4_params {
    const char *access_key_id;       /* NUL-terminated */
    const char *secret_access_key;
    size_t secret_len;               /* 0 = strlen(secret_access_key) */
    const char *session_token;       /* NULL or "" when none */
    const char *region;
    const char *service;
    int64_t time;                    /* epoch seconds, UTC */
    unsigned flags;                  /* SIGV4_* above */
    long expires;                    /* > 0: presign (query signing) for this many seconds */
} sigv4_params;

typedef struct sigv4_result {
    const char *canonical_request;
    size_t canonical_request_len;
    const char *string_to_sign;
    size_t string_to_sign_len;
    const char *signed_headers;      /* "host;x-amz-date" */
    const char *scope;               /* "20150830/us-east-1/service/aws4_request" */
    const char *payload_hash;        /* what the canonical request ends with */
    char amz_date[17];               /* "20150830T123600Z" */
    char signature[65];              /* lower-case hex */
    /* Header signing: the headers to add, in this order: X-Amz-Security-Token (when a token),
     * X-Amz-Date, x-amz-content-sha256 (SIGV4_SIGN_BODY), Authorization. */
    sigv4_header add[4];
    size_t n_add;
    /* Presigning: the parameters to append to the request's own query with '&' (or '?' when
     * it has none), X-Amz-Signature last; and the sorted canonical query that was signed. */
    const char *auth_query;
    size_t auth_query_len;
    const char *canonical_query;
    size_t canonical_query_len;
} sigv4_result;

typedef struct sigv4_signer sigv4_signer;

sigv4_signer *sigv4_signer_new(void);
void sigv4_signer_free(sigv4_signer *s);
const char *sigv4_strerror(int code);

/* Everything at once: canonical request, string to sign, signature and the headers (or the
 * presigned query, when p->expires > 0) to add. Returns SIGV4_OK or an error code; on error
 * *out is unspecified. */
int sigv4_sign(sigv4_signer *s, const sigv4_request *req, const sigv4_params *p,
               sigv4_result *out);

/* Only the canonical request (and the fields of *out that lead to it: signed_headers, scope,
 * amz_date, payload_hash, canonical_query). Credentials matter only for presigning and a
 * token; the secret is not used. */
int sigv4_canonical_request(sigv4_signer *s, const sigv4_request *req, const sigv4_params *p,
                            sigv4_result *out);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical request)>" into *dst. */
int sigv4_string_to_sign(sigv4_signer *s, const char *amz_date, const char *scope,
                         const char *canonical_request, size_t len, strbuf *dst);

/* kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request".
 * Served from the signer's cache when the same four inputs were seen recently. */
int sigv4_signing_key(sigv4_signer *s, const char *secret, size_t secret_len, const char *date8,
                      const char *region, const char *service, unsigned char key[32]);

/* Hex HMAC-SHA256 of a string to sign under the key derived from p (secret, time, region,
 * service). */
int sigv4_signature(sigv4_signer *s, const sigv4_params *p, const char *string_to_sign,
                    size_t len, char sig[65]);

/* aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the signature of the next chunk, chained
 * on the previous one (the seed is the request's own signature; the final chunk is empty).
 * p gives the same secret, time, region and service as the seed signing. */
int sigv4_chunk_signature(sigv4_signer *s, const sigv4_params *p, const char prev_sig[64],
                          const void *chunk, size_t chunk_len, char sig[65]);

/* The trailer signature that follows the final chunk (STREAMING-...-PAYLOAD-TRAILER): the
 * trailing headers are canonicalized like request headers ("name:value\n" each, lower-case
 * names, folded values, sorted by name) and hashed. */
int sigv4_trailer_signature(sigv4_signer *s, const sigv4_params *p, const char prev_sig[64],
                            const sigv4_header *trailers, size_t n, char sig[65]);

/* Cache counters, for tests and diagnostics. */
void sigv4_cache_stats(const sigv4_signer *s, unsigned long *hits, unsigned long *misses);

/* The lower-case hex of a 32-byte digest, signature or key, NUL-terminated. */
void sigv4_hex32(const unsigned char d[32], char out[65]);

/* Formats epoch seconds as "YYYYMMDDTHHMMSSZ"; returns 0 if the year is outside 0..9999. */
int sigv4_format_time(int64_t t, char out[17]);

/* Percent-encodes bytes outside A-Za-z0-9-._~ (keeping '/' when keep_slash) with upper-case
 * hex: the form of a raw S3 key or path segment on the wire. */
int sigv4_uri_encode(strbuf *dst, const char *src, size_t len, int keep_slash);

#endif

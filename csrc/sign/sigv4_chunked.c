/* aws-chunked payload signing: every chunk's signature chains on the one before it, starting
 * from the request's own signature; the optional trailer is signed last. */
#include "sign/sigv4_internal.h"

#include <stddef.h>

/* SHA-256 of the empty string: a chunk's string to sign carries the hash of its chunk
 * extensions, and this signer never sends any. */
static const char EMPTY_SHA256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static int chained_signature(sigv4_signer *s, const sigv4_params *p, const char *algorithm,
                             const char prev_sig[64], const char *extra, const char *hash,
                             char sig[65])
{
    char date[17];
    if (!p->secret_access_key || !p->region || !p->service || !prev_sig ||
        !sigv4_format_time(p->time, date))
        return SIGV4_EINVAL;
    if (!sigv4_build_scope(s, date, p->region, p->service))
        return SIGV4_ENOMEM;
    strbuf *t = &s->tmp;
    sb_reset(t);
    sigv4_cat(t, algorithm, "\n", date, "\n", s->scope.data, "\n", CAT_END);
    sb_append(t, prev_sig, 64); /* not necessarily NUL-terminated */
    if (!sigv4_cat(t, "\n", extra ? extra : "", extra ? "\n" : "", hash, CAT_END))
        return SIGV4_ENOMEM;
    return sigv4_sign_message(s, p, date, t->data, t->len, sig);
}

int sigv4_chunk_signature(sigv4_signer *s, const sigv4_params *p, const char prev_sig[64],
                          const void *chunk, size_t chunk_len, char sig[65])
{
    unsigned char d[32];
    char hex[65];
    if (chunk_len && !chunk)
        return SIGV4_EINVAL;
    if (!sigv4_sha256(s, chunk, chunk_len, NULL, 0, d))
        return SIGV4_ECRYPTO;
    sigv4_hex32(d, hex);
    return chained_signature(s, p, "AWS4-HMAC-SHA256-PAYLOAD", prev_sig, EMPTY_SHA256, hex, sig);
}

int sigv4_trailer_signature(sigv4_signer *s, const sigv4_params *p, const char prev_sig[64],
                            const sigv4_header *trailers, size_t n, char sig[65])
{
    unsigned char d[32];
    char hex[65];
    size_t nh = 0;
    if (n && !trailers)
        return SIGV4_EINVAL;
    sb_reset(&s->hscratch);
    for (size_t i = 0; i < n; i++) {
        if (!trailers[i].name || (trailers[i].value_len && !trailers[i].value))
            return SIGV4_EINVAL;
        if (!sigv4_push_header(s, &nh, trailers[i].name, trailers[i].name_len, trailers[i].value,
                         trailers[i].value_len, KEEP_ALL))
            return SIGV4_ENOMEM;
    }
    if (!sigv4_emit_headers(s, nh, 0))
        return SIGV4_ENOMEM;
    if (!sigv4_sha256(s, s->hdr.data, s->hdr.len, NULL, 0, d))
        return SIGV4_ECRYPTO;
    sigv4_hex32(d, hex);
    return chained_signature(s, p, "AWS4-HMAC-SHA256-TRAILER", prev_sig, NULL, hex, sig);
}


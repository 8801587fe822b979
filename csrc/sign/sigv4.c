/* AWS SigV4 signing: the signer's life, hashing, signing keys, the string to sign and the
 * signature. See sigv4.h for the contract; comments here explain the choices. The canonical
 * request is built in sigv4_canonical.c, presigned URLs in sigv4_presign.c and aws-chunked
 * signatures in sigv4_chunked.c. */
#include "sign/sigv4_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ---------------------------------------------------------------- hashing */

int sigv4_sha256(sigv4_signer *s, const void *a, size_t alen, const void *b, size_t blen,
                 unsigned char out[32])
{
    unsigned int n = 0;
    if (!EVP_DigestInit_ex2(s->ctx, s->sha256, NULL))
        return 0;
    if (alen && !EVP_DigestUpdate(s->ctx, a, alen))
        return 0;
    if (blen && !EVP_DigestUpdate(s->ctx, b, blen))
        return 0;
    return EVP_DigestFinal_ex(s->ctx, out, &n) && n == 32;
}

void sigv4_hex32(const unsigned char d[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = '\0';
}

/* strbuf's sticky `failed` is checked once, after the last piece. */
int sigv4_cat(strbuf *b, ...)
{
    va_list ap;
    va_start(ap, b);
    for (const char *piece; (piece = va_arg(ap, const char *)) != CAT_END;)
        sb_puts(b, piece);
    va_end(ap);
    return !b->failed;
}

/* HMAC-SHA256 built on the reused digest context: OpenSSL 3's one-shot HMAC() fetches and
 * allocates on every call, which dominated the profile. The key may come in two parts so that
 * "AWS4" + secret needs no concatenation buffer. */
int sigv4_hmac(sigv4_signer *s, const void *k1, size_t k1len, const void *k2, size_t k2len,
                const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned char pad[64], inner[32];
    int ok = 0;
    memset(pad, 0, sizeof pad);
    if (k1len + k2len > 64) {
        if (!sigv4_sha256(s, k1, k1len, k2, k2len, pad))
            goto done;
    } else {
        if (k1len)
            memcpy(pad, k1, k1len);
        if (k2len)
            memcpy(pad + k1len, k2, k2len);
    }
    for (int i = 0; i < 64; i++)
        pad[i] ^= 0x36;
    if (!sigv4_sha256(s, pad, 64, msg, mlen, inner))
        goto done;
    for (int i = 0; i < 64; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    ok = sigv4_sha256(s, pad, 64, inner, 32, out);
done:
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}

/* ---------------------------------------------------------------- lifecycle */

sigv4_signer *sigv4_signer_new(void)
{
    sigv4_signer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    s->ctx = EVP_MD_CTX_new();
    if (!s->sha256 || !s->ctx) {
        sigv4_signer_free(s);
        return NULL;
    }
    return s;
}

void sigv4_signer_free(sigv4_signer *s)
{
    if (!s)
        return;
    EVP_MD_CTX_free(s->ctx);
    EVP_MD_free(s->sha256);
    strbuf *bufs[] = {&s->cr, &s->sts, &s->hdr, &s->hscratch, &s->qscratch, &s->cquery,
                      &s->sh, &s->scope, &s->auth, &s->aq, &s->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        /* Canonical requests can carry the session token; do not leave it in freed memory. */
        if (bufs[i]->data)
            OPENSSL_cleanse(bufs[i]->data, bufs[i]->cap);
        sb_free(bufs[i]);
    }
    free(s->hents);
    free(s->qents);
    OPENSSL_cleanse(s->slots, sizeof s->slots);
    free(s);
}

const char *sigv4_strerror(int code)
{
    static const char *const msg[] = {"ok", "out of memory", "invalid argument",
                                      "libcrypto failure"};
    return code >= 0 && code <= SIGV4_ECRYPTO ? msg[code] : "unknown error";
}

void sigv4_cache_stats(const sigv4_signer *s, unsigned long *hits, unsigned long *misses)
{
    *hits = s->hits;
    *misses = s->misses;
}

/* ---------------------------------------------------------------- time */

/* Civil-calendar conversion by hand (days since 1970-01-01, proleptic Gregorian, 400-year eras
 * starting on March 1st so leap days come last): gmtime_r is not C11 and may consult TZ. */
int sigv4_format_time(int64_t t, char out[17])
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999)
        return 0;
    int hh = (int)(secs / 3600), mm = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    const int v[] = {(int)(y / 1000), (int)(y / 100 % 10), (int)(y / 10 % 10), (int)(y % 10),
                     m / 10, m % 10, d / 10, d % 10, -1, hh / 10, hh % 10, mm / 10, mm % 10,
                     ss / 10, ss % 10};
    for (int i = 0; i < 15; i++)
        out[i] = v[i] < 0 ? 'T' : (char)('0' + v[i]);
    out[15] = 'Z';
    out[16] = '\0';
    return 1;
}

/* ---------------------------------------------------------------- signing key */

static int slot_matches(const key_slot *k, const char *secret, size_t slen, const char *date8,
                        const char *region, size_t rlen, const char *service, size_t svlen)
{
    return k->stamp && k->secret_len == slen && k->region_len == rlen &&
           k->service_len == svlen && memcmp(k->date, date8, 8) == 0 &&
           memcmp(k->secret, secret, slen) == 0 && memcmp(k->region, region, rlen) == 0 &&
           memcmp(k->service, service, svlen) == 0;
}

int sigv4_signing_key(sigv4_signer *s, const char *secret, size_t secret_len, const char *date8,
                      const char *region, const char *service, unsigned char key[32])
{
    if (!secret || !date8 || !region || !service || strlen(date8) < 8)
        return SIGV4_EINVAL;
    size_t rlen = strlen(region), svlen = strlen(service);
    key_slot *victim = &s->slots[0];
    for (int i = 0; i < KEY_SLOTS; i++) {
        key_slot *k = &s->slots[i];
        if (slot_matches(k, secret, secret_len, date8, region, rlen, service, svlen)) {
            k->stamp = ++s->clock;
            s->hits++;
            memcpy(key, k->key, 32);
            return SIGV4_OK;
        }
        if (k->stamp < victim->stamp)
            victim = k;
    }
    s->misses++;
    unsigned char a[32], b[32];
    int ok = sigv4_hmac(s, "AWS4", 4, secret, secret_len, date8, 8, a) &&
             sigv4_hmac(s, a, 32, NULL, 0, region, rlen, b) &&
             sigv4_hmac(s, b, 32, NULL, 0, service, svlen, a) &&
             sigv4_hmac(s, a, 32, NULL, 0, "aws4_request", 12, key);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    if (!ok)
        return SIGV4_ECRYPTO;
    /* Unusually long inputs are simply not cached rather than making every slot larger. */
    if (secret_len <= SLOT_SECRET_MAX && rlen <= SLOT_REGION_MAX && svlen <= SLOT_SERVICE_MAX) {
        victim->stamp = ++s->clock;
        memcpy(victim->key, key, 32);
        memcpy(victim->date, date8, 8);
        victim->secret_len = (unsigned char)secret_len;
        victim->region_len = (unsigned char)rlen;
        victim->service_len = (unsigned char)svlen;
        memcpy(victim->secret, secret, secret_len);
        memcpy(victim->region, region, rlen);
        memcpy(victim->service, service, svlen);
    }
    return SIGV4_OK;
}

int sigv4_build_scope(sigv4_signer *s, const char *date, const char *region, const char *service)
{
    sb_reset(&s->scope);
    sb_append(&s->scope, date, 8);
    return sigv4_cat(&s->scope, "/", region, "/", service, "/aws4_request", CAT_END);
}

static size_t secret_length(const sigv4_params *p)
{
    return p->secret_len ? p->secret_len : strlen(p->secret_access_key);
}

int sigv4_sign_message(sigv4_signer *s, const sigv4_params *p, const char *date8,
                       const char *msg, size_t len, char sig[65])
{
    unsigned char key[32], mac[32];
    int rc = sigv4_signing_key(s, p->secret_access_key, secret_length(p), date8, p->region,
                               p->service, key);
    if (rc == SIGV4_OK && !sigv4_hmac(s, key, 32, NULL, 0, msg, len, mac))
        rc = SIGV4_ECRYPTO;
    OPENSSL_cleanse(key, sizeof key);
    if (rc == SIGV4_OK)
        sigv4_hex32(mac, sig);
    return rc;
}

int sigv4_signature(sigv4_signer *s, const sigv4_params *p, const char *string_to_sign,
                    size_t len, char sig[65])
{
    char date[17];
    if (!p->secret_access_key || !p->region || !p->service || !sigv4_format_time(p->time, date))
        return SIGV4_EINVAL;
    return sigv4_sign_message(s, p, date, string_to_sign, len, sig);
}

/* ---------------------------------------------------------------- signing */

int sigv4_has_token(const sigv4_params *p)
{
    return p->session_token && p->session_token[0];
}

int sigv4_string_to_sign(sigv4_signer *s, const char *amz_date, const char *scope,
                         const char *canonical_request, size_t len, strbuf *dst)
{
    unsigned char d[32];
    if (!amz_date || !scope || (len && !canonical_request))
        return SIGV4_EINVAL;
    if (!sigv4_sha256(s, canonical_request, len, NULL, 0, d))
        return SIGV4_ECRYPTO;
    sb_reset(dst);
    sigv4_cat(dst, SIGV4_ALGORITHM "\n", amz_date, "\n", scope, "\n", CAT_END);
    return sb_hex(dst, d, 32) ? SIGV4_OK : SIGV4_ENOMEM;
}

static void add_header(sigv4_result *out, const char *name, const char *val, size_t vlen)
{
    sigv4_header *h = &out->add[out->n_add++];
    h->name = name;
    h->name_len = strlen(name);
    h->value = val;
    h->value_len = vlen;
}

int sigv4_sign(sigv4_signer *s, const sigv4_request *req, const sigv4_params *p,
               sigv4_result *out)
{
    if (!p->access_key_id || !p->secret_access_key)
        return SIGV4_EINVAL;
    int rc = sigv4_canonical_request(s, req, p, out);
    if (rc == SIGV4_OK)
        rc = sigv4_string_to_sign(s, out->amz_date, s->scope.data, s->cr.data, s->cr.len,
                                  &s->sts);
    if (rc == SIGV4_OK)
        rc = sigv4_sign_message(s, p, out->amz_date, s->sts.data, s->sts.len, out->signature);
    if (rc != SIGV4_OK)
        return rc;
    out->string_to_sign = s->sts.data;
    out->string_to_sign_len = s->sts.len;

    /* Field order matches the AWS test suite's signed requests, so they compare byte for byte. */
    if (p->expires <= 0) {
        strbuf *a = &s->auth;
        sb_reset(a);
        if (!sigv4_cat(a, SIGV4_ALGORITHM " Credential=", p->access_key_id, "/", s->scope.data,
                       ", SignedHeaders=", s->sh.data, ", Signature=", out->signature, CAT_END))
            return SIGV4_ENOMEM;
        if (sigv4_has_token(p))
            add_header(out, "X-Amz-Security-Token", p->session_token, strlen(p->session_token));
        add_header(out, "X-Amz-Date", out->amz_date, 16);
        if (p->flags & SIGV4_SIGN_BODY)
            add_header(out, "x-amz-content-sha256", out->payload_hash,
                       strlen(out->payload_hash));
        add_header(out, "Authorization", a->data, a->len);
        return SIGV4_OK;
    }

    return sigv4_presign_query(s, p, out);
}

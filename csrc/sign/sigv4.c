/* AWS SigV4 signing. See sigv4.h for the contract; comments here explain the choices. */
#include "sign/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define KEY_SLOTS 8
#define SLOT_SECRET_MAX 128
#define SLOT_REGION_MAX 48
#define SLOT_SERVICE_MAX 64

static const char EMPTY_SHA256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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

/* ---------------------------------------------------------------- hashing */

static int sha256_parts(sigv4_signer *s, const void *a, size_t alen, const void *b, size_t blen,
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

static void hex32(const unsigned char d[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = '\0';
}

/* Appends NUL-terminated pieces up to a NULL; strbuf's sticky `failed` is checked once. */
static int cat(strbuf *b, ...)
{
    va_list ap;
    va_start(ap, b);
    for (const char *piece; (piece = va_arg(ap, const char *)) != NULL;)
        sb_puts(b, piece);
    va_end(ap);
    return !b->failed;
}

/* HMAC-SHA256 built on the reused digest context: OpenSSL 3's one-shot HMAC() fetches and
 * allocates on every call, which dominated the profile. The key may come in two parts so that
 * "AWS4" + secret needs no concatenation buffer. */
static int hmac(sigv4_signer *s, const void *k1, size_t k1len, const void *k2, size_t k2len,
                 const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned char pad[64], inner[32];
    int ok = 0;
    memset(pad, 0, sizeof pad);
    if (k1len + k2len > 64) {
        if (!sha256_parts(s, k1, k1len, k2, k2len, pad))
            goto done;
    } else {
        if (k1len)
            memcpy(pad, k1, k1len);
        if (k2len)
            memcpy(pad + k1len, k2, k2len);
    }
    for (int i = 0; i < 64; i++)
        pad[i] ^= 0x36;
    if (!sha256_parts(s, pad, 64, msg, mlen, inner))
        goto done;
    for (int i = 0; i < 64; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    ok = sha256_parts(s, pad, 64, inner, 32, out);
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
    int v[] = {(int)(y / 1000), (int)(y / 100 % 10), (int)(y / 10 % 10), (int)(y % 10),
               m / 10, m % 10, d / 10, d % 10, -1, hh / 10, hh % 10, mm / 10, mm % 10,
               ss / 10, ss % 10};
    for (int i = 0; i < 15; i++)
        out[i] = v[i] < 0 ? 'T' : (char)('0' + v[i]);
    out[15] = 'Z';
    out[16] = '\0';
    return 1;
}

/* ---------------------------------------------------------------- encoding */

static const char HEXU[] = "0123456789ABCDEF";

/* A-Za-z0-9-._~: the only bytes SigV4 leaves unescaped. */
static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_escape(const char *p, size_t i, size_t len)
{
    return i + 2 < len && hexval((unsigned char)p[i + 1]) >= 0 &&
           hexval((unsigned char)p[i + 2]) >= 0;
}

/* mode: 0 = escape everything reserved (including '%'); 1 = decode %XX first, then escape
 * (query components); 2 = keep valid %XX escapes, upper-cased (S3 paths). '/' is kept when
 * keep_slash. Reserves the worst case once so the loop writes without bounds checks. */
static int encode(strbuf *dst, const char *src, size_t len, int mode, int keep_slash)
{
    if (len > SIZE_MAX / 4)
        dst->failed = 1;
    if (dst->failed || !sb_reserve(dst, 3 * len))
        return 0;
    char *o = dst->data + dst->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%' && mode && is_escape(src, i, len)) {
            int v = hexval((unsigned char)src[i + 1]) * 16 + hexval((unsigned char)src[i + 2]);
            i += 2;
            if (mode == 2) {
                *o++ = '%';
                *o++ = HEXU[v >> 4];
                *o++ = HEXU[v & 15];
                continue;
            }
            c = (unsigned char)v;
        }
        if (unreserved(c) || (c == '/' && keep_slash)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = HEXU[c >> 4];
            *o++ = HEXU[c & 15];
        }
    }
    dst->len = (size_t)(o - dst->data);
    dst->data[dst->len] = '\0';
    return 1;
}

int sigv4_uri_encode(strbuf *dst, const char *src, size_t len, int keep_slash)
{
    return encode(dst, src, len, 0, keep_slash);
}

/* RFC 3986 dot-segment removal, plus AWS's collapsing of empty segments. The result keeps a
 * trailing slash only when the input had one and something is left before it. */
static int normalize_path(strbuf *dst, const char *p, size_t len)
{
    size_t base = dst->len;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0 || (n == 1 && p[i] == '.')) {
            /* skip */
        } else if (n == 2 && p[i] == '.' && p[i + 1] == '.') {
            size_t k = dst->len;
            while (k > base && dst->data[k - 1] != '/')
                k--;
            dst->len = k > base ? k - 1 : base;
            if (dst->data)
                dst->data[dst->len] = '\0';
        } else {
            sb_putc(dst, '/');
            sb_append(dst, p + i, n);
        }
        i = j + 1;
    }
    if (dst->len == base)
        sb_putc(dst, '/');
    else if (len && p[len - 1] == '/')
        sb_putc(dst, '/');
    return !dst->failed;
}

static int canonical_uri(sigv4_signer *s, strbuf *dst, const char *path, size_t len,
                         unsigned flags)
{
    if (flags & SIGV4_NORMALIZE) {
        sb_reset(&s->tmp);
        if (!normalize_path(&s->tmp, path, len))
            return 0;
        path = s->tmp.data;
        len = s->tmp.len;
    }
    if (len == 0)
        return sb_putc(dst, '/');
    return encode(dst, path, len, (flags & SIGV4_DOUBLE_ENCODE) ? 0 : 2, 1);
}

/* ---------------------------------------------------------------- headers */

enum {
    DROP_DATE = 1,     /* x-amz-date: the signer sets its own (header) or uses the query */
    DROP_TOKEN = 2,    /* x-amz-security-token: the signer sets it from the credentials */
    DROP_SHA = 4,      /* x-amz-content-sha256: the signer sets it (SIGV4_SIGN_BODY) */
    KEEP_ALL = 8       /* trailers: sign every name given */
};

static int name_is(const char *n, size_t len, const char *lit)
{
    size_t l = strlen(lit);
    return len == l && memcmp(n, lit, l) == 0;
}

/* Headers that proxies, curl or the SDK layer may add or rewrite after signing, or that the
 * signer owns. Matching is on the already lower-cased name. */
static int skipped(const char *n, size_t len, unsigned drop)
{
    if (drop & KEEP_ALL)
        return 0;
    switch (len) {
    case 6: return name_is(n, len, "expect");
    case 10: return name_is(n, len, "user-agent") || name_is(n, len, "connection") ||
                    ((drop & DROP_DATE) && name_is(n, len, "x-amz-date"));
    case 13: return name_is(n, len, "authorization");
    case 15: return name_is(n, len, "x-amzn-trace-id");
    case 17: return name_is(n, len, "transfer-encoding");
    case 20: return ((drop & DROP_TOKEN) && name_is(n, len, "x-amz-security-token")) ||
                    ((drop & DROP_SHA) && name_is(n, len, "x-amz-content-sha256"));
    default: return 0;
    }
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims and folds every run of white space (including the CRLF + indent of an obsolete
 * folded header line) into one space. */
static void append_folded(strbuf *sb, const char *v, size_t len)
{
    if (!sb_reserve(sb, len))
        return;
    char *start = sb->data + sb->len, *o = start;
    int pending = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (is_ws(c)) {
            pending = o != start;
            continue;
        }
        if (pending)
            *o++ = ' ';
        pending = 0;
        *o++ = (char)c;
    }
    sb->len = (size_t)(o - sb->data);
    sb->data[sb->len] = '\0';
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return 0;
    *arr = p;
    *cap = n;
    return 1;
}

static int push_header(sigv4_signer *s, size_t *n, const char *name, size_t nlen,
                       const char *val, size_t vlen, unsigned drop)
{
    strbuf *b = &s->hscratch;
    if (!grow((void **)&s->hents, &s->hents_cap, *n + 1, sizeof(hent)) || !sb_reserve(b, nlen))
        return 0;
    size_t noff = b->len;
    char *o = b->data + noff;
    for (size_t i = 0; i < nlen; i++) {
        char c = name[i];
        o[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    b->len += nlen;
    b->data[b->len] = '\0';
    if (skipped(o, nlen, drop)) {
        b->len = noff;
        b->data[noff] = '\0';
        return 1;
    }
    size_t voff = b->len;
    append_folded(b, val, vlen);
    if (b->failed)
        return 0;
    hent *e = &s->hents[(*n)++];
    e->name_off = noff;
    e->name_len = nlen;
    e->val_off = voff;
    e->val_len = b->len - voff;
    e->order = *n;
    return 1;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* qsort is not stable, so arrival order breaks ties: duplicates must join in that order. */
static int cmp_hent(const void *pa, const void *pb)
{
    const hent *a = pa, *b = pb;
    int c = cmp_bytes(a->name, a->name_len, b->name, b->name_len);
    if (c)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Sorts the collected headers and writes "name:v1,v2\n" lines into hdr and "a;b" into sh. */
static int emit_headers(sigv4_signer *s, size_t n, strbuf *hdr, strbuf *sh)
{
    for (size_t i = 0; i < n; i++) {
        s->hents[i].name = s->hscratch.data + s->hents[i].name_off;
        s->hents[i].val = s->hscratch.data + s->hents[i].val_off;
    }
    if (n > 1)
        qsort(s->hents, n, sizeof(hent), cmp_hent);
    sb_reset(hdr);
    if (sh)
        sb_reset(sh);
    for (size_t i = 0; i < n; i++) {
        const hent *e = &s->hents[i];
        if (i > 0 && cmp_bytes(e->name, e->name_len, s->hents[i - 1].name,
                               s->hents[i - 1].name_len) == 0) {
            /* hdr ends with "\n" of the previous line: continue that line */
            hdr->len--;
            sb_putc(hdr, ',');
        } else {
            sb_append(hdr, e->name, e->name_len);
            sb_putc(hdr, ':');
            if (sh) {
                if (sh->len)
                    sb_putc(sh, ';');
                sb_append(sh, e->name, e->name_len);
            }
        }
        sb_append(hdr, e->val, e->val_len);
        sb_putc(hdr, '\n');
    }
    if (sh && !sh->data)
        sb_append(sh, "", 0);
    return !hdr->failed && !(sh && sh->failed);
}

/* ---------------------------------------------------------------- query */

static int push_pair(sigv4_signer *s, size_t *n, const char *name, size_t nlen, const char *val,
                     size_t vlen, int decode)
{
    strbuf *b = &s->qscratch;
    if (!grow((void **)&s->qents, &s->qents_cap, *n + 1, sizeof(qent)))
        return 0;
    size_t off = b->len;
    encode(b, name, nlen, decode, 0);
    size_t mid = b->len;
    encode(b, val, vlen, decode, 0);
    if (b->failed)
        return 0;
    qent *e = &s->qents[(*n)++];
    e->off = off;
    e->name_len = mid - off;
    e->val_len = b->len - mid;
    return 1;
}

static int parse_query(sigv4_signer *s, size_t *n, const char *q, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && q[eq] != '=')
                eq++;
            size_t vstart = eq < j ? eq + 1 : j;
            if (!push_pair(s, n, q + i, eq - i, q + vstart, j - vstart, 1))
                return 0;
        }
        i = j + 1;
    }
    return 1;
}

static int cmp_qent(const void *pa, const void *pb)
{
    const qent *a = pa, *b = pb;
    int c = cmp_bytes(a->p, a->name_len, b->p, b->name_len);
    if (c)
        return c;
    return cmp_bytes(a->p + a->name_len, a->val_len, b->p + b->name_len, b->val_len);
}

static int emit_query(sigv4_signer *s, size_t n)
{
    strbuf *q = &s->cquery;
    for (size_t i = 0; i < n; i++)
        s->qents[i].p = s->qscratch.data + s->qents[i].off;
    if (n > 1)
        qsort(s->qents, n, sizeof(qent), cmp_qent);
    sb_reset(q);
    sb_append(q, "", 0);
    for (size_t i = 0; i < n; i++) {
        const qent *e = &s->qents[i];
        if (i)
            sb_putc(q, '&');
        sb_append(q, e->p, e->name_len);
        sb_putc(q, '=');
        sb_append(q, e->p + e->name_len, e->val_len);
    }
    return !q->failed;
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
    int ok = hmac(s, "AWS4", 4, secret, secret_len, date8, 8, a) &&
             hmac(s, a, 32, NULL, 0, region, rlen, b) &&
             hmac(s, b, 32, NULL, 0, service, svlen, a) &&
             hmac(s, a, 32, NULL, 0, "aws4_request", 12, key);
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

static int build_scope(sigv4_signer *s, const char *date, const char *region, const char *service)
{
    sb_reset(&s->scope);
    sb_append(&s->scope, date, 8);
    return cat(&s->scope, "/", region, "/", service, "/aws4_request", NULL);
}

static size_t secret_length(const sigv4_params *p)
{
    return p->secret_len ? p->secret_len : strlen(p->secret_access_key);
}

static int sign_with_params(sigv4_signer *s, const sigv4_params *p, const char *date8,
                            const char *msg, size_t len, char sig[65])
{
    unsigned char key[32], mac[32];
    int rc = sigv4_signing_key(s, p->secret_access_key, secret_length(p), date8, p->region,
                               p->service, key);
    if (rc == SIGV4_OK && !hmac(s, key, 32, NULL, 0, msg, len, mac))
        rc = SIGV4_ECRYPTO;
    OPENSSL_cleanse(key, sizeof key);
    if (rc == SIGV4_OK)
        hex32(mac, sig);
    return rc;
}

int sigv4_signature(sigv4_signer *s, const sigv4_params *p, const char *string_to_sign,
                    size_t len, char sig[65])
{
    char date[17];
    if (!p->secret_access_key || !p->region || !p->service || !sigv4_format_time(p->time, date))
        return SIGV4_EINVAL;
    return sign_with_params(s, p, date, string_to_sign, len, sig);
}

/* ---------------------------------------------------------------- canonical request */

static int has_token(const sigv4_params *p)
{
    return p->session_token && p->session_token[0];
}

static int query_auth_pairs(sigv4_signer *s, size_t *n, const sigv4_params *p, const char *date)
{
    char num[24];
    int len = snprintf(num, sizeof num, "%ld", p->expires);
    strbuf *t = &s->tmp;
    sb_reset(t);
    if (!cat(t, p->access_key_id, "/", s->scope.data, NULL))
        return 0;
    if (!push_pair(s, n, "X-Amz-Algorithm", 15, SIGV4_ALGORITHM, 16, 0) ||
        !push_pair(s, n, "X-Amz-Credential", 16, t->data, t->len, 0) ||
        !push_pair(s, n, "X-Amz-Date", 10, date, 16, 0) ||
        !push_pair(s, n, "X-Amz-Expires", 13, num, (size_t)len, 0) ||
        !push_pair(s, n, "X-Amz-SignedHeaders", 19, s->sh.data, s->sh.len, 0))
        return 0;
    if (has_token(p) && !(p->flags & SIGV4_OMIT_SESSION_TOKEN))
        return push_pair(s, n, "X-Amz-Security-Token", 20, p->session_token,
                         strlen(p->session_token), 0);
    return 1;
}

int sigv4_canonical_request(sigv4_signer *s, const sigv4_request *req, const sigv4_params *p,
                            sigv4_result *out)
{
    int presign = p->expires > 0;
    if (!req->method || !p->region || !p->service || (presign && !p->access_key_id) ||
        (req->n_headers && !req->headers) || (req->path_len && !req->path) ||
        (req->query_len && !req->query) || (req->body_len && !req->body))
        return SIGV4_EINVAL;
    char date[17];
    if (!sigv4_format_time(p->time, date))
        return SIGV4_EINVAL;
    if (!build_scope(s, date, p->region, p->service))
        return SIGV4_ENOMEM;

    const char *ph = req->payload_hash;
    if (!ph) {
        unsigned char d[32];
        if (!sha256_parts(s, req->body, req->body_len, NULL, 0, d))
            return SIGV4_ECRYPTO;
        hex32(d, s->phash);
        ph = s->phash;
    }

    size_t nh = 0;
    unsigned drop = DROP_DATE | (has_token(p) ? DROP_TOKEN : 0) |
                    (!presign && (p->flags & SIGV4_SIGN_BODY) ? DROP_SHA : 0);
    sb_reset(&s->hscratch);
    for (size_t i = 0; i < req->n_headers; i++) {
        const sigv4_header *h = &req->headers[i];
        if (!h->name || (h->value_len && !h->value))
            return SIGV4_EINVAL;
        if (!push_header(s, &nh, h->name, h->name_len, h->value, h->value_len, drop))
            return SIGV4_ENOMEM;
    }
    if (!presign) {
        if (!push_header(s, &nh, "x-amz-date", 10, date, 16, KEEP_ALL) ||
            (has_token(p) && !(p->flags & SIGV4_OMIT_SESSION_TOKEN) &&
             !push_header(s, &nh, "x-amz-security-token", 20, p->session_token,
                          strlen(p->session_token), KEEP_ALL)) ||
            ((p->flags & SIGV4_SIGN_BODY) &&
             !push_header(s, &nh, "x-amz-content-sha256", 20, ph, strlen(ph), KEEP_ALL)))
            return SIGV4_ENOMEM;
    }
    if (!emit_headers(s, nh, &s->hdr, &s->sh))
        return SIGV4_ENOMEM;

    size_t nq = 0;
    sb_reset(&s->qscratch);
    if (!parse_query(s, &nq, req->query, req->query_len) ||
        (presign && !query_auth_pairs(s, &nq, p, date)) || !emit_query(s, nq))
        return SIGV4_ENOMEM;

    strbuf *cr = &s->cr;
    sb_reset(cr);
    cat(cr, req->method, "\n", NULL);
    if (!canonical_uri(s, cr, req->path, req->path_len, p->flags) ||
        !cat(cr, "\n", s->cquery.data, "\n", s->hdr.data, "\n", s->sh.data, "\n", ph, NULL))
        return SIGV4_ENOMEM;

    memset(out, 0, sizeof *out);
    memcpy(out->amz_date, date, sizeof date);
    out->canonical_request = cr->data;
    out->canonical_request_len = cr->len;
    out->signed_headers = s->sh.data;
    out->scope = s->scope.data;
    out->payload_hash = ph;
    out->canonical_query = s->cquery.data;
    out->canonical_query_len = s->cquery.len;
    return SIGV4_OK;
}

int sigv4_string_to_sign(sigv4_signer *s, const char *amz_date, const char *scope,
                         const char *canonical_request, size_t len, strbuf *dst)
{
    unsigned char d[32];
    if (!amz_date || !scope || (len && !canonical_request))
        return SIGV4_EINVAL;
    if (!sha256_parts(s, canonical_request, len, NULL, 0, d))
        return SIGV4_ECRYPTO;
    sb_reset(dst);
    cat(dst, SIGV4_ALGORITHM "\n", amz_date, "\n", scope, "\n", NULL);
    return sb_hex(dst, d, 32) ? SIGV4_OK : SIGV4_ENOMEM;
}

static void put_param(strbuf *q, const char *prefix, const char *raw, size_t len)
{
    sb_puts(q, prefix);
    encode(q, raw, len, 0, 0);
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
        rc = sign_with_params(s, p, out->amz_date, s->sts.data, s->sts.len, out->signature);
    if (rc != SIGV4_OK)
        return rc;
    out->string_to_sign = s->sts.data;
    out->string_to_sign_len = s->sts.len;

    /* Field order matches the AWS test suite's signed requests, so they compare byte for byte. */
    if (p->expires <= 0) {
        strbuf *a = &s->auth;
        sb_reset(a);
        if (!cat(a, SIGV4_ALGORITHM " Credential=", p->access_key_id, "/", s->scope.data,
                 ", SignedHeaders=", s->sh.data, ", Signature=", out->signature, NULL))
            return SIGV4_ENOMEM;
        if (has_token(p))
            add_header(out, "X-Amz-Security-Token", p->session_token, strlen(p->session_token));
        add_header(out, "X-Amz-Date", out->amz_date, 16);
        if (p->flags & SIGV4_SIGN_BODY)
            add_header(out, "x-amz-content-sha256", out->payload_hash,
                       strlen(out->payload_hash));
        add_header(out, "Authorization", a->data, a->len);
        return SIGV4_OK;
    }

    char num[24];
    snprintf(num, sizeof num, "%ld", p->expires);
    strbuf *q = &s->aq, *t = &s->tmp;
    sb_reset(q);
    sb_reset(t);
    cat(t, p->access_key_id, "/", s->scope.data, NULL);
    sb_puts(q, "X-Amz-Algorithm=" SIGV4_ALGORITHM);
    put_param(q, "&X-Amz-Credential=", t->data, t->len);
    put_param(q, "&X-Amz-Date=", out->amz_date, 16);
    put_param(q, "&X-Amz-SignedHeaders=", s->sh.data, s->sh.len);
    put_param(q, "&X-Amz-Expires=", num, strlen(num));
    if (has_token(p))
        put_param(q, "&X-Amz-Security-Token=", p->session_token, strlen(p->session_token));
    put_param(q, "&X-Amz-Signature=", out->signature, 64);
    if (q->failed || t->failed)
        return SIGV4_ENOMEM;
    out->auth_query = q->data;
    out->auth_query_len = q->len;
    return SIGV4_OK;
}

/* ---------------------------------------------------------------- aws-chunked */

static int chained_signature(sigv4_signer *s, const sigv4_params *p, const char *algorithm,
                             const char prev_sig[64], const char *extra, const char *hash,
                             char sig[65])
{
    char date[17];
    if (!p->secret_access_key || !p->region || !p->service || !prev_sig ||
        !sigv4_format_time(p->time, date))
        return SIGV4_EINVAL;
    if (!build_scope(s, date, p->region, p->service))
        return SIGV4_ENOMEM;
    strbuf *t = &s->tmp;
    sb_reset(t);
    cat(t, algorithm, "\n", date, "\n", s->scope.data, "\n", NULL);
    sb_append(t, prev_sig, 64); /* not necessarily NUL-terminated */
    if (!cat(t, "\n", extra ? extra : "", extra ? "\n" : "", hash, NULL))
        return SIGV4_ENOMEM;
    return sign_with_params(s, p, date, t->data, t->len, sig);
}

int sigv4_chunk_signature(sigv4_signer *s, const sigv4_params *p, const char prev_sig[64],
                          const void *chunk, size_t chunk_len, char sig[65])
{
    unsigned char d[32];
    char hex[65];
    if (chunk_len && !chunk)
        return SIGV4_EINVAL;
    if (!sha256_parts(s, chunk, chunk_len, NULL, 0, d))
        return SIGV4_ECRYPTO;
    hex32(d, hex);
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
        if (!push_header(s, &nh, trailers[i].name, trailers[i].name_len, trailers[i].value,
                         trailers[i].value_len, KEEP_ALL))
            return SIGV4_ENOMEM;
    }
    if (!emit_headers(s, nh, &s->hdr, NULL))
        return SIGV4_ENOMEM;
    if (!sha256_parts(s, s->hdr.data, s->hdr.len, NULL, 0, d))
        return SIGV4_ECRYPTO;
    hex32(d, hex);
    return chained_signature(s, p, "AWS4-HMAC-SHA256-TRAILER", prev_sig, NULL, hex, sig);
}

/* The canonical request: URI, query and headers in the one spelling SigV4 hashes. */
#include "sign/sigv4_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/percent.h"

/* ---------------------------------------------------------------- encoding */

/* What becomes of a valid %XX already in the input. */
enum escapes {
    ESCAPE_PERCENT,    /* the '%' is escaped like any other byte: encoding once more */
    DECODE_ESCAPES,    /* read back to its byte, which is then encoded (query components) */
    KEEP_ESCAPES       /* kept, hex upper-cased: S3 paths are never encoded twice */
};

static int is_escape(const char *p, size_t i, size_t len)
{
    return i + 2 < len && isxdigit((unsigned char)p[i + 1]) && isxdigit((unsigned char)p[i + 2]);
}

/* The value of a hex digit already known to be one. */
static int hex_digit(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The plain runs between escapes go to codec/percent.c, which owns the RFC 3986 unreserved set
 * and the upper-case hex that SigV4 wants; only the escapes themselves are handled here. */
static int encode(strbuf *dst, const char *src, size_t len, enum escapes how, int keep_slash)
{
    if (len > SIZE_MAX / 4)
        dst->failed = 1;
    if (dst->failed)
        return 0;
    size_t plain = 0;
    for (size_t i = 0; how != ESCAPE_PERCENT && i < len; i++) {
        if (src[i] != '%' || !is_escape(src, i, len))
            continue;
        aws_percent_encode(dst, src + plain, i - plain, keep_slash);
        if (how == DECODE_ESCAPES) {
            char byte = (char)(hex_digit((unsigned char)src[i + 1]) * 16 +
                               hex_digit((unsigned char)src[i + 2]));
            aws_percent_encode(dst, &byte, 1, keep_slash);
        } else {
            char escape[3] = {'%', upper(src[i + 1]), upper(src[i + 2])};
            sb_append(dst, escape, sizeof escape);
        }
        i += 2;
        plain = i + 1;
    }
    aws_percent_encode(dst, src + plain, len - plain, keep_slash);
    return !dst->failed;
}

int sigv4_uri_encode(strbuf *dst, const char *src, size_t len, int keep_slash)
{
    return encode(dst, src, len, ESCAPE_PERCENT, keep_slash);
}

int sigv4_encode_component(strbuf *dst, const char *src, size_t len, int decode)
{
    return encode(dst, src, len, decode ? DECODE_ESCAPES : ESCAPE_PERCENT, 0);
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
    return encode(dst, path, len, (flags & SIGV4_DOUBLE_ENCODE) ? ESCAPE_PERCENT : KEEP_ESCAPES,
                  1);
}

/* ---------------------------------------------------------------- headers */

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

int sigv4_push_header(sigv4_signer *s, size_t *n, const char *name, size_t nlen,
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

int sigv4_emit_headers(sigv4_signer *s, size_t n, int with_signed_list)
{
    strbuf *hdr = &s->hdr, *sh = &s->sh;
    for (size_t i = 0; i < n; i++) {
        s->hents[i].name = s->hscratch.data + s->hents[i].name_off;
        s->hents[i].val = s->hscratch.data + s->hents[i].val_off;
    }
    if (n > 1)
        qsort(s->hents, n, sizeof(hent), cmp_hent);
    sb_reset(hdr);
    if (with_signed_list)
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
            if (with_signed_list) {
                if (sh->len)
                    sb_putc(sh, ';');
                sb_append(sh, e->name, e->name_len);
            }
        }
        sb_append(hdr, e->val, e->val_len);
        sb_putc(hdr, '\n');
    }
    if (with_signed_list && !sh->data)
        sb_append(sh, "", 0);
    return !hdr->failed && !(with_signed_list && sh->failed);
}

/* ---------------------------------------------------------------- query */

int sigv4_push_pair(sigv4_signer *s, size_t *n, const char *name, size_t nlen,
                    const char *val, size_t vlen, int decode)
{
    strbuf *b = &s->qscratch;
    if (!grow((void **)&s->qents, &s->qents_cap, *n + 1, sizeof(qent)))
        return 0;
    size_t off = b->len;
    sigv4_encode_component(b, name, nlen, decode);
    size_t mid = b->len;
    sigv4_encode_component(b, val, vlen, decode);
    if (b->failed)
        return 0;
    qent *e = &s->qents[(*n)++];
    e->off = off;
    e->name_len = mid - off;
    e->val_len = b->len - mid;
    return 1;
}

int sigv4_collect_query(sigv4_signer *s, size_t *n, const char *q, size_t len)
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
            if (!sigv4_push_pair(s, n, q + i, eq - i, q + vstart, j - vstart, 1))
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

int sigv4_emit_query(sigv4_signer *s, size_t n)
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
    if (!sigv4_build_scope(s, date, p->region, p->service))
        return SIGV4_ENOMEM;

    const char *ph = req->payload_hash;
    /* Whoever fetches a presigned S3 URL chooses the body (a PUT), so S3 checks no payload hash:
     * the empty body's would make S3 refuse the URL. */
    if (!ph && presign && strcmp(p->service, "s3") == 0)
        ph = SIGV4_UNSIGNED_PAYLOAD;
    if (!ph) {
        unsigned char d[32];
        if (!sigv4_sha256(s, req->body, req->body_len, NULL, 0, d))
            return SIGV4_ECRYPTO;
        sigv4_hex32(d, s->phash);
        ph = s->phash;
    }

    size_t nh = 0;
    unsigned drop = DROP_DATE | (sigv4_has_token(p) ? DROP_TOKEN : 0) |
                    (!presign && (p->flags & SIGV4_SIGN_BODY) ? DROP_SHA : 0);
    sb_reset(&s->hscratch);
    for (size_t i = 0; i < req->n_headers; i++) {
        const sigv4_header *h = &req->headers[i];
        if (!h->name || (h->value_len && !h->value))
            return SIGV4_EINVAL;
        if (!sigv4_push_header(s, &nh, h->name, h->name_len, h->value, h->value_len, drop))
            return SIGV4_ENOMEM;
    }
    if (!presign) {
        if (!sigv4_push_header(s, &nh, "x-amz-date", 10, date, 16, KEEP_ALL) ||
            (sigv4_has_token(p) && !(p->flags & SIGV4_OMIT_SESSION_TOKEN) &&
             !sigv4_push_header(s, &nh, "x-amz-security-token", 20, p->session_token,
                               strlen(p->session_token), KEEP_ALL)) ||
            ((p->flags & SIGV4_SIGN_BODY) &&
             !sigv4_push_header(s, &nh, "x-amz-content-sha256", 20, ph, strlen(ph), KEEP_ALL)))
            return SIGV4_ENOMEM;
    }
    if (!sigv4_emit_headers(s, nh, 1))
        return SIGV4_ENOMEM;

    size_t nq = 0;
    sb_reset(&s->qscratch);
    if (!sigv4_collect_query(s, &nq, req->query, req->query_len) ||
        (presign && !sigv4_presign_pairs(s, &nq, p, date)) || !sigv4_emit_query(s, nq))
        return SIGV4_ENOMEM;

    strbuf *cr = &s->cr;
    sb_reset(cr);
    sigv4_cat(cr, req->method, "\n", CAT_END);
    if (!canonical_uri(s, cr, req->path, req->path_len, p->flags) ||
        !sigv4_cat(cr, "\n", s->cquery.data, "\n", s->hdr.data, "\n", s->sh.data, "\n", ph,
                   CAT_END))
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


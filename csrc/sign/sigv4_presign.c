/* Presigned URLs (query signing): the X-Amz-* parameters are both part of the canonical query
 * that is signed and, with the signature, what the caller appends to the URL. One list serves
 * both so that the two can never disagree. */
#include "sign/sigv4_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct query_param {
    const char *name;
    const char *value;
    size_t len;
} query_param;

enum { MAX_PRESIGN_PARAMS = 6 };

/* Fills list in the order the URL shows them (the AWS suite's order). The credential is
 * written into s->tmp and the expiry into num, which must outlive the list. */
static int presign_params(sigv4_signer *s, const sigv4_params *p, const char *date,
                          int with_token, char num[24], query_param list[MAX_PRESIGN_PARAMS],
                          size_t *n)
{
    int num_len = snprintf(num, 24, "%ld", p->expires);
    strbuf *credential = &s->tmp;
    sb_reset(credential);
    if (num_len <= 0 || num_len >= 24 ||
        !sigv4_cat(credential, p->access_key_id, "/", s->scope.data, CAT_END))
        return 0;
    size_t k = 0;
    list[k++] = (query_param){"X-Amz-Algorithm", SIGV4_ALGORITHM, strlen(SIGV4_ALGORITHM)};
    list[k++] = (query_param){"X-Amz-Credential", credential->data, credential->len};
    list[k++] = (query_param){"X-Amz-Date", date, 16};
    list[k++] = (query_param){"X-Amz-SignedHeaders", s->sh.data, s->sh.len};
    list[k++] = (query_param){"X-Amz-Expires", num, (size_t)num_len};
    if (with_token && sigv4_has_token(p))
        list[k++] = (query_param){"X-Amz-Security-Token", p->session_token,
                                  strlen(p->session_token)};
    *n = k;
    return 1;
}

int sigv4_presign_pairs(sigv4_signer *s, size_t *n, const sigv4_params *p, const char *date)
{
    query_param list[MAX_PRESIGN_PARAMS];
    char num[24];
    size_t count;
    if (!presign_params(s, p, date, !(p->flags & SIGV4_OMIT_SESSION_TOKEN), num, list, &count))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (!sigv4_push_pair(s, n, list[i].name, strlen(list[i].name), list[i].value,
                             list[i].len, 0))
            return 0;
    return 1;
}

static void put_param(strbuf *q, const char *name, const char *raw, size_t len)
{
    if (q->len)
        sb_putc(q, '&');
    sigv4_cat(q, name, "=", CAT_END);
    sigv4_encode_component(q, raw, len, 0);
}

int sigv4_presign_query(sigv4_signer *s, const sigv4_params *p, sigv4_result *out)
{
    query_param list[MAX_PRESIGN_PARAMS];
    char num[24];
    size_t count;
    if (!presign_params(s, p, out->amz_date, 1, num, list, &count))
        return SIGV4_ENOMEM;
    strbuf *q = &s->aq;
    sb_reset(q);
    for (size_t i = 0; i < count; i++)
        put_param(q, list[i].name, list[i].value, list[i].len);
    put_param(q, "X-Amz-Signature", out->signature, 64);
    if (q->failed)
        return SIGV4_ENOMEM;
    out->auth_query = q->data;
    out->auth_query_len = q->len;
    return SIGV4_OK;
}

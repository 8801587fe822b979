/* Signature Version 2 on top of the SigV4 signer's pieces: its query canonicalization (the same
 * RFC 3986 encoding and byte order SigV2 asks for), its reusable HMAC-SHA256 and its buffers.
 * SigV2 signs with the secret itself as the key, so no key derivation or cache is involved. */
#include "sign/sigv2.h"

#include "sign/sigv4_internal.h"

#include "codec/base64.h"

#include <string.h>

/* "YYYYMMDDTHHMMSSZ" (sigv4_format_time) -> "YYYY-MM-DDTHH:MM:SSZ", the ISO 8601 form of JS v2
 * and botocore (no fraction). */
static int format_timestamp(int64_t t, char out[21])
{
    char compact[17];
    if (!sigv4_format_time(t, compact))
        return 0;
    memcpy(out, compact, 4);
    out[4] = '-';
    memcpy(out + 5, compact + 4, 2);
    out[7] = '-';
    memcpy(out + 8, compact + 6, 3); /* DDT */
    memcpy(out + 11, compact + 9, 2);
    out[13] = ':';
    memcpy(out + 14, compact + 11, 2);
    out[16] = ':';
    memcpy(out + 17, compact + 13, 3); /* SSZ */
    out[20] = '\0';
    return 1;
}

static int push_literal(sigv4_signer *s, size_t *n, const char *name, const char *value)
{
    return sigv4_push_pair(s, n, name, strlen(name), value, strlen(value), 0);
}

/* The request's parameters and the auth parameters, canonical, into s->cquery. */
static int canonical_params(sigv4_signer *s, const sigv2_request *req, const sigv4_params *p,
                            const char *timestamp)
{
    size_t n = 0;
    sb_reset(&s->qscratch);
    return sigv4_collect_query(s, &n, req->params, req->params_len) &&
           push_literal(s, &n, "AWSAccessKeyId", p->access_key_id) &&
           push_literal(s, &n, "SignatureMethod", SIGV2_METHOD) &&
           push_literal(s, &n, "SignatureVersion", "2") &&
           push_literal(s, &n, "Timestamp", timestamp) &&
           (!sigv4_has_token(p) || push_literal(s, &n, "SecurityToken", p->session_token)) &&
           sigv4_emit_query(s, n);
}

/* METHOD \n host (lower case) \n path \n canonical form, into s->sts. */
static int string_to_sign(sigv4_signer *s, const sigv2_request *req)
{
    strbuf *sts = &s->sts;
    sb_reset(sts);
    sigv4_cat(sts, req->method, "\n", CAT_END);
    for (size_t i = 0; i < req->host_len; i++) {
        char c = req->host[i];
        sb_putc(sts, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
    }
    sb_putc(sts, '\n');
    if (req->path_len)
        sb_append(sts, req->path, req->path_len);
    else
        sb_putc(sts, '/');
    sb_putc(sts, '\n');
    sb_append(sts, s->cquery.data, s->cquery.len);
    return !sts->failed;
}

int sigv2_sign(sigv4_signer *s, const sigv2_request *req, const sigv4_params *p, sigv2_result *out)
{
    if (!req->method || !req->host || !req->host_len || (req->path_len && !req->path) ||
        (req->params_len && !req->params) || !p->access_key_id || !p->secret_access_key)
        return SIGV4_EINVAL;
    memset(out, 0, sizeof *out);
    if (!format_timestamp(p->time, out->timestamp))
        return SIGV4_EINVAL;
    if (!canonical_params(s, req, p, out->timestamp) || !string_to_sign(s, req))
        return SIGV4_ENOMEM;
    size_t secret_len = p->secret_len ? p->secret_len : strlen(p->secret_access_key);
    unsigned char mac[32];
    if (!sigv4_hmac(s, p->secret_access_key, secret_len, NULL, 0, s->sts.data, s->sts.len, mac))
        return SIGV4_ECRYPTO;
    strbuf *b64 = &s->tmp;
    sb_reset(b64);
    if (!aws_base64_encode(b64, mac, sizeof mac) || b64->len != 44)
        return SIGV4_ENOMEM;
    memcpy(out->signature, b64->data, 44);
    out->signature[44] = '\0';

    strbuf *signed_params = &s->aq;
    sb_reset(signed_params);
    sb_append(signed_params, s->cquery.data, s->cquery.len);
    sb_puts(signed_params, "&Signature=");
    sigv4_encode_component(signed_params, out->signature, 44, 0);
    if (signed_params->failed)
        return SIGV4_ENOMEM;
    out->string_to_sign = s->sts.data;
    out->string_to_sign_len = s->sts.len;
    out->signed_params = signed_params->data;
    out->signed_params_len = signed_params->len;
    return SIGV4_OK;
}

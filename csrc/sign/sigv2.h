/* AWS Signature Version 2 (SignatureVersion=2, HmacSHA256): the query signing that SimpleDB's
 * model still asks for. The auth parameters (AWSAccessKeyId, SignatureMethod, SignatureVersion,
 * Timestamp, SecurityToken) join the request's own, the sorted canonical form is signed with
 * "METHOD\nhost\npath\n<canonical form>", and the signature goes last. Pure C over the SigV4
 * signer's buffers and hash context; every string of a sigv2_result lives in the signer until
 * its next call. */
#ifndef AWSPROMISE_SIGN_SIGV2_H
#define AWSPROMISE_SIGN_SIGV2_H

#include <stddef.h>

#include "sign/sigv4.h"

#define SIGV2_METHOD "HmacSHA256"

typedef struct sigv2_request {
    const char *method;              /* NUL-terminated, e.g. "POST" */
    const char *host;                /* as the Host header carries it (a non-default port kept) */
    size_t host_len;
    const char *path;                /* as on the request line, without the query; empty = "/" */
    size_t path_len;
    /* The parameters: the form body or the URL's query ("a=b&c", percent-escapes decoded and
     * encoded again canonically). It must not carry the auth parameters already. */
    const char *params;
    size_t params_len;
} sigv2_request;

typedef struct sigv2_result {
    const char *string_to_sign;
    size_t string_to_sign_len;
    /* What to send as the body or the query: the canonical form, then &Signature=... */
    const char *signed_params;
    size_t signed_params_len;
    char timestamp[21];              /* "2015-08-30T12:36:00Z" */
    char signature[45];              /* base64 */
} sigv2_result;

/* Signs with p's access_key_id, secret_access_key, session_token and time (region, service and
 * flags are not used by SigV2). Returns SIGV4_OK or a SIGV4_E* code. */
int sigv2_sign(sigv4_signer *s, const sigv2_request *req, const sigv4_params *p, sigv2_result *out);

#endif

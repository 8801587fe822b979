/* What the protocols share, below all of them: the guard that owns C memory across Lua calls,
 * the request skeleton, host prefixes and idempotency tokens, scalar text, map key order, and
 * the response and error helpers every response parser uses. */
#ifndef AWSPROMISE_PROTOCOL_COMMON_H
#define AWSPROMISE_PROTOCOL_COMMON_H

#include <stdarg.h>

#include "core/error.h"
#include "core/strbuf.h"
#include "model/model.h"
#include "model/shape.h"

/* C memory held during a build or a parse lives in this userdata: a Lua error raised midway
 * (out of memory, a failing idempotency-token callback, a wrong parameter type) then frees it
 * through __gc instead of leaking it, and aws_guard_release frees it at once on the normal path. */
typedef struct aws_guard {
    strbuf sb[4];
    cJSON *json;
    char *text;        /* printed JSON (cJSON_Print*), freed with cJSON_free */
    const char **keys; /* scratch for sorting map keys; the strings belong to Lua tables */
    size_t nkeys, capkeys;
} aws_guard;

/* Pushes a new guard on the stack. */
aws_guard *aws_guard_push(lua_State *L);
/* Frees what the guard holds; it stays usable (and empty). */
void aws_guard_release(aws_guard *g);
/* Appends a key to g->keys (0 on out-of-memory). */
int aws_guard_add_key(aws_guard *g, const char *key);
/* Sorts g->keys bytewise, for deterministic output of Lua tables. */
void aws_guard_sort_keys(aws_guard *g);

/* Appends the text of the scalar at idx as `ref` types it (XML and query spelling: booleans
 * true/false, timestamps ISO 8601 unless timestampFormat says otherwise, blobs base64, floats
 * with NaN/Infinity). Returns 0 when the value does not fit the type (the caller raises);
 * -1 when the shape is not a scalar. */
int aws_scalar_text(lua_State *L, const aws_model *m, const cJSON *ref, int idx, strbuf *out);

/* Pushes a sequence of the keys of the map table at idx, in the order a `__pairs` metamethod
 * gives when the table has one, else sorted bytewise (a stable wire order). Raises a
 * SerializationError naming `path` for a key that is not a string. */
void aws_push_map_keys(lua_State *L, int idx, const char *path);

/* A parameter value: nil and core.null (a light userdata) both mean unset. */
int aws_param_unset(lua_State *L, int idx);

/* The number for a timestamp parameter at idx: a number, or a string in any format
 * aws_time_parse reads. Returns 0 when it is neither. */
int aws_timestamp_param(lua_State *L, int idx, double *out);

/* The JSON text of a jsonvalue parameter at idx: a string is taken as JSON text already; a table
 * (or other Lua value) is encoded as JSON. Returns 0 if the value cannot be encoded. */
int aws_jsonvalue_text(lua_State *L, int idx, strbuf *out);

/* Response and error helpers every protocol uses (protocol_common.c). */
/* Pushes response.headers (a fresh empty table when it is not a table) and response.body; sets
 * *headers to the headers' stack index, *body and *blen to the body ("" unless a string) and
 * returns response.statusCode. The body's slot is *headers + 1. */
int aws_response_open(lua_State *L, int response, int *headers, const char **body, size_t *blen);
/* Pushes false and a SerializationError carrying statusCode, for a body the protocol cannot
 * read; `fmt` as in lua_pushfstring. */
void aws_push_body_error(lua_State *L, int status, const char *fmt, ...);
/* The operation's error shape whose name (or error.code) is `code`, else an exception shape of
 * that name; NULL when neither. */
const cJSON *aws_find_error_shape(const aws_model *m, const cJSON *op, const char *code);
/* Sets requestId / extendedRequestId of the error at `err` from the x-amz-request-id,
 * x-amzn-requestid and x-amz-id-2 headers: with `keep`, only where the error has none yet;
 * else a later header replaces an earlier one. */
void aws_error_set_ids(lua_State *L, int headers, int err, int keep);
/* The modeled shape of the error at `err` (by its code), or NULL. When there is one, an empty
 * scratch table is pushed for its members; the caller adds those it reads (head and body) and
 * hands it to aws_error_take_members. */
const cJSON *aws_error_shape_members(lua_State *L, const aws_model *m, const cJSON *op, int err);
/* Moves the modeled members read into the table on top of the stack onto the error at `err`,
 * except the keys the error table owns; pops that table. */
void aws_error_take_members(lua_State *L, int err);

/* Sets req.headers[name] = value unless a header of that name, in any case, is already set:
 * a Content-Type the caller chose wins over the protocol's default. */
void aws_set_default_header(lua_State *L, int req, const char *name, const char *value);

/* Calls opts.idempotencyToken() if given, else makes a UUID v4; pushes the string. */
void aws_push_idempotency_token(lua_State *L, int opts);
/* Pushes the request table skeleton {method=, path="/", query="", headers={}}. */
void aws_push_request_table(lua_State *L, const cJSON *op);
/* Expands the operation's endpoint.hostPrefix ("{Name}." labels from params) into req.hostPrefix. */
void aws_fill_host_prefix(lua_State *L, const aws_model *m, const cJSON *op, int params, int req);

#endif

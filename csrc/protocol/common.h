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

/* A map key: a string of a Lua table that outlives its use. */
typedef struct aws_map_key {
    const char *s;
    size_t len;
} aws_map_key;

/* C memory held during a build or a parse lives in this userdata: a Lua error raised midway
 * (out of memory, a failing idempotency-token callback, a wrong parameter type) then frees it
 * through __gc instead of leaking it, and aws_guard_release frees it at once on the normal path. */
typedef struct aws_guard {
    strbuf sb[4];
    strbuf scratch;    /* the scalar codec's: a jsonvalue's JSON text, decoded base64 */
    cJSON *json;
    char *text;        /* printed JSON (cJSON_Print*), freed with cJSON_free */
    aws_map_key *keys; /* map keys in wire order (aws_map_keys); the strings belong to Lua */
    size_t nkeys, capkeys;
} aws_guard;

/* Pushes a new guard on the stack. */
aws_guard *aws_guard_push(lua_State *L);
/* Frees what the guard holds; it stays usable (and empty). */
void aws_guard_release(aws_guard *g);

/* Appends the wire text of the parameter at idx read as t (the one rule of codec/scalar.h) at
 * `place`. Returns AWS_SCALAR_OK, or why the value does not fit (nothing appended then); raises
 * on out-of-memory. `scratch` holds a jsonvalue's JSON text meanwhile. */
aws_scalar_status aws_param_text(lua_State *L, int idx, const aws_scalar_type *t, aws_place place, strbuf *out,
                                 strbuf *scratch);
/* Raises a SerializationError "<path>: expected <what t takes>, got <what came>". */
int aws_raise_mismatch(lua_State *L, const char *path, int idx, const aws_scalar_type *t, aws_scalar_status why);
/* The scalar type of member `ref` (of kind `kind`) for the parameter at idx, in a body: a Lua
 * string for a string member is written as it is, jsonvalue or not, so no trait is looked up. */
aws_scalar_type aws_body_scalar_type(lua_State *L, const aws_model *m, const cJSON *ref, aws_kind kind, int idx);
/* aws_param_text for the member (or reference) node `ref`, raising a SerializationError naming
 * `path` when the value does not fit or the model gives the member no scalar type. */
void aws_member_text(lua_State *L, const aws_model *m, const cJSON *ref, int idx, aws_place place, aws_guard *g,
                     strbuf *out, const char *path);

/* Where a builder stands in params, for its messages ("params.Tags[2].Key"): a strbuf grown by
 * a key or an index on the way down and cut back to its earlier length on the way up (the cut
 * serves any strbuf built the same way, such as a query parameter name). */
void aws_path_push_key(strbuf *path, const char *key, size_t len);
void aws_path_push_index(strbuf *path, lua_Integer i);
void aws_path_cut(strbuf *path, size_t len);

/* Appends the keys of the map table at idx to g->keys in wire order: the order a __pairs
 * metamethod gives when the table has one, else sorted bytewise (equal tables, equal bytes).
 * Returns where they start; they end at g->nkeys. *held is the number of stack slots left to
 * keep __pairs keys alive (0 or 1): when done, the caller pops them and sets g->nkeys back to the
 * start, so that nested maps stack their keys. Raises a SerializationError naming `path` for a
 * key that is not a string. */
size_t aws_map_keys(lua_State *L, aws_guard *g, int idx, const char *path, int *held);

/* A parameter value: nil and core.null (a light userdata) both mean unset. */
int aws_param_unset(lua_State *L, int idx);

/* Response and error helpers every protocol uses. */
/* A response table opened for parsing: its status, the stack index of its headers (the body's
 * slot is headers + 1) and its body ("" unless a string). */
typedef struct aws_response {
    int status;
    int headers;
    const char *body;
    size_t blen;
} aws_response;
/* Pushes response.headers (a fresh empty table when it is not a table) and response.body and
 * fills *r. */
void aws_response_open(lua_State *L, int response, aws_response *r);
/* The error code of a failure whose body names none, after its HTTP status as JSON services
 * (json = 1) or XML services (json = 0) spell it; NULL when that family has no name for it. */
const char *aws_status_code_name(int status, int json);
/* The kind of member `ref` for the parameter at idx as a builder goes down into it (the resolved
 * shape in *shape). Raises a SerializationError naming `path` when the builder already stands
 * `depth` >= max_depth levels deep (a table that contains itself) or when a structure, list or
 * map meets a value that is not a table. */
aws_kind aws_enter_param(lua_State *L, const aws_model *m, const cJSON *ref, int idx, int depth, int max_depth,
                         const char *path, const cJSON **shape);
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

/* Pushes params[member] from the structure table at idx, or a fresh idempotency token for an
 * unset member whose node has the idempotencyToken trait; returns 0 (nothing pushed) when it stays unset. */
int aws_push_member_param(lua_State *L, const cJSON *member, int idx, int opts);
/* Calls opts.idempotencyToken() if given, else makes a UUID v4; pushes the string. */
void aws_push_idempotency_token(lua_State *L, int opts);
/* Pushes the request table skeleton {method=, path="/", query="", headers={}}. */
void aws_push_request_table(lua_State *L, const cJSON *op);
/* Expands the operation's endpoint.hostPrefix ("{Name}." labels from params) into req.hostPrefix. */
void aws_fill_host_prefix(lua_State *L, const aws_model *m, const cJSON *op, int params, int req);

#endif

/* Helpers every protocol shares (common.h): the guard that owns C memory across Lua calls,
 * parameters as scalar text (through the one scalar codec), map key order, the request
 * skeleton, and the response and error helpers of the response parsers. */
#include "protocol/common.h"

#include "core/owned.h"

#include "codec/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GUARD_MT "awspromise.ProtocolGuard"

static int guard_gc(lua_State *L)
{
    aws_guard_release(lua_touserdata(L, 1));
    return 0;
}

aws_guard *aws_guard_push(lua_State *L)
{
    return aws_push_owned(L, sizeof(aws_guard), GUARD_MT, guard_gc);
}

void aws_guard_release(aws_guard *g)
{
    for (size_t i = 0; i < sizeof g->sb / sizeof g->sb[0]; i++)
        sb_free(&g->sb[i]);
    sb_free(&g->scratch);
    cJSON_Delete(g->json);
    g->json = NULL;
    if (g->text)
        cJSON_free(g->text);
    g->text = NULL;
    free(g->keys);
    g->keys = NULL;
    g->nkeys = g->capkeys = 0;
}

void aws_set_default_header(lua_State *L, int req, const char *name, const char *value)
{
    lua_getfield(L, req, "headers");
    int headers = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, headers)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && strcasecmp(lua_tostring(L, -1), name) == 0) {
            lua_pop(L, 2);
            return;
        }
    }
    lua_pushstring(L, value);
    lua_setfield(L, headers, name);
    lua_pop(L, 1);
}

/* ---------------------------------------------------------------- responses and errors */

void aws_response_open(lua_State *L, int response, aws_response *r)
{
    lua_getfield(L, response, "statusCode");
    r->status = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, response, "headers");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    r->headers = lua_gettop(L);
    lua_getfield(L, response, "body");
    r->blen = 0;
    r->body = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &r->blen) : "";
}

const char *aws_status_code_name(int status, int json)
{
    static const struct {
        int status;
        const char *json, *xml;
    } names[] = {
        {304, "NotModified", "NotModified"},
        {400, "BadRequest", "BadRequest"},
        {403, "Forbidden", "Forbidden"},
        {404, "NotFound", "NotFound"},
        {409, NULL, "Conflict"},
        {412, NULL, "PreconditionFailed"},
        {413, "RequestEntityTooLarge", "RequestEntityTooLarge"},
        {416, NULL, "InvalidRange"},
        {429, "TooManyRequestsException", "TooManyRequests"},
        {500, "InternalFailure", "InternalError"},
        {502, "BadGateway", "BadGateway"},
        {503, "ServiceUnavailable", "ServiceUnavailable"},
        {504, "GatewayTimeout", "GatewayTimeout"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].status == status)
            return json ? names[i].json : names[i].xml;
    return NULL;
}

aws_kind aws_enter_param(lua_State *L, const aws_model *m, const cJSON *ref, int idx, int depth, int max_depth,
                         const char *path, const cJSON **shape)
{
    if (depth >= max_depth)
        aws_raise_serialization(L, "%s: nested deeper than %d levels", path, max_depth);
    luaL_checkstack(L, 8, "build_request");
    aws_kind kind = aws_xml_kind(m, ref, shape);
    if ((kind == AWS_T_STRUCTURE || kind == AWS_T_LIST || kind == AWS_T_MAP) && lua_type(L, idx) != LUA_TTABLE)
        aws_raise_serialization(L, "%s: expected %s, got %s", path, aws_kind_noun(kind), luaL_typename(L, idx));
    return kind;
}

void aws_push_body_error(lua_State *L, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *message = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_pushboolean(L, 0);
    aws_push_error(L, "SerializationError", message);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "statusCode");
    lua_remove(L, -3);
}

const cJSON *aws_find_error_shape(const aws_model *m, const cJSON *op, const char *code)
{
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(op, "errors");
    for (const cJSON *e = errors ? errors->child : NULL; e; e = e->next) {
        const char *ref = aws_node_string(e, "shape");
        const cJSON *shape = aws_model_resolve(m, e);
        const char *ecode = aws_node_string(cJSON_GetObjectItemCaseSensitive(shape, "error"), "code");
        if ((ref && strcmp(ref, code) == 0) || (ecode && strcmp(ecode, code) == 0))
            return shape;
    }
    const cJSON *shape = aws_model_shape(m, code);
    if (shape && (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "exception")) ||
                  cJSON_GetObjectItemCaseSensitive(shape, "error")))
        return aws_model_resolve(m, shape);
    return NULL;
}

static void header_field(lua_State *L, int headers, const char *header, int err, const char *field, int keep)
{
    if (keep && lua_getfield(L, err, field) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (keep)
        lua_pop(L, 1);
    if (lua_getfield(L, headers, header) == LUA_TSTRING)
        lua_setfield(L, err, field);
    else
        lua_pop(L, 1);
}

void aws_error_set_ids(lua_State *L, int headers, int err, int keep)
{
    header_field(L, headers, "x-amz-request-id", err, "requestId", keep);
    header_field(L, headers, "x-amzn-requestid", err, "requestId", keep);
    header_field(L, headers, "x-amz-id-2", err, "extendedRequestId", keep);
}

const cJSON *aws_error_shape_members(lua_State *L, const aws_model *m, const cJSON *op, int err)
{
    lua_getfield(L, err, "code");
    const cJSON *shape = aws_find_error_shape(m, op, lua_tostring(L, -1));
    lua_pop(L, 1);
    if (!shape)
        return NULL;
    /* modeled members go to a scratch table first, so that code, statusCode... stay ours */
    lua_newtable(L);
    return shape;
}

/* Keys the error table owns; a modeled member of the same name must not replace them. */
static int reserved_error_field(const char *name)
{
    static const char *const reserved[] = {"code", "statusCode", "requestId", "extendedRequestId", "retryable",
                                           "time", "region", "hostname", "retryDelay", NULL};
    for (int i = 0; reserved[i]; i++)
        if (strcmp(reserved[i], name) == 0)
            return 1;
    return 0;
}

void aws_error_take_members(lua_State *L, int err)
{
    int fields = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, fields)) {
        if (lua_type(L, -2) == LUA_TSTRING && !reserved_error_field(lua_tostring(L, -2))) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, err);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

void aws_path_push_key(strbuf *path, const char *key, size_t len)
{
    sb_putc(path, '.');
    sb_append(path, key, len);
}

void aws_path_push_index(strbuf *path, lua_Integer i)
{
    char num[32];
    snprintf(num, sizeof num, "[" LUA_INTEGER_FMT "]", i);
    sb_puts(path, num);
}

void aws_path_cut(strbuf *path, size_t len)
{
    if (path->data && len <= path->len) {
        path->len = len;
        path->data[len] = '\0';
    }
}

static void add_key(lua_State *L, aws_guard *g, int key, const char *path)
{
    if (lua_type(L, key) != LUA_TSTRING)
        aws_raise_serialization(L, "%s: map keys must be strings, got %s", path, luaL_typename(L, key));
    if (g->nkeys == g->capkeys) {
        size_t cap = g->capkeys ? g->capkeys * 2 : 16;
        aws_map_key *grown = realloc(g->keys, cap * sizeof *grown);
        if (!grown)
            aws_raise_oom(L, "build_request");
        g->keys = grown;
        g->capkeys = cap;
    }
    aws_map_key *k = &g->keys[g->nkeys++];
    k->s = lua_tolstring(L, key, &k->len);
}

static int compare_keys(const void *a, const void *b)
{
    const aws_map_key *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

size_t aws_map_keys(lua_State *L, aws_guard *g, int idx, const char *path, int *held)
{
    idx = lua_absindex(L, idx);
    size_t start = g->nkeys;
    *held = 0;
    if (luaL_getmetafield(L, idx, "__pairs") == LUA_TNIL) {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            add_key(L, g, lua_gettop(L), path);
        }
        if (g->nkeys - start > 1)
            qsort(g->keys + start, g->nkeys - start, sizeof *g->keys, compare_keys);
        return start;
    }
    /* the caller chose an order (an ordered-map library, a decoder that keeps key order); the
     * keys it yields are kept alive in a table on the stack */
    lua_newtable(L);
    lua_insert(L, -2);
    int keep = lua_gettop(L) - 1;
    lua_pushvalue(L, idx);
    lua_call(L, 1, 3);
    for (lua_Integer n = 1;; n++) {
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -3);
        lua_call(L, 2, 2);
        if (lua_isnil(L, -2)) {
            lua_pop(L, 2);
            break;
        }
        lua_pop(L, 1);
        add_key(L, g, lua_gettop(L), path);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keep, n);
        lua_replace(L, -2); /* the key is the iterator's next control value */
    }
    lua_settop(L, keep);
    *held = 1;
    return start;
}

int aws_param_unset(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    /* core.null (JSON null, a light userdata) means "not set" */
    return t == LUA_TNIL || t == LUA_TLIGHTUSERDATA;
}

aws_scalar_status aws_param_text(lua_State *L, int idx, const aws_scalar_type *t, aws_place place, strbuf *out,
                                 strbuf *scratch)
{
    aws_scalar v;
    aws_scalar_status st = aws_scalar_from_lua(L, idx, t, &v, scratch);
    if (st == AWS_SCALAR_OK && !aws_scalar_write(out, &v, t, place))
        aws_raise_oom(L, "build_request");
    return st;
}

int aws_raise_mismatch(lua_State *L, const char *path, int idx, const aws_scalar_type *t, aws_scalar_status why)
{
    return aws_raise_serialization(L, "%s: expected %s", path, aws_scalar_push_mismatch(L, idx, t, why));
}

aws_scalar_type aws_body_scalar_type(lua_State *L, const aws_model *m, const cJSON *ref, aws_kind kind, int idx)
{
    if (kind == AWS_T_STRING && lua_type(L, idx) == LUA_TSTRING) {
        aws_scalar_type plain = {AWS_T_STRING, AWS_TIME_DEFAULT, 0};
        return plain;
    }
    return aws_member_scalar_type(m, ref);
}

void aws_member_text(lua_State *L, const aws_model *m, const cJSON *ref, int idx, aws_place place, aws_guard *g,
                     strbuf *out, const char *path)
{
    aws_scalar_type t = aws_body_scalar_type(L, m, ref, aws_xml_kind(m, ref, NULL), idx);
    aws_scalar_status st = aws_param_text(L, idx, &t, place, out, &g->scratch);
    if (st == AWS_SCALAR_NOT_SCALAR)
        aws_raise_serialization(L, "%s: the model's shape for this member is missing or unknown", path);
    if (st != AWS_SCALAR_OK)
        aws_raise_mismatch(L, path, idx, &t, st);
}

int aws_push_member_param(lua_State *L, const cJSON *member, int idx, int opts)
{
    lua_getfield(L, idx, member->string);
    if (!aws_param_unset(L, -1))
        return 1;
    lua_pop(L, 1);
    /* a member trait, on the member node itself: asking the shape too would cost a reference
     * lookup for every unset member of every structure */
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(member, "idempotencyToken")))
        return 0;
    aws_push_idempotency_token(L, opts);
    return 1;
}

void aws_push_idempotency_token(lua_State *L, int opts)
{
    if (opts && lua_istable(L, opts) && lua_getfield(L, opts, "idempotencyToken") != LUA_TNIL) {
        lua_call(L, 0, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "opts.idempotencyToken must return a string");
        return;
    }
    if (opts && lua_istable(L, opts))
        lua_pop(L, 1);
    char uuid[37];
    if (!aws_uuid4(uuid))
        luaL_error(L, "cannot make an idempotency token: no randomness available");
    lua_pushstring(L, uuid);
}

void aws_push_request_table(lua_State *L, const cJSON *op)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(op, "http");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(http, "method");
    lua_createtable(L, 0, 6);
    lua_pushstring(L, cJSON_IsString(method) ? method->valuestring : "POST");
    lua_setfield(L, -2, "method");
    lua_pushliteral(L, "/");
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "query");
    lua_newtable(L);
    lua_setfield(L, -2, "headers");
}

static int is_host_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

void aws_fill_host_prefix(lua_State *L, const aws_model *m, const cJSON *op, int params, int req)
{
    (void)m;
    const cJSON *endpoint = cJSON_GetObjectItemCaseSensitive(op, "endpoint");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(endpoint, "hostPrefix");
    if (!cJSON_IsString(prefix))
        return;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *p = prefix->valuestring; *p;) {
        if (*p != '{') {
            luaL_addchar(&b, *p++);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close)
            break;
        lua_pushlstring(L, p + 1, (size_t)(close - p - 1));
        lua_gettable(L, params);
        size_t len;
        const char *value = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        int valid = value && len > 0 && len <= 63;
        for (size_t i = 0; valid && i < len; i++)
            valid = is_host_label_char(value[i]);
        if (!valid) {
            lua_pop(L, 1);
            aws_push_error(L, "ValidationError", "");
            lua_pushfstring(L, "host label params.%s must be a non-empty string of letters, digits and hyphens (at most 63)",
                            lua_pushlstring(L, p + 1, (size_t)(close - p - 1)));
            lua_setfield(L, -3, "message");
            lua_pop(L, 1);
            lua_error(L);
        }
        /* the buffer may sit on the stack: move the value above it before adding */
        luaL_addvalue(&b);
        p = close + 1;
    }
    luaL_pushresult(&b);
    lua_setfield(L, req, "hostPrefix");
}

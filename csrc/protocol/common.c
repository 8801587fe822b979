/* Helpers shared by the HTTP binding (rest.c) and the JSON codec (json_build.c, json_parse.c,
 * protocol_json.c): the guard that owns C memory across Lua calls, number and timestamp
 * spellings, shape kinds, percent-encoding (declared in protocol_json.h); and by every
 * protocol's response parser: reading the response table, error shapes (protocol.h). */
#include "protocol/common.h"

#include "codec/ljson.h"
#include "codec/uuid.h"
#include "codec/base64.h"
#include "codec/number.h"
#include "codec/percent.h"
#include "codec/time.h"

#include <math.h>
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
    aws_guard *g = lua_newuserdatauv(L, sizeof *g, 0);
    memset(g, 0, sizeof *g);
    if (luaL_newmetatable(L, GUARD_MT)) {
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return g;
}

void aws_guard_release(aws_guard *g)
{
    for (size_t i = 0; i < sizeof g->sb / sizeof g->sb[0]; i++)
        sb_free(&g->sb[i]);
    cJSON_Delete(g->json);
    g->json = NULL;
    if (g->text)
        cJSON_free(g->text);
    g->text = NULL;
    free(g->keys);
    g->keys = NULL;
    g->nkeys = g->capkeys = 0;
}

int aws_guard_add_key(aws_guard *g, const char *key)
{
    if (g->nkeys == g->capkeys) {
        size_t cap = g->capkeys ? g->capkeys * 2 : 16;
        const char **grown = realloc(g->keys, cap * sizeof *grown);
        if (!grown)
            return 0;
        g->keys = grown;
        g->capkeys = cap;
    }
    g->keys[g->nkeys++] = key;
    return 1;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void aws_guard_sort_keys(aws_guard *g)
{
    if (g->nkeys > 1)
        qsort(g->keys, g->nkeys, sizeof *g->keys, compare_keys);
}

int aws_timestamp_param(lua_State *L, int idx, double *out)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        *out = lua_tonumber(L, idx);
        return isfinite(*out);
    }
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return aws_time_parse(s, len, out);
    }
    return 0;
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

int aws_response_open(lua_State *L, int response, int *headers, const char **body, size_t *blen)
{
    lua_getfield(L, response, "statusCode");
    int status = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, response, "headers");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    *headers = lua_gettop(L);
    lua_getfield(L, response, "body");
    *blen = 0;
    *body = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, blen) : "";
    return status;
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

void aws_push_map_keys(lua_State *L, int idx, const char *path)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    int keys = lua_gettop(L);
    lua_Integer n = 0;
    if (luaL_getmetafield(L, idx, "__pairs") != LUA_TNIL) {
        /* the caller chose an order (an ordered-map library, a decoder that keeps key order) */
        lua_pushvalue(L, idx);
        lua_call(L, 1, 3);
        for (;;) {
            lua_pushvalue(L, -3);
            lua_pushvalue(L, -3);
            lua_pushvalue(L, -3);
            lua_call(L, 2, 2);
            if (lua_isnil(L, -2)) {
                lua_pop(L, 2);
                break;
            }
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                aws_raise_serialization(L, "%s: map keys must be strings, got %s", path, luaL_typename(L, -1));
            lua_pushvalue(L, -1);
            lua_rawseti(L, keys, ++n);
            lua_replace(L, -2); /* the key is the iterator's next control value */
        }
        lua_pop(L, 3);
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            aws_raise_serialization(L, "%s: map keys must be strings, got %s", path, luaL_typename(L, -1));
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++n);
    }
    /* Shell sort over the Lua sequence: no C array to free if a comparison ever raised */
    static const lua_Integer gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
        lua_Integer gap = gaps[gi];
        for (lua_Integer i = gap + 1; i <= n; i++) {
            lua_rawgeti(L, keys, i);
            lua_Integer j = i;
            while (j > gap) {
                lua_rawgeti(L, keys, j - gap);
                /* stack: moving key, candidate */
                size_t la, lb;
                const char *sa = lua_tolstring(L, -1, &la);
                const char *sb = lua_tolstring(L, -2, &lb);
                int c = memcmp(sa, sb, la < lb ? la : lb);
                if (!(c > 0 || (c == 0 && la > lb))) {
                    lua_pop(L, 1);
                    break;
                }
                lua_rawseti(L, keys, j);
                j -= gap;
            }
            lua_rawseti(L, keys, j);
        }
    }
}

int aws_param_unset(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    /* core.null (JSON null, a light userdata) means "not set" */
    return t == LUA_TNIL || t == LUA_TLIGHTUSERDATA;
}

/* Integers keep every digit; floats take the shortest spelling that reads back the same. */
static void number_text(lua_State *L, int idx, strbuf *out)
{
    char num[48];
    if (lua_isinteger(L, idx))
        snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
    else
        aws_format_double(num, lua_tonumber(L, idx));
    sb_puts(out, num);
}

int aws_scalar_text(lua_State *L, const aws_model *m, const cJSON *ref, int idx, strbuf *out)
{
    int ltype = lua_type(L, idx);
    char num[48];
    switch (aws_xml_kind(m, ref, NULL)) {
    case AWS_T_STRING: {
        if (ltype == LUA_TNUMBER) {
            number_text(L, idx, out);
            return 1;
        }
        if (ltype != LUA_TSTRING)
            return 0;
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        sb_append(out, s, len);
        return 1;
    }
    case AWS_T_INTEGER:
        if (ltype != LUA_TNUMBER)
            return 0;
        if (lua_isinteger(L, idx)) {
            snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (d != floor(d) || fabs(d) > 9.2e18)
                return 0;
            snprintf(num, sizeof num, "%.0f", d);
        }
        sb_puts(out, num);
        return 1;
    case AWS_T_FLOAT:
        if (ltype == LUA_TSTRING) {
            double d;
            if (!aws_special_double(lua_tostring(L, idx), &d))
                return 0;
            sb_puts(out, lua_tostring(L, idx));
            return 1;
        }
        if (ltype != LUA_TNUMBER)
            return 0;
        number_text(L, idx, out);
        return 1;
    case AWS_T_BOOLEAN:
        if (ltype != LUA_TBOOLEAN)
            return 0;
        sb_puts(out, lua_toboolean(L, idx) ? "true" : "false");
        return 1;
    case AWS_T_TIMESTAMP: {
        double t;
        if (!aws_timestamp_param(L, idx, &t))
            return 0;
        const char *fmt = aws_model_trait_string(m, ref, "timestampFormat");
        aws_format_timestamp(out, fmt ? fmt : "iso8601", t);
        return 1;
    }
    case AWS_T_BLOB: {
        if (ltype != LUA_TSTRING)
            return 0;
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        aws_base64_encode(out, s, len);
        return 1;
    }
    default:
        return -1;
    }
}

int aws_jsonvalue_text(lua_State *L, int idx, strbuf *out)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return sb_append(out, s, len);
    }
    int ok = aws_json_encode_value(L, idx);
    if (ok) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        ok = sb_append(out, s, len);
    }
    lua_pop(L, 1);
    return ok;
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

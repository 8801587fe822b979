/* Helpers shared by the HTTP binding (rest.c) and the JSON codec (json_build.c, json_parse.c,
 * protocol_json.c): the guard that owns C memory across Lua calls, number and timestamp
 * spellings, shape kinds, percent-encoding (declared in protocol_json.h); and by every
 * protocol's response parser: reading the response table, error shapes (protocol.h). */
#include "protocol_json.h"

#include "codec.h"

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

int aws_raise_serialization(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    aws_push_error(L, "SerializationError", lua_tostring(L, -1));
    return lua_error(L);
}

int aws_raise_oom(lua_State *L, const char *what)
{
    aws_push_error(L, "SerializationError", "");
    lua_pushfstring(L, "%s: out of memory", what);
    lua_setfield(L, -2, "message");
    return lua_error(L);
}

int aws_format_double(char buf[40], double d)
{
    if (isnan(d))
        return snprintf(buf, 40, "NaN");
    if (isinf(d))
        return snprintf(buf, 40, d > 0 ? "Infinity" : "-Infinity");
    /* %.17g always round-trips but spells 1.1 as 1.1000000000000001: take the shortest that does. */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, 40, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return n;
}

int aws_special_double(const char *s, double *out)
{
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = HUGE_VAL;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -HUGE_VAL;
    else
        return 0;
    return 1;
}

int aws_format_timestamp(strbuf *sb, const char *fmt, double t)
{
    if (fmt && strcmp(fmt, "unixTimestamp") == 0)
        return aws_time_epoch(sb, t);
    if (fmt && strcmp(fmt, "rfc822") == 0)
        return aws_time_http(sb, t);
    return aws_time_iso8601(sb, t);
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

aws_kind aws_kind_of(const char *type)
{
    if (!type)
        return AWS_T_UNKNOWN;
    /* the first letter settles most types without a string compare chain */
    switch (type[0]) {
    case 's':
        return strcmp(type, "structure") == 0 ? AWS_T_STRUCTURE
               : strcmp(type, "string") == 0  ? AWS_T_STRING
               : strcmp(type, "short") == 0   ? AWS_T_INTEGER
                                              : AWS_T_UNKNOWN;
    case 'l':
        return strcmp(type, "list") == 0 ? AWS_T_LIST : strcmp(type, "long") == 0 ? AWS_T_INTEGER : AWS_T_UNKNOWN;
    case 'm':
        return strcmp(type, "map") == 0 ? AWS_T_MAP : AWS_T_UNKNOWN;
    case 'i':
        return strcmp(type, "integer") == 0 ? AWS_T_INTEGER : AWS_T_UNKNOWN;
    case 'f':
        return strcmp(type, "float") == 0 ? AWS_T_FLOAT : AWS_T_UNKNOWN;
    case 'd':
        return strcmp(type, "double") == 0 ? AWS_T_FLOAT : AWS_T_UNKNOWN;
    case 'b':
        return strcmp(type, "boolean") == 0 ? AWS_T_BOOLEAN
               : strcmp(type, "blob") == 0  ? AWS_T_BLOB
               : strcmp(type, "byte") == 0  ? AWS_T_INTEGER
                                            : AWS_T_UNKNOWN;
    case 't':
        return strcmp(type, "timestamp") == 0 ? AWS_T_TIMESTAMP : AWS_T_UNKNOWN;
    default:
        return AWS_T_UNKNOWN;
    }
}

const char *aws_member_wire_name(const aws_model *m, const cJSON *member)
{
    (void)m;
    /* Only the member's own node: a locationName on a shared shape names list items in XML. */
    const char *name = aws_node_string(member, "locationName");
    return name ? name : member->string;
}


static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

void aws_percent_encode(strbuf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!sb_reserve(out, len * 3))
        return;
    char *p = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
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

const cJSON *aws_error_shape_members(lua_State *L, const aws_model *m, const cJSON *op, int response, int err,
                                     int rest)
{
    lua_getfield(L, err, "code");
    const cJSON *shape = aws_find_error_shape(m, op, lua_tostring(L, -1));
    lua_pop(L, 1);
    if (!shape)
        return NULL;
    /* modeled members go to a scratch table first, so that code, statusCode... stay ours */
    lua_newtable(L);
    if (rest)
        aws_rest_parse_head(L, m, shape, response, lua_gettop(L));
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

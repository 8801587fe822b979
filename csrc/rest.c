/* The HTTP binding shared by rest-json and rest-xml: members bound to the URI path, the query
 * string, headers (single, lists, prefix maps) and the status code. Bodies are the protocols'
 * business (protocol_json.c, protocol_xml.c); this file knows no body format.
 *
 * C buffers live in an aws_guard userdata so that any Lua error on the way (a wrong parameter
 * type, the idempotency-token callback, out of memory) cannot leak them. */
#include "protocol_json.h"

#include "codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- building */

enum rest_location { LOC_URI, LOC_QUERY, LOC_HEADER };

/* Appends the text of the scalar at idx as `loc` spells it, or raises naming `path`. */
static void scalar_text(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *member, int idx, enum rest_location loc,
                        strbuf *out, const char *path)
{
    const cJSON *shape = aws_model_resolve(m, member);
    const char *type = aws_shape_type(shape);
    int ltype = lua_type(L, idx);
    char num[40];
    if (!type)
        aws_raise_serialization(L, "%s: the model's shape for this member is missing", path);
    if (strcmp(type, "string") == 0) {
        if (ltype == LUA_TTABLE && loc == LOC_HEADER && aws_model_trait_bool(m, member, "jsonvalue")) {
            strbuf *json = &g->sb[3];
            sb_reset(json);
            if (!aws_jsonvalue_text(L, idx, json))
                aws_raise_serialization(L, "%s: cannot encode the value as JSON", path);
            aws_base64_encode(out, json->data ? json->data : "", json->len);
            return;
        }
        if (ltype != LUA_TSTRING && ltype != LUA_TNUMBER)
            aws_raise_serialization(L, "%s: expected a string, got %s", path, luaL_typename(L, idx));
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (loc == LOC_HEADER && aws_model_trait_bool(m, member, "jsonvalue"))
            aws_base64_encode(out, s, len);
        else
            sb_append(out, s, len);
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 || strcmp(type, "short") == 0 ||
               strcmp(type, "byte") == 0) {
        if (!lua_isinteger(L, idx)) {
            int ok = 0;
            lua_Integer v = lua_tointegerx(L, idx, &ok);
            if (!ok || ltype == LUA_TSTRING)
                aws_raise_serialization(L, "%s: expected an integer, got %s", path, luaL_typename(L, idx));
            lua_pushinteger(L, v);
            lua_replace(L, idx);
        }
        snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        sb_puts(out, num);
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        double d;
        if (ltype == LUA_TSTRING && aws_special_double(lua_tostring(L, idx), &d)) {
            sb_puts(out, lua_tostring(L, idx));
            return;
        }
        if (ltype != LUA_TNUMBER)
            aws_raise_serialization(L, "%s: expected a number, got %s", path, luaL_typename(L, idx));
        if (lua_isinteger(L, idx))
            snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        else
            aws_format_double(num, lua_tonumber(L, idx));
        sb_puts(out, num);
    } else if (strcmp(type, "boolean") == 0) {
        if (ltype != LUA_TBOOLEAN)
            aws_raise_serialization(L, "%s: expected a boolean, got %s", path, luaL_typename(L, idx));
        sb_puts(out, lua_toboolean(L, idx) ? "true" : "false");
    } else if (strcmp(type, "timestamp") == 0) {
        double t;
        if (!aws_timestamp_param(L, idx, &t))
            aws_raise_serialization(L, "%s: expected a timestamp (epoch seconds), got %s", path, luaL_typename(L, idx));
        const char *fmt = aws_model_trait_string(m, member, "timestampFormat");
        if (!fmt)
            fmt = loc == LOC_HEADER ? "rfc822" : "iso8601";
        aws_format_timestamp(out, fmt, t);
    } else if (strcmp(type, "blob") == 0) {
        if (ltype != LUA_TSTRING)
            aws_raise_serialization(L, "%s: expected a string (blob), got %s", path, luaL_typename(L, idx));
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        aws_base64_encode(out, s, len);
    } else {
        aws_raise_serialization(L, "%s: a %s cannot be sent in the %s", path, type,
                                loc == LOC_URI ? "URI" : loc == LOC_QUERY ? "query string" : "headers");
    }
}

/* Pushes params[name], or a fresh idempotency token for an unset member that asks for one. */
static int push_member_value(lua_State *L, const aws_model *m, const cJSON *member, int params, int opts)
{
    int t = lua_getfield(L, params, member->string);
    if (t == LUA_TLIGHTUSERDATA) {
        /* core.null (JSON null) means "not set" */
        lua_pop(L, 1);
        lua_pushnil(L);
        t = LUA_TNIL;
    }
    if (t == LUA_TNIL && aws_model_trait_bool(m, member, "idempotencyToken")) {
        lua_pop(L, 1);
        aws_push_idempotency_token(L, opts);
        t = LUA_TSTRING;
    }
    return t;
}

static const cJSON *find_uri_member(const aws_model *m, const cJSON *input, const char *label, size_t len)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        const char *loc = aws_model_trait_string(m, mem, "location");
        const char *name = aws_member_wire_name(m, mem);
        if (loc && strcmp(loc, "uri") == 0 && strlen(name) == len && memcmp(name, label, len) == 0)
            return mem;
    }
    /* Some models name the label after the member without a locationName. */
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next)
        if (strlen(mem->string) == len && memcmp(mem->string, label, len) == 0)
            return mem;
    return NULL;
}

/* requestUri "/{Bucket}/{Key+}?versioning": fills g->sb[0] with the path, g->sb[1] with the
 * constant query part. */
static void build_path(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *op, const cJSON *input, int params,
                       int opts)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(op, "http");
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(http, "requestUri");
    const char *p = cJSON_IsString(uri) ? uri->valuestring : "/";
    strbuf *path = &g->sb[0], *query = &g->sb[1], *tmp = &g->sb[2];
    while (*p && *p != '?') {
        if (*p != '{') {
            sb_putc(path, *p++);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            sb_puts(path, p);
            break;
        }
        const char *label = p + 1;
        size_t len = (size_t)(close - label);
        int greedy = len > 0 && label[len - 1] == '+';
        if (greedy)
            len--;
        const cJSON *member = input ? find_uri_member(m, input, label, len) : NULL;
        if (!member)
            aws_raise_serialization(L, "the URI label {%s} has no member in the input shape", lua_pushlstring(L, label, len));
        lua_pushfstring(L, "params.%s", member->string);
        const char *where = lua_tostring(L, -1);
        if (push_member_value(L, m, member, params, opts) == LUA_TNIL)
            aws_raise_serialization(L, "%s: missing the URI label {%s}", where, lua_pushlstring(L, label, len));
        sb_reset(tmp);
        scalar_text(L, g, m, member, lua_gettop(L), LOC_URI, tmp, where);
        if (tmp->len == 0)
            aws_raise_serialization(L, "%s: the URI label {%s} must not be empty", where, lua_pushlstring(L, label, len));
        aws_percent_encode(path, tmp->data, tmp->len, greedy);
        lua_pop(L, 2);
        p = close + 1;
    }
    if (*p == '?')
        sb_puts(query, p + 1);
}

static void query_pair(strbuf *query, const char *key, size_t klen, const char *value, size_t vlen)
{
    if (query->len)
        sb_putc(query, '&');
    aws_percent_encode(query, key, klen, 0);
    if (value) {
        sb_putc(query, '=');
        aws_percent_encode(query, value, vlen, 0);
    }
}

/* A querystring member that is a map: each key a parameter (string values, or string lists
 * repeated), keys already set by a named member left alone (the named member wins). */
static void query_map(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *shape, int value, int seen,
                      const char *where)
{
    const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
    const cJSON *vshape = aws_model_resolve(m, vref);
    const char *vtype = aws_shape_type(vshape);
    int is_list = vtype && strcmp(vtype, "list") == 0;
    const cJSON *item = is_list ? cJSON_GetObjectItemCaseSensitive(vshape, "member") : vref;
    g->nkeys = 0;
    lua_pushnil(L);
    while (lua_next(L, value)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            aws_raise_serialization(L, "%s: map keys must be strings", where);
        if (!aws_guard_add_key(g, lua_tostring(L, -1)))
            aws_raise_oom(L, "build_request");
    }
    aws_guard_sort_keys(g);
    strbuf *tmp = &g->sb[2];
    for (size_t k = 0; k < g->nkeys; k++) {
        const char *key = g->keys[k];
        if (lua_getfield(L, seen, key) != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushfstring(L, "%s.%s", where, key);
        const char *path = lua_tostring(L, -1);
        int t = lua_getfield(L, value, key);
        if (is_list) {
            if (t != LUA_TTABLE)
                aws_raise_serialization(L, "%s: expected a list, got %s", path, luaL_typename(L, -1));
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                lua_pushfstring(L, "%s[%d]", path, (int)i);
                sb_reset(tmp);
                scalar_text(L, g, m, item, lua_gettop(L) - 1, LOC_QUERY, tmp, lua_tostring(L, -1));
                query_pair(&g->sb[1], key, strlen(key), tmp->data ? tmp->data : "", tmp->len);
                lua_pop(L, 2);
            }
        } else if (t != LUA_TNIL) {
            sb_reset(tmp);
            scalar_text(L, g, m, item, lua_gettop(L), LOC_QUERY, tmp, path);
            query_pair(&g->sb[1], key, strlen(key), tmp->data ? tmp->data : "", tmp->len);
        }
        lua_pop(L, 2);
    }
    g->nkeys = 0;
}

/* One querystring member (value on top of the stack). */
static void query_member(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *member, const char *where)
{
    int value = lua_gettop(L);
    const cJSON *shape = aws_model_resolve(m, member);
    const char *type = aws_shape_type(shape);
    const char *name = aws_member_wire_name(m, member);
    strbuf *tmp = &g->sb[2];
    if (type && strcmp(type, "list") == 0) {
        if (lua_type(L, value) != LUA_TTABLE)
            aws_raise_serialization(L, "%s: expected a list, got %s", where, luaL_typename(L, value));
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
        lua_Integer n = (lua_Integer)lua_rawlen(L, value);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, value, i);
            lua_pushfstring(L, "%s[%d]", where, (int)i);
            sb_reset(tmp);
            scalar_text(L, g, m, item, value + 1, LOC_QUERY, tmp, lua_tostring(L, -1));
            query_pair(&g->sb[1], name, strlen(name), tmp->data ? tmp->data : "", tmp->len);
            lua_pop(L, 2);
        }
        return;
    }
    sb_reset(tmp);
    scalar_text(L, g, m, member, value, LOC_QUERY, tmp, where);
    query_pair(&g->sb[1], name, strlen(name), tmp->data ? tmp->data : "", tmp->len);
}

/* A header list: comma-separated, strings holding a comma or a quote sent quoted. */
static void header_list(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *shape, int value, strbuf *out,
                        const char *where)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
    const char *itype = aws_shape_type(aws_model_resolve(m, item));
    int quote_strings = itype && strcmp(itype, "string") == 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, value);
    strbuf *tmp = &g->sb[2];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, value, i);
        lua_pushfstring(L, "%s[%d]", where, (int)i);
        sb_reset(tmp);
        scalar_text(L, g, m, item, lua_gettop(L) - 1, LOC_HEADER, tmp, lua_tostring(L, -1));
        lua_pop(L, 2);
        if (i > 1)
            sb_puts(out, ", ");
        const char *s = tmp->data ? tmp->data : "";
        if (quote_strings && (strchr(s, ',') || strchr(s, '"'))) {
            sb_putc(out, '"');
            for (size_t k = 0; k < tmp->len; k++) {
                if (s[k] == '"' || s[k] == '\\')
                    sb_putc(out, '\\');
                sb_putc(out, s[k]);
            }
            sb_putc(out, '"');
        } else {
            sb_append(out, s, tmp->len);
        }
    }
}

static void set_header(lua_State *L, int headers, const char *name, const strbuf *value)
{
    lua_pushlstring(L, value->data ? value->data : "", value->len);
    lua_setfield(L, headers, name);
}

/* Every header and querystring member, in model order; querystring maps after the named
 * parameters so that a named one wins over a map key of the same name. */
static void build_headers_and_query(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *input, int params,
                                    int opts, int headers)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
    lua_newtable(L); /* query names already set */
    int seen = lua_gettop(L);
    for (int pass = 0; pass < 2; pass++) {
        for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
            const char *loc = aws_model_trait_string(m, mem, "location");
            if (!loc || !mem->string)
                continue;
            int is_query = strcmp(loc, "querystring") == 0;
            int is_header = strcmp(loc, "header") == 0;
            int is_prefix = strcmp(loc, "headers") == 0;
            if (!is_query && !is_header && !is_prefix)
                continue;
            const cJSON *shape = aws_model_resolve(m, mem);
            const char *type = aws_shape_type(shape);
            int is_map = type && strcmp(type, "map") == 0;
            /* pass 0: named query parameters and headers; pass 1: query maps */
            if ((pass == 1) != (is_query && is_map))
                continue;
            lua_pushfstring(L, "params.%s", mem->string);
            const char *where = lua_tostring(L, -1);
            int t = push_member_value(L, m, mem, params, opts);
            if (t == LUA_TNIL) {
                lua_pop(L, 2);
                continue;
            }
            int value = lua_gettop(L);
            const char *name = aws_member_wire_name(m, mem);
            if (is_query && is_map) {
                if (t != LUA_TTABLE)
                    aws_raise_serialization(L, "%s: expected a map, got %s", where, luaL_typename(L, value));
                query_map(L, g, m, shape, value, seen, where);
            } else if (is_query) {
                query_member(L, g, m, mem, where);
                lua_pushboolean(L, 1);
                lua_setfield(L, seen, name);
            } else if (is_header) {
                strbuf *out = &g->sb[0];
                sb_reset(out);
                if (type && strcmp(type, "list") == 0) {
                    if (t != LUA_TTABLE)
                        aws_raise_serialization(L, "%s: expected a list, got %s", where, luaL_typename(L, value));
                    header_list(L, g, m, shape, value, out, where);
                } else {
                    scalar_text(L, g, m, mem, value, LOC_HEADER, out, where);
                }
                if (out->failed)
                    aws_raise_oom(L, "build_request");
                set_header(L, headers, name, out);
            } else {
                if (t != LUA_TTABLE)
                    aws_raise_serialization(L, "%s: expected a map, got %s", where, luaL_typename(L, value));
                const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
                lua_pushnil(L);
                while (lua_next(L, value)) {
                    if (lua_type(L, -2) != LUA_TSTRING)
                        aws_raise_serialization(L, "%s: map keys must be strings", where);
                    lua_pushfstring(L, "%s.%s", where, lua_tostring(L, -2));
                    strbuf *out = &g->sb[0];
                    sb_reset(out);
                    scalar_text(L, g, m, vref, lua_gettop(L) - 1, LOC_HEADER, out, lua_tostring(L, -1));
                    if (out->failed)
                        aws_raise_oom(L, "build_request");
                    lua_pushfstring(L, "%s%s", name, lua_tostring(L, -3));
                    lua_pushlstring(L, out->data ? out->data : "", out->len);
                    lua_settable(L, headers);
                    lua_pop(L, 2);
                }
            }
            lua_settop(L, value - 2);
        }
    }
    lua_pop(L, 1);
}

const cJSON *aws_rest_build_head(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts, int req)
{
    const cJSON *input = aws_model_resolve(m, aws_operation_input(op));
    aws_guard *g = aws_guard_push(L);
    build_path(L, g, m, op, input, params, opts);
    /* build_path leaves the constant query in sb[1]; sb[0] (the path) is used for headers next */
    lua_pushlstring(L, g->sb[0].data ? g->sb[0].data : "/", g->sb[0].len ? g->sb[0].len : 1);
    if (g->sb[0].failed || g->sb[1].failed)
        aws_raise_oom(L, "build_request");
    lua_setfield(L, req, "path");
    lua_getfield(L, req, "headers");
    int headers = lua_gettop(L);
    if (input)
        build_headers_and_query(L, g, m, input, params, opts, headers);
    lua_pop(L, 1);
    if (g->sb[1].failed)
        aws_raise_oom(L, "build_request");
    lua_pushlstring(L, g->sb[1].data ? g->sb[1].data : "", g->sb[1].len);
    lua_setfield(L, req, "query");
    aws_guard_release(g);
    lua_pop(L, 1);
    aws_fill_host_prefix(L, m, op, params, req);
    return input;
}

/* ---------------------------------------------------------------- parsing */

int aws_rest_output_bound(const aws_model *m, const cJSON *member)
{
    const char *loc = aws_model_trait_string(m, member, "location");
    return loc && (strcmp(loc, "header") == 0 || strcmp(loc, "headers") == 0 || strcmp(loc, "statusCode") == 0);
}

/* Pushes the value of header text s converted to the member's type (nil when unreadable). */
static void push_header_scalar(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *member, const char *s,
                               size_t len)
{
    const cJSON *shape = aws_model_resolve(m, member);
    const char *type = aws_shape_type(shape);
    if (!type || strcmp(type, "string") == 0) {
        if (type && aws_model_trait_bool(m, member, "jsonvalue")) {
            strbuf *tmp = &g->sb[2];
            sb_reset(tmp);
            if (aws_base64_decode(tmp, s, len) && !tmp->failed) {
                lua_pushlstring(L, tmp->data ? tmp->data : "", tmp->len);
                return;
            }
        }
        lua_pushlstring(L, s, len);
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 || strcmp(type, "short") == 0 ||
               strcmp(type, "byte") == 0) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s)
            lua_pushnil(L);
        else
            lua_pushinteger(L, (lua_Integer)v);
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        double d;
        char *end;
        if (aws_special_double(s, &d))
            lua_pushnumber(L, d);
        else if ((d = strtod(s, &end)), end != s)
            lua_pushnumber(L, d);
        else
            lua_pushnil(L);
    } else if (strcmp(type, "boolean") == 0) {
        lua_pushboolean(L, len == 4 && strncmp(s, "true", 4) == 0);
    } else if (strcmp(type, "timestamp") == 0) {
        double t;
        if (aws_time_parse(s, len, &t))
            lua_pushnumber(L, t);
        else
            lua_pushnil(L);
        if (lua_isnumber(L, -1) && t == floor(t) && fabs(t) < 9e15) {
            lua_pop(L, 1);
            lua_pushinteger(L, (lua_Integer)t);
        }
    } else if (strcmp(type, "blob") == 0) {
        strbuf *tmp = &g->sb[2];
        sb_reset(tmp);
        if (aws_base64_decode(tmp, s, len) && !tmp->failed)
            lua_pushlstring(L, tmp->data ? tmp->data : "", tmp->len);
        else
            lua_pushlstring(L, s, len);
    } else {
        lua_pushlstring(L, s, len);
    }
}

/* Splits a list header on commas outside double quotes; quoted items lose their quotes and
 * backslash escapes. HTTP dates hold a comma themselves: an item that is only a weekday name
 * is joined with the next. */
static void push_header_list(lua_State *L, aws_guard *g, const aws_model *m, const cJSON *shape, const char *s,
                             size_t len)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
    const char *itype = aws_shape_type(aws_model_resolve(m, item));
    int is_time = itype && strcmp(itype, "timestamp") == 0;
    strbuf *word = &g->sb[1];
    lua_newtable(L);
    lua_Integer n = 0;
    size_t i = 0;
    while (i <= len) {
        sb_reset(word);
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < len && s[i] == '"') {
            i++;
            while (i < len && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                sb_putc(word, s[i++]);
            }
            if (i < len)
                i++;
            while (i < len && s[i] != ',')
                i++;
        } else {
            size_t start = i;
            while (i < len && s[i] != ',')
                i++;
            if (is_time && i - start <= 3 && i < len) {
                /* "Mon, 16 Dec 2019 23:48:18 GMT": the comma after the weekday belongs to the item */
                i++;
                while (i < len && s[i] != ',')
                    i++;
            }
            size_t end = i;
            while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                end--;
            sb_append(word, s + start, end - start);
        }
        if (word->failed)
            aws_raise_oom(L, "parse_response");
        if (word->len > 0 || i < len || n > 0) {
            push_header_scalar(L, g, m, item, word->data ? word->data : "", word->len);
            lua_rawseti(L, -2, ++n);
        }
        i++; /* past the comma (or the end) */
    }
}

static int has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

void aws_rest_parse_head(lua_State *L, const aws_model *m, const cJSON *output_shape, int response, int data)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(output_shape, "members");
    if (!members)
        return;
    aws_guard *g = aws_guard_push(L);
    lua_getfield(L, response, "headers");
    int headers = lua_gettop(L);
    int have_headers = lua_istable(L, headers);
    for (const cJSON *mem = members->child; mem; mem = mem->next) {
        const char *loc = aws_model_trait_string(m, mem, "location");
        if (!loc || !mem->string)
            continue;
        if (strcmp(loc, "statusCode") == 0) {
            lua_getfield(L, response, "statusCode");
            if (lua_isnumber(L, -1)) {
                lua_pushinteger(L, (lua_Integer)lua_tonumber(L, -1));
                lua_setfield(L, data, mem->string);
            }
            lua_pop(L, 1);
        } else if (strcmp(loc, "header") == 0 && have_headers) {
            /* response headers arrive lower-cased */
            const char *name = aws_member_wire_name(m, mem);
            strbuf *lower = &g->sb[0];
            sb_reset(lower);
            for (const char *c = name; *c; c++)
                sb_putc(lower, (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c));
            if (lower->failed)
                aws_raise_oom(L, "parse_response");
            if (lua_getfield(L, headers, lower->data ? lower->data : "") == LUA_TSTRING) {
                size_t len;
                const char *s = lua_tolstring(L, -1, &len);
                const cJSON *shape = aws_model_resolve(m, mem);
                const char *type = aws_shape_type(shape);
                if (type && strcmp(type, "list") == 0)
                    push_header_list(L, g, m, shape, s, len);
                else
                    push_header_scalar(L, g, m, mem, s, len);
                lua_setfield(L, data, mem->string);
            }
            lua_pop(L, 1);
        } else if (strcmp(loc, "headers") == 0 && have_headers) {
            const char *prefix = aws_model_trait_string(m, mem, "locationName");
            size_t plen = prefix ? strlen(prefix) : 0;
            const cJSON *shape = aws_model_resolve(m, mem);
            const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
            lua_newtable(L);
            lua_pushnil(L);
            while (lua_next(L, headers)) {
                if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                    const char *hname = lua_tostring(L, -2);
                    if (!prefix || has_prefix_ci(hname, prefix)) {
                        size_t len;
                        const char *s = lua_tolstring(L, -1, &len);
                        lua_pushstring(L, hname + plen);
                        push_header_scalar(L, g, m, vref, s, len);
                        lua_settable(L, -5);
                    }
                }
                lua_pop(L, 1);
            }
            lua_setfield(L, data, mem->string);
        }
    }
    lua_pop(L, 1);
    aws_guard_release(g);
    lua_pop(L, 1);
}

/* The HTTP binding shared by rest-json and rest-xml: members bound to the URI path, the query
 * string, headers (single, lists, prefix maps) and the status code. Bodies are the protocols'
 * business (protocol_json.c, protocol_xml.c); this file knows no body format.
 *
 * C buffers live in an aws_guard userdata so that any Lua error on the way (a wrong parameter
 * type, the idempotency-token callback, out of memory) cannot leak them. */
#include "protocol/rest/rest.h"

#include "codec/ljson.h"
#include "codec/percent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- building */

/* Where a value sits in params. Spelled out ("params.Name.key[2]") only when an error names
 * it: most requests never need the text. */
typedef struct param_path {
    const char *name;  /* the member's name */
    const char *key;   /* a map key below it, or NULL; the string belongs to a Lua table */
    lua_Integer index; /* a list position below that, or 0 */
} param_path;

static const char *push_path(lua_State *L, const param_path *p)
{
    if (p->key && p->index)
        return lua_pushfstring(L, "params.%s.%s[%d]", p->name, p->key, (int)p->index);
    if (p->key)
        return lua_pushfstring(L, "params.%s.%s", p->name, p->key);
    if (p->index)
        return lua_pushfstring(L, "params.%s[%d]", p->name, (int)p->index);
    return lua_pushfstring(L, "params.%s", p->name);
}

/* Raises a SerializationError "<path>: <formatted text>". Never returns. */
static int raise_at(lua_State *L, const param_path *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *what = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return aws_raise_serialization(L, "%s: %s", push_path(L, p), what);
}

/* Appends the text of the scalar at idx as `place` spells it, or raises naming `path`. */
static void scalar_text(lua_State *L, aws_guard *g, const aws_rest_scalar *sc, int idx, aws_place place, strbuf *out,
                        const param_path *path)
{
    aws_scalar_status st = aws_param_text(L, idx, &sc->scalar, place, out, &g->scratch);
    if (st == AWS_SCALAR_OK)
        return;
    if (st != AWS_SCALAR_NOT_SCALAR)
        aws_raise_mismatch(L, push_path(L, path), idx, &sc->scalar, st);
    if (!sc->type)
        raise_at(L, path, "the model's shape for this member is missing");
    raise_at(L, path, "a %s cannot be sent in the %s", sc->type,
             place == AWS_AT_URI ? "URI" : place == AWS_AT_QUERYSTRING ? "query string" : "headers");
}

/* Pushes params[name], or a fresh idempotency token for an unset member that asks for one. */
static int push_member_value(lua_State *L, const aws_rest_member *mb, int params, int opts)
{
    int t = lua_getfield(L, params, mb->name);
    if (t == LUA_TLIGHTUSERDATA) {
        /* core.null (JSON null) means "not set" */
        lua_pop(L, 1);
        lua_pushnil(L);
        t = LUA_TNIL;
    }
    if (t == LUA_TNIL && mb->idempotency_token) {
        lua_pop(L, 1);
        aws_push_idempotency_token(L, opts);
        t = LUA_TSTRING;
    }
    return t;
}

/* Fills g->sb[0] with the path (labels filled from params), g->sb[1] with the constant query. */
static void build_path(lua_State *L, aws_guard *g, const aws_rest_input *b, int params, int opts)
{
    strbuf *path = &g->sb[0], *tmp = &g->sb[2];
    for (size_t i = 0; i < b->nsegments; i++) {
        const aws_rest_segment *seg = &b->segments[i];
        if (!seg->label) {
            sb_append(path, seg->text, seg->len);
            continue;
        }
        if (!seg->member)
            aws_raise_serialization(L, "the URI label {%s} has no member in the input shape",
                                    lua_pushlstring(L, seg->text, seg->len));
        param_path where = {seg->member->name, NULL, 0};
        if (push_member_value(L, seg->member, params, opts) == LUA_TNIL)
            raise_at(L, &where, "missing the URI label {%s}", lua_pushlstring(L, seg->text, seg->len));
        sb_reset(tmp);
        scalar_text(L, g, &seg->member->value, lua_gettop(L), AWS_AT_URI, tmp, &where);
        if (tmp->len == 0)
            raise_at(L, &where, "the URI label {%s} must not be empty", lua_pushlstring(L, seg->text, seg->len));
        aws_percent_encode(path, tmp->data, tmp->len, seg->greedy);
        lua_pop(L, 1);
    }
    if (b->query)
        sb_append(&g->sb[1], b->query, b->query_len);
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

/* A querystring member that is a map (at `value`): each key a parameter (string values, or
 * string lists repeated), keys already set by a named member left alone (the named member wins). */
static void query_map(lua_State *L, aws_guard *g, const aws_rest_member *mb, int value, int seen)
{
    param_path where = {mb->name, NULL, 0};
    int held;
    size_t start = aws_map_keys(L, g, value, push_path(L, &where), &held);
    strbuf *tmp = &g->sb[2];
    for (size_t k = start; k < g->nkeys; k++) {
        const char *key = g->keys[k].s;
        if (lua_getfield(L, seen, key) != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        where.key = key;
        where.index = 0;
        int t = lua_getfield(L, value, key);
        if (mb->item_is_list) {
            if (t != LUA_TTABLE)
                raise_at(L, &where, "expected a list, got %s", luaL_typename(L, -1));
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                where.index = i;
                sb_reset(tmp);
                scalar_text(L, g, &mb->item, lua_gettop(L), AWS_AT_QUERYSTRING, tmp, &where);
                query_pair(&g->sb[1], key, strlen(key), tmp->data ? tmp->data : "", tmp->len);
                lua_pop(L, 1);
            }
        } else if (t != LUA_TNIL) {
            sb_reset(tmp);
            scalar_text(L, g, &mb->item, lua_gettop(L), AWS_AT_QUERYSTRING, tmp, &where);
            query_pair(&g->sb[1], key, strlen(key), tmp->data ? tmp->data : "", tmp->len);
        }
        lua_pop(L, 1);
    }
    g->nkeys = start;
    lua_pop(L, held + 1);
}

/* One named querystring member (its value at `value`). */
static void query_member(lua_State *L, aws_guard *g, const aws_rest_member *mb, int value)
{
    param_path where = {mb->name, NULL, 0};
    strbuf *tmp = &g->sb[2];
    if (mb->value.scalar.kind == AWS_T_LIST) {
        if (lua_type(L, value) != LUA_TTABLE)
            raise_at(L, &where, "expected a list, got %s", luaL_typename(L, value));
        lua_Integer n = (lua_Integer)lua_rawlen(L, value);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, value, i);
            where.index = i;
            sb_reset(tmp);
            scalar_text(L, g, &mb->item, value + 1, AWS_AT_QUERYSTRING, tmp, &where);
            query_pair(&g->sb[1], mb->wire, mb->wire_len, tmp->data ? tmp->data : "", tmp->len);
            lua_pop(L, 1);
        }
        return;
    }
    sb_reset(tmp);
    scalar_text(L, g, &mb->value, value, AWS_AT_QUERYSTRING, tmp, &where);
    query_pair(&g->sb[1], mb->wire, mb->wire_len, tmp->data ? tmp->data : "", tmp->len);
}

/* A header list: comma-separated, strings holding a comma or a quote sent quoted. */
static void header_list(lua_State *L, aws_guard *g, const aws_rest_member *mb, int value, strbuf *out)
{
    int quote_strings = mb->item.scalar.kind == AWS_T_STRING;
    param_path where = {mb->name, NULL, 0};
    lua_Integer n = (lua_Integer)lua_rawlen(L, value);
    strbuf *tmp = &g->sb[2];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, value, i);
        where.index = i;
        sb_reset(tmp);
        scalar_text(L, g, &mb->item, lua_gettop(L), AWS_AT_HEADER, tmp, &where);
        lua_pop(L, 1);
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

/* A headers member: a map whose keys follow the prefix in the header names. */
static void prefix_headers(lua_State *L, aws_guard *g, const aws_rest_member *mb, int value, int headers)
{
    param_path where = {mb->name, NULL, 0};
    strbuf *out = &g->sb[0];
    lua_pushnil(L);
    while (lua_next(L, value)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            raise_at(L, &where, "map keys must be strings");
        where.key = lua_tostring(L, -2);
        sb_reset(out);
        scalar_text(L, g, &mb->item, lua_gettop(L), AWS_AT_HEADER, out, &where);
        if (out->failed)
            aws_raise_oom(L, "build_request");
        lua_pushfstring(L, "%s%s", mb->wire, where.key);
        lua_pushlstring(L, out->data ? out->data : "", out->len);
        lua_settable(L, headers);
        lua_pop(L, 1);
    }
}

/* Marks in `present` the members whose names are keys of params. An S3 request sets a handful
 * of its dozens of header and query members: walking params and asking the binding's name index
 * costs less than one lua_getfield per member. */
static void mark_present(lua_State *L, const aws_rest_input *b, int params, unsigned char *present)
{
    memset(present, 0, b->nmembers);
    lua_pushnil(L);
    while (lua_next(L, params)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        size_t len;
        const char *key = lua_tolstring(L, -1, &len);
        /* a model may repeat a name: every member of that name is marked */
        for (size_t slot = aws_rest_name_hash(key, len) & b->by_name_mask; b->by_name[slot];
             slot = (slot + 1) & b->by_name_mask) {
            const aws_rest_member *mb = &b->members[b->by_name[slot] - 1];
            if (mb->name_len == len && memcmp(mb->name, key, len) == 0)
                present[b->by_name[slot] - 1] = 1;
        }
    }
}

/* Every header and querystring member, in the binding's order (querystring maps last). */
static void build_headers_and_query(lua_State *L, aws_guard *g, const aws_rest_input *b, int params, int opts,
                                    int headers)
{
    int seen = 0; /* query names already set, needed only to let them win over a map's keys */
    if (b->has_query_map) {
        lua_newtable(L);
        seen = lua_gettop(L);
    }
    /* Only a table without a metatable has no fields beyond its keys; and with no token to make,
     * no caller's callback runs between the walk and the last read to add one. */
    unsigned char present[256];
    int scan = b->nmembers <= sizeof present && !b->has_token;
    if (scan && lua_getmetatable(L, params)) {
        lua_pop(L, 1);
        scan = 0;
    }
    if (scan)
        mark_present(L, b, params, present);
    for (size_t i = 0; i < b->nmembers; i++) {
        const aws_rest_member *mb = &b->members[i];
        if (scan && !present[i])
            continue;
        int t = push_member_value(L, mb, params, opts);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        int value = lua_gettop(L);
        param_path where = {mb->name, NULL, 0};
        if (mb->loc == AWS_LOC_QUERY && mb->query_map) {
            if (t != LUA_TTABLE)
                raise_at(L, &where, "expected a map, got %s", luaL_typename(L, value));
            query_map(L, g, mb, value, seen);
        } else if (mb->loc == AWS_LOC_QUERY) {
            query_member(L, g, mb, value);
            if (seen) {
                lua_pushboolean(L, 1);
                lua_setfield(L, seen, mb->wire);
            }
        } else if (mb->loc == AWS_LOC_HEADER) {
            strbuf *out = &g->sb[0];
            sb_reset(out);
            if (mb->value.scalar.kind == AWS_T_LIST) {
                if (t != LUA_TTABLE)
                    raise_at(L, &where, "expected a list, got %s", luaL_typename(L, value));
                header_list(L, g, mb, value, out);
            } else {
                scalar_text(L, g, &mb->value, value, AWS_AT_HEADER, out, &where);
            }
            if (out->failed)
                aws_raise_oom(L, "build_request");
            set_header(L, headers, mb->wire, out);
        } else {
            if (t != LUA_TTABLE)
                raise_at(L, &where, "expected a map, got %s", luaL_typename(L, value));
            prefix_headers(L, g, mb, value, headers);
        }
        lua_settop(L, value - 1);
    }
    if (seen)
        lua_pop(L, 1);
}

const cJSON *aws_rest_build_head(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts, int req)
{
    const aws_rest_input *b = aws_rest_input_binding(L, m, op);
    aws_guard *g = aws_guard_push(L);
    build_path(L, g, b, params, opts);
    /* build_path leaves the constant query in sb[1]; sb[0] (the path) is used for headers next */
    lua_pushlstring(L, g->sb[0].data ? g->sb[0].data : "/", g->sb[0].len ? g->sb[0].len : 1);
    if (g->sb[0].failed || g->sb[1].failed)
        aws_raise_oom(L, "build_request");
    lua_setfield(L, req, "path");
    lua_getfield(L, req, "headers");
    int headers = lua_gettop(L);
    if (b->shape)
        build_headers_and_query(L, g, b, params, opts, headers);
    lua_pop(L, 1);
    if (g->sb[1].failed)
        aws_raise_oom(L, "build_request");
    lua_pushlstring(L, g->sb[1].data ? g->sb[1].data : "", g->sb[1].len);
    lua_setfield(L, req, "query");
    aws_guard_release(g);
    lua_pop(L, 1);
    aws_fill_host_prefix(L, m, op, params, req);
    return b->shape;
}

/* ---------------------------------------------------------------- parsing */

/* Pushes the value of header text s converted to the scalar's type: nil when it does not read
 * as one, the text as it came for a missing shape or one no header can hold. */
static void push_header_scalar(lua_State *L, aws_guard *g, const aws_rest_scalar *sc, const char *s, size_t len)
{
    aws_kind kind = sc->scalar.kind;
    if (kind == AWS_T_UNKNOWN || kind == AWS_T_STRUCTURE || kind == AWS_T_LIST || kind == AWS_T_MAP) {
        lua_pushlstring(L, s, len);
        return;
    }
    aws_scalar v;
    /* only blobs and jsonvalues use the scratch buffer, and only their members make a guard */
    int r = aws_scalar_parse(&sc->scalar, AWS_AT_HEADER, s, len, &v, g ? &g->scratch : NULL);
    if (r < 0)
        aws_raise_oom(L, "parse_response");
    if (r <= 0) {
        lua_pushnil(L);
        return;
    }
    aws_scalar_push(L, &v);
    if (kind == AWS_T_STRING && sc->scalar.jsonvalue) { /* JSON text: its Lua value, as JS v2 parses it */
        size_t n;
        const char *text = lua_tolstring(L, -1, &n);
        if (aws_json_decode_value(L, text, n))
            lua_remove(L, -2); /* the value replaces the text */
        else
            lua_pop(L, 1); /* the message: text that is no JSON stays text */
    }
}

/* Splits a list header on commas outside double quotes; quoted items lose their quotes and
 * backslash escapes. HTTP dates hold a comma themselves: an item that is only a weekday name
 * is joined with the next. */
static void push_header_list(lua_State *L, aws_guard *g, const aws_rest_scalar *item, const char *s, size_t len)
{
    int is_time = item->scalar.kind == AWS_T_TIMESTAMP;
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
            push_header_scalar(L, g, item, word->data ? word->data : "", word->len);
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

/* Members bound to one header, read by walking the reply's headers (a handful) rather than
 * looking each member's name up (S3's outputs bind a dozen or more, most absent). */
static void read_header_members(lua_State *L, aws_guard *g, const aws_rest_output *b, int headers, int data)
{
    lua_pushnil(L);
    while (lua_next(L, headers)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
            size_t name_len, len;
            const char *name = lua_tolstring(L, -2, &name_len);
            const char *s = lua_tolstring(L, -1, &len);
            for (size_t i = 0; i < b->nmembers; i++) {
                const aws_rest_member *mb = &b->members[i];
                /* mb->wire is already lower-cased, as response headers arrive */
                if (mb->loc != AWS_LOC_HEADER || mb->wire_len != name_len || memcmp(mb->wire, name, name_len) != 0)
                    continue;
                if (mb->value.scalar.kind == AWS_T_LIST)
                    push_header_list(L, g, &mb->item, s, len);
                else
                    push_header_scalar(L, g, &mb->value, s, len);
                lua_setfield(L, data, mb->name);
            }
        }
        lua_pop(L, 1);
    }
}

void aws_rest_parse_head(lua_State *L, const aws_model *m, const cJSON *output_shape, int response, int data)
{
    const aws_rest_output *b = aws_rest_output_binding(L, m, output_shape);
    if (!b->nmembers)
        return;
    /* most outputs read only plain headers: no C buffers, so no guard to make */
    aws_guard *g = b->needs_scratch ? aws_guard_push(L) : NULL;
    lua_getfield(L, response, "headers");
    int headers = lua_gettop(L);
    int have_headers = lua_istable(L, headers);
    for (size_t i = 0; i < b->nmembers; i++) {
        const aws_rest_member *mb = &b->members[i];
        if (mb->loc == AWS_LOC_STATUS) {
            lua_getfield(L, response, "statusCode");
            if (lua_isnumber(L, -1)) {
                lua_pushinteger(L, (lua_Integer)lua_tonumber(L, -1));
                lua_setfield(L, data, mb->name);
            }
            lua_pop(L, 1);
        } else if (mb->loc == AWS_LOC_HEADERS && have_headers) {
            const char *prefix = mb->wire;
            size_t plen = mb->wire_len;
            lua_newtable(L);
            lua_pushnil(L);
            while (lua_next(L, headers)) {
                if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                    const char *hname = lua_tostring(L, -2);
                    if (!prefix || has_prefix_ci(hname, prefix)) {
                        size_t len;
                        const char *s = lua_tolstring(L, -1, &len);
                        lua_pushstring(L, hname + plen);
                        push_header_scalar(L, g, &mb->item, s, len);
                        lua_settable(L, -5);
                    }
                }
                lua_pop(L, 1);
            }
            lua_setfield(L, data, mb->name);
        }
    }
    if (have_headers)
        read_header_members(L, g, b, headers, data);
    lua_pop(L, 1);
    if (g) {
        aws_guard_release(g);
        lua_pop(L, 1);
    }
}

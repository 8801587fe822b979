/* Lua parameters -> JSON text, guided by the input shape (json and rest-json bodies).
 *
 * The tree is built with cJSON and printed unformatted. Every node is attached to its parent
 * (or to the guard, for the root) as soon as it is created, so the whole tree is always
 * reachable from the aws_guard: a Lua error raised midway (a wrong type, out of memory, the
 * idempotency-token callback) frees it through the guard instead of leaking it.
 *
 * Numbers are written as raw text, not as cJSON numbers: cJSON keeps numbers as doubles, which
 * would round 64-bit integers (DynamoDB counters, byte offsets) and print floats with 15 digits. */
#include "protocol/json/json.h"

#include "codec/base64.h"
#include "codec/number.h"
#include "codec/percent.h"
#include "codec/time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Deeper than any AWS shape; a cyclic Lua table would otherwise recurse until the C stack ends. */
#define JSON_BUILD_MAX_DEPTH 256

typedef struct jbuild {
    lua_State *L;
    const aws_model *m;
    aws_guard *g;
    int opts;
    strbuf *path; /* "params.a.b[2]": where the builder stands, for error messages */
    int depth;
} jbuild;

static int jb_fail(jbuild *b, const char *what, int idx)
{
    return aws_raise_serialization(b->L, "%s: %s, got %s", b->path->data ? b->path->data : "params", what,
                                   idx ? luaL_typename(b->L, idx) : "nothing");
}

/* The path of a runaway nesting is a few kilobytes of ".a.a.a": name its start only. */
static void too_deep(jbuild *b)
{
    lua_pushlstring(b->L, b->path->data, b->path->len > 80 ? 80 : b->path->len);
    aws_raise_serialization(b->L, "%s...: nested deeper than %d levels (a table that contains itself?)",
                            lua_tostring(b->L, -1), JSON_BUILD_MAX_DEPTH);
}

static void jb_oom(jbuild *b)
{
    aws_raise_oom(b->L, "build_request");
}

/* Attaches item under parent (key NULL for arrays), or makes it the root. */
static cJSON *jb_attach(jbuild *b, cJSON *parent, const char *key, int static_key, cJSON *item)
{
    if (!item)
        jb_oom(b);
    if (!parent) {
        cJSON_Delete(b->g->json);
        b->g->json = item;
        return item;
    }
    int ok;
    if (cJSON_IsArray(parent))
        ok = cJSON_AddItemToArray(parent, item);
    else if (static_key)
        ok = cJSON_AddItemToObjectCS(parent, key, item);
    else
        ok = cJSON_AddItemToObject(parent, key, item);
    if (!ok) {
        cJSON_Delete(item);
        jb_oom(b);
    }
    return item;
}

/* A JSON string from bytes that may hold NUL (cJSON strings are C strings): escaped by hand
 * into a raw node. */
static cJSON *raw_string(const char *s, size_t len, strbuf *tmp)
{
    static const char hex[] = "0123456789abcdef";
    sb_reset(tmp);
    sb_putc(tmp, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sb_putc(tmp, '\\');
            sb_putc(tmp, (char)c);
        } else if (c < 0x20) {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            sb_append(tmp, esc, 6);
        } else {
            sb_putc(tmp, (char)c);
        }
    }
    sb_putc(tmp, '"');
    return tmp->failed ? NULL : cJSON_CreateRaw(tmp->data);
}

/* `stable` strings belong to the params table, which outlives the tree: cJSON may point at
 * them instead of copying (a 400 KB DynamoDB item is mostly strings). */
static cJSON *make_string(jbuild *b, const char *s, size_t len, int stable)
{
    if (memchr(s, '\0', len))
        return raw_string(s, len, &b->g->sb[2]);
    return stable ? cJSON_CreateStringReference(s) : cJSON_CreateString(s);
}

static cJSON *make_integer(lua_Integer v)
{
    char num[32];
    snprintf(num, sizeof num, LUA_INTEGER_FMT, v);
    return cJSON_CreateRaw(num);
}

/* A float: raw shortest text, or the strings "NaN", "Infinity", "-Infinity" JSON has no
 * numbers for. */
static cJSON *make_double(double d)
{
    char num[40];
    aws_format_double(num, d);
    return isfinite(d) ? cJSON_CreateRaw(num) : cJSON_CreateString(num);
}

static void path_push_key(jbuild *b, const char *key)
{
    sb_putc(b->path, '.');
    sb_puts(b->path, key);
}

static void path_push_index(jbuild *b, lua_Integer i)
{
    char num[32];
    snprintf(num, sizeof num, "[" LUA_INTEGER_FMT "]", i);
    sb_puts(b->path, num);
}

static void path_pop(jbuild *b, size_t len)
{
    if (b->path->data) {
        b->path->len = len;
        b->path->data[len] = '\0';
    }
}

/* ---------------------------------------------------------------- untyped values (documents) */

static int is_null(lua_State *L, int idx)
{
    /* core.null is a light userdata; nothing else of that kind is a parameter */
    return lua_isnoneornil(L, idx) || lua_islightuserdata(L, idx);
}

/* 1 when the table at idx is a non-empty sequence 1..n with nothing else in it. */
static int is_sequence(lua_State *L, int idx)
{
    if (luaL_getmetafield(L, idx, "__jsontype") != LUA_TNIL) {
        int array = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0;
        lua_pop(L, 1);
        return array ? 2 : 0;
    }
    lua_Unsigned n = lua_rawlen(L, idx);
    if (n == 0)
        return 0;
    lua_Unsigned count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    return count == n;
}

static void build_document(jbuild *b, int idx, cJSON *parent, const char *key, int static_key)
{
    lua_State *L = b->L;
    if (++b->depth > JSON_BUILD_MAX_DEPTH)
        too_deep(b);
    luaL_checkstack(L, 4, "build_request: nesting too deep");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TLIGHTUSERDATA:
        jb_attach(b, parent, key, static_key, cJSON_CreateNull());
        break;
    case LUA_TBOOLEAN:
        jb_attach(b, parent, key, static_key, cJSON_CreateBool(lua_toboolean(L, idx)));
        break;
    case LUA_TNUMBER:
        jb_attach(b, parent, key, static_key,
                  lua_isinteger(L, idx) ? make_integer(lua_tointeger(L, idx)) : make_double(lua_tonumber(L, idx)));
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        jb_attach(b, parent, key, static_key, make_string(b, s, len, 1));
        break;
    }
    case LUA_TTABLE: {
        size_t mark = b->path->len;
        if (is_sequence(L, idx)) {
            cJSON *arr = jb_attach(b, parent, key, static_key, cJSON_CreateArray());
            lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, i);
                path_push_index(b, i);
                build_document(b, lua_gettop(L), arr, NULL, 0);
                path_pop(b, mark);
                lua_pop(L, 1);
            }
        } else {
            cJSON *obj = jb_attach(b, parent, key, static_key, cJSON_CreateObject());
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                if (lua_type(L, -2) != LUA_TSTRING)
                    aws_raise_serialization(L, "%s: a JSON object needs string keys, got a %s key", b->path->data,
                                            luaL_typename(L, -2));
                const char *k = lua_tostring(L, -2);
                path_push_key(b, k);
                build_document(b, lua_gettop(L), obj, k, 0);
                path_pop(b, mark);
                lua_pop(L, 1);
            }
        }
        break;
    }
    default:
        jb_fail(b, "expected a JSON value", idx);
    }
    b->depth--;
}

/* ---------------------------------------------------------------- typed values */

static void build_value(jbuild *b, const cJSON *ref, int idx, cJSON *parent, const char *key, int static_key);

/* A structure's members; `skip_located` leaves out the members rest-json sends elsewhere. */
static void build_members(jbuild *b, const cJSON *shape, int idx, cJSON *obj, int skip_located)
{
    lua_State *L = b->L;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    size_t mark = b->path->len;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string)
            continue;
        if (skip_located && aws_model_trait_string(b->m, mem, "location"))
            continue;
        lua_getfield(L, idx, mem->string);
        /* the trait sits on the member reference (or on the inline shape that is the member) */
        if (is_null(L, -1) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mem, "idempotencyToken"))) {
            lua_pop(L, 1);
            aws_push_idempotency_token(L, b->opts);
        }
        if (!is_null(L, -1)) {
            path_push_key(b, mem->string);
            build_value(b, mem, lua_gettop(L), obj, aws_member_wire_name(b->m, mem), 1);
            path_pop(b, mark);
        }
        lua_pop(L, 1);
    }
}

static void build_list(jbuild *b, const cJSON *shape, int idx, cJSON *parent, const char *key, int static_key)
{
    lua_State *L = b->L;
    if (!lua_istable(L, idx))
        jb_fail(b, "expected a list (a sequence table)", idx);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
    cJSON *arr = jb_attach(b, parent, key, static_key, cJSON_CreateArray());
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    size_t mark = b->path->len;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        if (!is_null(L, -1)) {
            path_push_index(b, i);
            build_value(b, item, lua_gettop(L), arr, NULL, 0);
            path_pop(b, mark);
        }
        lua_pop(L, 1);
    }
}

static void build_map(jbuild *b, const cJSON *shape, int idx, cJSON *parent, const char *key, int static_key)
{
    lua_State *L = b->L;
    if (!lua_istable(L, idx))
        jb_fail(b, "expected a map (a table)", idx);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(shape, "value");
    cJSON *obj = jb_attach(b, parent, key, static_key, cJSON_CreateObject());
    size_t mark = b->path->len;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            aws_raise_serialization(L, "%s: map keys must be strings, got a %s key", b->path->data,
                                    luaL_typename(L, -2));
        if (!is_null(L, -1)) {
            const char *k = lua_tostring(L, -2);
            path_push_key(b, k);
            /* the key string lives in the params table, which outlives the tree */
            build_value(b, value, lua_gettop(L), obj, k, 1);
            path_pop(b, mark);
        }
        lua_pop(L, 1);
    }
}

static void build_scalar(jbuild *b, const cJSON *ref, aws_kind kind, const char *type, int idx, cJSON *parent,
                         const char *key, int static_key)
{
    lua_State *L = b->L;
    int lt = lua_type(L, idx);
    cJSON *item = NULL;
    if (kind == AWS_T_STRING) {
        if (lt == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            item = make_string(b, s, len, 1);
        } else if (aws_model_trait_bool(b->m, ref, "jsonvalue") && lt == LUA_TTABLE) {
            /* a jsonvalue given as a table travels as its JSON text */
            strbuf *text = &b->g->sb[1];
            sb_reset(text);
            if (!aws_jsonvalue_text(L, idx, text) || text->failed)
                jb_fail(b, "expected a JSON-encodable value", idx);
            item = make_string(b, text->data, text->len, 0);
        } else {
            jb_fail(b, "expected a string", idx);
        }
    } else if (kind == AWS_T_INTEGER) {
        if (lt != LUA_TNUMBER)
            jb_fail(b, "expected an integer", idx);
        lua_Integer v = 0;
        if (lua_isinteger(L, idx))
            v = lua_tointeger(L, idx);
        else if (!lua_numbertointeger(lua_tonumber(L, idx), &v) || floor(lua_tonumber(L, idx)) != lua_tonumber(L, idx))
            aws_raise_serialization(L, "%s: expected an integer, got %f", b->path->data, lua_tonumber(L, idx));
        item = make_integer(v);
    } else if (kind == AWS_T_FLOAT) {
        double special;
        if (lt == LUA_TSTRING && aws_special_double(lua_tostring(L, idx), &special))
            item = cJSON_CreateString(lua_tostring(L, idx));
        else if (lt != LUA_TNUMBER)
            jb_fail(b, "expected a number", idx);
        else if (lua_isinteger(L, idx))
            item = make_integer(lua_tointeger(L, idx));
        else
            item = make_double(lua_tonumber(L, idx));
    } else if (kind == AWS_T_BOOLEAN) {
        if (lt != LUA_TBOOLEAN)
            jb_fail(b, "expected a boolean", idx);
        item = cJSON_CreateBool(lua_toboolean(L, idx));
    } else if (kind == AWS_T_TIMESTAMP) {
        double t;
        if (!aws_timestamp_param(L, idx, &t))
            jb_fail(b, "expected a timestamp (epoch seconds or an ISO 8601 string)", idx);
        const char *fmt = aws_model_trait_string(b->m, ref, "timestampFormat");
        strbuf *text = &b->g->sb[1];
        sb_reset(text);
        aws_format_timestamp(text, fmt ? fmt : "unixTimestamp", t);
        if (text->failed)
            jb_oom(b);
        item = (!fmt || strcmp(fmt, "unixTimestamp") == 0) ? cJSON_CreateRaw(text->data) : cJSON_CreateString(text->data);
    } else if (kind == AWS_T_BLOB) {
        if (lt != LUA_TSTRING)
            jb_fail(b, "expected a string (blob)", idx);
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        strbuf *text = &b->g->sb[1];
        sb_reset(text);
        aws_base64_encode(text, s, len);
        if (text->failed)
            jb_oom(b);
        item = cJSON_CreateString(text->data ? text->data : "");
    } else {
        aws_raise_serialization(L, "%s: the model's type '%s' is unknown", b->path->data, type);
    }
    jb_attach(b, parent, key, static_key, item);
}

static void build_value(jbuild *b, const cJSON *ref, int idx, cJSON *parent, const char *key, int static_key)
{
    lua_State *L = b->L;
    const cJSON *shape = aws_model_resolve(b->m, ref);
    const char *type = aws_shape_type(shape);
    if (!type)
        aws_raise_serialization(L, "%s: the model's shape for this member is missing", b->path->data);
    if (++b->depth > JSON_BUILD_MAX_DEPTH)
        too_deep(b);
    luaL_checkstack(L, 6, "build_request: nesting too deep");
    aws_kind kind = aws_kind_of(type);
    if (kind == AWS_T_STRUCTURE) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"))) {
            b->depth--;
            build_document(b, idx, parent, key, static_key);
            return;
        }
        if (!lua_istable(L, idx))
            jb_fail(b, "expected a structure (a table)", idx);
        cJSON *obj = jb_attach(b, parent, key, static_key, cJSON_CreateObject());
        build_members(b, shape, idx, obj, 0);
    } else if (kind == AWS_T_LIST) {
        build_list(b, shape, idx, parent, key, static_key);
    } else if (kind == AWS_T_MAP) {
        build_map(b, shape, idx, parent, key, static_key);
    } else {
        build_scalar(b, ref, kind, type, idx, parent, key, static_key);
    }
    b->depth--;
}

/* ---------------------------------------------------------------- entry points */

static void print_into(lua_State *L, aws_guard *g)
{
    g->text = cJSON_PrintUnformatted(g->json);
    if (!g->text)
        aws_raise_oom(L, "build_request");
    lua_pushstring(L, g->text);
}

static void start(jbuild *b, lua_State *L, const aws_model *m, aws_guard *g, int opts)
{
    b->L = L;
    b->m = m;
    b->g = g;
    b->opts = opts;
    b->path = &g->sb[0];
    b->depth = 0;
    sb_reset(b->path);
    sb_puts(b->path, "params");
}

void aws_json_push_body(lua_State *L, const aws_model *m, const cJSON *shape, int params, int opts, int skip_located)
{
    aws_guard *g = aws_guard_push(L);
    jbuild b;
    start(&b, L, m, g, opts);
    jb_attach(&b, NULL, NULL, 0, cJSON_CreateObject());
    if (shape)
        build_members(&b, shape, params, g->json, skip_located);
    print_into(L, g);
    aws_guard_release(g);
    lua_remove(L, -2);
}

void aws_json_push_value(lua_State *L, const aws_model *m, const cJSON *ref, int idx, int opts, const char *path)
{
    aws_guard *g = aws_guard_push(L);
    jbuild b;
    start(&b, L, m, g, opts);
    path_push_key(&b, path);
    build_value(&b, ref, idx, NULL, NULL, 0);
    print_into(L, g);
    aws_guard_release(g);
    lua_remove(L, -2);
}

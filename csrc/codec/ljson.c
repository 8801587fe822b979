/* JSON for the protocol layers: core.json_decode / core.json_encode and their _safe variants.
 *
 * Decoding uses cJSON. Its tree is converted to Lua inside a protected call so that a Lua error
 * (memory, stack) can never leave the tree behind: the tree is deleted first, then the error is
 * raised again.
 *
 * Encoding is the module's only JSON encoder: protocol bodies escape strings, spell numbers and
 * encode documents and jsonvalues with its pieces (ljson.h). It does not go through cJSON, which
 * keeps numbers as doubles (a 64-bit Lua integer such as a DynamoDB counter or a byte offset
 * would lose digits) and strings as NUL-terminated C strings (a Lua string holding "\0" would
 * be cut). The encoder writes straight into a strbuf,
 * also inside a protected call, with object keys sorted so that equal tables give equal bytes
 * (signed bodies, caches and specs can compare them).
 *
 * Shapes:
 *   JSON null        <-> core.null (a light userdata, the same value everywhere)
 *   object           <-> table with string keys (empty table encodes as {})
 *   array            <-> sequence 1..n; holes in a moderately sparse integer-keyed table become
 *                        null, and so do the nils of table.pack's {..., n = count} up to count;
 *                        a metatable field __jsontype = "array" | "object" forces the kind
 *                        (core.json_array_mt and core.json_object_mt are such metatables)
 *   number           <-> integer when integral and in range, else float
 * Numbers beyond 2^53 are only as exact as cJSON's double, and a "\u0000" escape ends the
 * decoded string: both are cJSON limits that its API (1.7.15) gives no way around. An item keeps
 * neither its place in the input (return_parse_end marks only the end of the whole value) nor a
 * string's decoded length (valuestring is NUL-terminated; the allocation hooks see only an upper
 * bound) nor a number's text (parsed from a stack copy straight into valuedouble); cJSON_Raw
 * exists for printing only. Recovering either means scanning the JSON a second time, i.e. a
 * second parser, which this module does not hand-write. */
#include "codec/ljson.h"

#include "core/error.h"
#include "codec/number.h"
#include "core/strbuf.h"
#include <lauxlib.h>

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 1000

/* Its address is the null sentinel: unique in the process, equal across states. */
static const char json_null_tag = 0;
#define JSON_NULL ((void *)&json_null_tag)

/* ---------------------------------------------------------------- decode */

static void push_item(lua_State *L, const cJSON *item, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        luaL_error(L, "json_decode: nesting deeper than %d levels", JSON_MAX_DEPTH);
    luaL_checkstack(L, 3, "json_decode: nesting too deep");
    if (cJSON_IsNull(item)) {
        lua_pushlightuserdata(L, JSON_NULL);
    } else if (cJSON_IsBool(item)) {
        lua_pushboolean(L, cJSON_IsTrue(item));
    } else if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        /* 2^63 is exactly representable; the range test keeps the cast defined. */
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == floor(d))
            lua_pushinteger(L, (lua_Integer)d);
        else
            lua_pushnumber(L, (lua_Number)d);
    } else if (cJSON_IsString(item)) {
        lua_pushstring(L, item->valuestring ? item->valuestring : "");
    } else if (cJSON_IsArray(item)) {
        int n = cJSON_GetArraySize(item);
        lua_createtable(L, n > 0 ? n : 0, 0);
        lua_Integer i = 1;
        for (const cJSON *c = item->child; c; c = c->next) {
            push_item(L, c, depth + 1);
            lua_rawseti(L, -2, i++);
        }
    } else if (cJSON_IsObject(item)) {
        lua_newtable(L);
        for (const cJSON *c = item->child; c; c = c->next) {
            lua_pushstring(L, c->string ? c->string : "");
            push_item(L, c, depth + 1);
            lua_rawset(L, -3);
        }
    } else {
        luaL_error(L, "json_decode: unexpected cJSON node type %d", item->type);
    }
}

static int push_tree(lua_State *L)
{
    push_item(L, lua_touserdata(L, 1), 1);
    return 1;
}

void aws_json_push_untyped(lua_State *L, const cJSON *node)
{
    push_item(L, node, 1);
}

/* Line and column (both 1-based) of byte offset `at`. */
static void locate(const char *s, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static size_t skip_space(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Pushes "json_decode: <what> at line L, column C (byte N)". The input's own bytes are not
 * quoted beyond one character: the text may be a credential document. */
static void push_syntax_error(lua_State *L, const char *s, size_t len, size_t at, const char *what)
{
    size_t line, col;
    if (at > len)
        at = len;
    locate(s, at, &line, &col);
    if (at >= len) {
        lua_pushfstring(L, "json_decode: %s: unexpected end of input at line %d, column %d",
                        what, (int)line, (int)col);
        return;
    }
    unsigned char c = (unsigned char)s[at];
    char shown[16];
    if (c >= 0x20 && c < 0x7f)
        snprintf(shown, sizeof shown, "'%c'", c);
    else
        snprintf(shown, sizeof shown, "byte 0x%02X", c);
    lua_pushfstring(L, "json_decode: %s at line %d, column %d (offset %d, at %s)", what, (int)line,
                    (int)col, (int)at, shown);
}

/* Returns 1 with the value pushed, or 0 with an error message pushed. */
int aws_json_decode_value(lua_State *L, const char *s, size_t len)
{
    if (skip_space(s, len, 0) == len) {
        lua_pushstring(L, "json_decode: empty input (no JSON value)");
        return 0;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (!root) {
        size_t at = end && end >= s ? (size_t)(end - s) : 0;
        at = skip_space(s, len, at); /* cJSON may point at the blank before the bad token */
        push_syntax_error(L, s, len, at, "invalid JSON");
        return 0;
    }
    size_t after = end && end >= s ? skip_space(s, len, (size_t)(end - s)) : len;
    if (after < len) {
        cJSON_Delete(root);
        push_syntax_error(L, s, len, after, "unexpected data after the JSON value");
        return 0;
    }
    lua_pushcfunction(L, push_tree);
    lua_pushlightuserdata(L, root);
    int status = lua_pcall(L, 1, 1, 0);
    cJSON_Delete(root);
    return status == LUA_OK;
}

static int l_json_decode(lua_State *L)
{
    return aws_decode_call(L, aws_json_decode_value, NULL);
}

static int l_json_decode_safe(lua_State *L)
{
    return aws_decode_call(L, aws_json_decode_value, "json_decode: failed (non-string error)");
}

int aws_decode_call(lua_State *L, aws_decoder decode, const char *fallback)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (decode(L, s, len))
        return 1;
    if (!fallback)
        return lua_error(L);
    if (!lua_isstring(L, -1)) {
        lua_pop(L, 1);
        lua_pushstring(L, fallback);
    }
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* ---------------------------------------------------------------- encode */

typedef struct {
    const char *s;     /* a string key, kept alive by its table; NULL for an integer key */
    size_t len;
    lua_Integer ikey;
    char num[24];      /* the integer key's decimal spelling */
} json_key;

static const char *key_text(const json_key *k)
{
    return k->s ? k->s : k->num;
}

typedef struct {
    int is_index;
    lua_Integer index;
    const char *key;
    size_t klen;
} path_step;

typedef struct {
    strbuf *out;
    const char *root; /* how messages name the value itself: "$", or "params.Doc" */
    const char *who;  /* what messages start with: "json_encode: ", or "" */
    int depth;
    const void *ancestors[JSON_MAX_DEPTH + 1];
    path_step path[JSON_MAX_DEPTH + 1];
    json_key *keys[JSON_MAX_DEPTH + 1]; /* one reusable key array per depth */
    size_t keycap[JSON_MAX_DEPTH + 1];
} encoder;

static void free_encoder(encoder *e)
{
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        free(e->keys[i]);
}

/* Pushes where the encoder stands, "$.a[2].b", for error messages. */
static const char *push_path(lua_State *L, encoder *e)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, e->root);
    for (int i = 1; i <= e->depth && i <= JSON_MAX_DEPTH; i++) {
        path_step *p = &e->path[i];
        char tmp[40];
        if (p->is_index) {
            snprintf(tmp, sizeof tmp, "[%lld]", (long long)p->index);
            luaL_addstring(&b, tmp);
        } else {
            luaL_addchar(&b, '.');
            luaL_addlstring(&b, p->key, p->klen > 64 ? 64 : p->klen);
            if (p->klen > 64)
                luaL_addstring(&b, "...");
        }
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

static int fail(lua_State *L, encoder *e, const char *fmt, const char *detail)
{
    const char *where = push_path(L, e);
    const char *what = lua_pushfstring(L, fmt, where, detail);
    return luaL_error(L, "%s%s", e->who, what);
}

static void out_of_memory(lua_State *L, encoder *e)
{
    if (e->out->failed)
        luaL_error(L, "json_encode: out of memory");
}

/* Length of the valid UTF-8 sequence at s[i], or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i)
{
    unsigned char c = s[i];
    size_t n;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2; cp = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; cp = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int aws_json_write_string(strbuf *out, const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)str;
    sb_reserve(out, len + 2);
    sb_putc(out, '"');
    size_t run = 0; /* start of the bytes that need no escape */
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t n = utf8_seq(s, len, i);
            if (!n) {
                *bad_at = i + 1;
                return 0;
            }
            i += n;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        sb_append(out, str + run, i - run);
        switch (c) {
        case '"': sb_puts(out, "\\\""); break;
        case '\\': sb_puts(out, "\\\\"); break;
        case '\n': sb_puts(out, "\\n"); break;
        case '\r': sb_puts(out, "\\r"); break;
        case '\t': sb_puts(out, "\\t"); break;
        case '\b': sb_puts(out, "\\b"); break;
        case '\f': sb_puts(out, "\\f"); break;
        default: {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", c);
            sb_puts(out, u);
        }
        }
        i++;
        run = i;
    }
    sb_append(out, str + run, len - run);
    sb_putc(out, '"');
    return 1;
}

int aws_json_write_number(strbuf *out, double d)
{
    if (isnan(d) || isinf(d))
        return 0;
    char buf[40];
    sb_append(out, buf, (size_t)aws_format_double(buf, d));
    return 1;
}

void aws_json_write_integer(strbuf *out, int64_t v)
{
    char buf[24];
    sb_append(out, buf, (size_t)aws_format_integer(buf, v));
}

static void encode_string(lua_State *L, encoder *e, const char *str, size_t len)
{
    size_t bad_at;
    if (!aws_json_write_string(e->out, str, len, &bad_at)) {
        char detail[64];
        snprintf(detail, sizeof detail, "invalid UTF-8 at byte %zu", bad_at);
        fail(L, e, "the string at %s is not valid UTF-8 (%s); base64-encode binary data", detail);
    }
    out_of_memory(L, e);
}

static void encode_number(lua_State *L, encoder *e, int idx)
{
    if (lua_isinteger(L, idx)) {
        aws_json_write_integer(e->out, (int64_t)lua_tointeger(L, idx));
        return;
    }
    double d = (double)lua_tonumber(L, idx);
    if (!aws_json_write_number(e->out, d))
        fail(L, e, "the number at %s is %s, which JSON cannot represent", isnan(d) ? "NaN" : "infinite");
}

static int key_cmp(const void *a, const void *b)
{
    const json_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(key_text(x), key_text(y), n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static void encode_value(lua_State *L, encoder *e, int idx);

/* __jsontype from the metatable: 1 array, 2 object, 0 unspecified. */
static int forced_kind(lua_State *L, encoder *e, int idx)
{
    if (!lua_getmetatable(L, idx))
        return 0;
    lua_getfield(L, -1, "__jsontype");
    int kind = 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
        const char *k = lua_tostring(L, -1);
        if (strcmp(k, "array") == 0)
            kind = 1;
        else if (strcmp(k, "object") == 0)
            kind = 2;
        else
            fail(L, e, "the table at %s has __jsontype '%s' (expected 'array' or 'object')", k);
    }
    lua_pop(L, 2);
    return kind;
}

static void enter(lua_State *L, encoder *e, int idx)
{
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < e->depth; i++)
        if (e->ancestors[i] == self)
            fail(L, e, "the table at %s contains itself (a cycle)%s", "");
    if (e->depth >= JSON_MAX_DEPTH)
        fail(L, e, "nesting deeper than 1000 levels at %s%s", "");
    e->ancestors[e->depth++] = self;
    luaL_checkstack(L, 4, "json_encode: nesting too deep");
}

static void encode_array(lua_State *L, encoder *e, int idx, lua_Integer n)
{
    sb_putc(e->out, '[');
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1)
            sb_putc(e->out, ',');
        e->path[e->depth] = (path_step){1, i, NULL, 0};
        lua_rawgeti(L, idx, i);
        encode_value(L, e, -1);
        lua_pop(L, 1);
    }
    sb_putc(e->out, ']');
}

static void encode_object(lua_State *L, encoder *e, int idx, size_t count)
{
    int d = e->depth;
    if (count > e->keycap[d]) {
        json_key *grown = realloc(e->keys[d], count * sizeof *grown);
        if (!grown)
            luaL_error(L, "json_encode: out of memory");
        e->keys[d] = grown;
        e->keycap[d] = count;
    }
    /* Deeper tables use deeper arrays, so this one stays valid during the loop below. */
    json_key *keys = e->keys[d];
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (n == count) { /* cannot happen: the table was counted just before */
            lua_pop(L, 1);
            break;
        }
        json_key *k = &keys[n++];
        if (lua_type(L, -1) == LUA_TSTRING) {
            k->s = lua_tolstring(L, -1, &k->len);
        } else {
            k->s = NULL;
            k->ikey = lua_tointeger(L, -1);
            snprintf(k->num, sizeof k->num, LUA_INTEGER_FMT, (LUAI_UACINT)k->ikey);
            k->len = strlen(k->num);
        }
    }
    if (n > 1) /* keys is NULL for an empty object */
        qsort(keys, n, sizeof *keys, key_cmp);
    sb_putc(e->out, '{');
    for (size_t i = 0; i < n; i++) {
        json_key *k = &keys[i];
        if (i)
            sb_putc(e->out, ',');
        encode_string(L, e, key_text(k), k->len);
        sb_putc(e->out, ':');
        e->path[d] = (path_step){0, 0, key_text(k), k->len};
        if (k->s) {
            lua_pushlstring(L, k->s, k->len);
            lua_rawget(L, idx);
        } else {
            lua_rawgeti(L, idx, k->ikey);
        }
        encode_value(L, e, -1);
        lua_pop(L, 1);
    }
    sb_putc(e->out, '}');
}

static void encode_table(lua_State *L, encoder *e, int idx)
{
    int kind = forced_kind(L, e, idx);
    size_t nint = 0, nstr = 0;
    lua_Integer max = 0, packed = -1; /* packed: an integer under the key "n", else -1 */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        if (kt == LUA_TNUMBER && lua_isinteger(L, -2) && lua_tointeger(L, -2) > 0) {
            lua_Integer k = lua_tointeger(L, -2);
            nint++;
            if (k > max)
                max = k;
        } else if (kt == LUA_TSTRING) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen);
            nstr++;
            if (klen == 1 && k[0] == 'n' && lua_isinteger(L, -1))
                packed = lua_tointeger(L, -1);
        } else {
            lua_settop(L, idx);
            fail(L, e, "the table at %s has a key of type %s (JSON keys are strings; "
                       "arrays use the integer keys 1..n)",
                 kt == LUA_TNUMBER ? "number (not a positive integer)" : lua_typename(L, kt));
        }
        lua_pop(L, 1);
    }
    /* table.pack's {v1, nil, v3, n = 3}: the count says where the list ends, its nils are null */
    if (kind != 2 && nint && nstr == 1 && packed >= max) {
        kind = 1;
        nstr = 0;
        max = packed;
    }
    if (kind == 0) {
        if (nint && nstr)
            fail(L, e, "the table at %s mixes integer and string keys%s "
                       "(set a metatable with __jsontype = 'object' to encode it as an object)", "");
        kind = (nint && !nstr) ? 1 : 2;
    }
    if (kind == 1) {
        if (nstr)
            fail(L, e, "the table at %s is marked as an array but has string keys%s", "");
        /* Holes become null, but a handful of huge indexes is a mistake, not an array. */
        if ((lua_Integer)nint != max && max > 2 * (lua_Integer)nint + 8) {
            char detail[96];
            snprintf(detail, sizeof detail, "%zu elements, highest index %lld", nint, (long long)max);
            fail(L, e, "the table at %s is too sparse to be an array (%s); use core.null for holes", detail);
        }
    }
    enter(L, e, idx);
    if (kind == 1) {
        encode_array(L, e, idx, max);
    } else {
        encode_object(L, e, idx, nint + nstr);
    }
    e->depth--;
}

static void encode_value(lua_State *L, encoder *e, int idx)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        sb_puts(e->out, "null");
        break;
    case LUA_TBOOLEAN:
        sb_puts(e->out, lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        encode_number(L, e, idx);
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        encode_string(L, e, s, len);
        break;
    }
    case LUA_TTABLE:
        encode_table(L, e, idx);
        break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == JSON_NULL) {
            sb_puts(e->out, "null");
            break;
        }
        /* fall through */
    default:
        fail(L, e, "cannot encode the value at %s: a %s has no JSON form", luaL_typename(L, idx));
    }
    out_of_memory(L, e);
}

static int encode_protected(lua_State *L)
{
    encoder *e = lua_touserdata(L, 2);
    int push_text = lua_toboolean(L, 3);
    encode_value(L, e, 1);
    if (push_text)
        lua_pushlstring(L, e->out->data ? e->out->data : "", e->out->len);
    return push_text;
}

/* Encodes the value at idx into out inside a protected call: on failure out is cut back to
 * what it held and the message is left on the stack. */
static int run_encoder(lua_State *L, int idx, strbuf *out, const char *root, int push_text)
{
    idx = lua_absindex(L, idx);
    size_t mark = out->len;
    encoder *e = calloc(1, sizeof *e);
    if (!e) {
        lua_pushstring(L, "json_encode: out of memory");
        return 0;
    }
    e->out = out;
    e->root = root ? root : "$";
    e->who = root ? "" : "json_encode: ";
    lua_pushcfunction(L, encode_protected);
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, e);
    lua_pushboolean(L, push_text);
    int status = lua_pcall(L, 3, push_text, 0);
    free_encoder(e);
    free(e);
    if (status != LUA_OK && out->data && !out->failed) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return status == LUA_OK;
}

int aws_json_write_value(lua_State *L, int idx, strbuf *out, const char *root)
{
    return run_encoder(L, idx, out, root, 0);
}

static int encode(lua_State *L)
{
    lua_settop(L, 1);
    return aws_json_encode_value(L, 1);
}

int aws_json_encode_value(lua_State *L, int idx)
{
    strbuf text = STRBUF_INIT;
    int ok = run_encoder(L, idx, &text, NULL, 1);
    sb_free(&text);
    return ok;
}

static int l_json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    if (!encode(L))
        return lua_error(L);
    return 1;
}

static int l_json_encode_safe(lua_State *L)
{
    luaL_checkany(L, 1);
    if (encode(L))
        return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static void push_kind_mt(lua_State *L, const char *kind)
{
    lua_createtable(L, 0, 1);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "__jsontype");
}

void aws_open_json(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"json_decode", l_json_decode},
        {"json_decode_safe", l_json_decode_safe},
        {"json_encode", l_json_encode},
        {"json_encode_safe", l_json_encode_safe},
        {NULL, NULL},
    };
    luaL_setfuncs(L, functions, 0);
    lua_pushlightuserdata(L, JSON_NULL);
    lua_setfield(L, -2, "null");
    push_kind_mt(L, "array");
    lua_setfield(L, -2, "json_array_mt");
    push_kind_mt(L, "object");
    lua_setfield(L, -2, "json_object_mt");
}

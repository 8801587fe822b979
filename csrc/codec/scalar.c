/* The one scalar codec (scalar.h): Lua value -> scalar, scalar -> wire text, wire text -> scalar
 * -> Lua value, one table of rules per kind. */
#include "codec/scalar.h"

#include "codec/base64.h"
#include "codec/ljson.h"
#include "codec/number.h"
#include "codec/time.h"

#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2^63: the first double beyond int64_t (exactly representable, so the comparison is exact). */
#define INT64_LIMIT 9223372036854775808.0
/* 2^53: below it every whole double is an exact integer. */
#define EXACT_LIMIT 9007199254740992.0

aws_time_format aws_time_format_named(const char *name)
{
    if (!name)
        return AWS_TIME_DEFAULT;
    if (strcmp(name, "iso8601") == 0)
        return AWS_TIME_ISO8601;
    if (strcmp(name, "rfc822") == 0)
        return AWS_TIME_RFC822;
    if (strcmp(name, "unixTimestamp") == 0)
        return AWS_TIME_UNIX;
    return AWS_TIME_DEFAULT;
}

aws_time_format aws_scalar_time_format(const aws_scalar_type *t, aws_place place)
{
    if (t->time_format != AWS_TIME_DEFAULT)
        return t->time_format;
    switch (place) {
    case AWS_AT_JSON: return AWS_TIME_UNIX;
    case AWS_AT_HEADER: return AWS_TIME_RFC822;
    default: return AWS_TIME_ISO8601;
    }
}

const char *aws_kind_noun(aws_kind kind)
{
    switch (kind) {
    case AWS_T_STRING: return "a string";
    case AWS_T_INTEGER: return "an integer";
    case AWS_T_FLOAT: return "a number";
    case AWS_T_BOOLEAN: return "a boolean";
    case AWS_T_TIMESTAMP: return "a timestamp (epoch seconds or a date string)";
    case AWS_T_BLOB: return "a string of bytes (a blob)";
    case AWS_T_STRUCTURE: return "a structure (a table)";
    case AWS_T_LIST: return "a list";
    case AWS_T_MAP: return "a map (a table)";
    default: return "a value of a type the model knows";
    }
}

/* ---------------------------------------------------------------- from Lua */

static int whole_in_int64(double d, int64_t *out)
{
    if (!(d >= -INT64_LIMIT && d < INT64_LIMIT) || d != floor(d))
        return 0;
    *out = (int64_t)d;
    return 1;
}

static aws_scalar_status string_from_lua(lua_State *L, int idx, const aws_scalar_type *t, aws_scalar *out,
                                         strbuf *scratch)
{
    int lt = lua_type(L, idx);
    if (lt == LUA_TSTRING) {
        /* a jsonvalue given as a string is JSON text already */
        out->bytes = lua_tolstring(L, idx, &out->len);
        return AWS_SCALAR_OK;
    }
    if (!t->jsonvalue || (lt != LUA_TTABLE && lt != LUA_TNUMBER && lt != LUA_TBOOLEAN && lt != LUA_TLIGHTUSERDATA))
        return AWS_SCALAR_WRONG_TYPE;
    /* without a scratch buffer the text is only checked, in one freed at once */
    strbuf check = STRBUF_INIT, *text = scratch ? scratch : &check;
    sb_reset(text);
    int encoded = aws_json_write_value(L, idx, text, "$");
    int failed = text->failed;
    if (!encoded)
        lua_pop(L, 1);
    out->bytes = text->data ? text->data : "";
    out->len = text->len;
    if (!scratch) {
        sb_free(&check);
        out->bytes = NULL;
    }
    if (failed)
        luaL_error(L, "out of memory");
    return encoded ? AWS_SCALAR_OK : AWS_SCALAR_BAD_JSON;
}

aws_scalar_status aws_scalar_from_lua(lua_State *L, int idx, const aws_scalar_type *t, aws_scalar *out,
                                      strbuf *scratch)
{
    int lt = lua_type(L, idx);
    out->kind = t->kind;
    if (t->kind == AWS_T_STRING && lt == LUA_TSTRING) {
        /* the common case first, without clearing what a string does not use */
        out->bytes = lua_tolstring(L, idx, &out->len);
        return AWS_SCALAR_OK;
    }
    memset(out, 0, sizeof *out);
    out->kind = t->kind;
    switch (t->kind) {
    case AWS_T_STRING:
        return string_from_lua(L, idx, t, out, scratch);
    case AWS_T_BLOB:
        if (lt != LUA_TSTRING)
            return AWS_SCALAR_WRONG_TYPE;
        out->bytes = lua_tolstring(L, idx, &out->len);
        return AWS_SCALAR_OK;
    case AWS_T_INTEGER:
        if (lt != LUA_TNUMBER)
            return AWS_SCALAR_WRONG_TYPE;
        if (lua_isinteger(L, idx)) {
            out->integer = (int64_t)lua_tointeger(L, idx);
            return AWS_SCALAR_OK;
        }
        return whole_in_int64((double)lua_tonumber(L, idx), &out->integer) ? AWS_SCALAR_OK : AWS_SCALAR_NOT_INTEGRAL;
    case AWS_T_FLOAT:
        if (lt == LUA_TSTRING)
            return aws_special_double(lua_tostring(L, idx), &out->number) ? AWS_SCALAR_OK : AWS_SCALAR_WRONG_TYPE;
        if (lt != LUA_TNUMBER)
            return AWS_SCALAR_WRONG_TYPE;
        out->exact = lua_isinteger(L, idx);
        out->integer = out->exact ? (int64_t)lua_tointeger(L, idx) : 0;
        out->number = (double)lua_tonumber(L, idx);
        return AWS_SCALAR_OK;
    case AWS_T_BOOLEAN:
        if (lt != LUA_TBOOLEAN)
            return AWS_SCALAR_WRONG_TYPE;
        out->boolean = lua_toboolean(L, idx);
        return AWS_SCALAR_OK;
    case AWS_T_TIMESTAMP:
        if (lt == LUA_TNUMBER) {
            out->number = (double)lua_tonumber(L, idx);
            return aws_time_in_range(out->number) ? AWS_SCALAR_OK : AWS_SCALAR_BAD_TIME;
        }
        if (lt == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            return aws_time_parse(s, len, &out->number) ? AWS_SCALAR_OK : AWS_SCALAR_BAD_TIME;
        }
        return AWS_SCALAR_WRONG_TYPE;
    default:
        return AWS_SCALAR_NOT_SCALAR;
    }
}

const char *aws_scalar_push_mismatch(lua_State *L, int idx, const aws_scalar_type *t, aws_scalar_status why)
{
    const char *noun = t->kind == AWS_T_STRING && t->jsonvalue ? "a string or a JSON value" : aws_kind_noun(t->kind);
    switch (why) {
    case AWS_SCALAR_NOT_INTEGRAL:
        return lua_pushfstring(L, "%s, got %f (a fraction or beyond 64 bits)", noun, (LUAI_UACNUMBER)lua_tonumber(L, idx));
    case AWS_SCALAR_BAD_TIME:
        return lua_pushfstring(L, "%s, got a %s that is no timestamp", noun, luaL_typename(L, idx));
    case AWS_SCALAR_BAD_JSON: {
        /* the encoder said why the first time; ask again for its words */
        strbuf discard = STRBUF_INIT;
        int ok = aws_json_write_value(L, idx, &discard, "$");
        sb_free(&discard);
        if (ok)
            lua_pushliteral(L, "?");
        const char *detail = lua_pushfstring(L, "%s, got a %s JSON cannot encode (%s)", noun, luaL_typename(L, idx),
                                             lua_tostring(L, -1));
        lua_remove(L, -2);
        return detail;
    }
    case AWS_SCALAR_NOT_SCALAR:
        return lua_pushfstring(L, "%s (the model gives this member no scalar type)", noun);
    default:
        return lua_pushfstring(L, "%s, got %s", noun, luaL_typename(L, idx));
    }
}

/* ---------------------------------------------------------------- to text */

static int write_number(strbuf *out, const aws_scalar *v)
{
    char buf[40];
    int n = v->kind == AWS_T_INTEGER || v->exact ? aws_format_integer(buf, v->integer) : aws_format_double(buf, v->number);
    return sb_append(out, buf, (size_t)n);
}

static int write_timestamp(strbuf *out, double t, aws_time_format format)
{
    switch (format) {
    case AWS_TIME_UNIX: return aws_time_epoch(out, t);
    case AWS_TIME_RFC822: return aws_time_http(out, t);
    default: return aws_time_iso8601(out, t);
    }
}

int aws_scalar_write(strbuf *out, const aws_scalar *v, const aws_scalar_type *t, aws_place place)
{
    switch (v->kind) {
    case AWS_T_STRING:
        if (t->jsonvalue && place == AWS_AT_HEADER)
            return aws_base64_encode(out, v->bytes, v->len) && !out->failed;
        return sb_append(out, v->bytes, v->len);
    case AWS_T_BLOB:
        return aws_base64_encode(out, v->bytes, v->len) && !out->failed;
    case AWS_T_INTEGER:
    case AWS_T_FLOAT:
        return write_number(out, v);
    case AWS_T_BOOLEAN:
        return sb_puts(out, v->boolean ? "true" : "false");
    case AWS_T_TIMESTAMP:
        return write_timestamp(out, v->number, aws_scalar_time_format(t, place));
    default:
        return 1;
    }
}

int aws_scalar_json_bare(const aws_scalar *v, const aws_scalar_type *t)
{
    switch (v->kind) {
    case AWS_T_INTEGER:
    case AWS_T_BOOLEAN:
        return 1;
    case AWS_T_FLOAT:
        return v->exact || isfinite(v->number);
    case AWS_T_TIMESTAMP:
        return aws_scalar_time_format(t, AWS_AT_JSON) == AWS_TIME_UNIX;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- from text */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *len)
{
    while (*len && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space((*s)[*len - 1]))
        (*len)--;
}

/* Reads number text (at most 64 bytes but for white space) as kind INTEGER or FLOAT. */
static int parse_number(aws_kind kind, const char *s, size_t len, aws_scalar *out)
{
    trim(&s, &len);
    if (len == 0 || len > 64)
        return 0;
    char num[65];
    memcpy(num, s, len);
    num[len] = '\0';
    char *end;
    if (kind == AWS_T_FLOAT) {
        if (!aws_special_double(num, &out->number)) {
            out->number = strtod(num, &end);
            if (*end != '\0')
                return 0;
        }
        return 1;
    }
    errno = 0;
    long long v = strtoll(num, &end, 10);
    if (*end == '\0' && errno == 0) {
        out->integer = (int64_t)v;
        return 1;
    }
    double d = strtod(num, &end);
    return *end == '\0' && whole_in_int64(d, &out->integer);
}

/* Base64 text decoded into scratch; text that is not base64 stays as it came. */
static int parse_base64(const char *s, size_t len, aws_scalar *out, strbuf *scratch)
{
    sb_reset(scratch);
    if (len && aws_base64_decode(scratch, s, len) && !scratch->failed) {
        out->bytes = scratch->data ? scratch->data : "";
        out->len = scratch->len;
        return 1;
    }
    if (scratch->failed)
        return -1;
    out->bytes = s;
    out->len = len;
    return 1;
}

int aws_scalar_parse(const aws_scalar_type *t, aws_place place, const char *s, size_t len, aws_scalar *out,
                     strbuf *scratch)
{
    memset(out, 0, sizeof *out);
    out->kind = t->kind;
    switch (t->kind) {
    case AWS_T_STRING:
        if (t->jsonvalue && place == AWS_AT_HEADER)
            return parse_base64(s, len, out, scratch);
        out->bytes = s;
        out->len = len;
        return 1;
    case AWS_T_BLOB:
        return parse_base64(s, len, out, scratch);
    case AWS_T_INTEGER:
    case AWS_T_FLOAT:
        return parse_number(t->kind, s, len, out);
    case AWS_T_BOOLEAN:
        trim(&s, &len);
        if (len == 4 && memcmp(s, "true", 4) == 0)
            out->boolean = 1;
        else if (!(len == 5 && memcmp(s, "false", 5) == 0))
            return 0;
        return 1;
    case AWS_T_TIMESTAMP:
        return aws_time_parse(s, len, &out->number);
    default:
        return 0;
    }
}

int aws_scalar_from_number(aws_kind kind, double d, aws_scalar *out)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->number = d;
    if (kind == AWS_T_INTEGER)
        return whole_in_int64(d, &out->integer);
    return kind == AWS_T_FLOAT || kind == AWS_T_TIMESTAMP;
}

void aws_scalar_push(lua_State *L, const aws_scalar *v)
{
    switch (v->kind) {
    case AWS_T_STRING:
    case AWS_T_BLOB:
        lua_pushlstring(L, v->bytes ? v->bytes : "", v->len);
        return;
    case AWS_T_INTEGER:
        lua_pushinteger(L, (lua_Integer)v->integer);
        return;
    case AWS_T_FLOAT:
        lua_pushnumber(L, (lua_Number)v->number);
        return;
    case AWS_T_BOOLEAN:
        lua_pushboolean(L, v->boolean);
        return;
    case AWS_T_TIMESTAMP:
        if (v->number == floor(v->number) && fabs(v->number) < EXACT_LIMIT)
            lua_pushinteger(L, (lua_Integer)v->number);
        else
            lua_pushnumber(L, (lua_Number)v->number);
        return;
    default:
        lua_pushnil(L);
    }
}

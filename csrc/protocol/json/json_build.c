/* Lua parameters -> JSON text, guided by the input shape (json and rest-json bodies).
 *
 * The body is written straight into a strbuf, with no tree in between: the strings, numbers
 * and untyped values (documents, jsonvalues) go through the pieces of the one JSON encoder
 * (codec/ljson.h), scalars through the one scalar codec (codec/scalar.h). Structure members
 * come in model order, map keys sorted (or in the order a __pairs metamethod gives), as the XML
 * and query bodies write them.
 *
 * Every buffer belongs to an aws_guard, so a Lua error raised midway (a wrong type, out of
 * memory, the idempotency-token callback) frees it instead of leaking it. */
#include "protocol/json/json.h"

#include "codec/ljson.h"

#include <stdio.h>
#include <string.h>

/* Deeper than any AWS shape; a cyclic Lua table would otherwise recurse until the C stack ends. */
#define JSON_BUILD_MAX_DEPTH 256

typedef struct jwriter {
    lua_State *L;
    const aws_model *m;
    aws_guard *g;
    int opts;
    strbuf *out;  /* the body */
    strbuf *path; /* "params.a.b[2]": where the writer stands, for error messages */
    int depth;
} jwriter;

static const char *where(const jwriter *w)
{
    return w->path->data ? w->path->data : "params";
}

static void check_memory(jwriter *w)
{
    if (w->out->failed || w->path->failed || w->g->scratch.failed)
        aws_raise_oom(w->L, "build_request");
}

/* The path of a runaway nesting is a few kilobytes of ".a.a.a": name its start only. */
static void too_deep(jwriter *w)
{
    lua_pushlstring(w->L, where(w), w->path->len > 80 ? 80 : w->path->len);
    aws_raise_serialization(w->L, "%s...: nested deeper than %d levels (a table that contains itself?)",
                            lua_tostring(w->L, -1), JSON_BUILD_MAX_DEPTH);
}

static void write_string(jwriter *w, const char *s, size_t len)
{
    size_t bad_at;
    if (!aws_json_write_string(w->out, s, len, &bad_at))
        aws_raise_serialization(w->L, "%s: the string is not valid UTF-8 (at byte %d); send bytes as a blob",
                                where(w), (int)bad_at);
}

/* A comma before every item or member but the first. */
static void separate(jwriter *w, int *first)
{
    if (!*first)
        sb_putc(w->out, ',');
    *first = 0;
}

static void write_key(jwriter *w, const char *key, size_t len, int *first)
{
    separate(w, first);
    write_string(w, key, len);
    sb_putc(w->out, ':');
}

/* An untyped value (a document) as core.json_encode writes it. */
static void write_document(jwriter *w, int idx)
{
    if (!aws_json_write_value(w->L, idx, w->out, where(w)))
        aws_raise_serialization(w->L, "%s", lua_tostring(w->L, -1));
}

static void write_value(jwriter *w, const cJSON *ref, int idx);

/* A structure's members; `skip_located` leaves out the members rest-json sends elsewhere. */
static void write_members(jwriter *w, const cJSON *shape, int idx, int skip_located)
{
    lua_State *L = w->L;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    size_t mark = w->path->len;
    int first = 1;
    sb_putc(w->out, '{');
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string || (skip_located && aws_model_trait_string(w->m, mem, "location")))
            continue;
        if (!aws_push_member_param(L, mem, idx, w->opts))
            continue;
        const char *wire = aws_member_wire_name(w->m, mem);
        write_key(w, wire, strlen(wire), &first);
        aws_path_push_key(w->path, mem->string, strlen(mem->string));
        write_value(w, mem, lua_gettop(L));
        aws_path_cut(w->path, mark);
        lua_pop(L, 1);
    }
    sb_putc(w->out, '}');
}

/* Items that are nil or core.null are left out, as unset members are. */
static void write_list(jwriter *w, const cJSON *shape, int idx)
{
    int first = 1;
    size_t mark = w->path->len;
    sb_putc(w->out, '[');
    for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(w->L, idx); i <= n; i++) {
        lua_rawgeti(w->L, idx, i);
        if (!aws_param_unset(w->L, -1)) {
            separate(w, &first);
            aws_path_push_index(w->path, i);
            write_value(w, cJSON_GetObjectItemCaseSensitive(shape, "member"), lua_gettop(w->L));
            aws_path_cut(w->path, mark);
        }
        lua_pop(w->L, 1);
    }
    sb_putc(w->out, ']');
}

static void write_map(jwriter *w, const cJSON *shape, int idx)
{
    lua_State *L = w->L;
    aws_guard *g = w->g;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(shape, "value");
    int held;
    size_t first_key = aws_map_keys(L, g, idx, where(w), &held);
    size_t mark = w->path->len;
    int first = 1;
    sb_putc(w->out, '{');
    for (size_t k = first_key; k < g->nkeys; k++) {
        aws_map_key key = g->keys[k]; /* a nested map may move the array */
        lua_pushlstring(L, key.s, key.len);
        lua_gettable(L, idx);
        if (!aws_param_unset(L, -1)) {
            write_key(w, key.s, key.len, &first);
            aws_path_push_key(w->path, key.s, key.len);
            write_value(w, value, lua_gettop(L));
            aws_path_cut(w->path, mark);
        }
        lua_pop(L, 1);
    }
    sb_putc(w->out, '}');
    g->nkeys = first_key;
    lua_pop(L, held);
}

static void write_scalar(jwriter *w, const cJSON *ref, aws_kind kind, const char *type, int idx)
{
    lua_State *L = w->L;
    aws_scalar_type t = aws_body_scalar_type(L, w->m, ref, kind, idx);
    aws_scalar v;
    aws_scalar_status st = aws_scalar_from_lua(L, idx, &t, &v, &w->g->scratch);
    if (st == AWS_SCALAR_NOT_SCALAR)
        aws_raise_serialization(L, "%s: the model's type '%s' is unknown", where(w), type);
    if (st != AWS_SCALAR_OK)
        aws_raise_mismatch(L, where(w), idx, &t, st);
    if (v.kind == AWS_T_STRING) {
        write_string(w, v.bytes, v.len);
    } else if (aws_scalar_json_bare(&v, &t)) {
        aws_scalar_write(w->out, &v, &t, AWS_AT_JSON);
    } else {
        /* blobs, dates and the special floats travel as JSON strings */
        strbuf *text = &w->g->scratch;
        sb_reset(text);
        aws_scalar_write(text, &v, &t, AWS_AT_JSON);
        check_memory(w);
        write_string(w, text->data ? text->data : "", text->len);
    }
}

static void write_value(jwriter *w, const cJSON *ref, int idx)
{
    lua_State *L = w->L;
    const cJSON *shape = aws_model_resolve(w->m, ref);
    const char *type = aws_shape_type(shape);
    if (!type)
        aws_raise_serialization(L, "%s: the model's shape for this member is missing", where(w));
    if (++w->depth > JSON_BUILD_MAX_DEPTH)
        too_deep(w);
    luaL_checkstack(L, 8, "build_request: nesting too deep");
    aws_kind kind = aws_kind_of(type);
    if (kind == AWS_T_STRUCTURE && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"))) {
        write_document(w, idx);
    } else if (kind == AWS_T_STRUCTURE || kind == AWS_T_LIST || kind == AWS_T_MAP) {
        if (!lua_istable(L, idx))
            aws_raise_serialization(L, "%s: expected %s, got %s", where(w), aws_kind_noun(kind), luaL_typename(L, idx));
        if (kind == AWS_T_STRUCTURE)
            write_members(w, shape, idx, 0);
        else if (kind == AWS_T_LIST)
            write_list(w, shape, idx);
        else
            write_map(w, shape, idx);
    } else {
        write_scalar(w, ref, kind, type, idx);
    }
    check_memory(w);
    w->depth--;
}

/* ---------------------------------------------------------------- entry points */

static void start(jwriter *w, lua_State *L, const aws_model *m, int opts)
{
    w->L = L;
    w->m = m;
    w->g = aws_guard_push(L);
    w->opts = opts;
    w->out = &w->g->sb[0];
    w->path = &w->g->sb[1];
    w->depth = 0;
    sb_puts(w->path, "params");
}

/* Replaces the guard on the stack top with the body's text. */
static void finish(jwriter *w)
{
    check_memory(w);
    lua_pushlstring(w->L, w->out->data ? w->out->data : "", w->out->len);
    aws_guard_release(w->g);
    lua_remove(w->L, -2);
}

void aws_json_push_body(lua_State *L, const aws_model *m, const cJSON *shape, int params, int opts, int skip_located)
{
    jwriter w;
    start(&w, L, m, opts);
    if (shape)
        write_members(&w, shape, params, skip_located);
    else
        sb_puts(w.out, "{}");
    finish(&w);
}

void aws_json_push_value(lua_State *L, const aws_model *m, const cJSON *ref, int idx, int opts, const char *path)
{
    jwriter w;
    start(&w, L, m, opts);
    aws_path_push_key(w.path, path, strlen(path));
    write_value(&w, ref, idx);
    finish(&w);
}

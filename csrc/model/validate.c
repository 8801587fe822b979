/* Parameter validation against the operation's input shape, before any I/O.
 *
 * core.validate(operation, params) (a handle from core.operation; core.validate(model, name, params)
 * works too) returns nil when params fit, else an error table:
 * the single problem (MissingRequiredParameter, UnexpectedParameter, InvalidParameterType,
 * InvalidParameter) or MultipleValidationErrors whose `errors` lists them all. Each message
 * names the member by path: params.Item.id.S, params.Tags[2].Key, params.Map['odd key']. */
#include "model/validate.h"

#include "core/error.h"
#include "model/model.h"
#include "model/operation.h"
#include "model/shape.h"

#include <ctype.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

/* Where a value sits: params, a member, a map entry or a list item. Built on the C stack as the
 * walk descends and turned into text ("params.Tags[2].Key") only when a problem names it, so a
 * call whose params fit makes no strings. */
typedef struct value_path {
    const struct value_path *parent; /* NULL for params itself */
    const char *name;                /* a member or map key (NULL for a list item) */
    size_t len;
    lua_Integer index;               /* a list item's position */
} value_path;

typedef struct validation {
    lua_State *L;
    const aws_model *m;
    int errors;   /* stack index of the list of problems */
    int count;
} validation;

static int is_identifier(const char *s, size_t len)
{
    if (len == 0 || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

/* Adds path to the buffer: "params", then ".name", "['odd key']" or "[i]" per step. */
static void add_path(luaL_Buffer *b, const value_path *path)
{
    if (!path->parent) {
        luaL_addstring(b, "params");
        return;
    }
    add_path(b, path->parent);
    if (!path->name) {
        char index[32];
        snprintf(index, sizeof index, "[%lld]", (long long)path->index);
        luaL_addstring(b, index);
    } else if (is_identifier(path->name, path->len)) {
        luaL_addchar(b, '.');
        luaL_addlstring(b, path->name, path->len);
    } else {
        luaL_addstring(b, "['");
        luaL_addlstring(b, path->name, path->len);
        luaL_addstring(b, "']");
    }
}

/* Records one problem of kind `code`: the message is fmt with the path's text for its "%P"
 * (at most one) and `name` for its "%s" (at most one, which comes first when both do). */
static void problem(validation *v, const char *code, const value_path *path, const char *fmt, const char *name)
{
    lua_State *L = v->L;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *c = fmt; *c; c++) {
        if (c[0] == '%' && c[1] == 'P') {
            add_path(&b, path);
            c++;
        } else if (c[0] == '%' && c[1] == 's') {
            luaL_addstring(&b, name);
            c++;
        } else {
            luaL_addchar(&b, *c);
        }
    }
    luaL_pushresult(&b);
    aws_push_error(L, code, lua_tostring(L, -1));
    lua_rawseti(L, v->errors, ++v->count);
    lua_pop(L, 1);
}

/* A field n equal to the length, as table.pack and AWS.Promise.all leave, is allowed (lua_next's
 * key and value on top). */
static int is_length_field(lua_State *L, lua_Integer len)
{
    if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "n") != 0)
        return 0;
    return lua_isinteger(L, -1) && lua_tointeger(L, -1) == len;
}

/* A list is keys 1..#t and nothing else, but for that n. */
static int is_sequence(lua_State *L, int idx, lua_Integer *n)
{
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (is_length_field(L, len)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER || !lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        lua_Integer k = lua_tointeger(L, -1);
        if (k < 1 || k > len) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    *n = len;
    return count == len;
}

static void check_value(validation *v, const cJSON *member, int value, const value_path *path, int depth);
static void check_resolved(validation *v, const cJSON *member, const cJSON *shape, aws_kind kind,
                           const aws_scalar_type *scalar, int value, const value_path *path, int depth);

static int has_crlf(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return memchr(s, '\r', len) || memchr(s, '\n', len);
}

/* What checks one entry of the structure or map at `path`: `node` is the structure's shape or
 * the map's value reference; the entry's value sits at `child`, its path is `child_path`. */
typedef void (*entry_check)(validation *v, const cJSON *node, const char *name, const value_path *path, int child,
                            const value_path *child_path, int depth);

/* Runs `check` on every entry of the table at value whose key is a string; any other key is a
 * problem of kind `code` described by `bad_key` (a message whose %P is the table's path). */
static void check_entries(validation *v, int value, const value_path *path, const char *code, const char *bad_key,
                          entry_check check, const cJSON *node, int depth)
{
    lua_State *L = v->L;
    lua_pushnil(L);
    while (lua_next(L, value)) {
        int child = lua_gettop(L);
        if (lua_type(L, -2) != LUA_TSTRING) {
            problem(v, code, path, bad_key, NULL);
        } else {
            value_path child_path = {path, NULL, 0, 0};
            child_path.name = lua_tolstring(L, -2, &child_path.len);
            check(v, node, child_path.name, path, child, &child_path, depth);
        }
        lua_settop(L, child - 1);
    }
}

/* A structure's members by name (open addressing, at most half full), worked out on first use
 * and kept with the model: S3's inputs have dozens of members, a call names a few. */
enum { MEMO_VALIDATE_MEMBERS = 0x56410001 };

typedef struct member_slot {
    const cJSON *member; /* NULL for a free slot */
    size_t len;
    int header; /* location "header": a value with CR or LF is refused */
    const cJSON *shape; /* the member resolved, and what check_value would work out from it */
    aws_kind kind;
    aws_scalar_type scalar;
} member_slot;

typedef struct member_index {
    size_t mask;
    member_slot slots[];
} member_index;

static size_t name_hash(const char *s, size_t len)
{
    size_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Fills a fresh index (all slots free) with the structure's members. */
static void index_members(const aws_model *m, const cJSON *members, member_index *index)
{
    for (const cJSON *c = members ? members->child : NULL; c; c = c->next) {
        if (!c->string)
            continue;
        size_t len = strlen(c->string), i = name_hash(c->string, len) & index->mask;
        while (index->slots[i].member)
            i = (i + 1) & index->mask;
        const char *location = aws_model_trait_string(m, c, "location");
        const cJSON *resolved = aws_model_resolve(m, c);
        index->slots[i] = (member_slot){c, len, location && strcmp(location, "header") == 0, resolved,
                                        aws_kind_of(resolved ? aws_shape_type(resolved) : NULL),
                                        aws_member_scalar_type(m, c)};
    }
}

static const member_index *members_of(validation *v, const cJSON *shape)
{
    member_index *index = aws_model_memo_get(v->m, shape, MEMO_VALIDATE_MEMBERS);
    if (index)
        return index;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    size_t n = 0, cap = 4;
    for (const cJSON *c = members ? members->child : NULL; c; c = c->next)
        n++;
    while (cap < 2 * n)
        cap *= 2;
    index = calloc(1, sizeof *index + cap * sizeof *index->slots);
    if (index) {
        index->mask = cap - 1;
        index_members(v->m, members, index);
        if (aws_model_memo_put(v->m, shape, MEMO_VALIDATE_MEMBERS, index, free))
            return index;
        free(index);
    }
    aws_raise_oom(v->L, "validate");
    return NULL;
}

/* The first member of that name, as cJSON's lookup finds it; NULL when the shape has none. */
static const member_slot *member_named(const member_index *index, const char *name, size_t len)
{
    for (size_t i = name_hash(name, len) & index->mask; index->slots[i].member; i = (i + 1) & index->mask) {
        const member_slot *slot = &index->slots[i];
        if (slot->len == len && memcmp(slot->member->string, name, len) == 0)
            return slot;
    }
    return NULL;
}

static void check_member(validation *v, const cJSON *shape, const char *name, const value_path *path, int child,
                         const value_path *child_path, int depth)
{
    lua_State *L = v->L;
    const member_slot *slot = member_named(members_of(v, shape), name, child_path->len);
    if (!slot) {
        problem(v, "UnexpectedParameter", path, "Unexpected key '%s' found in %P", name);
        return;
    }
    if (slot->header && lua_type(L, child) == LUA_TSTRING && has_crlf(L, child)) {
        problem(v, "InvalidParameter", child_path, "%P must not contain CR or LF (it is sent as an HTTP header)", NULL);
        return;
    }
    check_resolved(v, slot->member, slot->shape, slot->kind, &slot->scalar, child, child_path, depth + 1);
}

static void check_map_value(validation *v, const cJSON *value_ref, const char *name, const value_path *path,
                            int child, const value_path *child_path, int depth)
{
    (void)name;
    (void)path;
    check_value(v, value_ref, child, child_path, depth + 1);
}

static void check_structure(validation *v, const cJSON *shape, int value, const value_path *path, int depth)
{
    lua_State *L = v->L;
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(shape, "required");
    for (const cJSON *r = required ? required->child : NULL; r; r = r->next) {
        if (!cJSON_IsString(r))
            continue;
        lua_getfield(L, value, r->valuestring);
        int missing = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (missing)
            problem(v, "MissingRequiredParameter", path, "Missing required key '%s' in %P", r->valuestring);
    }
    check_entries(v, value, path, "UnexpectedParameter", "%P has a key that is not a string", check_member, shape,
                  depth);
}

static void type_problem(validation *v, const value_path *path, const char *expected)
{
    problem(v, "InvalidParameterType", path, "Expected %P to be %s", expected);
}

/* A streaming blob (putObject's Body) may also be a file handle or a reader function: the
 * request layer turns either into the engine's bodyReader. */
static int is_body_source(validation *v, const cJSON *member, int value)
{
    lua_State *L = v->L;
    int t = lua_type(L, value);
    if (t != LUA_TFUNCTION && !(t == LUA_TUSERDATA && luaL_testudata(L, value, LUA_FILEHANDLE)))
        return 0;
    return aws_model_trait_bool(v->m, member, "streaming");
}

/* A scalar by the scalar codec's one rule, the same the protocols build with; `known` is the
 * member's scalar type when worked out already. */
static void check_scalar(validation *v, const cJSON *member, const aws_scalar_type *known, int value,
                         const value_path *path)
{
    lua_State *L = v->L;
    if (is_body_source(v, member, value))
        return;
    aws_scalar_type t = known ? *known : aws_member_scalar_type(v->m, member);
    aws_scalar s;
    aws_scalar_status st = aws_scalar_from_lua(L, value, &t, &s, NULL);
    if (st == AWS_SCALAR_OK || st == AWS_SCALAR_NOT_SCALAR)
        return;
    type_problem(v, path, aws_scalar_push_mismatch(L, value, &t, st));
    lua_pop(L, 1);
}

/* The value of `member`, whose resolved shape and kind are known (its scalar type too when
 * `scalar` is not NULL). */
static void check_resolved(validation *v, const cJSON *member, const cJSON *shape, aws_kind kind,
                           const aws_scalar_type *scalar, int value, const value_path *path, int depth)
{
    lua_State *L = v->L;
    if (depth > MAX_DEPTH) {
        problem(v, "InvalidParameter", path, "%P nests too deeply (a cycle?)", NULL);
        return;
    }
    if (!lua_checkstack(L, 8))
        luaL_error(L, "validate: out of stack space");
    int t = lua_type(L, value);
    lua_Integer n;
    if (kind == AWS_T_STRUCTURE && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"))) {
        return; /* any JSON value: the encoder refuses what JSON cannot hold, naming the place */
    } else if ((kind == AWS_T_STRUCTURE || kind == AWS_T_MAP) && t != LUA_TTABLE) {
        type_problem(v, path, aws_kind_noun(kind));
    } else if (kind == AWS_T_LIST && (t != LUA_TTABLE || !is_sequence(L, value, &n))) {
        type_problem(v, path, "a list (a sequence table)");
    } else if (kind == AWS_T_STRUCTURE) {
        check_structure(v, shape, value, path, depth);
    } else if (kind == AWS_T_MAP) {
        check_entries(v, value, path, "InvalidParameterType", "Expected the keys of %P to be strings",
                      check_map_value, cJSON_GetObjectItemCaseSensitive(shape, "value"), depth);
    } else if (kind == AWS_T_LIST) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
        for (lua_Integer i = 1; i <= n; i++) {
            value_path item_path = {path, NULL, 0, i};
            lua_rawgeti(L, value, i);
            check_value(v, item, lua_gettop(L), &item_path, depth + 1);
            lua_pop(L, 1);
        }
    } else {
        check_scalar(v, member, scalar, value, path);
    }
}

static void check_value(validation *v, const cJSON *member, int value, const value_path *path, int depth)
{
    const cJSON *shape = aws_model_resolve(v->m, member);
    check_resolved(v, member, shape, aws_kind_of(shape ? aws_shape_type(shape) : NULL), NULL, value, path, depth);
}

static int l_validate(lua_State *L)
{
    const aws_model *m;
    const char *name;
    int params;
    const cJSON *op = aws_operation_args(L, 1, &m, &name, &params);
    if (!op)
        return luaL_error(L, "validate: the model has no operation named '%s'", name);
    lua_settop(L, params);
    const cJSON *input = aws_operation_input(op);
    if (lua_isnil(L, params)) {
        lua_newtable(L);
        lua_replace(L, params);
    }
    validation v = {L, m, 0, 0};
    lua_newtable(L);
    v.errors = lua_gettop(L);
    const value_path path = {NULL, NULL, 0, 0};
    if (input) {
        check_value(&v, input, params, &path, 0);
    } else if (lua_type(L, params) != LUA_TTABLE) {
        type_problem(&v, &path, "a table");
    } else {
        lua_pushnil(L);
        if (lua_next(L, params)) {
            lua_pop(L, 2);
            problem(&v, "UnexpectedParameter", &path, "%P must be empty: the operation takes no input", NULL);
        }
    }
    if (v.count == 0)
        return 0;
    if (v.count == 1) {
        lua_rawgeti(L, v.errors, 1);
        return 1;
    }
    lua_pushfstring(L, "%d validation errors:", v.count);
    for (int i = 1; i <= v.count; i++) {
        lua_rawgeti(L, v.errors, i);
        lua_getfield(L, -1, "message");
        lua_remove(L, -2);
        lua_pushliteral(L, "\n* ");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
    int message = lua_gettop(L);
    aws_push_error(L, "MultipleValidationErrors", lua_tostring(L, message));
    lua_pushvalue(L, v.errors);
    lua_setfield(L, -2, "errors");
    return 1;
}

void aws_open_validate(lua_State *L)
{
    lua_pushcfunction(L, l_validate);
    lua_setfield(L, -2, "validate");
}

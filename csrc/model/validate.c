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
#include <string.h>

#define MAX_DEPTH 64

typedef struct validation {
    lua_State *L;
    const aws_model *m;
    int errors;   /* stack index of the list of problems */
    int count;
} validation;

/* Records one problem; its message is on the stack top (popped). */
static void problem(validation *v, const char *code)
{
    lua_State *L = v->L;
    aws_push_error(L, code, lua_tostring(L, -1));
    lua_rawseti(L, v->errors, ++v->count);
    lua_pop(L, 1);
}

#define PATH(idx) lua_tostring(L, (idx))

static int is_identifier(const char *s, size_t len)
{
    if (len == 0 || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

/* Pushes path .. "." .. name, or path .. "['name']" for names that are not identifiers. */
static void push_child_path(lua_State *L, int path, const char *name, size_t len)
{
    if (is_identifier(name, len))
        lua_pushfstring(L, "%s.%s", lua_tostring(L, path), name);
    else
        lua_pushfstring(L, "%s['%s']", lua_tostring(L, path), name);
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

static void check_value(validation *v, const cJSON *member, int value, int path, int depth);

static int has_crlf(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return memchr(s, '\r', len) || memchr(s, '\n', len);
}

/* What checks one entry of the structure or map whose path is at `path`: `node` is the
 * structure's shape or the map's value reference; the entry's value and path sit at `child` and
 * `child_path`. */
typedef void (*entry_check)(validation *v, const cJSON *node, const char *name, int path, int child, int child_path,
                            int depth);

/* Runs `check` on every entry of the table at value whose key is a string; any other key is a
 * problem of kind `code` described by `bad_key` (a format taking the table's path). */
static void check_entries(validation *v, int value, int path, const char *code, const char *bad_key, entry_check check,
                          const cJSON *node, int depth)
{
    lua_State *L = v->L;
    lua_pushnil(L);
    while (lua_next(L, value)) {
        int child = lua_gettop(L);
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pushfstring(L, bad_key, PATH(path));
            problem(v, code);
        } else {
            size_t len;
            const char *name = lua_tolstring(L, -2, &len);
            push_child_path(L, path, name, len);
            check(v, node, name, path, child, lua_gettop(L), depth);
        }
        lua_settop(L, child - 1);
    }
}

static void check_member(validation *v, const cJSON *shape, const char *name, int path, int child, int child_path,
                         int depth)
{
    lua_State *L = v->L;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(shape, "members"), name);
    if (!m) {
        lua_pushfstring(L, "Unexpected key '%s' found in %s", name, PATH(path));
        problem(v, "UnexpectedParameter");
        return;
    }
    const char *location = aws_model_trait_string(v->m, m, "location");
    if (location && strcmp(location, "header") == 0 && lua_type(L, child) == LUA_TSTRING && has_crlf(L, child)) {
        lua_pushfstring(L, "%s must not contain CR or LF (it is sent as an HTTP header)", PATH(child_path));
        problem(v, "InvalidParameter");
        return;
    }
    check_value(v, m, child, child_path, depth + 1);
}

static void check_map_value(validation *v, const cJSON *value_ref, const char *name, int path, int child,
                            int child_path, int depth)
{
    (void)name;
    (void)path;
    check_value(v, value_ref, child, child_path, depth + 1);
}

static void check_structure(validation *v, const cJSON *shape, int value, int path, int depth)
{
    lua_State *L = v->L;
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(shape, "required");
    for (const cJSON *r = required ? required->child : NULL; r; r = r->next) {
        if (!cJSON_IsString(r))
            continue;
        lua_getfield(L, value, r->valuestring);
        int missing = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (missing) {
            lua_pushfstring(L, "Missing required key '%s' in %s", r->valuestring, PATH(path));
            problem(v, "MissingRequiredParameter");
        }
    }
    check_entries(v, value, path, "UnexpectedParameter", "%s has a key that is not a string", check_member, shape,
                  depth);
}

static void type_problem(validation *v, int path, const char *expected)
{
    lua_State *L = v->L;
    lua_pushfstring(L, "Expected %s to be %s", PATH(path), expected);
    problem(v, "InvalidParameterType");
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

/* A scalar by the scalar codec's one rule, the same the protocols build with. */
static void check_scalar(validation *v, const cJSON *member, int value, int path)
{
    lua_State *L = v->L;
    if (is_body_source(v, member, value))
        return;
    aws_scalar_type t = aws_member_scalar_type(v->m, member);
    aws_scalar s;
    aws_scalar_status st = aws_scalar_from_lua(L, value, &t, &s, NULL);
    if (st == AWS_SCALAR_OK || st == AWS_SCALAR_NOT_SCALAR)
        return;
    type_problem(v, path, aws_scalar_push_mismatch(L, value, &t, st));
    lua_pop(L, 1);
}

static void check_value(validation *v, const cJSON *member, int value, int path, int depth)
{
    lua_State *L = v->L;
    if (depth > MAX_DEPTH) {
        lua_pushfstring(L, "%s nests too deeply (a cycle?)", PATH(path));
        problem(v, "InvalidParameter");
        return;
    }
    if (!lua_checkstack(L, 8))
        luaL_error(L, "validate: out of stack space");
    const cJSON *shape = aws_model_resolve(v->m, member);
    aws_kind kind = aws_kind_of(shape ? aws_shape_type(shape) : NULL);
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
        check_entries(v, value, path, "InvalidParameterType", "Expected the keys of %s to be strings",
                      check_map_value, cJSON_GetObjectItemCaseSensitive(shape, "value"), depth);
    } else if (kind == AWS_T_LIST) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, value, i);
            lua_pushfstring(L, "%s[%d]", lua_tostring(L, path), (int)i);
            check_value(v, item, lua_gettop(L) - 1, lua_gettop(L), depth + 1);
            lua_pop(L, 2);
        }
    } else {
        check_scalar(v, member, value, path);
    }
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
    lua_pushliteral(L, "params");
    int path = lua_gettop(L);
    if (input) {
        check_value(&v, input, params, path, 0);
    } else if (lua_type(L, params) != LUA_TTABLE) {
        type_problem(&v, path, "a table");
    } else {
        lua_pushnil(L);
        if (lua_next(L, params)) {
            lua_pop(L, 2);
            lua_pushfstring(L, "%s must be empty: the operation takes no input", PATH(path));
            problem(&v, "UnexpectedParameter");
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

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
#include <math.h>
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

static int is_sequence(lua_State *L, int idx, lua_Integer *n)
{
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
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

static void check_structure(validation *v, const cJSON *shape, int value, int path, int depth)
{
    lua_State *L = v->L;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
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
    lua_pushnil(L);
    while (lua_next(L, value)) {
        int child = lua_gettop(L);
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pushfstring(L, "%s has a key that is not a string", PATH(path));
            problem(v, "UnexpectedParameter");
            lua_pop(L, 1);
            continue;
        }
        size_t len;
        const char *name = lua_tolstring(L, -2, &len);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(members, name);
        push_child_path(L, path, name, len);
        int child_path = lua_gettop(L);
        if (!m) {
            lua_pushfstring(L, "Unexpected key '%s' found in %s", name, PATH(path));
            problem(v, "UnexpectedParameter");
        } else {
            const char *location = aws_model_trait_string(v->m, m, "location");
            if (location && (strcmp(location, "header") == 0) && lua_type(L, child) == LUA_TSTRING &&
                has_crlf(L, child)) {
                lua_pushfstring(L, "%s must not contain CR or LF (it is sent as an HTTP header)", PATH(child_path));
                problem(v, "InvalidParameter");
            } else {
                check_value(v, m, child, child_path, depth + 1);
            }
        }
        lua_settop(L, child - 1);
    }
}

static void type_problem(validation *v, int path, const char *expected)
{
    lua_State *L = v->L;
    lua_pushfstring(L, "Expected %s to be %s", PATH(path), expected);
    problem(v, "InvalidParameterType");
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
    const char *type = shape ? aws_shape_type(shape) : NULL;
    if (!type)
        return;
    int t = lua_type(L, value);
    if (strcmp(type, "structure") == 0) {
        if (t != LUA_TTABLE)
            type_problem(v, path, "a structure (a table)");
        else
            check_structure(v, shape, value, path, depth);
    } else if (strcmp(type, "list") == 0) {
        lua_Integer n;
        if (t != LUA_TTABLE || !is_sequence(L, value, &n)) {
            type_problem(v, path, "a list (a sequence table)");
            return;
        }
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, value, i);
            lua_pushfstring(L, "%s[%d]", lua_tostring(L, path), (int)i);
            check_value(v, item, lua_gettop(L) - 1, lua_gettop(L), depth + 1);
            lua_pop(L, 2);
        }
    } else if (strcmp(type, "map") == 0) {
        if (t != LUA_TTABLE) {
            type_problem(v, path, "a map (a table)");
            return;
        }
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(shape, "value");
        lua_pushnil(L);
        while (lua_next(L, value)) {
            int child = lua_gettop(L);
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pushfstring(L, "Expected the keys of %s to be strings", PATH(path));
                problem(v, "InvalidParameterType");
            } else {
                size_t len;
                const char *key = lua_tolstring(L, -2, &len);
                push_child_path(L, path, key, len);
                check_value(v, val, child, lua_gettop(L), depth + 1);
            }
            lua_settop(L, child - 1);
        }
    } else if (strcmp(type, "string") == 0) {
        if (t != LUA_TSTRING)
            type_problem(v, path, "a string");
    } else if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
        if (t != LUA_TNUMBER) {
            type_problem(v, path, "an integer");
        } else if (!lua_isinteger(L, value)) {
            lua_Number x = lua_tonumber(L, value);
            if (x != floor(x) || !isfinite(x))
                type_problem(v, path, "an integer (got a float with a fractional part)");
        }
    } else if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
        if (t != LUA_TNUMBER && !(t == LUA_TSTRING && (strcmp(lua_tostring(L, value), "NaN") == 0 ||
                                                       strcmp(lua_tostring(L, value), "Infinity") == 0 ||
                                                       strcmp(lua_tostring(L, value), "-Infinity") == 0)))
            type_problem(v, path, "a number");
    } else if (strcmp(type, "boolean") == 0) {
        if (t != LUA_TBOOLEAN)
            type_problem(v, path, "a boolean");
    } else if (strcmp(type, "timestamp") == 0) {
        if (t != LUA_TNUMBER && t != LUA_TSTRING)
            type_problem(v, path, "a timestamp (epoch seconds or an ISO 8601 string)");
    } else if (strcmp(type, "blob") == 0) {
        if (t != LUA_TSTRING)
            type_problem(v, path, "a string of bytes (a blob)");
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

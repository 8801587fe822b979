/* JSON text -> Lua values, guided by the output shape (json and rest-json responses).
 *
 * The cJSON tree lives in an aws_guard while it is converted, so a Lua error on the way (out of
 * memory, stack) frees it. Values the shape does not know are skipped (services add members
 * before SDKs learn them), JSON null is left out of structures, lists and maps, and a value of
 * the wrong JSON kind for its member is dropped rather than failing the whole response. */
#include "protocol/json/json.h"

#include "codec/ljson.h"

#include <stdlib.h>
#include <string.h>

#define JSON_PARSE_MAX_DEPTH 512

int aws_json_parse_guarded(aws_guard *g, const char *text, size_t len)
{
    cJSON_Delete(g->json);
    g->json = cJSON_ParseWithLength(text, len);
    return g->json != NULL;
}

static int blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static int push_value(lua_State *L, const aws_model *m, const cJSON *ref, const cJSON *node, aws_guard *g, int depth);

static int count_children(const cJSON *node)
{
    int n = 0;
    for (const cJSON *c = node->child; c && n < 1 << 20; c = c->next)
        n++;
    return n;
}

/* The member whose wire name is `key`. Most members have no locationName, so a match on the
 * member name is tried first; the full scan by wire name only when that fails. */
static const cJSON *find_member(const aws_model *m, const cJSON *members, const char *key)
{
    for (const cJSON *mem = members->child; mem; mem = mem->next)
        if (mem->string && mem->string[0] == key[0] && strcmp(mem->string, key) == 0) {
            if (strcmp(aws_member_wire_name(m, mem), key) == 0)
                return mem;
            break;
        }
    for (const cJSON *mem = members->child; mem; mem = mem->next)
        if (mem->string && strcmp(aws_member_wire_name(m, mem), key) == 0)
            return mem;
    return NULL;
}

static void set_members(lua_State *L, const aws_model *m, const cJSON *shape, const cJSON *obj, int target,
                        int skip_located, aws_guard *g, int depth)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    if (!members)
        return;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string || cJSON_IsNull(c))
            continue;
        const cJSON *mem = find_member(m, members, c->string);
        if (!mem || (skip_located && aws_rest_output_bound(m, mem)))
            continue;
        if (push_value(L, m, mem, c, g, depth + 1))
            lua_setfield(L, target, mem->string);
    }
}

/* A jsonvalue member may arrive as embedded JSON rather than as a string: it is handed over as
 * its text, held by the guard while Lua copies it in case the copy fails. */
static int push_embedded_json(lua_State *L, const cJSON *node, aws_guard *g)
{
    if (g->text)
        cJSON_free(g->text);
    g->text = cJSON_PrintUnformatted(node);
    if (!g->text)
        aws_raise_oom(L, "parse_response");
    lua_pushstring(L, g->text);
    cJSON_free(g->text);
    g->text = NULL;
    return 1;
}

/* A scalar through the scalar codec: strings as wire text, numbers and booleans as JSON has them. */
static int push_scalar(lua_State *L, aws_kind kind, const cJSON *node, aws_guard *g)
{
    aws_scalar v;
    int r = 0;
    if (cJSON_IsString(node)) {
        aws_scalar_type t = {kind, AWS_TIME_DEFAULT, 0};
        r = aws_scalar_parse(&t, AWS_AT_JSON, node->valuestring, strlen(node->valuestring), &v, &g->scratch);
    } else if (kind == AWS_T_STRING) {
        return cJSON_IsNull(node) || cJSON_IsInvalid(node) ? 0 : push_embedded_json(L, node, g);
    } else if (cJSON_IsNumber(node)) {
        r = aws_scalar_from_number(kind, node->valuedouble, &v);
    } else if (cJSON_IsBool(node) && kind == AWS_T_BOOLEAN) {
        memset(&v, 0, sizeof v);
        v.kind = AWS_T_BOOLEAN;
        v.boolean = cJSON_IsTrue(node);
        r = 1;
    }
    if (r < 0)
        aws_raise_oom(L, "parse_response");
    if (r > 0)
        aws_scalar_push(L, &v);
    return r > 0;
}

static int push_value(lua_State *L, const aws_model *m, const cJSON *ref, const cJSON *node, aws_guard *g, int depth)
{
    if (depth > JSON_PARSE_MAX_DEPTH)
        aws_raise_serialization(L, "the response JSON is nested deeper than %d levels", JSON_PARSE_MAX_DEPTH);
    luaL_checkstack(L, 4, "parse_response: nesting too deep");
    if (cJSON_IsNull(node))
        return 0;
    const cJSON *shape = aws_model_resolve(m, ref);
    aws_kind kind = aws_kind_of(aws_shape_type(shape));
    if (kind == AWS_T_STRUCTURE) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"))) {
            aws_json_push_untyped(L, node);
            return 1;
        }
        if (!cJSON_IsObject(node))
            return 0;
        lua_createtable(L, 0, count_children(node));
        set_members(L, m, shape, node, lua_gettop(L), 0, g, depth);
        return 1;
    }
    if (kind == AWS_T_LIST) {
        if (!cJSON_IsArray(node))
            return 0;
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
        lua_createtable(L, cJSON_GetArraySize(node), 0);
        lua_Integer i = 0;
        for (const cJSON *c = node->child; c; c = c->next)
            if (push_value(L, m, item, c, g, depth + 1))
                lua_rawseti(L, -2, ++i);
        return 1;
    }
    if (kind == AWS_T_MAP) {
        if (!cJSON_IsObject(node))
            return 0;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(shape, "value");
        lua_createtable(L, 0, count_children(node));
        for (const cJSON *c = node->child; c; c = c->next)
            if (c->string && push_value(L, m, value, c, g, depth + 1))
                lua_setfield(L, -2, c->string);
        return 1;
    }
    return push_scalar(L, kind, node, g);
}

int aws_json_push_node(lua_State *L, const aws_model *m, const cJSON *ref, const cJSON *node, aws_guard *g)
{
    return push_value(L, m, ref, node, g, 0);
}

void aws_json_set_members(lua_State *L, const aws_model *m, const cJSON *shape, const cJSON *obj, int target,
                          int skip_located, aws_guard *g)
{
    if (cJSON_IsObject(obj))
        set_members(L, m, shape, obj, lua_absindex(L, target), skip_located, g, 0);
}

int aws_json_read_members(lua_State *L, const aws_model *m, const cJSON *shape, const char *text, size_t len,
                          int target, int skip_located)
{
    if (blank(text, len))
        return 1;
    target = lua_absindex(L, target);
    aws_guard *g = aws_guard_push(L);
    if (!aws_json_parse_guarded(g, text, len)) {
        lua_pop(L, 1);
        return 0;
    }
    aws_json_set_members(L, m, shape, g->json, target, skip_located, g);
    aws_guard_release(g);
    lua_pop(L, 1);
    return 1;
}

int aws_json_read_value(lua_State *L, const aws_model *m, const cJSON *ref, const char *text, size_t len)
{
    aws_guard *g = aws_guard_push(L);
    if (!aws_json_parse_guarded(g, text, len)) {
        lua_pop(L, 1);
        return 0;
    }
    int pushed = push_value(L, m, ref, g->json, g, 0);
    aws_guard_release(g);
    if (pushed)
        lua_remove(L, -2);
    else
        lua_pop(L, 1);
    return pushed;
}

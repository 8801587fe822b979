/* Service models: cJSON trees with hash indexes over shape and operation names. Models live
 * until the state closes (the loop's closer frees them after the drain), so a request still in
 * flight at exit can always parse its response. */
#include "model/model.h"

#include "core/error.h"
#include "core/loop.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MT "awspromise.Model"

typedef struct name_index {
    const cJSON **slots;
    size_t mask;
} name_index;

typedef struct memo_entry {
    const void *node; /* NULL marks a free slot */
    int kind;
    void *value;
    void (*free_fn)(void *);
} memo_entry;

/* Separate from the model so that a const model can still fill it: every protocol function
 * receives the model as const. */
typedef struct memo_table {
    memo_entry *slots;
    size_t mask, count;
} memo_table;

struct aws_model {
    cJSON *root;
    const cJSON *metadata;
    const cJSON *operations;
    const cJSON *shapes;
    name_index shape_index;
    name_index op_index;
    memo_table *memo;
    aws_model *next_loaded;
};

typedef struct model_registry {
    aws_model *loaded;
} model_registry;

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int index_build(name_index *ix, const cJSON *object)
{
    size_t count = 0;
    for (const cJSON *c = object ? object->child : NULL; c; c = c->next)
        count++;
    size_t size = 16;
    while (size < count * 2)
        size *= 2;
    ix->slots = calloc(size, sizeof *ix->slots);
    if (!ix->slots)
        return 0;
    ix->mask = size - 1;
    for (const cJSON *c = object ? object->child : NULL; c; c = c->next) {
        if (!c->string)
            continue;
        size_t i = hash_name(c->string) & ix->mask;
        while (ix->slots[i])
            i = (i + 1) & ix->mask;
        ix->slots[i] = c;
    }
    return 1;
}

static const cJSON *index_find(const name_index *ix, const char *name)
{
    if (!ix->slots || !name)
        return NULL;
    size_t i = hash_name(name) & ix->mask;
    while (ix->slots[i]) {
        if (strcmp(ix->slots[i]->string, name) == 0)
            return ix->slots[i];
        i = (i + 1) & ix->mask;
    }
    return NULL;
}

static size_t memo_slot(const memo_table *t, const void *node, int kind)
{
    uint64_t h = ((uint64_t)(uintptr_t)node ^ (uint64_t)(unsigned)kind) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & t->mask;
}

void *aws_model_memo_get(const aws_model *m, const void *node, int kind)
{
    const memo_table *t = m->memo;
    if (!t || !t->slots)
        return NULL;
    for (size_t i = memo_slot(t, node, kind); t->slots[i].node; i = (i + 1) & t->mask)
        if (t->slots[i].node == node && t->slots[i].kind == kind)
            return t->slots[i].value;
    return NULL;
}

static void memo_insert(memo_table *t, const memo_entry *e)
{
    size_t i = memo_slot(t, e->node, e->kind);
    while (t->slots[i].node)
        i = (i + 1) & t->mask;
    t->slots[i] = *e;
    t->count++;
}

int aws_model_memo_put(const aws_model *m, const void *node, int kind, void *value, void (*free_fn)(void *))
{
    memo_table *t = m->memo;
    if (!t || !node)
        return 0;
    /* kept at most half full, so that a probe for a missing key ends quickly */
    if ((t->count + 1) * 2 > t->mask + 1 || !t->slots) {
        size_t size = t->slots ? (t->mask + 1) * 2 : 64;
        memo_entry *slots = calloc(size, sizeof *slots);
        if (!slots)
            return 0;
        memo_table grown = {slots, size - 1, 0};
        for (size_t i = 0; t->slots && i <= t->mask; i++)
            if (t->slots[i].node)
                memo_insert(&grown, &t->slots[i]);
        free(t->slots);
        *t = grown;
    }
    memo_entry e = {node, kind, value, free_fn};
    memo_insert(t, &e);
    return 1;
}

static void memo_free(memo_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->slots && i <= t->mask; i++)
        if (t->slots[i].node && t->slots[i].free_fn)
            t->slots[i].free_fn(t->slots[i].value);
    free(t->slots);
    free(t);
}

static void model_free(aws_model *m)
{
    memo_free(m->memo);
    cJSON_Delete(m->root);
    free(m->shape_index.slots);
    free(m->op_index.slots);
    free(m);
}

aws_model *aws_model_check(lua_State *L, int idx)
{
    aws_model **box = luaL_checkudata(L, idx, MODEL_MT);
    return *box;
}

const cJSON *aws_model_metadata(const aws_model *m)
{
    return m->metadata;
}

const char *aws_node_string(const cJSON *node, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *aws_model_meta(const aws_model *m, const char *field)
{
    return aws_node_string(m->metadata, field);
}

const cJSON *aws_model_operation(const aws_model *m, const char *name)
{
    return index_find(&m->op_index, name);
}

const cJSON *aws_model_shape(const aws_model *m, const char *name)
{
    return index_find(&m->shape_index, name);
}

const cJSON *aws_model_resolve(const aws_model *m, const cJSON *node)
{
    /* A reference chain longer than this is a cycle of references, not a model. */
    for (int hops = 0; node && hops < 32; hops++) {
        const cJSON *type = NULL, *ref = NULL;
        for (const cJSON *c = node->child; c; c = c->next) {
            if (!c->string)
                continue;
            if (c->string[0] == 't' && strcmp(c->string, "type") == 0)
                type = c;
            else if (c->string[0] == 's' && strcmp(c->string, "shape") == 0)
                ref = c;
        }
        if (type)
            return node;
        /* The JavaScript SDK's min.json leaves plain strings untyped: {"location": "uri"}. */
        if (!ref)
            return node;
        if (!cJSON_IsString(ref))
            return NULL;
        node = index_find(&m->shape_index, ref->valuestring);
    }
    return NULL;
}

const cJSON *aws_model_trait(const aws_model *m, const cJSON *member, const char *trait)
{
    if (!member)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(member, trait);
    if (v)
        return v;
    const cJSON *shape = aws_model_resolve(m, member);
    return shape && shape != member ? cJSON_GetObjectItemCaseSensitive(shape, trait) : NULL;
}

const char *aws_model_trait_string(const aws_model *m, const cJSON *member, const char *trait)
{
    const cJSON *v = aws_model_trait(m, member, trait);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int aws_model_trait_bool(const aws_model *m, const cJSON *member, const char *trait)
{
    return cJSON_IsTrue(aws_model_trait(m, member, trait));
}

const char *aws_shape_type(const cJSON *shape)
{
    if (!shape)
        return NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(shape, "type");
    if (!t)
        return "string"; /* min.json's untyped members are strings */
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

const cJSON *aws_operation_input(const cJSON *op)
{
    return cJSON_GetObjectItemCaseSensitive(op, "input");
}

const cJSON *aws_operation_output(const cJSON *op)
{
    return cJSON_GetObjectItemCaseSensitive(op, "output");
}

/* ---------------------------------------------------------------- Lua API */

static void close_models(lua_State *L, aws_loop *lp, void *ud)
{
    (void)L;
    (void)lp;
    model_registry *reg = ud;
    while (reg->loaded) {
        aws_model *m = reg->loaded;
        reg->loaded = m->next_loaded;
        model_free(m);
    }
}

static int l_model_load(lua_State *L)
{
    model_registry *reg = lua_touserdata(L, lua_upvalueindex(1));
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    aws_model **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    aws_model *m = calloc(1, sizeof *m);
    if (!m)
        return luaL_error(L, "model_load: out of memory");
    m->root = cJSON_ParseWithLength(text, len);
    if (!m->root || !cJSON_IsObject(m->root)) {
        const char *at = cJSON_GetErrorPtr();
        size_t offset = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        model_free(m);
        aws_push_error(L, "ModelError", "");
        lua_pushfstring(L, "model_load: the model is not a JSON object (error near byte %d)", (int)offset);
        lua_setfield(L, -2, "message");
        return lua_error(L);
    }
    m->metadata = cJSON_GetObjectItemCaseSensitive(m->root, "metadata");
    m->operations = cJSON_GetObjectItemCaseSensitive(m->root, "operations");
    m->shapes = cJSON_GetObjectItemCaseSensitive(m->root, "shapes");
    if (!cJSON_IsObject(m->metadata) || !cJSON_IsObject(m->operations)) {
        model_free(m);
        aws_push_error(L, "ModelError", "model_load: a service model needs metadata and operations objects");
        return lua_error(L);
    }
    m->memo = calloc(1, sizeof *m->memo);
    if (!m->memo || !index_build(&m->shape_index, m->shapes) || !index_build(&m->op_index, m->operations)) {
        model_free(m);
        return luaL_error(L, "model_load: out of memory");
    }
    m->next_loaded = reg->loaded;
    reg->loaded = m;
    *box = m;
    luaL_setmetatable(L, MODEL_MT);
    return 1;
}

/* model:metadata() -> the scalar fields of metadata (and string lists such as protocols). */
static int l_metadata(lua_State *L)
{
    aws_model *m = aws_model_check(L, 1);
    lua_newtable(L);
    for (const cJSON *c = m->metadata->child; c; c = c->next) {
        if (cJSON_IsString(c))
            lua_pushstring(L, c->valuestring);
        else if (cJSON_IsBool(c))
            lua_pushboolean(L, cJSON_IsTrue(c));
        else if (cJSON_IsNumber(c))
            lua_pushnumber(L, c->valuedouble);
        else if (cJSON_IsArray(c)) {
            lua_newtable(L);
            int i = 0;
            for (const cJSON *e = c->child; e; e = e->next)
                if (cJSON_IsString(e)) {
                    lua_pushstring(L, e->valuestring);
                    lua_rawseti(L, -2, ++i);
                }
        } else
            continue;
        lua_setfield(L, -2, c->string);
    }
    return 1;
}

/* model:operations() -> { OperationName = true, ... } */
static int l_operations(lua_State *L)
{
    aws_model *m = aws_model_check(L, 1);
    lua_newtable(L);
    for (const cJSON *c = m->operations->child; c; c = c->next) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, c->string);
    }
    return 1;
}

/* Sets field "input" of the table on top to {MemberName = true, ...} of the operation's input. */
static void push_input_members(lua_State *L, const aws_model *m, const cJSON *op)
{
    const cJSON *input = aws_model_resolve(m, aws_operation_input(op));
    const cJSON *members = input ? cJSON_GetObjectItemCaseSensitive(input, "members") : NULL;
    lua_newtable(L);
    for (const cJSON *c = members ? members->child : NULL; c; c = c->next) {
        if (!c->string)
            continue;
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, c->string);
    }
    lua_setfield(L, -2, "input");
}

/* model:operation(name) -> the operation's http method, requestUri, authtype, endpoint
 * discovery traits, whether it needs a checksum and its input member names ({Name = true}), or
 * nil. */
static int l_operation(lua_State *L)
{
    aws_model *m = aws_model_check(L, 1);
    const cJSON *op = aws_model_operation(m, luaL_checkstring(L, 2));
    if (!op)
        return 0;
    lua_newtable(L);
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(op, "http");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(http, "method");
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(http, "requestUri");
    if (cJSON_IsString(method)) {
        lua_pushstring(L, method->valuestring);
        lua_setfield(L, -2, "method");
    }
    if (cJSON_IsString(uri)) {
        lua_pushstring(L, uri->valuestring);
        lua_setfield(L, -2, "requestUri");
    }
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(op, "authtype");
    if (cJSON_IsString(auth)) {
        lua_pushstring(L, auth->valuestring);
        lua_setfield(L, -2, "authtype");
    }
    /* endpoint discovery (Timestream): "required" or "optional", and the DescribeEndpoints
     * operation itself */
    const cJSON *discovery = cJSON_GetObjectItemCaseSensitive(op, "endpointdiscovery");
    if (cJSON_IsObject(discovery)) {
        int required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(discovery, "required"));
        lua_pushstring(L, required ? "required" : "optional");
        lua_setfield(L, -2, "endpointDiscovery");
    }
    lua_pushboolean(L, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "endpointoperation")));
    lua_setfield(L, -2, "endpointOperation");
    lua_pushboolean(L, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "httpChecksumRequired")) ||
                           cJSON_GetObjectItemCaseSensitive(op, "httpChecksum") != NULL);
    lua_setfield(L, -2, "httpChecksumRequired");
    push_input_members(L, m, op);
    return 1;
}

void aws_open_model(lua_State *L)
{
    /* stack: loop, module */
    aws_loop *lp = lua_touserdata(L, -2);
    model_registry *reg = lua_newuserdatauv(L, sizeof *reg, 0);
    reg->loaded = NULL;
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, (void *)&l_model_load); /* anchors the registry */
    aws_loop_add_closer(L, lp, close_models, reg);
    if (luaL_newmetatable(L, MODEL_MT)) {
        static const luaL_Reg methods[] = {
            {"metadata", l_metadata}, {"operations", l_operations}, {"operation", l_operation}, {NULL, NULL},
        };
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_pushcclosure(L, l_model_load, 1);
    lua_setfield(L, -2, "model_load");
}

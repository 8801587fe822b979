/* Shared by the fuzz targets that go through core.parse_response: one lua_State per process with
 * the module opened and one operation of a small model, reused for every input.
 *
 * An input is [status byte][header lines "name:value\n" ...][0x00][body]: the status byte picks
 * a status (200, 200, 400, 500...) so that both the output readers and the error readers run; the
 * header lines reach the REST header bindings and the x-amz-crc32 check. A parse may reject (a
 * Lua error value, or false and an Error): what may never happen is a crash, a leak or a hang. */
#ifndef AWSPROMISE_FUZZ_HARNESS_H
#define AWSPROMISE_FUZZ_HARNESS_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

int luaopen_awspromise_core(lua_State *L);

static const char HARNESS_SETUP[] =
    "local core, model_json, name = ...\n"
    "local op = core.operation(core.model_load(model_json), name)\n"
    "return function(status, headers, body)\n"
    "  return core.parse_response(op, {statusCode = status, headers = headers, body = body})\n"
    "end\n";

static lua_State *harness_state(const char *model_json, const char *operation)
{
    static lua_State *L;
    if (L)
        return L;
    L = luaL_newstate();
    if (!L)
        abort();
    luaL_openlibs(L);
    luaL_requiref(L, "awspromise.core", luaopen_awspromise_core, 0);
    if (luaL_loadstring(L, HARNESS_SETUP) != LUA_OK)
        abort();
    lua_insert(L, -2);
    lua_pushstring(L, model_json);
    lua_pushstring(L, operation);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK)
        abort(); /* the model is ours: it must load */
    lua_setglobal(L, "fuzz_parse");
    return L;
}

static const int HARNESS_STATUS[] = {200, 200, 200, 200, 201, 204, 301, 400, 403, 404, 409, 429, 500, 503};

static void harness_parse(lua_State *L, const unsigned char *data, size_t size)
{
    if (size == 0)
        return;
    int top = lua_gettop(L);
    lua_getglobal(L, "fuzz_parse");
    lua_pushinteger(L, HARNESS_STATUS[data[0] % (sizeof HARNESS_STATUS / sizeof *HARNESS_STATUS)]);
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *split = memchr(p, '\0', (size_t)(end - p));
    const char *head_end = split ? split : p;
    lua_newtable(L);
    while (p < head_end) {
        const char *eol = memchr(p, '\n', (size_t)(head_end - p));
        if (!eol)
            eol = head_end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && colon > p) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (const char *c = p; c < colon; c++)
                luaL_addchar(&b, (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c));
            luaL_pushresult(&b);
            lua_pushlstring(L, colon + 1, (size_t)(eol - colon - 1));
            lua_settable(L, -3);
        }
        p = eol + 1;
    }
    const char *body = split ? split + 1 : (const char *)data + 1;
    lua_pushlstring(L, body, (size_t)(end - body));
    lua_pcall(L, 3, LUA_MULTRET, 0); /* an error is an answer too */
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
}

/* The whole target for a model whose operation "Op" is fed each input. */
#define HARNESS_PARSE_TARGET(model)                                                 \
    int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);            \
    int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)             \
    {                                                                              \
        harness_parse(harness_state((model), "Op"), data, size);                   \
        return 0;                                                                  \
    }

#endif

/* A minimal stand-alone Lua 5.4 host for profiling: Debian's /usr/bin/lua5.4 is stripped, so a
 * profile of it shows the interpreter, the collector and the C API as bare addresses. This
 * host links liblua5.4.a (which keeps its symbols) and exports them (-rdynamic) to the C
 * modules it loads, so callgrind names luaV_execute, luaH_getshortstr, luaC_step, ...
 *
 *   cc -O2 -g bench/c/luahost.c -o luahost -Wl,-E /usr/lib/x86_64-linux-gnu/liblua5.4.a -lm -ldl
 *   luahost script.lua [args...]
 *
 * Only what the benchmark clients need: the standard libraries, `arg`, one script. */
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>
#include <stdio.h>

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: luahost script.lua [args...]\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L)
        return 1;
    luaL_openlibs(L);
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1); /* arg[0] = the script, arg[1..] = its arguments */
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, traceback);
    int rc = luaL_loadfile(L, argv[1]);
    if (rc == LUA_OK)
        rc = lua_pcall(L, 0, 0, -2);
    if (rc != LUA_OK)
        fprintf(stderr, "luahost: %s\n", lua_tostring(L, -1));
    lua_close(L); /* runs the modules' closers (awspromise drives pending work here) */
    return rc == LUA_OK ? 0 : 1;
}

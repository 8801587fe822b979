/* The failing allocator: runs a Lua workload (argv[1]) again and again in a fresh lua_State
 * whose allocator fails the Nth allocation, for N = 1, 1 + step, ... until a run needs fewer
 * than N allocations. Every run must end in one of two ways: the workload finished, or it was
 * stopped by a memory error (LUA_ERRMEM, or an Error whose code is OutOfMemoryError or whose
 * message says "memory"). Anything else (another error, a panic, a sanitizer report) fails.
 * lua_close after each run frees what Lua holds; C allocations (cJSON, expat, libcurl, our
 * mallocs) are not failed here, their leaks are ASan's to find (make oom builds with it).
 *
 *   oom WORKLOAD.lua [STEP]      prints "oom: N runs, M allocations per full run" */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int luaopen_awspromise_core(lua_State *L);

typedef struct budget {
    long count;
    long fail_at; /* 0: never */
} budget;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    budget *b = ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (b->fail_at && ++b->count == b->fail_at)
        return NULL;
    return realloc(ptr, nsize);
}

static int run_workload(lua_State *L)
{
    const char *path = lua_touserdata(L, 1);
    luaL_openlibs(L);
    luaL_requiref(L, "awspromise.core", luaopen_awspromise_core, 0);
    lua_pop(L, 1);
    if (luaL_dofile(L, path) != LUA_OK)
        return lua_error(L);
    return 0;
}

/* 1 when the error at the top is a memory error in one of its spellings. */
static int is_memory_error(lua_State *L, int status)
{
    if (status == LUA_ERRMEM)
        return 1;
    if (lua_type(L, -1) == LUA_TTABLE) {
        int oom = lua_getfield(L, -1, "code") == LUA_TSTRING && strcmp(lua_tostring(L, -1), "OutOfMemoryError") == 0;
        lua_pop(L, 1);
        if (oom)
            return 1;
        lua_getfield(L, -1, "message");
        lua_replace(L, -2);
    }
    const char *msg = lua_tostring(L, -1);
    return msg && strstr(msg, "memory") != NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oom WORKLOAD.lua [STEP]\n");
        return 2;
    }
    long step = argc > 2 ? atol(argv[2]) : 1;
    if (step < 1)
        step = 1;
    long runs = 0;
    for (long n = 1;; n += step) {
        budget b = {0, n};
        lua_State *L = lua_newstate(failing_alloc, &b);
        if (!L)
            continue; /* the state itself could not be made: nothing to check */
        lua_pushcfunction(L, run_workload);
        lua_pushlightuserdata(L, argv[1]);
        int status = lua_pcall(L, 1, 0, 0);
        runs++;
        if (status != LUA_OK && !is_memory_error(L, status)) {
            fprintf(stderr, "oom: allocation %ld failed and the workload ended with: %s\n", n,
                    lua_tostring(L, -1) ? lua_tostring(L, -1) : "(a non-string error)");
            lua_close(L);
            return 1;
        }
        long used = b.count;
        lua_close(L);
        if (status == LUA_OK && used < n) {
            printf("oom: %ld runs, %ld allocations per full run\n", runs, used);
            return 0;
        }
    }
}

#include "core/owned.h"

#include <lauxlib.h>
#include <string.h>

void *aws_push_owned(lua_State *L, size_t size, const char *mt_name, lua_CFunction gc)
{
    void *block = lua_newuserdatauv(L, size, 0);
    memset(block, 0, size);
    if (luaL_newmetatable(L, mt_name)) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return block;
}

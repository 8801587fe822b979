/* The one error type, awspromise.Error: a table with code and message (and whatever else the
 * raiser adds), whose tostring is "code: message". */
#include "core/error.h"

#include <stdarg.h>

static int error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    const char *code = lua_tostring(L, -2);
    const char *message = lua_tostring(L, -1);
    if (message)
        lua_pushfstring(L, "%s: %s", code ? code : "Error", message);
    else
        lua_pushstring(L, code ? code : "Error");
    return 1;
}

/* Created on first use, so that an error raised while the module is still opening (before
 * aws_open_error ran) has its tostring too. */
static void push_metatable(lua_State *L)
{
    if (luaL_newmetatable(L, AWS_ERROR_MT)) {
        lua_pushcfunction(L, error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "awspromise.Error");
        lua_setfield(L, -2, "__name");
    }
}

void aws_push_error(lua_State *L, const char *code, const char *message)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    push_metatable(L);
    lua_setmetatable(L, -2);
}

int aws_raise_error(lua_State *L, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *message = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    aws_push_error(L, code, message);
    return lua_error(L);
}

int aws_raise_oom(lua_State *L, const char *what)
{
    return aws_raise_error(L, "SerializationError", "%s: out of memory", what);
}

/* Adds error_metatable to the module table on top of the stack. */
void aws_open_error(lua_State *L)
{
    push_metatable(L);
    lua_setfield(L, -2, "error_metatable");
}

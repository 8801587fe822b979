/* Read first by clang-tidy in `make lint` (tools/lint), never by the build. Lua raises errors
 * with longjmp, but lauxlib.h does not say that luaL_error and friends never return, so the
 * analyzer follows impossible paths past them (a NULL used after the check that raised). These
 * declarations add only that fact; lua.h and lauxlib.h declare the same functions again. */
typedef struct lua_State lua_State;

__attribute__((noreturn)) int lua_error(lua_State *L);
__attribute__((noreturn)) int luaL_error(lua_State *L, const char *fmt, ...);
__attribute__((noreturn)) int luaL_argerror(lua_State *L, int arg, const char *extramsg);
__attribute__((noreturn)) int luaL_typeerror(lua_State *L, int arg, const char *tname);

/* core/error.h: they raise an awspromise.Error (aws_raise_serialization is a function in some
 * versions of the header and a macro over aws_raise_error in others). */
__attribute__((noreturn)) int aws_raise_error(lua_State *L, const char *code, const char *fmt, ...);
__attribute__((noreturn)) int aws_raise_serialization(lua_State *L, const char *fmt, ...);
__attribute__((noreturn)) int aws_raise_oom(lua_State *L, const char *what);

/* The build passes the version (Makefile, from lua/awspromise/version.lua); its value does not
 * matter to the checks. */
#ifndef AWSPROMISE_VERSION
#define AWSPROMISE_VERSION "0.0.0-lint"
#endif

/* The one error type: awspromise.Error, a table with code and message whose tostring is
 * "code: message". Every C failure meant for a user is raised or returned as one. */
#ifndef AWSPROMISE_CORE_ERROR_H
#define AWSPROMISE_CORE_ERROR_H

#include <lua.h>
#include <lauxlib.h>

#define AWS_ERROR_MT "awspromise.Error"

/* Adds error_metatable to the module table on top of the stack. */
void aws_open_error(lua_State *L);
/* Pushes a table {code=, message=} with the error metatable. */
void aws_push_error(lua_State *L, const char *code, const char *message);
/* Raises a SerializationError whose message is the formatted text. Never returns. */
int aws_raise_serialization(lua_State *L, const char *fmt, ...);
/* Raises an out-of-memory error naming `what`. Never returns. */
int aws_raise_oom(lua_State *L, const char *what);

#endif

/* The one error type: awspromise.Error, a table with code and message whose tostring is
 * "code: message". Every C failure meant for a user is raised or returned as one; raising goes
 * through aws_raise_error (docs/ARCHITECTURE.md, "How failures travel", says which failures raise, return or reject). */
#ifndef AWSPROMISE_CORE_ERROR_H
#define AWSPROMISE_CORE_ERROR_H

#include <lua.h>
#include <lauxlib.h>

#define AWS_ERROR_MT "awspromise.Error"

/* Adds error_metatable to the module table on top of the stack. */
void aws_open_error(lua_State *L);
/* Pushes a table {code=, message=} with the error metatable. */
void aws_push_error(lua_State *L, const char *code, const char *message);
/* Raises an awspromise.Error with `code` and the message formatted as by lua_pushfstring.
 * Never returns. */
int aws_raise_error(lua_State *L, const char *code, const char *fmt, ...);
/* Raises a SerializationError whose message is the formatted text. Never returns. */
#define aws_raise_serialization(L, ...) aws_raise_error((L), "SerializationError", __VA_ARGS__)
/* Raises an out-of-memory SerializationError naming `what`. Never returns. */
int aws_raise_oom(lua_State *L, const char *what);

#endif

/* C memory that a Lua value owns: a zeroed userdata whose __gc frees what it holds, so that an
 * error raised while the memory is in use cannot leak it. */
#ifndef AWSPROMISE_CORE_OWNED_H
#define AWSPROMISE_CORE_OWNED_H

#include <stddef.h>

#include <lua.h>

/* Pushes a zeroed userdata of `size` bytes with the metatable `mt_name`, made on first use with
 * `gc` as its __gc. */
void *aws_push_owned(lua_State *L, size_t size, const char *mt_name, lua_CFunction gc);

#endif

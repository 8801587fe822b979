/* Child processes on the loop (credential_process): spawn, collect output, settle a promise. */
#ifndef AWSPROMISE_CORE_PROCESS_H
#define AWSPROMISE_CORE_PROCESS_H

#include <lua.h>

void aws_open_process(lua_State *L);

#endif

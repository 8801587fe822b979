/* Parameter validation against the operation's input shape: core.validate. */
#ifndef AWSPROMISE_MODEL_VALIDATE_H
#define AWSPROMISE_MODEL_VALIDATE_H

#include <lua.h>

void aws_open_validate(lua_State *L);

#endif

/* The Lua binding of the SigV4 signer: core.signer. */
#ifndef AWSPROMISE_SIGN_LSIGNER_H
#define AWSPROMISE_SIGN_LSIGNER_H

#include <lua.h>

void aws_open_signer(lua_State *L);

#endif

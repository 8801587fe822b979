/* luaopen_awspromise_core: the one shared library; each subsystem contributes a table or functions. */
#include "codec/ljson.h"
#include "codec/lxml.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/process.h"
#include "core/promise.h"
#include "http/http.h"
#include "model/model.h"
#include "model/operation.h"
#include "model/validate.h"
#include "protocol/dispatcher.h"
#include "sign/lcrypto.h"
#include "sign/lsigner.h"

/* The loop is one per state, so the module is too: a second require (busted's insulation clears
 * package.loaded between files) gets the same table back. */
static const char module_key = 'M';

int luaopen_awspromise_core(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &module_key) == LUA_TTABLE)
        return 1;
    lua_pop(L, 1);
    lua_newtable(L);
    aws_open_loop(L);       /* first, and leaves the loop below the module for the others */
    aws_open_error(L);
    aws_open_promise(L);
    aws_open_json(L);
    aws_open_xml(L);
    aws_open_process(L);
    aws_open_http(L);
    aws_open_model(L);
    aws_open_operation(L);
    aws_open_protocol(L);
    aws_open_validate(L);
    lua_newtable(L);
    aws_open_signer(L);
    lua_setfield(L, -2, "signer");
    aws_open_crypto(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &module_key);
    return 1;
}

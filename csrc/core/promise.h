/* Promises/A+ in C, settled through the loop's job queue; also core.wait (await on the main
 * thread) and core.delay. */
#ifndef AWSPROMISE_CORE_PROMISE_H
#define AWSPROMISE_CORE_PROMISE_H

#include "core/loop.h"

#define AWS_PROMISE_MT "awspromise.Promise"

/* Registers the job runner and the unhandled-rejection reporter on the loop below the module
 * table, and adds Promise's functions to that table. */
void aws_open_promise(lua_State *L);

void aws_promise_new(lua_State *L, aws_loop *lp);       /* pushes a pending promise */
int aws_promise_test(lua_State *L, int idx);
int aws_promise_state(lua_State *L, int idx); /* 0 pending, 1 fulfilled, 2 rejected */
void aws_promise_push_value(lua_State *L, int idx);
void aws_promise_mark_handled(lua_State *L, int idx);
void aws_promise_resolve(lua_State *L, int pidx, int vidx);
void aws_promise_reject(lua_State *L, int pidx, int ridx);

#endif

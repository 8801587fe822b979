/* Promises/A+ in C, settled through the loop's job queue. */
#ifndef AWSPROMISE_CORE_PROMISE_H
#define AWSPROMISE_CORE_PROMISE_H

#include "core/loop.h"

#define AWS_PROMISE_MT "awspromise.Promise"

void aws_open_promise(lua_State *L);

enum { AWS_JOB_FULFILLED = 1, AWS_JOB_REJECTED, AWS_JOB_THENABLE, AWS_JOB_CALL };
void aws_run_job(lua_State *L, aws_loop *lp, int kind); /* job's a, b, c are the top three values */
void aws_promise_new(lua_State *L, aws_loop *lp);       /* pushes a pending promise */
int aws_promise_test(lua_State *L, int idx);
int aws_promise_state(lua_State *L, int idx); /* 0 pending, 1 fulfilled, 2 rejected */
void aws_promise_push_value(lua_State *L, int idx);
void aws_promise_mark_handled(lua_State *L, int idx);
void aws_promise_resolve(lua_State *L, int pidx, int vidx);
void aws_promise_reject(lua_State *L, int pidx, int ridx);
/* Reports rejections nobody handled; called when the job queue runs dry. */
void aws_report_unhandled(lua_State *L, aws_loop *lp);

#endif

/* The event loop: a job queue, timers, and epoll over descriptors, one per Lua state.
 * Every callback into Lua goes through aws_gate_call. The loop knows nothing of promises: it runs
 * the jobs through the runner promise.c registers, and the hooks its subsystems add. */
#ifndef AWSPROMISE_CORE_LOOP_H
#define AWSPROMISE_CORE_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>

typedef struct aws_loop aws_loop; /* private to loop.c */
typedef struct aws_timer aws_timer;

typedef void (*aws_timer_cb)(lua_State *L, aws_loop *lp, void *ud);
typedef void (*aws_io_cb)(lua_State *L, aws_loop *lp, int fd, uint32_t events, void *ud);
typedef void (*aws_loop_hook)(lua_State *L, aws_loop *lp, void *ud);
/* Runs one job of `kind`: the job's three values a, b, c are the top three on the stack; the
 * loop pops them (and whatever the runner leaves above them) afterwards. Must not raise. */
typedef void (*aws_job_runner)(lua_State *L, aws_loop *lp, int kind, void *ud);

/* The one job kind the loop runs itself: a(b, c) through aws_gate_call. Other kinds belong to
 * the job runner. */
enum { AWS_JOB_CALL = 0 };

/* Pushes the loop userdata and adds run/step/fd/timeout/... to the module table below it. */
void aws_open_loop(lua_State *L);

aws_loop *aws_loop_of(lua_State *L);
/* Queues a job of `kind` whose values are the ones at a, b and c. */
void aws_jobs_push(lua_State *L, aws_loop *lp, int kind, int a, int b, int c);
/* Delays above AWS_TIMER_MAX_MS (2^53 microseconds, about 285 years) are clamped to it. */
#define AWS_TIMER_MAX_MS 9007199254740.992
aws_timer *aws_timer_start(aws_loop *lp, double ms, aws_timer_cb cb, void *ud);
void aws_timer_cancel(aws_loop *lp, aws_timer *t);
int aws_io_watch(aws_loop *lp, int fd, uint32_t events, aws_io_cb cb, void *ud);
void aws_io_unwatch(aws_loop *lp, int fd);
/* Work the loop must wait for that neither jobs nor timers show (transfers in flight). */
void aws_loop_hold(aws_loop *lp, int delta);

/* One turn in protected mode, waiting at most timeout_ms for I/O (-1: until something happens);
 * an error inside is raised again after the turn. Returns whether work remains. */
int aws_loop_turn(lua_State *L, aws_loop *lp, int timeout_ms);
/* Whether a turn is running (code called from a loop callback must not block). */
int aws_loop_in_step(aws_loop *lp);

/* Calls the function below its nargs arguments in protected mode; a raised error is handed to
 * the unhandled-error reporter with `what` naming the callback. Returns 1 on success. */
int aws_gate_call(lua_State *L, aws_loop *lp, int nargs, int nresults, const char *what);
void aws_report_error(lua_State *L, aws_loop *lp, int idx, const char *what);
void aws_report_rejection(lua_State *L, aws_loop *lp, int reason, int promise);

/* Registration: each raises an awspromise.Error when the hook cannot be stored, and takes
 * nothing before that, so a caller registers before taking its own resources. */
/* The runner of every job kind but AWS_JOB_CALL; there is one, so a second is refused. */
void aws_loop_set_job_runner(lua_State *L, aws_loop *lp, aws_job_runner fn, void *ud);
/* Run by each turn after I/O and timers, in the order added (the HTTP engine collects finished
 * transfers there). */
void aws_loop_add_after_io(lua_State *L, aws_loop *lp, aws_loop_hook fn, void *ud);
/* Run at the end of each turn, once its jobs have run dry (unhandled-rejection reports). */
void aws_loop_add_idle(lua_State *L, aws_loop *lp, aws_loop_hook fn, void *ud);
/* Run in the order added when the state closes, after the drain: each subsystem frees what it
 * owns. */
void aws_loop_add_closer(lua_State *L, aws_loop *lp, aws_loop_hook fn, void *ud);

#endif

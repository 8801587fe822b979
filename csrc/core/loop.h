/* The event loop: a job queue, timers, and epoll over descriptors, one per Lua state.
 * Every callback into Lua goes through aws_gate_call. */
#ifndef AWSPROMISE_CORE_LOOP_H
#define AWSPROMISE_CORE_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>


typedef struct aws_loop aws_loop;
typedef struct aws_timer aws_timer;

struct aws_loop {
    int epfd;              /* what AWS.loop.fd() hands to a foreign loop */
    int evfd;              /* readable while jobs wait and no step is running */
    int signaled;
    int in_step;           /* a turn is running: await must not block inside it */
    int closing;           /* the state is closing: the driver drains, then frees */
    int queue_ref;         /* registry ref of the job ring (a table, 4 slots a job) */
    size_t qhead, qcount, qcap;
    aws_timer **heap;      /* timers, a binary min-heap on (due, seq) */
    size_t nheap, capheap;
    uint64_t timer_seq;
    int holds;             /* transfers and other external work in flight */
    int unhandled_ref;     /* registry ref: rejected promises with no handler yet */
    int nunhandled;
    struct aws_watcher **watchers; /* indexed by file descriptor */
    int nwatchers;
    int config_ref;        /* registry ref: AWS.config, read for onUnhandledRejection */
    void (*after_io)(lua_State *L, aws_loop *lp, void *ud);
    void *after_io_ud;
    struct aws_closer {
        void (*fn)(lua_State *L, aws_loop *lp, void *ud);
        void *ud;
    } closers[8];
    int nclosers;
};
typedef void (*aws_timer_cb)(lua_State *L, aws_loop *lp, void *ud);
typedef void (*aws_io_cb)(lua_State *L, aws_loop *lp, int fd, uint32_t events, void *ud);

/* Pushes the loop userdata and adds run/step/fd/timeout/... to the module table below it. */
void aws_open_loop(lua_State *L);

aws_loop *aws_loop_of(lua_State *L);
uint64_t aws_now_us(void);
/* The job queue (promise reactions and other deferred calls). Each job is four Lua values. */
void aws_jobs_push(lua_State *L, aws_loop *lp, int kind, int a, int b, int c);
int aws_jobs_pending(aws_loop *lp);
aws_timer *aws_timer_start(aws_loop *lp, double ms, aws_timer_cb cb, void *ud);
void aws_timer_cancel(aws_loop *lp, aws_timer *t);
int aws_io_watch(aws_loop *lp, int fd, uint32_t events, aws_io_cb cb, void *ud);
void aws_io_unwatch(aws_loop *lp, int fd);
/* Work the loop must wait for that neither jobs nor timers show (transfers in flight). */
void aws_loop_hold(aws_loop *lp, int delta);
/* Calls the function below its nargs arguments in protected mode; a raised error is handed to
 * the unhandled-error reporter with `what` naming the callback. Returns 1 on success. */
int aws_gate_call(lua_State *L, aws_loop *lp, int nargs, int nresults, const char *what);
void aws_report_error(lua_State *L, aws_loop *lp, int idx, const char *what);
void aws_report_rejection(lua_State *L, aws_loop *lp, int reason, int promise);
/* Hook run by each loop turn after I/O and timers (the HTTP engine collects finished transfers). */
void aws_loop_set_after_io(aws_loop *lp, void (*fn)(lua_State *L, aws_loop *lp, void *ud), void *ud);
/* Run in order when the state closes, after the drain: each subsystem frees what it owns. */
void aws_loop_add_closer(aws_loop *lp, void (*fn)(lua_State *L, aws_loop *lp, void *ud), void *ud);

#endif

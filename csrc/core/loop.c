/* The event loop: one per Lua state. A ring of ready jobs (promise reactions), a timer heap, and
 * an epoll set for the HTTP engine's sockets. The epoll descriptor is also what a foreign loop
 * polls (with AWS.loop.timeout() as its deadline) before calling AWS.loop.step(0).
 * Promises live above: promise.c registers the job runner and an idle hook. */
#include "core/loop.h"

#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MT "awspromise.Loop"
#define INITIAL_JOB_CAPACITY 256
#define MAX_EVENTS 64

static const char loop_key = 'L';

typedef struct hook {
    aws_loop_hook fn;
    void *ud;
} hook;

typedef struct hook_list {
    hook *items;
    size_t n, cap;
} hook_list;

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
    struct aws_watcher **watchers; /* indexed by file descriptor */
    int nwatchers;
    int config_ref;        /* registry ref: AWS.config, read for the report hooks */
    aws_job_runner job_runner;
    void *job_runner_ud;
    hook_list after_io, idle, closers;
};

struct aws_timer {
    uint64_t due;
    uint64_t seq;
    size_t index;
    aws_timer_cb cb;
    void *ud;
};

typedef struct aws_watcher {
    int fd;
    uint32_t events;
    aws_io_cb cb;
    void *ud;
} aws_watcher;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

aws_loop *aws_loop_of(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &loop_key);
    aws_loop *lp = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lp;
}

static aws_loop *upvalue_loop(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---------------------------------------------------------------- jobs */

static void signal_work(aws_loop *lp)
{
    /* Inside a turn the jobs run before the turn ends; only work queued from outside (the main
     * chunk, a foreign loop's callback) has to wake a poller. */
    if (lp->in_step || lp->signaled || lp->evfd < 0)
        return;
    uint64_t one = 1;
    if (write(lp->evfd, &one, sizeof one) == (ssize_t)sizeof one)
        lp->signaled = 1;
}

static void clear_signal(aws_loop *lp)
{
    if (!lp->signaled)
        return;
    uint64_t count;
    if (read(lp->evfd, &count, sizeof count) < 0 && errno != EAGAIN)
        return;
    lp->signaled = 0;
}

static void grow_queue(lua_State *L, aws_loop *lp)
{
    size_t cap = lp->qcap * 2;
    lua_createtable(L, (int)(cap * 4), 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->queue_ref);
    for (size_t i = 0; i < lp->qcount; i++) {
        size_t from = ((lp->qhead + i) % lp->qcap) * 4;
        for (int k = 1; k <= 4; k++) {
            lua_rawgeti(L, -1, (lua_Integer)(from + k));
            lua_rawseti(L, -3, (lua_Integer)(i * 4 + k));
        }
    }
    lua_pop(L, 1);
    lua_rawseti(L, LUA_REGISTRYINDEX, lp->queue_ref);
    lp->qhead = 0;
    lp->qcap = cap;
}

void aws_jobs_push(lua_State *L, aws_loop *lp, int kind, int a, int b, int c)
{
    const int values[3] = {lua_absindex(L, a), lua_absindex(L, b), lua_absindex(L, c)};
    if (lp->qcount == lp->qcap)
        grow_queue(L, lp);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->queue_ref);
    lua_Integer base = (lua_Integer)(((lp->qhead + lp->qcount) % lp->qcap) * 4);
    lua_pushinteger(L, kind);
    lua_rawseti(L, -2, base + 1);
    for (int k = 0; k < 3; k++) {
        lua_pushvalue(L, values[k]);
        lua_rawseti(L, -2, base + 2 + k);
    }
    lua_pop(L, 1);
    lp->qcount++;
    signal_work(lp);
}

/* The job's a, b, c are the top three values; they are gone afterwards. */
static void run_job(lua_State *L, aws_loop *lp, int kind)
{
    int below = lua_gettop(L) - 3;
    if (kind == AWS_JOB_CALL) {
        aws_gate_call(L, lp, 2, 0, "callback");
    } else if (lp->job_runner) {
        lp->job_runner(L, lp, kind, lp->job_runner_ud);
    } else {
        lua_pushfstring(L, "a job of kind %d, and no job runner is set", kind);
        aws_report_error(L, lp, -1, "running a job");
    }
    lua_settop(L, below);
}

static void drain_jobs(lua_State *L, aws_loop *lp)
{
    while (lp->qcount) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->queue_ref);
        lua_Integer base = (lua_Integer)(lp->qhead * 4);
        lua_rawgeti(L, -1, base + 1);
        int kind = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        for (int k = 2; k <= 4; k++)
            lua_rawgeti(L, -1 - (k - 2), base + k);
        for (int k = 1; k <= 4; k++) {
            lua_pushnil(L);
            lua_rawseti(L, -5, base + k);
        }
        lua_remove(L, -4);
        lp->qhead = (lp->qhead + 1) % lp->qcap;
        lp->qcount--;
        run_job(L, lp, kind);
    }
    lp->qhead = 0;
    clear_signal(lp);
}

/* ---------------------------------------------------------------- errors */

static int default_report(lua_State *L)
{
    const char *msg = luaL_tolstring(L, 1, NULL);
    fprintf(stderr, "awspromise: %s: %s\n", lua_tostring(L, lua_upvalueindex(1)), msg);
    fflush(stderr);
    return 0;
}

/* Hands the value at idx (and `extra`, a promise or a description) to AWS.config[hook] when set,
 * else prints it on stderr. Never raises. */
static void report_to(lua_State *L, aws_loop *lp, int idx, int extra, const char *hook, const char *what)
{
    idx = lua_absindex(L, idx);
    if (extra)
        extra = lua_absindex(L, extra);
    int top = lua_gettop(L);
    int custom = 0;
    if (lp->config_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->config_ref);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, hook); /* AWS.config is a plain table: no metamethod can raise */
            custom = !lua_isnil(L, -1);
        }
    }
    if (!custom) {
        lua_settop(L, top);
        lua_pushstring(L, what);
        lua_pushcclosure(L, default_report, 1);
    }
    lua_pushvalue(L, idx);
    if (extra)
        lua_pushvalue(L, extra);
    else
        lua_pushstring(L, what);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        fprintf(stderr, "awspromise: AWS.config.%s raised: %s\n", hook,
                lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(a non-string error)");
        fflush(stderr);
    }
    lua_settop(L, top);
}

void aws_report_error(lua_State *L, aws_loop *lp, int idx, const char *what)
{
    report_to(L, lp, idx, 0, "onUncaughtError", what);
}

void aws_report_rejection(lua_State *L, aws_loop *lp, int reason, int promise)
{
    report_to(L, lp, reason, promise, "onUnhandledRejection", "unhandled rejection");
}

int aws_gate_call(lua_State *L, aws_loop *lp, int nargs, int nresults, const char *what)
{
    if (lua_pcall(L, nargs, nresults, 0) == LUA_OK)
        return 1;
    aws_report_error(L, lp, -1, what);
    lua_pop(L, 1);
    return 0;
}

/* ---------------------------------------------------------------- timers */

static int timer_before(const aws_timer *a, const aws_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_place(aws_loop *lp, size_t i, aws_timer *t)
{
    lp->heap[i] = t;
    t->index = i;
}

static void heap_up(aws_loop *lp, size_t i)
{
    aws_timer *t = lp->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, lp->heap[parent]))
            break;
        heap_place(lp, i, lp->heap[parent]);
        i = parent;
    }
    heap_place(lp, i, t);
}

static void heap_down(aws_loop *lp, size_t i)
{
    aws_timer *t = lp->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= lp->nheap)
            break;
        if (child + 1 < lp->nheap && timer_before(lp->heap[child + 1], lp->heap[child]))
            child++;
        if (!timer_before(lp->heap[child], t))
            break;
        heap_place(lp, i, lp->heap[child]);
        i = child;
    }
    heap_place(lp, i, t);
}

static void heap_remove(aws_loop *lp, aws_timer *t)
{
    size_t i = t->index;
    aws_timer *last = lp->heap[--lp->nheap];
    if (i == lp->nheap)
        return;
    heap_place(lp, i, last);
    heap_up(lp, i);
    heap_down(lp, last->index);
}

aws_timer *aws_timer_start(aws_loop *lp, double ms, aws_timer_cb cb, void *ud)
{
    if (lp->nheap == lp->capheap) {
        size_t cap = lp->capheap ? lp->capheap * 2 : 16;
        aws_timer **grown = realloc(lp->heap, cap * sizeof *grown);
        if (!grown)
            return NULL;
        lp->heap = grown;
        lp->capheap = cap;
    }
    aws_timer *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    if (ms < 0)
        ms = 0;
    /* Past 2^53 microseconds the cast below would be undefined and the sum could wrap into the
     * past (delay(math.huge) firing at once): such a timer is clamped to ~285 years, i.e. never. */
    if (!(ms <= AWS_TIMER_MAX_MS))
        ms = AWS_TIMER_MAX_MS;
    t->due = now_us() + (uint64_t)(ms * 1000.0);
    t->seq = lp->timer_seq++;
    t->cb = cb;
    t->ud = ud;
    heap_place(lp, lp->nheap++, t);
    heap_up(lp, t->index);
    return t;
}

void aws_timer_cancel(aws_loop *lp, aws_timer *t)
{
    if (!t)
        return;
    heap_remove(lp, t);
    free(t);
}

static void fire_timers(lua_State *L, aws_loop *lp)
{
    uint64_t now = now_us();
    /* Timers started by a firing callback wait for the next turn, even with a 0 ms delay. */
    uint64_t last_seq = lp->timer_seq;
    while (lp->nheap && lp->heap[0]->due <= now && lp->heap[0]->seq < last_seq) {
        aws_timer *t = lp->heap[0];
        heap_remove(lp, t);
        aws_timer_cb cb = t->cb;
        void *ud = t->ud;
        free(t);
        cb(L, lp, ud);
    }
}

/* Milliseconds until the first timer is due, rounded up; -1 when there is none. */
static int next_timer_ms(aws_loop *lp)
{
    if (!lp->nheap)
        return -1;
    uint64_t now = now_us();
    uint64_t due = lp->heap[0]->due;
    if (due <= now)
        return 0;
    uint64_t ms = (due - now + 999) / 1000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* ---------------------------------------------------------------- I/O */

int aws_io_watch(aws_loop *lp, int fd, uint32_t events, aws_io_cb cb, void *ud)
{
    if (fd < 0)
        return 0;
    if (fd >= lp->nwatchers) {
        int n = lp->nwatchers ? lp->nwatchers : 64;
        while (n <= fd)
            n *= 2;
        aws_watcher **grown = realloc(lp->watchers, (size_t)n * sizeof *grown);
        if (!grown)
            return 0;
        memset(grown + lp->nwatchers, 0, (size_t)(n - lp->nwatchers) * sizeof *grown);
        lp->watchers = grown;
        lp->nwatchers = n;
    }
    aws_watcher *w = lp->watchers[fd];
    int op = EPOLL_CTL_MOD;
    if (!w) {
        w = malloc(sizeof *w);
        if (!w)
            return 0;
        w->fd = fd;
        lp->watchers[fd] = w;
        op = EPOLL_CTL_ADD;
    }
    w->events = events;
    w->cb = cb;
    w->ud = ud;
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)fd};
    if (epoll_ctl(lp->epfd, op, fd, &ev) == 0)
        return 1;
    if (op == EPOLL_CTL_MOD && errno == ENOENT && epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 1;
    lp->watchers[fd] = NULL;
    free(w);
    return 0;
}

void aws_io_unwatch(aws_loop *lp, int fd)
{
    if (fd < 0 || fd >= lp->nwatchers || !lp->watchers[fd])
        return;
    /* The descriptor may already be closed, which removed it from the set: ignore the error. */
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
    free(lp->watchers[fd]);
    lp->watchers[fd] = NULL;
}

void aws_loop_hold(aws_loop *lp, int delta)
{
    lp->holds += delta;
}

/* ---------------------------------------------------------------- hooks */

static void hooks_add(lua_State *L, hook_list *list, aws_loop_hook fn, void *ud, const char *what)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        hook *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            aws_raise_error(L, "OutOfMemoryError", "loop: cannot add %s hook: out of memory", what);
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->n++] = (hook){fn, ud};
}

/* By index, not by pointer: a hook may add another, which moves the array. */
static void hooks_run(lua_State *L, aws_loop *lp, const hook_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        list->items[i].fn(L, lp, list->items[i].ud);
}

static void hooks_free(hook_list *list)
{
    free(list->items);
    list->items = NULL;
    list->n = list->cap = 0;
}

void aws_loop_set_job_runner(lua_State *L, aws_loop *lp, aws_job_runner fn, void *ud)
{
    if (lp->job_runner)
        aws_raise_error(L, "LoopError", "loop: a job runner is already set");
    lp->job_runner = fn;
    lp->job_runner_ud = ud;
}

void aws_loop_add_after_io(lua_State *L, aws_loop *lp, aws_loop_hook fn, void *ud)
{
    hooks_add(L, &lp->after_io, fn, ud, "an after-I/O");
}

void aws_loop_add_idle(lua_State *L, aws_loop *lp, aws_loop_hook fn, void *ud)
{
    hooks_add(L, &lp->idle, fn, ud, "an idle");
}

void aws_loop_add_closer(lua_State *L, aws_loop *lp, aws_loop_hook fn, void *ud)
{
    hooks_add(L, &lp->closers, fn, ud, "a closer");
}

/* ---------------------------------------------------------------- turns */

static int loop_alive(aws_loop *lp)
{
    return lp->qcount > 0 || lp->nheap > 0 || lp->holds > 0;
}

/* Events carry the descriptor, not the watcher: a callback earlier in the batch may remove (and
 * free) a watcher whose event is still waiting in this batch. */
#define EVENTFD_TAG UINT64_MAX

static void poll_io(lua_State *L, aws_loop *lp, int wait_ms)
{
    struct epoll_event events[MAX_EVENTS];
    int n = epoll_wait(lp->epfd, events, MAX_EVENTS, wait_ms);
    for (int i = 0; i < n; i++) {
        if (events[i].data.u64 == EVENTFD_TAG) {
            clear_signal(lp);
            continue;
        }
        int fd = (int)events[i].data.u64;
        aws_watcher *w = fd < lp->nwatchers ? lp->watchers[fd] : NULL;
        if (w)
            w->cb(L, lp, fd, events[i].events, w->ud);
    }
}

/* One turn: queued jobs, then I/O waiting at most timeout_ms (-1: until something happens),
 * then due timers, then the jobs those produced. Returns whether work remains. */
static int turn(lua_State *L)
{
    aws_loop *lp = lua_touserdata(L, 1);
    int timeout_ms = (int)lua_tointeger(L, 2);
    drain_jobs(L, lp);
    int wait = 0;
    if (!lp->qcount && (lp->nheap || lp->holds)) {
        int timer_ms = next_timer_ms(lp);
        wait = timeout_ms;
        if (timer_ms >= 0 && (wait < 0 || timer_ms < wait))
            wait = timer_ms;
    }
    poll_io(L, lp, wait);
    fire_timers(L, lp);
    hooks_run(L, lp, &lp->after_io);
    drain_jobs(L, lp);
    hooks_run(L, lp, &lp->idle);
    lua_pushboolean(L, loop_alive(lp));
    return 1;
}

/* Runs one turn in protected mode so that in_step is restored whatever happens; leaves the
 * error, or whether work remains, on the stack. */
static int pcall_turn(lua_State *L, aws_loop *lp, int timeout_ms)
{
    lua_pushcfunction(L, turn);
    lua_pushlightuserdata(L, lp);
    lua_pushinteger(L, timeout_ms);
    lp->in_step++;
    int status = lua_pcall(L, 2, 1, 0);
    lp->in_step--;
    return status;
}

int aws_loop_turn(lua_State *L, aws_loop *lp, int timeout_ms)
{
    if (pcall_turn(L, lp, timeout_ms) != LUA_OK)
        return lua_error(L);
    int alive = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return alive;
}

int aws_loop_in_step(aws_loop *lp)
{
    return lp->in_step > 0;
}

static int l_step(lua_State *L)
{
    aws_loop *lp = upvalue_loop(L);
    int ms = (int)luaL_optinteger(L, 1, 0);
    lua_pushboolean(L, aws_loop_turn(L, lp, ms < 0 ? -1 : ms));
    return 1;
}

static int l_run(lua_State *L)
{
    aws_loop *lp = upvalue_loop(L);
    if (lp->in_step)
        return aws_raise_error(L, "LoopError", "AWS.run: called from inside a loop callback (the loop is already running)");
    while (aws_loop_turn(L, lp, -1))
        ;
    return 0;
}

static int l_fd(lua_State *L)
{
    lua_pushinteger(L, upvalue_loop(L)->epfd);
    return 1;
}

/* The deadline a foreign loop should pass to its poll: 0 when jobs wait, nil when nothing is
 * scheduled (wait for the descriptor alone). */
static int l_timeout(lua_State *L)
{
    aws_loop *lp = upvalue_loop(L);
    if (lp->qcount) {
        lua_pushinteger(L, 0);
        return 1;
    }
    int ms = next_timer_ms(lp);
    if (ms < 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, ms);
    return 1;
}

static int l_alive(lua_State *L)
{
    lua_pushboolean(L, loop_alive(upvalue_loop(L)));
    return 1;
}

/* now() -> milliseconds on the monotonic clock (for durations), and milliseconds since the
 * epoch (for dates, such as a Lambda deadline; Lua's os.time has whole seconds only). */
static int l_now(lua_State *L)
{
    struct timespec wall;
    lua_pushnumber(L, (lua_Number)now_us() / 1000.0);
    clock_gettime(CLOCK_REALTIME, &wall);
    lua_pushnumber(L, (lua_Number)wall.tv_sec * 1000.0 + (lua_Number)wall.tv_nsec / 1e6);
    return 2;
}

/* core.report_error(err[, what]): hands an error raised by user code that has no caller to
 * return to (a send callback, a complete listener) to AWS.config.onUncaughtError. */
static int l_report_error(lua_State *L)
{
    luaL_checkany(L, 1);
    const char *what = luaL_optstring(L, 2, "callback");
    aws_report_error(L, upvalue_loop(L), 1, what);
    return 0;
}

static int l_in_step(lua_State *L)
{
    lua_pushboolean(L, upvalue_loop(L)->in_step > 0);
    return 1;
}

/* timer(ms, fn) -> handle with :cancel(). The handle is a userdata holding the C timer while it
 * is pending; the registry ref keeps fn and the handle alive until it fires or is cancelled. */
#define TIMER_MT "awspromise.Timer"

typedef struct lua_timer {
    aws_timer *timer;
    int ref;
} lua_timer;

static void fire_lua_timer(lua_State *L, aws_loop *lp, void *ud)
{
    lua_timer *lt = ud;
    lt->timer = NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lt->ref);
    luaL_unref(L, LUA_REGISTRYINDEX, lt->ref);
    lt->ref = LUA_NOREF;
    lua_getiuservalue(L, -1, 1);
    lua_remove(L, -2);
    aws_gate_call(L, lp, 0, 0, "timer callback");
}

static int l_timer(lua_State *L)
{
    aws_loop *lp = upvalue_loop(L);
    int is_number;
    lua_Number ms = lua_tonumberx(L, 1, &is_number);
    if (!is_number || !(ms >= 0))
        return aws_raise_error(L, "TypeError", "timer: milliseconds must be a number >= 0, got %s", luaL_typename(L, 1));
    if (lua_type(L, 2) != LUA_TFUNCTION)
        return aws_raise_error(L, "TypeError", "timer: expected a function, got %s", luaL_typename(L, 2));
    lua_timer *lt = lua_newuserdatauv(L, sizeof *lt, 1);
    lt->timer = NULL;
    lt->ref = LUA_NOREF;
    luaL_setmetatable(L, TIMER_MT);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    /* The ref first: it may raise, and a started timer must find its handle alive. */
    lua_pushvalue(L, -1);
    lt->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lt->timer = aws_timer_start(lp, (double)ms, fire_lua_timer, lt);
    if (!lt->timer) {
        luaL_unref(L, LUA_REGISTRYINDEX, lt->ref);
        lt->ref = LUA_NOREF;
        return aws_raise_error(L, "OutOfMemoryError", "timer: out of memory");
    }
    return 1;
}

static int l_timer_cancel(lua_State *L)
{
    lua_timer *lt = luaL_checkudata(L, 1, TIMER_MT);
    if (!lt->timer) {
        lua_pushboolean(L, 0);
        return 1;
    }
    aws_timer_cancel(aws_loop_of(L), lt->timer);
    lt->timer = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, lt->ref);
    lt->ref = LUA_NOREF;
    lua_pushboolean(L, 1);
    return 1;
}

static int l_set_config(lua_State *L)
{
    aws_loop *lp = upvalue_loop(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, 1);
    if (lp->config_ref == LUA_NOREF)
        lp->config_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else
        lua_rawseti(L, LUA_REGISTRYINDEX, lp->config_ref);
    return 0;
}

static void free_loop(aws_loop *lp)
{
    for (size_t i = 0; i < lp->nheap; i++)
        free(lp->heap[i]);
    free(lp->heap);
    lp->heap = NULL;
    lp->nheap = lp->capheap = 0;
    for (int fd = 0; fd < lp->nwatchers; fd++)
        free(lp->watchers[fd]);
    free(lp->watchers);
    lp->watchers = NULL;
    lp->nwatchers = 0;
    if (lp->evfd >= 0)
        close(lp->evfd);
    if (lp->epfd >= 0)
        close(lp->epfd);
    lp->evfd = lp->epfd = -1;
    hooks_free(&lp->after_io);
    hooks_free(&lp->idle);
    hooks_free(&lp->closers);
}

/* Runs when the state closes (the loop is anchored in the registry, so never earlier). Nothing
 * else of ours has a finalizer, so all the promises and requests the drain touches are intact. */
static int loop_gc(lua_State *L)
{
    aws_loop *lp = luaL_checkudata(L, 1, LOOP_MT);
    if (lp->closing)
        return 0;
    lp->closing = 1;
    lp->in_step = 0;
    for (;;) {
        if (pcall_turn(L, lp, -1) != LUA_OK) {
            aws_report_error(L, lp, -1, "draining the loop at exit");
            lua_pop(L, 1);
            break;
        }
        int alive = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (!alive)
            break;
    }
    hooks_run(L, lp, &lp->closers);
    free_loop(lp);
    return 0;
}

void aws_open_loop(lua_State *L)
{
    aws_loop *lp = lua_newuserdatauv(L, sizeof *lp, 0);
    memset(lp, 0, sizeof *lp);
    lp->epfd = lp->evfd = -1;
    lp->queue_ref = lp->config_ref = LUA_NOREF;
    if (luaL_newmetatable(L, LOOP_MT)) {
        lua_pushcfunction(L, loop_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);

    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (lp->epfd < 0 || lp->evfd < 0) {
        free_loop(lp);
        aws_raise_error(L, "LoopError", "awspromise: cannot create the loop's descriptors: %s", strerror(errno));
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EVENTFD_TAG};
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->evfd, &ev) != 0) {
        free_loop(lp);
        aws_raise_error(L, "LoopError", "awspromise: cannot watch the loop's eventfd: %s", strerror(errno));
        return;
    }
    lp->qcap = INITIAL_JOB_CAPACITY;
    lua_createtable(L, INITIAL_JOB_CAPACITY * 4, 0);
    lp->queue_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &loop_key);
    if (luaL_newmetatable(L, TIMER_MT)) {
        lua_newtable(L);
        lua_pushcfunction(L, l_timer_cancel);
        lua_setfield(L, -2, "cancel");
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);

    static const luaL_Reg functions[] = {
        {"step", l_step},       {"run", l_run},         {"fd", l_fd},
        {"timeout", l_timeout}, {"alive", l_alive},     {"in_step", l_in_step},
        {"set_config", l_set_config}, {"timer", l_timer}, {"now", l_now},
        {"report_error", l_report_error}, {NULL, NULL},
    };
    /* stack: module, loop */
    lua_pushvalue(L, -1);
    lua_insert(L, -3); /* loop, module, loop */
    luaL_setfuncs(L, functions, 1);
    /* leave: module on top, loop below it for the other openers */
}

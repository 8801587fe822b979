/* Promises/A+ (1.1) in C, with `next` in the role of `then`.
 *
 * A promise is a userdata with five user values: 1 the value or reason, 2-4 the first reaction
 * (onFulfilled, onRejected, derived promise), 5 a table with any further reactions in triples.
 * Most promises get exactly one reaction, so the common path allocates nothing but the userdata.
 * Reactions never run inside the call that settles or registers them: settling queues one job per
 * reaction on the loop, which runs them in order through the job runner registered here. Rejections
 * nobody handled are kept in a list of this file's own and reported by an idle hook once the turn's
 * jobs ran dry. */
#include "core/promise.h"

#include "core/error.h"

#include <string.h>

enum { PENDING = 0, FULFILLED = 1, REJECTED = 2 };
/* Job kinds: AWS_JOB_CALL (0) is the loop's own. */
enum { JOB_FULFILLED = 1, JOB_REJECTED, JOB_THENABLE };

/* Registry key of the sequence of rejected promises with no handler yet. */
static const char unhandled_key = 'U';
enum { UV_VALUE = 1, UV_ON_FULFILLED, UV_ON_REJECTED, UV_DERIVED, UV_MORE, UV_COUNT = UV_MORE };

typedef struct promise {
    aws_loop *lp;
    unsigned char state;
    unsigned char locked;   /* resolved with a thenable that has not settled yet */
    unsigned char handled;  /* some reaction or adopter ever looked at it */
    unsigned char reported; /* its unhandled rejection was already reported */
    int nreactions;
} promise;

static const char *const state_names[] = {"pending", "fulfilled", "rejected"};

int aws_promise_test(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, AWS_PROMISE_MT) != NULL;
}

static promise *check_promise(lua_State *L, int idx, const char *fname)
{
    promise *p = luaL_testudata(L, idx, AWS_PROMISE_MT);
    if (!p)
        aws_raise_error(L, "TypeError", "%s: expected an awspromise promise, got %s", fname, luaL_typename(L, idx));
    return p;
}

void aws_promise_new(lua_State *L, aws_loop *lp)
{
    promise *p = lua_newuserdatauv(L, sizeof *p, UV_COUNT);
    p->lp = lp;
    p->state = PENDING;
    p->locked = p->handled = p->reported = 0;
    p->nreactions = 0;
    luaL_setmetatable(L, AWS_PROMISE_MT);
}

int aws_promise_state(lua_State *L, int idx)
{
    return ((promise *)lua_touserdata(L, idx))->state;
}

static int is_callable(lua_State *L, int idx)
{
    if (lua_isfunction(L, idx))
        return 1;
    if (!luaL_getmetafield(L, idx, "__call"))
        return 0;
    lua_pop(L, 1);
    return 1;
}

void aws_promise_push_value(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, UV_VALUE);
}

void aws_promise_mark_handled(lua_State *L, int idx)
{
    ((promise *)lua_touserdata(L, idx))->handled = 1;
}

/* ---------------------------------------------------------------- settling */

static void track_unhandled(lua_State *L, int pidx)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &unhandled_key);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    lua_pushvalue(L, pidx);
    lua_rawseti(L, -2, n + 1);
    lua_pop(L, 1);
}

static void settle(lua_State *L, int pidx, int state, int vidx)
{
    pidx = lua_absindex(L, pidx);
    vidx = lua_absindex(L, vidx);
    promise *p = lua_touserdata(L, pidx);
    if (p->state != PENDING)
        return;
    p->state = (unsigned char)state;
    p->locked = 0;
    lua_pushvalue(L, vidx);
    lua_setiuservalue(L, pidx, UV_VALUE);
    int n = p->nreactions;
    p->nreactions = 0;
    int job = state == FULFILLED ? JOB_FULFILLED : JOB_REJECTED;
    int handler_uv = state == FULFILLED ? UV_ON_FULFILLED : UV_ON_REJECTED;
    if (n >= 1) {
        lua_getiuservalue(L, pidx, handler_uv);
        lua_getiuservalue(L, pidx, UV_DERIVED);
        aws_jobs_push(L, p->lp, job, -2, -1, vidx);
        lua_pop(L, 2);
        for (int uv = UV_ON_FULFILLED; uv <= UV_DERIVED; uv++) {
            lua_pushnil(L);
            lua_setiuservalue(L, pidx, uv);
        }
    }
    if (n >= 2) {
        lua_getiuservalue(L, pidx, UV_MORE);
        int more = lua_gettop(L);
        int offset = state == FULFILLED ? 1 : 2;
        for (int i = 0; i < n - 1; i++) {
            lua_rawgeti(L, more, 3 * i + offset);
            lua_rawgeti(L, more, 3 * i + 3);
            aws_jobs_push(L, p->lp, job, -2, -1, vidx);
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_setiuservalue(L, pidx, UV_MORE);
    }
    if (state == REJECTED && !p->handled)
        track_unhandled(L, pidx);
}

void aws_promise_reject(lua_State *L, int pidx, int ridx)
{
    settle(L, pidx, REJECTED, ridx);
}

/* Adds a reaction; `derived` may be nil for reactions whose result nobody needs. */
static void add_reaction(lua_State *L, int pidx, int on_fulfilled, int on_rejected, int derived)
{
    pidx = lua_absindex(L, pidx);
    on_fulfilled = lua_absindex(L, on_fulfilled);
    on_rejected = lua_absindex(L, on_rejected);
    derived = lua_absindex(L, derived);
    promise *p = lua_touserdata(L, pidx);
    p->handled = 1;
    if (p->state != PENDING) {
        int fulfilled = p->state == FULFILLED;
        lua_getiuservalue(L, pidx, UV_VALUE);
        aws_jobs_push(L, p->lp, fulfilled ? JOB_FULFILLED : JOB_REJECTED,
                      fulfilled ? on_fulfilled : on_rejected, derived, -1);
        lua_pop(L, 1);
        return;
    }
    /* The first reaction goes in user values UV_ON_FULFILLED..UV_DERIVED, the others in triples
     * in the UV_MORE table. */
    const int reaction[3] = {on_fulfilled, on_rejected, derived};
    if (p->nreactions == 0) {
        for (int k = 0; k < 3; k++) {
            lua_pushvalue(L, reaction[k]);
            lua_setiuservalue(L, pidx, UV_ON_FULFILLED + k);
        }
    } else {
        if (lua_getiuservalue(L, pidx, UV_MORE) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_createtable(L, 6, 0);
            lua_pushvalue(L, -1);
            lua_setiuservalue(L, pidx, UV_MORE);
        }
        int base = 3 * (p->nreactions - 1);
        for (int k = 0; k < 3; k++) {
            lua_pushvalue(L, reaction[k]);
            lua_rawseti(L, -2, base + 1 + k);
        }
        lua_pop(L, 1);
    }
    p->nreactions++;
}

static int read_next_field(lua_State *L)
{
    lua_getfield(L, 1, "next");
    return 1;
}

/* The resolution procedure (A+ 2.3), for a promise that is not yet resolved. */
static void resolve_now(lua_State *L, int pidx, int vidx)
{
    pidx = lua_absindex(L, pidx);
    vidx = lua_absindex(L, vidx);
    promise *p = lua_touserdata(L, pidx);
    if (lua_rawequal(L, pidx, vidx)) {
        aws_push_error(L, "TypeError", "a promise cannot be resolved with itself");
        settle(L, pidx, REJECTED, -1);
        lua_pop(L, 1);
        return;
    }
    int type = lua_type(L, vidx);
    if (type != LUA_TTABLE && type != LUA_TUSERDATA) {
        settle(L, pidx, FULFILLED, vidx);
        return;
    }
    promise *other = luaL_testudata(L, vidx, AWS_PROMISE_MT);
    if (other) {
        if (other->state != PENDING) {
            other->handled = 1;
            lua_getiuservalue(L, vidx, UV_VALUE);
            settle(L, pidx, other->state, -1);
            lua_pop(L, 1);
        } else {
            p->locked = 1;
            lua_pushnil(L);
            add_reaction(L, vidx, -1, -1, pidx);
            lua_pop(L, 1);
        }
        return;
    }
    /* Reading `next` may run an __index that raises: that error rejects. */
    lua_pushcfunction(L, read_next_field);
    lua_pushvalue(L, vidx);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        settle(L, pidx, REJECTED, -1);
        lua_pop(L, 1);
        return;
    }
    if (!is_callable(L, -1)) {
        lua_pop(L, 1);
        settle(L, pidx, FULFILLED, vidx);
        return;
    }
    p->locked = 1;
    aws_jobs_push(L, p->lp, JOB_THENABLE, vidx, pidx, -1);
    lua_pop(L, 1);
}

void aws_promise_resolve(lua_State *L, int pidx, int vidx)
{
    promise *p = lua_touserdata(L, pidx);
    if (p->state != PENDING || p->locked)
        return;
    resolve_now(L, pidx, vidx);
}

/* ---------------------------------------------------------------- jobs */

/* resolve/reject handed to a thenable's `next`: the first call of either wins. Upvalues: the
 * promise and a shared one-byte flag. */
static int thenable_settle(lua_State *L, int reject)
{
    lua_settop(L, 1);
    unsigned char *called = lua_touserdata(L, lua_upvalueindex(2));
    if (*called)
        return 0;
    *called = 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    if (reject)
        settle(L, 2, REJECTED, 1);
    else
        resolve_now(L, 2, 1);
    return 0;
}

static int thenable_resolve(lua_State *L)
{
    return thenable_settle(L, 0);
}

static int thenable_reject(lua_State *L)
{
    return thenable_settle(L, 1);
}

static void run_thenable(lua_State *L, int thenable, int pidx, int next_fn)
{
    unsigned char *called = lua_newuserdatauv(L, 1, 0);
    *called = 0;
    int flag = lua_gettop(L);
    lua_pushvalue(L, next_fn);
    lua_pushvalue(L, thenable);
    lua_pushvalue(L, pidx);
    lua_pushvalue(L, flag);
    lua_pushcclosure(L, thenable_resolve, 2);
    lua_pushvalue(L, pidx);
    lua_pushvalue(L, flag);
    lua_pushcclosure(L, thenable_reject, 2);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        /* An error after resolve or reject was called is ignored (A+ 2.3.3.3.4.1). */
        if (!*called) {
            *called = 1;
            settle(L, pidx, REJECTED, -1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* The loop's job runner: a, b, c are the top three values; the loop pops what is left. */
static void run_job(lua_State *L, aws_loop *lp, int kind, void *ud)
{
    (void)ud;
    int a = lua_gettop(L) - 2, b = a + 1, c = a + 2;
    switch (kind) {
    case JOB_FULFILLED:
    case JOB_REJECTED:
        /* a: handler, b: derived promise or nil, c: value */
        if (is_callable(L, a)) {
            lua_pushvalue(L, a);
            lua_pushvalue(L, c);
            if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
                if (!lua_isnil(L, b))
                    resolve_now(L, b, -1);
            } else if (!lua_isnil(L, b)) {
                settle(L, b, REJECTED, -1);
            } else {
                aws_report_error(L, lp, -1, "promise reaction");
            }
            lua_pop(L, 1);
        } else if (!lua_isnil(L, b)) {
            settle(L, b, kind == JOB_FULFILLED ? FULFILLED : REJECTED, c);
        }
        break;
    case JOB_THENABLE:
        /* a: thenable, b: promise, c: its `next` */
        run_thenable(L, a, b, c);
        break;
    default:
        lua_pushfstring(L, "a job of unknown kind %d", kind);
        aws_report_error(L, lp, -1, "running a promise job");
        break;
    }
}

/* ---------------------------------------------------------------- unhandled rejections */

/* The loop's idle hook. A reaction attached during the turn that rejected the promise still counts
 * as handling it: that is why the report waits until the jobs ran dry. */
static void report_unhandled(lua_State *L, aws_loop *lp, void *ud)
{
    (void)ud;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &unhandled_key);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n == 0) {
        lua_pop(L, 1);
        return;
    }
    int list = lua_gettop(L);
    lua_newtable(L); /* reports may reject more promises: they go to the next report */
    lua_rawsetp(L, LUA_REGISTRYINDEX, &unhandled_key);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        promise *p = lua_touserdata(L, -1);
        if (!p->handled && !p->reported) {
            p->reported = 1;
            lua_getiuservalue(L, -1, UV_VALUE);
            aws_report_rejection(L, lp, -1, -2);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* ---------------------------------------------------------------- Lua API */

static int l_next(lua_State *L)
{
    check_promise(L, 1, "next");
    lua_settop(L, 3);
    aws_promise_new(L, ((promise *)lua_touserdata(L, 1))->lp);
    add_reaction(L, 1, 2, 3, 4);
    return 1;
}

static int l_catch(lua_State *L)
{
    check_promise(L, 1, "catch");
    lua_settop(L, 2);
    lua_pushnil(L);
    lua_insert(L, 2);
    aws_promise_new(L, ((promise *)lua_touserdata(L, 1))->lp);
    add_reaction(L, 1, 2, 3, 4);
    return 1;
}

static int l_state(lua_State *L)
{
    promise *p = check_promise(L, 1, "state");
    lua_pushstring(L, state_names[p->state]);
    if (p->state == PENDING)
        return 1;
    lua_getiuservalue(L, 1, UV_VALUE);
    return 2;
}

static int l_tostring(lua_State *L)
{
    promise *p = check_promise(L, 1, "tostring");
    lua_pushfstring(L, "Promise (%s): %p", state_names[p->state], (void *)p);
    return 1;
}

/* Executor's resolve and reject: the first call of either wins (upvalue 1: the promise). */
static int executor_resolve(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    aws_promise_resolve(L, 2, 1);
    return 0;
}

static int executor_reject(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    promise *p = lua_touserdata(L, 2);
    if (p->state == PENDING && !p->locked)
        settle(L, 2, REJECTED, 1);
    return 0;
}

static int l_new(lua_State *L)
{
    aws_loop *lp = lua_touserdata(L, lua_upvalueindex(1));
    if (!is_callable(L, 1))
        return aws_raise_error(L, "TypeError", "Promise.new: the executor must be callable, got %s", luaL_typename(L, 1));
    lua_settop(L, 1);
    aws_promise_new(L, lp);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, executor_resolve, 1);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, executor_reject, 1);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        promise *p = lua_touserdata(L, 2);
        if (p->state == PENDING && !p->locked)
            settle(L, 2, REJECTED, -1);
        lua_pop(L, 1);
    }
    return 1;
}

/* Promise.resolve(v): v itself when it is already one of ours. */
static int l_resolve(lua_State *L)
{
    lua_settop(L, 1);
    if (aws_promise_test(L, 1))
        return 1;
    aws_promise_new(L, lua_touserdata(L, lua_upvalueindex(1)));
    resolve_now(L, 2, 1);
    return 1;
}

static int l_reject(lua_State *L)
{
    lua_settop(L, 1);
    aws_promise_new(L, lua_touserdata(L, lua_upvalueindex(1)));
    settle(L, 2, REJECTED, 1);
    return 1;
}

/* pending() and settle(p, ok, v): a deferred without the executor's closures, for the request
 * layer that settles one promise per request from its own continuations. */
static int l_pending(lua_State *L)
{
    aws_promise_new(L, lua_touserdata(L, lua_upvalueindex(1)));
    return 1;
}

static int l_settle(lua_State *L)
{
    promise *p = check_promise(L, 1, "settle");
    lua_settop(L, 3);
    if (p->state != PENDING || p->locked) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (lua_toboolean(L, 2))
        resolve_now(L, 1, 3);
    else
        settle(L, 1, REJECTED, 3);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_is_promise(lua_State *L)
{
    lua_pushboolean(L, aws_promise_test(L, 1));
    return 1;
}

static int l_mark_handled(lua_State *L)
{
    check_promise(L, 1, "mark_handled")->handled = 1;
    return 0;
}

/* ---------------------------------------------------------------- waiting */

/* Blocks the calling thread, turning the loop, until the promise settles; returns its value or
 * raises its reason. */
static int l_wait(lua_State *L)
{
    aws_loop *lp = lua_touserdata(L, lua_upvalueindex(1));
    promise *p = check_promise(L, 1, "await");
    lua_settop(L, 1);
    p->handled = 1;
    while (p->state == PENDING) {
        if (aws_loop_in_step(lp))
            return aws_raise_error(L, "LoopError", "await: cannot block inside a loop callback; run the code with AWS.async(fn) and await there");
        if (!aws_loop_turn(L, lp, -1) && p->state == PENDING)
            return aws_raise_error(L, "LoopError", "await: the promise can never settle: the loop has nothing left to run");
    }
    lua_getiuservalue(L, 1, UV_VALUE);
    if (p->state == REJECTED)
        return lua_error(L);
    return 1;
}

/* The timer's ud is a registry ref to {promise, value}. */
static void resolve_delay(lua_State *L, aws_loop *lp, void *ud)
{
    int ref = (int)(intptr_t)ud;
    (void)lp;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    aws_promise_resolve(L, -2, -1);
    lua_pop(L, 3);
}

/* delay(ms, value) -> a promise that fulfils with value after ms. */
static int l_delay(lua_State *L)
{
    aws_loop *lp = lua_touserdata(L, lua_upvalueindex(1));
    int is_number;
    lua_Number ms = lua_tonumberx(L, 1, &is_number);
    if (!is_number || !(ms >= 0))
        return aws_raise_error(L, "TypeError", "delay: milliseconds must be a number >= 0, got %s", luaL_typename(L, 1));
    lua_settop(L, 2);
    aws_promise_new(L, lp);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 2);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (!aws_timer_start(lp, (double)ms, resolve_delay, (void *)(intptr_t)ref)) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return aws_raise_error(L, "OutOfMemoryError", "delay: out of memory");
    }
    return 1;
}

void aws_open_promise(lua_State *L)
{
    /* stack: loop, module */
    aws_loop *lp = lua_touserdata(L, -2);
    aws_loop_set_job_runner(L, lp, run_job, NULL);
    aws_loop_add_idle(L, lp, report_unhandled, NULL);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &unhandled_key);

    static const luaL_Reg methods[] = {
        {"next", l_next}, {"catch", l_catch}, {"state", l_state}, {NULL, NULL},
    };
    if (luaL_newmetatable(L, AWS_PROMISE_MT)) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, "promise_methods"); /* the Lua layer adds finally and await */
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "awspromise.Promise");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);

    static const luaL_Reg functions[] = {
        {"new", l_new},
        {"resolve", l_resolve},
        {"reject", l_reject},
        {"is_promise", l_is_promise},
        {"pending", l_pending},
        {"settle", l_settle},
        {"mark_handled", l_mark_handled},
        {"wait", l_wait},
        {"delay", l_delay},
        {NULL, NULL},
    };
    lua_pushvalue(L, -2);
    luaL_setfuncs(L, functions, 1);
}

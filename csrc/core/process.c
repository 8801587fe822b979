/* core.spawn(command [, opts]): runs a program without blocking the loop (credential_process
 * is its first user) and returns a promise of {stdout = "...", stderr = "...", status = n}.
 *
 *   command  a string, run by /bin/sh -c, or a sequence {program, arg1, ...} run directly
 *            (PATH is searched when the program has no slash)
 *   opts     timeout = ms: the child is killed (SIGKILL) and the promise rejects with
 *                          TimeoutError; maxBuffer = bytes per stream (default 16 MiB): beyond
 *                          it the child is killed and the promise rejects with ProcessError
 * The child gets /dev/null as stdin, the parent's environment and no other descriptor. A child killed by a signal
 * settles with status = 128 + signal and `signal` set, as a shell reports it. A program that
 * cannot be started rejects with SpawnError.
 *
 * Both pipes are non-blocking and watched by the loop, which is held while the child lives.
 * The child is reaped once both pipes reached end of file; one that closed them but has not
 * exited yet is polled with a short, growing timer, so no zombie is left behind. */
#include "core/process.h"

#include "core/error.h"
#include "core/loop.h"
#include "core/promise.h"
#include "core/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_MAX_BUFFER (16u << 20)
#define READS_PER_WAKEUP 16
#define REAP_FIRST_MS 1.0
#define REAP_MAX_MS 50.0

typedef struct proc {
    aws_loop *lp;
    pid_t pid;
    int fd[2];            /* read ends of stdout and stderr; -1 once closed */
    strbuf out[2];
    int ref;              /* registry ref of the promise */
    char *what;           /* the program, for messages */
    aws_timer *reap_timer;
    aws_timer *kill_timer;
    double reap_wait_ms;
    double timeout_ms;
    size_t max_buffer;
    int timed_out;
    const char *failure;  /* why the output is unusable (memory, size) */
    int have_status;
    int status;
} proc;

static void close_stream(proc *pr, int k)
{
    if (pr->fd[k] < 0)
        return;
    aws_io_unwatch(pr->lp, pr->fd[k]); /* before close: the number may be reused at once */
    close(pr->fd[k]);
    pr->fd[k] = -1;
}

static void free_proc(proc *pr)
{
    close_stream(pr, 0);
    close_stream(pr, 1);
    if (pr->reap_timer)
        aws_timer_cancel(pr->lp, pr->reap_timer);
    if (pr->kill_timer)
        aws_timer_cancel(pr->lp, pr->kill_timer);
    sb_free(&pr->out[0]);
    sb_free(&pr->out[1]);
    free(pr->what);
    free(pr);
}

static void push_streams(lua_State *L, proc *pr)
{
    for (int k = 0; k < 2; k++) {
        lua_pushlstring(L, pr->out[k].data ? pr->out[k].data : "", pr->out[k].len);
        lua_setfield(L, -2, k == 0 ? "stdout" : "stderr");
    }
}

/* Settles the promise; runs in protected mode (upvalue-free, the proc as argument 1). */
static int settle(lua_State *L)
{
    proc *pr = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, pr->ref);
    int pidx = lua_gettop(L);
    const char *code = NULL;
    if (pr->timed_out) {
        code = "TimeoutError";
        lua_pushfstring(L, "spawn: '%s' did not finish within %d ms and was killed", pr->what,
                        (int)pr->timeout_ms);
    } else if (pr->failure) {
        code = "ProcessError";
        lua_pushfstring(L, "spawn: '%s': %s; the child was killed", pr->what, pr->failure);
    } else if (!pr->have_status) {
        code = "ProcessError";
        lua_pushfstring(L, "spawn: the exit status of '%s' was lost (is SIGCHLD ignored?)", pr->what);
    }
    if (code) {
        aws_push_error(L, code, lua_tostring(L, -1));
        push_streams(L, pr);
        aws_promise_reject(L, pidx, -1);
        return 0;
    }
    lua_createtable(L, 0, 4);
    push_streams(L, pr);
    if (WIFSIGNALED(pr->status)) {
        lua_pushinteger(L, 128 + WTERMSIG(pr->status));
        lua_setfield(L, -2, "status");
        lua_pushinteger(L, WTERMSIG(pr->status));
        lua_setfield(L, -2, "signal");
    } else {
        lua_pushinteger(L, WEXITSTATUS(pr->status));
        lua_setfield(L, -2, "status");
    }
    aws_promise_resolve(L, pidx, -1);
    return 0;
}

static void finish(lua_State *L, proc *pr)
{
    aws_loop *lp = pr->lp;
    lua_pushcfunction(L, settle);
    lua_pushlightuserdata(L, pr);
    aws_gate_call(L, lp, 1, 0, "settling a spawned process");
    luaL_unref(L, LUA_REGISTRYINDEX, pr->ref);
    free_proc(pr);
    aws_loop_hold(lp, -1);
}

static void try_reap(lua_State *L, proc *pr);

static void on_reap_timer(lua_State *L, aws_loop *lp, void *ud)
{
    proc *pr = ud;
    (void)lp;
    pr->reap_timer = NULL;
    try_reap(L, pr);
}

static void try_reap(lua_State *L, proc *pr)
{
    int status = 0;
    pid_t r;
    do
        r = waitpid(pr->pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        /* It closed its output but still runs: look again soon, less often as time passes. */
        pr->reap_timer = aws_timer_start(pr->lp, pr->reap_wait_ms, on_reap_timer, pr);
        if (pr->reap_timer) {
            pr->reap_wait_ms = pr->reap_wait_ms * 2 > REAP_MAX_MS ? REAP_MAX_MS : pr->reap_wait_ms * 2;
            return;
        }
        /* No memory for a timer: waiting here is the only way to leave no zombie. */
        do
            r = waitpid(pr->pid, &status, 0);
        while (r < 0 && errno == EINTR);
    }
    if (r > 0) {
        pr->have_status = 1;
        pr->status = status;
    }
    finish(L, pr);
}

static void abandon_output(proc *pr, const char *why)
{
    if (!pr->failure && !pr->timed_out)
        pr->failure = why;
    kill(pr->pid, SIGKILL);
    /* Stop listening: a grandchild may hold the pipes open long after the child died. */
    close_stream(pr, 0);
    close_stream(pr, 1);
}

static void on_readable(lua_State *L, aws_loop *lp, int fd, uint32_t events, void *ud)
{
    proc *pr = ud;
    int k = fd == pr->fd[0] ? 0 : 1;
    char buf[16384];
    (void)lp;
    (void)events;
    /* Bounded, so that a chatty child cannot starve the rest of the loop; epoll is
     * level-triggered and calls again. */
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            if (pr->out[k].len + (size_t)n > pr->max_buffer) {
                abandon_output(pr, "the output exceeded maxBuffer");
                break;
            }
            if (!sb_append(&pr->out[k], buf, (size_t)n)) {
                abandon_output(pr, "out of memory while collecting the output");
                break;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close_stream(pr, k); /* end of file, or an error that ends the stream just the same */
        break;
    }
    if (pr->fd[0] < 0 && pr->fd[1] < 0)
        try_reap(L, pr);
}

static void on_timeout(lua_State *L, aws_loop *lp, void *ud)
{
    proc *pr = ud;
    (void)lp;
    pr->kill_timer = NULL;
    pr->timed_out = 1;
    abandon_output(pr, NULL);
    try_reap(L, pr);
}

/* ---------------------------------------------------------------- start */

/* Rejects the promise at the top of the stack with SpawnError and releases what was taken. */
static int reject_start(lua_State *L, proc *pr, int err)
{
    lua_pushfstring(L, "spawn: cannot run '%s': %s", pr->what ? pr->what : "?", strerror(err));
    aws_push_error(L, "SpawnError", lua_tostring(L, -1));
    lua_remove(L, -2);
    aws_promise_reject(L, -2, -1);
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, pr->ref);
    free_proc(pr);
    return 1;
}

static int make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    /* Only our end is non-blocking: the child's writes must block as usual. */
    int fl = fcntl(fds[0], F_GETFL);
    if (fl < 0 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    return 0;
}

static int start_child(proc *pr, char **argv, int wfd[2])
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int err = posix_spawn_file_actions_init(&fa);
    if (err)
        return err;
    err = posix_spawnattr_init(&attr);
    if (err) {
        posix_spawn_file_actions_destroy(&fa);
        return err;
    }
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    /* Ignored signals survive exec: give the child the usual SIGPIPE whatever we set. */
    sigaddset(&dfl, SIGPIPE);
    if (!err)
        err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, wfd[0], 1);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, wfd[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* Descriptors opened without O_CLOEXEC elsewhere in the process (Lua's io library, other
     * libraries) must not reach a credential helper: close all but the three streams. */
    if (!err)
        err = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    if (!err)
        err = posix_spawnattr_setsigmask(&attr, &none);
    if (!err)
        err = posix_spawnattr_setsigdefault(&attr, &dfl);
    if (!err)
        err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!err)
        err = posix_spawnp(&pr->pid, argv[0], &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return err;
}

/* argv as a NULL-terminated array in a userdata left on the stack (the strings stay anchored
 * by the command table or string at index 1). */
static char **build_argv(lua_State *L)
{
    static const char *shell[] = {"/bin/sh", "-c"};
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len;
        const char *cmd = lua_tolstring(L, 1, &len);
        if (strlen(cmd) != len)
            aws_raise_error(L, "TypeError", "spawn: the command contains a NUL byte");
        char **argv = lua_newuserdatauv(L, 4 * sizeof *argv, 0);
        argv[0] = (char *)shell[0];
        argv[1] = (char *)shell[1];
        argv[2] = (char *)cmd;
        argv[3] = NULL;
        return argv;
    }
    if (lua_type(L, 1) != LUA_TTABLE)
        aws_raise_error(L, "TypeError", "spawn: expected a command string or an argv sequence, got %s", luaL_typename(L, 1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    if (n < 1)
        aws_raise_error(L, "TypeError", "spawn: the argv sequence is empty");
    if (n > 1 << 20)
        aws_raise_error(L, "TypeError", "spawn: too many arguments");
    char **argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        size_t len;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!s || strlen(s) != len)
            aws_raise_error(L, "TypeError", "spawn: argv[%d] must be a string without NUL bytes", (int)i);
        argv[i - 1] = (char *)s; /* anchored by the table at index 1 */
        lua_pop(L, 1);
    }
    argv[n] = NULL;
    return argv;
}

static int l_spawn(lua_State *L)
{
    aws_loop *lp = aws_loop_of(L);
    double timeout = 0;
    lua_Integer max_buffer = DEFAULT_MAX_BUFFER;
    if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TTABLE)
            aws_raise_error(L, "TypeError", "spawn: opts must be a table, got %s", luaL_typename(L, 2));
        lua_getfield(L, 2, "timeout");
        if (!lua_isnil(L, -1)) {
            timeout = lua_tonumber(L, -1);
            if (!lua_isnumber(L, -1) || !(timeout > 0))
                aws_raise_error(L, "TypeError", "spawn: opts.timeout must be a number of ms > 0");
        }
        lua_getfield(L, 2, "maxBuffer");
        if (!lua_isnil(L, -1)) {
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
                aws_raise_error(L, "TypeError", "spawn: opts.maxBuffer must be an integer > 0");
            max_buffer = lua_tointeger(L, -1);
        }
        lua_pop(L, 2);
    }
    lua_settop(L, 1);
    char **argv = build_argv(L);

    /* Everything that may raise comes before the first resource that Lua would not free. */
    aws_promise_new(L, lp);
    lua_pushvalue(L, -1);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    proc *pr = calloc(1, sizeof *pr);
    if (!pr) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return aws_raise_error(L, "OutOfMemoryError", "spawn: out of memory");
    }
    pr->lp = lp;
    pr->ref = ref;
    pr->fd[0] = pr->fd[1] = -1;
    pr->reap_wait_ms = REAP_FIRST_MS;
    pr->timeout_ms = timeout;
    pr->max_buffer = (size_t)max_buffer;
    const char *what = lua_type(L, 1) == LUA_TSTRING ? argv[2] : argv[0];
    pr->what = strdup(what);
    if (!pr->what)
        return reject_start(L, pr, ENOMEM);

    int out[2], err[2];
    int e = make_pipe(out);
    if (e)
        return reject_start(L, pr, e);
    e = make_pipe(err);
    if (e) {
        close(out[0]);
        close(out[1]);
        return reject_start(L, pr, e);
    }
    pr->fd[0] = out[0];
    pr->fd[1] = err[0];
    int wfd[2] = {out[1], err[1]};
    e = start_child(pr, argv, wfd);
    close(out[1]);
    close(err[1]);
    if (e)
        return reject_start(L, pr, e);

    int watched = aws_io_watch(lp, pr->fd[0], EPOLLIN, on_readable, pr) &&
                  aws_io_watch(lp, pr->fd[1], EPOLLIN, on_readable, pr);
    if (watched && timeout > 0) {
        pr->kill_timer = aws_timer_start(lp, timeout, on_timeout, pr);
        watched = pr->kill_timer != NULL;
    }
    if (!watched) {
        kill(pr->pid, SIGKILL);
        while (waitpid(pr->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return reject_start(L, pr, ENOMEM);
    }
    aws_loop_hold(lp, 1);
    return 1;
}

/* core.setenv(name, value_or_nil): the process environment that children and os.getenv see
 * (Lua has no way to change it; the Lambda runtime sets _X_AMZ_TRACE_ID per invocation). */
static int l_setenv(lua_State *L)
{
    size_t nlen;
    const char *name = luaL_checklstring(L, 1, &nlen);
    const char *value = luaL_optstring(L, 2, NULL);
    if (nlen == 0 || strchr(name, '=') || strlen(name) != nlen)
        return aws_raise_error(L, "TypeError", "setenv: '%s' is not an environment variable name", name);
    if (value && strlen(value) != lua_rawlen(L, 2))
        return aws_raise_error(L, "TypeError", "setenv: the value of %s holds a NUL byte", name);
    int rc = value ? setenv(name, value, 1) : unsetenv(name);
    if (rc != 0)
        return aws_raise_error(L, "OutOfMemoryError", "setenv: cannot set %s", name);
    return 0;
}

void aws_open_process(lua_State *L)
{
    static const luaL_Reg functions[] = {{"spawn", l_spawn}, {"setenv", l_setenv}, {NULL, NULL}};
    luaL_setfuncs(L, functions, 0);
}

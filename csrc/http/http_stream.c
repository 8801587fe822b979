/* What a response becomes while it arrives: libcurl's header and body callbacks (C buffers and
 * flags only), and, for a transfer with opts.onHeaders / opts.onBody, the calls into Lua that
 * after_io queues as jobs: onHeaders(ctx, head) once the final header block is in, and
 * onBody(ctx, chunk) for the bytes gathered in each I/O turn, in order, before the outcome.
 *
 * Backpressure: the engine holds at most STREAM_HIGH_WATER bytes of a streamed body (plus what
 * one libcurl callback brings); past it libcurl is paused until the queued chunk was consumed.
 * An onBody that returns false pauses receiving until handle:resume(). A raising onHeaders or
 * onBody ends the transfer: done (or the promise) gets that error. */
#include "http/http_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_HIGH_WATER (64 * 1024)

/* ---------------------------------------------------------------- libcurl callbacks (no Lua) */

/* The status of the header block in head ("HTTP/1.1 200 OK\r\n..."), 0 when unreadable. */
static int status_of(const strbuf *head)
{
    if (!head->data || head->len < 12)
        return 0;
    const char *sp = memchr(head->data, ' ', head->len);
    if (!sp || (size_t)(sp - head->data) + 4 > head->len)
        return 0;
    int status = 0;
    for (const char *d = sp + 1; d < sp + 4 && *d >= '0' && *d <= '9'; d++)
        status = status * 10 + (*d - '0');
    return status;
}

void http_mark_due(transfer *t)
{
    if (t->due_queued)
        return;
    t->due_queued = 1;
    t->due_next = t->h->due;
    t->h->due = t;
}

size_t http_on_header(char *data, size_t size, size_t n, void *ud)
{
    transfer *t = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        sb_reset(&t->head);
    if (!sb_append(&t->head, data, len))
        return 0;
    /* The blank line ends a block; a 1xx block (100-continue) is followed by the final one. */
    int blank = (len == 2 && data[0] == '\r') || (len == 1 && data[0] == '\n');
    if (blank && !t->head_complete && status_of(&t->head) >= 200) {
        t->head_complete = 1;
        if (t->head_hook)
            http_mark_due(t);
    }
    return len;
}

int http_on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
    transfer *t = ud;
    if (++t->sends == 1)
        return CURL_PREREQFUNC_OK;
    t->resend_refused = 1;
    return CURL_PREREQFUNC_ABORT;
}

size_t http_on_body(char *data, size_t size, size_t n, void *ud)
{
    transfer *t = ud;
    size_t len = size * n;
    if (t->stream_body) {
        if (t->body.len >= STREAM_HIGH_WATER) {
            t->engine_paused = 1; /* libcurl keeps these bytes and offers them again on resume */
            return CURL_WRITEFUNC_PAUSE;
        }
        http_mark_due(t);
    }
    return sb_append(&t->body, data, len) ? len : 0;
}

/* ---------------------------------------------------------------- Lua side (jobs) */

void http_apply_pause(transfer *t)
{
    if (!t->easy || !t->in_curl)
        return;
    int recv = t->engine_paused || t->user_paused;
    curl_easy_pause(t->easy, recv ? CURLPAUSE_RECV : CURLPAUSE_CONT);
}

void http_error_from_raised(lua_State *L, const char *code)
{
    int raised = lua_gettop(L), is_error = 0;
    if (lua_getmetatable(L, raised)) {
        luaL_getmetatable(L, AWS_ERROR_MT);
        is_error = lua_rawequal(L, -1, -2);
    }
    lua_settop(L, raised);
    if (!is_error) {
        const char *message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1);
        http_push_transport_error(L, code, message, 0);
        lua_remove(L, -2);
    }
}

/* A raising callback ends the transfer with what it raised (an awspromise.Error as is, anything
 * else as a ResponseStreamError). The raised value is on the stack top (popped). */
static void stream_fail(lua_State *L, transfer *t, int tidx)
{
    http_error_from_raised(L, "ResponseStreamError");
    t->stream_failed = 1;
    if (t->active) {
        http_release(L, t);
        http_deliver(L, t, tidx, 0);
    } else {
        lua_setiuservalue(L, tidx, UV_STREAM_ERROR); /* the queued outcome gives way to it */
    }
}

/* Calls the callback in user value uv with (ctx, value) protected; returns 0 when it raised
 * (the transfer has failed then), else 1 with its first result on the stack top. */
static int call_hook(lua_State *L, transfer *t, int tidx, int uv, int value)
{
    lua_getiuservalue(L, tidx, uv);
    lua_getiuservalue(L, tidx, UV_CONTEXT);
    lua_pushvalue(L, value);
    if (lua_pcall(L, 2, 1, 0) == LUA_OK)
        return 1;
    stream_fail(L, t, tidx);
    return 0;
}

/* Job: onHeaders(ctx, head); arguments (transfer, head). */
static int head_job(lua_State *L)
{
    transfer *t = lua_touserdata(L, 1);
    if (t->settled || t->stream_failed)
        return 0;
    call_hook(L, t, 1, UV_ON_HEADERS, 2);
    return 0;
}

/* Job: onBody(ctx, chunk); arguments (transfer, chunk). Receiving resumes once the consumer
 * took the chunk, unless it answered false. */
static int chunk_job(lua_State *L)
{
    transfer *t = lua_touserdata(L, 1);
    if (t->settled || t->stream_failed)
        return 0;
    if (!call_hook(L, t, 1, UV_ON_BODY, 2))
        return 0;
    if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
        t->user_paused = 1;
    t->engine_paused = 0;
    http_apply_pause(t);
    return 0;
}

/* Job: the outcome, unless a callback raised in between; arguments (transfer, outcome) and
 * the upvalue says whether the outcome is a success. */
static int outcome_job(lua_State *L)
{
    transfer *t = lua_touserdata(L, 1);
    if (t->settled)
        return 0;
    int ok = lua_toboolean(L, lua_upvalueindex(1));
    if (t->stream_failed) {
        lua_getiuservalue(L, 1, UV_STREAM_ERROR);
        ok = 0;
    } else {
        lua_pushvalue(L, 2);
    }
    http_deliver(L, t, 1, ok);
    return 0;
}

static void queue_job(lua_State *L, transfer *t, int tidx, lua_CFunction job)
{
    lua_pushcfunction(L, job);
    aws_jobs_push(L, t->h->lp, AWS_JOB_CALL, -1, tidx, -2);
    lua_pop(L, 2); /* the job and its value */
}

void http_stream_due(lua_State *L, transfer *t, int tidx)
{
    if (t->head_hook && t->head_complete && !t->head_told) {
        t->head_told = 1;
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, status_of(&t->head));
        lua_setfield(L, -2, "statusCode");
        http_push_headers(L, &t->head);
        lua_setfield(L, -2, "headers");
        queue_job(L, t, tidx, head_job);
    }
    if (t->stream_body && t->body.len) {
        lua_pushlstring(L, t->body.data, t->body.len);
        sb_reset(&t->body);
        queue_job(L, t, tidx, chunk_job);
    }
}

void http_stream_finish(lua_State *L, transfer *t, int tidx, int ok)
{
    lua_pushboolean(L, ok);
    lua_pushcclosure(L, outcome_job, 1);
    aws_jobs_push(L, t->h->lp, AWS_JOB_CALL, -1, tidx, -2);
    lua_pop(L, 2);
}

void http_push_headers(lua_State *L, const strbuf *head)
{
    lua_createtable(L, 0, 8);
    if (!head->data)
        return;
    const char *p = head->data, *end = head->data + head->len;
    const char *eol = memchr(p, '\n', (size_t)(end - p)); /* skip the status line */
    p = eol ? eol + 1 : end;
    char name[128];
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && colon > p && (size_t)(colon - p) < sizeof name) {
            size_t nlen = (size_t)(colon - p);
            for (size_t i = 0; i < nlen; i++)
                name[i] = (char)tolower((unsigned char)p[i]);
            const char *v = colon + 1, *vend = line_end;
            while (v < vend && (*v == ' ' || *v == '\t'))
                v++;
            while (vend > v && (vend[-1] == '\r' || vend[-1] == ' ' || vend[-1] == '\t'))
                vend--;
            lua_pushlstring(L, name, nlen);
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) == LUA_TSTRING) {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(vend - v));
                lua_concat(L, 3);
            } else {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(vend - v));
            }
            lua_rawset(L, -3);
        }
        p = eol ? eol + 1 : end;
    }
}

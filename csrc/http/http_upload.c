/* Streaming request bodies: core.http's opts.bodyReader, a function returning the next chunk
 * (a string) or nil at the end, with opts.bodyLength when the size is known (else the body goes
 * chunked). libcurl pulls the body through http_on_upload_read from one bounded buffer; the
 * reader is called only from a loop job, never inside a libcurl callback: an empty buffer
 * pauses sending, after_io queues the refill, and the refill resumes the transfer.
 *
 * A reader that raises ends the transfer with what it raised (an awspromise.Error as is,
 * anything else as a RequestBodyError, not retryable). */
#include "http/http_internal.h"

#include <string.h>

/* ---------------------------------------------------------------- libcurl callback (no Lua) */

size_t http_on_upload_read(char *buf, size_t size, size_t n, void *ud)
{
    transfer *t = ud;
    size_t room = size * n, left = t->upload_buf.len - t->upload_off;
    if (left == 0) {
        if (t->upload_eof)
            return 0;
        t->send_paused = 1;
        http_mark_due(t);
        return CURL_READFUNC_PAUSE;
    }
    size_t take = left < room ? left : room;
    memcpy(buf, t->upload_buf.data + t->upload_off, take);
    t->upload_off += take;
    if (t->upload_off == t->upload_buf.len && !t->upload_eof)
        http_mark_due(t); /* read the next chunk ahead, before libcurl asks for it */
    return take;
}

/* ---------------------------------------------------------------- planning and setup */

void http_plan_upload(lua_State *L, int opts, transfer_plan *plan)
{
    int type = lua_getfield(L, opts, "bodyReader");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (type != LUA_TFUNCTION)
        aws_raise_error(L, "InvalidParameter", "http: opts.bodyReader must be a function, got %s", luaL_typename(L, -1));
    if (plan->body)
        aws_raise_error(L, "InvalidParameter", "http: opts.body and opts.bodyReader exclude each other");
    lua_replace(L, plan->body_slot); /* the reader takes the body's slot */
    plan->upload = 1;
    plan->body_length = -1;
    type = lua_getfield(L, opts, "bodyLength");
    if (type != LUA_TNIL) {
        int exact = 0;
        lua_Integer len = lua_tointegerx(L, -1, &exact);
        if (!exact || len < 0)
            aws_raise_error(L, "InvalidParameter", "http: opts.bodyLength must be a byte count (an integer >= 0)");
        plan->body_length = (curl_off_t)len;
    }
    lua_pop(L, 1);
}

void http_upload_configure(transfer *t, const transfer_plan *plan)
{
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, http_on_upload_read);
    curl_easy_setopt(e, CURLOPT_READDATA, t);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, plan->body_length); /* -1: chunked */
    t->upload = 1;
}

/* ---------------------------------------------------------------- Lua side (jobs) */

/* Ends the transfer with the value on the stack top (popped), as http_error_from_raised makes it. */
static void fail_upload(lua_State *L, transfer *t, int tidx)
{
    http_error_from_raised(L, "RequestBodyError");
    http_release(L, t);
    if (t->head_hook || t->stream_body)
        http_stream_finish(L, t, tidx, 0);
    else
        http_deliver(L, t, tidx, 0);
}

/* Job: one call of the reader into the emptied buffer; argument 1 is the transfer. */
static int refill_job(lua_State *L)
{
    transfer *t = lua_touserdata(L, 1);
    t->refill_queued = 0;
    if (!t->active || t->settled || t->upload_eof)
        return 0;
    lua_settop(L, 1);
    lua_getiuservalue(L, 1, UV_BODY);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK)
        return fail_upload(L, t, 1), 0;
    size_t len = 0;
    const char *chunk = lua_tolstring(L, -1, &len);
    if (lua_type(L, -1) == LUA_TNIL) {
        t->upload_eof = 1;
    } else if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pushfstring(L, "http: the body reader returned a %s (a string or nil expected)", luaL_typename(L, -1));
        return fail_upload(L, t, 1), 0;
    } else if (len == 0) {
        http_upload_due(L, t, 1); /* nothing this time: ask again in a later job */
        return 0;
    } else {
        sb_reset(&t->upload_buf);
        t->upload_off = 0;
        if (!sb_append(&t->upload_buf, chunk, len)) {
            lua_pushliteral(L, "http: out of memory while buffering the request body");
            return fail_upload(L, t, 1), 0;
        }
    }
    if (t->send_paused) {
        t->send_paused = 0;
        http_apply_pause(t); /* resumes sending, keeps receiving as it was */
    }
    return 0;
}

void http_upload_due(lua_State *L, transfer *t, int tidx)
{
    if (t->refill_queued || t->upload_eof || t->upload_off < t->upload_buf.len)
        return;
    t->refill_queued = 1;
    lua_pushcfunction(L, refill_job);
    lua_pushnil(L);
    aws_jobs_push(L, t->h->lp, AWS_JOB_CALL, -2, tidx, -1);
    lua_pop(L, 2);
}

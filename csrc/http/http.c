/* The HTTP engine: libcurl's multi interface driven by the loop's epoll set and timer heap.
 *
 * core.http(opts) starts one attempt and returns (promise, handle). The promise fulfils with
 * {statusCode, headers, body} for any HTTP status and rejects only on transport failure
 * (NetworkingError, TimeoutError, UnknownEndpoint, RequestAbortedError): interpreting a status
 * is the protocol layer's business, retrying is the request layer's. core.http(opts, done, ctx)
 * returns only the handle and, instead of settling a promise, queues one job that calls
 * done(ctx, result), result being the response table or the Error: the request layer's hot
 * path, without a promise and two closures per attempt. When opts.sign is given the request is
 * SigV4-signed here, right before it is queued, so that every attempt is signed anew.
 *
 * Bad options raise at the call, whether the transfer starts at once or waits in the queue:
 * every option is read and checked (http_plan) before any resource is taken. A transfer that
 * cannot start for another reason (libcurl refuses it, memory) fails through its promise or
 * callback, in both cases too.
 *
 * A transfer is a userdata (no finalizer: the loop driver owns every cleanup) anchored in the
 * registry while curl works on it. Nothing here calls into Lua from inside a libcurl callback:
 * the callbacks fill C buffers and flags, and the loop's after-I/O hook settles promises once
 * curl has returned. */
#include "http/http.h"

#include "http/http_internal.h"

#include <ctype.h>
#include <limits.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#define TRANSFER_MT "awspromise.Transfer"
#define USER_AGENT "awspromise/" AWSPROMISE_VERSION " lua/5.4" /* version.lua, by the Makefile */

static const char engine_key = 'H';

/* ---------------------------------------------------------------- libcurl callbacks (no Lua) */

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    transfer *t = ud;
    t->down_total = dltotal;
    t->down_now = dlnow;
    t->up_total = ultotal;
    t->up_now = ulnow;
    if (dlnow != t->down_told || ulnow != t->up_told)
        http_mark_due(t);
    return 0;
}

static void on_io(lua_State *L, aws_loop *lp, int fd, uint32_t events, void *ud)
{
    (void)L;
    (void)lp;
    http_engine *h = ud;
    int flags = 0;
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, flags, &h->running);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    http_engine *h = userp;
    if (what == CURL_POLL_REMOVE) {
        aws_io_unwatch(h->lp, fd);
        return 0;
    }
    uint32_t events = 0;
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    return aws_io_watch(h->lp, fd, events, on_io, h) ? 0 : -1;
}

static void on_timer_due(lua_State *L, aws_loop *lp, void *ud)
{
    (void)L;
    (void)lp;
    http_engine *h = ud;
    h->timer = NULL;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    http_engine *h = userp;
    if (h->timer) {
        aws_timer_cancel(h->lp, h->timer);
        h->timer = NULL;
    }
    if (timeout_ms < 0)
        return 0;
    h->timer = aws_timer_start(h->lp, (double)timeout_ms, on_timer_due, h);
    return h->timer ? 0 : -1;
}

/* ---------------------------------------------------------------- transfers */

static http_engine *engine_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Sets *fresh when the handle comes without the settings of `shape` (new, or reset). */
static CURL *take_handle(http_engine *h, unsigned shape, int *fresh)
{
    if (h->npool > 0) {
        pooled_handle *pooled = &h->pool[--h->npool];
        *fresh = !shape || pooled->shape != shape;
        if (*fresh)
            curl_easy_reset(pooled->easy);
        return pooled->easy;
    }
    *fresh = 1;
    return curl_easy_init();
}

static void return_handle(http_engine *h, CURL *easy, unsigned shape)
{
    if (h->npool < MAX_POOLED_HANDLES)
        h->pool[h->npool++] = (pooled_handle){easy, shape};
    else
        curl_easy_cleanup(easy);
}

static void unlink_active(http_engine *h, transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        h->active = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

/* Releases everything C owns; the userdata itself stays for Lua's collector. */
static void unlink_waiting(http_engine *h, transfer *t);
static void pump_waiting(lua_State *L, http_engine *h);

void http_release(lua_State *L, transfer *t)
{
    http_engine *h = t->h;
    unlink_waiting(h, t);
    if (t->easy) {
        curl_multi_remove_handle(h->multi, t->easy);
        return_handle(h, t->easy, t->shape);
        t->easy = NULL;
    }
    if (t->in_curl) {
        t->in_curl = 0;
        h->in_curl--;
    }
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    sb_free(&t->body);
    sb_free(&t->head);
    sb_free(&t->upload_buf);
    if (t->due_queued) {
        transfer **link = &h->due;
        while (*link && *link != t)
            link = &(*link)->due_next;
        if (*link)
            *link = t->due_next;
        t->due_queued = 0;
    }
    if (t->active) {
        t->active = 0;
        unlink_active(h, t);
        aws_loop_hold(h->lp, -1);
        if (L)
            luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
        t->ref = LUA_NOREF;
    }
}

void http_push_transport_error(lua_State *L, const char *code, const char *message, int retryable)
{
    aws_push_error(L, code, message);
    lua_pushboolean(L, retryable);
    lua_setfield(L, -2, "retryable");
}

#define OUR_OOM "out of memory while receiving the response"
#define OVERSIZE_HEADER "libcurl refused the response: a header line over its 100 KiB limit, or out of memory"
#define RESEND_REFUSED "the connection closed before any reply byte; the request was not sent again on a new connection (the retry policy decides)"
static void push_curl_error(lua_State *L, transfer *t, CURLcode rc)
{
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    if (t->resend_refused)
        detail = RESEND_REFUSED; /* rc is CURLE_ABORTED_BY_CALLBACK: retryable */
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        http_push_transport_error(L, "TimeoutError", detail, 1);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        http_push_transport_error(L, "UnknownEndpoint", detail, 1);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* A certificate or URL does not fix itself between attempts. */
        http_push_transport_error(L, "NetworkingError", detail, 0);
        break;
    case CURLE_WRITE_ERROR: /* on_body and on_header fail only when our memory does */
    case CURLE_OUT_OF_MEMORY: /* mostly libcurl's 100 KiB limit on one header line, not memory */
        http_push_transport_error(L, "NetworkingError", rc == CURLE_WRITE_ERROR ? OUR_OOM : t->errbuf[0] ? t->errbuf : OVERSIZE_HEADER, 0);
        break;
    default:
        http_push_transport_error(L, "NetworkingError", detail, 1);
        break;
    }
    lua_pushinteger(L, (lua_Integer)rc);
    lua_setfield(L, -2, "curlCode");
}

/* Hands the attempt's outcome, the value on the stack top (popped), to the transfer's promise
 * or, in the callback form, to one job calling done(ctx, value). The transfer is at tidx. */
void http_deliver(lua_State *L, transfer *t, int tidx, int ok)
{
    int value = lua_gettop(L);
    t->settled = 1;
    lua_getiuservalue(L, tidx, UV_DONE);
    if (t->callback) {
        lua_getiuservalue(L, tidx, UV_CONTEXT);
        aws_jobs_push(L, t->h->lp, AWS_JOB_CALL, -2, -1, value);
    } else if (ok) {
        aws_promise_resolve(L, -1, value);
    } else {
        aws_promise_reject(L, -1, value);
    }
    lua_settop(L, value - 1);
}

/* Settles a finished transfer. The transfer userdata is at tidx. */
static void finish(lua_State *L, transfer *t, int tidx, CURLcode rc)
{
    if (t->head_hook || t->stream_body)
        http_stream_due(L, t, tidx); /* what came in this turn goes before the outcome */
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "statusCode");
        http_push_headers(L, &t->head);
        lua_setfield(L, -2, "headers");
        lua_pushlstring(L, t->body.data && !t->stream_body ? t->body.data : "", t->stream_body ? 0 : t->body.len);
        lua_setfield(L, -2, "body");
    } else {
        push_curl_error(L, t, rc);
    }
    http_release(L, t);
    if (t->head_hook || t->stream_body)
        http_stream_finish(L, t, tidx, rc == CURLE_OK);
    else
        http_deliver(L, t, tidx, rc == CURLE_OK);
}

/* Queues fn(loaded, total) as a job when the transfer has a callback in that user value. */
static void queue_progress(lua_State *L, http_engine *h, int tidx, int uv, curl_off_t now, curl_off_t total)
{
    if (lua_getiuservalue(L, tidx, uv) != LUA_TNIL) {
        lua_pushinteger(L, (lua_Integer)now);
        lua_pushinteger(L, (lua_Integer)total);
        aws_jobs_push(L, h->lp, AWS_JOB_CALL, -3, -2, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}

/* Progress callbacks, onHeaders and body chunks, each as a job. */
static void report_due(lua_State *L, http_engine *h)
{
    while (h->due) {
        transfer *t = h->due;
        h->due = t->due_next;
        t->due_queued = 0;
        if (!t->active)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
        int tidx = lua_gettop(L);
        if (t->up_now != t->up_told)
            queue_progress(L, h, tidx, UV_ON_UPLOAD, t->up_now, t->up_total);
        if (t->down_now != t->down_told)
            queue_progress(L, h, tidx, UV_ON_DOWNLOAD, t->down_now, t->down_total);
        if (t->head_hook || t->stream_body)
            http_stream_due(L, t, tidx);
        if (t->upload)
            http_upload_due(L, t, tidx);
        lua_settop(L, tidx - 1);
        t->up_told = t->up_now;
        t->down_told = t->down_now;
    }
}

static void after_io(lua_State *L, aws_loop *lp, void *ud)
{
    (void)lp;
    http_engine *h = ud;
    if (h->due)
        report_due(L, h);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode rc = msg->data.result;
        if (!t || !t->active)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
        finish(L, t, lua_gettop(L), rc);
        lua_pop(L, 1);
    }
    if (h->waiting_head)
        pump_waiting(L, h);
}

/* ---------------------------------------------------------------- building a request */

/* The settings a pooled handle keeps between transfers of one shape: what libcurl copies or
 * what never changes. 0 when the transfer sets anything else (a proxy, a CA file, HTTP/2,
 * progress callbacks, an unusual method): its handle is reset before its next use. */
static unsigned shape_of(const transfer_plan *plan)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    /* a streamed body may leave the handle paused: reset it */
    if (plan->ca_file || (plan->proxy && *plan->proxy) || plan->http2 || plan->progress || plan->stream_body ||
        plan->upload)
        return 0;
    for (unsigned i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(plan->method, methods[i]) == 0)
            return (i + 1) * 2 + (plan->body != NULL);
    return 0;
}

/* What every transfer of this shape sets the same way. */
static void configure_shape(CURL *e, const transfer_plan *plan)
{
    const char *method = plan->method;
    int has_body = plan->body != NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
    /* S3 keys may contain "/../" or "/./": send the path exactly as it was signed. */
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    if (strcmp(method, "GET") == 0 && !has_body)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (plan->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, plan->ca_file);
    /* A proxy comes from httpOptions.proxy only, as in JavaScript v2, never from http_proxy and
     * friends: "" tells libcurl so, which also spares it reading them on every transfer. */
    curl_easy_setopt(e, CURLOPT_PROXY, plan->proxy ? plan->proxy : "");
    if (plan->http2) {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }
}

/* What changes from one transfer to the next: the URL, the transfer's own buffers, the header
 * list, the body (curl reads the Lua string in place) and the timeouts. */
static int configure_transfer(transfer *t, const transfer_plan *plan)
{
    CURL *e = t->easy;
    const char *method = plan->method;
    int ok = curl_easy_setopt(e, CURLOPT_URL, plan->url) == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, http_on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
    int has_body = plan->body != NULL;
    if (plan->upload)
        http_upload_configure(t, plan);
    else if (!(strcmp(method, "GET") == 0 && !has_body) && strcmp(method, "HEAD") != 0 &&
        (has_body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)plan->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, has_body ? plan->body : "");
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, plan->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, plan->connect_timeout_ms);
    return ok;
}

/* The curl handle's headers: the request's own, then the signer's; Content-Type and Expect
 * suppressed unless given. Returns NULL or an error message (a literal). */
static const char *add_headers(http_engine *h, transfer *t, const transfer_plan *plan)
{
    const header_list *hl = &plan->hl;
    for (size_t i = 0; i < hl->n; i++)
        if (!http_add_header_line(t, &h->scratch, hl->items[i].name, hl->items[i].name_len, hl->items[i].value,
                                  hl->items[i].value_len))
            return "http: out of memory";
    if (!http_has_header(hl, "Content-Type") && !http_suppress_header(t, "Content-Type:"))
        return "http: out of memory";
    if (!http_suppress_header(t, "Expect:"))
        return "http: out of memory";
    if (plan->sign)
        return http_sign_request(h, t, plan);
    return NULL;
}

/* Builds, signs and hands to libcurl a transfer whose options table is its UV_OPTS. Signing
 * happens here, when the transfer really starts, so a request that waited in the queue still
 * carries a fresh date. Raises for a bad option before taking anything; once the curl handle
 * is taken nothing raises. Returns NULL, or an error message (a literal) when the transfer
 * could not start; the caller releases it then. */
static const char *start_transfer(lua_State *L, http_engine *h, transfer *t, int tidx)
{
    lua_getiuservalue(L, tidx, UV_OPTS);
    int opts = lua_gettop(L);
    transfer_plan plan;
    http_plan(L, h->signer, &plan);

    const char *err = NULL;
    int fresh;
    t->shape = shape_of(&plan);
    t->easy = take_handle(h, t->shape, &fresh);
    if (!t->easy)
        err = "http: cannot create a curl handle";
    if (!err)
        err = add_headers(h, t, &plan);
    if (!err && fresh)
        configure_shape(t->easy, &plan);
    if (!err && !configure_transfer(t, &plan))
        err = "http: libcurl refused the URL";
    if (!err) {
        if (plan.progress) {
            lua_pushvalue(L, plan.upload_slot);
            lua_setiuservalue(L, tidx, UV_ON_UPLOAD);
            lua_pushvalue(L, plan.download_slot);
            lua_setiuservalue(L, tidx, UV_ON_DOWNLOAD);
            curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(t->easy, CURLOPT_XFERINFODATA, t);
            curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
        }
        if (plan.head_hook || plan.stream_body) {
            t->head_hook = plan.head_hook;
            t->stream_body = plan.stream_body;
            lua_pushvalue(L, plan.headers_hook_slot);
            lua_setiuservalue(L, tidx, UV_ON_HEADERS);
            lua_pushvalue(L, plan.body_hook_slot);
            lua_setiuservalue(L, tidx, UV_ON_BODY);
        }
        if (plan.body || plan.upload) {
            lua_pushvalue(L, plan.body_slot);
            lua_setiuservalue(L, tidx, UV_BODY); /* curl reads the Lua string in place */
        }
        if (curl_multi_add_handle(h->multi, t->easy) != CURLM_OK)
            err = "http: libcurl refused the transfer";
    }
    if (!err) {
        t->in_curl = 1;
        h->in_curl++;
    }
    lua_settop(L, opts - 1);
    return err;
}

static void unlink_waiting(http_engine *h, transfer *t)
{
    if (!t->waiting)
        return;
    if (t->wprev)
        t->wprev->wnext = t->wnext;
    else
        h->waiting_head = t->wnext;
    if (t->wnext)
        t->wnext->wprev = t->wprev;
    else
        h->waiting_tail = t->wprev;
    t->wprev = t->wnext = NULL;
    t->waiting = 0;
    h->nwaiting--;
}

/* Fails a transfer that could not start: an InvalidParameter through its promise or callback. */
static void fail_start(lua_State *L, transfer *t, int tidx, const char *code, const char *message)
{
    http_push_transport_error(L, code, message, 0);
    http_release(L, t);
    http_deliver(L, t, tidx, 0);
}

/* start_transfer in protected mode: a queued transfer's options are read only now, inside a
 * loop turn, where a raised error must not escape (they were checked at the call, but the
 * table may have changed since). Upvalue-free: the transfer is argument 1; returns the error
 * message of a transfer that could not start, or nothing. */
static int protected_start(lua_State *L)
{
    transfer *t = lua_touserdata(L, 1);
    const char *err = start_transfer(L, t->h, t, 1);
    if (!err)
        return 0;
    lua_pushstring(L, err);
    return 1;
}

/* Starts queued transfers while libcurl has room. A transfer that cannot start fails through
 * its own promise or callback with the reason. */
static void pump_waiting(lua_State *L, http_engine *h)
{
    if (h->pumping || h->closing)
        return;
    h->pumping = 1;
    while (h->waiting_head && h->in_curl < h->max_in_curl) {
        transfer *t = h->waiting_head;
        unlink_waiting(h, t);
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
        int tidx = lua_gettop(L);
        lua_pushcfunction(L, protected_start);
        lua_pushvalue(L, tidx);
        int status = lua_pcall(L, 1, 1, 0);
        if (status != LUA_OK || !lua_isnil(L, -1)) {
            const char *message = "http: the request could not start";
            if (lua_type(L, -1) == LUA_TSTRING)
                message = lua_tostring(L, -1);
            else if (lua_istable(L, -1) && lua_getfield(L, -1, "message") == LUA_TSTRING)
                message = lua_tostring(L, -1);
            fail_start(L, t, tidx, "InvalidParameter", message);
        }
        lua_settop(L, tidx - 1);
    }
    h->pumping = 0;
}

/* core.http(opts) -> promise, handle; core.http(opts, done, ctx) -> handle */
static int l_http(lua_State *L)
{
    http_engine *h = engine_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    int callback = !lua_isnoneornil(L, 2);
    if (callback)
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 3);
    int start_now = h->in_curl < h->max_in_curl && !h->waiting_head;
    int queue_full = !start_now && h->nwaiting >= h->max_queue;
    if (!start_now) {
        /* The same checks as a start, so that a bad option raises here in both cases. */
        transfer_plan plan;
        lua_pushvalue(L, 1);
        http_plan(L, NULL, &plan);
        lua_settop(L, 3);
    }

    transfer *t = lua_newuserdatauv(L, sizeof *t, UV_TRANSFER_COUNT);
    memset(t, 0, sizeof *t);
    t->h = h;
    t->ref = LUA_NOREF;
    t->callback = callback;
    luaL_setmetatable(L, TRANSFER_MT);
    int tidx = lua_gettop(L);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, tidx, UV_OPTS);
    if (callback) {
        lua_pushvalue(L, 2);
        lua_setiuservalue(L, tidx, UV_DONE);
        lua_pushvalue(L, 3);
        lua_setiuservalue(L, tidx, UV_CONTEXT);
    } else {
        aws_promise_new(L, h->lp);
        lua_setiuservalue(L, tidx, UV_DONE);
    }
    /* Raises for a bad option before anything is taken; the transfer is not yet active. */
    const char *err = start_now ? start_transfer(L, h, t, tidx) : NULL;

    lua_pushvalue(L, tidx);
    t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    t->active = 1;
    t->next = h->active;
    if (h->active)
        h->active->prev = t;
    h->active = t;
    aws_loop_hold(h->lp, 1);
    if (queue_full) {
        fail_start(L, t, tidx, "RequestQueueFullError", lua_pushfstring(L, "http: %d requests already wait for a "
                   "connection (the queue's limit, httpOptions.maxQueue); this one was not sent", (int)h->max_queue));
        lua_pop(L, 1);
    } else if (!start_now) {
        /* Past max_in_curl a request waits here, not in libcurl: an easy handle with its 16 KiB
         * receive buffer per queued request is what made 10,000 requests in flight cost 170 MB. */
        t->waiting = 1;
        t->wprev = h->waiting_tail;
        if (h->waiting_tail)
            h->waiting_tail->wnext = t;
        else
            h->waiting_head = t;
        h->waiting_tail = t;
        h->nwaiting++;
    } else if (err) {
        fail_start(L, t, tidx, "InvalidParameter", err);
    }
    if (callback)
        return 1;
    lua_getiuservalue(L, tidx, UV_DONE);
    lua_pushvalue(L, tidx);
    return 2;
}

/* handle:abort(): settles the attempt with RequestAbortedError at once; false when it had
 * already finished. */
static int l_abort(lua_State *L)
{
    transfer *t = luaL_checkudata(L, 1, TRANSFER_MT);
    if (!t->active) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_settop(L, 1);
    http_push_transport_error(L, "RequestAbortedError", "Request aborted by user", 0);
    http_release(L, t);
    http_deliver(L, t, 1, 0);
    if (t->h->waiting_head)
        pump_waiting(L, t->h);
    lua_pushboolean(L, 1);
    return 1;
}

/* handle:resume(): receiving goes on after an onBody that returned false; false when the
 * transfer had already finished. */
static int l_resume(lua_State *L)
{
    transfer *t = luaL_checkudata(L, 1, TRANSFER_MT);
    t->user_paused = 0;
    http_apply_pause(t);
    lua_pushboolean(L, t->active);
    return 1;
}

static int l_active(lua_State *L)
{
    transfer *t = luaL_checkudata(L, 1, TRANSFER_MT);
    lua_pushboolean(L, t->active);
    return 1;
}

static int l_configure(lua_State *L)
{
    http_engine *h = engine_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "maxSockets");
    if (!lua_isnil(L, -1)) {
        lua_Integer n = luaL_checkinteger(L, -1);
        if (n < 1)
            return luaL_error(L, "http: maxSockets must be a positive integer");
        h->max_sockets = (long)n;
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->max_sockets);
    }
    lua_getfield(L, 1, "maxInCurl");
    if (!lua_isnil(L, -1)) {
        lua_Integer n = luaL_checkinteger(L, -1);
        if (n < 1)
            return luaL_error(L, "http: maxInCurl must be a positive integer");
        h->max_in_curl = (int)n;
        pump_waiting(L, h);
    }
    lua_getfield(L, 1, "maxQueue");
    if (!lua_isnil(L, -1)) {
        lua_Integer n = luaL_checkinteger(L, -1);
        if (n < 0 || n > INT_MAX)
            return luaL_error(L, "http: maxQueue must be an integer from 0 to %d", INT_MAX);
        h->max_queue = (long)n;
    }
    return 0;
}

static int l_stats(lua_State *L)
{
    http_engine *h = engine_of(L);
    int active = 0;
    for (transfer *t = h->active; t; t = t->next)
        active++;
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, h->nwaiting);
    lua_setfield(L, -2, "queued");
    lua_pushinteger(L, active);
    lua_setfield(L, -2, "active");
    lua_pushinteger(L, h->npool);
    lua_setfield(L, -2, "pooledHandles");
    lua_pushinteger(L, h->in_curl);
    lua_setfield(L, -2, "inCurl");
    lua_pushinteger(L, h->max_in_curl);
    lua_setfield(L, -2, "maxInCurl");
    lua_pushinteger(L, h->max_sockets);
    lua_setfield(L, -2, "maxSockets");
    lua_pushinteger(L, h->max_queue);
    lua_setfield(L, -2, "maxQueue");
    return 1;
}

/* Runs when the state closes, after the loop drained: whatever is still active was abandoned. */
static void close_engine(lua_State *L, aws_loop *lp, void *ud)
{
    (void)lp;
    http_engine *h = ud;
    h->closing = 1;
    while (h->active)
        http_release(L, h->active);
    if (h->timer) {
        aws_timer_cancel(h->lp, h->timer);
        h->timer = NULL;
    }
    for (int i = 0; i < h->npool; i++)
        curl_easy_cleanup(h->pool[i].easy);
    h->npool = 0;
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    sigv4_signer_free(h->signer);
    h->signer = NULL;
    sb_free(&h->scratch);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &engine_key);
}

void aws_open_http(lua_State *L)
{
    /* stack: loop, module */
    static int curl_ready = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            luaL_error(L, "awspromise: libcurl failed to initialize");
            return;
        }
        curl_ready = 1;
    }
    aws_loop *lp = lua_touserdata(L, -2);
    http_engine *h = lua_newuserdatauv(L, sizeof *h, 0);
    memset(h, 0, sizeof *h);
    h->lp = lp;
    h->max_sockets = 50;
    h->max_in_curl = 256;
    h->max_queue = HTTP_DEFAULT_MAX_QUEUE;
    lua_rawsetp(L, LUA_REGISTRYINDEX, &engine_key); /* keeps the engine's memory alive */
    /* These may raise, so before the first curl resource; both hooks cope with a NULL multi. */
    aws_loop_add_after_io(L, lp, after_io, h);
    aws_loop_add_closer(L, lp, close_engine, h);
    h->multi = curl_multi_init();
    h->signer = sigv4_signer_new();
    if (!h->multi || !h->signer) {
        if (h->multi)
            curl_multi_cleanup(h->multi);
        sigv4_signer_free(h->signer);
        luaL_error(L, "awspromise: cannot create the HTTP engine (out of memory)");
        return;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, h->max_sockets);

    static const luaL_Reg transfer_methods[] = {
        {"abort", l_abort}, {"active", l_active}, {"resume", l_resume}, {NULL, NULL},
    };
    if (luaL_newmetatable(L, TRANSFER_MT)) {
        luaL_newlib(L, transfer_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);

    static const luaL_Reg functions[] = {
        {"http", l_http}, {"http_configure", l_configure}, {"http_stats", l_stats}, {NULL, NULL},
    };
    lua_pushlightuserdata(L, h);
    luaL_setfuncs(L, functions, 1);
    http_open_signing(L);
}

/* Private to the HTTP engine: the transfer and engine structures shared by http.c (libcurl
 * multi and completion) and http_build.c (turning core.http's options into a signed request). */
#ifndef AWSPROMISE_HTTP_INTERNAL_H
#define AWSPROMISE_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/promise.h"
#include "core/strbuf.h"
#include "sign/sigv4.h"

#define MAX_POOLED_HANDLES 256
/* Waiting requests past which core.http refuses at once (RequestQueueFullError); each holds its
 * options and a small userdata, no connection or buffer. httpOptions.maxQueue changes it. */
#define HTTP_DEFAULT_MAX_QUEUE 100000
/* libcurl refuses a longer string option (CURL_MAX_INPUT_LENGTH, private to libcurl). */
#define CURL_MAX_URL_BYTES 8000000
#define INLINE_HEADERS 24

typedef struct transfer transfer;

/* A pooled curl handle and the shape of the last transfer it carried: a transfer of the same
 * shape reuses its settings without curl_easy_reset (0: no shape, always reset). */
typedef struct pooled_handle {
    CURL *easy;
    unsigned shape;
} pooled_handle;

typedef struct http_engine {
    aws_loop *lp;
    CURLM *multi;
    aws_timer *timer;
    sigv4_signer *signer;
    pooled_handle pool[MAX_POOLED_HANDLES];
    int npool;
    int running;
    long max_sockets;
    transfer *active;       /* doubly linked: what the closer must release */
    transfer *due;          /* singly linked: transfers with progress, headers or body to tell */
    transfer *waiting_head; /* FIFO of transfers not yet handed to libcurl */
    transfer *waiting_tail;
    int in_curl;            /* transfers libcurl holds now */
    int max_in_curl;
    long nwaiting, max_queue; /* past max_queue waiting transfers a new one is refused at once */
    int pumping;
    int closing;
    strbuf scratch;
} http_engine;

struct transfer {
    http_engine *h;
    CURL *easy;
    struct curl_slist *headers;
    strbuf body;
    strbuf head;             /* the raw header block of the last response (after any 100) */
    transfer *prev, *next;
    transfer *due_next;
    transfer *wprev, *wnext; /* the waiting FIFO */
    int waiting;
    int in_curl;
    int ref;                 /* registry anchor while active */
    int active;
    int due_queued;
    int callback;            /* core.http(opts, done, ctx): completes through a job, no promise */
    int settled;             /* done was handed the outcome (or the promise settled) */
    /* Response streaming (http_stream.c): opts.onHeaders / opts.onBody were given. */
    int head_hook, stream_body;
    int head_complete, head_told; /* the final header block is in; onHeaders was queued */
    int engine_paused, user_paused; /* receiving paused: the buffer is full / onBody said false */
    int stream_failed;       /* onHeaders or onBody raised: the transfer ends with that error */
    /* Request body streaming (http_upload.c): opts.bodyReader was given. */
    int upload, upload_eof;  /* the reader returned nil: upload_buf holds the last bytes */
    int send_paused;         /* libcurl found upload_buf empty and paused sending */
    int refill_queued;       /* a job will call the reader */
    strbuf upload_buf;       /* the reader's last chunk; libcurl took upload_off bytes of it */
    size_t upload_off;
    int sends;               /* how often libcurl was about to send this request */
    int resend_refused;      /* libcurl would have sent it again on a new connection */
    unsigned shape;          /* see pooled_handle */
    curl_off_t up_now, up_total, down_now, down_total;
    curl_off_t up_told, down_told;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct url_parts {
    const char *host; size_t host_len;     /* authority without userinfo or a default port */
    const char *path; size_t path_len;
    const char *query; size_t query_len;
} url_parts;

/* Grows past its inline items into a userdata in the stack slot `storage`, which Lua owns: a
 * raise while the list is filled leaks nothing. */
typedef struct header_list {
    sigv4_header inline_items[INLINE_HEADERS];
    sigv4_header *items;
    size_t n, cap;
    int storage;
} header_list;

/* Everything a transfer takes from core.http's options, read and checked by http_plan before
 * any resource is taken: http_plan may raise (an InvalidParameter naming the option), nothing
 * after it does. Strings belong to the options table or to the plan's stack slots. */
typedef struct transfer_plan {
    const char *url;
    size_t url_len;
    url_parts u;
    const char *method;
    const char *body;
    size_t body_len;
    header_list hl;
    int sign;                  /* opts.sign was given: sign with sign_params */
    sigv4_params sign_params;
    const char *payload_hash;
    long timeout_ms, connect_timeout_ms;
    const char *ca_file, *proxy;
    int http2;
    int progress;              /* a progress callback was given */
    int head_hook, stream_body; /* opts.onHeaders, opts.onBody were given */
    int upload;                /* opts.bodyReader was given: it sits in body_slot */
    curl_off_t body_length;    /* opts.bodyLength, -1 when unknown (sent chunked) */
    /* stack slots: the body string or reader, the progress and streaming callbacks (nil when absent) */
    int body_slot, upload_slot, download_slot, headers_hook_slot, body_hook_slot;
} transfer_plan;

/* A transfer's user values. UV_DONE: the promise, or the completion function of the callback
 * form (whose argument is UV_CONTEXT). */
enum {
    UV_DONE = 1, UV_CONTEXT, UV_BODY /* the body string or opts.bodyReader */, UV_ON_UPLOAD, UV_ON_DOWNLOAD, UV_OPTS, UV_ON_HEADERS, UV_ON_BODY,
    UV_STREAM_ERROR, UV_TRANSFER_COUNT = UV_STREAM_ERROR
};

/* Reads the options table at the stack top into *plan, leaving PLAN_SLOTS values above it.
 * With a signer, what cannot wait for the transfer's start is signed now (SigV2 rewrites the
 * body or the URL); without one the options are only checked. */
enum { PLAN_SLOTS = 7 };
void http_plan(lua_State *L, sigv4_signer *signer, transfer_plan *plan);
/* Adds core.http_signing to the module table on top of the stack. */
void http_open_signing(lua_State *L);

int http_split_url(const char *url, size_t len, url_parts *u);
int http_add_header_line(transfer *t, strbuf *sb, const char *name, size_t nlen, const char *value, size_t vlen);
int http_suppress_header(transfer *t, const char *line);
int http_has_header(const header_list *hl, const char *name);
/* http.c: the end of a transfer. http_release frees what C holds (the userdata stays for the
 * collector); http_deliver hands the value on the stack top (popped) to the promise or to one
 * done(ctx, value) job. */
void http_release(lua_State *L, transfer *t);
void http_deliver(lua_State *L, transfer *t, int tidx, int ok);
void http_push_transport_error(lua_State *L, const char *code, const char *message, int retryable);
/* Puts t on the engine's due list (no Lua: callable from a libcurl callback). */
void http_mark_due(transfer *t);

/* http_stream.c: libcurl's header and body callbacks (no Lua), and what after_io tells. */
size_t http_on_header(char *data, size_t size, size_t n, void *ud);
size_t http_on_body(char *data, size_t size, size_t n, void *ud);
/* Response headers as {lower-case name = value}; repeated headers are joined with ", ". */
void http_push_headers(lua_State *L, const strbuf *head);
/* CURLOPT_PREREQFUNCTION: a transfer is sent at most once. libcurl re-sends a request on a new
 * connection when a reused one closes before any reply byte; that second send is refused, so
 * the attempt fails and the retry policy decides (and counts) any further send. */
int http_on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port, int conn_local_port);
/* Queues the onHeaders call and the gathered body chunk of a streaming transfer (at tidx). */
void http_stream_due(lua_State *L, transfer *t, int tidx);
/* Ends a streaming transfer: the outcome on the stack top (popped) is handed over by a job that
 * runs after the chunks queued before it; t is released already. */
void http_stream_finish(lua_State *L, transfer *t, int tidx, int ok);
/* Applies engine_paused/user_paused to the curl handle. */
void http_apply_pause(transfer *t);
/* The raised value on the stack top (popped) as an Error: an awspromise.Error as is, anything
 * else as a not retryable transport error with this code. */
void http_error_from_raised(lua_State *L, const char *code);

/* http_upload.c: opts.bodyReader. http_plan_upload reads bodyReader/bodyLength into the plan
 * (may raise); http_upload_configure sets the curl handle up to pull through the reader;
 * http_upload_due queues the reader's next call when the buffer is empty (after_io's turn). */
size_t http_on_upload_read(char *buf, size_t size, size_t n, void *ud);
void http_plan_upload(lua_State *L, int opts, transfer_plan *plan);
void http_upload_configure(transfer *t, const transfer_plan *plan);
void http_upload_due(lua_State *L, transfer *t, int tidx);

/* Signs per plan->sign_params and appends the signer's headers; no Lua. Returns NULL or an
 * error message (a literal). */
const char *http_sign_request(http_engine *h, transfer *t, const transfer_plan *plan);

#endif

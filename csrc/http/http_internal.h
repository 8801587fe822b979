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
#define INLINE_HEADERS 24

typedef struct transfer transfer;

typedef struct http_engine {
    aws_loop *lp;
    CURLM *multi;
    aws_timer *timer;
    sigv4_signer *signer;
    CURL *pool[MAX_POOLED_HANDLES];
    int npool;
    int running;
    long max_sockets;
    transfer *active;       /* doubly linked: what the closer must release */
    transfer *progressed;   /* singly linked: transfers whose progress callbacks are due */
    transfer *waiting_head; /* FIFO of transfers not yet handed to libcurl */
    transfer *waiting_tail;
    int in_curl;            /* transfers libcurl holds now */
    int max_in_curl;
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
    transfer *progress_next;
    transfer *wprev, *wnext; /* the waiting FIFO */
    int waiting;
    int in_curl;
    int ref;                 /* registry anchor while active */
    int active;
    int progress_queued;
    curl_off_t up_now, up_total, down_now, down_total;
    curl_off_t up_told, down_told;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct url_parts {
    const char *host; size_t host_len;     /* authority without userinfo or a default port */
    const char *path; size_t path_len;
    const char *query; size_t query_len;
} url_parts;

typedef struct header_list {
    sigv4_header inline_items[INLINE_HEADERS];
    sigv4_header *items;
    size_t n, cap;
} header_list;


int http_split_url(const char *url, size_t len, url_parts *u);
int http_add_header_line(transfer *t, strbuf *sb, const char *name, size_t nlen, const char *value, size_t vlen);
int http_suppress_header(transfer *t, const char *line);
const char *http_opt_string(lua_State *L, int idx, const char *field, size_t *len);
int http_opt_bool(lua_State *L, int idx, const char *field, int dflt);
long http_opt_ms(lua_State *L, int idx, const char *field);
int http_header_push(header_list *hl, const char *name, size_t nlen, const char *value, size_t vlen);
int http_has_header(const header_list *hl, const char *name);
const char *http_collect_headers(lua_State *L, int opts, int keepalive, header_list *hl);
const char *http_sign_request(lua_State *L, http_engine *h, transfer *t, const char *method, const url_parts *u, header_list *hl, const char *body, size_t body_len);

#endif

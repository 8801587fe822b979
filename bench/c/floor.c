/* The floor of the benchmarks: what N S3-shaped requests cost a plain C program on libcurl's multi
 * interface (epoll + curl_multi_socket_action, keep-alive, 64 transfers in flight), with no
 * promises, no Lua and no model. Signed mode signs every request with the project's own SigV4
 * signer (csrc/sign/sigv4*.c), exactly as the library's HTTP engine does.
 *
 *   floor <put|get> <signed|unsigned> <all|window> <N> <port> [inflight=64] [key]
 *
 * put: PUT /bench/k<i> with a 1 KiB body; get: GET /bench/<key> (default "big", nginx serves a
 * file). Request headers: Host, x-amz-content-sha256, X-Amz-Date, Authorization (computed per
 * request in signed mode, fixed strings of the same length in unsigned mode), Content-Type and
 * Expect suppressed. "all" runs batches of <inflight> and waits for each batch
 * to finish; "window" starts a new request as soon as one finishes.
 *
 * Prints one line: RESULT n=<done> errors=<failed> cpu_ms=<user+sys of the timed loop>
 * wall_ms=<...> rss_kb=<VmHWM> bytes=<response bytes received>. */
#include "sign/sigv4.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

typedef struct slot {
    CURL *easy;
    struct curl_slist *headers;
    char *buf;          /* response body, reused from request to request */
    size_t len, cap;
    long index;
    char url[256];
} slot;

static struct {
    CURLM *multi;
    int epfd;
    long timeout_ms;    /* what libcurl asked for; -1 = no timer */
    int running;
    int is_put, is_signed, window;
    long n, started, done, errors, inflight;
    int port;
    const char *key;
    char host[64];
    sigv4_signer *signer;
    char body[1024];
    unsigned long long bytes;
} B;

static void die(const char *what)
{
    fprintf(stderr, "floor: %s\n", what);
    exit(2);
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    slot *s = ud;
    size_t len = size * n;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len)
            cap *= 2;
        char *grown = realloc(s->buf, cap);
        if (!grown)
            return 0;
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return len;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)userp;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(B.epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    if (socketp) {
        if (epoll_ctl(B.epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
            return 0;
    }
    if (epoll_ctl(B.epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
        epoll_ctl(B.epfd, EPOLL_CTL_MOD, fd, &ev);
    curl_multi_assign(B.multi, fd, (void *)1);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    (void)userp;
    B.timeout_ms = timeout_ms;
    return 0;
}

static void add_header(slot *s, const char *name, size_t nlen, const char *value, size_t vlen)
{
    char line[1024];
    int len = snprintf(line, sizeof line, "%.*s: %.*s", (int)nlen, name, (int)vlen, value);
    if (len < 0 || (size_t)len >= sizeof line)
        die("header too long");
    struct curl_slist *grown = curl_slist_append(s->headers, line);
    if (!grown)
        die("out of memory");
    s->headers = grown;
}

/* Prepares slot s for request number i and adds it to the multi handle. */
static void start(slot *s, long i)
{
    s->index = i;
    s->len = 0;
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    char path[96];
    int plen = B.is_put ? snprintf(path, sizeof path, "/bench/k%ld", i) : snprintf(path, sizeof path, "/bench/%s", B.key);
    snprintf(s->url, sizeof s->url, "http://%s%s", B.host, path);

    add_header(s, "Host", 4, B.host, strlen(B.host));
    s->headers = curl_slist_append(s->headers, "Content-Type:");
    s->headers = curl_slist_append(s->headers, "Expect:");
    if (B.is_signed) {
        sigv4_header hdrs[1] = {{"Host", 4, B.host, strlen(B.host)}};
        sigv4_request req = {
            .method = B.is_put ? "PUT" : "GET",
            .path = path, .path_len = (size_t)plen,
            .headers = hdrs, .n_headers = 1,
            .body = B.is_put ? B.body : NULL, .body_len = B.is_put ? sizeof B.body : 0,
        };
        sigv4_params p = {
            .access_key_id = "AKID", .secret_access_key = "SECRET",
            .region = "us-east-1", .service = "s3",
            .time = (int64_t)time(NULL), .flags = SIGV4_SIGN_BODY,
        };
        sigv4_result out;
        int rc = sigv4_sign(B.signer, &req, &p, &out);
        if (rc != SIGV4_OK)
            die(sigv4_strerror(rc));
        for (size_t k = 0; k < out.n_add; k++)
            add_header(s, out.add[k].name, out.add[k].name_len, out.add[k].value, out.add[k].value_len);
    } else {
        /* The same request shape and size, without the signing work: fixed header values. */
        s->headers = curl_slist_append(s->headers, "X-Amz-Date: 20260101T000000Z");
        s->headers = curl_slist_append(s->headers, B.is_put
            ? "x-amz-content-sha256: 49abd65bbf7f7e40c7055093ed2e3fd75f2f602f2c5fcf955c213e3135eb03f7"
            : "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        s->headers = curl_slist_append(s->headers, "Authorization: AWS4-HMAC-SHA256 "
            "Credential=AKID/20260101/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=0000000000000000000000000000000000000000000000000000000000000000");
    }
    if (!s->headers)
        die("out of memory");

    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    if (B.is_put) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sizeof B.body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, B.body);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (curl_multi_add_handle(B.multi, e) != CURLM_OK)
        die("curl_multi_add_handle failed");
    B.started++;
}

static long rss_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 6)
        die("usage: floor <put|get> <signed|unsigned> <all|window> <N> <port> [inflight] [key]");
    B.is_put = strcmp(argv[1], "put") == 0;
    B.is_signed = strcmp(argv[2], "signed") == 0;
    B.window = strcmp(argv[3], "window") == 0;
    B.n = atol(argv[4]);
    B.port = atoi(argv[5]);
    B.inflight = argc > 6 ? atol(argv[6]) : 64;
    B.key = argc > 7 ? argv[7] : "big";
    B.timeout_ms = -1;
    if (B.n <= 0 || B.port <= 0 || B.inflight <= 0)
        die("bad arguments");
    snprintf(B.host, sizeof B.host, "127.0.0.1:%d", B.port);
    memset(B.body, 'x', sizeof B.body);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed");
    B.multi = curl_multi_init();
    B.epfd = epoll_create1(EPOLL_CLOEXEC);
    B.signer = sigv4_signer_new();
    if (!B.multi || B.epfd < 0 || !B.signer)
        die("init failed");
    curl_multi_setopt(B.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(B.multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(B.multi, CURLMOPT_MAX_HOST_CONNECTIONS, B.inflight);

    slot *slots = calloc((size_t)B.inflight, sizeof *slots);
    slot **free_slots = calloc((size_t)B.inflight, sizeof *free_slots);
    if (!slots || !free_slots)
        die("out of memory");
    long nfree = 0;
    for (long k = 0; k < B.inflight; k++) {
        slot *s = &slots[k];
        s->easy = curl_easy_init();
        if (!s->easy)
            die("curl_easy_init failed");
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "floor/1");
        free_slots[nfree++] = s;
    }

    double c0 = cpu_ms(), w0 = wall_ms();
    struct epoll_event events[256];
    while (B.done < B.n) {
        /* Refill: at once in window mode, only when the whole batch is back in batch mode. */
        if (B.window || nfree == B.inflight)
            while (nfree > 0 && B.started < B.n)
                start(free_slots[--nfree], B.started + 1);
        if (B.started > B.done && B.timeout_ms == 0) {
            B.timeout_ms = -1;
            curl_multi_socket_action(B.multi, CURL_SOCKET_TIMEOUT, 0, &B.running);
        } else {
            int ready = epoll_wait(B.epfd, events, 256, B.timeout_ms < 0 ? 1000 : (int)B.timeout_ms);
            if (ready < 0 && errno != EINTR)
                die("epoll_wait failed");
            if (ready == 0) {
                B.timeout_ms = -1;
                curl_multi_socket_action(B.multi, CURL_SOCKET_TIMEOUT, 0, &B.running);
            }
            for (int k = 0; k < ready; k++) {
                int flags = 0;
                if (events[k].events & EPOLLIN)
                    flags |= CURL_CSELECT_IN;
                if (events[k].events & EPOLLOUT)
                    flags |= CURL_CSELECT_OUT;
                if (events[k].events & (EPOLLERR | EPOLLHUP))
                    flags |= CURL_CSELECT_ERR;
                curl_multi_socket_action(B.multi, events[k].data.fd, flags, &B.running);
            }
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(B.multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status != 200) {
                if (B.errors++ < 3)
                    fprintf(stderr, "floor: request %ld: %s, HTTP %ld\n", s->index,
                            curl_easy_strerror(msg->data.result), status);
            }
            B.bytes += s->len;
            curl_multi_remove_handle(B.multi, msg->easy_handle);
            free_slots[nfree++] = s;
            B.done++;
        }
    }
    double c1 = cpu_ms(), w1 = wall_ms();
    printf("RESULT n=%ld errors=%ld cpu_ms=%.3f wall_ms=%.3f rss_kb=%ld bytes=%llu\n", B.done, B.errors,
           c1 - c0, w1 - w0, rss_hwm_kb(), B.bytes);

    for (long k = 0; k < B.inflight; k++) {
        curl_slist_free_all(slots[k].headers);
        free(slots[k].buf);
        curl_easy_cleanup(slots[k].easy);
    }
    curl_multi_cleanup(B.multi);
    sigv4_signer_free(B.signer);
    curl_global_cleanup();
    free(slots);
    free(free_slots);
    return B.errors ? 1 : 0;
}

/* Turning core.http's options into a request: every option read and checked at once (the
 * plan), the URL's parts, the header list (no CR or LF), and the signature over exactly what
 * will be sent: SigV4 (headers), SigV2 (the form or query, rewritten) or a bearer token. */
#include "http/http_internal.h"

#include "sign/sigv2.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int http_split_url(const char *url, size_t len, url_parts *u)
{
    const char *end = url + len;
    const char *sep = strstr(url, "://");
    if (!sep)
        return 0;
    int https = (size_t)(sep - url) == 5 && strncmp(url, "https", 5) == 0;
    const char *auth = sep + 3;
    const char *auth_end = auth;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
        auth_end++;
    const char *at = memchr(auth, '@', (size_t)(auth_end - auth));
    if (at)
        auth = at + 1;
    if (auth == auth_end)
        return 0;
    size_t host_len = (size_t)(auth_end - auth);
    if ((https && host_len > 4 && memcmp(auth_end - 4, ":443", 4) == 0) ||
        (!https && host_len > 3 && memcmp(auth_end - 3, ":80", 3) == 0))
        host_len -= https ? 4 : 3;
    u->host = auth;
    u->host_len = host_len;
    const char *q = memchr(auth_end, '?', (size_t)(end - auth_end));
    const char *frag = memchr(auth_end, '#', (size_t)(end - auth_end));
    const char *path_end = q ? q : (frag ? frag : end);
    u->path = auth_end;
    u->path_len = (size_t)(path_end - auth_end);
    if (u->path_len == 0) {
        u->path = "/";
        u->path_len = 1;
    }
    u->query = q ? q + 1 : NULL;
    u->query_len = q ? (size_t)((frag && frag > q ? frag : end) - (q + 1)) : 0;
    return 1;
}

int http_add_header_line(transfer *t, strbuf *sb, const char *name, size_t nlen, const char *value, size_t vlen)
{
    sb_reset(sb);
    sb_append(sb, name, nlen);
    if (vlen)
        sb_append(sb, ": ", 2);
    else
        sb_append(sb, ";", 1); /* "Name;" sends an empty value; "Name:" would remove it */
    sb_append(sb, value, vlen);
    if (sb->failed)
        return 0;
    struct curl_slist *grown = curl_slist_append(t->headers, sb->data);
    if (!grown)
        return 0;
    t->headers = grown;
    return 1;
}

int http_suppress_header(transfer *t, const char *line)
{
    struct curl_slist *grown = curl_slist_append(t->headers, line);
    if (!grown)
        return 0;
    t->headers = grown;
    return 1;
}

static const char *opt_string(lua_State *L, int idx, const char *where, const char *field, size_t *len)
{
    int type = lua_getfield(L, idx, field);
    const char *s = NULL;
    if (type == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (type != LUA_TNIL)
        aws_raise_error(L, "InvalidParameter", "http: %s.%s must be a string, got %s", where, field, luaL_typename(L, -1));
    lua_pop(L, 1); /* the string stays alive: the table still holds it */
    return s;
}

static int opt_bool(lua_State *L, int idx, const char *field, int dflt)
{
    int v = lua_getfield(L, idx, field) == LUA_TNIL ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static lua_Number opt_number(lua_State *L, int idx, const char *where, const char *field, lua_Number dflt)
{
    int type = lua_getfield(L, idx, field);
    lua_Number v = dflt;
    if (type == LUA_TNUMBER)
        v = lua_tonumber(L, -1);
    else if (type != LUA_TNIL)
        aws_raise_error(L, "InvalidParameter", "http: %s.%s must be a number, got %s", where, field, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

static long opt_ms(lua_State *L, int idx, const char *where, const char *field)
{
    lua_Number v = opt_number(L, idx, where, field, 0);
    if (!(v >= 0) || v > (lua_Number)LONG_MAX)
        aws_raise_error(L, "InvalidParameter", "http: %s.%s must be a number of milliseconds >= 0, got %f", where, field, v);
    return (long)v;
}

static void header_push(lua_State *L, header_list *hl, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (hl->n == hl->cap) {
        size_t cap = hl->cap * 2;
        sigv4_header *grown = lua_newuserdatauv(L, cap * sizeof *grown, 0);
        memcpy(grown, hl->items, hl->n * sizeof *grown);
        lua_replace(L, hl->storage);
        hl->items = grown;
        hl->cap = cap;
    }
    hl->items[hl->n++] = (sigv4_header){name, nlen, value, vlen};
}

int http_has_header(const header_list *hl, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < hl->n; i++)
        if (hl->items[i].name_len == len && strncasecmp(hl->items[i].name, name, len) == 0)
            return 1;
    return 0;
}

/* 1 when s holds a CR, an LF or a NUL: bytes that would end or cut a header line. */
static int has_line_break(const char *s, size_t len)
{
    return memchr(s, '\r', len) || memchr(s, '\n', len) || memchr(s, '\0', len);
}

/* Anchors the string at the top of the stack (left there) in the keep-alive table of the plan,
 * made on first use: a string the plan made itself lives as long as the plan's slots. */
static void keep_alive(lua_State *L, int keepalive)
{
    if (lua_isnil(L, keepalive)) {
        lua_newtable(L);
        lua_replace(L, keepalive);
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, keepalive, (lua_Integer)lua_rawlen(L, keepalive) + 1);
}

/* Reads opts.headers into hl; every name and value is a string held by the opts table, or by
 * the keep-alive table for values given as numbers. */
static void collect_headers(lua_State *L, int opts, int keepalive, header_list *hl)
{
    int type = lua_getfield(L, opts, "headers");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (type != LUA_TTABLE)
        aws_raise_error(L, "InvalidParameter", "http: opts.headers must be a table of name = value");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            aws_raise_error(L, "InvalidParameter", "http: header names must be strings");
        int number = lua_type(L, -1) == LUA_TNUMBER;
        if (!number && lua_type(L, -1) != LUA_TSTRING)
            aws_raise_error(L, "InvalidParameter", "http: header values must be strings or numbers");
        size_t nlen, vlen;
        const char *name = lua_tolstring(L, -2, &nlen);
        if (number) {
            /* converted on a copy (never on the table's key), which the keep-alive table holds */
            lua_pushvalue(L, -1);
            lua_replace(L, -2);
            lua_tolstring(L, -1, NULL);
            keep_alive(L, keepalive);
        }
        const char *value = lua_tolstring(L, -1, &vlen);
        /* a NUL would cut the line libcurl sends while the signature covers the whole value */
        if (strpbrk(name, "\r\n:") || strlen(name) != nlen || has_line_break(value, vlen))
            aws_raise_error(L, "InvalidParameter", "http: header '%s' has a CR, LF, NUL or colon in its name or a CR, LF or NUL in its value", name);
        header_push(L, hl, name, nlen, value, vlen);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

#define SIGNING_MT "awspromise.HttpSigning"

/* opts.sign.version: how the request is signed. */
enum signing_version { SIGN_V4, SIGN_V2, SIGN_BEARER };

/* opts.sign read into C: the fixed part of sigv4_params (the time is taken per transfer). */
typedef struct http_signing {
    enum signing_version version;
    const char *token;         /* SIGN_BEARER: the bearer token */
    sigv4_params params;
    int fixed_time;            /* opts.sign.time was given: params.time is it */
    int64_t time_offset;
    const char *payload_hash;
} http_signing;

static const char *const SIGNING_FIELDS[] = {
    "accessKeyId", "secretAccessKey", "sessionToken", "region", "service", "payloadHash", "time",
    "timeOffset", "doubleEncode", "normalize", "signBody", "unsignedPayload", "version", "token",
};

static enum signing_version read_version(lua_State *L, int sign)
{
    size_t n;
    const char *version = opt_string(L, sign, "opts.sign", "version", &n);
    if (!version || strcmp(version, "v4") == 0)
        return SIGN_V4;
    if (strcmp(version, "v2") == 0)
        return SIGN_V2;
    if (strcmp(version, "bearer") == 0)
        return SIGN_BEARER;
    return (enum signing_version)aws_raise_error(L, "InvalidParameter",
                                                 "http: opts.sign.version must be 'v4', 'v2' or 'bearer', got '%s'", version);
}

static void read_signing(lua_State *L, int sign, http_signing *s)
{
    size_t n;
    sigv4_params *p = &s->params;
    memset(s, 0, sizeof *s);
    size_t id_len = 0, token_len = 0;
    s->version = read_version(L, sign);
    if (s->version == SIGN_BEARER) {
        s->token = opt_string(L, sign, "opts.sign", "token", &token_len);
        if (!s->token || !*s->token)
            aws_raise_error(L, "InvalidParameter", "http: opts.sign (bearer) needs a token");
        if (has_line_break(s->token, token_len))
            aws_raise_error(L, "CredentialsError", "http: the bearer token contains a CR, LF or NUL character");
        return;
    }
    p->access_key_id = opt_string(L, sign, "opts.sign", "accessKeyId", &id_len);
    p->secret_access_key = opt_string(L, sign, "opts.sign", "secretAccessKey", &p->secret_len);
    p->session_token = opt_string(L, sign, "opts.sign", "sessionToken", &token_len);
    /* the key id and the token become header values, the secret an HMAC key read up to a NUL */
    if ((p->access_key_id && has_line_break(p->access_key_id, id_len)) ||
        (p->secret_access_key && has_line_break(p->secret_access_key, p->secret_len)) ||
        (p->session_token && has_line_break(p->session_token, token_len)))
        aws_raise_error(L, "CredentialsError", "http: opts.sign credentials contain a CR, LF or NUL character");
    p->region = opt_string(L, sign, "opts.sign", "region", &n);
    p->service = opt_string(L, sign, "opts.sign", "service", &n);
    if (!p->access_key_id || !p->secret_access_key)
        aws_raise_error(L, "InvalidParameter", "http: opts.sign needs accessKeyId and secretAccessKey");
    if (s->version == SIGN_V4 && (!p->region || !p->service))
        aws_raise_error(L, "InvalidParameter", "http: opts.sign needs region and service");
    int is_s3 = p->service && strcmp(p->service, "s3") == 0;
    lua_Number fixed = opt_number(L, sign, "opts.sign", "time", NAN);
    s->fixed_time = !isnan(fixed);
    p->time = s->fixed_time ? (int64_t)fixed : 0;
    s->time_offset = (int64_t)opt_number(L, sign, "opts.sign", "timeOffset", 0);
    if (opt_bool(L, sign, "doubleEncode", !is_s3))
        p->flags |= SIGV4_DOUBLE_ENCODE;
    if (opt_bool(L, sign, "normalize", !is_s3))
        p->flags |= SIGV4_NORMALIZE;
    if (opt_bool(L, sign, "signBody", is_s3))
        p->flags |= SIGV4_SIGN_BODY;
    s->payload_hash = opt_string(L, sign, "opts.sign", "payloadHash", &n);
    if (!s->payload_hash && opt_bool(L, sign, "unsignedPayload", 0))
        s->payload_hash = SIGV4_UNSIGNED_PAYLOAD;
}

/* SigV2 signs the parameters themselves: the form body of a POST, else the URL's query, is
 * replaced by its signed form (a string the plan keeps alive). Skipped without a signer (the
 * options are only being checked). */
static void sign_v2(lua_State *L, transfer_plan *plan, sigv4_signer *signer, int keepalive)
{
    if (!signer)
        return;
    int in_body = strcmp(plan->method, "POST") == 0;
    sigv2_request req = {
        .method = plan->method,
        .host = plan->u.host, .host_len = plan->u.host_len,
        .path = plan->u.path, .path_len = plan->u.path_len,
        .params = in_body ? plan->body : plan->u.query,
        .params_len = in_body ? plan->body_len : plan->u.query_len,
    };
    sigv2_result out;
    int rc = sigv2_sign(signer, &req, &plan->sign_params, &out);
    if (rc != SIGV4_OK)
        aws_raise_error(L, "InvalidParameter", "http: Signature Version 2: %s", sigv4_strerror(rc));
    if (in_body) {
        lua_pushlstring(L, out.signed_params, out.signed_params_len);
        plan->body = lua_tolstring(L, -1, &plan->body_len);
        lua_replace(L, plan->body_slot);
        return;
    }
    /* http_split_url gives a URL without a path the path "/", which is not in the URL */
    int own_path = plan->u.path >= plan->url && plan->u.path < plan->url + plan->url_len;
    const char *base_end = own_path ? plan->u.path + plan->u.path_len : plan->u.host + plan->u.host_len;
    size_t base_len = (size_t)(base_end - plan->url);
    lua_pushlstring(L, plan->url, base_len);
    lua_pushliteral(L, "?");
    lua_pushlstring(L, out.signed_params, out.signed_params_len);
    lua_concat(L, 3);
    keep_alive(L, keepalive);
    plan->url = lua_tolstring(L, -1, &plan->url_len);
    lua_pop(L, 1);
    if (!http_split_url(plan->url, plan->url_len, &plan->u))
        aws_raise_error(L, "InvalidParameter", "http: Signature Version 2 made a bad URL: %s", plan->url);
}

/* What opts.sign asks for: SigV4 headers when the transfer starts, the SigV2 parameters now,
 * or a bearer token's Authorization header. */
static void plan_signing(lua_State *L, transfer_plan *plan, const http_signing *s, sigv4_signer *signer,
                         int keepalive)
{
    if (s->version == SIGN_BEARER) {
        lua_pushfstring(L, "Bearer %s", s->token);
        keep_alive(L, keepalive);
        size_t len;
        const char *value = lua_tolstring(L, -1, &len);
        if (strpbrk(value, "\r\n"))
            aws_raise_error(L, "InvalidParameter", "http: the bearer token has a CR or LF");
        header_push(L, &plan->hl, "Authorization", 13, value, len);
        lua_pop(L, 1);
        return;
    }
    plan->sign_params = s->params;
    plan->sign_params.time = (s->fixed_time ? s->params.time : (int64_t)time(NULL)) + s->time_offset;
    if (s->version == SIGN_V2) {
        sign_v2(L, plan, signer, keepalive);
        return;
    }
    plan->payload_hash = s->payload_hash;
    plan->sign = 1;
}

/* core.http_signing(sign) -> the same options as opts.sign, read and checked once: a client
 * passes it with every request instead of a table that core.http reads field by field. Its
 * strings are held by a private copy of the table (its user value). */
static int l_http_signing(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_createtable(L, 0, 12);
    for (size_t i = 0; i < sizeof SIGNING_FIELDS / sizeof *SIGNING_FIELDS; i++) {
        lua_getfield(L, 1, SIGNING_FIELDS[i]);
        lua_setfield(L, 2, SIGNING_FIELDS[i]);
    }
    http_signing *s = lua_newuserdatauv(L, sizeof *s, 1);
    read_signing(L, 2, s);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, SIGNING_MT);
    return 1;
}

void http_open_signing(lua_State *L)
{
    luaL_newmetatable(L, SIGNING_MT);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_http_signing);
    lua_setfield(L, -2, "http_signing");
}

/* Transport settings come from opts.httpOptions when given (a client passes its shared table
 * instead of copying five fields per request), else from opts itself. */
static void plan_transport(lua_State *L, int opts, transfer_plan *plan)
{
    const char *where = "opts";
    int transport = opts;
    if (lua_getfield(L, opts, "httpOptions") == LUA_TTABLE) {
        transport = lua_gettop(L);
        where = "httpOptions";
    }
    size_t n;
    plan->timeout_ms = opt_ms(L, transport, where, "timeout");
    plan->connect_timeout_ms = opt_ms(L, transport, where, "connectTimeout");
    plan->ca_file = opt_string(L, transport, where, "caFile", &n);
    plan->proxy = opt_string(L, transport, where, "proxy", &n);
    plan->http2 = opt_bool(L, transport, "http2", 0);
    lua_settop(L, opts + PLAN_SLOTS);
}

static int plan_callback(lua_State *L, int opts, const char *field)
{
    int type = lua_getfield(L, opts, field);
    if (type != LUA_TNIL && type != LUA_TFUNCTION)
        aws_raise_error(L, "InvalidParameter", "http: opts.%s must be a function, got %s", field, luaL_typename(L, -1));
    return lua_gettop(L);
}

void http_plan(lua_State *L, sigv4_signer *signer, transfer_plan *plan)
{
    int opts = lua_gettop(L);
    memset(plan, 0, sizeof *plan);
    lua_pushnil(L); /* keep-alive: strings converted from numbers */
    int keepalive = lua_gettop(L);
    lua_pushnil(L); /* the header list's storage once it outgrows its inline items */
    plan->hl.storage = lua_gettop(L);
    plan->hl.items = plan->hl.inline_items;
    plan->hl.cap = INLINE_HEADERS;
    int body_type = lua_getfield(L, opts, "body");
    if (body_type != LUA_TNIL && body_type != LUA_TSTRING)
        aws_raise_error(L, "InvalidParameter", "http: opts.body must be a string, got %s", luaL_typename(L, -1));
    plan->body_slot = lua_gettop(L);
    plan->body = lua_tolstring(L, -1, &plan->body_len);
    http_plan_upload(L, opts, plan);
    plan->upload_slot = plan_callback(L, opts, "onUploadProgress");
    plan->download_slot = plan_callback(L, opts, "onDownloadProgress");
    plan->progress = !lua_isnil(L, plan->upload_slot) || !lua_isnil(L, plan->download_slot);
    plan->headers_hook_slot = plan_callback(L, opts, "onHeaders");
    plan->body_hook_slot = plan_callback(L, opts, "onBody");
    plan->head_hook = !lua_isnil(L, plan->headers_hook_slot);
    plan->stream_body = !lua_isnil(L, plan->body_hook_slot);

    plan->url = opt_string(L, opts, "opts", "url", &plan->url_len);
    if (!plan->url)
        aws_raise_error(L, "InvalidParameter", "http: opts.url is required");
    if (!http_split_url(plan->url, plan->url_len, &plan->u))
        aws_raise_error(L, "InvalidParameter", "http: opts.url is not an absolute http(s) URL: %s", plan->url);
    if (plan->url_len > CURL_MAX_URL_BYTES) /* libcurl's own limit on a string option */
        aws_raise_error(L, "InvalidParameter", "http: opts.url is %I bytes long; libcurl takes at most %d",
                        (lua_Integer)plan->url_len, CURL_MAX_URL_BYTES);
    size_t n;
    plan->method = opt_string(L, opts, "opts", "method", &n);
    if (!plan->method)
        plan->method = "GET";
    header_push(L, &plan->hl, "Host", 4, plan->u.host, plan->u.host_len);
    collect_headers(L, opts, keepalive, &plan->hl);
    int sign_type = lua_getfield(L, opts, "sign");
    const http_signing *signing = sign_type == LUA_TUSERDATA ? luaL_testudata(L, -1, SIGNING_MT) : NULL;
    if (signing) {
        plan_signing(L, plan, signing, signer, keepalive);
    } else if (sign_type == LUA_TTABLE) {
        http_signing read;
        read_signing(L, lua_gettop(L), &read);
        plan_signing(L, plan, &read, signer, keepalive);
    } else if (sign_type != LUA_TNIL && !(sign_type == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
        aws_raise_error(L, "InvalidParameter", "http: opts.sign must be a table, core.http_signing's result, nil or false; got %s",
                     luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (plan->upload && plan->sign && !plan->payload_hash)
        plan->payload_hash = SIGV4_UNSIGNED_PAYLOAD; /* a streamed body cannot be hashed first */
    plan_transport(L, opts, plan);
}

const char *http_sign_request(http_engine *h, transfer *t, const transfer_plan *plan)
{
    sigv4_request req = {
        .method = plan->method,
        .path = plan->u.path, .path_len = plan->u.path_len,
        .query = plan->u.query, .query_len = plan->u.query_len,
        .headers = plan->hl.items, .n_headers = plan->hl.n,
        .body = plan->body, .body_len = plan->body_len,
        .payload_hash = plan->payload_hash,
    };
    sigv4_result out;
    int rc = sigv4_sign(h->signer, &req, &plan->sign_params, &out);
    if (rc != SIGV4_OK)
        return sigv4_strerror(rc);
    for (size_t i = 0; i < out.n_add; i++)
        if (!http_add_header_line(t, &h->scratch, out.add[i].name, out.add[i].name_len, out.add[i].value, out.add[i].value_len))
            return "http: out of memory";
    return NULL;
}

/* Turning core.http's options into a request: the URL's parts, the header list (validated:
 * no CR or LF), and the SigV4 signature over exactly what will be sent. */
#include "http/http_internal.h"

#include <stdlib.h>
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

const char *http_opt_string(lua_State *L, int idx, const char *field, size_t *len)
{
    lua_getfield(L, idx, field);
    const char *s = NULL;
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "http: opts.%s must be a string, got %s", field, luaL_typename(L, -1));
    lua_pop(L, 1); /* the string stays alive: the opts table still holds it */
    return s;
}

int http_opt_bool(lua_State *L, int idx, const char *field, int dflt)
{
    lua_getfield(L, idx, field);
    int v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

long http_opt_ms(lua_State *L, int idx, const char *field)
{
    lua_getfield(L, idx, field);
    lua_Number v = lua_isnil(L, -1) ? 0 : luaL_checknumber(L, -1);
    lua_pop(L, 1);
    if (v < 0)
        luaL_error(L, "http: opts.%s must be >= 0 (milliseconds)", field);
    return (long)v;
}

int http_header_push(header_list *hl, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (hl->n == hl->cap) {
        size_t cap = hl->cap * 2;
        sigv4_header *grown = malloc(cap * sizeof *grown);
        if (!grown)
            return 0;
        memcpy(grown, hl->items, hl->n * sizeof *grown);
        if (hl->items != hl->inline_items)
            free(hl->items);
        hl->items = grown;
        hl->cap = cap;
    }
    hl->items[hl->n++] = (sigv4_header){name, nlen, value, vlen};
    return 1;
}

int http_has_header(const header_list *hl, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < hl->n; i++)
        if (hl->items[i].name_len == len && strncasecmp(hl->items[i].name, name, len) == 0)
            return 1;
    return 0;
}

/* Reads opts.headers into hl; every name and value is a string held by the opts table. Returns
 * an error message or NULL. */
const char *http_collect_headers(lua_State *L, int opts, int keepalive, header_list *hl)
{
    if (lua_getfield(L, opts, "headers") == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!lua_istable(L, -1))
        return "http: opts.headers must be a table of name = value";
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return "http: header names must be strings";
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            return "http: header values must be strings or numbers";
        size_t nlen, vlen;
        const char *name = lua_tolstring(L, -2, &nlen);
        lua_pushvalue(L, -1);
        lua_replace(L, -2); /* a number is converted on this copy, never on the table's key */
        const char *value = lua_tolstring(L, -1, &vlen);
        if (strpbrk(name, "\r\n:") || memchr(value, '\r', vlen) || memchr(value, '\n', vlen)) {
            lua_pushfstring(L, "http: header '%s' has a CR, LF or colon in its name or a CR or LF in its value", name);
            return lua_tostring(L, -1);
        }
        if (lua_type(L, -1) == LUA_TNUMBER) {
            /* The converted string must outlive this slot: keep it in the call's keep-alive table. */
            if (lua_isnil(L, keepalive)) {
                lua_newtable(L);
                lua_replace(L, keepalive);
            }
            lua_pushvalue(L, -1);
            lua_rawseti(L, keepalive, (lua_Integer)lua_rawlen(L, keepalive) + 1);
        }
        if (!http_header_push(hl, name, nlen, value, vlen))
            return "http: out of memory";
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return NULL;
}

/* Signs per opts.sign and appends the signer's headers. Returns an error message or NULL. */
const char *http_sign_request(lua_State *L, http_engine *h, transfer *t, const char *method,
                                const url_parts *u, header_list *hl, const char *body, size_t body_len)
{
    int sign = lua_absindex(L, -1);
    size_t n;
    sigv4_params p;
    memset(&p, 0, sizeof p);
    p.access_key_id = http_opt_string(L, sign, "accessKeyId", &n);
    p.secret_access_key = http_opt_string(L, sign, "secretAccessKey", &p.secret_len);
    p.session_token = http_opt_string(L, sign, "sessionToken", &n);
    p.region = http_opt_string(L, sign, "region", &n);
    p.service = http_opt_string(L, sign, "service", &n);
    if (!p.access_key_id || !p.secret_access_key)
        return "http: opts.sign needs accessKeyId and secretAccessKey";
    if (!p.region || !p.service)
        return "http: opts.sign needs region and service";
    int is_s3 = strcmp(p.service, "s3") == 0;
    lua_getfield(L, sign, "time");
    p.time = lua_isnil(L, -1) ? (int64_t)time(NULL) : (int64_t)luaL_checknumber(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, sign, "timeOffset");
    p.time += (int64_t)luaL_optnumber(L, -1, 0);
    lua_pop(L, 1);
    if (http_opt_bool(L, sign, "doubleEncode", !is_s3))
        p.flags |= SIGV4_DOUBLE_ENCODE;
    if (http_opt_bool(L, sign, "normalize", !is_s3))
        p.flags |= SIGV4_NORMALIZE;
    if (http_opt_bool(L, sign, "signBody", is_s3))
        p.flags |= SIGV4_SIGN_BODY;
    sigv4_request req = {
        .method = method,
        .path = u->path, .path_len = u->path_len,
        .query = u->query, .query_len = u->query_len,
        .headers = hl->items, .n_headers = hl->n,
        .body = body, .body_len = body_len,
        .payload_hash = http_opt_string(L, sign, "payloadHash", &n),
    };
    if (!req.payload_hash && http_opt_bool(L, sign, "unsignedPayload", 0))
        req.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
    sigv4_result out;
    int rc = sigv4_sign(h->signer, &req, &p, &out);
    if (rc != SIGV4_OK)
        return sigv4_strerror(rc);
    for (size_t i = 0; i < out.n_add; i++)
        if (!http_add_header_line(t, &h->scratch, out.add[i].name, out.add[i].name_len, out.add[i].value, out.add[i].value_len))
            return "http: out of memory";
    return NULL;
}

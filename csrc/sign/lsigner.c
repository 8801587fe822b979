/* Lua binding of the SigV4 signer: require("awspromise.signer").
 *
 * Every argument is validated (raising a message that names the field) before the C signer
 * runs, and the signer only writes into buffers owned by the state userdata, so an error
 * raised at any point, even by lua_pushlstring running out of memory, leaks nothing. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sign/lsigner.h"

#include "core/owned.h"

#include "codec/time.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "sign/sigv2.h"
#include "sign/sigv4.h"
#include <lauxlib.h>

#define STATE_MT "awspromise.signer.state"

typedef struct lstate {
    sigv4_signer *signer;
    strbuf buf;
} lstate;

static lstate *state(lua_State *L)
{
    return (lstate *)lua_touserdata(L, lua_upvalueindex(1));
}

static int state_gc(lua_State *L)
{
    lstate *st = luaL_checkudata(L, 1, STATE_MT);
    sigv4_signer_free(st->signer);
    st->signer = NULL;
    sb_free(&st->buf);
    return 0;
}

/* ---------------------------------------------------------------- time strings */

/* Stricter than aws_time_parse on purpose: a signing time is only ever one of the two forms
 * SigV4 itself writes. */
static int parse_time(const char *s, size_t len, int64_t *t)
{
    /* positions of Y M D h m s in the compact and the extended ISO 8601 forms */
    static const int compact[] = {0, 4, 6, 9, 11, 13}, extended[] = {0, 5, 8, 11, 14, 17};
    const int *at;
    if (len == 16 && s[8] == 'T' && s[15] == 'Z')
        at = compact;
    else if (len == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
             s[16] == ':' && s[19] == 'Z')
        at = extended;
    else
        return 0;
    int f[6];
    for (int i = 0; i < 6; i++)
        if (!aws_digits(s + at[i], s + len, i == 0 ? 4 : 2, &f[i]))
            return 0;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return 0;
    *t = aws_days_from_civil(f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
    return 1;
}

/* ---------------------------------------------------------------- argument reading */

static void need_table(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_error(L, "%s: %s must be a table", fn, what);
}

/* The string is left on the stack: a value produced by an __index metamethod is not anchored
 * anywhere else, and the C signer reads these bytes later. Callers fix their argument count
 * with lua_settop first, so the extra slots never shift an argument index. */
static const char *field_str(lua_State *L, int t, const char *field, const char *fn,
                             const char *what, int required, size_t *len)
{
    luaL_checkstack(L, 2, fn);
    lua_getfield(L, t, field);
    if (lua_isnil(L, -1) && !required) {
        lua_pop(L, 1);
        if (len)
            *len = 0;
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: %s.%s must be a string", fn, what, field);
    return lua_tolstring(L, -1, len);
}

static const char *string_arg(lua_State *L, int idx, const char *fn, const char *name, size_t *len)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_error(L, "%s: %s must be a string", fn, name);
    return lua_tolstring(L, idx, len);
}

static int field_bool(lua_State *L, int t, const char *field, const char *fn, int dflt)
{
    lua_getfield(L, t, field);
    int type = lua_type(L, -1);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        luaL_error(L, "%s: opts.%s must be a boolean", fn, field);
    int v = type == LUA_TNIL ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Epoch seconds (number) or "20150830T123600Z" / "2015-08-30T12:36:00Z"; nil means now. */
static int64_t value_time(lua_State *L, int idx, const char *fn, const char *what)
{
    int64_t t = 0;
    char probe[17];
    int type = lua_type(L, idx);
    if (type == LUA_TNIL) {
        t = (int64_t)time(NULL);
    } else if (type == LUA_TNUMBER) {
        int isint;
        lua_Integer i = lua_tointegerx(L, idx, &isint);
        lua_Number d = lua_tonumber(L, idx);
        /* the range test also rejects NaN, whose conversion to an integer is undefined */
        if (!isint && !(d > -1e15 && d < 1e15))
            luaL_error(L, "%s: %s is out of range", fn, what);
        t = isint ? (int64_t)i : (int64_t)d;
    } else if (type == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (!parse_time(s, len, &t))
            luaL_error(L, "%s: %s must be epoch seconds or \"YYYYMMDDTHHMMSSZ\", got \"%s\"", fn,
                       what, s);
    } else {
        return luaL_error(L, "%s: %s must be epoch seconds or a \"YYYYMMDDTHHMMSSZ\" string", fn,
                          what);
    }
    if (!sigv4_format_time(t, probe))
        luaL_error(L, "%s: %s is out of range", fn, what);
    return t;
}

static void read_creds(lua_State *L, int idx, const char *fn, sigv4_params *p)
{
    need_table(L, idx, fn, "creds");
    p->access_key_id = field_str(L, idx, "accessKeyId", fn, "creds", 1, NULL);
    p->secret_access_key = field_str(L, idx, "secretAccessKey", fn, "creds", 1, &p->secret_len);
    p->session_token = field_str(L, idx, "sessionToken", fn, "creds", 0, NULL);
}

/* region, service and time only: what the string to sign and the key derivation need. */
static void read_scope(lua_State *L, int idx, const char *fn, sigv4_params *p)
{
    need_table(L, idx, fn, "opts");
    p->region = field_str(L, idx, "region", fn, "opts", 1, NULL);
    p->service = field_str(L, idx, "service", fn, "opts", 1, NULL);
    lua_getfield(L, idx, "time");
    p->time = value_time(L, -1, fn, "opts.time");
    lua_pop(L, 1);
}

static void read_opts(lua_State *L, int idx, const char *fn, sigv4_params *p, int *unsigned_pl)
{
    read_scope(L, idx, fn, p);
    int s3 = strcmp(p->service, "s3") == 0;
    lua_getfield(L, idx, "presign");
    if (!lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1))) {
        int isint;
        lua_Integer n = lua_tointegerx(L, -1, &isint);
        if (lua_type(L, -1) != LUA_TNUMBER || !isint || n <= 0 || n > 604800)
            luaL_error(L, "%s: opts.presign must be a whole number of seconds in 1..604800", fn);
        p->expires = (long)n;
    }
    lua_pop(L, 1);
    p->flags = 0;
    if (field_bool(L, idx, "double_encode", fn, !s3))
        p->flags |= SIGV4_DOUBLE_ENCODE;
    if (field_bool(L, idx, "normalize", fn, !s3))
        p->flags |= SIGV4_NORMALIZE;
    if (field_bool(L, idx, "sign_body", fn, s3))
        p->flags |= SIGV4_SIGN_BODY;
    if (field_bool(L, idx, "omit_session_token", fn, 0))
        p->flags |= SIGV4_OMIT_SESSION_TOKEN;
    *unsigned_pl = field_bool(L, idx, "unsigned_payload", fn, 0);
}

/* Fills h[i] from the pair (or map entry) at the top of the stack; non-string values are
 * converted and anchored in the table at `anchor` so their bytes outlive this call. */
static void header_value(lua_State *L, int anchor, sigv4_header *h, const char *fn,
                         const char *where, lua_Integer i, const char *key)
{
    int t = lua_type(L, -1);
    if (t == LUA_TNUMBER) {
        luaL_tolstring(L, -1, NULL);
        lua_pushvalue(L, -1);
        lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
        lua_replace(L, -2);
    } else if (t != LUA_TSTRING) {
        if (key)
            luaL_error(L, "%s: %s[\"%s\"] must be a string", fn, where, key);
        luaL_error(L, "%s: %s[%d] must be a {name, value} pair of strings", fn, where, (int)i);
    }
    h->value = lua_tolstring(L, -1, &h->value_len);
}

/* Reads a list of {name, value} pairs (order and duplicates kept) or a name -> value map.
 * Leaves two values on the stack (the array userdata and the anchor table). */
static sigv4_header *read_headers(lua_State *L, int t, const char *fn, const char *where,
                                  size_t *n)
{
    lua_newtable(L);
    int anchor = lua_gettop(L);
    *n = 0;
    if (lua_isnil(L, t)) {
        lua_newuserdatauv(L, 0, 0);
        return NULL;
    }
    if (lua_type(L, t) != LUA_TTABLE)
        luaL_error(L, "%s: %s must be a table", fn, where);
    int is_list = lua_rawgeti(L, t, 1) != LUA_TNIL;
    lua_pop(L, 1);
    size_t count = 0;
    if (is_list) {
        count = lua_rawlen(L, t);
    } else {
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "%s: %s keys must be header names (strings)", fn, where);
            lua_pop(L, 1);
            count++;
        }
    }
    sigv4_header *h = lua_newuserdatauv(L, count ? count * sizeof *h : 1, 0);
    if (is_list) {
        for (size_t i = 0; i < count; i++) {
            lua_Integer k = (lua_Integer)i + 1;
            if (lua_rawgeti(L, t, k) != LUA_TTABLE)
                luaL_error(L, "%s: %s[%d] must be a {name, value} pair of strings", fn, where,
                           (int)k);
            if (lua_rawgeti(L, -1, 1) != LUA_TSTRING)
                luaL_error(L, "%s: %s[%d] must be a {name, value} pair of strings", fn, where,
                           (int)k);
            h[i].name = lua_tolstring(L, -1, &h[i].name_len);
            lua_pop(L, 1);
            lua_rawgeti(L, -1, 2);
            header_value(L, anchor, &h[i], fn, where, k, NULL);
            lua_pop(L, 2);
        }
    } else {
        size_t i = 0;
        lua_pushnil(L);
        while (lua_next(L, t)) {
            h[i].name = lua_tolstring(L, -2, &h[i].name_len);
            header_value(L, anchor, &h[i], fn, where, 0, h[i].name);
            lua_pop(L, 1);
            i++;
        }
        count = i;
    }
    *n = count;
    return h;
}

/* Leaves the header userdata and its anchor on the stack. */
static void read_request(lua_State *L, int idx, const char *fn, sigv4_request *r)
{
    need_table(L, idx, fn, "request");
    memset(r, 0, sizeof *r);
    r->method = field_str(L, idx, "method", fn, "request", 1, NULL);
    r->path = field_str(L, idx, "path", fn, "request", 0, &r->path_len);
    r->query = field_str(L, idx, "query", fn, "request", 0, &r->query_len);
    if (!r->path) {
        r->path = "/";
        r->path_len = 1;
    } else if (!r->query) {
        const char *q = memchr(r->path, '?', r->path_len);
        if (q) {
            r->query = q + 1;
            r->query_len = r->path_len - (size_t)(q + 1 - r->path);
            r->path_len = (size_t)(q - r->path);
        }
    }
    r->body = field_str(L, idx, "body", fn, "request", 0, &r->body_len);
    r->payload_hash = field_str(L, idx, "payload_hash", fn, "request", 0, NULL);
    lua_getfield(L, idx, "headers");
    int ht = lua_gettop(L);
    r->headers = read_headers(L, ht, fn, "request.headers", &r->n_headers);
}

static void check_rc(lua_State *L, int rc, const char *fn)
{
    if (rc != SIGV4_OK)
        luaL_error(L, "%s: %s", fn, sigv4_strerror(rc));
}

static void set_str(lua_State *L, const char *k, const char *v, size_t len)
{
    lua_pushlstring(L, v, len);
    lua_setfield(L, -2, k);
}

/* ---------------------------------------------------------------- functions */

/* One request through the signer: what the arguments say and what the signer made of it. */
typedef struct signing {
    sigv4_request r;
    sigv4_params p;
    sigv4_result out;
} signing;

/* sign(request, creds, opts) when full, else canonical_request(request, opts [, creds]): the
 * credentials matter to a canonical request only when it is presigned (the credential is part
 * of the signed query). Runs the signer on them; raises on any error. */
static void run_signer(lua_State *L, const char *fn, int full, signing *g)
{
    int opts_idx = full ? 3 : 2, creds_idx = full ? 2 : 3, unsigned_pl;
    lua_settop(L, 3);
    memset(&g->p, 0, sizeof g->p);
    read_request(L, 1, fn, &g->r);
    read_opts(L, opts_idx, fn, &g->p, &unsigned_pl);
    if (full || !lua_isnoneornil(L, creds_idx))
        read_creds(L, creds_idx, fn, &g->p);
    else if (g->p.expires > 0)
        luaL_error(L, "%s: creds (3rd argument) are needed to presign", fn);
    if (unsigned_pl && !g->r.payload_hash)
        g->r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
    sigv4_signer *signer = state(L)->signer;
    check_rc(L, full ? sigv4_sign(signer, &g->r, &g->p, &g->out)
                     : sigv4_canonical_request(signer, &g->r, &g->p, &g->out), fn);
}

/* sign(request, creds, opts) -> result table (see the module documentation in sigv4.h). */
static int l_sign(lua_State *L)
{
    signing g;
    run_signer(L, "signer.sign", 1, &g);

    lua_createtable(L, 0, 16);
    set_str(L, "canonical_request", g.out.canonical_request, g.out.canonical_request_len);
    set_str(L, "string_to_sign", g.out.string_to_sign, g.out.string_to_sign_len);
    set_str(L, "signature", g.out.signature, 64);
    set_str(L, "signed_headers", g.out.signed_headers, strlen(g.out.signed_headers));
    set_str(L, "scope", g.out.scope, strlen(g.out.scope));
    set_str(L, "amz_date", g.out.amz_date, 16);
    set_str(L, "payload_hash", g.out.payload_hash, strlen(g.out.payload_hash));
    if (g.p.expires > 0) {
        set_str(L, "auth_query", g.out.auth_query, g.out.auth_query_len);
        set_str(L, "canonical_query", g.out.canonical_query, g.out.canonical_query_len);
        /* The request's own query first, as given, then the authentication parameters. */
        if (g.r.query_len) {
            lua_pushlstring(L, g.r.query, g.r.query_len);
            lua_pushliteral(L, "&");
            lua_pushlstring(L, g.out.auth_query, g.out.auth_query_len);
            lua_concat(L, 3);
        } else {
            lua_pushlstring(L, g.out.auth_query, g.out.auth_query_len);
        }
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "query");
        lua_pushlstring(L, g.r.path, g.r.path_len);
        lua_pushliteral(L, "?");
        lua_rotate(L, -3, -1);
        lua_concat(L, 3);
        lua_setfield(L, -2, "url");
        return 1;
    }
    lua_createtable(L, (int)g.out.n_add, 0);
    for (size_t i = 0; i < g.out.n_add; i++) {
        const sigv4_header *h = &g.out.add[i];
        lua_createtable(L, 2, 0);
        lua_pushlstring(L, h->name, h->name_len);
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, h->value, h->value_len);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        lua_pushlstring(L, h->value, h->value_len);
        lua_setfield(L, -3, h->name);
    }
    lua_setfield(L, -2, "add_headers");
    return 1;
}

/* sign_v2(request, creds[, opts]) -> {string_to_sign, signed_params, signature, timestamp}:
 * Signature Version 2. request = {method =, host =, path = "/", params = "a=b&c=d"} (params:
 * the form body or the URL's query, without the auth parameters); opts.time as for sign. */
static int l_sign_v2(lua_State *L)
{
    static const char fn[] = "signer.sign_v2";
    lua_settop(L, 3);
    need_table(L, 1, fn, "request");
    sigv2_request r;
    sigv4_params p;
    sigv2_result out;
    memset(&r, 0, sizeof r);
    memset(&p, 0, sizeof p);
    r.method = field_str(L, 1, "method", fn, "request", 1, NULL);
    r.host = field_str(L, 1, "host", fn, "request", 1, &r.host_len);
    r.path = field_str(L, 1, "path", fn, "request", 0, &r.path_len);
    r.params = field_str(L, 1, "params", fn, "request", 0, &r.params_len);
    read_creds(L, 2, fn, &p);
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "time");
        p.time = value_time(L, -1, fn, "opts.time");
        lua_pop(L, 1);
    } else if (!lua_isnil(L, 3)) {
        luaL_error(L, "%s: opts must be a table", fn);
    } else {
        p.time = value_time(L, 3, fn, "opts.time");
    }
    check_rc(L, sigv2_sign(state(L)->signer, &r, &p, &out), fn);
    lua_createtable(L, 0, 4);
    set_str(L, "string_to_sign", out.string_to_sign, out.string_to_sign_len);
    set_str(L, "signed_params", out.signed_params, out.signed_params_len);
    set_str(L, "signature", out.signature, strlen(out.signature));
    set_str(L, "timestamp", out.timestamp, strlen(out.timestamp));
    return 1;
}

/* canonical_request(request, opts [, creds]) -> string, signed headers */
static int l_canonical_request(lua_State *L)
{
    signing g;
    run_signer(L, "signer.canonical_request", 0, &g);
    lua_pushlstring(L, g.out.canonical_request, g.out.canonical_request_len);
    lua_pushstring(L, g.out.signed_headers);
    return 2;
}

/* string_to_sign(canonical_request, opts) -> string */
static int l_string_to_sign(lua_State *L)
{
    static const char fn[] = "signer.string_to_sign";
    lua_settop(L, 2);
    sigv4_params p;
    char date[17];
    size_t len;
    memset(&p, 0, sizeof p);
    const char *cr = string_arg(L, 1, fn, "canonical_request", &len);
    read_scope(L, 2, fn, &p);
    sigv4_format_time(p.time, date);
    lstate *st = state(L);
    sb_reset(&st->buf);
    sb_append(&st->buf, date, 8);
    sb_putc(&st->buf, '/');
    sb_puts(&st->buf, p.region);
    sb_putc(&st->buf, '/');
    sb_puts(&st->buf, p.service);
    sb_puts(&st->buf, "/aws4_request");
    if (st->buf.failed)
        return luaL_error(L, "%s: out of memory", fn);
    /* the scope is copied to the Lua stack: the next call reuses st->buf for the result */
    lua_pushlstring(L, st->buf.data, st->buf.len);
    check_rc(L, sigv4_string_to_sign(st->signer, date, lua_tostring(L, -1), cr, len, &st->buf),
             fn);
    lua_pushlstring(L, st->buf.data, st->buf.len);
    return 1;
}

static void date8_arg(lua_State *L, int idx, const char *fn, char date[17])
{
    size_t len = 0;
    const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
    int ok = s && len == 8;
    for (size_t i = 0; ok && i < 8; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (ok) {
        memcpy(date, s, 8);
        date[8] = '\0';
        return;
    }
    sigv4_format_time(value_time(L, idx, fn, "date"), date);
}

/* signing_key(secret, date, region, service) -> 32 raw bytes, 64 hex chars.
 * date: "YYYYMMDD", a full timestamp or epoch seconds. */
static int l_signing_key(lua_State *L)
{
    static const char fn[] = "signer.signing_key";
    lua_settop(L, 4);
    static const char *names[] = {"secret", "date", "region", "service"};
    char date[17];
    unsigned char key[32];
    size_t slen;
    for (int i = 1; i <= 4; i++)
        if (i != 2 && lua_type(L, i) != LUA_TSTRING)
            luaL_error(L, "%s: %s must be a string", fn, names[i - 1]);
    const char *secret = lua_tolstring(L, 1, &slen);
    date8_arg(L, 2, fn, date);
    check_rc(L, sigv4_signing_key(state(L)->signer, secret, slen, date, lua_tostring(L, 3),
                                  lua_tostring(L, 4), key), fn);
    char hex[65];
    sigv4_hex32(key, hex);
    lua_pushlstring(L, (const char *)key, 32);
    lua_pushlstring(L, hex, 64);
    return 2;
}

static void secret_arg(lua_State *L, int idx, const char *fn, sigv4_params *p)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        p->secret_access_key = lua_tolstring(L, idx, &p->secret_len);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_error(L, "%s: creds must be a table or a secret access key string", fn);
    p->secret_access_key = field_str(L, idx, "secretAccessKey", fn, "creds", 1, &p->secret_len);
}

/* What every signature needs: the secret and the scope (region, service, time). */
static void read_key_args(lua_State *L, const char *fn, int secret_idx, int scope_idx,
                          sigv4_params *p)
{
    memset(p, 0, sizeof *p);
    secret_arg(L, secret_idx, fn, p);
    read_scope(L, scope_idx, fn, p);
}

static int push_signature(lua_State *L, const char *fn, int rc, const char sig[65])
{
    check_rc(L, rc, fn);
    lua_pushlstring(L, sig, 64);
    return 1;
}

/* signature(string_to_sign, creds_or_secret, opts) -> hex */
static int l_signature(lua_State *L)
{
    static const char fn[] = "signer.signature";
    sigv4_params p;
    char sig[65];
    size_t len;
    lua_settop(L, 3);
    const char *sts = string_arg(L, 1, fn, "string_to_sign", &len);
    read_key_args(L, fn, 2, 3, &p);
    return push_signature(L, fn, sigv4_signature(state(L)->signer, &p, sts, len, sig), sig);
}

static const char *prev_arg(lua_State *L, const char *fn)
{
    size_t len = 0;
    const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
    int ok = s && len == 64;
    for (size_t i = 0; ok && i < 64; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!ok)
        luaL_error(L, "%s: prev_signature must be 64 lower-case hex characters", fn);
    return s;
}

/* chunk_signature(prev_signature, chunk, opts, creds) -> hex
 * trailer_signature(prev_signature, trailers, opts, creds) -> hex */
static int chained_signature(lua_State *L, int trailer)
{
    const char *fn = trailer ? "signer.trailer_signature" : "signer.chunk_signature";
    sigv4_params p;
    char sig[65];
    int rc;
    lua_settop(L, 4);
    const char *prev = prev_arg(L, fn);
    read_key_args(L, fn, 4, 3, &p);
    if (trailer) {
        size_t n;
        sigv4_header *h = read_headers(L, 2, fn, "trailers", &n);
        rc = sigv4_trailer_signature(state(L)->signer, &p, prev, h, n, sig);
    } else {
        size_t len;
        const char *chunk = string_arg(L, 2, fn, "chunk", &len);
        rc = sigv4_chunk_signature(state(L)->signer, &p, prev, chunk, len, sig);
    }
    return push_signature(L, fn, rc, sig);
}

static int l_chunk_signature(lua_State *L)
{
    return chained_signature(L, 0);
}

static int l_trailer_signature(lua_State *L)
{
    return chained_signature(L, 1);
}

/* amz_date(time) -> "YYYYMMDDTHHMMSSZ", epoch seconds */
static int l_amz_date(lua_State *L)
{
    char date[17];
    int64_t t = value_time(L, 1, "signer.amz_date", "time");
    sigv4_format_time(t, date);
    lua_pushlstring(L, date, 16);
    lua_pushinteger(L, (lua_Integer)t);
    return 2;
}

/* uri_encode(s [, keep_slash]) -> the percent-encoded form (unreserved bytes kept) */
static int l_uri_encode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lstate *st = state(L);
    sb_reset(&st->buf);
    sb_append(&st->buf, "", 0);
    if (!sigv4_uri_encode(&st->buf, s, len, lua_toboolean(L, 2)))
        return luaL_error(L, "signer.uri_encode: out of memory");
    lua_pushlstring(L, st->buf.data, st->buf.len);
    return 1;
}

/* cache_stats() -> hits, misses of the signing-key cache */
static int l_cache_stats(lua_State *L)
{
    unsigned long hits, misses;
    sigv4_cache_stats(state(L)->signer, &hits, &misses);
    lua_pushinteger(L, (lua_Integer)hits);
    lua_pushinteger(L, (lua_Integer)misses);
    return 2;
}

void aws_open_signer(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"sign", l_sign},
        {"sign_v2", l_sign_v2},
        {"canonical_request", l_canonical_request},
        {"string_to_sign", l_string_to_sign},
        {"signing_key", l_signing_key},
        {"signature", l_signature},
        {"chunk_signature", l_chunk_signature},
        {"trailer_signature", l_trailer_signature},
        {"amz_date", l_amz_date},
        {"uri_encode", l_uri_encode},
        {"cache_stats", l_cache_stats},
        {NULL, NULL},
    };
    lstate *st = aws_push_owned(L, sizeof *st, STATE_MT, state_gc);
    st->signer = sigv4_signer_new();
    if (!st->signer)
        luaL_error(L, "awspromise.signer: cannot create the signer (out of memory or no SHA-256)");
    luaL_setfuncs(L, fns, 1);
}

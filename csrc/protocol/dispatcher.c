/* core.build_request and core.parse_response: dispatch to the wire protocol named by the model,
 * plus what every protocol shares (idempotency tokens, host prefixes, Content-MD5, CRC32). */
#include "protocol/dispatcher.h"

#include "codec/base64.h"
#include "codec/digest.h"
#include "codec/time.h"
#include "core/error.h"
#include "model/operation.h"
#include "protocol/eventstream.h"
#include "protocol/json/json.h"
#include "protocol/query/query.h"
#include "protocol/xml/xml.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int add_content_md5(lua_State *L, int req)
{
    if (lua_getfield(L, req, "body") != LUA_TSTRING) {
        lua_pop(L, 1);
        return 1;
    }
    size_t len;
    const char *body = lua_tolstring(L, -1, &len);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (!EVP_Digest(body, len, digest, &dlen, EVP_md5(), NULL))
        return 0;
    lua_pop(L, 1);
    strbuf sb = STRBUF_INIT;
    aws_base64_encode(&sb, digest, dlen);
    if (sb.failed) {
        sb_free(&sb);
        return 0;
    }
    lua_getfield(L, req, "headers");
    lua_pushlstring(L, sb.data, sb.len);
    sb_free(&sb);
    lua_setfield(L, -2, "Content-MD5");
    lua_pop(L, 1);
    return 1;
}

enum { MEMO_DISPATCH = 0x44490001 };
enum { PROTOCOL_UNKNOWN, PROTOCOL_JSON, PROTOCOL_XML, PROTOCOL_QUERY };

/* What the dispatcher decides per operation, worked out on its first call: the wire protocol,
 * whether the body needs a Content-MD5, and whether a reply or a request is an event stream. */
typedef struct dispatch {
    int protocol;
    int md5_required;
    int output_stream; /* a reply's body is an event stream: the engine hands it to the stream */
    int input_stream;  /* the request would send one: not supported */
} dispatch;

static dispatch dispatch_compute(const aws_model *m, const cJSON *op)
{
    dispatch d = {PROTOCOL_UNKNOWN, 0, 0, 0};
    const char *protocol = aws_model_meta(m, "protocol");
    if (!protocol)
        d.protocol = PROTOCOL_UNKNOWN;
    else if (strcmp(protocol, "json") == 0 || strcmp(protocol, "rest-json") == 0)
        d.protocol = PROTOCOL_JSON;
    else if (strcmp(protocol, "rest-xml") == 0)
        d.protocol = PROTOCOL_XML;
    else if (strcmp(protocol, "query") == 0 || strcmp(protocol, "ec2") == 0)
        d.protocol = PROTOCOL_QUERY;
    const cJSON *checksum = cJSON_GetObjectItemCaseSensitive(op, "httpChecksum");
    d.md5_required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "httpChecksumRequired")) ||
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(checksum, "requestChecksumRequired"));
    d.output_stream = aws_eventstream_output_member(m, op) != NULL;
    d.input_stream = aws_eventstream_input_member(m, op) != NULL;
    return d;
}

/* The operation's dispatch, memoized in the model (recomputed when memory is short). */
static dispatch dispatch_of(const aws_model *m, const cJSON *op)
{
    const dispatch *memo = aws_model_memo_get(m, op, MEMO_DISPATCH);
    if (memo)
        return *memo;
    dispatch d = dispatch_compute(m, op);
    dispatch *stored = malloc(sizeof *stored);
    if (stored) {
        *stored = d;
        if (!aws_model_memo_put(m, op, MEMO_DISPATCH, stored, free))
            free(stored);
    }
    return d;
}

static int unsupported_protocol(lua_State *L, const aws_model *m, const char *what)
{
    const char *protocol = aws_model_meta(m, "protocol");
    if (!protocol)
        return luaL_error(L, "%s: the model's metadata has no protocol", what);
    return luaL_error(L, "%s: unsupported protocol '%s'", what, protocol);
}

/* The operation the call names (a handle, or a model and a name); raises UnknownOperation. */
static const cJSON *find_operation(lua_State *L, const aws_model **m, int *next)
{
    const char *name;
    const cJSON *op = aws_operation_args(L, 1, m, &name, next);
    if (!op) {
        aws_push_error(L, "UnknownOperation", "");
        lua_pushfstring(L, "the model has no operation named '%s'", name);
        lua_setfield(L, -2, "message");
        lua_error(L);
    }
    return op;
}

/* core.build_request(operation, params, opts) or core.build_request(model, name, params, opts) */
static int l_build_request(lua_State *L)
{
    const aws_model *m;
    int params;
    const cJSON *op = find_operation(L, &m, &params);
    if (lua_isnoneornil(L, params)) {
        lua_newtable(L);
        lua_replace(L, params);
    }
    luaL_checktype(L, params, LUA_TTABLE);
    lua_settop(L, params + 1);
    dispatch d = dispatch_of(m, op);
    if (d.input_stream)
        return aws_raise_error(L, "UnsupportedOperation",
                               "%s sends an input event stream, which this SDK does not support",
                               op->string ? op->string : "the operation");
    if (d.protocol == PROTOCOL_JSON)
        aws_build_json(L, m, op, params, params + 1);
    else if (d.protocol == PROTOCOL_XML)
        aws_build_xml(L, m, op, params, params + 1);
    else if (d.protocol == PROTOCOL_QUERY)
        aws_build_query(L, m, op, params, params + 1);
    else
        return unsupported_protocol(L, m, "build_request");
    int req = lua_gettop(L);
    if (d.md5_required && !add_content_md5(L, req))
        return luaL_error(L, "build_request: cannot compute Content-MD5");
    return 1;
}

/* DynamoDB sends x-amz-crc32 over the body; a mismatch means a damaged response, worth a retry. */
static int crc32_mismatch(lua_State *L, int response)
{
    int mismatch = 0;
    lua_getfield(L, response, "headers");
    if (lua_istable(L, -1) && lua_getfield(L, -1, "x-amz-crc32") == LUA_TSTRING) {
        lua_Integer expected = lua_tointeger(L, -1);
        lua_getfield(L, response, "body");
        size_t len = 0;
        const char *body = lua_tolstring(L, -1, &len);
        if (body && (uint32_t)expected != aws_crc32((const unsigned char *)body, len))
            mismatch = 1;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return mismatch;
}

/* A successful event-stream reply is parsed for its status and headers only: its body is the
 * stream, which core.eventstream_decoder reads as it arrives. The response table at `response`
 * is replaced by a copy whose body is "". */
static void without_stream_body(lua_State *L, int response)
{
    lua_getfield(L, response, "statusCode");
    lua_Integer status = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (status >= 300)
        return;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "statusCode");
    lua_getfield(L, response, "headers");
    lua_setfield(L, -2, "headers");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "body");
    lua_replace(L, response);
}

/* core.parse_response(operation, response) or core.parse_response(model, name, response) */
static int l_parse_response(lua_State *L)
{
    const aws_model *m;
    int response;
    const cJSON *op = find_operation(L, &m, &response);
    luaL_checktype(L, response, LUA_TTABLE);
    lua_settop(L, response);
    dispatch d = dispatch_of(m, op);
    if (d.protocol == PROTOCOL_UNKNOWN)
        return unsupported_protocol(L, m, "parse_response");
    if (crc32_mismatch(L, response)) {
        lua_pushboolean(L, 0);
        aws_push_error(L, "CRC32CheckFailed", "the response body does not match its x-amz-crc32 checksum");
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "retryable");
        return 2;
    }
    if (d.output_stream)
        without_stream_body(L, response);
    if (d.protocol == PROTOCOL_JSON)
        return aws_parse_json(L, m, op, response);
    if (d.protocol == PROTOCOL_XML)
        return aws_parse_xml(L, m, op, response);
    return aws_parse_query(L, m, op, response);
}

/* parse_time(text) -> epoch seconds, or nil when the text is no timestamp we know. */
static int l_parse_time(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    double t;
    if (!aws_time_parse(text, len, &t))
        return 0;
    lua_pushnumber(L, t);
    return 1;
}

void aws_open_protocol(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"parse_time", l_parse_time},
        {"build_request", l_build_request},
        {"parse_response", l_parse_response},
        {NULL, NULL},
    };
    luaL_setfuncs(L, functions, 0);
    aws_open_eventstream(L);
}

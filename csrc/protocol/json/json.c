/* The json (1.0, 1.1) and rest-json protocols: requests and responses.
 *
 *   json:      POST /, X-Amz-Target: <targetPrefix>.<Operation>, Content-Type:
 *              application/x-amz-json-<jsonVersion>, the whole input as a JSON object ("{}" at least).
 *   rest-json: the HTTP binding of rest.c, then the body: the payload member (a structure or
 *              document as JSON, a blob or string raw), else the members without a location as
 *              a JSON object, and no body at all when the input has no such member.
 *
 * Errors: the code from the x-amzn-errortype header, else __type or code in the body, with a
 * namespace ("aws.foo#") and a ":suffix" stripped; the message from message / Message /
 * errorMessage; a modeled error shape's members are set on the error table. */
#include "protocol/json/json.h"

#include "protocol/rest/rest.h"

#include <string.h>

/* ---------------------------------------------------------------- requests */

static int has_body_members(const aws_model *m, const cJSON *input)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next)
        if (!aws_model_trait_string(m, mem, "location"))
            return 1;
    return 0;
}

static void build_rest_json(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts, int req)
{
    const cJSON *input = aws_rest_build_head(L, m, op, params, opts, req);
    if (!input)
        return;
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(input, "payload");
    if (cJSON_IsString(payload)) {
        const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
        const cJSON *member = cJSON_GetObjectItemCaseSensitive(members, payload->valuestring);
        const cJSON *shape = aws_model_resolve(m, member);
        const char *type = aws_shape_type(shape);
        if (!member || !type)
            aws_raise_serialization(L, "the payload member '%s' is not in the input shape", payload->valuestring);
        int document = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"));
        int raw = !document && (strcmp(type, "blob") == 0 || strcmp(type, "string") == 0);
        int t = lua_getfield(L, params, member->string);
        if (raw) {
            if (t == LUA_TSTRING) {
                lua_setfield(L, req, "body");
                aws_set_default_header(L, req, "Content-Type",
                                   strcmp(type, "blob") == 0 ? "application/octet-stream" : "text/plain");
            } else if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
                lua_pop(L, 1);
            } else {
                /* streaming bodies (files, readers) are the request layer's: hand the value on */
                lua_setfield(L, req, "body");
            }
            return;
        }
        if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
            /* an unset structure payload is still an (empty) JSON object; an unset union is
             * no body at all, as no member of it was chosen */
            lua_pop(L, 1);
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "union")))
                return;
            lua_pushliteral(L, "{}");
        } else {
            aws_json_push_value(L, m, member, lua_gettop(L), opts, member->string);
            lua_remove(L, -2);
        }
        lua_setfield(L, req, "body");
        aws_set_default_header(L, req, "Content-Type", "application/json");
        return;
    }
    if (!has_body_members(m, input))
        return;
    aws_json_push_body(L, m, input, params, opts, 1);
    lua_setfield(L, req, "body");
    aws_set_default_header(L, req, "Content-Type", "application/json");
}

static void build_rpc_json(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts, int req)
{
    /* every json-protocol call is a POST to / whatever the model's http trait says */
    lua_pushliteral(L, "POST");
    lua_setfield(L, req, "method");
    lua_getfield(L, req, "headers");
    const char *version = aws_model_meta(m, "jsonVersion");
    lua_pushfstring(L, "application/x-amz-json-%s", version ? version : "1.0");
    lua_setfield(L, -2, "Content-Type");
    const char *prefix = aws_model_meta(m, "targetPrefix");
    if (prefix) {
        lua_pushfstring(L, "%s.%s", prefix, op->string ? op->string : "");
        lua_setfield(L, -2, "X-Amz-Target");
    }
    lua_pop(L, 1);
    const cJSON *input = aws_model_resolve(m, aws_operation_input(op));
    aws_json_push_body(L, m, input, params, opts, 0);
    lua_setfield(L, req, "body");
    aws_fill_host_prefix(L, m, op, params, req);
}

int aws_build_json(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts)
{
    const char *protocol = aws_model_meta(m, "protocol");
    aws_push_request_table(L, op);
    int req = lua_gettop(L);
    if (protocol && strcmp(protocol, "rest-json") == 0)
        build_rest_json(L, m, op, params, opts, req);
    else
        build_rpc_json(L, m, op, params, opts, req);
    lua_settop(L, req);
    return 1;
}

/* ---------------------------------------------------------------- responses */

/* "aws.protocoltests#FooError:http://internal..." -> "FooError" */
static void push_error_code(lua_State *L, const char *raw)
{
    const char *end = strchr(raw, ':');
    size_t len = end ? (size_t)(end - raw) : strlen(raw);
    const char *start = raw;
    for (size_t i = 0; i < len; i++)
        if (raw[i] == '#')
            start = raw + i + 1;
    len -= (size_t)(start - raw);
    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
        len--;
    lua_pushlstring(L, start, len);
}

/* The first of `keys` (NULL-terminated) that the JSON object doc has as a string, or NULL. */
static const char *first_string(const cJSON *doc, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *s = aws_node_string(doc, *keys);
        if (s)
            return s;
    }
    return NULL;
}

static int parse_error(lua_State *L, const aws_model *m, const cJSON *op, int response, int status, int headers,
                       const char *body, size_t blen)
{
    int rest = strcmp(aws_model_meta(m, "protocol") ? aws_model_meta(m, "protocol") : "", "rest-json") == 0;
    aws_guard *g = aws_guard_push(L);
    int guard = lua_gettop(L);
    const cJSON *doc = NULL;
    if (blen && aws_json_parse_guarded(g, body, blen) && cJSON_IsObject(g->json))
        doc = g->json;

    lua_pushboolean(L, 0);
    const char *named = aws_status_code_name(status, 1);
    aws_push_error(L, named ? named : "UnknownError", "");
    int err = lua_gettop(L);
    /* header strings stay alive in the headers table after their stack slots are dropped */
    int mark = lua_gettop(L);
    const char *raw = NULL;
    /* query-compatible services (SQS over JSON) name the old query error code in a header:
     * "AWS.SimpleQueueService.NonExistentQueue;Sender" */
    if (cJSON_GetObjectItemCaseSensitive(aws_model_metadata(m), "awsQueryCompatible") &&
        lua_getfield(L, headers, "x-amzn-query-error") == LUA_TSTRING) {
        size_t qlen;
        const char *q = lua_tolstring(L, -1, &qlen);
        const char *semi = memchr(q, ';', qlen);
        lua_pushlstring(L, q, semi ? (size_t)(semi - q) : qlen);
        lua_setfield(L, err, "code");
        raw = q;
    } else {
        if (lua_getfield(L, headers, "x-amzn-errortype") == LUA_TSTRING)
            raw = lua_tostring(L, -1);
        static const char *const code_keys[] = {"__type", "code", "Code", NULL};
        if (!raw)
            raw = first_string(doc, code_keys);
        if (raw) {
            push_error_code(L, raw);
            if (lua_rawlen(L, -1) > 0)
                lua_setfield(L, err, "code");
            else
                lua_pop(L, 1);
        }
    }
    lua_settop(L, mark);
    static const char *const message_keys[] = {"message", "Message", "errorMessage", NULL};
    const char *message = first_string(doc, message_keys);
    if (message) {
        lua_pushstring(L, message);
        lua_setfield(L, err, "message");
    } else if (!raw && !doc) {
        lua_pushfstring(L, "the service answered with HTTP status %d", status);
        lua_setfield(L, err, "message");
    }
    lua_pushinteger(L, status);
    lua_setfield(L, err, "statusCode");
    aws_error_set_ids(L, headers, err, 0);

    const cJSON *shape = aws_error_shape_members(L, m, op, err);
    if (shape && rest)
        aws_rest_parse_head(L, m, shape, response, lua_gettop(L));
    if (shape) {
        if (doc)
            aws_json_set_members(L, m, shape, doc, lua_gettop(L), rest, g);
        aws_error_take_members(L, err);
    }
    aws_guard_release(g);
    lua_remove(L, guard);
    return 2;
}

static void parse_payload(lua_State *L, const aws_model *m, const cJSON *output, const char *payload, int data,
                          const char *body, size_t blen)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(output, "members");
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(members, payload);
    const cJSON *shape = aws_model_resolve(m, member);
    const char *type = aws_shape_type(shape);
    if (!member || !type)
        return;
    int document = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "document"));
    if (!document && (strcmp(type, "blob") == 0 || strcmp(type, "string") == 0)) {
        if (blen > 0) {
            lua_pushlstring(L, body, blen);
            lua_setfield(L, data, member->string);
        }
        return;
    }
    if (blen > 0 && aws_json_read_value(L, m, member, body, blen))
        lua_setfield(L, data, member->string);
}

int aws_parse_json(lua_State *L, const aws_model *m, const cJSON *op, int response)
{
    aws_response r;
    aws_response_open(L, response, &r);
    int top = lua_gettop(L);

    if (r.status >= 300) {
        parse_error(L, m, op, response, r.status, r.headers, r.body, r.blen);
        lua_replace(L, r.headers + 1);
        lua_replace(L, r.headers);
        lua_settop(L, r.headers + 1);
        return 2;
    }

    int rest = strcmp(aws_model_meta(m, "protocol") ? aws_model_meta(m, "protocol") : "", "rest-json") == 0;
    const cJSON *output = aws_model_resolve(m, aws_operation_output(op));
    lua_pushboolean(L, 1);
    lua_newtable(L);
    int data = lua_gettop(L);
    if (output) {
        const cJSON *payload = cJSON_GetObjectItemCaseSensitive(output, "payload");
        if (rest)
            aws_rest_parse_head(L, m, output, response, data);
        if (rest && cJSON_IsString(payload)) {
            parse_payload(L, m, output, payload->valuestring, data, r.body, r.blen);
        } else if (!aws_json_read_members(L, m, output, r.body, r.blen, data, rest)) {
            lua_settop(L, top);
            aws_push_body_error(L, r.status, "the response body is not valid JSON");
            lua_replace(L, r.headers + 1);
            lua_replace(L, r.headers);
            lua_settop(L, r.headers + 1);
            return 2;
        }
    }
    lua_replace(L, r.headers + 1);
    lua_replace(L, r.headers);
    lua_settop(L, r.headers + 1);
    return 2;
}

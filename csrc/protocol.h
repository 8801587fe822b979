/* The five wire protocols. protocol.c dispatches on metadata.protocol:
 *   json, rest-json       -> protocol_json.c (+ rest.c for the HTTP binding)
 *   rest-xml, query, ec2  -> protocol_xml.c, protocol_query.c (+ rest.c for rest-xml)
 *
 * Lua-facing contract (see protocol.c):
 *   core.build_request(model, operationName, params, opts) -> request table
 *     { method = "POST", path = "/encoded/path" (labels filled, percent-encoded, no query),
 *       query = "a=b&c=d" (percent-encoded, "" when none), headers = {Name = "value", ...},
 *       body = string or nil, hostPrefix = "expanded-prefix." or nil }
 *     opts: { idempotencyToken = function() return "uuid" end (optional; default a random UUID v4) }
 *   core.parse_response(model, operationName, response) -> true, data | false, error
 *     response: { statusCode = 200, headers = {["lower-case"] = "value"}, body = "..." }
 *     data: plain tables shaped like the output (integers as Lua integers, timestamps as epoch
 *     seconds, blobs as strings, lists as sequences, maps as tables); error: a table with code,
 *     message, statusCode, requestId, extendedRequestId and any modeled members of the error shape.
 *
 * Every builder pushes exactly one value (the request table) and returns 1, or raises a Lua
 * error (a table made with aws_push_error) naming the problem; no Lua error is raised while C
 * memory is owned. Every parser pushes (boolean, value) and returns 2. */
#ifndef AWSPROMISE_PROTOCOL_H
#define AWSPROMISE_PROTOCOL_H

#include "model.h"

/* Index arguments are absolute stack indexes. `op` is the operation node. */
int aws_build_json(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts);      /* json, rest-json */
int aws_parse_json(lua_State *L, const aws_model *m, const cJSON *op, int response);
int aws_build_xml(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts);       /* rest-xml */
int aws_parse_xml(lua_State *L, const aws_model *m, const cJSON *op, int response);
int aws_build_query(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts);     /* query, ec2 */
int aws_parse_query(lua_State *L, const aws_model *m, const cJSON *op, int response);

/* rest.c: the HTTP binding of rest-json and rest-xml. build_head fills method, path, query and
 * headers of the request table at `req` from the operation's http trait and the members whose
 * location is uri, querystring, header or headers (and hostPrefix); it returns the input shape.
 * parse_head fills `data` from members bound to statusCode and header/headers. */
const cJSON *aws_rest_build_head(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts, int req);
void aws_rest_parse_head(lua_State *L, const aws_model *m, const cJSON *output_shape, int response, int data);

/* Response and error helpers every protocol uses (protocol_common.c). */
/* Pushes response.headers (a fresh empty table when it is not a table) and response.body; sets
 * *headers to the headers' stack index, *body and *blen to the body ("" unless a string) and
 * returns response.statusCode. The body's slot is *headers + 1. */
int aws_response_open(lua_State *L, int response, int *headers, const char **body, size_t *blen);
/* Pushes false and a SerializationError carrying statusCode, for a body the protocol cannot
 * read; `fmt` as in lua_pushfstring. */
void aws_push_body_error(lua_State *L, int status, const char *fmt, ...);
/* The operation's error shape whose name (or error.code) is `code`, else an exception shape of
 * that name; NULL when neither. */
const cJSON *aws_find_error_shape(const aws_model *m, const cJSON *op, const char *code);
/* Sets requestId / extendedRequestId of the error at `err` from the x-amz-request-id,
 * x-amzn-requestid and x-amz-id-2 headers: with `keep`, only where the error has none yet;
 * else a later header replaces an earlier one. */
void aws_error_set_ids(lua_State *L, int headers, int err, int keep);
/* The modeled shape of the error at `err` (by its code), or NULL. When there is one, a scratch
 * table is pushed for its members, already holding those bound to the status and headers when
 * `rest`; the caller adds the body's and hands it to aws_error_take_members. */
const cJSON *aws_error_shape_members(lua_State *L, const aws_model *m, const cJSON *op, int response, int err,
                                     int rest);
/* Moves the modeled members read into the table on top of the stack onto the error at `err`,
 * except the keys the error table owns; pops that table. */
void aws_error_take_members(lua_State *L, int err);

/* Sets req.headers[name] = value unless a header of that name, in any case, is already set:
 * a Content-Type the caller chose wins over the protocol's default. */
void aws_set_default_header(lua_State *L, int req, const char *name, const char *value);

/* Shared helpers (protocol.c). */
/* Calls opts.idempotencyToken() if given, else makes a UUID v4; pushes the string. */
void aws_push_idempotency_token(lua_State *L, int opts);
/* Pushes the request table skeleton {method=, path="/", query="", headers={}}. */
void aws_push_request_table(lua_State *L, const cJSON *op);
/* Expands the operation's endpoint.hostPrefix ("{Name}." labels from params) into req.hostPrefix. */
void aws_fill_host_prefix(lua_State *L, const aws_model *m, const cJSON *op, int params, int req);

#endif

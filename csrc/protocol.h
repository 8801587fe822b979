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

/* Shared helpers (protocol.c). */
/* Calls opts.idempotencyToken() if given, else makes a UUID v4; pushes the string. */
void aws_push_idempotency_token(lua_State *L, int opts);
/* Pushes the request table skeleton {method=, path="/", query="", headers={}}. */
void aws_push_request_table(lua_State *L, const cJSON *op);
/* Expands the operation's endpoint.hostPrefix ("{Name}." labels from params) into req.hostPrefix. */
void aws_fill_host_prefix(lua_State *L, const aws_model *m, const cJSON *op, int params, int req);

#endif

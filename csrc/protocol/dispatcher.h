/* The five wire protocols. dispatcher.c picks the protocol from metadata.protocol and does
 * nothing else:
 *   json, rest-json  -> json/ (+ rest/ for the HTTP binding of rest-json)
 *   rest-xml         -> xml/rest_xml.c (+ rest/)
 *   query, ec2       -> query/ (reading XML with xml/)
 *
 * Lua-facing contract:
 *   The operation is a handle from core.operation(model, name) or, in the older form, the two
 *   arguments model, operationName.
 *   core.build_request(operation, params, opts) -> request table
 *     { method = "POST", path = "/encoded/path" (labels filled, percent-encoded, no query),
 *       query = "a=b&c=d" (percent-encoded, "" when none), headers = {Name = "value", ...},
 *       body = string or nil, hostPrefix = "expanded-prefix." or nil }
 *     opts: { idempotencyToken = function() return "uuid" end (optional; default a random UUID v4) }
 *   core.parse_response(operation, response) -> true, data | false, error
 *     response: { statusCode = 200, headers = {["lower-case"] = "value"}, body = "..." }
 *     data: plain tables shaped like the output (integers as Lua integers, timestamps as epoch
 *     seconds, blobs as strings, lists as sequences, maps as tables); error: a table with code,
 *     message, statusCode, requestId, extendedRequestId and any modeled members of the error shape.
 *
 * Every builder pushes exactly one value (the request table) and returns 1, or raises a Lua
 * error (a table made with aws_push_error) naming the problem; no Lua error is raised while C
 * memory is owned. Every parser pushes (boolean, value) and returns 2. */
#ifndef AWSPROMISE_PROTOCOL_DISPATCHER_H
#define AWSPROMISE_PROTOCOL_DISPATCHER_H

#include <lua.h>

void aws_open_protocol(lua_State *L);

#endif

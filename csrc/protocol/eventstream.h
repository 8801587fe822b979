/* Event streams at the protocol level: which operations have one, and the Lua reader that turns
 * the messages of a reply (codec/eventstream.h) into events shaped like the members of the
 * operation's event-stream union, or into the modeled exception that ends the stream.
 *
 * Lua-facing contract:
 *   core.eventstream_decoder([operation]) -> reader
 *     reader:feed(bytes) -> events[, err]   events: a sequence, in order, of
 *       with an operation: {MemberName = {...}} for each event the union models (unknown event
 *         types are skipped), {["initial-response"] = {...}} for a json protocol's initial event;
 *       without one: {headers = {name = value}, payload = "..."} for each message.
 *       err (an awspromise.Error) ends the stream: an exception or error message (its code, its
 *       modeled members), or EventStreamError for a CRC mismatch or a malformed message. Once
 *       ended, feed returns an empty sequence and the same kind of error.
 *     reader:finish() -> nil, or an EventStreamError when the bytes fed end inside a message.
 *     reader:pending() -> the count of bytes fed that no whole message has taken yet.
 *   core.eventstream_member(operation) -> name of the output member holding the stream, or nil.
 * Header values: booleans, integers, strings (bytes and string types), epoch seconds (timestamp),
 * and "8-4-4-4-12" hex text (uuid). */
#ifndef AWSPROMISE_PROTOCOL_EVENTSTREAM_H
#define AWSPROMISE_PROTOCOL_EVENTSTREAM_H

#include "protocol/common.h"

/* The output member whose shape is an event stream, or NULL. */
const cJSON *aws_eventstream_output_member(const aws_model *m, const cJSON *op);
/* The input member whose shape is an event stream, or NULL. */
const cJSON *aws_eventstream_input_member(const aws_model *m, const cJSON *op);

/* Adds core.eventstream_decoder and core.eventstream_member to the module table on top. */
void aws_open_eventstream(lua_State *L);

#endif

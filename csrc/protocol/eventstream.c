/* Event-stream replies read into events (eventstream.h): the codec's messages, mapped onto the
 * members of the operation's event-stream union with the JSON and XML payload readers. */
#include "protocol/eventstream.h"

#include "codec/eventstream.h"
#include "codec/xml.h"
#include "model/operation.h"
#include "protocol/json/json.h"
#include "protocol/xml/xml.h"

#include <stdio.h>
#include <string.h>

#define READER_MT "awspromise.EventStreamReader"

typedef struct es_reader {
    aws_es_decoder decoder;
    const aws_model *m;     /* NULL: raw messages */
    const cJSON *output;    /* the output shape (json protocols' initial-response) */
    const cJSON *stream;    /* the output member holding the stream */
    const cJSON *members;   /* the union's members */
    int xml;                /* payloads default to XML (rest-xml) rather than JSON */
    int ended;
} es_reader;

static const cJSON *eventstream_member(const aws_model *m, const cJSON *ref)
{
    const cJSON *shape = aws_model_resolve(m, ref);
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next)
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(aws_model_resolve(m, mem), "eventstream")))
            return mem;
    return NULL;
}

const cJSON *aws_eventstream_output_member(const aws_model *m, const cJSON *op)
{
    return eventstream_member(m, aws_operation_output(op));
}

const cJSON *aws_eventstream_input_member(const aws_model *m, const cJSON *op)
{
    return eventstream_member(m, aws_operation_input(op));
}

static int has_trait(const aws_model *m, const cJSON *member, const char *trait)
{
    return aws_model_trait_bool(m, member, trait);
}

/* A header's value as Lua has it (eventstream.h). */
static void push_header_value(lua_State *L, const aws_es_header *h)
{
    switch (h->type) {
    case AWS_ES_TRUE:
    case AWS_ES_FALSE:
        lua_pushboolean(L, (int)h->integer);
        break;
    case AWS_ES_TIMESTAMP:
        lua_pushnumber(L, (lua_Number)h->integer / 1000.0);
        break;
    case AWS_ES_BYTES:
    case AWS_ES_STRING:
        lua_pushlstring(L, (const char *)h->bytes, h->len);
        break;
    case AWS_ES_UUID: {
        char text[37];
        const unsigned char *u = h->bytes;
        snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        lua_pushstring(L, text);
        break;
    }
    default:
        lua_pushinteger(L, (lua_Integer)h->integer);
        break;
    }
}

/* A string header's text, or NULL (with *len 0) when the message has none of that name. */
static const char *header_text(const aws_es_message *msg, const char *name, size_t *len)
{
    aws_es_header h;
    *len = 0;
    if (!aws_es_find_header(msg, name, &h) || (h.type != AWS_ES_STRING && h.type != AWS_ES_BYTES))
        return NULL;
    *len = h.len;
    return (const char *)h.bytes;
}

static int header_is(const aws_es_message *msg, const char *name, const char *value)
{
    size_t len;
    const char *text = header_text(msg, name, &len);
    return text && len == strlen(value) && memcmp(text, value, len) == 0;
}

/* Whether the payload is XML: :content-type says so, else the protocol's own format. */
static int payload_is_xml(const es_reader *r, const aws_es_message *msg)
{
    size_t len;
    const char *type = header_text(msg, ":content-type", &len);
    if (type && memmem(type, len, "json", 4))
        return 0;
    if (type && memmem(type, len, "xml", 3))
        return 1;
    return r->xml;
}

/* Reads the payload as structure `ref` into the table at target; 0 with *why when it is not
 * the JSON or XML it should be. An empty payload is an empty structure. */
static int read_structure(lua_State *L, const es_reader *r, const aws_es_message *msg, const cJSON *ref, int target,
                          const char **why)
{
    const char *text = (const char *)msg->payload;
    size_t len = msg->payload_len;
    if (aws_xml_blank(text, len))
        return 1;
    if (payload_is_xml(r, msg))
        return aws_xml_read_structure(L, r->m, ref, text, len, target, NULL, 0, why);
    *why = "not valid JSON";
    return aws_json_read_members(L, r->m, aws_model_resolve(r->m, ref), text, len, target, 0);
}

static void push_stream_error(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    aws_push_error(L, "EventStreamError", lua_tostring(L, -1));
    lua_remove(L, -2);
}

/* Pushes the event of member `ref` named `name`: eventheader members from the headers, the
 * eventpayload member (bytes, text or a structure) or else the whole structure from the
 * payload. Returns 0 with an error pushed instead when the payload cannot be read. */
static int push_event(lua_State *L, const es_reader *r, const aws_es_message *msg, const cJSON *ref,
                      const char *name)
{
    int base = lua_gettop(L);
    lua_createtable(L, 0, 1);
    lua_newtable(L);
    int ev = lua_gettop(L);
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(aws_model_resolve(r->m, ref), "members");
    const cJSON *payload_member = NULL;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        aws_es_header h;
        if (has_trait(r->m, mem, "eventpayload"))
            payload_member = mem;
        else if (has_trait(r->m, mem, "eventheader") && aws_es_find_header(msg, mem->string, &h)) {
            push_header_value(L, &h);
            lua_setfield(L, ev, mem->string);
        }
    }
    const char *why = NULL;
    int ok = 1;
    if (!payload_member) {
        ok = read_structure(L, r, msg, ref, ev, &why);
    } else {
        aws_kind kind = aws_xml_kind(r->m, payload_member, NULL);
        if (kind == AWS_T_STRUCTURE) {
            lua_newtable(L);
            ok = read_structure(L, r, msg, payload_member, lua_gettop(L), &why);
        } else {
            lua_pushlstring(L, (const char *)msg->payload, msg->payload_len);
        }
        lua_setfield(L, ev, payload_member->string);
    }
    if (!ok) {
        lua_settop(L, base);
        push_stream_error(L, "the payload of event '%s' is %s", name, why ? why : "unreadable");
        return 0;
    }
    lua_setfield(L, -2, name);
    return 1;
}

/* Pushes the error a message of type exception (a modeled member of the union, read from the
 * payload) or error (:error-code, :error-message) stands for. */
static void push_message_error(lua_State *L, const es_reader *r, const aws_es_message *msg, int exception)
{
    size_t code_len, text_len;
    const char *code = header_text(msg, exception ? ":exception-type" : ":error-code", &code_len);
    const char *text = exception ? NULL : header_text(msg, ":error-message", &text_len);
    lua_pushlstring(L, code ? code : "EventStreamError", code ? code_len : strlen("EventStreamError"));
    aws_push_error(L, lua_tostring(L, -1), "");
    lua_remove(L, -2);
    int err = lua_gettop(L);
    if (text) {
        lua_pushlstring(L, text, text_len);
        lua_setfield(L, err, "message");
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, err, "retryable");
    if (!exception)
        return;
    lua_pushlstring(L, code ? code : "", code_len);
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(r->members, lua_tostring(L, -1));
    lua_pop(L, 1);
    const char *why;
    lua_newtable(L);
    if (shape && read_structure(L, r, msg, shape, lua_gettop(L), &why)) {
        if (lua_getfield(L, -1, "message") == LUA_TNIL) {
            lua_pop(L, 1);
            lua_getfield(L, -1, "Message");
        }
        if (lua_type(L, -1) == LUA_TSTRING)
            lua_setfield(L, err, "message");
        else
            lua_pop(L, 1);
        aws_error_take_members(L, err);
    } else {
        lua_pop(L, 1);
        lua_pushlstring(L, (const char *)msg->payload, msg->payload_len);
        lua_setfield(L, err, "message");
    }
}

static void push_raw_message(lua_State *L, const aws_es_message *msg)
{
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    const unsigned char *p = msg->headers, *end = msg->headers + msg->headers_len;
    aws_es_header h;
    while (aws_es_next_header(&p, end, &h) == 1) {
        lua_pushlstring(L, h.name, h.name_len);
        push_header_value(L, &h);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, (const char *)msg->payload, msg->payload_len);
    lua_setfield(L, -2, "payload");
}

/* A json protocol's first message: the output's members other than the stream. */
static int push_initial_response(lua_State *L, const es_reader *r, const aws_es_message *msg)
{
    lua_createtable(L, 0, 1);
    lua_newtable(L);
    const char *why = NULL;
    if (!read_structure(L, r, msg, r->output, lua_gettop(L), &why)) {
        lua_pop(L, 2);
        push_stream_error(L, "the initial response is %s", why ? why : "unreadable");
        return 0;
    }
    lua_pushnil(L);
    lua_setfield(L, -2, r->stream->string);
    lua_setfield(L, -2, "initial-response");
    return 1;
}

/* Pushes what one message stands for. Returns 1 for an event (or nothing pushed: -1 for a
 * message the union does not model), 0 for an error that ends the stream. */
static int push_message(lua_State *L, const es_reader *r, const aws_es_message *msg)
{
    if (!r->m) {
        push_raw_message(L, msg);
        return 1;
    }
    if (header_is(msg, ":message-type", "exception") || header_is(msg, ":message-type", "error")) {
        push_message_error(L, r, msg, header_is(msg, ":message-type", "exception"));
        return 0;
    }
    size_t len;
    const char *type = header_text(msg, ":event-type", &len);
    if (!type)
        return -1;
    lua_pushlstring(L, type, len);
    const char *name = lua_tostring(L, -1);
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(r->members, name);
    int pushed;
    if (strcmp(name, "initial-response") == 0)
        pushed = push_initial_response(L, r, msg);
    else if (!member)
        pushed = -1;
    else
        pushed = push_event(L, r, msg, member, name);
    if (pushed != -1)
        lua_remove(L, -2);
    else
        lua_pop(L, 1);
    return pushed;
}

static es_reader *check_reader(lua_State *L)
{
    return luaL_checkudata(L, 1, READER_MT);
}

/* reader:feed(bytes) -> events[, err] */
static int l_reader_feed(lua_State *L)
{
    es_reader *r = check_reader(L);
    size_t n;
    const char *bytes = luaL_checklstring(L, 2, &n);
    lua_settop(L, 2);
    lua_newtable(L);
    int events = 3;
    if (r->ended) {
        push_stream_error(L, "the event stream has ended");
        return 2;
    }
    if (!aws_es_feed(&r->decoder, (const unsigned char *)bytes, n)) {
        r->ended = 1;
        push_stream_error(L, "%s", r->decoder.error);
        return 2;
    }
    lua_Integer count = 0;
    aws_es_message msg;
    aws_es_status status;
    while ((status = aws_es_next(&r->decoder, &msg)) == AWS_ES_MESSAGE) {
        luaL_checkstack(L, 8, "eventstream: feed");
        int pushed = push_message(L, r, &msg);
        if (pushed == 0) {
            r->ended = 1;
            return 2;
        }
        if (pushed == 1)
            lua_rawseti(L, events, ++count);
    }
    if (status == AWS_ES_ERROR) {
        r->ended = 1;
        push_stream_error(L, "%s", r->decoder.error);
        return 2;
    }
    return 1;
}

/* reader:finish() -> nil, or the error of a stream cut inside a message */
static int l_reader_finish(lua_State *L)
{
    es_reader *r = check_reader(L);
    size_t pending = aws_es_pending(&r->decoder);
    if (r->ended || pending == 0)
        return 0;
    r->ended = 1;
    push_stream_error(L, "the event stream ended inside a message (%d bytes of it received)", (int)pending);
    return 1;
}

static int l_reader_pending(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)aws_es_pending(&check_reader(L)->decoder));
    return 1;
}

static int l_reader_gc(lua_State *L)
{
    aws_es_free(&check_reader(L)->decoder);
    return 0;
}

/* core.eventstream_decoder([operation]) */
static int l_eventstream_decoder(lua_State *L)
{
    const aws_model *m = NULL;
    const cJSON *op = NULL, *stream = NULL;
    if (!lua_isnoneornil(L, 1)) {
        const char *name;
        int next;
        op = aws_operation_args(L, 1, &m, &name, &next);
        stream = op ? aws_eventstream_output_member(m, op) : NULL;
        if (!stream)
            return aws_raise_error(L, "InvalidParameter", "eventstream_decoder: the operation has no output event stream");
    }
    es_reader *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    aws_es_init(&r->decoder);
    luaL_setmetatable(L, READER_MT);
    if (m) {
        lua_pushvalue(L, 1); /* the handle, kept alive with the reader */
        lua_setiuservalue(L, -2, 1);
        const char *protocol = aws_model_meta(m, "protocol");
        r->m = m;
        r->output = aws_model_resolve(m, aws_operation_output(op));
        r->stream = stream;
        r->members = cJSON_GetObjectItemCaseSensitive(aws_model_resolve(m, stream), "members");
        r->xml = protocol && strcmp(protocol, "rest-xml") == 0;
    }
    return 1;
}

/* core.eventstream_member(operation) -> the output member holding the stream, or nil */
static int l_eventstream_member(lua_State *L)
{
    const aws_model *m;
    const char *name;
    int next;
    const cJSON *op = aws_operation_args(L, 1, &m, &name, &next);
    const cJSON *member = op ? aws_eventstream_output_member(m, op) : NULL;
    if (!member)
        return 0;
    lua_pushstring(L, member->string);
    return 1;
}

void aws_open_eventstream(lua_State *L)
{
    if (luaL_newmetatable(L, READER_MT)) {
        static const luaL_Reg methods[] = {
            {"feed", l_reader_feed}, {"finish", l_reader_finish}, {"pending", l_reader_pending}, {NULL, NULL}};
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_reader_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_eventstream_decoder);
    lua_setfield(L, -2, "eventstream_decoder");
    lua_pushcfunction(L, l_eventstream_member);
    lua_setfield(L, -2, "eventstream_member");
}

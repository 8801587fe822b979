/* The Lua JSON binding: core.json_encode / json_decode and their safe forms. */
#ifndef AWSPROMISE_CODEC_LJSON_H
#define AWSPROMISE_CODEC_LJSON_H

#include <cJSON.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

void aws_open_json(lua_State *L);

/* Pushes the decoded value and returns 1, or pushes an error message and returns 0. */
typedef int (*aws_decoder)(lua_State *L, const char *s, size_t len);
/* The Lua side of json_decode / xml_decode and their _safe forms: decodes argument 1. Without a
 * fallback the error is raised; with one, nil and the message are returned (the fallback
 * standing in for an error value that is not a string). */
int aws_decode_call(lua_State *L, aws_decoder decode, const char *fallback);

/* Pushes the Lua value of JSON text s and returns 1, or pushes an error message and returns 0
 * (an aws_decoder: core.json_decode's reading; jsonvalue headers). */
int aws_json_decode_value(lua_State *L, const char *s, size_t len);

/* Pushes the Lua value of a parsed JSON node as core.json_decode reads it (null as core.null);
 * raises on nesting deeper than it reads. The node belongs to the caller, who frees it even then. */
void aws_json_push_untyped(lua_State *L, const cJSON *node);

/* The pieces of the one JSON encoder that protocol bodies write with. */
/* Appends s as a JSON string (quotes, escapes). Returns 0 with *bad_at (1-based) set when s is not
 * valid UTF-8; out then holds a partial string the caller discards. */
int aws_json_write_string(strbuf *out, const char *s, size_t len, size_t *bad_at);
/* Appends the shortest spelling of d that reads back; returns 0 (nothing appended) for NaN and
 * infinities, which JSON has no number for. */
int aws_json_write_number(strbuf *out, double d);
/* Appends v with every digit. */
void aws_json_write_integer(strbuf *out, int64_t v);
/* Appends the JSON text of the untyped Lua value at idx (documents, jsonvalues), as
 * core.json_encode writes it. Returns 1, or 0 with the error message pushed (out cut back to
 * what it held); the message names the failing place starting from `root` ("params.Doc.a[2]"). */
int aws_json_write_value(lua_State *L, int idx, strbuf *out, const char *root);

/* The one JSON encoder: pushes the JSON text of the Lua value at idx and returns 1, or pushes an
 * error message naming where the value fails ("$.a[2]") and returns 0. Keys sorted; integers
 * exact; NaN and infinities refused; core.null and nil as null. */
int aws_json_encode_value(lua_State *L, int idx);

#endif

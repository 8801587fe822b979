/* The Lua JSON binding: core.json_encode / json_decode and their safe forms. */
#ifndef AWSPROMISE_CODEC_LJSON_H
#define AWSPROMISE_CODEC_LJSON_H

#include <lua.h>

void aws_open_json(lua_State *L);

/* Pushes the decoded value and returns 1, or pushes an error message and returns 0. */
typedef int (*aws_decoder)(lua_State *L, const char *s, size_t len);
/* The Lua side of json_decode / xml_decode and their _safe forms: decodes argument 1. Without a
 * fallback the error is raised; with one, nil and the message are returned (the fallback
 * standing in for an error value that is not a string). */
int aws_decode_call(lua_State *L, aws_decoder decode, const char *fallback);

/* The one JSON encoder: pushes the JSON text of the Lua value at idx and returns 1, or pushes an
 * error message naming where the value fails ("$.a[2]") and returns 0. Keys sorted; integers
 * exact; NaN and infinities refused; core.null and nil as null. */
int aws_json_encode_value(lua_State *L, int idx);

#endif

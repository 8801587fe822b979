/* libFuzzer target for the response checksum check: core.parse_response of a json operation with
 * an x-amz-crc32 header (DynamoDB's). The first body byte decides whether the header carries the
 * body's true CRC-32 (then the check must pass and the reply must not be a CRC32CheckFailed) or a
 * fuzzed text (then anything but a crash is fine). */
#include "codec/digest.h"
#include "harness.h"

#include <stdio.h>

static const char MODEL[] =
    "{\"metadata\":{\"protocol\":\"json\",\"jsonVersion\":\"1.0\",\"targetPrefix\":\"D\","
    "\"endpointPrefix\":\"dynamodb\",\"apiVersion\":\"2012-08-10\",\"serviceId\":\"DynamoDB\"},"
    "\"operations\":{\"Op\":{\"name\":\"Op\",\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
    "\"output\":{\"shape\":\"Out\"}}},"
    "\"shapes\":{\"Out\":{\"type\":\"structure\",\"members\":{\"S\":{\"shape\":\"Str\"}}},"
    "\"Str\":{\"type\":\"string\"}}}";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 2)
        return 0;
    lua_State *L = harness_state(MODEL, "Op");
    const unsigned char *body = data + 1;
    size_t blen = size - 1;
    int top = lua_gettop(L);
    lua_getglobal(L, "fuzz_parse");
    lua_pushinteger(L, 200);
    lua_newtable(L);
    int honest = data[0] & 1;
    if (honest) {
        char text[16];
        snprintf(text, sizeof text, "%lu", (unsigned long)aws_crc32(body, blen));
        lua_pushstring(L, text);
    } else {
        lua_pushlstring(L, (const char *)body, blen < 12 ? blen : 12);
    }
    lua_setfield(L, -2, "x-amz-crc32");
    lua_pushlstring(L, (const char *)body, blen);
    if (lua_pcall(L, 3, LUA_MULTRET, 0) == LUA_OK && honest && lua_gettop(L) > top + 1 &&
        lua_istable(L, top + 2) && lua_getfield(L, top + 2, "code") == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "CRC32CheckFailed") == 0)
        abort(); /* a true checksum was refused */
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}

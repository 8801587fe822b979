/* The HTTP engine: libcurl multi driven by the loop; core.http signs and sends one request. */
#ifndef AWSPROMISE_HTTP_HTTP_H
#define AWSPROMISE_HTTP_HTTP_H

#include <lua.h>

void aws_open_http(lua_State *L);

#endif

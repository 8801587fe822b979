/* The Lua XML binding: core.xml_decode and its safe form. */
#ifndef AWSPROMISE_CODEC_LXML_H
#define AWSPROMISE_CODEC_LXML_H

#include <lua.h>

void aws_open_xml(lua_State *L);

#endif

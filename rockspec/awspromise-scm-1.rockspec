rockspec_format = "3.0"
package = "awspromise"
version = "scm-1"
source = {
  url = "git+file:///dev/null", -- built from the checkout with `luarocks make`
}
description = {
  summary = "AWS requests from Lua 5.4, signed and sent by a C core, settled into promises",
  detailed = [[
    The AWS SDK for JavaScript v2's promise API in Lua: request:promise(), :next(), :catch(),
    Promise.all, with a C core for SigV4 signing, libcurl I/O and the AWS wire protocols.
    Needs the Debian packages libcurl4-openssl-dev, libssl-dev, libcjson-dev and libexpat1-dev.
  ]],
  license = "Apache-2.0",
}
dependencies = {
  "lua >= 5.4",
}
build = {
  type = "make",
  build_variables = {
    LUA_INCDIR = "$(LUA_INCDIR)",
    CFLAGS = "",
  },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
  },
}

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
    Its version is lua/awspromise/version.lua's (AWS.VERSION); this is the development rockspec.
  ]],
  license = "Apache-2.0",
}
dependencies = {
  "lua >= 5.4",
}
-- The C libraries the core links. luarocks finds each (or takes CURL_DIR, CJSON_INCDIR, ... from
-- its command line) and the build receives the directories below. CURL names no header: Debian's
-- multiarch libcurl keeps curl/curl.h under include/<triplet>/, which the compiler searches by
-- itself but luarocks' header probe does not. cJSON's header is included as <cJSON.h>.
external_dependencies = {
  CURL = { library = "curl" },
  CRYPTO = { header = "openssl/evp.h", library = "crypto" },
  CJSON = { header = "cjson/cJSON.h", library = "cjson" },
  EXPAT = { header = "expat.h", library = "expat" },
}
build = {
  type = "make",
  -- The Makefile takes DEPS_CFLAGS and DEPS_LIBS in place of pkg-config's answer, and luarocks'
  -- own CFLAGS (its configuration's, e.g. -O2 -fPIC) after its own.
  build_variables = {
    LUA_INCDIR = "$(LUA_INCDIR)",
    CFLAGS = "$(CFLAGS)",
    DEPS_CFLAGS = "-I$(CURL_INCDIR) -I$(CRYPTO_INCDIR) -I$(CJSON_INCDIR)/cjson -I$(EXPAT_INCDIR)",
    DEPS_LIBS = "-L$(CURL_LIBDIR) -lcurl -L$(CRYPTO_LIBDIR) -lcrypto -L$(CJSON_LIBDIR) -lcjson "
      .. "-L$(EXPAT_LIBDIR) -lexpat",
  },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
  },
}

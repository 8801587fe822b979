# awspromise: build, test, sanitizers and benchmarks.
# `make` builds build/awspromise/core.so; `make test` sets up a fresh Debian 12 machine and runs every spec.

SHELL      := /bin/bash
LUA        ?= lua5.4
LUA_INCDIR ?= /usr/include/lua5.4
BUSTED     ?= $(LUA) /usr/bin/busted
PKGS        = libcurl libcjson openssl expat

# The module's version has one source, lua/awspromise/version.lua (AWS.VERSION); C gets it for
# the User-Agent header. spec/unit/version_spec.lua holds the rockspec and this line to it.
VERSION := $(shell sed -n 's/^return "\([^"]*\)".*/\1/p' lua/awspromise/version.lua)
ifeq ($(VERSION),)
$(error lua/awspromise/version.lua must hold the line: return "X.Y.Z")
endif

# Include and link flags of libcurl, cJSON, OpenSSL (libcrypto) and expat. `luarocks make`
# passes DEPS_CFLAGS and DEPS_LIBS built from the directories it found for the rockspec's
# external_dependencies; without them pkg-config answers (once), and failing that the plain
# library names. EXTRA_CFLAGS and EXTRA_LIBS are added after them, for anything else.
ifeq ($(origin DEPS_CFLAGS),undefined)
DEPS_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
endif
ifeq ($(origin DEPS_LIBS),undefined)
DEPS_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -lcjson -lssl -lcrypto -lexpat)
endif
EXTRA_CFLAGS ?=
EXTRA_LIBS ?=

CC      ?= cc
OPT     ?= -O2
INCLUDES = -D_GNU_SOURCE -Icsrc -I$(LUA_INCDIR) $(DEPS_CFLAGS) $(EXTRA_CFLAGS)
CFLAGS_BASE = -std=c11 $(OPT) -g -fPIC -Wall -Wextra -Werror $(INCLUDES) -DAWSPROMISE_VERSION='"$(VERSION)"'
LIBS    = $(DEPS_LIBS) $(EXTRA_LIBS)
SANFLAGS =

BUILD   ?= build
# One folder per layer (ARCHITECTURE.md); every .c below csrc/ is part of the module.
SOURCES = $(shell find csrc -name '*.c' | sort)
OBJECTS = $(SOURCES:csrc/%.c=$(BUILD)/obj/%.o)
DEPFILES = $(OBJECTS:.o=.d)
CORE    = $(BUILD)/awspromise/core.so

# Where `luarocks make` installs (it passes these in).
INST_LIBDIR ?= /usr/local/lib/lua/5.4
INST_LUADIR ?= /usr/local/share/lua/5.4

export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

.PHONY: all deps test spec unit integration layers lint check-size print-version valgrind asan fuzz oom bench demo install clean

all: $(CORE)

# -MMD: each object's header dependencies, read back below.
$(BUILD)/obj/%.o: csrc/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(DEPFILES)

# The version is compiled in (the User-Agent): a new one rebuilds.
$(OBJECTS): lua/awspromise/version.lua

$(CORE): $(OBJECTS)
	@mkdir -p $(dir $@)
	$(CC) -shared $(SANFLAGS) -o $@ $(OBJECTS) $(LIBS)

# Installs every system and npm dependency the build, the specs and the examples need.
deps:
	bash tools/setup-deps

# The whole test suite, from a fresh Debian 12 machine: the static checks (lint, layering, file
# sizes), then every spec.
test: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) layers
	$(MAKE) check-size
	$(MAKE) oom
	$(MAKE) fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)
	$(MAKE) spec

# Fails on a call from one C file into a layer above it (ARCHITECTURE.md); --list shows them all.
layers: $(CORE)
	$(LUA) tools/layers $(BUILD)

# luacheck over lua/, cppcheck and clang-tidy over csrc/ with the build's flags (tools/lint says
# which checks and why; tools/lint-known lists the findings already in the tree).
lint:
	LINT_CFLAGS="$(INCLUDES)" bash tools/lint

print-version:
	@echo $(VERSION)

# Fails when a file under csrc/ or lua/ passes 800 lines.
check-size:
	bash tools/check-size

# busted's own summary, then the same counts as one plain "N passed, N failed, N skipped" line.
# spec/unit needs no server and runs in seconds; spec/integration starts local services on
# 127.0.0.1 itself. `make spec` runs both.
SPEC_DIRS ?= spec/unit spec/integration
spec: $(CORE)
	@mkdir -p $(BUILD)
	set -o pipefail; $(BUSTED) $(BUSTED_ARGS) $(SPEC_DIRS) 2>&1 | tee $(BUILD)/spec.log; status=$$?; \
	  $(LUA) tools/spec-summary $(BUILD)/spec.log; exit $$status

unit:
	$(MAKE) spec SPEC_DIRS=spec/unit

integration:
	$(MAKE) spec SPEC_DIRS=spec/integration

valgrind:
	$(MAKE) all
	AWSPROMISE_UNDER_VALGRIND=1 valgrind -q --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	  --suppressions=tools/valgrind.supp $(BUSTED) $(BUSTED_ARGS) spec

# Leaks are valgrind's job (make valgrind): LD_PRELOAD reaches every child the specs spawn (sh,
# mkdir, python), whose own exit-time leaks would otherwise fail the run.
ASAN_RT = $(shell $(CC) -print-file-name=libasan.so)
UBSAN_RT = $(shell $(CC) -print-file-name=libubsan.so)
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all
	LD_PRELOAD="$(ASAN_RT) $(UBSAN_RT)" ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=98 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LUA_CPATH="$(CURDIR)/build-asan/?.so;;" $(BUSTED) --cpath="$(CURDIR)/build-asan/?.so" $(BUSTED_ARGS) spec

# libFuzzer: every fuzz/NAME_fuzz.c is built against the whole C tree (clang, ASan, UBSan) and run
# for FUZZ_SECONDS from fuzz/corpus/NAME_fuzz/ (when it exists); what it learns is kept in
# $(BUILD)/fuzz/NAME_fuzz.corpus/, crashes are written beside it.
FUZZ_SECONDS ?= 20
# make test runs each fuzz target briefly, as a regression check on the corpora
CI_FUZZ_SECONDS ?= 20
FUZZ_CC ?= clang
FUZZ_FLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS = $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard fuzz/*_fuzz.c))

$(BUILD)/fuzz/%_fuzz: fuzz/%_fuzz.c $(SOURCES)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 $(FUZZ_FLAGS) $(INCLUDES) -DAWSPROMISE_VERSION='"$(VERSION)"' -o $@ $< $(SOURCES) \
	  $(LIBS) -llua5.4

fuzz: $(FUZZ_TARGETS)
	set -e; for target in $(FUZZ_TARGETS); do \
	  name=$$(basename $$target); mkdir -p $$target.corpus; \
	  seeds=$$(test -d fuzz/corpus/$$name && echo fuzz/corpus/$$name || true); \
	  (cd $(BUILD)/fuzz && ./$$name -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $$name.corpus $${seeds:+$(CURDIR)/$$seeds}); \
	done

# The failing allocator (tools/oom/oom.c): the workload's requests of each protocol and a promise
# chain, run again with the Nth Lua allocation failing for every N; ASan and UBSan watch the C side.
OOM_STEP ?= 1
$(BUILD)/oom: tools/oom/oom.c $(SOURCES)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined $(INCLUDES) \
	  -DAWSPROMISE_VERSION='"$(VERSION)"' -o $@ $< $(SOURCES) $(LIBS) -llua5.4 -lm

oom: $(BUILD)/oom
	$(BUILD)/oom tools/oom/workload.lua $(OOM_STEP)

# The seed's examples against local S3 (s3rver), DynamoDB (dynalite) and an EC2 fixture, behind
# a front that checks every signature; the services stop when the run ends, whatever happens.
demo: deps
	$(MAKE) all
	tools/local-aws run $(CURDIR)/.deps/local-aws -- examples/run-seed

bench: deps all
	bash bench/run

install: $(CORE)
	mkdir -p $(INST_LIBDIR)/awspromise $(INST_LUADIR)/awspromise
	cp $(CORE) $(INST_LIBDIR)/awspromise/core.so
	cp lua/awspromise/*.lua $(INST_LUADIR)/awspromise/
	rm -f $(INST_LUADIR)/awspromise/credentials.lua # an older install's: it would shadow credentials/init.lua
	# every subfolder of lua/awspromise (credentials/, dynamodb/, customizations/, lambda/ ...)
	for dir in $(patsubst lua/awspromise/%/,%,$(wildcard lua/awspromise/*/)); do \
	  mkdir -p $(INST_LUADIR)/awspromise/$$dir && cp lua/awspromise/$$dir/*.lua $(INST_LUADIR)/awspromise/$$dir/ || exit 1; \
	done
	mkdir -p $(INST_LUADIR)/awspromise/models
	cp models/*.json models/NOTICE $(INST_LUADIR)/awspromise/models/

clean:
	rm -rf build build-asan

/* json 1.0/1.1 and rest-json: bodies as JSON (json_build.c, json_parse.c), the protocol
 * entry points (json.c). */
#ifndef AWSPROMISE_PROTOCOL_JSON_H
#define AWSPROMISE_PROTOCOL_JSON_H

#include "protocol/common.h"

/* Index arguments are absolute stack indexes. `op` is the operation node. Builders push the
 * request table; parsers push (boolean, value) and return 2. */
int aws_build_json(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts);
int aws_parse_json(lua_State *L, const aws_model *m, const cJSON *op, int response);

/* json_build.c */
/* Pushes the JSON text of the members of structure `shape` taken from the table at `params`
 * ("{}" when none is set); skip_located leaves out members bound to the URI, query or headers. */
void aws_json_push_body(lua_State *L, const aws_model *m, const cJSON *shape, int params, int opts, int skip_located);
/* Pushes the JSON text of the one value at idx of the member `ref` (a rest-json payload);
 * `name` starts the parameter path in error messages. */
void aws_json_push_value(lua_State *L, const aws_model *m, const cJSON *ref, int idx, int opts, const char *name);

/* json_parse.c */
/* Reads the JSON text into the table at `target` as members of structure `shape` (members with
 * a location skipped when skip_located). White space alone counts as {}. Returns 0 (nothing
 * pushed, target untouched) when the text is not JSON. */
int aws_json_read_members(lua_State *L, const aws_model *m, const cJSON *shape, const char *text, size_t len,
                          int target, int skip_located);
/* Pushes the value of the JSON text read as member `ref`; returns 0 (nothing pushed) when the
 * text is not JSON. */
int aws_json_read_value(lua_State *L, const aws_model *m, const cJSON *ref, const char *text, size_t len);
/* Parses JSON text into g->json; 0 when it is not JSON. */
int aws_json_parse_guarded(aws_guard *g, const char *text, size_t len);
/* Pushes the Lua value of a parsed node read as member `ref`; returns 0 (nothing pushed) for
 * JSON null or a value the member cannot hold. */
int aws_json_push_node(lua_State *L, const aws_model *m, const cJSON *ref, const cJSON *node, aws_guard *g);
/* Sets the members of structure `shape` found in the JSON object `obj` into the table at target. */
void aws_json_set_members(lua_State *L, const aws_model *m, const cJSON *shape, const cJSON *obj, int target,
                          int skip_located, aws_guard *g);

#endif

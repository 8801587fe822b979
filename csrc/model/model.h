/* Service models (the JavaScript SDK's *.min.json or botocore's service-2.json), parsed once per
 * state with cJSON and kept as cJSON trees with hash indexes over shape and operation names.
 *
 * A "member" or "reference" node is what appears under members/member/key/value/input/output:
 * either a reference ({"shape": "Name", traits...}) or an inline shape ({"type": ..., ...}).
 * Traits (location, locationName, queryName, flattened, xmlNamespace, xmlAttribute,
 * timestampFormat, jsonvalue, idempotencyToken, hostLabel, streaming, ...) may sit on the member
 * node or on the shape it refers to: aws_model_trait looks on the member first, then on the
 * resolved shape. */
#ifndef AWSPROMISE_MODEL_MODEL_H
#define AWSPROMISE_MODEL_MODEL_H

#include <cJSON.h>
#include <stddef.h>

#include <lua.h>
#include <lauxlib.h>

typedef struct aws_model aws_model;

/* Adds core.model_load and friends to the module table on top of the stack. */
void aws_open_model(lua_State *L);

/* The model userdata at idx (raises a Lua error if it is not one). */
aws_model *aws_model_check(lua_State *L, int idx);

const cJSON *aws_model_metadata(const aws_model *m);
/* node[key] when it is a string, else NULL: only the node itself, no reference followed. */
const char *aws_node_string(const cJSON *node, const char *key);
/* metadata[field] when it is a string, else NULL (protocol, targetPrefix, jsonVersion, ...). */
const char *aws_model_meta(const aws_model *m, const char *field);
const cJSON *aws_model_operation(const aws_model *m, const char *name);
const cJSON *aws_model_shape(const aws_model *m, const char *name);

/* Follows "shape" references until a node with "type" (or a node with neither "type" nor
 * "shape", which min.json uses for plain strings); NULL for a dangling reference. */
const cJSON *aws_model_resolve(const aws_model *m, const cJSON *node);
/* The trait on the member node, else on the shape it resolves to; NULL when neither has it. */
const cJSON *aws_model_trait(const aws_model *m, const cJSON *member, const char *trait);
/* Convenience: a string trait (or NULL) and a boolean trait (0 when absent). */
const char *aws_model_trait_string(const aws_model *m, const cJSON *member, const char *trait);
int aws_model_trait_bool(const aws_model *m, const cJSON *member, const char *trait);

/* shape["type"]: "structure", "list", "map", "string", "integer", "long", "float", "double",
 * "boolean", "timestamp", "blob"; "string" when the node has no type (min.json's plain strings). */
const char *aws_shape_type(const cJSON *shape);
/* The operation's input / output reference (NULL when the operation has none). */
const cJSON *aws_operation_input(const cJSON *op);
const cJSON *aws_operation_output(const cJSON *op);

/* Derived data that protocol code works out once from the model instead of on every request,
 * keyed by a node of the model's tree and a kind the caller picks (one node may carry several
 * kinds of data). An entry belongs to the model once stored: it is freed with `free_fn` when the
 * model is, so it may point into the tree for as long as it lives. Lookups are by pointer. */
void *aws_model_memo_get(const aws_model *m, const void *node, int kind);
/* Stores value for (node, kind), which must not be stored yet. Returns 0 when out of memory;
 * the value then still belongs to the caller. */
int aws_model_memo_put(const aws_model *m, const void *node, int kind, void *value, void (*free_fn)(void *));

#endif

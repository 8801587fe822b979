/* Operation handles: core.operation(model, name) looks an operation up once, and validate,
 * build_request and parse_response take the handle instead of a model and a name. */
#ifndef AWSPROMISE_MODEL_OPERATION_H
#define AWSPROMISE_MODEL_OPERATION_H

#include "model/model.h"

/* Adds core.operation to the module table on top of the stack. */
void aws_open_operation(lua_State *L);

/* The operation the arguments from idx name: either one operation handle or a model followed by
 * an operation name (the older form, kept for callers that hold no handle). Sets *model and
 * *next (the index of the first argument after the operation) and returns the operation node;
 * returns NULL with *name set when the model has no operation of that name. Raises when the
 * arguments are neither form. */
const cJSON *aws_operation_args(lua_State *L, int idx, const aws_model **model, const char **name, int *next);

#endif

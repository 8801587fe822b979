/* Operation handles. A handle is a small userdata pointing at a loaded model and at one of its
 * operation nodes. Models live until the state closes (model.c), so the pointers stay valid
 * for as long as any handle can be reached. */
#include "model/operation.h"

#define OPERATION_MT "awspromise.Operation"

typedef struct operation_handle {
    const aws_model *model;
    const cJSON *op;
} operation_handle;

const cJSON *aws_operation_args(lua_State *L, int idx, const aws_model **model, const char **name, int *next)
{
    const operation_handle *handle = luaL_testudata(L, idx, OPERATION_MT);
    if (handle) {
        *model = handle->model;
        *name = NULL;
        *next = idx + 1;
        return handle->op;
    }
    const aws_model *m = aws_model_check(L, idx);
    *model = m;
    *name = luaL_checkstring(L, idx + 1);
    *next = idx + 2;
    return aws_model_operation(m, *name);
}

/* core.operation(model, name) -> a handle, or nil when the model has no such operation. */
static int l_operation(lua_State *L)
{
    const aws_model *m = aws_model_check(L, 1);
    const cJSON *op = aws_model_operation(m, luaL_checkstring(L, 2));
    if (!op)
        return 0;
    operation_handle *handle = lua_newuserdatauv(L, sizeof *handle, 0);
    handle->model = m;
    handle->op = op;
    luaL_setmetatable(L, OPERATION_MT);
    return 1;
}

static int l_operation_tostring(lua_State *L)
{
    const operation_handle *handle = luaL_checkudata(L, 1, OPERATION_MT);
    lua_pushfstring(L, "awspromise.Operation(%s)", handle->op->string ? handle->op->string : "?");
    return 1;
}

void aws_open_operation(lua_State *L)
{
    if (luaL_newmetatable(L, OPERATION_MT)) {
        lua_pushcfunction(L, l_operation_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_operation);
    lua_setfield(L, -2, "operation");
}

/* The query and ec2 protocols: requests are a POST to / whose body is a form
 * (Action=Op&Version=apiVersion&Name.Sub=value...), responses are XML read by xml_shape.c.
 *
 *   query: lists Name.member.N (Name.N when flattened, the list member's locationName replacing
 *          Name), an empty list as "Name=", maps Name.entry.N.key / .value (custom key and value
 *          names; Name.N.key when flattened);
 *   ec2:   names are the member's queryName, else its locationName or name with the first letter
 *          upper-cased; lists are always Name.N and an empty list sends nothing.
 *
 * The form is built in C buffers owned by an aws_guard, so that a wrong parameter type (raised
 * as a SerializationError naming the parameter's path) or the idempotency-token callback
 * failing cannot leak them. */
#include "protocol/query/query.h"

#include "codec/xml.h"
#include "protocol/xml/xml.h"
#include "codec/percent.h"

#include <stdio.h>
#include <string.h>

#define QUERY_MAX_DEPTH 64

/* ---------------------------------------------------------------- helpers shared with rest-xml */

/* ---------------------------------------------------------------- building */

typedef struct qctx {
    lua_State *L;
    const aws_model *m;
    int opts;
    int ec2;
    int depth;
    strbuf *body;  /* the form */
    strbuf *name;  /* the parameter name being built: Foo.member.1.Bar */
    strbuf *path;  /* the Lua path for messages: params.Foo[1].bar */
    strbuf *value; /* scratch for one scalar's text */
    aws_guard *g;  /* owns the buffers */
} qctx;

static const char *path_of(const qctx *q)
{
    return q->path->data ? q->path->data : "params";
}

static void emit(qctx *q, const char *value, size_t len)
{
    sb_putc(q->body, '&');
    aws_percent_encode(q->body, q->name->data ? q->name->data : "", q->name->len, 0);
    sb_putc(q->body, '=');
    aws_percent_encode(q->body, value, len, 0);
}

/* Appends ".segment" (or "segment" at the start) to the parameter name; ec2 upper-cases the
 * first letter when asked. */
static void name_push(qctx *q, const char *segment, int capitalize)
{
    if (q->name->len)
        sb_putc(q->name, '.');
    size_t at = q->name->len;
    sb_puts(q->name, segment);
    if (capitalize && !q->name->failed && q->name->len > at && q->name->data[at] >= 'a' && q->name->data[at] <= 'z')
        q->name->data[at] = (char)(q->name->data[at] - 'a' + 'A');
}

static void name_push_index(qctx *q, lua_Integer i)
{
    char num[32];
    snprintf(num, sizeof num, LUA_INTEGER_FMT, i);
    name_push(q, num, 0);
}

static void serialize_value(qctx *q, const cJSON *ref, int idx);

static void serialize_struct(qctx *q, const cJSON *shape, int idx)
{
    lua_State *L = q->L;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string)
            continue;
        if (!aws_push_member_param(L, mem, idx, q->opts))
            continue;
        size_t name_len = q->name->len, path_len = q->path->len;
        const char *segment;
        int capitalize = 0;
        if (q->ec2) {
            segment = aws_node_string(mem, "queryName");
            if (!segment) {
                segment = aws_node_string(mem, "locationName");
                if (!segment)
                    segment = mem->string;
                capitalize = 1;
            }
        } else {
            segment = aws_node_string(mem, "locationName");
            if (!segment)
                segment = mem->string;
            /* a flattened list is named after its member's locationName when it has one */
            const cJSON *target;
            if (aws_xml_kind(q->m, mem, &target) == AWS_T_LIST && aws_model_trait_bool(q->m, mem, "flattened")) {
                const char *item = aws_node_string(cJSON_GetObjectItemCaseSensitive(target, "member"), "locationName");
                if (item)
                    segment = item;
            }
        }
        name_push(q, segment, capitalize);
        aws_path_push_key(q->path, mem->string, strlen(mem->string));
        serialize_value(q, mem, lua_gettop(L));
        aws_path_cut(q->name, name_len);
        aws_path_cut(q->path, path_len);
        lua_pop(L, 1);
    }
}

static void serialize_list(qctx *q, const cJSON *ref, const cJSON *shape, int idx)
{
    lua_State *L = q->L;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0) {
        if (!q->ec2) /* the query protocol says "this list is empty" with an empty value */
            emit(q, "", 0);
        return;
    }
    int flattened = q->ec2 || aws_model_trait_bool(q->m, ref, "flattened");
    const char *item_name = aws_node_string(item, "locationName");
    for (lua_Integer i = 1; i <= n; i++) {
        size_t name_len = q->name->len, path_len = q->path->len;
        if (!flattened)
            name_push(q, item_name ? item_name : "member", 0);
        name_push_index(q, i);
        aws_path_push_index(q->path, i);
        lua_rawgeti(L, idx, i);
        serialize_value(q, item, lua_gettop(L));
        lua_pop(L, 1);
        aws_path_cut(q->name, name_len);
        aws_path_cut(q->path, path_len);
    }
}

static void serialize_map(qctx *q, const cJSON *ref, const cJSON *shape, int idx)
{
    lua_State *L = q->L;
    aws_map_parts map = aws_map_parts_of(q->m, ref, shape);
    int held;
    size_t start = aws_map_keys(L, q->g, idx, path_of(q), &held);
    for (size_t k = start; k < q->g->nkeys; k++) {
        aws_map_key key = q->g->keys[k]; /* a nested map may move the array */
        size_t name_len = q->name->len, path_len = q->path->len;
        if (!map.flattened)
            name_push(q, "entry", 0);
        name_push_index(q, (lua_Integer)(k - start + 1));
        size_t entry_len = q->name->len;
        name_push(q, map.key_name ? map.key_name : "key", q->ec2 && map.key_name);
        emit(q, key.s, key.len);
        aws_path_cut(q->name, entry_len);
        name_push(q, map.value_name ? map.value_name : "value", q->ec2 && map.value_name);
        aws_path_push_key(q->path, key.s, key.len);
        lua_pushlstring(L, key.s, key.len);
        lua_gettable(L, idx);
        if (!aws_param_unset(L, -1))
            serialize_value(q, map.value, lua_gettop(L));
        lua_pop(L, 1);
        aws_path_cut(q->name, name_len);
        aws_path_cut(q->path, path_len);
    }
    q->g->nkeys = start;
    lua_pop(L, held);
}

static void serialize_value(qctx *q, const cJSON *ref, int idx)
{
    lua_State *L = q->L;
    const cJSON *shape;
    if (q->body->failed || q->name->failed || q->path->failed || q->value->failed)
        aws_raise_oom(L, "build_request");
    aws_kind kind = aws_enter_param(L, q->m, ref, idx, q->depth++, QUERY_MAX_DEPTH, path_of(q), &shape);
    if (kind == AWS_T_STRUCTURE || kind == AWS_T_LIST || kind == AWS_T_MAP) {
        if (kind == AWS_T_STRUCTURE)
            serialize_struct(q, shape, idx);
        else if (kind == AWS_T_LIST)
            serialize_list(q, ref, shape, idx);
        else
            serialize_map(q, ref, shape, idx);
    } else {
        sb_reset(q->value);
        aws_member_text(L, q->m, ref, idx, AWS_AT_FORM, q->g, q->value, path_of(q));
        emit(q, q->value->data ? q->value->data : "", q->value->len);
    }
    q->depth--;
}

int aws_build_query(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts)
{
    const char *protocol = aws_model_meta(m, "protocol");
    aws_push_request_table(L, op);
    int req = lua_gettop(L);
    /* every query and ec2 call is a form POSTed to /, whatever the model's http trait says */
    lua_pushliteral(L, "POST");
    lua_setfield(L, req, "method");
    aws_guard *g = aws_guard_push(L);
    qctx q = {L, m, opts, protocol && strcmp(protocol, "ec2") == 0, 0, &g->sb[0], &g->sb[1], &g->sb[2], &g->sb[3], g};
    const char *version = aws_model_meta(m, "apiVersion");
    sb_puts(q.body, "Action=");
    aws_percent_encode(q.body, op->string ? op->string : "", op->string ? strlen(op->string) : 0, 0);
    sb_puts(q.body, "&Version=");
    aws_percent_encode(q.body, version ? version : "", version ? strlen(version) : 0, 0);
    const cJSON *input = aws_model_resolve(m, aws_operation_input(op));
    if (input) {
        sb_puts(q.path, "params");
        serialize_struct(&q, input, params);
    }
    if (q.body->failed || q.name->failed || q.path->failed || q.value->failed)
        aws_raise_oom(L, "build_request");
    lua_pushlstring(L, q.body->data, q.body->len);
    lua_setfield(L, req, "body");
    aws_guard_release(g);
    lua_settop(L, req);
    lua_getfield(L, req, "headers");
    lua_pushliteral(L, "application/x-www-form-urlencoded; charset=utf-8");
    lua_setfield(L, -2, "Content-Type");
    lua_pop(L, 1);
    aws_fill_host_prefix(L, m, op, params, req);
    return 1;
}

/* ---------------------------------------------------------------- parsing */

int aws_parse_query(lua_State *L, const aws_model *m, const cJSON *op, int response)
{
    aws_response r;
    aws_response_open(L, response, &r);
    if (r.status >= 300)
        return aws_xml_push_error(L, m, op, response, r.status, r.headers, r.body, r.blen, 0);

    const cJSON *output = aws_operation_output(op);
    /* query results sit in <OperationResult> (or the output's resultWrapper) inside
     * <OperationResponse>; ec2 results sit in the response element itself */
    const char *wrapper = aws_model_trait_string(m, output, "resultWrapper");
    if (!wrapper)
        wrapper = lua_pushfstring(L, "%sResult", op->string ? op->string : "");
    const char *wrappers[] = {wrapper, NULL};
    lua_pushboolean(L, 1);
    lua_newtable(L);
    int data = lua_gettop(L);
    const char *why = NULL;
    if (output && aws_model_resolve(m, output) && !aws_xml_blank(r.body, r.blen) &&
        !aws_xml_read_structure(L, m, output, r.body, r.blen, data, wrappers, 0, &why))
        aws_push_body_error(L, r.status, "the response body is not well-formed XML (%s)", why);
    return 2;
}

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
#include "xml_shape.h"

#include "codec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define QUERY_MAX_DEPTH 64

/* ---------------------------------------------------------------- helpers shared with rest-xml */

aws_kind aws_xml_kind(const aws_model *m, const cJSON *ref, const cJSON **shape)
{
    const cJSON *resolved = aws_model_resolve(m, ref);
    if (shape)
        *shape = resolved ? resolved : ref;
    if (resolved)
        return aws_kind_of(aws_shape_type(resolved));
    return cJSON_IsObject(ref) && !cJSON_GetObjectItemCaseSensitive(ref, "shape") ? AWS_T_STRING : AWS_T_UNKNOWN;
}

int aws_param_unset(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    /* core.null (JSON null, a light userdata) means "not set" */
    return t == LUA_TNIL || t == LUA_TLIGHTUSERDATA;
}

/* Integers keep every digit; floats take the shortest spelling that reads back the same. */
static void number_text(lua_State *L, int idx, strbuf *out)
{
    char num[48];
    if (lua_isinteger(L, idx))
        snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
    else
        aws_format_double(num, lua_tonumber(L, idx));
    sb_puts(out, num);
}

int aws_scalar_text(lua_State *L, const aws_model *m, const cJSON *ref, int idx, strbuf *out)
{
    int ltype = lua_type(L, idx);
    char num[48];
    switch (aws_xml_kind(m, ref, NULL)) {
    case AWS_T_STRING: {
        if (ltype == LUA_TNUMBER) {
            number_text(L, idx, out);
            return 1;
        }
        if (ltype != LUA_TSTRING)
            return 0;
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        sb_append(out, s, len);
        return 1;
    }
    case AWS_T_INTEGER:
        if (ltype != LUA_TNUMBER)
            return 0;
        if (lua_isinteger(L, idx)) {
            snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (d != floor(d) || fabs(d) > 9.2e18)
                return 0;
            snprintf(num, sizeof num, "%.0f", d);
        }
        sb_puts(out, num);
        return 1;
    case AWS_T_FLOAT:
        if (ltype == LUA_TSTRING) {
            double d;
            if (!aws_special_double(lua_tostring(L, idx), &d))
                return 0;
            sb_puts(out, lua_tostring(L, idx));
            return 1;
        }
        if (ltype != LUA_TNUMBER)
            return 0;
        number_text(L, idx, out);
        return 1;
    case AWS_T_BOOLEAN:
        if (ltype != LUA_TBOOLEAN)
            return 0;
        sb_puts(out, lua_toboolean(L, idx) ? "true" : "false");
        return 1;
    case AWS_T_TIMESTAMP: {
        double t;
        if (!aws_timestamp_param(L, idx, &t))
            return 0;
        const char *fmt = aws_model_trait_string(m, ref, "timestampFormat");
        aws_format_timestamp(out, fmt ? fmt : "iso8601", t);
        return 1;
    }
    case AWS_T_BLOB: {
        if (ltype != LUA_TSTRING)
            return 0;
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        aws_base64_encode(out, s, len);
        return 1;
    }
    default:
        return -1;
    }
}

void aws_push_map_keys(lua_State *L, int idx, const char *path)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    int keys = lua_gettop(L);
    lua_Integer n = 0;
    if (luaL_getmetafield(L, idx, "__pairs") != LUA_TNIL) {
        /* the caller chose an order (an ordered-map library, a decoder that keeps key order) */
        lua_pushvalue(L, idx);
        lua_call(L, 1, 3);
        for (;;) {
            lua_pushvalue(L, -3);
            lua_pushvalue(L, -3);
            lua_pushvalue(L, -3);
            lua_call(L, 2, 2);
            if (lua_isnil(L, -2)) {
                lua_pop(L, 2);
                break;
            }
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                aws_raise_serialization(L, "%s: map keys must be strings, got %s", path, luaL_typename(L, -1));
            lua_pushvalue(L, -1);
            lua_rawseti(L, keys, ++n);
            lua_replace(L, -2); /* the key is the iterator's next control value */
        }
        lua_pop(L, 3);
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            aws_raise_serialization(L, "%s: map keys must be strings, got %s", path, luaL_typename(L, -1));
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++n);
    }
    /* Shell sort over the Lua sequence: no C array to free if a comparison ever raised */
    static const lua_Integer gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
        lua_Integer gap = gaps[gi];
        for (lua_Integer i = gap + 1; i <= n; i++) {
            lua_rawgeti(L, keys, i);
            lua_Integer j = i;
            while (j > gap) {
                lua_rawgeti(L, keys, j - gap);
                /* stack: moving key, candidate */
                size_t la, lb;
                const char *sa = lua_tolstring(L, -1, &la);
                const char *sb = lua_tolstring(L, -2, &lb);
                int c = memcmp(sa, sb, la < lb ? la : lb);
                if (!(c > 0 || (c == 0 && la > lb))) {
                    lua_pop(L, 1);
                    break;
                }
                lua_rawseti(L, keys, j);
                j -= gap;
            }
            lua_rawseti(L, keys, j);
        }
    }
}

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
} qctx;

static void cut(strbuf *sb, size_t len)
{
    if (sb->data && len <= sb->len) {
        sb->len = len;
        sb->data[len] = '\0';
    }
}

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

static const char *kind_noun(aws_kind k)
{
    switch (k) {
    case AWS_T_STRING: return "a string";
    case AWS_T_INTEGER: return "an integer";
    case AWS_T_FLOAT: return "a number";
    case AWS_T_BOOLEAN: return "a boolean";
    case AWS_T_TIMESTAMP: return "a timestamp (epoch seconds)";
    case AWS_T_BLOB: return "a string (blob)";
    case AWS_T_STRUCTURE: return "a table (structure)";
    case AWS_T_LIST: return "a list";
    case AWS_T_MAP: return "a table (map)";
    default: return "a value the model knows";
    }
}

static void serialize_value(qctx *q, const cJSON *ref, int idx);

static void serialize_struct(qctx *q, const cJSON *shape, int idx)
{
    lua_State *L = q->L;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string)
            continue;
        lua_getfield(L, idx, mem->string);
        if (aws_param_unset(L, -1)) {
            lua_pop(L, 1);
            if (!aws_model_trait_bool(q->m, mem, "idempotencyToken"))
                continue;
            aws_push_idempotency_token(L, q->opts);
        }
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
        sb_putc(q->path, '.');
        sb_puts(q->path, mem->string);
        serialize_value(q, mem, lua_gettop(L));
        cut(q->name, name_len);
        cut(q->path, path_len);
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
        char num[32];
        snprintf(num, sizeof num, "[" LUA_INTEGER_FMT "]", i);
        sb_puts(q->path, num);
        lua_rawgeti(L, idx, i);
        serialize_value(q, item, lua_gettop(L));
        lua_pop(L, 1);
        cut(q->name, name_len);
        cut(q->path, path_len);
    }
}

static void serialize_map(qctx *q, const cJSON *ref, const cJSON *shape, int idx)
{
    lua_State *L = q->L;
    const cJSON *kref = cJSON_GetObjectItemCaseSensitive(shape, "key");
    const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
    const char *kname = aws_node_string(kref, "locationName");
    const char *vname = aws_node_string(vref, "locationName");
    int flattened = aws_model_trait_bool(q->m, ref, "flattened");
    aws_push_map_keys(L, idx, path_of(q));
    int keys = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t name_len = q->name->len, path_len = q->path->len;
        if (!flattened)
            name_push(q, "entry", 0);
        name_push_index(q, i);
        size_t entry_len = q->name->len;
        lua_rawgeti(L, keys, i);
        size_t klen;
        const char *key = lua_tolstring(L, -1, &klen);
        name_push(q, kname ? kname : "key", q->ec2 && kname);
        emit(q, key, klen);
        cut(q->name, entry_len);
        name_push(q, vname ? vname : "value", q->ec2 && vname);
        sb_putc(q->path, '.');
        sb_append(q->path, key, klen);
        lua_gettable(L, idx);
        if (!aws_param_unset(L, -1))
            serialize_value(q, vref, lua_gettop(L));
        lua_pop(L, 1);
        cut(q->name, name_len);
        cut(q->path, path_len);
    }
    lua_pop(L, 1);
}

static void serialize_value(qctx *q, const cJSON *ref, int idx)
{
    lua_State *L = q->L;
    const cJSON *shape;
    aws_kind kind = aws_xml_kind(q->m, ref, &shape);
    if (q->body->failed || q->name->failed || q->path->failed || q->value->failed)
        aws_raise_oom(L, "build_request");
    if (q->depth >= QUERY_MAX_DEPTH)
        aws_raise_serialization(L, "%s: nested deeper than %d levels", path_of(q), QUERY_MAX_DEPTH);
    q->depth++;
    luaL_checkstack(L, 8, "build_request");
    if (kind == AWS_T_STRUCTURE || kind == AWS_T_LIST || kind == AWS_T_MAP) {
        if (lua_type(L, idx) != LUA_TTABLE)
            aws_raise_serialization(L, "%s: expected %s, got %s", path_of(q), kind_noun(kind), luaL_typename(L, idx));
        if (kind == AWS_T_STRUCTURE)
            serialize_struct(q, shape, idx);
        else if (kind == AWS_T_LIST)
            serialize_list(q, ref, shape, idx);
        else
            serialize_map(q, ref, shape, idx);
    } else {
        sb_reset(q->value);
        int r = aws_scalar_text(L, q->m, ref, idx, q->value);
        if (r < 0)
            aws_raise_serialization(L, "%s: the model's shape for this member is missing or unknown", path_of(q));
        if (r == 0)
            aws_raise_serialization(L, "%s: expected %s, got %s", path_of(q), kind_noun(kind), luaL_typename(L, idx));
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
    qctx q = {L, m, opts, protocol && strcmp(protocol, "ec2") == 0, 0, &g->sb[0], &g->sb[1], &g->sb[2], &g->sb[3]};
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
    int headers;
    const char *body;
    size_t blen;
    int status = aws_response_open(L, response, &headers, &body, &blen);
    if (status >= 300)
        return aws_xml_push_error(L, m, op, response, status, headers, body, blen, 0);

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
    if (output && aws_model_resolve(m, output) && !aws_xml_blank(body, blen) &&
        !aws_xml_read_structure(L, m, output, body, blen, data, wrappers, 0, &why))
        aws_push_body_error(L, status, "the response body is not well-formed XML (%s)", why);
    return 2;
}

/* The rest-xml protocol (S3, Route 53, CloudFront): the HTTP binding is rest.c's; this file
 * writes and reads the XML body, and builds the errors of every XML protocol.
 *
 * Request body: the payload member when the input names one (a blob or string sent raw, a
 * structure as XML rooted at the member's locationName), else the members that no location
 * binds, under the input's locationName with its xmlNamespace. Structures write xmlAttribute
 * members as attributes; lists wrap their items in <member> (or the item's locationName) unless
 * flattened; maps write <entry><key/><value/></entry> (custom names, flattened forms).
 *
 * Errors: S3's <Error><Code/><Message/><RequestId/><HostId/></Error> (also with status 200),
 * <ErrorResponse><Error> (query, Route 53), <Response><Errors><Error> (ec2), and body-less
 * failures named after their status. */
#include "protocol/xml/xml.h"

#include "codec/xml.h"
#include "protocol/rest/rest.h"

#include <expat.h>
#include <stdio.h>
#include <string.h>

#define XML_MAX_NESTING 64

/* ---------------------------------------------------------------- writing */

typedef struct xw {
    lua_State *L;
    const aws_model *m;
    int opts;
    int depth;
    strbuf *out;
    strbuf *path;
    strbuf *value;
    aws_guard *g; /* owns the buffers */
} xw;

static void xml_escape(strbuf *out, const char *s, size_t len, int attribute)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        /* a bare CR would be read back as LF by any XML parser */
        case '\r': rep = "&#xD;"; break;
        case '"': rep = attribute ? "&quot;" : NULL; break;
        case '\n': rep = attribute ? "&#xA;" : NULL; break;
        case '\t': rep = attribute ? "&#x9;" : NULL; break;
        default: break;
        }
        if (!rep)
            continue;
        sb_append(out, s + start, i - start);
        sb_puts(out, rep);
        start = i + 1;
    }
    sb_append(out, s + start, len - start);
}

static const char *writer_path(const xw *w)
{
    return w->path->data ? w->path->data : "params";
}

/* xmlns="uri" or xmlns:prefix="uri" from the member's (or its shape's) xmlNamespace. */
static void write_namespace(xw *w, const cJSON *ref)
{
    const cJSON *ns = aws_model_trait(w->m, ref, "xmlNamespace");
    const char *uri = NULL, *prefix = NULL;
    if (cJSON_IsString(ns)) {
        uri = ns->valuestring;
    } else if (cJSON_IsObject(ns)) {
        uri = aws_node_string(ns, "uri");
        prefix = aws_node_string(ns, "prefix");
    }
    if (!uri)
        return;
    sb_puts(w->out, " xmlns");
    if (prefix && *prefix) {
        sb_putc(w->out, ':');
        sb_puts(w->out, prefix);
    }
    sb_puts(w->out, "=\"");
    xml_escape(w->out, uri, strlen(uri), 1);
    sb_putc(w->out, '"');
}

static void close_tag(xw *w, const char *name)
{
    sb_puts(w->out, "</");
    sb_puts(w->out, name);
    sb_putc(w->out, '>');
}

static int member_located(const aws_model *m, const cJSON *mem)
{
    return aws_model_trait_string(m, mem, "location") != NULL;
}

static void write_value(xw *w, const cJSON *ref, const char *name, int idx);

/* <name xmlns=... attr="..."> members </name>; the request's top structure leaves out the
 * members that rest.c put in the URI or headers, and the payload. */
static void write_structure(xw *w, const cJSON *ref, const cJSON *shape, const char *name, int idx, int top)
{
    lua_State *L = w->L;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    sb_putc(w->out, '<');
    sb_puts(w->out, name);
    write_namespace(w, ref);
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string || !aws_model_trait_bool(w->m, mem, "xmlAttribute") || (top && member_located(w->m, mem)))
            continue;
        if (!aws_push_member_param(L, mem, idx, w->opts))
            continue;
        size_t plen = w->path->len;
        aws_path_push_key(w->path, mem->string, strlen(mem->string));
        sb_reset(w->value);
        aws_member_text(L, w->m, mem, lua_gettop(L), AWS_AT_XML, w->g, w->value, writer_path(w));
        const char *attr = aws_node_string(mem, "locationName");
        sb_putc(w->out, ' ');
        sb_puts(w->out, attr ? attr : mem->string);
        sb_puts(w->out, "=\"");
        xml_escape(w->out, w->value->data ? w->value->data : "", w->value->len, 1);
        sb_putc(w->out, '"');
        aws_path_cut(w->path, plen);
        lua_pop(L, 1);
    }
    sb_putc(w->out, '>');
    const cJSON *payload = top ? cJSON_GetObjectItemCaseSensitive(shape, "payload") : NULL;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string || aws_model_trait_bool(w->m, mem, "xmlAttribute"))
            continue;
        if (top && (member_located(w->m, mem) ||
                    (cJSON_IsString(payload) && strcmp(payload->valuestring, mem->string) == 0)))
            continue;
        if (!aws_push_member_param(L, mem, idx, w->opts))
            continue;
        size_t plen = w->path->len;
        aws_path_push_key(w->path, mem->string, strlen(mem->string));
        write_value(w, mem, aws_member_wire_name(w->m, mem), lua_gettop(L));
        aws_path_cut(w->path, plen);
        lua_pop(L, 1);
    }
    close_tag(w, name);
}

static void write_list(xw *w, const cJSON *ref, const cJSON *shape, const char *name, int idx)
{
    lua_State *L = w->L;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(shape, "member");
    int flattened = aws_model_trait_bool(w->m, ref, "flattened");
    const char *item_name = aws_node_string(item, "locationName");
    if (!flattened) {
        sb_putc(w->out, '<');
        sb_puts(w->out, name);
        write_namespace(w, ref);
        sb_putc(w->out, '>');
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t plen = w->path->len;
        aws_path_push_index(w->path, i);
        lua_rawgeti(L, idx, i);
        /* flattened items repeat the list's own element name */
        write_value(w, item, flattened ? name : (item_name ? item_name : "member"), lua_gettop(L));
        lua_pop(L, 1);
        aws_path_cut(w->path, plen);
    }
    if (!flattened)
        close_tag(w, name);
}

static void write_map(xw *w, const cJSON *ref, const cJSON *shape, const char *name, int idx)
{
    lua_State *L = w->L;
    aws_map_parts map = aws_map_parts_of(w->m, ref, shape);
    if (!map.flattened) {
        sb_putc(w->out, '<');
        sb_puts(w->out, name);
        write_namespace(w, ref);
        sb_putc(w->out, '>');
    }
    int held;
    size_t start = aws_map_keys(L, w->g, idx, writer_path(w), &held);
    const char *entry = map.flattened ? name : "entry";
    for (size_t k = start; k < w->g->nkeys; k++) {
        aws_map_key key_text = w->g->keys[k]; /* a nested map may move the array */
        size_t plen = w->path->len;
        aws_path_push_key(w->path, key_text.s, key_text.len);
        sb_putc(w->out, '<');
        sb_puts(w->out, entry);
        sb_putc(w->out, '>');
        lua_pushlstring(L, key_text.s, key_text.len);
        int key = lua_gettop(L);
        write_value(w, map.key, map.key_name ? map.key_name : "key", key);
        lua_pushvalue(L, key);
        lua_gettable(L, idx);
        if (!aws_param_unset(L, -1))
            write_value(w, map.value, map.value_name ? map.value_name : "value", lua_gettop(L));
        close_tag(w, entry);
        aws_path_cut(w->path, plen);
        lua_settop(L, key - 1);
    }
    w->g->nkeys = start;
    lua_pop(L, held);
    if (!map.flattened)
        close_tag(w, name);
}

static void write_value(xw *w, const cJSON *ref, const char *name, int idx)
{
    lua_State *L = w->L;
    const cJSON *shape;
    if (w->out->failed || w->path->failed || w->value->failed)
        aws_raise_oom(L, "build_request");
    aws_kind kind = aws_enter_param(L, w->m, ref, idx, w->depth++, XML_MAX_NESTING, writer_path(w), &shape);
    if (kind == AWS_T_STRUCTURE || kind == AWS_T_LIST || kind == AWS_T_MAP) {
        if (kind == AWS_T_STRUCTURE)
            write_structure(w, ref, shape, name, idx, 0);
        else if (kind == AWS_T_LIST)
            write_list(w, ref, shape, name, idx);
        else
            write_map(w, ref, shape, name, idx);
    } else {
        sb_reset(w->value);
        aws_member_text(L, w->m, ref, idx, AWS_AT_XML, w->g, w->value, writer_path(w));
        sb_putc(w->out, '<');
        sb_puts(w->out, name);
        write_namespace(w, ref);
        sb_putc(w->out, '>');
        xml_escape(w->out, w->value->data ? w->value->data : "", w->value->len, 0);
        close_tag(w, name);
    }
    w->depth--;
}

/* ---------------------------------------------------------------- building */

static int has_body_params(lua_State *L, const aws_model *m, const cJSON *input, int params)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string || member_located(m, mem))
            continue;
        if (aws_model_trait_bool(m, mem, "idempotencyToken"))
            return 1;
        lua_getfield(L, params, mem->string);
        int set = !aws_param_unset(L, -1);
        lua_pop(L, 1);
        if (set)
            return 1;
    }
    return 0;
}

/* Writes the XML of the value at idx (the top input when ref is the operation's input) and
 * stores it as the request body. */
static void set_xml_body(lua_State *L, const aws_model *m, int opts, int req, const cJSON *ref, const char *root,
                         int idx, int top)
{
    aws_guard *g = aws_guard_push(L);
    xw w = {L, m, opts, 0, &g->sb[0], &g->sb[1], &g->sb[2], g};
    sb_puts(w.path, "params");
    if (top) {
        const cJSON *shape = aws_model_resolve(m, ref);
        write_structure(&w, ref, shape, root, idx, 1);
    } else {
        sb_putc(w.path, '.');
        sb_puts(w.path, ref->string ? ref->string : root);
        write_value(&w, ref, root, idx);
    }
    if (w.out->failed || w.path->failed || w.value->failed)
        aws_raise_oom(L, "build_request");
    lua_pushlstring(L, w.out->data ? w.out->data : "", w.out->len);
    lua_setfield(L, req, "body");
    aws_guard_release(g);
    lua_pop(L, 1);
    aws_set_default_header(L, req, "Content-Type", "application/xml");
}

static void build_body(lua_State *L, const aws_model *m, const cJSON *op, const cJSON *input, int params, int opts,
                       int req)
{
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(input, "payload");
    if (cJSON_IsString(payload)) {
        const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
        const cJSON *member = cJSON_GetObjectItemCaseSensitive(members, payload->valuestring);
        aws_kind kind = member ? aws_xml_kind(m, member, NULL) : AWS_T_UNKNOWN;
        if (kind == AWS_T_UNKNOWN)
            aws_raise_serialization(L, "the payload member '%s' is not in the input shape", payload->valuestring);
        lua_getfield(L, params, member->string);
        int value = lua_gettop(L);
        if (aws_param_unset(L, value)) {
            lua_pop(L, 1);
            return;
        }
        if (kind == AWS_T_BLOB || kind == AWS_T_STRING) {
            /* sent as is; a non-string (a file, a reader) is the request layer's to stream */
            int is_text = lua_type(L, value) == LUA_TSTRING && kind == AWS_T_STRING;
            lua_setfield(L, req, "body");
            if (is_text)
                aws_set_default_header(L, req, "Content-Type", "text/plain");
            return;
        }
        const char *root = aws_model_trait_string(m, member, "locationName");
        set_xml_body(L, m, opts, req, member, root ? root : member->string, value, 0);
        lua_pop(L, 1);
        return;
    }
    if (!has_body_params(L, m, input, params))
        return;
    const cJSON *ref = aws_operation_input(op);
    const char *root = aws_model_trait_string(m, ref, "locationName");
    if (!root)
        root = aws_node_string(ref, "shape");
    if (!root)
        root = lua_pushfstring(L, "%sRequest", op->string ? op->string : "");
    set_xml_body(L, m, opts, req, ref, root, params, 1);
}

int aws_build_xml(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts)
{
    aws_push_request_table(L, op);
    int req = lua_gettop(L);
    const cJSON *input = aws_rest_build_head(L, m, op, params, opts, req);
    if (input)
        build_body(L, m, op, input, params, opts, req);
    lua_settop(L, req);
    return 1;
}


/* ---------------------------------------------------------------- parsing */

int aws_parse_xml(lua_State *L, const aws_model *m, const cJSON *op, int response)
{
    aws_response r;
    aws_response_open(L, response, &r);

    const cJSON *ref = aws_operation_output(op);
    const cJSON *output = aws_model_resolve(m, ref);
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(output, "payload");
    const cJSON *member = NULL;
    aws_kind pkind = AWS_T_UNKNOWN;
    if (cJSON_IsString(payload)) {
        member = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(output, "members"),
                                                  payload->valuestring);
        pkind = member ? aws_xml_kind(m, member, NULL) : AWS_T_UNKNOWN;
    }
    int raw = member && (pkind == AWS_T_BLOB || pkind == AWS_T_STRING);
    /* S3 reports some failures (CopyObject, CompleteMultipartUpload) with status 200 and an
     * <Error> document; an object's own bytes (a raw payload) are never read that way */
    if (r.status >= 300 || (!raw && aws_xml_root_is_error(r.body, r.blen)))
        return aws_xml_push_error(L, m, op, response, r.status, r.headers, r.body, r.blen, 1);

    lua_pushboolean(L, 1);
    lua_newtable(L);
    int data = lua_gettop(L);
    if (!output)
        return 2;
    aws_rest_parse_head(L, m, output, response, data);
    const char *why = NULL;
    int ok = 1;
    if (member && raw) {
        /* a streaming payload is always there: a zero-byte object's Body is "" */
        const cJSON *shape = aws_model_resolve(m, member);
        if (r.blen > 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(member, "streaming")) ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shape, "streaming"))) {
            lua_pushvalue(L, r.headers + 1);
            lua_setfield(L, data, member->string);
        }
    } else if (member) {
        if (!aws_xml_blank(r.body, r.blen)) {
            lua_newtable(L);
            ok = aws_xml_read_structure(L, m, member, r.body, r.blen, lua_gettop(L), NULL, 0, &why);
            lua_setfield(L, data, member->string);
        }
    } else if (!aws_xml_blank(r.body, r.blen)) {
        ok = aws_xml_read_structure(L, m, ref, r.body, r.blen, data, NULL, 1, &why);
    }
    if (!ok)
        aws_push_body_error(L, r.status, "the response body is not well-formed XML (%s)", why);
    return 2;
}

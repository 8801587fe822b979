/* The error of an AWS XML response, whatever its flavour: S3 <Error>, query
 * <ErrorResponse><Error>, ec2 <Response><Errors><Error>. */
#include "protocol/xml/xml.h"

#include "codec/xml.h"
#include "protocol/rest/rest.h"

#include <string.h>

/* ---------------------------------------------------------------- reading error fields */

enum { EF_CODE, EF_MESSAGE, EF_REQUEST_ID, EF_HOST_ID };

typedef struct efields {
    XML_Parser parser;
    aws_guard *g;
    unsigned have;
    int depth;
    int capture, capture_depth;
    unsigned char is_error[64];
    int failed;
} efields;

static void XMLCALL ef_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    efields *e = ud;
    const char *local = aws_xml_local_part(name);
    e->depth++;
    if (e->depth < 64)
        e->is_error[e->depth] = strcmp(local, "Error") == 0;
    int parent_error = e->depth >= 2 && e->depth - 1 < 64 && e->is_error[e->depth - 1];
    int shallow = parent_error || e->depth == 2;
    int field = -1;
    if (parent_error && strcmp(local, "Code") == 0)
        field = EF_CODE;
    else if (parent_error && strcmp(local, "Message") == 0)
        field = EF_MESSAGE;
    else if (shallow && (strcmp(local, "RequestId") == 0 || strcmp(local, "RequestID") == 0))
        field = EF_REQUEST_ID;
    else if (shallow && strcmp(local, "HostId") == 0)
        field = EF_HOST_ID;
    if (field >= 0 && e->capture < 0 && !(e->have & (1u << field))) {
        e->capture = field;
        e->capture_depth = e->depth;
        sb_reset(&e->g->sb[field]);
    }
}

static void XMLCALL ef_end(void *ud, const XML_Char *name)
{
    (void)name;
    efields *e = ud;
    if (e->capture >= 0 && e->depth == e->capture_depth) {
        e->have |= 1u << e->capture;
        e->capture = -1;
    }
    e->depth--;
}

static void XMLCALL ef_text(void *ud, const XML_Char *s, int len)
{
    efields *e = ud;
    if (e->capture < 0 || e->depth != e->capture_depth)
        return;
    if (!sb_append(&e->g->sb[e->capture], s, (size_t)len)) {
        e->failed = 1;
        XML_StopParser(e->parser, XML_FALSE);
    }
}

/* ---------------------------------------------------------------- errors */

static void set_field(lua_State *L, int err, const char *field, const strbuf *sb)
{
    lua_pushlstring(L, sb->data ? sb->data : "", sb->len);
    lua_setfield(L, err, field);
}

enum { HAVE_CODE = 1, HAVE_MESSAGE = 2, HAVE_REQUEST_ID = 4, HAVE_HOST_ID = 8 };

int aws_xml_error_fields(aws_guard *g, const char *xml, size_t len, unsigned *have)
{
    efields e;
    memset(&e, 0, sizeof e);
    e.g = g;
    e.capture = -1;
    e.parser = XML_ParserCreate(NULL);
    if (!e.parser)
        return 0;
    XML_SetUserData(e.parser, &e);
    XML_SetElementHandler(e.parser, ef_start, ef_end);
    XML_SetCharacterDataHandler(e.parser, ef_text);
    int ok = aws_xml_feed(e.parser, xml, len) == XML_STATUS_OK && !e.failed;
    XML_ParserFree(e.parser);
    *have = e.have;
    return ok;
}

int aws_xml_root_is_error(const char *xml, size_t len)
{
    const char *p = xml, *end = xml + len;
    if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3;
    for (;;) {
        while (p < end && aws_xml_space(*p))
            p++;
        if (end - p < 2 || *p != '<')
            return 0;
        /* skip the declaration, processing instructions, comments and a DOCTYPE */
        if (p[1] == '?' || p[1] == '!') {
            const char *close = end - p >= 4 && memcmp(p, "<!--", 4) == 0 ? NULL : memchr(p, '>', (size_t)(end - p));
            if (!close) {
                for (const char *q = p + 4; q + 3 <= end; q++)
                    if (memcmp(q, "-->", 3) == 0) {
                        close = q + 2;
                        break;
                    }
            }
            if (!close)
                return 0;
            p = close + 1;
            continue;
        }
        break;
    }
    if (end - p < 7 || memcmp(p, "<Error", 6) != 0)
        return 0;
    char next = p[6];
    return next == '>' || next == '/' || aws_xml_space(next);
}

int aws_xml_push_error(lua_State *L, const aws_model *m, const cJSON *op, int response, int status, int headers,
                       const char *body, size_t blen, int rest)
{
    aws_guard *g = aws_guard_push(L);
    unsigned have = 0;
    int parsed = !aws_xml_blank(body, blen) && aws_xml_error_fields(g, body, blen, &have);
    for (int i = 0; i < 4; i++)
        if (g->sb[i].failed)
            aws_raise_oom(L, "parse_response");
    if (!g->sb[0].len)
        have &= ~(unsigned)HAVE_CODE;

    lua_pushboolean(L, 0);
    const char *named = aws_status_code_name(status, 0);
    if (have & HAVE_CODE)
        aws_push_error(L, g->sb[0].data, "");
    else if (named)
        aws_push_error(L, named, "");
    else {
        lua_pushfstring(L, status >= 300 ? "Http%d" : "UnknownError", status);
        aws_push_error(L, lua_tostring(L, -1), "");
        lua_remove(L, -2);
    }
    int err = lua_gettop(L);
    /* services that moved from query to JSON keep their old codes in a header:
     * "AWS.SimpleQueueService.NonExistentQueue;Sender" */
    if (lua_getfield(L, headers, "x-amzn-query-error") == LUA_TSTRING) {
        size_t qlen;
        const char *q = lua_tolstring(L, -1, &qlen);
        const char *semi = memchr(q, ';', qlen);
        if (semi != q) {
            lua_pushlstring(L, q, semi ? (size_t)(semi - q) : qlen);
            lua_setfield(L, err, "code");
        }
    }
    lua_pop(L, 1);
    if (have & HAVE_MESSAGE)
        set_field(L, err, "message", &g->sb[1]);
    else if (!parsed) {
        lua_pushfstring(L, "the service answered with HTTP status %d", status);
        lua_setfield(L, err, "message");
    }
    lua_pushinteger(L, status);
    lua_setfield(L, err, "statusCode");
    if (have & HAVE_REQUEST_ID)
        set_field(L, err, "requestId", &g->sb[2]);
    if (have & HAVE_HOST_ID)
        set_field(L, err, "extendedRequestId", &g->sb[3]);
    /* the ids in the body are the service's own word: the headers only fill what it left out */
    aws_error_set_ids(L, headers, err, 1);

    const cJSON *shape = aws_error_shape_members(L, m, op, err);
    if (shape && rest)
        aws_rest_parse_head(L, m, shape, response, lua_gettop(L));
    if (shape) {
        static const char *const wrappers[] = {"Errors", "Error", NULL};
        const char *why;
        if (parsed)
            aws_xml_read_structure(L, m, shape, body, blen, lua_gettop(L), wrappers, rest, &why);
        aws_error_take_members(L, err);
    }
    aws_guard_release(g);
    return 2;
}

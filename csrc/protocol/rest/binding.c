/* The HTTP binding of operations and shapes, worked out once per model (see protocol_json.h).
 * A binding is built entirely in C from the cJSON tree, with no Lua call that could raise, and
 * handed to the model's memo before anything else happens: from then on the model owns it. */
#include "protocol/rest/rest.h"

#include <stdlib.h>
#include <string.h>

/* Memo kinds: an operation node keys its input binding, a shape node its output binding. */
enum { MEMO_REST_INPUT = 0x52490001, MEMO_REST_OUTPUT = 0x52490002 };

static aws_rest_scalar scalar_of(const aws_model *m, const cJSON *ref)
{
    aws_rest_scalar s;
    s.type = aws_shape_type(aws_model_resolve(m, ref));
    s.scalar = aws_member_scalar_type(m, ref);
    return s;
}

/* Everything but the wire name, which requests and responses spell differently. */
static void member_fill(const aws_model *m, const cJSON *mem, aws_rest_loc loc, aws_rest_member *out)
{
    const cJSON *shape = aws_model_resolve(m, mem);
    memset(out, 0, sizeof *out);
    out->name = mem->string;
    out->name_len = strlen(mem->string);
    out->loc = loc;
    out->idempotency_token = aws_model_trait_bool(m, mem, "idempotencyToken");
    out->value = scalar_of(m, mem);
    if (loc == AWS_LOC_QUERY && out->value.scalar.kind == AWS_T_MAP) {
        const cJSON *vref = cJSON_GetObjectItemCaseSensitive(shape, "value");
        const cJSON *vshape = aws_model_resolve(m, vref);
        out->query_map = 1;
        out->item_is_list = aws_kind_of(aws_shape_type(vshape)) == AWS_T_LIST;
        out->item = scalar_of(m, out->item_is_list ? cJSON_GetObjectItemCaseSensitive(vshape, "member") : vref);
    } else if ((loc == AWS_LOC_QUERY || loc == AWS_LOC_HEADER) && out->value.scalar.kind == AWS_T_LIST) {
        out->item = scalar_of(m, cJSON_GetObjectItemCaseSensitive(shape, "member"));
    } else if (loc == AWS_LOC_HEADERS) {
        /* a value that is no map has no "value": its scalar then reads as a missing shape */
        out->item = scalar_of(m, cJSON_GetObjectItemCaseSensitive(shape, "value"));
    }
}

static size_t count_children(const cJSON *node)
{
    size_t n = 0;
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next)
        n++;
    return n;
}

/* ---------------------------------------------------------------- requests */

static void input_free(void *p)
{
    aws_rest_input *b = p;
    if (!b)
        return;
    free(b->segments);
    free(b->labels);
    free(b->members);
    free(b->by_name);
    free(b);
}

unsigned aws_rest_name_hash(const char *s, size_t len)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int index_names(aws_rest_input *b)
{
    size_t size = 16;
    while (size < b->nmembers * 2)
        size *= 2;
    b->by_name = calloc(size, sizeof *b->by_name);
    if (!b->by_name)
        return 0;
    b->by_name_mask = size - 1;
    for (size_t i = 0; i < b->nmembers; i++) {
        size_t slot = aws_rest_name_hash(b->members[i].name, b->members[i].name_len) & b->by_name_mask;
        while (b->by_name[slot])
            slot = (slot + 1) & b->by_name_mask;
        b->by_name[slot] = (unsigned)i + 1;
    }
    return 1;
}

/* The wire name of a member bound to the URI, a header or the query string: its locationName,
 * else the one of the shape it references (JavaScript v2's Shape.create inherits it), else its
 * own name. */
static const char *bound_name(const aws_model *m, const cJSON *mem)
{
    const char *name = aws_model_trait_string(m, mem, "locationName");
    return name ? name : mem->string;
}

static const cJSON *find_uri_member(const aws_model *m, const cJSON *input, const char *label, size_t len)
{
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(input, "members");
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        const char *loc = aws_model_trait_string(m, mem, "location");
        const char *name = bound_name(m, mem);
        if (loc && strcmp(loc, "uri") == 0 && strlen(name) == len && memcmp(name, label, len) == 0)
            return mem;
    }
    /* Some models name the label after the member without a locationName. */
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next)
        if (strlen(mem->string) == len && memcmp(mem->string, label, len) == 0)
            return mem;
    return NULL;
}

/* requestUri "/{Bucket}/{Key+}?versioning" as literal and label segments plus the constant
 * query. A '{' without its '}' makes the rest of the template literal, '?' included. */
static int split_uri(const aws_model *m, const cJSON *op, aws_rest_input *b)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(op, "http");
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(http, "requestUri");
    const char *p = cJSON_IsString(uri) ? uri->valuestring : "/";
    size_t braces = 0;
    for (const char *c = p; *c; c++)
        braces += *c == '{';
    /* each label can follow a literal, and one literal can end the path */
    b->segments = calloc(2 * braces + 1, sizeof *b->segments);
    b->labels = calloc(braces ? braces : 1, sizeof *b->labels);
    if (!b->segments || !b->labels)
        return 0;
    size_t nlabels = 0;
    while (*p && *p != '?') {
        aws_rest_segment *s = &b->segments[b->nsegments++];
        if (*p != '{') {
            s->text = p;
            while (*p && *p != '?' && *p != '{')
                p++;
            s->len = (size_t)(p - s->text);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            s->text = p;
            s->len = strlen(p);
            p += s->len;
            break;
        }
        s->label = 1;
        s->text = p + 1;
        s->len = (size_t)(close - s->text);
        s->greedy = s->len > 0 && s->text[s->len - 1] == '+';
        if (s->greedy)
            s->len--;
        const cJSON *mem = b->shape ? find_uri_member(m, b->shape, s->text, s->len) : NULL;
        if (mem) {
            member_fill(m, mem, AWS_LOC_URI, &b->labels[nlabels]);
            s->member = &b->labels[nlabels++];
        }
        p = close + 1;
    }
    if (*p == '?') {
        b->query = p + 1;
        b->query_len = strlen(b->query);
    }
    return 1;
}

static aws_rest_input *input_build(const aws_model *m, const cJSON *op)
{
    aws_rest_input *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->shape = aws_model_resolve(m, aws_operation_input(op));
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(b->shape, "members");
    size_t n = count_children(members);
    b->members = calloc(n ? n : 1, sizeof *b->members);
    if (!b->members || !split_uri(m, op, b)) {
        input_free(b);
        return NULL;
    }
    /* named query parameters and headers first, query maps after: a named parameter wins over
     * a map key of the same name */
    for (int pass = 0; pass < 2; pass++) {
        for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
            const char *loc = aws_model_trait_string(m, mem, "location");
            if (!loc || !mem->string)
                continue;
            aws_rest_loc where;
            if (strcmp(loc, "querystring") == 0)
                where = AWS_LOC_QUERY;
            else if (strcmp(loc, "header") == 0)
                where = AWS_LOC_HEADER;
            else if (strcmp(loc, "headers") == 0)
                where = AWS_LOC_HEADERS;
            else
                continue;
            aws_rest_member mb;
            member_fill(m, mem, where, &mb);
            if ((pass == 1) != (mb.query_map != 0))
                continue;
            mb.wire = bound_name(m, mem);
            mb.wire_len = strlen(mb.wire);
            b->has_query_map |= mb.query_map;
            b->has_token |= mb.idempotency_token;
            b->members[b->nmembers++] = mb;
        }
    }
    if (!index_names(b)) {
        input_free(b);
        return NULL;
    }
    return b;
}

const aws_rest_input *aws_rest_input_binding(lua_State *L, const aws_model *m, const cJSON *op)
{
    aws_rest_input *b = aws_model_memo_get(m, op, MEMO_REST_INPUT);
    if (b)
        return b;
    b = input_build(m, op);
    if (!b || !aws_model_memo_put(m, op, MEMO_REST_INPUT, b, input_free)) {
        input_free(b);
        aws_raise_oom(L, "build_request");
    }
    return b;
}

/* ---------------------------------------------------------------- responses */

typedef struct output_block {
    aws_rest_output out;
    char *names; /* the lower-cased header names, one after another */
} output_block;

static void output_free(void *p)
{
    output_block *b = p;
    if (!b)
        return;
    free(b->out.members);
    free(b->names);
    free(b);
}

static int scalar_needs_scratch(const aws_rest_scalar *s)
{
    return s->scalar.kind == AWS_T_BLOB || (s->scalar.kind == AWS_T_STRING && s->scalar.jsonvalue);
}

static output_block *output_build(const aws_model *m, const cJSON *shape)
{
    output_block *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(shape, "members");
    size_t n = count_children(members), bytes = 1;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next)
        bytes += strlen(bound_name(m, mem)) + 1;
    b->out.members = calloc(n ? n : 1, sizeof *b->out.members);
    b->names = malloc(bytes);
    if (!b->out.members || !b->names) {
        output_free(b);
        return NULL;
    }
    char *next = b->names;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        const char *loc = aws_model_trait_string(m, mem, "location");
        if (!loc || !mem->string)
            continue;
        aws_rest_member *mb = &b->out.members[b->out.nmembers];
        if (strcmp(loc, "statusCode") == 0) {
            member_fill(m, mem, AWS_LOC_STATUS, mb);
        } else if (strcmp(loc, "header") == 0) {
            member_fill(m, mem, AWS_LOC_HEADER, mb);
            /* response headers arrive lower-cased */
            const char *name = bound_name(m, mem);
            mb->wire = next;
            for (; *name; name++)
                *next++ = (char)(*name >= 'A' && *name <= 'Z' ? *name - 'A' + 'a' : *name);
            *next++ = '\0';
            mb->wire_len = (size_t)(next - mb->wire - 1);
            if (mb->value.scalar.kind == AWS_T_LIST || scalar_needs_scratch(&mb->value))
                b->out.needs_scratch = 1;
        } else if (strcmp(loc, "headers") == 0) {
            member_fill(m, mem, AWS_LOC_HEADERS, mb);
            /* unlike a request's, the prefix may come from the shape too */
            mb->wire = aws_model_trait_string(m, mem, "locationName");
            mb->wire_len = mb->wire ? strlen(mb->wire) : 0;
            if (scalar_needs_scratch(&mb->item))
                b->out.needs_scratch = 1;
        } else {
            continue;
        }
        b->out.nmembers++;
    }
    return b;
}

const aws_rest_output *aws_rest_output_binding(lua_State *L, const aws_model *m, const cJSON *shape)
{
    static const aws_rest_output none = {NULL, 0, 0};
    if (!shape)
        return &none;
    output_block *b = aws_model_memo_get(m, shape, MEMO_REST_OUTPUT);
    if (b)
        return &b->out;
    b = output_build(m, shape);
    if (!b || !aws_model_memo_put(m, shape, MEMO_REST_OUTPUT, b, output_free)) {
        output_free(b);
        aws_raise_oom(L, "parse_response");
    }
    return &b->out;
}

/* The HTTP binding of rest-json and rest-xml: URI labels, query string, headers, prefix maps,
 * status code; worked out once per operation (binding.c) and applied per request (rest.c). */
#ifndef AWSPROMISE_PROTOCOL_REST_H
#define AWSPROMISE_PROTOCOL_REST_H

#include "protocol/common.h"

/* rest.c: the HTTP binding of rest-json and rest-xml. build_head fills method, path, query and
 * headers of the request table at `req` from the operation's http trait and the members whose
 * location is uri, querystring, header or headers (and hostPrefix); it returns the input shape.
 * parse_head fills `data` from members bound to statusCode and header/headers. */
const cJSON *aws_rest_build_head(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts, int req);
void aws_rest_parse_head(lua_State *L, const aws_model *m, const cJSON *output_shape, int response, int data);

/* ---- rest_cache.c ---- */
/* The HTTP binding of an operation's input and of output (or error) shapes, worked out from the
 * model on first use and kept with the model: the traits a request or response needs, looked up
 * once instead of walking every member's cJSON node per call. Strings point into the model's
 * tree or into the binding itself; both live until the model is freed. */

/* What writing or reading one scalar needs of its member, list item or map value reference. */
typedef struct aws_rest_scalar {
    const char *type;       /* aws_shape_type of the resolved shape; NULL for a dangling reference */
    aws_scalar_type scalar; /* kind, timestampFormat and jsonvalue, as the scalar codec takes them */
} aws_rest_scalar;

typedef enum { AWS_LOC_URI, AWS_LOC_QUERY, AWS_LOC_HEADER, AWS_LOC_HEADERS, AWS_LOC_STATUS } aws_rest_loc;

typedef struct aws_rest_member {
    const char *name;    /* the member's name: the key in params or in the parsed data */
    size_t name_len;
    const char *wire;    /* request: the query or header name (the prefix for a headers map);
                          * response: the header name lower-cased, or the headers map's prefix
                          * (NULL: every header) */
    size_t wire_len;
    aws_rest_loc loc;
    int idempotency_token;
    int query_map;       /* a querystring map: written after every named parameter */
    int item_is_list;    /* a querystring map whose values are lists */
    aws_rest_scalar value; /* the member itself */
    aws_rest_scalar item;  /* the list's member or the map's value; for a map of lists the lists' member */
} aws_rest_member;

/* A piece of the requestUri's path: literal text, or a {label} (greedy: {Key+}). */
typedef struct aws_rest_segment {
    const char *text; /* the literal, or the label's name (without braces or '+') */
    size_t len;
    int label, greedy;
    const aws_rest_member *member; /* the label's member; NULL when the input shape has none */
} aws_rest_segment;

typedef struct aws_rest_input {
    const cJSON *shape; /* the resolved input shape, NULL when the operation has none */
    aws_rest_segment *segments;
    size_t nsegments;
    const char *query;  /* the requestUri's constant query (after '?'), NULL when none */
    size_t query_len;
    aws_rest_member *labels; /* the members segments point to */
    aws_rest_member *members; /* querystring, header and headers members in the order they are
                               * written: model order, querystring maps last */
    size_t nmembers;
    int has_query_map;
    int has_token;         /* one of `members` makes an idempotency token when unset */
    unsigned *by_name;     /* `members` by name, open addressing: index + 1, 0 for a free slot */
    size_t by_name_mask;
} aws_rest_input;

/* The hash by_name is keyed with. */
unsigned aws_rest_name_hash(const char *s, size_t len);

typedef struct aws_rest_output {
    aws_rest_member *members; /* statusCode, header and headers members, in model order */
    size_t nmembers;
    int needs_scratch; /* a member whose reading needs the guard's buffers (lists, blobs, jsonvalue) */
} aws_rest_output;

/* The binding of op's input / of an output or error shape, built on first use; raises an
 * out-of-memory error (owning no C memory by then) when it cannot be built. */
const aws_rest_input *aws_rest_input_binding(lua_State *L, const aws_model *m, const cJSON *op);
const aws_rest_output *aws_rest_output_binding(lua_State *L, const aws_model *m, const cJSON *shape);

#endif

/* Internals shared by rest.c (the HTTP binding of rest-json and rest-xml) and the JSON codec
 * (protocol_json.c, json_build.c, json_parse.c). Not part of the Lua-facing contract. */
#ifndef AWSPROMISE_PROTOCOL_JSON_H
#define AWSPROMISE_PROTOCOL_JSON_H

#include "protocol.h"
#include "strbuf.h"

#include <stdarg.h>

/* C memory held during a build or a parse lives in this userdata: a Lua error raised midway
 * (out of memory, a failing idempotency-token callback, a wrong parameter type) then frees it
 * through __gc instead of leaking it, and aws_guard_release frees it at once on the normal path. */
typedef struct aws_guard {
    strbuf sb[4];
    cJSON *json;
    char *text;        /* printed JSON (cJSON_Print*), freed with cJSON_free */
    const char **keys; /* scratch for sorting map keys; the strings belong to Lua tables */
    size_t nkeys, capkeys;
} aws_guard;

/* Pushes a new guard on the stack. */
aws_guard *aws_guard_push(lua_State *L);
/* Frees what the guard holds; it stays usable (and empty). */
void aws_guard_release(aws_guard *g);
/* Appends a key to g->keys (0 on out-of-memory). */
int aws_guard_add_key(aws_guard *g, const char *key);
/* Sorts g->keys bytewise, for deterministic output of Lua tables. */
void aws_guard_sort_keys(aws_guard *g);

/* Raises a SerializationError whose message is the formatted text. Never returns. */
int aws_raise_serialization(lua_State *L, const char *fmt, ...);
/* Raises an out-of-memory error naming `what`. Never returns. */
int aws_raise_oom(lua_State *L, const char *what);

/* The shortest decimal spelling of d that reads back as d ("1.1", not "1.1000000000000001");
 * NaN and infinities as "NaN", "Infinity", "-Infinity". Returns the length written. */
int aws_format_double(char buf[40], double d);
/* Reads the special float spellings; 1 and *out set when s is one of them. */
int aws_special_double(const char *s, double *out);

/* RFC 3986 percent-encoding (A-Z a-z 0-9 - _ . ~ kept); keep_slash keeps '/' too, for a greedy
 * URI label whose slashes separate path segments. */
void aws_percent_encode(strbuf *out, const char *s, size_t len, int keep_slash);

/* Timestamp formats and the text of t in one of them (`fmt` as in timestampFormat:
 * "iso8601", "rfc822", "unixTimestamp"). */
int aws_format_timestamp(strbuf *sb, const char *fmt, double t);
/* The number for a timestamp parameter at idx: a number, or a string in any format
 * aws_time_parse reads. Returns 0 when it is neither. */
int aws_timestamp_param(lua_State *L, int idx, double *out);

/* The JSON text of a jsonvalue parameter at idx: a string is taken as JSON text already; a table
 * (or other Lua value) is encoded as JSON. Returns 0 if the value cannot be encoded. */
int aws_jsonvalue_text(lua_State *L, int idx, strbuf *out);

/* ---- json_build.c ---- */
/* Pushes the JSON text of the members of structure `shape` taken from the table at `params`
 * ("{}" when none is set); skip_located leaves out members bound to the URI, query or headers. */
void aws_json_push_body(lua_State *L, const aws_model *m, const cJSON *shape, int params, int opts, int skip_located);
/* Pushes the JSON text of the one value at idx of the member `ref` (a rest-json payload);
 * `name` starts the parameter path in error messages. */
void aws_json_push_value(lua_State *L, const aws_model *m, const cJSON *ref, int idx, int opts, const char *name);

/* ---- json_parse.c ---- */
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

/* Shape types as one switchable value (integer/long/short/byte are INTEGER, float/double FLOAT). */
typedef enum {
    AWS_T_UNKNOWN, AWS_T_STRUCTURE, AWS_T_LIST, AWS_T_MAP, AWS_T_STRING, AWS_T_INTEGER,
    AWS_T_FLOAT, AWS_T_BOOLEAN, AWS_T_TIMESTAMP, AWS_T_BLOB
} aws_kind;
aws_kind aws_kind_of(const char *type);

/* 1 when an output member is read from the status line or headers rather than the body: a
 * "uri" or "querystring" location means nothing in a response, such members come in the body. */
int aws_rest_output_bound(const aws_model *m, const cJSON *member);

/* A member's wire name: locationName when present, else the member's own name. */
const char *aws_member_wire_name(const aws_model *m, const cJSON *member);

/* ---- rest_cache.c ---- */
/* The HTTP binding of an operation's input and of output (or error) shapes, worked out from the
 * model on first use and kept with the model: the traits a request or response needs, looked up
 * once instead of walking every member's cJSON node per call. Strings point into the model's
 * tree or into the binding itself; both live until the model is freed. */

/* What writing or reading one scalar needs of its member, list item or map value reference. */
typedef struct aws_rest_scalar {
    const char *type;             /* aws_shape_type of the resolved shape; NULL for a dangling reference */
    aws_kind kind;                /* aws_kind_of(type) */
    const char *timestamp_format; /* the timestampFormat trait, NULL when none */
    int jsonvalue;                /* the jsonvalue trait */
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

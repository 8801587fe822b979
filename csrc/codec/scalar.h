/* The one scalar codec: what each scalar kind accepts from Lua, how a value of a kind is spelled
 * on the wire (JSON, XML, query forms, URIs, query strings, headers), and how wire text reads
 * back into a value. Every protocol and the validator go through it, so a value builds (or is
 * refused) alike everywhere. It knows kinds, never models: model/shape.c maps a model's type
 * names and traits onto the aws_scalar_type below.
 *
 * The rule for Lua values, one for all protocols (JavaScript SDK v2's validator where it has one,
 * the stricter reading where the protocols used to disagree):
 *   string     a Lua string (a number is refused, as the JS validator does); a jsonvalue string
 *              also takes any JSON value (table, number, boolean, core.null), sent as its JSON text
 *   integer    a Lua integer, or a float with no fraction within 64 bits (3.0 yes, 1.5 no);
 *              numeric strings refused
 *   float      a number, or "NaN", "Infinity", "-Infinity"
 *   boolean    true or false only
 *   timestamp  epoch seconds (a finite number) or a string aws_time_parse reads
 *   blob       a Lua string (its bytes) */
#ifndef AWSPROMISE_CODEC_SCALAR_H
#define AWSPROMISE_CODEC_SCALAR_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

/* Shape types as one switchable value (integer/long/short/byte are INTEGER, float/double FLOAT). */
typedef enum {
    AWS_T_UNKNOWN, AWS_T_STRUCTURE, AWS_T_LIST, AWS_T_MAP, AWS_T_STRING, AWS_T_INTEGER,
    AWS_T_FLOAT, AWS_T_BOOLEAN, AWS_T_TIMESTAMP, AWS_T_BLOB
} aws_kind;

/* A member's timestampFormat; AWS_TIME_DEFAULT lets the place decide. */
typedef enum { AWS_TIME_DEFAULT, AWS_TIME_ISO8601, AWS_TIME_RFC822, AWS_TIME_UNIX } aws_time_format;
/* The format a timestampFormat trait names ("iso8601", "rfc822", "unixTimestamp"); DEFAULT for
 * NULL or a name it does not know. */
aws_time_format aws_time_format_named(const char *name);

/* Where a scalar travels: it picks the default timestamp format (unixTimestamp in JSON bodies,
 * rfc822 in headers, iso8601 elsewhere) and how a jsonvalue string is carried (base64 in headers). */
typedef enum { AWS_AT_JSON, AWS_AT_XML, AWS_AT_FORM, AWS_AT_URI, AWS_AT_QUERYSTRING, AWS_AT_HEADER } aws_place;

/* What the codec needs to know of a member beyond its kind. */
typedef struct aws_scalar_type {
    aws_kind kind;
    aws_time_format time_format;
    int jsonvalue;
} aws_scalar_type;

/* One scalar value. Strings and blobs point at bytes the caller keeps alive (a Lua string, or the
 * scratch buffer a jsonvalue or a base64 text was decoded into). */
typedef struct aws_scalar {
    aws_kind kind;
    int exact;         /* FLOAT: came as a Lua integer and keeps its integer spelling */
    int64_t integer;   /* INTEGER; FLOAT when exact */
    double number;     /* FLOAT, TIMESTAMP (epoch seconds) */
    int boolean;
    const char *bytes; /* STRING, BLOB */
    size_t len;
} aws_scalar;

typedef enum {
    AWS_SCALAR_OK,
    AWS_SCALAR_WRONG_TYPE,   /* a Lua type the kind does not take */
    AWS_SCALAR_NOT_INTEGRAL, /* a float with a fraction, or beyond 64 bits, for an integer */
    AWS_SCALAR_BAD_TIME,     /* a string that is no timestamp, or an infinite/NaN number */
    AWS_SCALAR_BAD_JSON,     /* a jsonvalue the JSON encoder refuses */
    AWS_SCALAR_NOT_SCALAR    /* the kind is no scalar kind (unknown, structure, list, map) */
} aws_scalar_status;

/* "a string", "an integer", ...: what the kind takes, for messages. */
const char *aws_kind_noun(aws_kind kind);

/* Reads the Lua value at idx as a scalar of type t (the rule above). A jsonvalue given as a JSON
 * value is encoded into `scratch` (reset first), which out->bytes then points into; with scratch
 * NULL it is only checked (out->bytes NULL). Raises only on out-of-memory. */
aws_scalar_status aws_scalar_from_lua(lua_State *L, int idx, const aws_scalar_type *t, aws_scalar *out,
                                      strbuf *scratch);
/* Pushes "an integer, got 1.5" (what t takes, then what came) for a value that was refused. */
const char *aws_scalar_push_mismatch(lua_State *L, int idx, const aws_scalar_type *t, aws_scalar_status why);

/* The timestamp format a value of type t takes at `place`. */
aws_time_format aws_scalar_time_format(const aws_scalar_type *t, aws_place place);
/* Appends the wire text of v, of type t, at `place`: integers exact, floats the shortest
 * spelling that reads back (NaN, Infinity, -Infinity), booleans true/false, timestamps in their
 * format, blobs base64, strings as they are (a jsonvalue in a header base64). Returns 0 when the
 * buffer failed. */
int aws_scalar_write(strbuf *out, const aws_scalar *v, const aws_scalar_type *t, aws_place place);
/* 1 when JSON carries the text of v bare (a number, true/false), 0 when as a JSON string
 * (non-finite floats, iso8601/rfc822 timestamps, blobs, strings). */
int aws_scalar_json_bare(const aws_scalar *v, const aws_scalar_type *t);

/* Reads wire text (surrounding white space ignored but for strings and blobs) as a value of type
 * t at `place`: integers whole (or an integral decimal), floats with the special spellings,
 * booleans "true"/"false", timestamps in any format aws_time_parse knows, blobs (and header
 * jsonvalues) base64-decoded into `scratch` (text that is not base64 is kept as it is).
 * Returns 1, 0 when the text does not read as the kind, -1 when scratch ran out of memory. */
int aws_scalar_parse(const aws_scalar_type *t, aws_place place, const char *s, size_t len, aws_scalar *out,
                     strbuf *scratch);
/* A number the wire carried as a number (JSON) read as kind: an integer must be integral within
 * 64 bits. Returns 0 when the kind takes no number. */
int aws_scalar_from_number(aws_kind kind, double d, aws_scalar *out);
/* Pushes v: integers as Lua integers, floats as floats, timestamps as epoch seconds (an integer
 * when whole), strings and blobs as strings. Only pushes: safe inside a parser callback. */
void aws_scalar_push(lua_State *L, const aws_scalar *v);

#endif

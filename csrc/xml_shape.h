/* Internals shared by the XML-speaking protocols: the shape-guided XML reader (xml_shape.c), the
 * query and ec2 codec (protocol_query.c) and rest-xml (protocol_xml.c). Not part of the
 * Lua-facing contract. */
#ifndef AWSPROMISE_XML_SHAPE_H
#define AWSPROMISE_XML_SHAPE_H

#include "protocol_json.h"

#include <expat.h>

/* ---- xml_shape.c ---- */

/* Reads the document element of `xml` as the structure `ref` (a member node, a reference or a
 * shape) into the table at `target`: members by element name, xmlAttribute members from the
 * element's attributes, unknown elements skipped, namespace prefixes ignored. `wrappers` is a
 * NULL-terminated list (or NULL) of element names that, from the document element down, are read
 * as the same structure as their parent (a query <OperationResult>, an <Error>). With skip_bound,
 * members bound to headers or the status code are left alone.
 * Returns 1, or 0 with *why set (a static string) when the text is not well-formed XML. Raises
 * only on out-of-memory, after freeing every C allocation. */
int aws_xml_read_structure(lua_State *L, const aws_model *m, const cJSON *ref, const char *xml, size_t len,
                           int target, const char *const *wrappers, int skip_bound, const char **why);

/* Hands the whole text to the parser as its final input, in pieces when it is longer than
 * XML_Parse's int length can say. */
enum XML_Status aws_xml_feed(XML_Parser p, const char *s, size_t len);
/* An element name without its namespace prefix ("s3:Key" -> "Key"). */
const char *aws_xml_local_part(const char *name);
/* XML white space: space, tab, CR, LF. */
int aws_xml_space(char ch);

/* ---- protocol_query.c ---- */

/* The kind of value a member or reference node stands for, with the resolved shape in *shape.
 * A node with neither "type" nor "shape" is a string: the JavaScript SDK's min.json models spell
 * plain strings as {} or {"locationName": ...}. */
aws_kind aws_xml_kind(const aws_model *m, const cJSON *ref, const cJSON **shape);

/* Pushes a sequence of the keys of the map table at idx, in the order a `__pairs` metamethod
 * gives when the table has one, else sorted bytewise (a stable wire order). Raises a
 * SerializationError naming `path` for a key that is not a string. */
void aws_push_map_keys(lua_State *L, int idx, const char *path);

/* Appends the text of the scalar at idx as `ref` types it (XML and query spelling: booleans
 * true/false, timestamps ISO 8601 unless timestampFormat says otherwise, blobs base64, floats
 * with NaN/Infinity). Returns 0 when the value does not fit the type (the caller raises);
 * -1 when the shape is not a scalar. */
int aws_scalar_text(lua_State *L, const aws_model *m, const cJSON *ref, int idx, strbuf *out);

/* A parameter value: nil and core.null (a light userdata) both mean unset. */
int aws_param_unset(lua_State *L, int idx);

/* ---- protocol_xml.c ---- */

/* The error fields of an AWS XML error body, whatever its flavour (S3 <Error>, query
 * <ErrorResponse><Error>, ec2 <Response><Errors><Error>): g->sb[0] Code, sb[1] Message,
 * sb[2] RequestId (or RequestID), sb[3] HostId; `have` flags bit i when sb[i] was found.
 * Pure C (no Lua call). Returns 0 when the text is not XML (or out of memory). */
int aws_xml_error_fields(aws_guard *g, const char *xml, size_t len, unsigned *have);

/* 1 when the document element of the text is <Error> (S3 reports some failures with status 200). */
int aws_xml_root_is_error(const char *xml, size_t len);

/* 1 when the text holds nothing but white space. */
int aws_xml_blank(const char *s, size_t len);

/* Builds the error of an XML protocol response and pushes false and the error table; returns 2.
 * `rest` parses members bound to headers (rest-xml). */
int aws_xml_push_error(lua_State *L, const aws_model *m, const cJSON *op, int response, int status, int headers,
                       const char *body, size_t blen, int rest);

#endif

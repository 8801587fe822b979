/* The XML side of the protocols: the shape-guided reader (xml_reader.c), the error reader that
 * S3, query and ec2 share (xml_error.c), and rest-xml (rest_xml.c). query/ builds on these. */
#ifndef AWSPROMISE_PROTOCOL_XML_H
#define AWSPROMISE_PROTOCOL_XML_H

#include "protocol/common.h"

/* xml_reader.c */

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

/* xml_error.c */

/* The error fields of an AWS XML error body, whatever its flavour (S3 <Error>, query
 * <ErrorResponse><Error>, ec2 <Response><Errors><Error>): g->sb[0] Code, sb[1] Message,
 * sb[2] RequestId (or RequestID), sb[3] HostId; `have` flags bit i when sb[i] was found.
 * Pure C (no Lua call). Returns 0 when the text is not XML (or out of memory). */
int aws_xml_error_fields(aws_guard *g, const char *xml, size_t len, unsigned *have);

/* 1 when the document element of the text is <Error> (S3 reports some failures with status 200). */
int aws_xml_root_is_error(const char *xml, size_t len);

/* Builds the error of an XML protocol response and pushes false and the error table; returns 2.
 * `rest` parses members bound to headers (rest-xml). */
int aws_xml_push_error(lua_State *L, const aws_model *m, const cJSON *op, int response, int status, int headers,
                       const char *body, size_t blen, int rest);

/* rest_xml.c: index arguments are absolute stack indexes, `op` the operation node. */
int aws_build_xml(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts);
int aws_parse_xml(lua_State *L, const aws_model *m, const cJSON *op, int response);

#endif

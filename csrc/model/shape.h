/* Shape kinds and member facts: what protocol code asks of a member beyond its raw traits. */
#ifndef AWSPROMISE_MODEL_SHAPE_H
#define AWSPROMISE_MODEL_SHAPE_H

#include "codec/scalar.h"
#include "model/model.h"

/* The kind a model type name stands for (integer/long/short/byte are INTEGER, float/double FLOAT);
 * AWS_T_UNKNOWN for NULL or a name the models do not use. */
aws_kind aws_kind_of(const char *type);

/* The kind of value a member or reference node stands for, with the resolved shape in *shape.
 * A node with neither "type" nor "shape" is a string: the JavaScript SDK's min.json models spell
 * plain strings as {} or {"locationName": ...}. */
aws_kind aws_xml_kind(const aws_model *m, const cJSON *ref, const cJSON **shape);

/* What the scalar codec needs of a member or reference node: its kind (as aws_xml_kind reads it),
 * its timestampFormat and its jsonvalue trait. */
aws_scalar_type aws_member_scalar_type(const aws_model *m, const cJSON *ref);

/* What the XML and query protocols need of a map member `ref` whose resolved shape is `shape`. */
typedef struct aws_map_parts {
    const cJSON *key, *value;          /* the key and value references */
    const char *key_name, *value_name; /* their locationName, NULL when they have none */
    int flattened;
} aws_map_parts;
aws_map_parts aws_map_parts_of(const aws_model *m, const cJSON *ref, const cJSON *shape);

/* A member's wire name: locationName when present, else the member's own name. */
const char *aws_member_wire_name(const aws_model *m, const cJSON *member);

/* 1 when an output member is read from the status line or headers rather than the body: a
 * "uri" or "querystring" location means nothing in a response, such members come in the body. */
int aws_rest_output_bound(const aws_model *m, const cJSON *member);

#endif

/* Shape kinds and member facts: what the protocols ask of a member beyond its raw traits. */
#include "model/shape.h"

#include <string.h>

aws_kind aws_kind_of(const char *type)
{
    if (!type)
        return AWS_T_UNKNOWN;
    /* the first letter settles most types without a string compare chain */
    switch (type[0]) {
    case 's':
        return strcmp(type, "structure") == 0 ? AWS_T_STRUCTURE
               : strcmp(type, "string") == 0  ? AWS_T_STRING
               : strcmp(type, "short") == 0   ? AWS_T_INTEGER
                                              : AWS_T_UNKNOWN;
    case 'l':
        return strcmp(type, "list") == 0 ? AWS_T_LIST : strcmp(type, "long") == 0 ? AWS_T_INTEGER : AWS_T_UNKNOWN;
    case 'm':
        return strcmp(type, "map") == 0 ? AWS_T_MAP : AWS_T_UNKNOWN;
    case 'i':
        return strcmp(type, "integer") == 0 ? AWS_T_INTEGER : AWS_T_UNKNOWN;
    case 'f':
        return strcmp(type, "float") == 0 ? AWS_T_FLOAT : AWS_T_UNKNOWN;
    case 'd':
        return strcmp(type, "double") == 0 ? AWS_T_FLOAT : AWS_T_UNKNOWN;
    case 'b':
        return strcmp(type, "boolean") == 0 ? AWS_T_BOOLEAN
               : strcmp(type, "blob") == 0  ? AWS_T_BLOB
               : strcmp(type, "byte") == 0  ? AWS_T_INTEGER
                                            : AWS_T_UNKNOWN;
    case 't':
        return strcmp(type, "timestamp") == 0 ? AWS_T_TIMESTAMP : AWS_T_UNKNOWN;
    default:
        return AWS_T_UNKNOWN;
    }
}

const char *aws_member_wire_name(const aws_model *m, const cJSON *member)
{
    (void)m;
    /* Only the member's own node: a locationName on a shared shape names list items in XML. */
    const char *name = aws_node_string(member, "locationName");
    return name ? name : member->string;
}

aws_kind aws_xml_kind(const aws_model *m, const cJSON *ref, const cJSON **shape)
{
    const cJSON *resolved = aws_model_resolve(m, ref);
    if (shape)
        *shape = resolved ? resolved : ref;
    if (resolved)
        return aws_kind_of(aws_shape_type(resolved));
    return cJSON_IsObject(ref) && !cJSON_GetObjectItemCaseSensitive(ref, "shape") ? AWS_T_STRING : AWS_T_UNKNOWN;
}

int aws_rest_output_bound(const aws_model *m, const cJSON *member)
{
    const char *loc = aws_model_trait_string(m, member, "location");
    return loc && (strcmp(loc, "header") == 0 || strcmp(loc, "headers") == 0 || strcmp(loc, "statusCode") == 0);
}

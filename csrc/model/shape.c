/* Shape kinds and member facts: what the protocols ask of a member beyond its raw traits. */
#include "model/shape.h"

#include <string.h>

aws_kind aws_kind_of(const char *type)
{
    static const struct {
        const char *name;
        aws_kind kind;
    } kinds[] = {
        {"structure", AWS_T_STRUCTURE}, {"string", AWS_T_STRING}, {"list", AWS_T_LIST},
        {"map", AWS_T_MAP}, {"integer", AWS_T_INTEGER}, {"long", AWS_T_INTEGER},
        {"boolean", AWS_T_BOOLEAN}, {"timestamp", AWS_T_TIMESTAMP}, {"blob", AWS_T_BLOB},
        {"double", AWS_T_FLOAT}, {"float", AWS_T_FLOAT}, {"short", AWS_T_INTEGER},
        {"byte", AWS_T_INTEGER},
    };
    if (!type)
        return AWS_T_UNKNOWN;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        /* the first letter rules out most names before a full compare */
        if (kinds[i].name[0] == type[0] && strcmp(kinds[i].name, type) == 0)
            return kinds[i].kind;
    /* JavaScript v2 normalizes "character" to a string */
    return strcmp(type, "character") == 0 ? AWS_T_STRING : AWS_T_UNKNOWN;
}

aws_scalar_type aws_member_scalar_type(const aws_model *m, const cJSON *ref)
{
    aws_scalar_type t = {aws_xml_kind(m, ref, NULL), AWS_TIME_DEFAULT, 0};
    /* each trait only means something to one kind: no lookup for the others */
    if (t.kind == AWS_T_TIMESTAMP)
        t.time_format = aws_time_format_named(aws_model_trait_string(m, ref, "timestampFormat"));
    else if (t.kind == AWS_T_STRING)
        t.jsonvalue = aws_model_trait_bool(m, ref, "jsonvalue");
    return t;
}

aws_map_parts aws_map_parts_of(const aws_model *m, const cJSON *ref, const cJSON *shape)
{
    aws_map_parts p;
    p.key = cJSON_GetObjectItemCaseSensitive(shape, "key");
    p.value = cJSON_GetObjectItemCaseSensitive(shape, "value");
    p.key_name = aws_node_string(p.key, "locationName");
    p.value_name = aws_node_string(p.value, "locationName");
    p.flattened = aws_model_trait_bool(m, ref, "flattened");
    return p;
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

/* query and ec2: form-encoded bodies, XML results read with the xml/ reader. */
#ifndef AWSPROMISE_PROTOCOL_QUERY_H
#define AWSPROMISE_PROTOCOL_QUERY_H

#include "protocol/common.h"

int aws_build_query(lua_State *L, const aws_model *m, const cJSON *op, int params, int opts);
int aws_parse_query(lua_State *L, const aws_model *m, const cJSON *op, int response);

#endif

/* libFuzzer target for the shape-guided XML reader (protocol/xml/xml_reader.c), the XML error
 * reader (protocol/xml/xml_error.c) and the REST header bindings, through core.parse_response of
 * a rest-xml operation: header-bound timestamps, integers, booleans, jsonvalue and a prefix map,
 * a status code member, and a body of nested structures, flattened and wrapped lists, maps,
 * attributes, timestamps and blobs. Seeds: fuzz/corpus/restxml_fuzz/. */
#include "harness.h"

static const char MODEL[] =
    "{\"metadata\":{\"protocol\":\"rest-xml\",\"endpointPrefix\":\"s3\",\"apiVersion\":\"2006-03-01\","
    "\"serviceId\":\"S3\"},"
    "\"operations\":{\"Op\":{\"name\":\"Op\",\"http\":{\"method\":\"GET\",\"requestUri\":\"/\"},"
    "\"output\":{\"shape\":\"Out\"}}},"
    "\"shapes\":{"
    "\"Out\":{\"type\":\"structure\",\"members\":{"
    "\"HTime\":{\"shape\":\"Time\",\"location\":\"header\",\"locationName\":\"x-time\"},"
    "\"HInt\":{\"shape\":\"Int\",\"location\":\"header\",\"locationName\":\"x-int\"},"
    "\"HBool\":{\"shape\":\"Bool\",\"location\":\"header\",\"locationName\":\"x-bool\"},"
    "\"HJson\":{\"shape\":\"Json\",\"location\":\"header\",\"locationName\":\"x-json\"},"
    "\"Meta\":{\"shape\":\"Meta\",\"location\":\"headers\",\"locationName\":\"x-amz-meta-\"},"
    "\"Status\":{\"shape\":\"Int\",\"location\":\"statusCode\"},"
    "\"Name\":{\"shape\":\"Str\"},\"Count\":{\"shape\":\"Long\"},\"When\":{\"shape\":\"Time\"},"
    "\"Data\":{\"shape\":\"Blob\"},\"Ok\":{\"shape\":\"Bool\"},\"Ratio\":{\"shape\":\"Dbl\"},"
    "\"Items\":{\"shape\":\"Items\"},\"Flat\":{\"shape\":\"Flat\",\"flattened\":true},"
    "\"Tags\":{\"shape\":\"Tags\"},\"Child\":{\"shape\":\"Out\"},"
    "\"Id\":{\"shape\":\"Str\",\"xmlAttribute\":true,\"locationName\":\"id\"}}},"
    "\"Items\":{\"type\":\"list\",\"member\":{\"shape\":\"Out\",\"locationName\":\"Item\"}},"
    "\"Flat\":{\"type\":\"list\",\"member\":{\"shape\":\"Str\"}},"
    "\"Tags\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\",\"locationName\":\"K\"},"
    "\"value\":{\"shape\":\"Str\",\"locationName\":\"V\"}},"
    "\"Meta\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\"},\"value\":{\"shape\":\"Str\"}},"
    "\"Str\":{\"type\":\"string\"},\"Long\":{\"type\":\"long\"},\"Int\":{\"type\":\"integer\"},"
    "\"Dbl\":{\"type\":\"double\"},\"Bool\":{\"type\":\"boolean\"},\"Time\":{\"type\":\"timestamp\"},"
    "\"Blob\":{\"type\":\"blob\"},\"Json\":{\"type\":\"string\",\"jsonvalue\":true}}}";

HARNESS_PARSE_TARGET(MODEL)

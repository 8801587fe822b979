/* libFuzzer target for the JSON reader (protocol/json/json_parse.c) and the JSON error reader,
 * through core.parse_response of a json-protocol operation whose output has every shape kind:
 * nested structures (recursive), lists, maps, timestamps, blobs, longs, doubles, booleans, a
 * jsonvalue string and a document. Seeds: fuzz/corpus/json_fuzz/. */
#include "harness.h"

static const char MODEL[] =
    "{\"metadata\":{\"protocol\":\"json\",\"jsonVersion\":\"1.1\",\"targetPrefix\":\"F\","
    "\"endpointPrefix\":\"f\",\"apiVersion\":\"2020-01-01\",\"serviceId\":\"F\"},"
    "\"operations\":{\"Op\":{\"name\":\"Op\",\"http\":{\"method\":\"POST\",\"requestUri\":\"/\"},"
    "\"output\":{\"shape\":\"Out\"},\"errors\":[{\"shape\":\"Bad\"}]}},"
    "\"shapes\":{"
    "\"Out\":{\"type\":\"structure\",\"members\":{\"S\":{\"shape\":\"Str\"},\"N\":{\"shape\":\"Long\"},"
    "\"I\":{\"shape\":\"Int\"},\"D\":{\"shape\":\"Dbl\"},\"B\":{\"shape\":\"Bool\"},\"T\":{\"shape\":\"Time\"},"
    "\"E\":{\"shape\":\"Epoch\"},\"Blob\":{\"shape\":\"Blob\"},\"L\":{\"shape\":\"List\"},\"M\":{\"shape\":\"Map\"},"
    "\"R\":{\"shape\":\"Out\"},\"J\":{\"shape\":\"Json\"},\"Doc\":{\"shape\":\"Doc\"},"
    "\"W\":{\"shape\":\"Str\",\"locationName\":\"wire\"}}},"
    "\"Bad\":{\"type\":\"structure\",\"members\":{\"message\":{\"shape\":\"Str\"},\"Extra\":{\"shape\":\"Int\"}},"
    "\"exception\":true},"
    "\"List\":{\"type\":\"list\",\"member\":{\"shape\":\"Out\"}},"
    "\"Map\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\"},\"value\":{\"shape\":\"List\"}},"
    "\"Str\":{\"type\":\"string\"},\"Long\":{\"type\":\"long\"},\"Int\":{\"type\":\"integer\"},"
    "\"Dbl\":{\"type\":\"double\"},\"Bool\":{\"type\":\"boolean\"},\"Time\":{\"type\":\"timestamp\"},"
    "\"Epoch\":{\"type\":\"timestamp\",\"timestampFormat\":\"iso8601\"},\"Blob\":{\"type\":\"blob\"},"
    "\"Json\":{\"type\":\"string\",\"jsonvalue\":true},"
    "\"Doc\":{\"type\":\"structure\",\"members\":{},\"document\":true}}}";

HARNESS_PARSE_TARGET(MODEL)

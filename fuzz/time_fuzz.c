/* libFuzzer target for the timestamp reader (codec/time.c): any text either parses to a time that
 * formats back in every spelling, or is refused; nothing in between may crash or overflow. */
#include "codec/time.h"
#include "core/strbuf.h"

#include <math.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    double t;
    if (!aws_time_parse((const char *)data, size, &t))
        return 0;
    if (isnan(t))
        abort(); /* a parsed time is a number */
    strbuf sb = STRBUF_INIT;
    aws_time_iso8601(&sb, t);
    sb_reset(&sb);
    aws_time_http(&sb, t);
    sb_reset(&sb);
    aws_time_epoch(&sb, t);
    sb_free(&sb);
    return 0;
}

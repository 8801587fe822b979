/* RFC 3986 percent-encoding, as URIs, query strings and SigV4 canonical requests want it. */
#ifndef AWSPROMISE_CODEC_PERCENT_H
#define AWSPROMISE_CODEC_PERCENT_H

#include <stddef.h>

#include "core/strbuf.h"

/* A-Z a-z 0-9 - _ . ~ kept, everything else %XX (upper-case hex); keep_slash keeps '/' too, for a
 * greedy URI label whose slashes separate path segments. */
void aws_percent_encode(strbuf *out, const char *s, size_t len, int keep_slash);

#endif

/* Base64 (RFC 4648) for blobs on the wire. */
#ifndef AWSPROMISE_CODEC_BASE64_H
#define AWSPROMISE_CODEC_BASE64_H

#include <stddef.h>

#include "core/strbuf.h"

int aws_base64_encode(strbuf *sb, const void *bytes, size_t n);
/* Returns 0 when the text is not base64 (white space is ignored). */
int aws_base64_decode(strbuf *sb, const char *text, size_t len);

#endif

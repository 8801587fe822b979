/* libFuzzer target for the event-stream decoder (codec/eventstream.c). The first input byte picks
 * a chunk size; the rest is fed in chunks of that size and, separately, all at once. Both feeds
 * must agree on the messages they give and on whether the stream fails: the decoder's answer may
 * not depend on where the bytes were cut. Every header of every message is read back.
 * Random bytes almost never carry right CRCs, which would stop every input at the prelude: when
 * the first byte's top bit is set, the CRCs of the messages the lengths lay out are made right
 * first, so the fuzzer reaches the lengths and headers behind them. */
#include "codec/digest.h"
#include "codec/eventstream.h"

#include <stdlib.h>
#include <string.h>

typedef struct digest {
    size_t messages;
    size_t bytes; /* headers and payloads seen */
    int failed;
} digest;

static void walk_headers(const aws_es_message *msg, digest *dg)
{
    const unsigned char *p = msg->headers, *end = msg->headers + msg->headers_len;
    aws_es_header h;
    int r;
    while ((r = aws_es_next_header(&p, end, &h)) == 1)
        dg->bytes += h.name_len + h.len;
    /* the decoder checked these headers when it handed the message out */
    if (r != 0)
        abort();
}

static void drain(aws_es_decoder *d, digest *dg)
{
    aws_es_message msg;
    aws_es_status s;
    while ((s = aws_es_next(d, &msg)) == AWS_ES_MESSAGE) {
        dg->messages++;
        dg->bytes += msg.payload_len;
        walk_headers(&msg, dg);
    }
    if (s == AWS_ES_ERROR)
        dg->failed = 1;
}

static digest decode(const unsigned char *data, size_t size, size_t chunk)
{
    digest dg = {0, 0, 0};
    aws_es_decoder d;
    aws_es_init(&d);
    for (size_t at = 0; at < size && !dg.failed; at += chunk) {
        size_t n = size - at < chunk ? size - at : chunk;
        if (!aws_es_feed(&d, data + at, n))
            break;
        drain(&d, &dg);
    }
    if (size == 0)
        drain(&d, &dg);
    aws_es_free(&d);
    return dg;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void fix_crcs(unsigned char *p, size_t size)
{
    size_t at = 0;
    while (size - at >= 12) {
        unsigned char *m = p + at;
        uint32_t total = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
        put_be32(m + 8, aws_crc32(m, 8));
        if (total < AWS_ES_OVERHEAD || total > size - at)
            return;
        put_be32(m + total - 4, aws_crc32(m, total - 4));
        at += total;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] & 0x7f) + 1;
    unsigned char *bytes = malloc(size);
    if (!bytes)
        return 0;
    memcpy(bytes, data + 1, size - 1);
    if (data[0] & 0x80)
        fix_crcs(bytes, size - 1);
    digest pieces = decode(bytes, size - 1, chunk);
    digest whole = decode(bytes, size - 1, size);
    free(bytes);
    if (pieces.failed != whole.failed || pieces.messages != whole.messages || pieces.bytes != whole.bytes)
        abort();
    return 0;
}

/* The event-stream decoder (eventstream.h): a buffer of fed bytes from which whole, checked
 * messages are taken in order. */
#include "codec/eventstream.h"

#include "codec/digest.h"

#include <stdio.h>
#include <string.h>

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be_n(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* A big-endian two's-complement integer of n bytes, sign-extended. */
static int64_t signed_be(const unsigned char *p, size_t n)
{
    uint64_t v = be_n(p, n);
    if (n < 8 && (v >> (8 * n - 1)) & 1)
        v |= ~(uint64_t)0 << (8 * n);
    return (int64_t)v;
}

void aws_es_init(aws_es_decoder *d)
{
    memset(d, 0, sizeof *d);
}

void aws_es_free(aws_es_decoder *d)
{
    sb_free(&d->buf);
    d->start = 0;
}

static aws_es_status fail(aws_es_decoder *d, const char *fmt, unsigned long a, unsigned long b)
{
    if (!d->failed)
        snprintf(d->error, sizeof d->error, fmt, a, b);
    d->failed = 1;
    return AWS_ES_ERROR;
}

int aws_es_feed(aws_es_decoder *d, const unsigned char *bytes, size_t n)
{
    if (d->failed)
        return 0;
    /* Messages handed out so far are done with: drop them so the buffer holds one message at most. */
    if (d->start > 0) {
        size_t rest = d->buf.len - d->start;
        if (rest)
            memmove(d->buf.data, d->buf.data + d->start, rest);
        d->buf.len = rest;
        d->start = 0;
    }
    if (n && !sb_append(&d->buf, (const char *)bytes, n)) {
        fail(d, "out of memory holding %lu bytes of an event stream%.0lu", (unsigned long)(d->buf.len + n), 0);
        return 0;
    }
    return 1;
}

size_t aws_es_pending(const aws_es_decoder *d)
{
    return d->buf.len - d->start;
}

int aws_es_next_header(const unsigned char **p, const unsigned char *end, aws_es_header *h)
{
    const unsigned char *at = *p;
    if (at >= end)
        return 0;
    size_t name_len = at[0];
    if (name_len == 0 || (size_t)(end - at) < 1 + name_len + 1)
        return -1;
    h->name = (const char *)at + 1;
    h->name_len = name_len;
    at += 1 + name_len;
    h->type = (aws_es_type)*at++;
    h->integer = 0;
    h->bytes = NULL;
    h->len = 0;
    size_t left = (size_t)(end - at);
    static const size_t fixed[] = {0, 0, 1, 2, 4, 8, 0, 0, 8, 16};
    switch (h->type) {
    case AWS_ES_TRUE:
    case AWS_ES_FALSE:
        h->integer = h->type == AWS_ES_TRUE;
        break;
    case AWS_ES_BYTE:
    case AWS_ES_SHORT:
    case AWS_ES_INT:
    case AWS_ES_LONG:
    case AWS_ES_TIMESTAMP:
        if (left < fixed[h->type])
            return -1;
        h->integer = signed_be(at, fixed[h->type]);
        at += fixed[h->type];
        break;
    case AWS_ES_UUID:
        if (left < 16)
            return -1;
        h->bytes = at;
        h->len = 16;
        at += 16;
        break;
    case AWS_ES_BYTES:
    case AWS_ES_STRING:
        if (left < 2 || left - 2 < be_n(at, 2))
            return -1;
        h->len = (size_t)be_n(at, 2);
        h->bytes = at + 2;
        at += 2 + h->len;
        break;
    default:
        return -1;
    }
    *p = at;
    return 1;
}

int aws_es_find_header(const aws_es_message *msg, const char *name, aws_es_header *h)
{
    size_t len = strlen(name);
    const unsigned char *p = msg->headers, *end = msg->headers + msg->headers_len;
    while (aws_es_next_header(&p, end, h) == 1)
        if (h->name_len == len && memcmp(h->name, name, len) == 0)
            return 1;
    return 0;
}

static int headers_well_formed(const unsigned char *p, const unsigned char *end)
{
    aws_es_header h;
    int r;
    while ((r = aws_es_next_header(&p, end, &h)) == 1)
        ;
    return r == 0;
}

aws_es_status aws_es_next(aws_es_decoder *d, aws_es_message *msg)
{
    if (d->failed)
        return AWS_ES_ERROR;
    size_t avail = d->buf.len - d->start;
    if (avail < 12)
        return AWS_ES_NEED_MORE;
    const unsigned char *m = (const unsigned char *)d->buf.data + d->start;
    uint32_t total = be32(m), headers_len = be32(m + 4);
    if (aws_crc32(m, 8) != be32(m + 8))
        return fail(d, "event stream prelude CRC mismatch (expected %08lx, got %08lx)", be32(m + 8),
                    aws_crc32(m, 8));
    if (total < AWS_ES_OVERHEAD || total > AWS_ES_MAX_MESSAGE)
        return fail(d, "event stream message length %lu out of range (16 to %lu)", total, AWS_ES_MAX_MESSAGE);
    if (headers_len > total - AWS_ES_OVERHEAD || headers_len > AWS_ES_MAX_HEADERS)
        return fail(d, "event stream headers length %lu does not fit a message of %lu bytes", headers_len, total);
    if (avail < total)
        return AWS_ES_NEED_MORE;
    uint32_t crc = aws_crc32(m, total - 4);
    if (crc != be32(m + total - 4))
        return fail(d, "event stream message CRC mismatch (expected %08lx, got %08lx)", be32(m + total - 4), crc);
    msg->headers = m + 12;
    msg->headers_len = headers_len;
    msg->payload = m + 12 + headers_len;
    msg->payload_len = total - AWS_ES_OVERHEAD - headers_len;
    if (!headers_well_formed(msg->headers, msg->headers + headers_len))
        return fail(d, "event stream message has malformed headers (%lu bytes of %lu)", headers_len, total);
    d->start += total;
    return AWS_ES_MESSAGE;
}

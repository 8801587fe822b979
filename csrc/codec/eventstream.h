/* The AWS event-stream wire format (application/vnd.amazon.eventstream), decoded as bytes arrive.
 *
 * A message is: total length (4 bytes, big-endian), headers length (4), CRC32 of those 8 bytes
 * (4), the headers, the payload, CRC32 of everything before it (4). A header is: name length (1),
 * name, type (1), value. Pure C: no Lua, no model; protocol/eventstream.c maps messages to events.
 *
 * Feed bytes in any pieces with aws_es_feed, then take whole messages with aws_es_next until it
 * asks for more. The decoder keeps at most one message plus the bytes fed after it, and refuses a
 * message longer than AWS_ES_MAX_MESSAGE, so a stream of any length is read in bounded memory. */
#ifndef AWSPROMISE_CODEC_EVENTSTREAM_H
#define AWSPROMISE_CODEC_EVENTSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

/* The limits the service side keeps to (16 MiB per message, 128 KiB of headers). */
#define AWS_ES_MAX_MESSAGE (16u * 1024u * 1024u)
#define AWS_ES_MAX_HEADERS (128u * 1024u)
/* Prelude (12) plus the message CRC (4): the smallest message there is. */
#define AWS_ES_OVERHEAD 16u

typedef enum {
    AWS_ES_TRUE = 0,
    AWS_ES_FALSE = 1,
    AWS_ES_BYTE = 2,
    AWS_ES_SHORT = 3,
    AWS_ES_INT = 4,
    AWS_ES_LONG = 5,
    AWS_ES_BYTES = 6,
    AWS_ES_STRING = 7,
    AWS_ES_TIMESTAMP = 8, /* milliseconds since the epoch */
    AWS_ES_UUID = 9
} aws_es_type;

/* One header; bytes point into the message. */
typedef struct aws_es_header {
    const char *name;
    size_t name_len;
    aws_es_type type;
    int64_t integer;           /* TRUE/FALSE (1/0), BYTE, SHORT, INT, LONG, TIMESTAMP */
    const unsigned char *bytes; /* BYTES, STRING, UUID (16 bytes) */
    size_t len;
} aws_es_header;

/* One whole message, both CRCs checked and its headers well formed; valid until the next feed. */
typedef struct aws_es_message {
    const unsigned char *headers;
    size_t headers_len;
    const unsigned char *payload;
    size_t payload_len;
} aws_es_message;

typedef struct aws_es_decoder {
    strbuf buf;    /* bytes fed and not yet taken */
    size_t start;  /* where the next message begins in buf */
    int failed;    /* set by the first error: the stream is over */
    char error[128];
} aws_es_decoder;

typedef enum { AWS_ES_NEED_MORE, AWS_ES_MESSAGE, AWS_ES_ERROR } aws_es_status;

void aws_es_init(aws_es_decoder *d);
void aws_es_free(aws_es_decoder *d);
/* Appends n bytes. Returns 0 (and fails the decoder) when out of memory or already failed. */
int aws_es_feed(aws_es_decoder *d, const unsigned char *bytes, size_t n);
/* The next whole message, NEED_MORE, or ERROR with d->error set (a bad length, a CRC mismatch,
 * malformed headers): once it reports an error it keeps reporting it. */
aws_es_status aws_es_next(aws_es_decoder *d, aws_es_message *msg);
/* Bytes fed that no whole message has taken yet: at the end of a stream, more than zero means
 * the last message was cut short. */
size_t aws_es_pending(const aws_es_decoder *d);

/* Reads the header at *p (below end) and moves *p past it: 1 when read, 0 at end, -1 when
 * malformed (a zero-length name, an unknown type, a value past end). */
int aws_es_next_header(const unsigned char **p, const unsigned char *end, aws_es_header *h);
/* Finds the header of that name in the message's headers; 1 when found. */
int aws_es_find_header(const aws_es_message *msg, const char *name, aws_es_header *h);

#endif

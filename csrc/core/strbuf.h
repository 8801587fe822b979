/* Growable byte buffer shared by the signer, the HTTP engine and the protocol codecs.
 * A failed allocation sets `failed` and every later append becomes a no-op, so a caller can
 * build a whole string and check for out-of-memory once at the end. */
#ifndef AWSPROMISE_STRBUF_H
#define AWSPROMISE_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *data;   /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    int failed;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0, 0}

int sb_reserve(strbuf *sb, size_t extra);
int sb_append(strbuf *sb, const char *bytes, size_t n);
int sb_puts(strbuf *sb, const char *s);
int sb_putc(strbuf *sb, char c);
/* Appends the lower-case hex spelling of n bytes. */
int sb_hex(strbuf *sb, const unsigned char *bytes, size_t n);
void sb_reset(strbuf *sb);
void sb_free(strbuf *sb);

#endif

#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

int sb_reserve(strbuf *sb, size_t extra)
{
    if (sb->failed)
        return 0;
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 1;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *grown = realloc(sb->data, cap);
    if (!grown) {
        sb->failed = 1;
        return 0;
    }
    sb->data = grown;
    sb->cap = cap;
    return 1;
}

int sb_append(strbuf *sb, const char *bytes, size_t n)
{
    if (!sb_reserve(sb, n))
        return 0;
    if (n)
        memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return 1;
}

int sb_puts(strbuf *sb, const char *s)
{
    return sb_append(sb, s, strlen(s));
}

int sb_putc(strbuf *sb, char c)
{
    if (!sb_reserve(sb, 1))
        return 0;
    sb->data[sb->len++] = c;
    sb->data[sb->len] = '\0';
    return 1;
}

int sb_hex(strbuf *sb, const unsigned char *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (!sb_reserve(sb, 2 * n))
        return 0;
    char *out = sb->data + sb->len;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    sb->len += 2 * n;
    sb->data[sb->len] = '\0';
    return 1;
}

void sb_reset(strbuf *sb)
{
    sb->len = 0;
    sb->failed = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

void sb_free(strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}

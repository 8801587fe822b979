/* Base64 as AWS uses it: standard alphabet out; standard or URL-safe alphabet in. */
#include "codec/base64.h"

#include <openssl/evp.h>
#include <stdint.h>

int aws_base64_encode(strbuf *sb, const void *bytes, size_t n)
{
    size_t out_len = 4 * ((n + 2) / 3);
    if (!sb_reserve(sb, out_len))
        return 0;
    /* EVP_EncodeBlock takes an int length: encode in chunks that fit (a multiple of 3). */
    const unsigned char *in = bytes;
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done > 3u * (1u << 28) ? 3u * (1u << 28) : n - done;
        int written = EVP_EncodeBlock((unsigned char *)sb->data + sb->len, in + done, (int)chunk);
        sb->len += (size_t)written;
        done += chunk;
    }
    sb->data[sb->len] = '\0';
    return 1;
}

static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int aws_base64_decode(strbuf *sb, const char *text, size_t len)
{
    if (!sb_reserve(sb, len / 4 * 3 + 3))
        return 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = base64_value(c);
        if (v < 0 || pad)
            return 0;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb->data[sb->len++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (pad > 2)
        return 0;
    sb->data[sb->len] = '\0';
    return 1;
}

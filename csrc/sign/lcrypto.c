/* core.crypto: md5, sha1, sha256, HMAC, CRC-32, base64 and RSA-SHA1 for the Lua layer
 * (customizations, AWS.util.crypto, SigV2).
 *
 * Every argument is read before anything is allocated; OpenSSL objects are freed before the
 * result is pushed or an error raised, so a Lua error never leaves one behind. */
#include <limits.h>
#include <string.h>

#include <lauxlib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "sign/lcrypto.h"

#include "codec/base64.h"
#include "codec/digest.h"
#include "codec/uuid.h"
#include "core/strbuf.h"

/* Pushes `n` digest bytes as raw bytes, or as lower-case hex when `hex`. */
static int push_bytes(lua_State *L, const unsigned char *out, unsigned int n, int hex)
{
    if (!hex) {
        lua_pushlstring(L, (const char *)out, n);
        return 1;
    }
    char text[2 * EVP_MAX_MD_SIZE];
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n; i++) {
        text[2 * i] = digits[out[i] >> 4];
        text[2 * i + 1] = digits[out[i] & 15];
    }
    lua_pushlstring(L, text, 2 * (size_t)n);
    return 1;
}

static int wants_hex(lua_State *L, int arg)
{
    return lua_isstring(L, arg) && strcmp(lua_tostring(L, arg), "hex") == 0;
}

/* digest(data[, "hex"]): raw bytes, or lower-case hex. */
static int push_digest(lua_State *L, const EVP_MD *md)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    int hex = wants_hex(L, 2);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!md || !EVP_Digest(data, len, out, &n, md, NULL))
        return luaL_error(L, "core.crypto: the digest failed (OpenSSL)");
    return push_bytes(L, out, n, hex);
}

static int l_md5(lua_State *L) { return push_digest(L, EVP_md5()); }
static int l_sha1(lua_State *L) { return push_digest(L, EVP_sha1()); }
static int l_sha256(lua_State *L) { return push_digest(L, EVP_sha256()); }

/* hmac(algorithm, key, data[, "hex"]): algorithm is "sha256", "sha1" or "md5". */
static int l_hmac(lua_State *L)
{
    static const char *const names[] = {"sha256", "sha1", "md5", NULL};
    int which = luaL_checkoption(L, 1, NULL, names);
    size_t key_len, len;
    const char *key = luaL_checklstring(L, 2, &key_len);
    const char *data = luaL_checklstring(L, 3, &len);
    int hex = wants_hex(L, 4);
    const EVP_MD *md = which == 0 ? EVP_sha256() : which == 1 ? EVP_sha1() : EVP_md5();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (key_len > INT_MAX || !md ||
        !HMAC(md, key, (int)key_len, (const unsigned char *)data, len, out, &n))
        return luaL_error(L, "core.crypto.hmac: HMAC failed (OpenSSL)");
    return push_bytes(L, out, n, hex);
}

/* uuid4() -> a random version 4 UUID (AWS.util.uuid.v4). */
static int l_uuid4(lua_State *L)
{
    char text[37];
    if (!aws_uuid4(text))
        return luaL_error(L, "core.crypto.uuid4: no randomness available");
    lua_pushstring(L, text);
    return 1;
}

/* crc32(data) -> the CRC-32 (IEEE) as an unsigned integer. */
static int l_crc32(lua_State *L)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    lua_pushinteger(L, (lua_Integer)aws_crc32((const unsigned char *)data, len));
    return 1;
}

/* The strbuf is freed before the push can raise: the text is copied out first by Lua. */
static int push_strbuf(lua_State *L, strbuf *sb, int ok, const char *what)
{
    if (!ok || sb->failed) {
        int out_of_memory = sb->failed;
        sb_free(sb);
        if (out_of_memory)
            return luaL_error(L, "core.crypto.%s: out of memory", what);
        lua_pushnil(L);
        lua_pushfstring(L, "core.crypto.%s: not base64", what);
        return 2;
    }
    luaL_Buffer b;
    char *dst = luaL_buffinitsize(L, &b, sb->len);
    if (sb->len)
        memcpy(dst, sb->data, sb->len);
    size_t len = sb->len;
    sb_free(sb); /* before luaL_pushresultsize, which may raise */
    luaL_pushresultsize(&b, len);
    return 1;
}

/* base64_encode(bytes) -> text; base64_decode(text) -> bytes, or nil and a message. */
static int base64_run(lua_State *L, int decode)
{
    size_t len;
    const char *in = luaL_checklstring(L, 1, &len);
    luaL_checkstack(L, 4, NULL);
    strbuf sb = STRBUF_INIT;
    int ok = decode ? aws_base64_decode(&sb, in, len) : aws_base64_encode(&sb, in, len);
    if (ok && sb.len == 0)
        ok = sb_append(&sb, "", 0);
    return push_strbuf(L, &sb, ok, decode ? "base64_decode" : "base64_encode");
}

static int l_base64_encode(lua_State *L) { return base64_run(L, 0); }
static int l_base64_decode(lua_State *L) { return base64_run(L, 1); }

/* rsa_sha1(private_key_pem, data) -> signature bytes, or nil and a message for a bad key. */
static int l_rsa_sha1(lua_State *L)
{
    size_t key_len, data_len;
    const char *key = luaL_checklstring(L, 1, &key_len);
    const char *data = luaL_checklstring(L, 2, &data_len);
    luaL_checkstack(L, 4, NULL);
    unsigned char sig[1024]; /* RSA keys up to 8192 bits */
    size_t sig_len = sizeof sig;
    const char *problem = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *ctx = NULL;
    BIO *bio = BIO_new_mem_buf(key, (int)key_len);
    if (!bio || key_len > 65536)
        problem = "cannot read the private key";
    else if (!(pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)))
        problem = "the private key is not a PEM private key";
    else if (EVP_PKEY_get_size(pkey) > (int)sizeof sig)
        problem = "the private key is too large";
    else if (!(ctx = EVP_MD_CTX_new()))
        problem = "out of memory";
    else if (EVP_DigestSignInit(ctx, NULL, EVP_sha1(), NULL, pkey) != 1 ||
             EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)data, data_len) != 1)
        problem = "signing failed (is it an RSA key?)";
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    if (problem) {
        lua_pushnil(L);
        lua_pushfstring(L, "core.crypto.rsa_sha1: %s", problem);
        return 2;
    }
    lua_pushlstring(L, (const char *)sig, sig_len);
    return 1;
}

void aws_open_crypto(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"md5", l_md5},
        {"sha1", l_sha1},
        {"sha256", l_sha256},
        {"hmac", l_hmac},
        {"crc32", l_crc32},
        {"uuid4", l_uuid4},
        {"base64_encode", l_base64_encode},
        {"base64_decode", l_base64_decode},
        {"rsa_sha1", l_rsa_sha1},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "crypto");
}

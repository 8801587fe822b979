/* core.crypto: the digests, base64 and RSA signature the service customizations need
 * (SQS MD5 checks, Glacier tree hashes, CloudFront signed URLs). */
#ifndef AWSPROMISE_SIGN_LCRYPTO_H
#define AWSPROMISE_SIGN_LCRYPTO_H

#include <lua.h>

/* Sets core.crypto in the module table on top of the stack. */
void aws_open_crypto(lua_State *L);

#endif

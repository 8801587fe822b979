/* Random version 4 UUIDs (idempotency tokens). */
#ifndef AWSPROMISE_CODEC_UUID_H
#define AWSPROMISE_CODEC_UUID_H

/* A random version 4 UUID, lower-case, 36 characters and a NUL. Returns 0 if no randomness. */
int aws_uuid4(char out[37]);

#endif

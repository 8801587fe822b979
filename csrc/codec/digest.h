/* Checksums of bodies. */
#ifndef AWSPROMISE_CODEC_DIGEST_H
#define AWSPROMISE_CODEC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, the one in DynamoDB's x-amz-crc32 header). */
uint32_t aws_crc32(const unsigned char *p, size_t n);

#endif

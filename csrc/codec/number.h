/* Numbers as text, as the AWS protocols spell them. */
#ifndef AWSPROMISE_CODEC_NUMBER_H
#define AWSPROMISE_CODEC_NUMBER_H

#include <stdint.h>

/* The decimal spelling of an integer, every digit kept. Returns the length written. */
int aws_format_integer(char buf[24], int64_t v);
/* The shortest decimal spelling of d that reads back as d ("1.1", not "1.1000000000000001");
 * NaN and infinities as "NaN", "Infinity", "-Infinity". The decimal point is '.' whatever the locale. Returns the length written. */
int aws_format_double(char buf[40], double d);
/* Reads the special float spellings; 1 and *out set when s is one of them. */
int aws_special_double(const char *s, double *out);

#endif

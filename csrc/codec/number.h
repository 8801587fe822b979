/* Numbers as text, as the AWS protocols spell them. */
#ifndef AWSPROMISE_CODEC_NUMBER_H
#define AWSPROMISE_CODEC_NUMBER_H

/* The shortest decimal spelling of d that reads back as d ("1.1", not "1.1000000000000001");
 * NaN and infinities as "NaN", "Infinity", "-Infinity". Returns the length written. */
int aws_format_double(char buf[40], double d);
/* Reads the special float spellings; 1 and *out set when s is one of them. */
int aws_special_double(const char *s, double *out);

#endif

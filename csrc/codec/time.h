/* Timestamps in the spellings AWS uses: ISO 8601, HTTP date, epoch seconds. */
#ifndef AWSPROMISE_CODEC_TIME_H
#define AWSPROMISE_CODEC_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (no time zone involved). */
int64_t aws_days_from_civil(int64_t y, int m, int d);
/* Reads exactly n decimal digits at s into *out; 0 when fewer than n bytes lie before end or
 * one of them is not a digit. */
int aws_digits(const char *s, const char *end, int n, int *out);

/* 1 when t (epoch seconds) lies in years 0001 to 9999, the years every spelling can hold; beyond
 * them time_t conversions and gmtime_r stop being defined. */
int aws_time_in_range(double t);

/* Parses ISO 8601 (2014-04-29T18:30:38Z, fractions, +hh:mm offsets, a space for T, a date
 * alone), an HTTP date (Tue, 29 Apr 2014 18:30:38 GMT) or epoch seconds ("1398796238.5").
 * Returns 1 and the epoch seconds in *out, or 0 when the text is none of these or lies outside
 * aws_time_in_range. The formatters below return 0 for a time outside it. */
int aws_time_parse(const char *s, size_t len, double *out);
/* 2014-04-29T18:30:38Z; with .sss when t has a fractional part (millisecond precision). */
int aws_time_iso8601(strbuf *sb, double t);
/* Tue, 29 Apr 2014 18:30:38 GMT (whole seconds). */
int aws_time_http(strbuf *sb, double t);
/* Epoch seconds: an integer when whole, else up to millisecond precision without trailing 0s. */
int aws_time_epoch(strbuf *sb, double t);

/* The text of t in a timestampFormat ("iso8601", "rfc822", "unixTimestamp"; NULL: iso8601). */
int aws_format_timestamp(strbuf *sb, const char *fmt, double t);

#endif

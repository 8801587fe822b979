/* Timestamps: the ISO 8601, HTTP-date and epoch-seconds spellings AWS uses, read and written. */
#include "codec/time.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* By hand rather than timegm, which is not C11 and may consult TZ. Eras of 400 years start on
 * March 1st so that leap days come last. */
int64_t aws_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int aws_digits(const char *s, const char *end, int n, int *out)
{
    if (end - s < n)
        return 0;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int parse_iso8601(const char *s, const char *end, double *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!aws_digits(s, end, 4, &y) || end - s < 10 || s[4] != '-' || !aws_digits(s + 5, end, 2, &mo) ||
        s[7] != '-' || !aws_digits(s + 8, end, 2, &d))
        return 0;
    const char *p = s + 10;
    double frac = 0;
    int offset = 0;
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (!aws_digits(p, end, 2, &h) || end - p < 5 || p[2] != ':' || !aws_digits(p + 3, end, 2, &mi))
            return 0;
        p += 5;
        if (p < end && *p == ':') {
            if (!aws_digits(p + 1, end, 2, &sec))
                return 0;
            p += 3;
        }
        if (p < end && (*p == '.' || *p == ',')) {
            double scale = 0.1;
            p++;
            while (p < end && *p >= '0' && *p <= '9') {
                frac += (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (!aws_digits(p, end, 2, &oh))
                return 0;
            p += 2;
            if (p < end && *p == ':')
                p++;
            if (p < end && aws_digits(p, end, 2, &om))
                p += 2;
            offset = sign * (oh * 3600 + om * 60);
        }
    }
    if (p != end || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60)
        return 0;
    *out = (double)(aws_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset) + frac;
    return 1;
}

static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char day_names[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

static int parse_http_date(const char *s, const char *end, double *out)
{
    /* Tue, 29 Apr 2014 18:30:38 GMT */
    const char *p = memchr(s, ',', (size_t)(end - s));
    p = p ? p + 1 : s;
    while (p < end && *p == ' ')
        p++;
    int d, y, h, mi, sec, mo = -1;
    if (!aws_digits(p, end, 2, &d)) {
        if (!aws_digits(p, end, 1, &d))
            return 0;
        p += 1;
    } else {
        p += 2;
    }
    if (end - p < 5 || (*p != ' ' && *p != '-'))
        return 0;
    p++;
    for (int i = 0; i < 12; i++)
        if (strncmp(p, month_names[i], 3) == 0)
            mo = i + 1;
    if (mo < 0)
        return 0;
    p += 4;
    if (!aws_digits(p, end, 4, &y))
        return 0;
    p += 5;
    if (!aws_digits(p, end, 2, &h) || end - p < 8 || p[2] != ':' || !aws_digits(p + 3, end, 2, &mi) || p[5] != ':' ||
        !aws_digits(p + 6, end, 2, &sec))
        return 0;
    *out = (double)(aws_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
    return 1;
}

static int parse_epoch(const char *s, const char *end, double *out)
{
    char tmp[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *stop;
    double v = strtod(tmp, &stop);
    if (*stop || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

#define FIRST_SECOND_OF_YEAR_1 (-62135596800.0)
#define LAST_SECOND_OF_YEAR_9999 253402300799.999

int aws_time_in_range(double t)
{
    return t >= FIRST_SECOND_OF_YEAR_1 && t <= LAST_SECOND_OF_YEAR_9999; /* NaN fails both */
}

static int parse_any(const char *s, size_t len, double *out)
{
    const char *end = s + len;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end - s >= 10 && s[4] == '-')
        return parse_iso8601(s, end, out);
    if (end - s >= 20 && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return parse_http_date(s, end, out);
    return parse_epoch(s, end, out);
}

int aws_time_parse(const char *s, size_t len, double *out)
{
    return parse_any(s, len, out) && aws_time_in_range(*out);
}

static void split_time(double t, struct tm *tm, int *millis)
{
    double whole = floor(t);
    *millis = (int)llround((t - whole) * 1000.0);
    if (*millis >= 1000) {
        whole += 1;
        *millis -= 1000;
    }
    time_t secs = (time_t)whole;
    gmtime_r(&secs, tm);
}

int aws_time_iso8601(strbuf *sb, double t)
{
    if (!aws_time_in_range(t))
        return 0;
    struct tm tm;
    int millis;
    split_time(t, &tm, &millis);
    char buf[40];
    int n;
    if (millis)
        n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    else
        n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return sb_append(sb, buf, (size_t)n);
}

int aws_time_http(strbuf *sb, double t)
{
    if (!aws_time_in_range(t))
        return 0;
    struct tm tm;
    time_t secs = (time_t)floor(t);
    gmtime_r(&secs, &tm);
    int64_t days = (int64_t)floor(t / 86400.0);
    int weekday = (int)(((days % 7) + 7) % 7);
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[weekday], tm.tm_mday,
                     month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return sb_append(sb, buf, (size_t)n);
}

int aws_time_epoch(strbuf *sb, double t)
{
    char buf[48];
    int n;
    if (t == floor(t) && fabs(t) < 9e15) {
        n = snprintf(buf, sizeof buf, "%lld", (long long)t);
    } else {
        n = snprintf(buf, sizeof buf, "%.3f", t);
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
    }
    return sb_append(sb, buf, (size_t)n);
}

int aws_format_timestamp(strbuf *sb, const char *fmt, double t)
{
    if (fmt && strcmp(fmt, "unixTimestamp") == 0)
        return aws_time_epoch(sb, t);
    if (fmt && strcmp(fmt, "rfc822") == 0)
        return aws_time_http(sb, t);
    return aws_time_iso8601(sb, t);
}

/* Numbers as text: the shortest spelling that reads back exactly, and the special floats. */
#include "codec/number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aws_format_integer(char buf[24], int64_t v)
{
    return snprintf(buf, 24, "%lld", (long long)v);
}

int aws_format_double(char buf[40], double d)
{
    if (isnan(d))
        return snprintf(buf, 40, "NaN");
    if (isinf(d))
        return snprintf(buf, 40, d > 0 ? "Infinity" : "-Infinity");
    /* %.17g always round-trips but spells 1.1 as 1.1000000000000001: take the shortest that does. */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, 40, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    for (char *p = buf; *p; p++) /* a locale with a decimal comma */
        if (*p == ',')
            *p = '.';
    return n;
}

int aws_special_double(const char *s, double *out)
{
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = HUGE_VAL;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -HUGE_VAL;
    else
        return 0;
    return 1;
}

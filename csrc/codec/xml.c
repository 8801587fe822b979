/* XML helpers over expat that the Lua binding and the protocols share. */
#include "codec/xml.h"

#include <limits.h>
#include <string.h>

/* XML_Parse takes an int length: feed larger documents in pieces. */
enum XML_Status aws_xml_feed(XML_Parser p, const char *s, size_t len)
{
    enum XML_Status st = XML_STATUS_OK;
    size_t off = 0;
    do {
        size_t chunk = len - off > (size_t)(INT_MAX / 2) ? (size_t)(INT_MAX / 2) : len - off;
        st = XML_Parse(p, s + off, (int)chunk, off + chunk == len);
        off += chunk;
    } while (st == XML_STATUS_OK && off < len);
    return st;
}

const char *aws_xml_local_part(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

int aws_xml_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int aws_xml_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!aws_xml_space(s[i]))
            return 0;
    return 1;
}

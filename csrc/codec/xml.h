/* Small XML helpers over expat, shared by the Lua binding (lxml.c) and the XML protocols. */
#ifndef AWSPROMISE_CODEC_XML_H
#define AWSPROMISE_CODEC_XML_H

#include <stddef.h>

#include <expat.h>

/* Hands the whole text to the parser as its final input, in pieces when it is longer than
 * XML_Parse's int length can say. */
enum XML_Status aws_xml_feed(XML_Parser p, const char *s, size_t len);
/* An element name without its namespace prefix ("s3:Key" -> "Key"). */
const char *aws_xml_local_part(const char *name);
/* XML white space: space, tab, CR, LF. */
int aws_xml_space(char ch);
/* 1 when the text holds nothing but white space. */
int aws_xml_blank(const char *s, size_t len);

#endif

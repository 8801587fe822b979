/* XML for the query and REST-XML protocols: core.xml_decode(str) and core.xml_decode_safe(str).
 *
 * The result is the document element as a tree of tables:
 *   { name = "ListBucketResult",     -- local name: namespace prefixes are dropped
 *     ns = "http://s3.amazonaws.com/doc/2006-03-01/",   -- namespace URI, absent when none
 *     attrs = { type = "CanonicalUser", ... },           -- attribute local names; always a table
 *     [1] = child element or text string, [2] = ..., }   -- document order
 * Adjacent character data (text, CDATA, entity references) is one string. Whitespace-only text
 * between child elements is dropped; an element holding only text keeps it verbatim, so that
 * <Key> </Key> still reads " ". Comments, processing instructions and the DOCTYPE are skipped;
 * external entities are never loaded.
 *
 * Expat calls back from inside XML_Parse, where a Lua error would longjmp over expat's frames.
 * So the callbacks build a C tree and only record failures (stopping the parser); the tree is
 * converted to Lua after XML_Parse has returned, inside a protected call, and freed either way. */
#include "codec/lxml.h"

#include "codec/ljson.h"
#include "codec/xml.h"
#include "core/error.h"
#include <lauxlib.h>

#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define XML_MAX_DEPTH 512
/* Cannot occur in well-formed XML names or (since expat 2.4.5 rejects it) in namespace URIs. */
#define NS_SEP '\x1F'

typedef struct xnode xnode;

typedef struct {
    xnode *el;          /* NULL for a text child */
    char *text;
    size_t len, cap;
} xchild;

struct xnode {
    char *name;
    char *ns;           /* NULL when the element is in no namespace */
    char **attrs;       /* local name, value, local name, value, ... */
    size_t nattrs;      /* pairs */
    xchild *kids;
    size_t nkids, capkids;
    size_t nelems;
    xnode *parent;
};

typedef struct {
    XML_Parser parser;
    xnode *root;
    xnode *cur;
    int depth;
    const char *failed; /* set by a callback; the parser is stopped */
} xctx;

static void free_node(xnode *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->ns);
    for (size_t i = 0; i < 2 * n->nattrs; i++)
        free(n->attrs[i]);
    free(n->attrs);
    for (size_t i = 0; i < n->nkids; i++) {
        free_node(n->kids[i].el);
        free(n->kids[i].text);
    }
    free(n->kids);
    free(n);
}

static void stop(xctx *c, const char *why)
{
    if (!c->failed)
        c->failed = why;
    XML_StopParser(c->parser, XML_FALSE);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Splits expat's "uri<SEP>local" into its parts; `ns` may be left NULL. Returns 0 on OOM. */
static int split_name(const char *full, char **local, char **ns)
{
    const char *sep = strrchr(full, NS_SEP);
    if (ns)
        *ns = NULL;
    if (!sep) {
        *local = dup_n(full, strlen(full));
        return *local != NULL;
    }
    *local = dup_n(sep + 1, strlen(sep + 1));
    if (!*local)
        return 0;
    if (ns) {
        *ns = dup_n(full, (size_t)(sep - full));
        if (!*ns) {
            free(*local);
            *local = NULL;
            return 0;
        }
    }
    return 1;
}

static xchild *add_child(xnode *parent)
{
    if (parent->nkids == parent->capkids) {
        size_t cap = parent->capkids ? parent->capkids * 2 : 4;
        xchild *grown = realloc(parent->kids, cap * sizeof *grown);
        if (!grown)
            return NULL;
        parent->kids = grown;
        parent->capkids = cap;
    }
    xchild *k = &parent->kids[parent->nkids++];
    memset(k, 0, sizeof *k);
    return k;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xctx *c = ud;
    if (c->failed)
        return;
    if (c->depth >= XML_MAX_DEPTH) {
        stop(c, "elements nested deeper than 512 levels");
        return;
    }
    xnode *n = calloc(1, sizeof *n);
    if (!n) {
        stop(c, "out of memory");
        return;
    }
    size_t natts = 0;
    while (atts[2 * natts])
        natts++;
    if (!split_name(name, &n->name, &n->ns) ||
        (natts && !(n->attrs = calloc(2 * natts, sizeof *n->attrs)))) {
        free_node(n);
        stop(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < natts; i++) {
        n->nattrs = i + 1; /* free_node frees what was filled so far */
        if (!split_name(atts[2 * i], &n->attrs[2 * i], NULL) ||
            !(n->attrs[2 * i + 1] = dup_n(atts[2 * i + 1], strlen(atts[2 * i + 1])))) {
            free_node(n);
            stop(c, "out of memory");
            return;
        }
    }
    if (c->cur) {
        xchild *k = add_child(c->cur);
        if (!k) {
            free_node(n);
            stop(c, "out of memory");
            return;
        }
        k->el = n;
        c->cur->nelems++;
        n->parent = c->cur;
    } else {
        c->root = n;
    }
    c->cur = n;
    c->depth++;
}

static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xctx *c = ud;
    (void)name;
    if (c->failed || !c->cur)
        return;
    xnode *n = c->cur;
    if (n->nelems) { /* indentation between child elements is not content */
        size_t w = 0;
        for (size_t i = 0; i < n->nkids; i++) {
            xchild *k = &n->kids[i];
            if (!k->el && all_space(k->text, k->len)) {
                free(k->text);
                continue;
            }
            n->kids[w++] = *k;
        }
        n->nkids = w;
    }
    c->cur = n->parent;
    c->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xctx *c = ud;
    if (c->failed || !c->cur || len <= 0)
        return;
    xnode *n = c->cur;
    xchild *k = n->nkids ? &n->kids[n->nkids - 1] : NULL;
    if (!k || k->el) {
        k = add_child(n);
        if (!k) {
            stop(c, "out of memory");
            return;
        }
    }
    size_t need = k->len + (size_t)len + 1;
    if (need > k->cap) {
        size_t cap = k->cap ? k->cap : 32;
        while (cap < need)
            cap *= 2;
        char *grown = realloc(k->text, cap);
        if (!grown) {
            stop(c, "out of memory");
            return;
        }
        k->text = grown;
        k->cap = cap;
    }
    memcpy(k->text + k->len, s, (size_t)len);
    k->len += (size_t)len;
    k->text[k->len] = '\0';
}

/* ---------------------------------------------------------------- to Lua */

static void push_node(lua_State *L, const xnode *n)
{
    luaL_checkstack(L, 4, "xml_decode: nesting too deep");
    lua_createtable(L, n->nkids > INT_MAX ? INT_MAX : (int)n->nkids, 3);
    lua_pushstring(L, n->name);
    lua_setfield(L, -2, "name");
    if (n->ns) {
        lua_pushstring(L, n->ns);
        lua_setfield(L, -2, "ns");
    }
    lua_createtable(L, 0, n->nattrs > INT_MAX ? INT_MAX : (int)n->nattrs);
    for (size_t i = 0; i < n->nattrs; i++) {
        lua_pushstring(L, n->attrs[2 * i + 1]);
        lua_setfield(L, -2, n->attrs[2 * i]);
    }
    lua_setfield(L, -2, "attrs");
    for (size_t i = 0; i < n->nkids; i++) {
        const xchild *k = &n->kids[i];
        if (k->el)
            push_node(L, k->el);
        else
            lua_pushlstring(L, k->text, k->len);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int push_tree(lua_State *L)
{
    push_node(L, lua_touserdata(L, 1));
    return 1;
}

/* Returns 1 with the tree pushed, or 0 with an error message pushed. */
static int decode(lua_State *L, const char *s, size_t len)
{
    xctx c = {0};
    c.parser = XML_ParserCreateNS(NULL, NS_SEP);
    if (!c.parser) {
        lua_pushstring(L, "xml_decode: out of memory");
        return 0;
    }
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, on_start, on_end);
    XML_SetCharacterDataHandler(c.parser, on_text);

    enum XML_Status st = aws_xml_feed(c.parser, s, len);

    if (st != XML_STATUS_OK || c.failed || !c.root) {
        if (c.failed) {
            lua_pushfstring(L, "xml_decode: %s at line %d, column %d", c.failed,
                            (int)XML_GetCurrentLineNumber(c.parser),
                            (int)XML_GetCurrentColumnNumber(c.parser) + 1);
        } else {
            enum XML_Error code = XML_GetErrorCode(c.parser);
            const char *what = code == XML_ERROR_NONE ? "no element found" : XML_ErrorString(code);
            lua_pushfstring(L, "xml_decode: %s at line %d, column %d", what ? what : "parse error",
                            (int)XML_GetCurrentLineNumber(c.parser),
                            (int)XML_GetCurrentColumnNumber(c.parser) + 1);
        }
        XML_ParserFree(c.parser);
        free_node(c.root);
        return 0;
    }
    XML_ParserFree(c.parser);
    lua_pushcfunction(L, push_tree);
    lua_pushlightuserdata(L, c.root);
    int status = lua_pcall(L, 1, 1, 0);
    free_node(c.root);
    return status == LUA_OK;
}

static int l_xml_decode(lua_State *L)
{
    return aws_decode_call(L, decode, NULL);
}

static int l_xml_decode_safe(lua_State *L)
{
    return aws_decode_call(L, decode, "xml_decode: failed (non-string error)");
}

void aws_open_xml(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"xml_decode", l_xml_decode},
        {"xml_decode_safe", l_xml_decode_safe},
        {NULL, NULL},
    };
    luaL_setfuncs(L, functions, 0);
}

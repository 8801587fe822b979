/* The shape-guided XML reader of the XML protocols (query, ec2, rest-xml): expat streams the
 * document and each element is read straight into Lua values as the model's shape for it says,
 * so no intermediate tree is built and a 1 MB reply costs one pass.
 *
 * Expat calls back from inside XML_Parse, where a Lua error would longjmp over expat's frames.
 * The whole parse therefore runs inside a lua_pcall'd C function, and every C allocation it makes
 * (the text buffers, the shape caches) hangs off a context that the caller frees whether the
 * pcall returns normally or with a memory error, then re-raises. Expat itself cannot be freed
 * after such a jump (XML_ParserFree refuses a parser still "inside a handler"), so its memory
 * comes from a tracking allocator: after a jump every block it still holds is freed directly.
 * Inside the callbacks the only Lua calls are pushes, table creation and raw sets on fresh tables
 * (no metamethods run; a finalizer the collector runs meanwhile has its errors turned into
 * warnings by Lua), so a memory error is the only error that can escape them. Everything
 * else (too deep, a C allocation failing) is recorded in `failed` and stops the parser. */
#include "protocol/xml/xml.h"

#include "codec/xml.h"

#include <expat.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* DescribeInstances nests about 12 deep; this only bounds hostile input. */
#define XML_SHAPE_MAX_DEPTH 200

/* ---------------------------------------------------------------- expat's memory */

/* Each block expat allocates is linked into the list of the parse that allocated it (a circular
 * list through a sentinel); expat's memory functions take no context, so the list being
 * allocated into is a thread-local that every parse sets and restores (a nested parse, from a
 * finalizer run by the collector, restores its caller's). */
typedef union mhead {
    struct {
        union mhead *prev, *next;
    } l;
    max_align_t align;
} mhead;

static _Thread_local mhead *current_blocks;

static void *track_malloc(size_t n)
{
    mhead *s = current_blocks;
    mhead *h = n <= SIZE_MAX - sizeof *h ? malloc(sizeof *h + n) : NULL;
    if (!h)
        return NULL;
    h->l.prev = s;
    h->l.next = s->l.next;
    s->l.next->l.prev = h;
    s->l.next = h;
    return h + 1;
}

static void track_free(void *p)
{
    if (!p)
        return;
    mhead *h = (mhead *)p - 1;
    h->l.prev->l.next = h->l.next;
    h->l.next->l.prev = h->l.prev;
    free(h);
}

static void *track_realloc(void *p, size_t n)
{
    if (!p)
        return track_malloc(n);
    mhead *h = (mhead *)p - 1;
    mhead *prev = h->l.prev, *next = h->l.next;
    mhead *g = n <= SIZE_MAX - sizeof *g ? realloc(h, sizeof *g + n) : NULL;
    if (!g)
        return NULL; /* the old block stays linked and valid */
    prev->l.next = g;
    next->l.prev = g;
    return g + 1;
}

static const XML_Memory_Handling_Suite tracking_suite = {track_malloc, track_realloc, track_free};

static void free_all_blocks(mhead *sentinel)
{
    while (sentinel->l.next != sentinel)
        track_free(sentinel->l.next + 1);
}

/* ---------------------------------------------------------------- caches of shape facts */

typedef struct xtype xtype;

typedef struct xmember {
    const char *key;   /* the Lua field: the member's name in the model */
    const char *wire;  /* element (or attribute) local name */
    size_t wlen;
    uint32_t hash;
    xtype *type;
} xmember;

typedef struct xstruct {
    xmember *elems;    /* members read from child elements, indexed by `slots` */
    size_t nelems;
    int32_t *slots;    /* open addressing over elems by wire-name hash; -1 when empty */
    size_t mask;
    xmember *attrs;    /* xmlAttribute members (few: scanned linearly) */
    size_t nattrs;
} xstruct;

/* What one member or reference node reads as. Lists and maps find their item types lazily, so
 * recursive shapes cost nothing until the document actually recurses. */
struct xtype {
    const cJSON *shape;
    aws_kind kind;
    int flattened;
    const cJSON *item_ref;     /* list member / map value */
    const cJSON *key_ref;      /* map key */
    const char *item_name;     /* list: the member's own locationName (NULL when none) */
    const char *key_name;      /* map: "key" or the key's locationName */
    const char *value_name;    /* map: "value" or the value's locationName */
    xtype *item, *key;
    xstruct *st;
};

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    max_align_t data[];
} ablock;

enum { F_STRUCT, F_LIST, F_MAP, F_ENTRY, F_SCALAR };
enum { D_NONE, D_FIELD, D_APPEND, D_KEY, D_VALUE, D_INSERT };

/* One open element. `slot` is the stack index of its table (structures, lists, maps) or of the
 * key slot of a map entry (the value slot follows). When it closes, its value goes to
 * `dest_idx` as `dest` says; the stack is then cut back to `base`. */
typedef struct frame {
    unsigned char kind, dest, top;
    const xtype *type;
    const char *key;
    int base, slot, dest_idx;
} frame;

typedef struct xparse {
    lua_State *L;
    const aws_model *m;
    const cJSON *root_ref;
    const char *const *wrappers;
    int skip_bound;
    int target;
    XML_Parser parser;
    frame frames[XML_SHAPE_MAX_DEPTH];
    int depth;
    int skip;             /* > 0 while inside an element nobody asked for: its nesting depth */
    mhead blocks_of_expat; /* sentinel of the blocks expat holds */
    strbuf text;          /* character data of the open scalar element */
    strbuf scratch;       /* base64 decoding */
    ablock *blocks;
    const char *failed;
} xparse;

static void fail(xparse *c, const char *why)
{
    if (!c->failed)
        c->failed = why;
    if (c->parser)
        XML_StopParser(c->parser, XML_FALSE);
}

static void *arena_alloc(xparse *c, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!c->blocks || c->blocks->cap - c->blocks->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        ablock *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = c->blocks;
        b->used = 0;
        b->cap = cap;
        c->blocks = b;
    }
    void *p = (char *)c->blocks->data + c->blocks->used;
    c->blocks->used += n;
    return p;
}

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Called once per member per structure table and once per list item or map value type: the
 * results are kept where they are found (xmember.type, xtype.item), so a document with
 * thousands of elements of one shape builds its facts once. */
static xtype *xtype_of(xparse *c, const cJSON *ref)
{
    if (!ref)
        return NULL;
    xtype *t = arena_alloc(c, sizeof *t);
    if (!t) {
        fail(c, "out of memory");
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->kind = aws_xml_kind(c->m, ref, &t->shape);
    t->flattened = aws_model_trait_bool(c->m, ref, "flattened");
    if (t->kind == AWS_T_LIST) {
        t->item_ref = cJSON_GetObjectItemCaseSensitive(t->shape, "member");
        t->item_name = aws_node_string(t->item_ref, "locationName");
    } else if (t->kind == AWS_T_MAP) {
        t->key_ref = cJSON_GetObjectItemCaseSensitive(t->shape, "key");
        t->item_ref = cJSON_GetObjectItemCaseSensitive(t->shape, "value");
        t->key_name = aws_node_string(t->key_ref, "locationName");
        t->value_name = aws_node_string(t->item_ref, "locationName");
        if (!t->key_name)
            t->key_name = "key";
        if (!t->value_name)
            t->value_name = "value";
    }
    return t;
}

static xtype *item_type(xparse *c, xtype *t)
{
    if (!t->item)
        t->item = xtype_of(c, t->item_ref);
    return t->item;
}

static xtype *key_type(xparse *c, xtype *t)
{
    if (!t->key)
        t->key = xtype_of(c, t->key_ref);
    return t->key;
}

static xstruct *struct_of(xparse *c, xtype *t)
{
    if (t->st)
        return t->st;
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(t->shape, "members");
    size_t n = 0;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next)
        n++;
    size_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    xstruct *st = arena_alloc(c, sizeof *st);
    xmember *all = arena_alloc(c, (n ? n : 1) * sizeof *all);
    int32_t *slots = arena_alloc(c, cap * sizeof *slots);
    if (!st || !all || !slots) {
        fail(c, "out of memory");
        return NULL;
    }
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < cap; i++)
        slots[i] = -1;
    /* element members fill `all` from the front, attribute members from the back */
    size_t front = 0, back = n;
    for (const cJSON *mem = members ? members->child : NULL; mem; mem = mem->next) {
        if (!mem->string || (c->skip_bound && aws_rest_output_bound(c->m, mem)))
            continue;
        xtype *mt = xtype_of(c, mem);
        if (!mt)
            return NULL;
        const char *wire = aws_node_string(mem, "locationName");
        if (aws_model_trait_bool(c->m, mem, "xmlAttribute")) {
            xmember *a = &all[--back];
            a->key = mem->string;
            a->wire = aws_xml_local_part(wire ? wire : mem->string);
            a->wlen = strlen(a->wire);
            a->type = mt;
            continue;
        }
        /* A flattened list repeats its items in place, named after the list member's own
         * locationName when it has one (SQS's <Message>), else after the structure member. */
        if (mt->kind == AWS_T_LIST && mt->flattened && mt->item_name)
            wire = mt->item_name;
        xmember *e = &all[front];
        e->key = mem->string;
        e->wire = aws_xml_local_part(wire ? wire : mem->string);
        e->wlen = strlen(e->wire);
        e->hash = name_hash(e->wire, e->wlen);
        e->type = mt;
        size_t j = e->hash & (cap - 1);
        int dup = 0;
        while (slots[j] >= 0) {
            const xmember *o = &all[slots[j]];
            if (o->wlen == e->wlen && memcmp(o->wire, e->wire, e->wlen) == 0)
                dup = 1;
            j = (j + 1) & (cap - 1);
        }
        if (dup) /* two members claiming one element name: the first in the model wins */
            continue;
        slots[j] = (int32_t)front++;
    }
    st->elems = all;
    st->nelems = front;
    st->slots = slots;
    st->mask = cap - 1;
    st->attrs = all + back;
    st->nattrs = n - back;
    return t->st = st;
}

static const xmember *member_lookup(const xstruct *st, const char *name, size_t len)
{
    uint32_t h = name_hash(name, len);
    for (size_t j = h & st->mask; st->slots[j] >= 0; j = (j + 1) & st->mask) {
        const xmember *e = &st->elems[st->slots[j]];
        if (e->hash == h && e->wlen == len && memcmp(e->wire, name, len) == 0)
            return e;
    }
    return NULL;
}

/* ---------------------------------------------------------------- scalars */

/* Pushes the value of text s as type t; 0 (nothing pushed) when the text does not read as one. */
static int push_scalar(xparse *c, const xtype *t, const char *s, size_t len)
{
    aws_scalar_type type = {t->kind, AWS_TIME_DEFAULT, 0};
    aws_scalar v;
    int r = aws_scalar_parse(&type, AWS_AT_XML, s, len, &v, &c->scratch);
    if (r < 0)
        fail(c, "out of memory");
    if (r <= 0)
        return 0;
    aws_scalar_push(c->L, &v);
    return 1;
}

/* ---------------------------------------------------------------- expat callbacks */

static void read_attributes(xparse *c, frame *f, const XML_Char **atts)
{
    xstruct *st = struct_of(c, (xtype *)f->type);
    if (!st || !st->nattrs)
        return;
    for (int i = 0; atts[i]; i += 2) {
        if (strncmp(atts[i], "xmlns", 5) == 0 && (atts[i][5] == '\0' || atts[i][5] == ':'))
            continue;
        const char *local = aws_xml_local_part(atts[i]);
        for (size_t k = 0; k < st->nattrs; k++) {
            const xmember *a = &st->attrs[k];
            if (strcmp(a->wire, local) != 0)
                continue;
            if (push_scalar(c, a->type, atts[i + 1], strlen(atts[i + 1]))) {
                lua_pushstring(c->L, a->key);
                lua_insert(c->L, -2);
                lua_rawset(c->L, f->slot);
            }
            break;
        }
    }
}

static frame *push_frame(xparse *c)
{
    if (c->depth >= XML_SHAPE_MAX_DEPTH) {
        fail(c, "the XML document is nested too deeply");
        return NULL;
    }
    /* a frame holds at most three stack slots (container, key, value) plus a scalar */
    if (!lua_checkstack(c->L, 6)) {
        fail(c, "the XML document is nested too deeply for the Lua stack");
        return NULL;
    }
    frame *f = &c->frames[c->depth++];
    memset(f, 0, sizeof *f);
    return f;
}

static void open_value(xparse *c, xtype *t, int dest, int dest_idx, const char *key, int base,
                       const XML_Char **atts)
{
    lua_State *L = c->L;
    if (!t || t->kind == AWS_T_UNKNOWN) {
        lua_settop(L, base);
        c->skip = 1;
        return;
    }
    frame *f = push_frame(c);
    if (!f)
        return;
    f->type = t;
    f->dest = (unsigned char)dest;
    f->dest_idx = dest_idx;
    f->key = key;
    f->base = base;
    switch (t->kind) {
    case AWS_T_STRUCTURE:
        lua_newtable(L);
        f->kind = F_STRUCT;
        f->slot = lua_gettop(L);
        read_attributes(c, f, atts);
        break;
    case AWS_T_LIST:
        lua_newtable(L);
        f->kind = F_LIST;
        f->slot = lua_gettop(L);
        break;
    case AWS_T_MAP:
        lua_newtable(L);
        f->kind = F_MAP;
        f->slot = lua_gettop(L);
        break;
    default:
        f->kind = F_SCALAR;
        sb_reset(&c->text);
        break;
    }
}

/* A map entry: <entry><key/><value/></entry>, or one element of a flattened map. */
static void open_entry(xparse *c, const xtype *map, int map_idx, int base)
{
    frame *f = push_frame(c);
    if (!f)
        return;
    lua_pushnil(c->L);
    lua_pushnil(c->L);
    f->kind = F_ENTRY;
    f->type = map;
    f->dest = D_INSERT;
    f->dest_idx = map_idx;
    f->base = base;
    f->slot = lua_gettop(c->L) - 1;
}

static int is_wrapper(const xparse *c, const char *local)
{
    for (const char *const *w = c->wrappers; w && *w; w++)
        if (strcmp(*w, local) == 0)
            return 1;
    return 0;
}

static void start_in_struct(xparse *c, frame *p, const char *local, const XML_Char **atts)
{
    lua_State *L = c->L;
    xstruct *st = struct_of(c, (xtype *)p->type);
    if (!st)
        return;
    const xmember *mb = member_lookup(st, local, strlen(local));
    if (!mb) {
        if (p->top && is_wrapper(c, local)) {
            /* a wrapper element is read into the same table as its parent */
            frame *f = push_frame(c);
            if (!f)
                return;
            *f = *p;
            f->dest = D_NONE;
            f->base = lua_gettop(L);
            read_attributes(c, f, atts);
        } else {
            c->skip = 1;
        }
        return;
    }
    xtype *t = mb->type;
    int base = lua_gettop(L);
    if ((t->kind == AWS_T_LIST || t->kind == AWS_T_MAP) && t->flattened) {
        /* each element is one item (or entry) of a container kept in the parent */
        lua_pushstring(L, mb->key);
        if (lua_rawget(L, p->slot) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushstring(L, mb->key);
            lua_pushvalue(L, -2);
            lua_rawset(L, p->slot);
        }
        int container = lua_gettop(L);
        if (t->kind == AWS_T_LIST)
            open_value(c, item_type(c, t), D_APPEND, container, NULL, base, atts);
        else
            open_entry(c, t, container, base);
        return;
    }
    open_value(c, t, D_FIELD, p->slot, mb->key, base, atts);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xparse *c = ud;
    if (c->failed)
        return;
    if (c->skip) {
        c->skip++;
        return;
    }
    const char *local = aws_xml_local_part(name);
    lua_State *L = c->L;
    if (c->depth == 0) {
        xtype *t = xtype_of(c, c->root_ref);
        if (!t)
            return;
        if (t->kind != AWS_T_STRUCTURE) {
            fail(c, "the model's shape for the document is not a structure");
            return;
        }
        xstruct *st = struct_of(c, t);
        const xmember *mb = st ? member_lookup(st, local, strlen(local)) : NULL;
        if (mb && mb->type->kind != AWS_T_STRUCTURE && mb->type->kind != AWS_T_LIST && mb->type->kind != AWS_T_MAP &&
            mb->type->kind != AWS_T_UNKNOWN) {
            /* a document that is one scalar member: S3's <LocationConstraint>eu-west-1</...> */
            open_value(c, mb->type, D_FIELD, c->target, mb->key, lua_gettop(L), atts);
            return;
        }
        frame *f = push_frame(c);
        if (!f)
            return;
        f->kind = F_STRUCT;
        f->type = t;
        f->top = 1;
        f->dest = D_NONE;
        f->slot = c->target;
        f->base = lua_gettop(L);
        read_attributes(c, f, atts);
        return;
    }
    frame *p = &c->frames[c->depth - 1];
    switch (p->kind) {
    case F_STRUCT:
        start_in_struct(c, p, local, atts);
        break;
    case F_LIST:
        /* every child of a list wrapper is an item, whatever its name */
        open_value(c, item_type(c, (xtype *)p->type), D_APPEND, p->slot, NULL, lua_gettop(L), atts);
        break;
    case F_MAP:
        open_entry(c, p->type, p->slot, lua_gettop(L));
        break;
    case F_ENTRY: {
        xtype *map = (xtype *)p->type;
        if (strcmp(local, map->key_name) == 0)
            open_value(c, key_type(c, map), D_KEY, p->slot, NULL, lua_gettop(L), atts);
        else if (strcmp(local, map->value_name) == 0)
            open_value(c, item_type(c, map), D_VALUE, p->slot, NULL, lua_gettop(L), atts);
        else
            c->skip = 1;
        break;
    }
    default:
        c->skip = 1;
        break;
    }
}

/* Moves the value on top of the stack to where frame f says it belongs. */
static void store(lua_State *L, const frame *f)
{
    switch (f->dest) {
    case D_FIELD:
        lua_pushstring(L, f->key);
        lua_insert(L, -2);
        lua_rawset(L, f->dest_idx);
        break;
    case D_APPEND:
        lua_rawseti(L, f->dest_idx, (lua_Integer)lua_rawlen(L, f->dest_idx) + 1);
        break;
    case D_KEY:
        lua_replace(L, f->dest_idx);
        break;
    case D_VALUE:
        lua_replace(L, f->dest_idx + 1);
        break;
    default:
        lua_pop(L, 1);
        break;
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name;
    xparse *c = ud;
    if (c->failed)
        return;
    if (c->skip) {
        c->skip--;
        return;
    }
    lua_State *L = c->L;
    const frame *f = &c->frames[--c->depth];
    switch (f->kind) {
    case F_SCALAR:
        if (push_scalar(c, f->type, c->text.data ? c->text.data : "", c->text.len))
            store(L, f);
        break;
    case F_ENTRY:
        /* key and value are the top two slots: exactly what lua_rawset takes */
        if (lua_type(L, f->slot) == LUA_TSTRING && !lua_isnil(L, f->slot + 1))
            lua_rawset(L, f->dest_idx);
        break;
    default:
        /* the document element and wrappers fill a table that is not theirs */
        if (f->dest != D_NONE)
            store(L, f);
        break;
    }
    lua_settop(L, f->base);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xparse *c = ud;
    if (c->failed || c->skip || c->depth == 0 || c->frames[c->depth - 1].kind != F_SCALAR)
        return;
    if (!sb_append(&c->text, s, (size_t)len))
        fail(c, "out of memory");
}

typedef struct parse_job {
    xparse *c;
    const char *xml;
    size_t len;
} parse_job;

/* Runs under lua_pcall: stack 1 = the job (light userdata), 2 = the target table. */
static int parse_protected(lua_State *L)
{
    parse_job *job = lua_touserdata(L, 1);
    xparse *c = job->c;
    c->target = 2;
    c->parser = XML_ParserCreate_MM(NULL, &tracking_suite, NULL);
    if (!c->parser) {
        c->failed = "out of memory";
        return 0;
    }
    XML_SetUserData(c->parser, c);
    XML_SetElementHandler(c->parser, on_start, on_end);
    XML_SetCharacterDataHandler(c->parser, on_text);
    if (aws_xml_feed(c->parser, job->xml, job->len) != XML_STATUS_OK && !c->failed)
        c->failed = XML_ErrorString(XML_GetErrorCode(c->parser));
    return 0;
}

int aws_xml_read_structure(lua_State *L, const aws_model *m, const cJSON *ref, const char *xml, size_t len,
                           int target, const char *const *wrappers, int skip_bound, const char **why)
{
    target = lua_absindex(L, target);
    luaL_checkstack(L, 4, "parse_response");
    xparse *c = calloc(1, sizeof *c);
    if (!c)
        luaL_error(L, "parse_response: out of memory");
    c->L = L;
    c->m = m;
    c->root_ref = ref;
    c->wrappers = wrappers;
    c->skip_bound = skip_bound;
    c->blocks_of_expat.l.prev = c->blocks_of_expat.l.next = &c->blocks_of_expat;
    mhead *outer_blocks = current_blocks;
    current_blocks = &c->blocks_of_expat;
    parse_job job = {c, xml, len};
    lua_pushcfunction(L, parse_protected);
    lua_pushlightuserdata(L, &job);
    lua_pushvalue(L, target);
    int status = lua_pcall(L, 2, 0, 0);
    /* after a jump out of a callback, expat's parser is left for dead: free its blocks as such */
    if (status == LUA_OK && c->parser)
        XML_ParserFree(c->parser);
    free_all_blocks(&c->blocks_of_expat);
    current_blocks = outer_blocks;
    sb_free(&c->text);
    sb_free(&c->scratch);
    while (c->blocks) {
        ablock *b = c->blocks;
        c->blocks = b->next;
        free(b);
    }
    const char *failed = c->failed;
    free(c);
    if (status != LUA_OK)
        lua_error(L); /* the pcall's error (out of memory) is on top */
    if (failed) {
        *why = failed;
        return 0;
    }
    return 1;
}

/*
 * added_trie.c - the matcher for added tokens in text: a byte trie over
 * their contents that finds the leftmost match and, at that position, the
 * longest content (the rule tokenizers applies to added tokens).  The
 * Unigram model walks the same trie over its vocabulary for its
 * common-prefix searches.
 *
 * Building costs O(total content bytes); a search from a position costs,
 * per candidate start, at most the length of the longest content, so a
 * text of n bytes is searched in O(n x longest content) whatever the
 * number of added tokens.  The root's children sit in a 256-entry table;
 * deeper edges (node, byte) -> child in an open-addressing hash table, so
 * every step is O(1) however many children a node has.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct trie_edge {
    uint64_t key;     /* node << 8 | byte; UINT64_MAX empty */
    int32_t child;
} trie_edge;

struct nlp_added_trie {
    int32_t *value;     /* [n] payload of the content ending at each node, or -1; node 0 is the root */
    size_t n, cap;
    trie_edge *edge;    /* [mask + 1] */
    size_t mask, n_edges;
    int32_t root[256];  /* the root's child for each first byte, or -1 */
};

static int32_t node_new(nlp_added_trie *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        int32_t *p = realloc(t->value, cap * sizeof *p);
        if (!p)
            return -1;
        t->value = p;
        t->cap = cap;
    }
    t->value[t->n] = -1;
    return (int32_t)t->n++;
}

static size_t edge_slot(uint64_t k, size_t mask)
{
    k ^= k >> 31;
    k *= 0x9e3779b97f4a7c15ull;
    k ^= k >> 29;
    return (size_t)k & mask;
}

/* The child of node k for byte b (k == 0: the root), or -1. */
static inline int32_t child_of(const nlp_added_trie *t, int32_t k, unsigned char b)
{
    if (k == 0)
        return t->root[b];
    if (!t->edge)
        return -1;
    uint64_t key = (uint64_t)(uint32_t)k << 8 | b;
    for (size_t i = edge_slot(key, t->mask);; i = (i + 1) & t->mask) {
        if (t->edge[i].key == key)
            return t->edge[i].child;
        if (t->edge[i].key == UINT64_MAX)
            return -1;
    }
}

static void edge_put(trie_edge *tab, size_t mask, uint64_t key, int32_t child)
{
    size_t i = edge_slot(key, mask);
    while (tab[i].key != UINT64_MAX)
        i = (i + 1) & mask;
    tab[i] = (trie_edge){ key, child };
}

/* Keep the edge table at most half full. */
static int edges_grow(nlp_added_trie *t)
{
    if (t->edge && 2 * (t->n_edges + 1) <= t->mask + 1)
        return 0;
    size_t size = t->edge ? 2 * (t->mask + 1) : 256;
    trie_edge *tab = malloc(size * sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < size; i++)
        tab[i].key = UINT64_MAX;
    for (size_t i = 0; t->edge && i <= t->mask; i++)
        if (t->edge[i].key != UINT64_MAX)
            edge_put(tab, size - 1, t->edge[i].key, t->edge[i].child);
    free(t->edge);
    t->edge = tab;
    t->mask = size - 1;
    return 0;
}

/* The child of k for b, created when missing; -1 when out of memory. */
static int32_t child_add(nlp_added_trie *t, int32_t k, unsigned char b)
{
    int32_t c = child_of(t, k, b);
    if (c >= 0)
        return c;
    if (k != 0 && edges_grow(t))
        return -1;
    if ((c = node_new(t)) < 0)
        return -1;
    if (k == 0) {
        t->root[b] = c;
    } else {
        edge_put(t->edge, t->mask, (uint64_t)(uint32_t)k << 8 | b, c);
        t->n_edges++;
    }
    return c;
}

nlp_status nlp_added_trie_add(nlp_added_trie *t, const char *s, size_t len, int32_t value)
{
    if (len == 0 || value < 0)
        return NLP_OK; /* an empty content never matches */
    if (t->n + len > (size_t)INT32_MAX)
        return NLP_ERR_NOMEM;
    int32_t k = 0;
    for (size_t i = 0; i < len; i++)
        if ((k = child_add(t, k, (unsigned char)s[i])) < 0)
            return NLP_ERR_NOMEM;
    if (t->value[k] < 0)
        t->value[k] = value; /* a repeated content keeps its first payload */
    return NLP_OK;
}

nlp_status nlp_added_trie_new(nlp_added_trie **out)
{
    nlp_added_trie *t = calloc(1, sizeof *t);
    if (!t)
        return NLP_ERR_NOMEM;
    for (int i = 0; i < 256; i++)
        t->root[i] = -1;
    if (node_new(t) < 0) {
        free(t);
        return NLP_ERR_NOMEM;
    }
    *out = t;
    return NLP_OK;
}

void nlp_added_trie_free(nlp_added_trie *t)
{
    if (!t)
        return;
    free(t->value);
    free(t->edge);
    free(t);
}

/* Payload and length of the longest content that s[at..len) starts with,
 * or -1. */
static int32_t longest_at(const nlp_added_trie *t, const unsigned char *s, size_t len,
                          size_t at, size_t *mlen)
{
    int32_t best = -1, k = 0;
    for (size_t i = at; i < len; i++) {
        if ((k = child_of(t, k, s[i])) < 0)
            break;
        if (t->value[k] >= 0) {
            best = t->value[k];
            *mlen = i + 1 - at;
        }
    }
    return best;
}

int nlp_added_trie_find(const nlp_added_trie *t, const char *text, size_t len, size_t from,
                        size_t *ms, size_t *me, int32_t *value)
{
    const unsigned char *s = (const unsigned char *)text;
    if (!t)
        return 0;
    for (size_t at = from; at < len; at++) {
        if (t->root[s[at]] < 0)
            continue;
        size_t mlen = 0;
        int32_t v = longest_at(t, s, len, at, &mlen);
        if (v >= 0) {
            *ms = at;
            *me = at + mlen;
            *value = v;
            return 1;
        }
    }
    return 0;
}

int nlp_added_trie_empty(const nlp_added_trie *t)
{
    return !t || t->n <= 1;
}

int32_t nlp_added_trie_step(const nlp_added_trie *t, int32_t k, unsigned char b)
{
    return child_of(t, k, b);
}

int32_t nlp_added_trie_value(const nlp_added_trie *t, int32_t k)
{
    return t->value[k];
}

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
 * deeper nodes keep theirs in sibling lists.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

typedef struct trie_node {
    int32_t child;    /* first child, or -1 */
    int32_t sibling;  /* next child of the parent, or -1 */
    int32_t value;    /* payload of the content ending here, or -1 */
    unsigned char byte;
} trie_node;

struct nlp_added_trie {
    trie_node *nodes;   /* [n]; node 0 is the root */
    size_t n, cap;
    int32_t root[256];  /* the root's child for each first byte, or -1 */
};

static int32_t node_new(nlp_added_trie *t, unsigned char byte)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        trie_node *p = realloc(t->nodes, cap * sizeof *p);
        if (!p)
            return -1;
        t->nodes = p;
        t->cap = cap;
    }
    t->nodes[t->n] = (trie_node){ -1, -1, -1, byte };
    return (int32_t)t->n++;
}

/* The child of node k for byte b (k == 0: the root), or -1. */
static inline int32_t child_of(const nlp_added_trie *t, int32_t k, unsigned char b)
{
    if (k == 0)
        return t->root[b];
    for (int32_t c = t->nodes[k].child; c >= 0; c = t->nodes[c].sibling)
        if (t->nodes[c].byte == b)
            return c;
    return -1;
}

/* The child of k for b, created when missing; -1 when out of memory. */
static int32_t child_add(nlp_added_trie *t, int32_t k, unsigned char b)
{
    int32_t c = child_of(t, k, b);
    if (c >= 0)
        return c;
    if ((c = node_new(t, b)) < 0)
        return -1;
    if (k == 0) {
        t->root[b] = c;
    } else {
        t->nodes[c].sibling = t->nodes[k].child;
        t->nodes[k].child = c;
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
    if (t->nodes[k].value < 0)
        t->nodes[k].value = value; /* a repeated content keeps its first payload */
    return NLP_OK;
}

nlp_status nlp_added_trie_new(nlp_added_trie **out)
{
    nlp_added_trie *t = calloc(1, sizeof *t);
    if (!t)
        return NLP_ERR_NOMEM;
    for (int i = 0; i < 256; i++)
        t->root[i] = -1;
    if (node_new(t, 0) < 0) {
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
    free(t->nodes);
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
        if (t->nodes[k].value >= 0) {
            best = t->nodes[k].value;
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
    return t->nodes[k].value;
}

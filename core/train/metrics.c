/*
 * metrics.c - evaluation metrics (see nlp/metrics.h): scikit-learn's
 * classification scores, seqeval's entity-level scores and SQuAD v1.1's
 * exact match and token F1, computed in the same floating-point order as
 * those tools so the printed numbers agree digit for digit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "nlp/metrics.h"

/* ------------------------------------------------------------ scores */

static double ratio(size_t num, size_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

/* precision and recall from the counts; F1 as scikit-learn (>= 1.3)
 * computes it: 2 tp / (true + pred), 0 when both are 0. */
static void score_sklearn(nlp_metrics_score *s)
{
    s->precision = ratio(s->correct, s->predicted);
    s->recall = ratio(s->correct, s->support);
    double den = (double)s->support + (double)s->predicted;
    s->f1 = den != 0.0 ? 2.0 * (double)s->correct / den : 0.0;
}

/* ... and as seqeval computes it: 2 P R / (P + R), 0 when P + R is 0. */
static void score_seqeval(nlp_metrics_score *s)
{
    s->precision = ratio(s->correct, s->predicted);
    s->recall = ratio(s->correct, s->support);
    double den = s->precision + s->recall;
    s->f1 = den != 0.0 ? 2.0 * s->precision * s->recall / den : 0.0;
}

/* Summed counts of k scores (stride bytes apart) into *micro, and the
 * plain means of their precision, recall and F1 into *macro. */
static void sum_and_mean(const nlp_metrics_score *first, size_t k, size_t stride,
                         nlp_metrics_score *micro, nlp_metrics_score *macro)
{
    memset(micro, 0, sizeof *micro);
    memset(macro, 0, sizeof *macro);
    for (size_t i = 0; i < k; i++) {
        const nlp_metrics_score *s =
            (const nlp_metrics_score *)(const void *)((const char *)first + i * stride);
        micro->support += s->support;
        micro->predicted += s->predicted;
        micro->correct += s->correct;
        macro->precision += s->precision;
        macro->recall += s->recall;
        macro->f1 += s->f1;
    }
    if (k) {
        macro->precision /= (double)k;
        macro->recall /= (double)k;
        macro->f1 /= (double)k;
    }
    macro->support = micro->support;
    macro->predicted = micro->predicted;
    macro->correct = micro->correct;
}

/* ------------------------------------------------------------ classification */

static nlp_status class_report_new(size_t n, int num_labels, nlp_metrics_class_report **out,
                                   nlp_error *err)
{
    nlp_metrics_class_report *r = calloc(1, sizeof *r);
    if (r)
        r->labels = calloc((size_t)num_labels, sizeof *r->labels);
    if (!r || !r->labels) {
        nlp_metrics_class_report_free(r);
        return nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
    }
    r->n = n;
    r->num_labels = num_labels;
    *out = r;
    return NLP_OK;
}

/* Scores from the counts, and accuracy = exact / n. */
static void class_report_finish(nlp_metrics_class_report *r, size_t exact)
{
    for (int c = 0; c < r->num_labels; c++)
        score_sklearn(&r->labels[c]);
    sum_and_mean(r->labels, (size_t)r->num_labels, sizeof *r->labels, &r->micro, &r->macro);
    score_sklearn(&r->micro);
    r->accuracy = ratio(exact, r->n);
}

static nlp_status check_args(const void *gold, const void *pred, size_t n, int num_labels,
                             nlp_metrics_class_report **out, nlp_error *err)
{
    if (!out || num_labels < 1 || (n && (!gold || !pred)))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "metrics: need num_labels >= 1, the gold and predicted lists "
                             "and an output (num_labels %d, n %zu)", num_labels, n);
    *out = NULL;
    return NLP_OK;
}

nlp_status nlp_metrics_classification(const int32_t *gold, const int32_t *pred, size_t n,
                                      int num_labels, nlp_metrics_class_report **out,
                                      nlp_error *err)
{
    nlp_status st = check_args(gold, pred, n, num_labels, out, err);
    for (size_t i = 0; st == NLP_OK && i < n; i++)
        if (gold[i] < 0 || gold[i] >= num_labels || pred[i] < 0 || pred[i] >= num_labels)
            st = nlp_error_set(err, NLP_ERR_INVALID_ARG,
                               "metrics: item %zu: label ids %d (gold) and %d (predicted) "
                               "must be in [0, %d)", i, gold[i], pred[i], num_labels);
    nlp_metrics_class_report *r = NULL;
    if (st != NLP_OK || (st = class_report_new(n, num_labels, &r, err)) != NLP_OK)
        return st;
    size_t exact = 0;
    for (size_t i = 0; i < n; i++) {
        r->labels[gold[i]].support++;
        r->labels[pred[i]].predicted++;
        if (gold[i] == pred[i]) {
            r->labels[gold[i]].correct++;
            exact++;
        }
    }
    class_report_finish(r, exact);
    *out = r;
    return NLP_OK;
}

nlp_status nlp_metrics_multilabel(const uint8_t *gold, const uint8_t *pred, size_t n,
                                  int num_labels, nlp_metrics_class_report **out,
                                  nlp_error *err)
{
    nlp_status st = check_args(gold, pred, n, num_labels, out, err);
    size_t cells = n * (size_t)num_labels;
    for (size_t i = 0; st == NLP_OK && i < cells; i++)
        if (gold[i] > 1 || pred[i] > 1)
            st = nlp_error_set(err, NLP_ERR_INVALID_ARG,
                               "metrics: item %zu, label %zu: flags %u (gold) and %u "
                               "(predicted) must be 0 or 1", i / (size_t)num_labels,
                               i % (size_t)num_labels, gold[i], pred[i]);
    nlp_metrics_class_report *r = NULL;
    if (st != NLP_OK || (st = class_report_new(n, num_labels, &r, err)) != NLP_OK)
        return st;
    size_t exact = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *g = gold + i * (size_t)num_labels, *p = pred + i * (size_t)num_labels;
        exact += memcmp(g, p, (size_t)num_labels) == 0;
        for (int c = 0; c < num_labels; c++) {
            r->labels[c].support += g[c];
            r->labels[c].predicted += p[c];
            r->labels[c].correct += g[c] & p[c];
        }
    }
    class_report_finish(r, exact);
    *out = r;
    return NLP_OK;
}

void nlp_metrics_class_report_free(nlp_metrics_class_report *r)
{
    if (!r)
        return;
    free(r->labels);
    free(r);
}

/* ------------------------------------------------------------ entities */

/* A parsed tag: its letter (O B I E S) and type ("_" when it has none). */
typedef struct tag {
    char letter;
    const char *type;
    size_t tlen;
} tag;

/* An entity: type index in the accumulator, first and last token. */
typedef struct chunk {
    const char *type;
    size_t tlen;
    size_t type_index;
    size_t start, end;
} chunk;

typedef struct ent_count {
    char *name;
    size_t len;
    size_t support, predicted, correct;
} ent_count;

struct nlp_metrics_entities {
    ent_count *types;     /* sorted by name bytes */
    size_t ntypes, cap;
    size_t tokens, correct_tokens;
};

/* seqeval's split: letter = first character, type = what follows the
 * first '-' ("_" if empty).  Only O, B, I, E, S are accepted. */
static int parse_tag(const char *s, tag *t)
{
    t->letter = s[0];
    t->type = "_";
    t->tlen = 1;
    if (s[0] == 'O' && s[1] == '\0')
        return 1;
    if (s[0] == '\0' || !strchr("BIES", s[0]) || (s[1] != '\0' && s[1] != '-'))
        return 0;
    if (s[1] == '-' && s[2] != '\0') {
        t->type = s + 2;
        t->tlen = strlen(s + 2);
    }
    return 1;
}

static int same_type(const tag *a, const tag *b)
{
    return a->tlen == b->tlen && memcmp(a->type, b->type, a->tlen) == 0;
}

/* seqeval's end_of_chunk / start_of_chunk (conlleval's rules). */
static int chunk_ends(const tag *prev, const tag *cur)
{
    char p = prev->letter, t = cur->letter;
    if (p == 'E' || p == 'S')
        return 1;
    if ((p == 'B' || p == 'I') && (t == 'B' || t == 'S' || t == 'O'))
        return 1;
    return p != 'O' && !same_type(prev, cur);
}

static int chunk_starts(const tag *prev, const tag *cur)
{
    char p = prev->letter, t = cur->letter;
    if (t == 'B' || t == 'S')
        return 1;
    if ((p == 'E' || p == 'S' || p == 'O') && (t == 'E' || t == 'I'))
        return 1;
    return t != 'O' && !same_type(prev, cur);
}

/* The entities of one sentence of len tags, in order, into out (room for
 * len); returns their number.  As get_entities: an "O" closes the end. */
static size_t get_entities(const tag *tags, size_t len, chunk *out)
{
    tag prev = {'O', "", 0}, end = {'O', "_", 1};
    size_t begin = 0, n = 0;
    for (size_t i = 0; i <= len; i++) {
        const tag *cur = i < len ? &tags[i] : &end;
        if (chunk_ends(&prev, cur))
            out[n++] = (chunk){prev.type, prev.tlen, 0, begin, i - 1};
        if (chunk_starts(&prev, cur))
            begin = i;
        prev = *cur;
    }
    return n;
}

static int name_cmp(const ent_count *e, const char *s, size_t len)
{
    int c = memcmp(e->name, s, e->len < len ? e->len : len);
    return c ? c : (e->len > len) - (e->len < len);
}

/* The index of type s[0..len) in m->types, inserted if absent; -1 when out
 * of memory.  A type inserted with no counts is left out of reports. */
static long type_index(nlp_metrics_entities *m, const char *s, size_t len)
{
    size_t lo = 0, hi = m->ntypes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(&m->types[mid], s, len);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (m->ntypes == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        ent_count *t = realloc(m->types, cap * sizeof *t);
        if (!t)
            return -1;
        m->types = t;
        m->cap = cap;
    }
    char *name = malloc(len + 1);
    if (!name)
        return -1;
    memcpy(name, s, len);
    name[len] = '\0';
    memmove(&m->types[lo + 1], &m->types[lo], (m->ntypes - lo) * sizeof *m->types);
    m->types[lo] = (ent_count){name, len, 0, 0, 0};
    m->ntypes++;
    return (long)lo;
}

nlp_status nlp_metrics_entities_create(nlp_metrics_entities **out, nlp_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? NLP_OK : nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
}

void nlp_metrics_entities_free(nlp_metrics_entities *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ntypes; i++)
        free(m->types[i].name);
    free(m->types);
    free(m);
}

static nlp_status parse_tags(const char *const *s, size_t len, tag *out, const char *which,
                             nlp_error *err)
{
    for (size_t i = 0; i < len; i++)
        if (!s[i] || !parse_tag(s[i], &out[i]))
            return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                                 "metrics: token %zu: %s tag \"%.40s\" is not O or "
                                 "B/I/E/S[-TYPE]", i, which, s[i] ? s[i] : "(null)");
    return NLP_OK;
}

/* Look up (or insert) the types of n chunks. */
static nlp_status index_chunks(nlp_metrics_entities *m, chunk *c, size_t n, nlp_error *err)
{
    for (size_t i = 0; i < n; i++) {
        long k = type_index(m, c[i].type, c[i].tlen);
        if (k < 0)
            return nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
        c[i].type_index = (size_t)k;
    }
    return NLP_OK;
}

/* Add the counts of one sentence's gold (g, ng) and predicted (p, np)
 * entities; both lists run in token order without overlaps. */
static void count_chunks(nlp_metrics_entities *m, const chunk *g, size_t ng, const chunk *p,
                         size_t np)
{
    size_t j = 0;
    for (size_t i = 0; i < np; i++)
        m->types[p[i].type_index].predicted++;
    for (size_t i = 0; i < ng; i++) {
        m->types[g[i].type_index].support++;
        while (j < np && p[j].start < g[i].start)
            j++;
        if (j < np && p[j].start == g[i].start && p[j].end == g[i].end &&
            p[j].type_index == g[i].type_index)
            m->types[g[i].type_index].correct++;
    }
}

nlp_status nlp_metrics_entities_add(nlp_metrics_entities *m, const char *const *gold,
                                    const char *const *pred, size_t len, nlp_error *err)
{
    if (len && (!gold || !pred))
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "metrics: no tags for %zu tokens", len);
    size_t room = len ? len : 1;
    tag *tags = malloc(2 * room * sizeof *tags);
    chunk *chunks = malloc(2 * room * sizeof *chunks);
    nlp_status st = NLP_OK;
    if (!tags || !chunks)
        st = nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
    if (st == NLP_OK)
        st = parse_tags(gold, len, tags, "gold", err);
    if (st == NLP_OK)
        st = parse_tags(pred, len, tags + room, "predicted", err);
    size_t ng = 0, np = 0;
    if (st == NLP_OK) {
        ng = get_entities(tags, len, chunks);
        np = get_entities(tags + room, len, chunks + room);
    }
    /* the first pass inserts new types (moving others), the second finds
     * every type where it now is */
    for (int pass = 0; pass < 2 && st == NLP_OK; pass++)
        if ((st = index_chunks(m, chunks, ng, err)) == NLP_OK)
            st = index_chunks(m, chunks + room, np, err);
    if (st == NLP_OK) {
        count_chunks(m, chunks, ng, chunks + room, np);
        for (size_t i = 0; i < len; i++)
            m->correct_tokens += strcmp(gold[i], pred[i]) == 0;
        m->tokens += len;
    }
    free(tags);
    free(chunks);
    return st;
}

nlp_status nlp_metrics_entities_report(const nlp_metrics_entities *m,
                                       nlp_metrics_entity_report **out, nlp_error *err)
{
    nlp_metrics_entity_report *r = calloc(1, sizeof *r);
    if (r && m->ntypes)
        r->types = calloc(m->ntypes, sizeof *r->types);
    if (!r || (m->ntypes && !r->types))
        goto nomem;
    for (size_t i = 0; i < m->ntypes; i++) {
        const ent_count *e = &m->types[i];
        if (e->support == 0 && e->predicted == 0)
            continue;
        nlp_metrics_entity_type *t = &r->types[r->num_types++];
        if (!(t->name = strdup(e->name)))
            goto nomem;
        t->score = (nlp_metrics_score){.support = e->support, .predicted = e->predicted,
                                       .correct = e->correct};
        score_seqeval(&t->score);
    }
    sum_and_mean(r->num_types ? &r->types[0].score : NULL, r->num_types, sizeof *r->types, &r->micro, &r->macro);
    score_seqeval(&r->micro);
    r->tokens = m->tokens;
    r->correct_tokens = m->correct_tokens;
    r->token_accuracy = ratio(m->correct_tokens, m->tokens);
    *out = r;
    return NLP_OK;
nomem:
    nlp_metrics_entity_report_free(r);
    return nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
}

void nlp_metrics_entity_report_free(nlp_metrics_entity_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->num_types; i++)
        free(r->types[i].name);
    free(r->types);
    free(r);
}

/* ------------------------------------------------------------ SQuAD: text */

/* Python's str.isspace(): the characters str.split() splits at. */
static int py_space(int32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Python's re \w on str: letters, digits and other numbers, '_'. */
static int py_word(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return c == '_' || (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

/* Unicode Case_Ignorable: Mn Me Cf Lm Sk and Word_Break MidLetter,
 * MidNumLet, Single_Quote. */
static int case_ignorable(int32_t c)
{
    static const int32_t mid[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                  0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                  0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK:
        return 1;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++)
        if (c == mid[i])
            return 1;
    return 0;
}

/* Unicode Cased: Lu Ll Lt, what has a case mapping (Ⅰ, Ⓐ, ...), and the
 * other Other_Lowercase / Other_Uppercase characters that are not
 * case-ignorable (ª º, squared and negative squared / circled letters). */
static int cased(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL ||
           k == UTF8PROC_CATEGORY_LT || c == 0xAA || c == 0xBA ||
           (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
           (c >= 0x1F170 && c <= 0x1F189) ||
           utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

/* Capital sigma at s[i] lowers to final sigma when a cased letter precedes
 * it and none follows (skipping case-ignorables), as CPython decides. */
static int32_t lower_sigma(const int32_t *s, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && case_ignorable(s[j - 1]))
        j--;
    if (j == 0 || !cased(s[j - 1]))
        return 0x3C3;
    for (j = i + 1; j < n && case_ignorable(s[j]); j++)
        ;
    return j == n || !cased(s[j]) ? 0x3C2 : 0x3C3;
}

/* Python's str.lower() of s[0..n) into out (room for 2n); returns the
 * length.  U+0130 is the one character whose full lower case is two. */
static size_t py_lower(const int32_t *s, size_t n, int32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0x130) {
            out[k++] = 'i';
            out[k++] = 0x307;
        } else {
            out[k++] = s[i] == 0x3A3 ? lower_sigma(s, n, i) : utf8proc_tolower(s[i]);
        }
    }
    return k;
}

/* Drop Python's string.punctuation (ASCII) in place. */
static size_t remove_punc(int32_t *s, size_t n)
{
    static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0 || s[i] > 0x7E || !strchr(punct, (int)s[i]))
            s[k++] = s[i];
    return k;
}

/* re.sub(r'\b(a|an|the)\b', ' ', text) in place: a maximal run of word
 * characters that is exactly an article becomes one space. */
static size_t remove_articles(int32_t *s, size_t n)
{
    static const int32_t art[3][3] = {{'a'}, {'a', 'n'}, {'t', 'h', 'e'}};
    size_t k = 0, i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && py_word(s[j]))
            j++;
        if (j == i) {             /* not a word character: kept */
            s[k++] = s[i++];
            continue;
        }
        int article = 0;
        for (size_t a = 0; a < 3; a++)
            article |= j - i == a + 1 && memcmp(&s[i], art[a], (a + 1) * sizeof *s) == 0;
        if (article) {
            s[k++] = ' ';
        } else {
            memmove(&s[k], &s[i], (j - i) * sizeof *s);
            k += j - i;
        }
        i = j;
    }
    return k;
}

/* ' '.join(text.split()) of s[0..n) as UTF-8 into out (room for 4n + 1). */
static void join_words(const int32_t *s, size_t n, char *out)
{
    size_t k = 0;
    int gap = 0;
    for (size_t i = 0; i < n; i++) {
        if (py_space(s[i])) {
            gap = k > 0;
            continue;
        }
        if (gap)
            out[k++] = ' ';
        gap = 0;
        k += (size_t)utf8proc_encode_char(s[i], (utf8proc_uint8_t *)out + k);
    }
    out[k] = '\0';
}

/* UTF-8 s into code points (room for strlen(s)); returns the count, or
 * NLP_ERR_UTF8 naming the byte. */
static nlp_status decode(const char *s, int32_t *out, size_t *n, nlp_error *err)
{
    size_t len = strlen(s), k = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i), &c);
        if (r <= 0)
            return nlp_error_set(err, NLP_ERR_UTF8, "metrics: invalid UTF-8 at byte %zu", i);
        out[k++] = c;
        i += (size_t)r;
    }
    *n = k;
    return NLP_OK;
}

nlp_status nlp_metrics_squad_normalize(const char *s, char **out, nlp_error *err)
{
    if (!s || !out)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG, "metrics: no text to normalize");
    size_t len = strlen(s), n = 0;
    int32_t *cp = malloc((len + 1) * sizeof *cp);
    int32_t *low = malloc((2 * len + 1) * sizeof *low);
    char *text = malloc(8 * len + 1);
    nlp_status st = cp && low && text ? decode(s, cp, &n, err)
                                      : nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
    if (st == NLP_OK) {
        n = py_lower(cp, n, low);
        n = remove_punc(low, n);
        n = remove_articles(low, n);
        join_words(low, n, text);
        *out = text;
        text = NULL;
    }
    free(cp);
    free(low);
    free(text);
    return st;
}

/* ------------------------------------------------------------ SQuAD: scores */

/* A normalized answer: its text, and its words (split from a copy,
 * sorted for counting the common ones). */
typedef struct words {
    char *text;
    char *buf;
    char **w;
    size_t n;
} words;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void words_free(words *t)
{
    free(t->text);
    free(t->buf);
    free(t->w);
}

static nlp_status words_of(const char *s, words *t, nlp_error *err)
{
    memset(t, 0, sizeof *t);
    nlp_status st = nlp_metrics_squad_normalize(s, &t->text, err);
    if (st != NLP_OK)
        return st;
    size_t spaces = 0;
    for (const char *p = t->text; *p; p++)
        spaces += *p == ' ';
    t->w = malloc((spaces + 1) * sizeof *t->w);
    t->buf = strdup(t->text);
    if (!t->w || !t->buf)
        return nlp_error_set(err, NLP_ERR_NOMEM, "metrics: out of memory");
    char *save = NULL;
    for (char *w = strtok_r(t->buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        t->w[t->n++] = w;
    qsort(t->w, t->n, sizeof *t->w, cmp_str);
    return NLP_OK;
}

/* sum((Counter(a) & Counter(b)).values()) of two sorted word lists. */
static size_t common_words(const words *a, const words *b)
{
    size_t i = 0, j = 0, same = 0;
    while (i < a->n && j < b->n) {
        int c = strcmp(a->w[i], b->w[j]);
        same += c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    return same;
}

/* evaluate-v1.1.py's f1_score of normalized prediction p and answer g. */
static double f1_score(const words *p, const words *g)
{
    size_t num_same = common_words(p, g);
    if (num_same == 0)
        return 0.0;
    double precision = 1.0 * (double)num_same / (double)p->n;
    double recall = 1.0 * (double)num_same / (double)g->n;
    return (2 * precision * recall) / (precision + recall);
}

nlp_status nlp_metrics_squad_score(const char *prediction, const char *const *answers,
                                   size_t n_answers, double *exact_match, double *f1,
                                   nlp_error *err)
{
    if (!prediction || !answers || n_answers == 0)
        return nlp_error_set(err, NLP_ERR_INVALID_ARG,
                             "metrics: a prediction and at least one answer are needed");
    words p, g;
    nlp_status st = words_of(prediction, &p, err);
    double em = 0.0, best = 0.0;
    for (size_t i = 0; st == NLP_OK && i < n_answers; i++) {
        if (!answers[i]) {
            st = nlp_error_set(err, NLP_ERR_INVALID_ARG, "metrics: answer %zu is NULL", i);
            break;
        }
        if ((st = words_of(answers[i], &g, err)) == NLP_OK) {
            double e = strcmp(p.text, g.text) == 0, f = f1_score(&p, &g);
            em = e > em ? e : em;
            best = f > best ? f : best;
        }
        words_free(&g);
    }
    words_free(&p);
    if (st == NLP_OK) {
        *exact_match = em;
        *f1 = best;
    }
    return st;
}

nlp_status nlp_metrics_squad_add(nlp_metrics_squad *acc, const char *prediction,
                                 const char *const *answers, size_t n_answers, nlp_error *err)
{
    double em, f1;
    nlp_status st = nlp_metrics_squad_score(prediction, answers, n_answers, &em, &f1, err);
    if (st == NLP_OK) {
        acc->count++;
        acc->exact_match += em;
        acc->f1 += f1;
    }
    return st;
}

void nlp_metrics_squad_totals(const nlp_metrics_squad *acc, double *exact_match, double *f1)
{
    *exact_match = acc->count ? 100.0 * acc->exact_match / (double)acc->count : 0.0;
    *f1 = acc->count ? 100.0 * acc->f1 / (double)acc->count : 0.0;
}

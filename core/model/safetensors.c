/*
 * safetensors.c - map .safetensors files read-only and validate their
 * headers; sharded checkpoints through model.safetensors.index.json.
 *
 * Only the header is read when a file is opened; tensor bytes stay in the
 * page cache until somebody touches them.  Every check that can fail names
 * the file and, where there is one, the tensor.  Tensor data is assumed
 * little-endian, as the format specifies (and as every supported host is).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "safetensors.h"
#include "util/util.h"

/* The reference implementation refuses headers above 100 MB; so do we. */
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)
/* Largest integer a JSON number (a double) holds exactly. */
#define ST_MAX_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} dtype_info[NLP_DT_COUNT] = {
    [NLP_DT_F32] = {"F32", 4},       [NLP_DT_F16] = {"F16", 2},
    [NLP_DT_BF16] = {"BF16", 2},     [NLP_DT_F64] = {"F64", 8},
    [NLP_DT_F8_E4M3] = {"F8_E4M3", 1}, [NLP_DT_F8_E5M2] = {"F8_E5M2", 1},
    [NLP_DT_I8] = {"I8", 1},         [NLP_DT_U8] = {"U8", 1},
    [NLP_DT_BOOL] = {"BOOL", 1},     [NLP_DT_I16] = {"I16", 2},
    [NLP_DT_U16] = {"U16", 2},       [NLP_DT_I32] = {"I32", 4},
    [NLP_DT_U32] = {"U32", 4},       [NLP_DT_I64] = {"I64", 8},
    [NLP_DT_U64] = {"U64", 8},
};

const char *nlp_dtype_name(nlp_dtype dt)
{
    return (unsigned)dt < NLP_DT_COUNT ? dtype_info[dt].name : "?";
}

size_t nlp_dtype_size(nlp_dtype dt)
{
    return (unsigned)dt < NLP_DT_COUNT ? dtype_info[dt].size : 0;
}

static int dtype_parse(const char *s, nlp_dtype *out)
{
    for (int i = 0; i < NLP_DT_COUNT; i++)
        if (strcmp(s, dtype_info[i].name) == 0) {
            *out = (nlp_dtype)i;
            return 1;
        }
    return 0;
}

/* ------------------------------------------------------------ conversion */

/* Branch-free F16 -> F32 bits, so the conversion loop vectorises.
 * Normal numbers rebias the exponent (15 -> 127); subnormals are m * 2^-24,
 * computed exactly in float from normal operands only (safe under
 * flush-to-zero); inf / NaN keep their payload and NaNs come out quiet. */
static inline uint32_t f16_bits(uint32_t h)
{
    uint32_t sign = (h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu;
    uint32_t normal = (em << 13) + (112u << 23);
    uint32_t special = (em << 13) | 0x7f800000u | (em > 0x7c00u ? 0x00400000u : 0u);
    float sub = (float)em * 0x1p-24f;
    uint32_t subbits;
    memcpy(&subbits, &sub, sizeof subbits);
    uint32_t bits = em < 0x400u ? subbits : (em >= 0x7c00u ? special : normal);
    return sign | bits;
}

float nlp_f16_to_f32(uint16_t h)
{
    uint32_t bits = f16_bits(h);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t nlp_f32_to_f16(float f, int *overflow)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu, e = a >> 23;
    if (a > 0x7f800000u)                        /* NaN */
        return sign | 0x7e00u;
    if (a == 0x7f800000u)
        return sign | 0x7c00u;
    if (a >= 0x477ff000u) {                     /* 65520 and above round to inf */
        *overflow = 1;
        return sign | 0x7c00u;
    }
    if (e >= 113) {                             /* a normal half: rebias 127 -> 15 */
        uint32_t r = a + 0x0fffu + ((a >> 13) & 1u);
        return sign | (uint16_t)((r >> 13) - (112u << 10));
    }
    if (e < 102)                                /* below 2^-25: rounds to zero */
        return sign;
    /* a subnormal half: the significand in units of 2^-24, rounded */
    uint32_t m = (a & 0x7fffffu) | 0x800000u, shift = 126 - e;
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    q += rem > half || (rem == half && (q & 1u));
    return sign | (uint16_t)q;
}

float nlp_bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

nlp_status nlp_st_to_f32(const nlp_st *st, const nlp_st_tensor *t, float *dst,
                         nlp_error *err)
{
    const unsigned char *p = t->data;
    size_t n = (size_t)t->numel;
    switch (t->dtype) {
    case NLP_DT_F32:
        memcpy(dst, p, n * sizeof(float));
        return NLP_OK;
    case NLP_DT_F16: {
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, sizeof h);
            uint32_t bits = f16_bits(h);
            memcpy(&dst[i], &bits, sizeof bits);
        }
        return NLP_OK;
    }
    case NLP_DT_BF16: {
        for (size_t i = 0; i < n; i++) {
            uint16_t b;
            memcpy(&b, p + 2 * i, sizeof b);
            uint32_t bits = (uint32_t)b << 16;
            memcpy(&dst[i], &bits, sizeof bits);
        }
        return NLP_OK;
    }
    case NLP_DT_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + 8 * i, sizeof d);
            dst[i] = (float)d;
        }
        return NLP_OK;
    default:
        return nlp_error_set(err, NLP_ERR_SHAPE,
                             "%s: tensor %s has dtype %s; only F32, F16, BF16 and F64 weights are supported",
                             st->files[t->file].path, t->name, nlp_dtype_name(t->dtype));
    }
}

/* ------------------------------------------------------------ the set */

static nlp_st *st_new(const char *source)
{
    nlp_st *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->source = strdup(source);
    if (!st->source) {
        free(st);
        return NULL;
    }
    return st;
}

void nlp_st_close(nlp_st *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->n_files; i++) {
        if (st->files[i].map)
            munmap(st->files[i].map, st->files[i].size);
        free(st->files[i].path);
    }
    free(st->files);
    for (size_t i = 0; i < st->n_tensors; i++)
        free(st->tensors[i].name);
    free(st->tensors);
    free(st->source);
    free(st);
}

size_t nlp_st_mapped_bytes(const nlp_st *st)
{
    size_t total = 0;
    for (int i = 0; i < st->n_files; i++)
        total += st->files[i].size;
    return total;
}

static int tensor_cmp(const void *a, const void *b)
{
    return strcmp(((const nlp_st_tensor *)a)->name, ((const nlp_st_tensor *)b)->name);
}

const nlp_st_tensor *nlp_st_find(const nlp_st *st, const char *name)
{
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->tensors[mid].name);
        if (c == 0)
            return &st->tensors[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* A JSON number that is a non-negative integer a double holds exactly. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d > ST_MAX_INT || floor(d) != d)
        return 0;
    *out = (uint64_t)d;
    return 1;
}

/* Parse one header entry into t.  data_size is the size of the byte
 * buffer after the header. */
static nlp_status entry_parse(const char *path, const cJSON *item, const unsigned char *data,
                              uint64_t data_size, nlp_st_tensor *t, nlp_error *err)
{
    const char *name = item->string;
    if (!cJSON_IsObject(item))
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: header entry for tensor %s is not an object", path, name);
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(jd))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s has no \"dtype\" string", path, name);
    if (!dtype_parse(jd->valuestring, &t->dtype))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s has unknown dtype \"%s\"",
                             path, name, jd->valuestring);
    if (!cJSON_IsArray(js))
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s has no \"shape\" array", path, name);
    int nd = cJSON_GetArraySize(js);
    if (nd > NLP_ST_MAX_DIMS)
        return nlp_error_set(err, NLP_ERR_UNSUPPORTED, "%s: tensor %s has %d dimensions (at most %d supported)",
                             path, name, nd, NLP_ST_MAX_DIMS);
    t->ndim = nd;
    uint64_t numel = 1;
    int k = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, js) {
        uint64_t v;
        if (!json_uint(d, &v))
            return nlp_error_set(err, NLP_ERR_FORMAT,
                                 "%s: tensor %s: shape entries must be non-negative integers", path, name);
        if (v != 0 && numel > (uint64_t)INT64_MAX / v)
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s: shape overflows", path, name);
        numel *= v;
        t->shape[k++] = (int64_t)v;
    }
    t->numel = (int64_t)numel;
    uint64_t begin, end;
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 ||
        !json_uint(cJSON_GetArrayItem(jo, 0), &begin) || !json_uint(cJSON_GetArrayItem(jo, 1), &end))
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: tensor %s: \"data_offsets\" must be two non-negative integers", path, name);
    if (begin > end || end > data_size)
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: tensor %s: data_offsets [%llu, %llu] lie outside the data area (%llu bytes)",
                             path, name, (unsigned long long)begin, (unsigned long long)end,
                             (unsigned long long)data_size);
    size_t es = nlp_dtype_size(t->dtype);
    if (numel > UINT64_MAX / es || end - begin != numel * es)
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: tensor %s: data_offsets span %llu bytes but %s with %llu elements needs %llu",
                             path, name, (unsigned long long)(end - begin), nlp_dtype_name(t->dtype),
                             (unsigned long long)numel, (unsigned long long)(numel * es));
    t->data = data + begin;
    t->nbytes = (size_t)(end - begin);
    return NLP_OK;
}

/* Order of tensors by where their data starts, then by size. */
static int by_data(const void *a, const void *b)
{
    const nlp_st_tensor *x = *(const nlp_st_tensor *const *)a, *y = *(const nlp_st_tensor *const *)b;
    const char *px = x->data, *py = y->data;
    if (px != py)
        return px < py ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* No two tensors of file f may share bytes (the format gives each data
 * byte to one tensor; overlapping tensors would alias each other). */
static nlp_status check_overlap(const nlp_st *st, int f, nlp_error *err)
{
    const nlp_st_tensor **order = malloc((st->n_tensors ? st->n_tensors : 1) * sizeof *order);
    if (!order)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", st->files[f].path);
    size_t n = 0;
    for (size_t i = 0; i < st->n_tensors; i++)
        if (st->tensors[i].file == f)
            order[n++] = &st->tensors[i];
    qsort(order, n, sizeof *order, by_data);
    nlp_status s = NLP_OK;
    const nlp_st_tensor *last = NULL; /* the non-empty tensor reaching furthest so far */
    for (size_t i = 0; i < n && s == NLP_OK; i++) {
        const nlp_st_tensor *b = order[i];
        if (b->nbytes == 0)
            continue; /* an empty tensor holds no bytes to share */
        if (last && (const char *)b->data < (const char *)last->data + last->nbytes)
            s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensors %s and %s overlap in the data area",
                              st->files[f].path, last->name, b->name);
        if (!last || (const char *)b->data + b->nbytes > (const char *)last->data + last->nbytes)
            last = b;
    }
    free(order);
    return s;
}

/* Map path, validate its header and append its tensors to st (unsorted). */
static nlp_status st_add_file(nlp_st *st, const char *path, nlp_error *err)
{
    nlp_st_file *nf = realloc(st->files, (size_t)(st->n_files + 1) * sizeof *nf);
    if (!nf)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    st->files = nf;
    nlp_st_file *f = &st->files[st->n_files];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    int file_idx = st->n_files++;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return nlp_error_set(err, NLP_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return nlp_error_set(err, NLP_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: truncated safetensors file (%zu bytes; the header length alone takes 8)",
                             path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return nlp_error_set(err, NLP_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    f->map = map;
    f->size = size;

    const unsigned char *base = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | base[i];
    if (hlen > size - 8)
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: truncated or corrupt safetensors header: header length %llu exceeds the %zu bytes after it",
                             path, (unsigned long long)hlen, size - 8);
    if (hlen > ST_MAX_HEADER)
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: safetensors header length %llu is too large",
                             path, (unsigned long long)hlen);
    if (hlen < 2 || base[8] != '{')
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: corrupt safetensors header: it does not start with a JSON object", path);
    const char *hdr = (const char *)base + 8;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!root) {
        long at = end ? (long)(end - hdr) : 0;
        return nlp_error_set(err, NLP_ERR_FORMAT,
                             "%s: corrupt safetensors header: invalid JSON near header byte %ld", path, at);
    }
    /* the writer pads the header with spaces; anything else is corrupt */
    for (const char *p = end; p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0') {
            cJSON_Delete(root);
            return nlp_error_set(err, NLP_ERR_FORMAT,
                                 "%s: corrupt safetensors header: trailing bytes after the JSON at header byte %ld",
                                 path, (long)(p - hdr));
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: safetensors header is not a JSON object", path);
    }

    const unsigned char *data = base + 8 + hlen;
    uint64_t data_size = size - 8 - hlen;
    size_t count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
        count++;
    nlp_st_tensor *nt = realloc(st->tensors, (st->n_tensors + count + 1) * sizeof *nt);
    if (!nt) {
        cJSON_Delete(root);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    }
    st->tensors = nt;
    nlp_status s = NLP_OK;
    cJSON_ArrayForEach(item, root) {
        if (!item->string) {
            s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: header entry without a name", path);
            break;
        }
        if (strcmp(item->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(item) && !cJSON_IsNull(item)) {
                s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"__metadata__\" is not an object", path);
                break;
            }
            continue;
        }
        nlp_st_tensor *t = &st->tensors[st->n_tensors];
        memset(t, 0, sizeof *t);
        s = entry_parse(path, item, data, data_size, t, err);
        if (s != NLP_OK)
            break;
        t->file = file_idx;
        t->name = strdup(item->string);
        if (!t->name) {
            s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        st->n_tensors++;
    }
    cJSON_Delete(root);
    return s;
}

/* Sort the tensors by name; refuse duplicates and overlapping data. */
static nlp_status st_finish(nlp_st *st, nlp_error *err)
{
    if (st->n_tensors > 1)
        qsort(st->tensors, st->n_tensors, sizeof *st->tensors, tensor_cmp);
    for (size_t i = 1; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0) {
            const nlp_st_tensor *a = &st->tensors[i - 1], *b = &st->tensors[i];
            if (a->file == b->file)
                return nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s is listed twice",
                                     st->files[a->file].path, a->name);
            return nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s is in both %s and %s",
                                 st->source, a->name, st->files[a->file].path, st->files[b->file].path);
        }
    for (int f = 0; f < st->n_files; f++) {
        nlp_status s = check_overlap(st, f, err);
        if (s != NLP_OK)
            return s;
    }
    return NLP_OK;
}

nlp_status nlp_st_open(const char *path, nlp_st **out, nlp_error *err)
{
    *out = NULL;
    nlp_st *st = st_new(path);
    if (!st)
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", path);
    nlp_status s = st_add_file(st, path, err);
    if (s == NLP_OK)
        s = st_finish(st, err);
    if (s != NLP_OK) {
        nlp_st_close(st);
        return s;
    }
    *out = st;
    return NLP_OK;
}

/* A shard name must stay inside the checkpoint directory. */
static int shard_name_ok(const char *name)
{
    if (!*name || name[0] == '/')
        return 0;
    for (const char *p = name; *p;) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        if (!q)
            break;
        p = q + 1;
    }
    return 1;
}

nlp_status nlp_st_open_index(const char *index_path, nlp_st **out, nlp_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    nlp_status s = nlp_read_file(index_path, &text, &len, err);
    if (s != NLP_OK)
        return s;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        long at = end ? (long)(end - text) : 0;
        free(text);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: invalid JSON near byte %ld", index_path, at);
    }
    free(text);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(root);
        return nlp_error_set(err, NLP_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    }

    /* directory of the index, for resolving shard names */
    char *dir = strdup(index_path);
    nlp_st *st = st_new(index_path);
    if (!dir || !st) {
        free(dir);
        nlp_st_close(st);
        cJSON_Delete(root);
        return nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", index_path);
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        strcpy(dir, ".");

    /* map each distinct shard once, in order of first mention */
    char **names = NULL;
    int n_names = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, wm) {
        if (!cJSON_IsString(e) || !shard_name_ok(e->valuestring)) {
            s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: weight_map entry for %s is not a shard file name",
                              index_path, e->string ? e->string : "?");
            break;
        }
        int seen = 0;
        for (int i = 0; i < n_names && !seen; i++)
            seen = strcmp(names[i], e->valuestring) == 0;
        if (seen)
            continue;
        char **nn = realloc(names, (size_t)(n_names + 1) * sizeof *nn);
        if (!nn) {
            s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", index_path);
            break;
        }
        names = nn;
        names[n_names++] = e->valuestring;
        char *p = nlp_path_join(dir, e->valuestring);
        if (!p) {
            s = nlp_error_set(err, NLP_ERR_NOMEM, "%s: out of memory", index_path);
            break;
        }
        if (!nlp_file_exists(p))
            s = nlp_error_set(err, NLP_ERR_IO, "%s: shard %s is missing", index_path, p);
        else
            s = st_add_file(st, p, err);
        free(p);
        if (s != NLP_OK)
            break;
    }
    if (s == NLP_OK && n_names == 0)
        s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: \"weight_map\" is empty", index_path);
    if (s == NLP_OK)
        s = st_finish(st, err);
    /* every listed tensor must be in the shard the index names */
    if (s == NLP_OK) {
        cJSON_ArrayForEach(e, wm) {
            const nlp_st_tensor *t = nlp_st_find(st, e->string);
            int shard = -1;
            for (int i = 0; i < n_names; i++)
                if (strcmp(names[i], e->valuestring) == 0)
                    shard = i;
            if (!t || t->file != shard) {
                s = nlp_error_set(err, NLP_ERR_FORMAT, "%s: tensor %s is listed in shard %s but is not there",
                                  index_path, e->string, e->valuestring);
                break;
            }
        }
    }
    free(names);
    free(dir);
    cJSON_Delete(root);
    if (s != NLP_OK) {
        nlp_st_close(st);
        return s;
    }
    *out = st;
    return NLP_OK;
}

/*
 * cmd_quantize.c - `nlp quantize IN_DIR OUT_DIR`: a smaller copy of a
 * checkpoint, with the dense weights of every encoder layer stored as int8
 * (default) or bf16.
 *
 * Format of OUT_DIR/model.safetensors (every other file of IN_DIR is copied
 * as it is):
 *   - int8: each 2-D weight NAME of an encoder layer (a name containing
 *     ".layer." and ending in ".weight") becomes NAME, dtype I8, shape
 *     [N][K], q = round(w / s[n]) clamped to [-127, 127], plus NAME_scale,
 *     dtype F32, shape [N], s[n] = max_k |w[n][k]| / 127 (one scale per
 *     output channel, the scheme of the int8 kernels, so an int8 context
 *     recovers exactly these values).  The loader reads NAME as q * s[n].
 *   - bf16: the same weights become BF16 (round to nearest even).
 *   Every other tensor keeps its dtype and bytes.  The header's
 *   __metadata__ carries "format": "pt" and "nlp_quantize": "int8"|"bf16".
 * Sharded checkpoints are not handled yet.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "model/safetensors.h"

static const char *CMD = "quantize";

static void usage(void)
{
    printf("usage: nlp quantize [--dtype int8|bf16] IN_DIR OUT_DIR\n"
           "Write a copy of the checkpoint in IN_DIR to OUT_DIR with the dense weights of\n"
           "every encoder layer stored as int8 (one F32 scale per output channel, in\n"
           "NAME_scale) or bf16.  Other tensors and files are copied unchanged.\n"
           "Tasks run an int8 copy on the int8 kernels unless given --dtype; a bf16\n"
           "copy runs as fp32 unless given --dtype bf16.\n"
           "\nOptions:\n"
           "  --dtype D   int8 (default) or bf16\n"
           "  -h, --help  show this help and exit\n");
}

static int is_layer_weight(const nlp_st_tensor *t)
{
    size_t n = strlen(t->name);
    return t->ndim == 2 && strstr(t->name, ".layer.") && n > 7
           && strcmp(t->name + n - 7, ".weight") == 0
           && (t->dtype == NLP_DT_F32 || t->dtype == NLP_DT_F16 || t->dtype == NLP_DT_BF16);
}

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[1 << 16];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in && ferror(in))
        ok = 0;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* One output tensor: its header entry and where its bytes come from. */
typedef struct {
    const nlp_st_tensor *src;
    int kind;               /* 0 copy, 1 int8 values, 2 int8 scales, 3 bf16 */
    size_t bytes;
} out_tensor;

static int write_tensor(FILE *fp, const nlp_st *st, const out_tensor *o, nlp_error *err)
{
    const nlp_st_tensor *t = o->src;
    if (o->kind == 0)
        return fwrite(t->data, 1, t->nbytes, fp) == t->nbytes ? 0 : -1;
    size_t N = (size_t)t->shape[0], K = (size_t)t->shape[1];
    float *w = malloc(N * K * sizeof *w);
    if (!w || nlp_st_to_f32(st, t, w, err) != NLP_OK) {
        free(w);
        return -1;
    }
    int rc = 0;
    for (size_t n = 0; n < N && rc == 0; n++) {
        const float *row = w + n * K;
        float amax = 0.0f;
        for (size_t k = 0; k < K; k++)
            amax = fmaxf(amax, fabsf(row[k]));
        float inv = amax > 0.0f ? 127.0f / amax : 0.0f, scale = amax / 127.0f;
        if (o->kind == 2) {
            rc = fwrite(&scale, sizeof scale, 1, fp) == 1 ? 0 : -1;
        } else if (o->kind == 1) {
            int8_t q[4096];
            for (size_t k0 = 0; k0 < K && rc == 0; k0 += sizeof q) {
                size_t m = K - k0 < sizeof q ? K - k0 : sizeof q;
                for (size_t k = 0; k < m; k++) {
                    long v = lrintf(row[k0 + k] * inv);
                    q[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
                }
                rc = fwrite(q, 1, m, fp) == m ? 0 : -1;
            }
        } else {
            for (size_t k = 0; k < K && rc == 0; k++) {
                uint16_t h = to_bf16(row[k]);
                rc = fwrite(&h, 2, 1, fp) == 1 ? 0 : -1;
            }
        }
    }
    free(w);
    return rc;
}

static int quantize(const char *in, const char *out, int bf16)
{
    nlp_error err = {0};
    char path[4096], opath[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", in);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(opath, sizeof opath, "%s/model.safetensors.index.json", in);
        if (stat(opath, &sb) == 0)
            fprintf(stderr, "nlp %s: %s: sharded checkpoints are not supported yet\n", CMD, in);
        else
            fprintf(stderr, "nlp %s: %s: no model.safetensors\n", CMD, in);
        return CLI_EXIT_FAIL;
    }
    /* the input must be a model the loader accepts */
    nlp_model *model = NULL;
    if (nlp_model_load(in, &model, &err) != NLP_OK)
        return cli_fail(CMD, &err);
    nlp_model_free(model);
    nlp_st *st = NULL;
    if (nlp_st_open(path, &st, &err) != NLP_OK)
        return cli_fail(CMD, &err);
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "nlp %s: cannot create %s: %s\n", CMD, out, strerror(errno));
        nlp_st_close(st);
        return CLI_EXIT_FAIL;
    }
    snprintf(opath, sizeof opath, "%s/model.safetensors", out);
    if (stat(opath, &sb) == 0 && stat(path, &sb) == 0) {
        struct stat a, b;
        if (stat(in, &a) == 0 && stat(out, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            fprintf(stderr, "nlp %s: OUT_DIR is IN_DIR (%s)\n", CMD, out);
            nlp_st_close(st);
            return CLI_EXIT_FAIL;
        }
    }

    out_tensor *ot = calloc(st->n_tensors * 2 + 1, sizeof *ot);
    cJSON *hdr = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(hdr, "__metadata__");
    cJSON_AddStringToObject(meta, "format", "pt");
    cJSON_AddStringToObject(meta, "nlp_quantize", bf16 ? "bf16" : "int8");
    size_t n = 0, off = 0, nq = 0;
    for (size_t i = 0; ot && i < st->n_tensors; i++) {
        const nlp_st_tensor *t = &st->tensors[i];
        int q = is_layer_weight(t);
        nq += (size_t)q;
        ot[n].src = t;
        ot[n].kind = q ? (bf16 ? 3 : 1) : 0;
        ot[n].bytes = q ? (size_t)t->numel * (bf16 ? 2 : 1) : t->nbytes;
        cJSON *e = cJSON_AddObjectToObject(hdr, t->name);
        cJSON_AddStringToObject(e, "dtype", q ? (bf16 ? "BF16" : "I8") : nlp_dtype_name(t->dtype));
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + ot[n].bytes)));
        off += ot[n++].bytes;
        if (q && !bf16) {
            char name[600];
            snprintf(name, sizeof name, "%s_scale", t->name);
            ot[n].src = t;
            ot[n].kind = 2;
            ot[n].bytes = (size_t)t->shape[0] * sizeof(float);
            e = cJSON_AddObjectToObject(hdr, name);
            cJSON_AddStringToObject(e, "dtype", "F32");
            shape = cJSON_AddArrayToObject(e, "shape");
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[0]));
            offs = cJSON_AddArrayToObject(e, "data_offsets");
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + ot[n].bytes)));
            off += ot[n++].bytes;
        }
    }
    char *json = ot ? cJSON_PrintUnformatted(hdr) : NULL;
    cJSON_Delete(hdr);
    int rc = CLI_EXIT_FAIL;
    FILE *fp = json ? fopen(opath, "wb") : NULL;
    if (!fp) {
        fprintf(stderr, "nlp %s: cannot write %s: %s\n", CMD, opath, json ? strerror(errno) : "out of memory");
        goto done;
    }
    size_t hl = strlen(json), padded = (hl + 7) / 8 * 8;
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(le, 1, 8, fp) == 8 && fwrite(json, 1, hl, fp) == hl;
    for (size_t i = hl; ok && i < padded; i++)
        ok = fputc(' ', fp) != EOF;
    for (size_t i = 0; ok && i < n; i++)
        ok = write_tensor(fp, st, &ot[i], &err) == 0;
    if (fclose(fp) != 0)
        ok = 0;
    if (!ok) {
        if (err.msg[0])
            cli_fail(CMD, &err);
        else
            fprintf(stderr, "nlp %s: cannot write %s: %s\n", CMD, opath, strerror(errno));
        goto done;
    }
    /* every other file of the checkpoint folder */
    DIR *d = opendir(in);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, "model.safetensors", 17) == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", in, de->d_name);
        char dst[4096];
        snprintf(dst, sizeof dst, "%s/%s", out, de->d_name);
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && copy_file(path, dst) != 0) {
            fprintf(stderr, "nlp %s: cannot copy %s to %s\n", CMD, path, dst);
            closedir(d);
            goto done;
        }
    }
    if (d)
        closedir(d);
    /* the copy must load */
    if (nlp_model_load(out, &model, &err) != NLP_OK) {
        cli_fail(CMD, &err);
        goto done;
    }
    nlp_model_free(model);
    printf("%s: %zu layer weights as %s, %.1f MiB -> %.1f MiB\n", out, nq, bf16 ? "bf16" : "int8",
           (double)nlp_st_mapped_bytes(st) / 1048576.0, (double)(8 + padded + off) / 1048576.0);
    rc = CLI_EXIT_OK;
done:
    free(json);
    free(ot);
    nlp_st_close(st);
    return rc;
}

int cmd_quantize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dtype", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int bf16 = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (strcmp(optarg, "int8") == 0)
                bf16 = 0;
            else if (strcmp(optarg, "bf16") == 0)
                bf16 = 1;
            else
                return cli_usage_error(CMD, "--dtype must be int8 or bf16, got '%s'", optarg);
            break;
        case 'h': usage(); return CLI_EXIT_OK;
        case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(CMD, "expected IN_DIR and OUT_DIR");
    return quantize(argv[optind], argv[optind + 1], bf16);
}

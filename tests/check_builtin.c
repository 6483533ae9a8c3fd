/*
 * check_builtin.c - the built-in models (nlp/builtin.h) and their
 * resolution: the search path ($NLP_MODELS_PATH in order, then the source
 * tree's models/ for this uninstalled test binary), finding a model only
 * where NAME/config.json exists, the first folder of a name winning, the
 * list's architecture and size, bad names, the error naming the folders
 * searched, and nlp_hub_resolve turning a built-in name into its folder
 * with an unreachable Hub and an empty cache (no network, no cache), a
 * missing model nlp ships into that error, and any other name into a Hub
 * look-up.  Also the shared helpers of core/util/paths.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nlp/nlp.h"
#include "util/util.h"

#define FIX NLP_TEST_DATA "/models"

static char g_tmp[64];

static char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_tmp, name);
    return buf[k];
}

static void link_model(const char *folder, const char *name, const char *fixture)
{
    char to[512], at[512];
    snprintf(to, sizeof to, "%s/%s", FIX, fixture);
    snprintf(at, sizeof at, "%s/%s/%s", g_tmp, folder, name);
    ck_assert_int_eq(symlink(to, at), 0);
}

/* a/: nlp-mini (tiny-bert-mlm), nlp-mini-sst2, other (a folder without
 * config.json); b/: nlp-mini again (tiny-distilbert-mlm), extra */
static void setup(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/check_builtin.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_tmp));
    ck_assert_int_eq(mkdir(tmp_path("a"), 0755), 0);
    ck_assert_int_eq(mkdir(tmp_path("b"), 0755), 0);
    ck_assert_int_eq(mkdir(tmp_path("a/other"), 0755), 0);
    ck_assert_int_eq(mkdir(tmp_path("empty"), 0755), 0);
    link_model("a", "nlp-mini", "tiny-bert-mlm");
    link_model("a", "nlp-mini-sst2", "tiny-bert-sst2");
    link_model("b", "nlp-mini", "tiny-distilbert-mlm");
    link_model("b", "extra", "tiny-bert");
    setenv("HF_ENDPOINT", "http://127.0.0.1:9", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
    setenv("HF_HUB_CACHE", tmp_path("cache"), 1);
    unsetenv("HF_HUB_OFFLINE");
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static void set_path(const char *value)
{
    char v[600];
    snprintf(v, sizeof v, "%s", value);
    for (char *p = strstr(v, "TMP"); p; p = strstr(v, "TMP")) {
        char rest[600];
        snprintf(rest, sizeof rest, "%s%s", g_tmp, p + 3);
        snprintf(p, sizeof v - (size_t)(p - v), "%s", rest);
    }
    setenv("NLP_MODELS_PATH", v, 1);
}

START_TEST(test_search_path)
{
    ck_assert_int_eq(nlp_running_uninstalled(), 1);
    set_path("TMP/a::TMP/b:TMP/a");
    char **dirs = NULL;
    nlp_error err = {0};
    ck_assert_msg(nlp_builtin_search_path(&dirs, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dirs[0], tmp_path("a"));
    ck_assert_str_eq(dirs[1], tmp_path("b"));
    ck_assert_str_eq(dirs[2], NLP_SRC_MODELS_DIR);   /* uninstalled: the source tree's */
    ck_assert_ptr_null(dirs[3]);
    nlp_search_path_free(dirs);
    unsetenv("NLP_MODELS_PATH");
    ck_assert_int_eq(nlp_builtin_search_path(&dirs, &err), NLP_OK);
    ck_assert_str_eq(dirs[0], NLP_SRC_MODELS_DIR);
    ck_assert_ptr_null(dirs[1]);
    nlp_search_path_free(dirs);
    ck_assert_int_eq(nlp_builtin_search_path(NULL, &err), NLP_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_find)
{
    set_path("TMP/a:TMP/b");
    char *dir = NULL;
    nlp_error err = {0};
    ck_assert_msg(nlp_builtin_find("nlp-mini", &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir, tmp_path("a/nlp-mini"));   /* the first folder wins */
    free(dir);
    ck_assert_int_eq(nlp_builtin_find("extra", &dir, &err), NLP_OK);
    ck_assert_str_eq(dir, tmp_path("b/extra"));
    free(dir);
    /* a folder without config.json is no model */
    ck_assert_int_eq(nlp_builtin_find("other", &dir, &err), NLP_ERR_NOT_FOUND);
    ck_assert_ptr_null(dir);
    char want[NLP_ERROR_MAX];
    snprintf(want, sizeof want,
             "built-in model other not found (searched: %s, %s, %s); give --model ID or DIR",
             tmp_path("a"), tmp_path("b"), NLP_SRC_MODELS_DIR);
    ck_assert_str_eq(err.msg, want);
    const char *bad[] = {"", ".", "..", "a/b", "nlp-mini@main", NULL};
    for (size_t i = 0; bad[i]; i++) {
        ck_assert_int_eq(nlp_builtin_find(bad[i], &dir, &err), NLP_ERR_INVALID_ARG);
        ck_assert_ptr_nonnull(strstr(err.msg, "not a built-in model name"));
    }
    ck_assert_int_eq(nlp_builtin_find(NULL, &dir, &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_builtin_find("x", NULL, &err), NLP_ERR_INVALID_ARG);
}
END_TEST

static uint64_t dir_bytes(const char *fixture)
{
    static const char *files[] = {"config.json", "vocab.txt", "model.safetensors",
                                  "tokenizer_config.json", "special_tokens_map.json",
                                  "tokenizer.json", "README.md", NULL};
    uint64_t total = 0;
    for (size_t i = 0; files[i]; i++) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s/%s", FIX, fixture, files[i]);
        if (stat(p, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    return total;
}

START_TEST(test_list)
{
    set_path("TMP/b:TMP/a:TMP/empty:TMP/missing");
    nlp_builtin_model *m = NULL;
    size_t n = 0;
    nlp_error err = {0};
    ck_assert_msg(nlp_builtin_list(&m, &n, &err) == NLP_OK, "%s", err.msg);
    /* the source tree's models/ may hold the real ones: look at ours */
    const char *names[] = {"extra", "nlp-mini", "nlp-mini-sst2"};
    const char *dirs[] = {"b/extra", "b/nlp-mini", "a/nlp-mini-sst2"};
    const char *archs[] = {"BertForMaskedLM", "DistilBertForMaskedLM", "BertForSequenceClassification"};
    const char *fix[] = {"tiny-bert", "tiny-distilbert-mlm", "tiny-bert-sst2"};
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_assert_int_lt(strcmp(m[i - 1].name, m[i].name), 0);   /* sorted, distinct */
        ck_assert_str_ne(m[i].name, "other");
        for (size_t k = 0; k < 3; k++)
            if (strcmp(m[i].name, names[k]) == 0) {
                ck_assert_str_eq(m[i].dir, tmp_path(dirs[k]));
                ck_assert_str_eq(m[i].architecture, archs[k]);
                ck_assert_uint_eq(m[i].size, dir_bytes(fix[k]));
                seen++;
            }
    }
    ck_assert_uint_eq(seen, 3);
    nlp_builtin_list_free(m, n);
    nlp_builtin_list_free(NULL, 0);
    ck_assert_int_eq(nlp_builtin_list(NULL, &n, &err), NLP_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_resolve)
{
    set_path("TMP/a");
    nlp_hub_opts o;
    memset(&o, 0, sizeof o);
    char *dir = NULL;
    nlp_error err = {0};
    /* a built-in name: its folder, though the Hub is unreachable */
    ck_assert_msg(nlp_hub_resolve("nlp-mini", &o, &dir, &err) == NLP_OK, "%s", err.msg);
    ck_assert_str_eq(dir, tmp_path("a/nlp-mini"));
    free(dir);
    /* an existing directory stays a directory */
    ck_assert_int_eq(nlp_hub_resolve(FIX "/tiny-bert", &o, &dir, &err), NLP_OK);
    ck_assert_str_eq(dir, FIX "/tiny-bert");
    free(dir);
    /* a model nlp ships, missing: the built-in error, not a Hub look-up
     * (unless the source tree has the real one) */
    ck_assert(nlp_builtin_reserved("nlp-mini-nli"));
    char *own = NULL;
    if (nlp_builtin_find("nlp-mini-nli", &own, NULL) != NLP_OK) {
        ck_assert_int_eq(nlp_hub_resolve("nlp-mini-nli", &o, &dir, &err), NLP_ERR_NOT_FOUND);
        ck_assert_ptr_nonnull(strstr(err.msg, "built-in model nlp-mini-nli not found (searched: "));
        ck_assert_ptr_null(dir);
    }
    free(own);
    /* any other name goes to the Hub (unreachable here), so does name@rev */
    ck_assert(!nlp_builtin_reserved("bert-base-uncased"));
    ck_assert(!nlp_builtin_reserved(NULL));
    ck_assert_int_eq(nlp_hub_resolve("bert-base-uncased", &o, &dir, &err), NLP_ERR_NETWORK);
    ck_assert_int_eq(nlp_hub_resolve("nlp-mini@main", &o, &dir, &err), NLP_ERR_NETWORK);
    /* offline: a built-in model still resolves, the Hub id does not */
    o.offline = 1;
    ck_assert_int_eq(nlp_hub_resolve("nlp-mini", &o, &dir, &err), NLP_OK);
    free(dir);
    ck_assert_int_eq(nlp_hub_resolve("bert-base-uncased", &o, &dir, &err), NLP_ERR_OFFLINE);
}
END_TEST

START_TEST(test_installed_dir)
{
    /* not below the configured prefix: returned as it is */
    char *d = nlp_installed_dir("/nonexistent/nlp/models");
    ck_assert_str_eq(d, "/nonexistent/nlp/models");
    free(d);
    /* below it, but this binary's installation has no such folder */
    d = nlp_installed_dir(NLP_PREFIX "/share/nlp-check-nonexistent");
    ck_assert_str_eq(d, NLP_PREFIX "/share/nlp-check-nonexistent");
    free(d);
    nlp_strlist l = {0};
    char **v = NULL;
    nlp_strlist_add(&l, "x", 1);
    nlp_strlist_add(&l, "", 0);
    nlp_strlist_add(&l, "xy", 1);   /* "x" again */
    setenv("NLP_CHECK_PATH", "y::x:z", 1);
    nlp_strlist_add_env(&l, "NLP_CHECK_PATH");
    ck_assert_int_eq(nlp_strlist_finish(&l, &v, "test", NULL), NLP_OK);
    ck_assert_str_eq(v[0], "x");
    ck_assert_str_eq(v[1], "y");
    ck_assert_str_eq(v[2], "z");
    ck_assert_ptr_null(v[3]);
    nlp_search_path_free(v);
    ck_assert_int_eq(nlp_strlist_finish(&l, &v, "test", NULL), NLP_OK);   /* empty */
    ck_assert_ptr_null(v[0]);
    nlp_search_path_free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("builtin");
    TCase *tc = tcase_create("builtin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_search_path);
    tcase_add_test(tc, test_find);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_resolve);
    tcase_add_test(tc, test_installed_dir);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

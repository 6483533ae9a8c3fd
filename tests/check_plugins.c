/*
 * check_plugins.c - the plugin loader and the host side of the ABI: good
 * plugins load and run through the host table; every kind of bad file is
 * refused with its own one-line message while the others still load; the
 * search path; task option values; result values as JSON.
 *
 * The test plugins are built from the sources in tests/plugins into
 * NLP_TEST_PLUGINS; each case copies the ones it needs into a fresh
 * temporary directory.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nlp/nlp.h"

#ifndef NLP_TEST_PLUGINS
#error "NLP_TEST_PLUGINS must name the directory of the built test plugins"
#endif

/* ------------------------------------------------------------ helpers */

typedef struct diag {
    char lines[16][1024];
    int n;
} diag;

static void collect(void *user, const char *line)
{
    diag *d = user;
    if (d->n < 16)
        snprintf(d->lines[d->n++], sizeof d->lines[0], "%s", line);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_plugins.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tree(const char *dir)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Copy NLP_TEST_PLUGINS/<from>.so to tmpdir/<to>; returns the new path. */
static const char *install_plugin(const char *from, const char *to, char *path, size_t cap)
{
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s.so", NLP_TEST_PLUGINS, from);
    snprintf(path, cap, "%s/%s", tmpdir, to);
    FILE *in = fopen(src, "rb");
    ck_assert_msg(in != NULL, "%s: %s (build the test plugins first)", src, strerror(errno));
    FILE *out = fopen(path, "wb");
    ck_assert_ptr_nonnull(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Open a registry on one directory, collecting refusals. */
static nlp_registry *open_one(const char *dir, diag *d)
{
    const char *dirs[] = {dir, NULL};
    nlp_registry *reg = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_registry_open(dirs, collect, d, &reg, &err), NLP_OK);
    ck_assert_ptr_nonnull(reg);
    return reg;
}

/* The refusal message for path (real path of the copy), as expected. */
static void expect_line(const diag *d, int i, const char *path, const char *reason)
{
    char want[2048];
    snprintf(want, sizeof want, "%s: %s", path, reason);
    ck_assert_int_gt(d->n, i);
    ck_assert_str_eq(d->lines[i], want);
}

/* ------------------------------------------------------------ loading */

START_TEST(test_good_plugin)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_good", "good.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_int_eq(d.n, 0);
    ck_assert_uint_eq(nlp_registry_count(reg), 1);
    const nlp_plugin_info *info = nlp_registry_at(reg, 0);
    ck_assert_str_eq(info->plugin->name, "good");
    ck_assert_str_eq(info->plugin->version, "1.2.3");
    ck_assert_uint_eq(info->plugin->n_tasks, 3);
    char real[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(p, real));
    ck_assert_str_eq(info->path, real);
    ck_assert_ptr_null(nlp_registry_at(reg, 1));

    const nlp_plugin_info *found = NULL;
    const nlp_task_desc *task = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_registry_find(reg, "echo-qa", &found, &task, &err), NLP_OK);
    ck_assert_ptr_eq(found, info);
    ck_assert_str_eq(task->name, "echo-qa");
    ck_assert_int_eq(task->input, NLP_INPUT_QUESTION_CONTEXT);
    ck_assert_int_eq(nlp_registry_find(reg, "summarize", &found, &task, &err),
                     NLP_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "no plugin serves the task 'summarize'");
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_abi_mismatch)
{
    make_tmpdir();
    char p[PATH_MAX], real[PATH_MAX];
    install_plugin("tp_abi", "abi.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 1);
    ck_assert_ptr_nonnull(realpath(p, real));
    char reason[128];
    snprintf(reason, sizeof reason, "ABI version mismatch: plugin has %u, host expects %u",
             NLP_PLUGIN_ABI_VERSION + 98, NLP_PLUGIN_ABI_VERSION);
    expect_line(&d, 0, p, reason);
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_size_mismatch)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_size", "size.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 1);
    char reason[128];
    snprintf(reason, sizeof reason,
             "descriptor size mismatch: plugin has %zu bytes, host expects at least %zu",
             offsetof(nlp_plugin, create), sizeof(nlp_plugin));
    expect_line(&d, 0, p, reason);
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_missing_symbol)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_nosym", "nosym.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 1);
    expect_line(&d, 0, p, "no entry symbol nlp_plugin_entry");
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_not_elf)
{
    make_tmpdir();
    char p[PATH_MAX], q[PATH_MAX];
    snprintf(p, sizeof p, "%s/notes.so", tmpdir);
    write_file(p, "this is a text file, not a shared object\n");
    snprintf(q, sizeof q, "%s/empty.so", tmpdir);
    write_file(q, "");
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 2);
    expect_line(&d, 0, q, "not a shared object (no ELF header)");
    expect_line(&d, 1, p, "not a shared object (no ELF header)");
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_undefined_symbol)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_undef", "undef.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 1);
    /* "PATH: cannot load: <dlerror naming the symbol>" */
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s: cannot load: ", p);
    ck_assert_msg(strncmp(d.lines[0], want, strlen(want)) == 0, "%s", d.lines[0]);
    ck_assert_ptr_nonnull(strstr(d.lines[0], "undefined symbol: nlp_no_such_symbol"));
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_no_tasks)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_notasks", "notasks.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 1);
    expect_line(&d, 0, p, "malformed descriptor: no tasks");
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_duplicate_task)
{
    make_tmpdir();
    char good[PATH_MAX], dup[PATH_MAX], real[PATH_MAX];
    install_plugin("tp_good", "a_good.so", good, sizeof good);
    install_plugin("tp_dup", "b_dup.so", dup, sizeof dup);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 1);
    ck_assert_str_eq(nlp_registry_at(reg, 0)->plugin->name, "good");
    ck_assert_int_eq(d.n, 1);
    ck_assert_ptr_nonnull(realpath(good, real));
    char reason[PATH_MAX + 128];
    snprintf(reason, sizeof reason, "task 'echo' is already served by plugin 'good' (%s)", real);
    expect_line(&d, 0, dup, reason);
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

/* Every bad kind in one directory: the good plugin still loads. */
START_TEST(test_one_bad_never_stops_others)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_abi", "1.so", p, sizeof p);
    install_plugin("tp_nosym", "2.so", p, sizeof p);
    snprintf(p, sizeof p, "%s/3.so", tmpdir);
    write_file(p, "garbage");
    install_plugin("tp_good", "4.so", p, sizeof p);
    install_plugin("tp_size", "5.so", p, sizeof p);
    install_plugin("tp_dup", "6.so", p, sizeof p);
    snprintf(p, sizeof p, "%s/README", tmpdir);   /* not *.so: ignored */
    write_file(p, "not a plugin");
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 1);
    ck_assert_str_eq(nlp_registry_at(reg, 0)->plugin->name, "good");
    ck_assert_int_eq(d.n, 5);
    ck_assert_ptr_nonnull(strstr(d.lines[0], "/1.so: ABI version mismatch"));
    ck_assert_ptr_nonnull(strstr(d.lines[1], "/2.so: no entry symbol"));
    ck_assert_ptr_nonnull(strstr(d.lines[2], "/3.so: not a shared object"));
    ck_assert_ptr_nonnull(strstr(d.lines[3], "/5.so: descriptor size mismatch"));
    ck_assert_ptr_nonnull(strstr(d.lines[4], "/6.so: task 'echo' is already served"));
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

/* The same file reached through two directories loads once, silently. */
START_TEST(test_same_file_twice)
{
    make_tmpdir();
    char p[PATH_MAX], link[PATH_MAX];
    install_plugin("tp_good", "good.so", p, sizeof p);
    snprintf(link, sizeof link, "%s/sub", tmpdir);
    ck_assert_int_eq(mkdir(link, 0755), 0);
    snprintf(link, sizeof link, "%s/sub/alias.so", tmpdir);
    ck_assert_int_eq(symlink(p, link), 0);
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    const char *dirs[] = {tmpdir, sub, NULL};
    nlp_registry *reg = NULL;
    diag d = {0};
    ck_assert_int_eq(nlp_registry_open(dirs, collect, &d, &reg, NULL), NLP_OK);
    ck_assert_uint_eq(nlp_registry_count(reg), 1);
    ck_assert_int_eq(d.n, 0);
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_empty_directory)
{
    make_tmpdir();
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 0);
    nlp_error err = {0};
    ck_assert_int_eq(nlp_registry_find(reg, "echo", NULL, NULL, &err), NLP_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "no plugin serves the task 'echo'");
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_missing_and_file_directories)
{
    make_tmpdir();
    char missing[PATH_MAX], file[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/absent", tmpdir);
    snprintf(file, sizeof file, "%s/plain", tmpdir);
    write_file(file, "x");
    const char *dirs[] = {missing, file, NULL};
    nlp_registry *reg = NULL;
    diag d = {0};
    ck_assert_int_eq(nlp_registry_open(dirs, collect, &d, &reg, NULL), NLP_OK);
    ck_assert_uint_eq(nlp_registry_count(reg), 0);
    ck_assert_int_eq(d.n, 2);
    expect_line(&d, 0, missing, "cannot read directory: No such file or directory");
    expect_line(&d, 1, file, "not a directory");
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

/* The unreadable cases, run by a process without root's override of
 * permission bits; returns 0 when every expectation holds, else the
 * number of the first that failed. */
static int unreadable_cases(const char *dir, const char *p)
{
    const char *dirs[] = {dir, tmpdir, NULL};
    nlp_registry *reg = NULL;
    diag d = {0};
    char want[2][PATH_MAX + 64];
    snprintf(want[0], sizeof want[0], "%s: cannot read directory: Permission denied", dir);
    snprintf(want[1], sizeof want[1], "%s: cannot read: Permission denied", p);
    if (nlp_registry_open(dirs, collect, &d, &reg, NULL) != NLP_OK)
        return 1;
    int rc = nlp_registry_count(reg) != 0 ? 2
             : d.n != 2                   ? 3
             : strcmp(d.lines[0], want[0]) != 0 ? 4
             : strcmp(d.lines[1], want[1]) != 0 ? 5
                                                : 0;
    if (rc)
        for (int i = 0; i < d.n; i++)
            fprintf(stderr, "check_plugins: unreadable: got '%s'\n", d.lines[i]);
    nlp_registry_free(reg);
    return rc;
}

START_TEST(test_unreadable)
{
    make_tmpdir();
    ck_assert_int_eq(chmod(tmpdir, 0755), 0);
    char dir[PATH_MAX], p[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/locked", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0), 0);
    install_plugin("tp_good", "good.so", p, sizeof p);
    ck_assert_int_eq(chmod(p, 0), 0);
    int rc;
    if (geteuid() != 0) {
        rc = unreadable_cases(dir, p);
    } else {
        /* root reads through permission bits: check as an unprivileged
         * user (nobody, 65534) in a child process */
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(100);
            _exit(unreadable_cases(dir, p));
        }
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        rc = WEXITSTATUS(status);
        if (rc == 100)
            fprintf(stderr, "check_plugins: SKIP unreadable cases: cannot drop root privileges\n");
    }
    ck_assert_msg(rc == 0 || rc == 100, "unreadable cases: expectation %d failed", rc);
    remove_tree(tmpdir);
}
END_TEST

/* ------------------------------------------------ running through ABI */

START_TEST(test_run_through_host_table)
{
    make_tmpdir();
    char p[PATH_MAX];
    install_plugin("tp_good", "good.so", p, sizeof p);
    diag d = {0};
    nlp_registry *reg = open_one(tmpdir, &d);
    const nlp_plugin_info *info = NULL;
    const nlp_task_desc *task = NULL;
    ck_assert_int_eq(nlp_registry_find(reg, "echo", &info, &task, NULL), NLP_OK);

    nlp_optset *opts = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_optset_create(task->options, &opts, &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(opts, "top-k", "2", &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(opts, "mode", "upper", &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(opts, "shout", NULL, &err), NLP_OK);
    nlp_task_host th = {opts, NULL, NULL, 0};
    nlp_task_args args = {.task = "echo", .batch_size = 4, .host_data = &th};
    const nlp_host_api *host = nlp_host_api_get();
    ck_assert_uint_eq(host->abi_version, NLP_PLUGIN_ABI_VERSION);
    ck_assert_uint_eq(host->struct_size, sizeof(nlp_host_api));

    void *state = NULL;
    ck_assert_int_eq(info->plugin->create(host, &args, &state, &err), NLP_OK);
    nlp_input in[2] = {{"hi", 2, NULL, 0}, {"fail", 4, NULL, 0}};
    nlp_value *res[2] = {NULL, NULL};
    nlp_error errs[2];
    memset(errs, 0, sizeof errs);
    ck_assert_int_eq(info->plugin->run(state, in, 2, res, errs), NLP_OK);
    ck_assert_ptr_nonnull(res[0]);
    ck_assert_ptr_null(res[1]);
    ck_assert_int_eq(errs[1].status, NLP_ERR_INPUT);
    ck_assert_str_eq(errs[1].msg, "echo: this input fails");
    char *json = nlp_value_to_json(res[0], 0);
    /* scale 1.5 (the declared default) / rank */
    ck_assert_str_eq(json, "[{\"score\":1.5,\"text\":\"HI!\",\"rank\":1,\"label\":null},"
                           "{\"score\":0.75,\"text\":\"HI!\",\"rank\":2,\"label\":null}]");
    free(json);
    ck_assert_int_eq(nlp_value_kind_of(res[0]), NLP_VALUE_ARRAY);
    ck_assert_uint_eq(nlp_value_len(res[0]), 2);
    const nlp_value *row = nlp_value_at(res[0], 1);
    ck_assert_str_eq(nlp_value_key(row, 1), "text");
    ck_assert_str_eq(nlp_value_string(nlp_value_get(row, "text")), "HI!");
    ck_assert(nlp_value_number(nlp_value_get(row, "score")) == 0.75);
    ck_assert_int_eq(nlp_value_kind_of(nlp_value_get(row, "label")), NLP_VALUE_NULL);
    nlp_value_free(res[0]);
    info->plugin->destroy(state);
    nlp_optset_free(opts);
    nlp_registry_free(reg);
    remove_tree(tmpdir);
}
END_TEST

/* ------------------------------------------------------------ options */

static const nlp_option test_opts[] = {
    {"top-k", NLP_OPT_INT, "5", NULL, "k", NULL},
    {"threshold", NLP_OPT_FLOAT, NULL, NULL, "t", NULL},
    {"aggregation", NLP_OPT_CHOICE, "none", "none|simple|first", "a", NULL},
    {"multi-label", NLP_OPT_FLAG, NULL, NULL, "m", NULL},
    {"labels", NLP_OPT_STRING, NULL, NULL, "l", NULL},
    {NULL, 0, NULL, NULL, NULL, NULL},
};

START_TEST(test_option_values)
{
    nlp_optset *s = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_optset_create(test_opts, &s, &err), NLP_OK);
    nlp_task_host th = {s, NULL, NULL, 0};
    nlp_task_args args = {.host_data = &th};
    const nlp_host_api *h = nlp_host_api_get();
    /* defaults */
    ck_assert_str_eq(nlp_optset_get(s, "top-k"), "5");
    ck_assert_int_eq(h->opt_int(&args, "top-k", 1), 5);
    ck_assert_ptr_null(h->opt_string(&args, "threshold"));
    ck_assert(h->opt_float(&args, "threshold", 0.25) == 0.25);
    ck_assert_int_eq(h->opt_flag(&args, "multi-label"), 0);
    ck_assert_ptr_null(h->opt_string(&args, "undeclared"));
    ck_assert_int_eq(h->opt_int(&args, "undeclared", 7), 7);
    ck_assert_ptr_eq(nlp_optset_find(s, "labels"), &test_opts[4]);
    ck_assert_ptr_null(nlp_optset_find(s, "nope"));
    /* given values */
    ck_assert_int_eq(nlp_optset_set(s, "top-k", "12", &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(s, "threshold", "0.5", &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(s, "aggregation", "first", &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(s, "multi-label", NULL, &err), NLP_OK);
    ck_assert_int_eq(nlp_optset_set(s, "labels", "a,b", &err), NLP_OK);
    ck_assert_int_eq(h->opt_int(&args, "top-k", 1), 12);
    ck_assert(h->opt_float(&args, "threshold", 0) == 0.5);
    ck_assert_str_eq(h->opt_string(&args, "aggregation"), "first");
    ck_assert_int_eq(h->opt_flag(&args, "multi-label"), 1);
    ck_assert_str_eq(h->opt_string(&args, "labels"), "a,b");
    /* wrong types: the previous value stays */
    ck_assert_int_eq(nlp_optset_set(s, "top-k", "3x", &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "option --top-k expects an integer, got '3x'");
    ck_assert_int_eq(nlp_optset_set(s, "top-k", "", &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_optset_set(s, "top-k", "99999999999999999999999", &err),
                     NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_optset_set(s, "threshold", "inf", &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "option --threshold expects a number, got 'inf'");
    ck_assert_int_eq(nlp_optset_set(s, "threshold", "nan", &err), NLP_ERR_INVALID_ARG);
    ck_assert_int_eq(nlp_optset_set(s, "aggregation", "simpl", &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "option --aggregation expects one of none|simple|first, got 'simpl'");
    ck_assert_int_eq(nlp_optset_set(s, "labels", NULL, &err), NLP_ERR_INVALID_ARG);
    ck_assert_str_eq(err.msg, "option --labels needs a value");
    ck_assert_int_eq(nlp_optset_set(s, "colour", "red", &err), NLP_ERR_NOT_FOUND);
    ck_assert_str_eq(err.msg, "unknown option --colour");
    ck_assert_int_eq(h->opt_int(&args, "top-k", 1), 12);
    nlp_optset_free(s);
}
END_TEST

/* ------------------------------------------------------------- values */

START_TEST(test_values_json)
{
    const nlp_host_api *h = nlp_host_api_get();
    nlp_value *o = h->value_object();
    h->value_set(o, "sequence", h->value_string("caf\xc3\xa9 \"x\"\n", 10));
    nlp_value *labels = h->value_array();
    h->value_push(labels, h->value_string("a", 1));
    h->value_push(labels, h->value_string("b", 1));
    h->value_set(o, "labels", labels);
    h->value_set(o, "n", h->value_int(-42));
    h->value_set(o, "ok", h->value_bool(1));
    h->value_set(o, "x", h->value_number(0.125));
    h->value_set(o, "n", h->value_int(7));          /* replaces */
    h->value_push(o, h->value_null());               /* not an array: dropped */
    h->value_set(labels, "k", h->value_null());      /* not an object: dropped */
    char *json = nlp_value_to_json(o, 0);
    ck_assert_str_eq(json, "{\"sequence\":\"caf\xc3\xa9 \\\"x\\\"\\n\",\"labels\":[\"a\",\"b\"],"
                           "\"n\":7,\"ok\":true,\"x\":0.125}");
    free(json);
    json = nlp_value_to_json(o, 1);
    ck_assert_ptr_nonnull(strchr(json, '\n'));
    free(json);
    ck_assert_uint_eq(nlp_value_len(o), 5);
    ck_assert_str_eq(nlp_value_key(o, 4), "x");
    ck_assert_ptr_null(nlp_value_at(o, 5));
    ck_assert_int_eq(nlp_value_bool(nlp_value_get(o, "ok")), 1);
    h->value_free(o);

    nlp_value *parsed = nlp_value_parse_json("{\"question\":\"q\",\"context\":3}", 29);
    ck_assert_str_eq(nlp_value_string(nlp_value_get(parsed, "question")), "q");
    ck_assert_ptr_null(nlp_value_string(nlp_value_get(parsed, "context")));
    nlp_value_free(parsed);
    ck_assert_ptr_null(nlp_value_parse_json("{oops", 5));
    json = nlp_value_to_json(NULL, 0);
    ck_assert_str_eq(json, "null");
    free(json);

    /* numbers as Python's repr() writes them (values from /usr/bin/python3:
     * repr(float(numpy.float32(0.1))) and so on); JSON has no NaN */
    nlp_value *a = h->value_array();
    h->value_push(a, h->value_number((double)0.1f));
    h->value_push(a, h->value_number((double)0.66181790828704834f));
    h->value_push(a, h->value_number(1e21));
    h->value_push(a, h->value_number(2.5e-7));
    h->value_push(a, h->value_number(1.0 / 3.0));
    h->value_push(a, h->value_int(-9007199254740991LL));
    h->value_push(a, h->value_number(NAN));
    json = nlp_value_to_json(a, 0);
    ck_assert_str_eq(json, "[0.10000000149011612,0.6618179082870483,1e+21,2.5e-07,"
                           "0.3333333333333333,-9007199254740991,null]");
    free(json);
    h->value_free(a);
}
END_TEST

START_TEST(test_warn_sink)
{
    /* warnings go to the sink of the args they come with: two plugin
     * instances (two pipelines) warn their own hosts */
    diag d = {0}, e = {0};
    const nlp_host_api *h = nlp_host_api_get();
    nlp_task_host none = {NULL, NULL, NULL, 0}, to_d = {NULL, collect, &d, 0}, to_e = {NULL, collect, &e, 0};
    nlp_task_args a0 = {.host_data = &none}, a1 = {.host_data = &to_d}, a2 = {.host_data = &to_e};
    h->warn(&a0, "dropped without a sink %d", 1);
    h->warn(NULL, "dropped without args");
    h->warn(&a1, "first %s\nsecond", "line");
    h->warn(&a2, "for e");
    ck_assert_int_eq(d.n, 1);
    ck_assert_str_eq(d.lines[0], "first line second");
    ck_assert_int_eq(e.n, 1);
    ck_assert_str_eq(e.lines[0], "for e");
    nlp_error err = {0};
    ck_assert_int_eq(h->error_set(&err, NLP_ERR_INPUT, "input %d", 3), NLP_ERR_INPUT);
    ck_assert_str_eq(err.msg, "input 3");
}
END_TEST

/* -------------------------------------------------------- search path */

START_TEST(test_search_path)
{
    setenv("NLP_PLUGIN_PATH", "/p/one::/p/two:/first", 1);
    char **dirs = NULL;
    nlp_error err = {0};
    ck_assert_int_eq(nlp_plugin_search_path("/first", &dirs, &err), NLP_OK);
    ck_assert_str_eq(dirs[0], "/first");
    ck_assert_str_eq(dirs[1], "/p/one");
    ck_assert_str_eq(dirs[2], "/p/two");
    /* then only existing installed / build-tree directories */
    for (size_t i = 3; dirs[i]; i++) {
        struct stat st;
        ck_assert_msg(stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode), "%s", dirs[i]);
    }
    nlp_search_path_free(dirs);
    unsetenv("NLP_PLUGIN_PATH");
    ck_assert_int_eq(nlp_plugin_search_path(NULL, &dirs, &err), NLP_OK);
    ck_assert_ptr_nonnull(dirs);
    nlp_search_path_free(dirs);
}
END_TEST

static Suite *plugins_suite(void)
{
    Suite *s = suite_create("plugins");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, test_good_plugin);
    tcase_add_test(tc, test_abi_mismatch);
    tcase_add_test(tc, test_size_mismatch);
    tcase_add_test(tc, test_missing_symbol);
    tcase_add_test(tc, test_not_elf);
    tcase_add_test(tc, test_undefined_symbol);
    tcase_add_test(tc, test_no_tasks);
    tcase_add_test(tc, test_duplicate_task);
    tcase_add_test(tc, test_one_bad_never_stops_others);
    tcase_add_test(tc, test_same_file_twice);
    tcase_add_test(tc, test_empty_directory);
    tcase_add_test(tc, test_missing_and_file_directories);
    tcase_add_test(tc, test_unreadable);
    tcase_add_test(tc, test_run_through_host_table);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("host");
    tcase_add_test(th, test_option_values);
    tcase_add_test(th, test_values_json);
    tcase_add_test(th, test_warn_sink);
    tcase_add_test(th, test_search_path);
    suite_add_tcase(s, th);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plugins_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

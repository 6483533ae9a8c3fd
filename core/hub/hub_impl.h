/*
 * hub_impl.h - helpers shared by the hub downloader (hub.c) and the cache
 * listing (hub_cache.c).  Private to libnlp.
 */
#ifndef NLP_HUB_IMPL_H
#define NLP_HUB_IMPL_H

#include <stddef.h>
#include "nlp/status.h"
#include "util/util.h"

/* 1 if id is a hub repo id "name" or "org/name" (letters, digits, '-', '_',
 * '.'; no "..", no "--", parts not starting or ending with '-' or '.'). */
int nlp_hub_valid_repo_id(const char *id);

/* 1 if path is a safe relative path: not empty, not absolute, no "." or
 * ".." component, no empty component, no backslash or control byte. */
int nlp_hub_valid_relpath(const char *path);

/* The cache root: cache_dir, $HF_HUB_CACHE, $HF_HOME/hub,
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.  New
 * string (free()), NULL when out of memory. */
char *nlp_hub_default_cache(const char *cache_dir);

/* "org/name" -> "models--org--name" (new string, free()). */
char *nlp_hub_repo_folder(const char *id);

/* 1 if e can name a blob or a snapshot: 1 to 128 letters, digits, '-'
 * or '_'. */
int nlp_hub_valid_etag(const char *e);

/* An ETag header value as a blob name: a weak "W/" prefix, surrounding
 * quotes and blanks dropped.  New string (free()), NULL when out of
 * memory; check it with nlp_hub_valid_etag. */
char *nlp_hub_etag_normalize(const char *v);

/* Longest header value kept (longer ones are ignored). */
#define NLP_HUB_MAX_HEADER 16384

/* What the downloader keeps from one HTTP response's headers. */
typedef struct nlp_hub_resp {
    long status;
    char *commit;             /* X-Repo-Commit */
    char *etag;               /* ETag */
    char *linked_etag;        /* X-Linked-Etag */
    char *location;           /* Location */
    long long linked_size;    /* X-Linked-Size, -1 if absent or not a number */
    long long content_length; /* Content-Length, -1 if absent or not a number */
    long long range_start;    /* first byte of Content-Range, -1 if absent */
} nlp_hub_resp;

/* Free the strings of r and set every field to "absent". */
void nlp_hub_resp_reset(nlp_hub_resp *r);

/* Take in one header line buf[0..len) as libcurl hands it over (not
 * NUL-terminated; CRLF included).  A status line resets r.  Reads nothing
 * outside buf. */
void nlp_hub_header_line(nlp_hub_resp *r, const char *buf, size_t len);

/* 1 if name matches one of the NULL-terminated fnmatch patterns. */
int nlp_hub_match_any(const char *const *pats, const char *name);

/* Append a copy of s to the NULL-terminated list *list of *n entries
 * unless present.  0, or -1 when out of memory. */
int nlp_hub_list_add(char ***list, size_t *n, const char *s);
void nlp_hub_list_free(char **list, size_t n);

/* The model-info answer of a revision: its commit and the files to fetch. */
typedef struct nlp_hub_info {
    char *commit;        /* "sha": a valid etag (no '/', no "..") */
    char **files;        /* [nfiles] + NULL: the default files and inc, minus exc */
    size_t nfiles;
    int has_st;          /* lists model.safetensors */
    int has_index;       /* lists model.safetensors.index.json */
    char others[256];    /* weight files of other formats, comma-separated */
} nlp_hub_info;

/* Parse the model-info JSON json[0..len) (need not be NUL-terminated).
 * inc / exc are the include / exclude patterns (NULL for none); what
 * names the revision in messages.  Every listed name is checked with
 * nlp_hub_valid_relpath.  On success release *info with
 * nlp_hub_info_free(); on failure it holds nothing. */
nlp_status nlp_hub_parse_model_info(const char *json, size_t len, const char *what,
                                    const char *const *inc, const char *const *exc,
                                    nlp_hub_info *info, nlp_error *err);
void nlp_hub_info_free(nlp_hub_info *info);

/* The shard names of a safetensors index text[0..len) (weight_map
 * values), appended to *list / *n with nlp_hub_list_add.  path names the
 * index in messages.  Every name is checked with nlp_hub_valid_relpath. */
nlp_status nlp_hub_parse_index(const char *text, size_t len, const char *path, char ***list,
                               size_t *n, nlp_error *err);

#endif /* NLP_HUB_IMPL_H */

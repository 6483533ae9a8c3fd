/*
 * hub_impl.h - helpers shared by the hub downloader (hub.c) and the cache
 * listing (hub_cache.c).  Private to libnlp.
 */
#ifndef NLP_HUB_IMPL_H
#define NLP_HUB_IMPL_H

/* printf into a new string (free()), NULL when out of memory. */
char *nlp_hub_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

#endif /* NLP_HUB_IMPL_H */

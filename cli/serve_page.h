/*
 * serve_page.h - the page `nlp serve` shows at /: pick a task, type text,
 * see the result.  Self-contained (no external assets).
 */
#ifndef NLP_SERVE_PAGE_H
#define NLP_SERVE_PAGE_H

extern const char serve_page_html[];

#endif /* NLP_SERVE_PAGE_H */

/*
 * nlp/export.h - NLP_API, the mark on every function libnlp exports.
 *
 * libnlp is built with hidden visibility: only functions declared with
 * NLP_API in the public headers are visible to programs and plugins; the
 * library's internal functions stay internal.
 */
#ifndef NLP_EXPORT_H
#define NLP_EXPORT_H

#if defined(__GNUC__)
#define NLP_API __attribute__((visibility("default")))
#else
#define NLP_API
#endif

#endif /* NLP_EXPORT_H */

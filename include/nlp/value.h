/*
 * nlp/value.h - result values: the JSON-like trees (object, array, string,
 * number, bool, null) that task plugins build through the host table and
 * that pipelines hand to their callers.
 *
 * A value added to a container belongs to it; the root belongs to whoever
 * received it and is freed with nlp_value_free().  Reading never
 * allocates: children and strings are owned by their parent.
 */
#ifndef NLP_VALUE_H
#define NLP_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include "nlp/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nlp_value nlp_value;

typedef enum nlp_value_kind {
    NLP_VALUE_NULL = 0,
    NLP_VALUE_BOOL = 1,
    NLP_VALUE_NUMBER = 2,
    NLP_VALUE_STRING = 3,
    NLP_VALUE_ARRAY = 4,
    NLP_VALUE_OBJECT = 5,
    NLP_VALUE_INVALID = 6
} nlp_value_kind;

/* Parse JSON text (len bytes) into a new value, or NULL when it is not
 * JSON or memory runs out. */
NLP_API nlp_value *nlp_value_parse_json(const char *text, size_t len);

/* Compact (pretty = 0) or indented JSON text of v, numbers printed in the
 * shortest form that reads back exactly (as Python's json does); a new
 * string (free()), or NULL when out of memory. */
NLP_API char *nlp_value_to_json(const nlp_value *v, int pretty);

/* Free v and everything it holds.  v may be NULL. */
NLP_API void nlp_value_free(nlp_value *v);

/* Building (what plugins reach through the host table): each returns a
 * new value, or NULL when out of memory. */
NLP_API nlp_value *nlp_value_object(void);
NLP_API nlp_value *nlp_value_array(void);
NLP_API nlp_value *nlp_value_string_new(const char *s, size_t len); /* s NULL: null */
NLP_API nlp_value *nlp_value_number_new(double x);
NLP_API nlp_value *nlp_value_int_new(int64_t x);
NLP_API nlp_value *nlp_value_bool_new(int b);
NLP_API nlp_value *nlp_value_null_new(void);
/* Set key of object to v (replacing an earlier one), append v to array;
 * v then belongs to the container (freed here when the container is
 * NULL or not of that kind). */
NLP_API void nlp_value_set(nlp_value *object, const char *key, nlp_value *v);
NLP_API void nlp_value_push(nlp_value *array, nlp_value *v);

/* Reading.  Children are owned by their parent.  For objects,
 * nlp_value_key() gives the key of child i. */
NLP_API nlp_value_kind nlp_value_kind_of(const nlp_value *v);
NLP_API size_t nlp_value_len(const nlp_value *v);         /* array/object children */
NLP_API const nlp_value *nlp_value_at(const nlp_value *v, size_t i);
NLP_API const char *nlp_value_key(const nlp_value *v, size_t i);
NLP_API const nlp_value *nlp_value_get(const nlp_value *object, const char *key);
NLP_API double nlp_value_number(const nlp_value *v);      /* 0 unless a number */
NLP_API int nlp_value_bool(const nlp_value *v);
NLP_API const char *nlp_value_string(const nlp_value *v); /* NULL unless a string */

#ifdef __cplusplus
}
#endif
#endif /* NLP_VALUE_H */

/*
 * relbias.c - MPNet's relative attention bias (relbias.h): the bucket of
 * each relative position and the per-head table the attention adds.
 * Computed once per forward pass into the encoder's arena; no allocation.
 */
#include <math.h>

#include "relbias.h"

int nlp_relbias_bucket(long rel)
{
    const int half = NLP_RELBIAS_BUCKETS / 2;   /* buckets per side */
    const int exact = half / 2;                 /* distances with a bucket each */
    const int side = rel > 0 ? half : 0;        /* keys after the query */
    const long n = rel > 0 ? rel : -rel;
    if (n < exact)
        return side + (int)n;
    /* exact + log(n / exact) / log(max_distance / exact) * (half - exact),
     * truncated, in float32 like torch */
    const float lg = logf((float)n / (float)exact) /
                     (float)log((double)NLP_RELBIAS_MAX_DISTANCE / exact);
    const long large = exact + (long)(lg * (float)(half - exact));
    return side + (int)(large < half - 1 ? large : half - 1);
}

size_t nlp_relbias_floats(size_t nh, size_t T)
{
    return T ? nh * (2 * T - 1) : 0;
}

void nlp_relbias_table(float *out, const float *W, size_t nh, size_t T)
{
    const size_t width = 2 * T - 1;
    for (size_t r = 0; r < width; r++) {
        const float *row = W + (size_t)nlp_relbias_bucket((long)r - (long)(T - 1)) * nh;
        for (size_t h = 0; h < nh; h++)
            out[h * width + r] = row[h];
    }
}

/*
 * relbias.h - MPNet's relative attention bias (private to libnlp): T5's
 * bidirectional relative-position buckets and the per-head bias they
 * select, added to the attention scores of every layer
 * (nlp_attention_bias_forward in layers.h).
 */
#ifndef NLP_RELBIAS_H
#define NLP_RELBIAS_H

#include <stddef.h>

/* The buckets MPNet looks up (MPNetEncoder.compute_position_bias always
 * uses 32, whatever relative_attention_num_buckets says) and the distance
 * from which every key falls in the last bucket of its side. */
#define NLP_RELBIAS_BUCKETS 32
#define NLP_RELBIAS_MAX_DISTANCE 128

/* The bucket of a key rel = key - query positions away: keys after the
 * query take buckets 16..31, the query itself and keys before it 0..15;
 * within a side distances below 8 have one bucket each, the rest share
 * logarithmically wider ones up to NLP_RELBIAS_MAX_DISTANCE (computed in
 * float32 as Hugging Face does).  Returns 0..NLP_RELBIAS_BUCKETS-1. */
int nlp_relbias_bucket(long rel);

/* Floats of the table nlp_relbias_table fills for nh heads and sequences
 * up to T tokens: nh * (2T - 1). */
size_t nlp_relbias_floats(size_t nh, size_t T);

/* out[nh][2T-1]: out[h][rel + T - 1] = W[bucket(rel)][h] for every
 * relative position rel in [-(T-1), T-1], from the bias embedding
 * W[buckets][nh] (at least NLP_RELBIAS_BUCKETS rows).  Query i of a row
 * then reads its keys' biases contiguously from out[h] + T - 1 - i. */
void nlp_relbias_table(float *out, const float *W, size_t nh, size_t T);

#endif /* NLP_RELBIAS_H */

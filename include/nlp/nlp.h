/*
 * nlp/nlp.h - umbrella header for libnlp.
 *
 * Layers, bottom up: status (errors), tokenizer (text to ids), model
 * (config.json and weights), encoder (forward pass and head building
 * blocks), train (backward pass and optimizer), metrics (evaluation
 * scores), plugin (the task plugin ABI), registry (loading plugins, the
 * host side of the ABI), checkpoint
 * (writing safetensors checkpoints, quantized copies), bench (peaks and
 * timing), buf (a growable byte buffer).
 */
#ifndef NLP_NLP_H
#define NLP_NLP_H

#include "nlp/export.h"
#include "nlp/status.h"
#include "nlp/tokenizer.h"
#include "nlp/model.h"
#include "nlp/encoder.h"
#include "nlp/train.h"
#include "nlp/metrics.h"
#include "nlp/dataset.h"
#include "nlp/train_run.h"
#include "nlp/plugin.h"
#include "nlp/hub.h"
#include "nlp/builtin.h"
#include "nlp/registry.h"
#include "nlp/value.h"
#include "nlp/options.h"
#include "nlp/pipeline.h"
#include "nlp/checkpoint.h"
#include "nlp/bench.h"
#include "nlp/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, e.g. "0.1.0". */
NLP_API const char *nlp_version(void);

#ifdef __cplusplus
}
#endif
#endif /* NLP_NLP_H */

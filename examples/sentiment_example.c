/*
 * sentiment_example.c - libnlp's pipeline API from a C program: sentiment
 * of three sentences, then a whole CSV scored into a new one.  Uses only
 * the public headers.
 *
 *   cc sentiment_example.c $(pkg-config --cflags --libs nlp) -o sentiment_example
 *   ./sentiment_example MODEL_DIR [IN.csv TEXT_COLUMN OUT.csv]
 *
 * Prints one JSON line per sentence ({"label", "score"}, as Hugging Face's
 * pipeline), then the corpus summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nlp/nlp.h>

static int score_sentences(nlp_pipeline *p)
{
    const char *texts[] = {"this film was great, i loved it.", "what a terrible waste of time.",
                           "Not bad at all!"};
    nlp_input in[3];
    for (int i = 0; i < 3; i++)
        in[i] = (nlp_input){texts[i], strlen(texts[i]), NULL, 0};
    nlp_pipeline_result r[3];
    nlp_error err;
    if (nlp_pipeline_run(p, in, 3, r, &err) != NLP_OK) {
        fprintf(stderr, "sentiment_example: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        char *json = nlp_pipeline_result_json(&r[i]);   /* a result or {"error": ...} */
        printf("%s\n", json ? json : "null");
        free(json);
    }
    nlp_pipeline_results_clear(r, 3);
    return 0;
}

static int score_csv(nlp_pipeline *p, const char *in, const char *column, const char *out)
{
    nlp_corpus_job job;
    memset(&job, 0, sizeof job);
    job.input = in;
    job.output = out;
    job.text_column = column;
    nlp_corpus_stats st;
    nlp_error err;
    if (nlp_pipeline_run_corpus(p, &job, &st, &err) != NLP_OK) {
        fprintf(stderr, "sentiment_example: %s\n", err.msg);
        return 1;
    }
    printf("%zu rows read, %zu written, %zu skipped\n", st.read, st.written, st.skipped);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 5) {
        fprintf(stderr, "usage: sentiment_example MODEL_DIR [IN.csv TEXT_COLUMN OUT.csv]\n");
        return 2;
    }
    nlp_pipeline_opts opts = NLP_PIPELINE_OPTS_INIT;
    opts.model = argv[1];
    nlp_pipeline *p;
    nlp_error err;
    if (nlp_pipeline_open("sentiment", &opts, &p, &err) != NLP_OK) {
        fprintf(stderr, "sentiment_example: %s\n", err.msg);
        return 1;
    }
    int rc = score_sentences(p);
    if (rc == 0 && argc == 5)
        rc = score_csv(p, argv[2], argv[3], argv[4]);
    nlp_pipeline_free(p);
    return rc;
}

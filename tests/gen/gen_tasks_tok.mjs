// gen_tasks_tok.mjs - run Transformers.js's token-classification and
// question-answering pipelines over the ONNX exports written by
// gen_tasks_tok.py, as a second, independent check of its Python port of
// Hugging Face's post-processing (on the cases Transformers.js covers:
// token-level results, and one-window question answering).
//
//   node tests/gen/gen_tasks_tok.mjs MODELS_DIR JOBS.json > OUT.json
//
// JOBS.json is a list of {pipeline, model, inputs, options}; an input of
// question-answering is {question, context}.  The output holds one list
// per job with one result per input.  Transformers.js is resolved from
// tests/ref/node_modules.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const refRequire = createRequire(new URL('../ref/package.json', import.meta.url));
const tjs = await import(pathToFileURL(refRequire.resolve('@huggingface/transformers')).href);
const { pipeline, env } = tjs.pipeline ? tjs : tjs.default;

const [modelsDir, jobsPath] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = modelsDir.endsWith('/') ? modelsDir : modelsDir + '/';

const jobs = JSON.parse(readFileSync(jobsPath, 'utf8'));
const out = [];
for (const job of jobs) {
    const pipe = await pipeline(job.pipeline, job.model, { dtype: 'fp32' });
    const results = [];
    for (const input of job.inputs) {
        if (job.pipeline === 'question-answering')
            results.push(await pipe(input.question, input.context, job.options ?? {}));
        else
            results.push(await pipe(input, job.options ?? {}));
    }
    out.push(results);
}
process.stdout.write(JSON.stringify(out) + '\n');

// gen_tasks_cls.mjs - run Transformers.js pipelines over the ONNX exports
// written by gen_tasks_cls.py, as the second, independent reference for
// the fill-mask, sentiment and classify tasks.
//
//   node tests/gen/gen_tasks_cls.mjs MODELS_DIR JOBS.json > OUT.json
//
// JOBS.json is a list of {pipeline, model, inputs, options, candidate_labels};
// the output is the list of the pipelines' results, one list per job, one
// entry per input.  Transformers.js is resolved from tests/ref/node_modules.
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
const cache = new Map();
const out = [];
for (const job of jobs) {
    const key = job.pipeline + ' ' + job.model;
    if (!cache.has(key))
        cache.set(key, await pipeline(job.pipeline, job.model, { dtype: 'fp32' }));
    const pipe = cache.get(key);
    const results = [];
    for (const text of job.inputs) {
        let r;
        if (job.pipeline === 'zero-shot-classification')
            r = await pipe(text, job.candidate_labels, job.options ?? {});
        else
            r = await pipe(text, job.options ?? {});
        results.push(r);
    }
    out.push(results);
}
process.stdout.write(JSON.stringify(out) + '\n');

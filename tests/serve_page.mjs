// serve_page.mjs - the script of `nlp serve`'s page at / run in node
// against a live server, with a minimal stand-in for the DOM: it must list
// the tasks from /info and draw bars (sentiment), highlighted entities
// (ner) and the answer span (qa).  Usage: node serve_page.mjs PORT
// (run by tests/serve_http.py when node is installed).
const port = process.argv[2];
const base = 'http://127.0.0.1:' + port;
const page = await (await fetch(base + '/')).text();
const script = page.slice(page.indexOf('<script>') + 8, page.indexOf('</script>'));
const els = {};
function el(id) {
  if (!els[id])
    els[id] = {id, value: '', hidden: false, textContent: '', innerHTML: '', children: [],
               selectedOptions: [],
               appendChild(o) {
                 this.children.push(o);
                 if (!this.value) { this.value = o.value; this.selectedOptions = [o]; }
               }};
  return els[id];
}
el('text').value = 'My name is Wolfgang and I live in Berlin.';
el('question').value = 'Where do I live?';
globalThis.document = {getElementById: el, createElement: () => ({dataset: {}})};
const realFetch = globalThis.fetch;
globalThis.fetch = (u, o) => realFetch(base + u, o);
(0, eval)(script + '\n;globalThis.run = run; globalThis.mode = mode;');
for (let i = 0; i < 100 && !el('task').children.length; i++)
  await new Promise(r => setTimeout(r, 50));
const want = {sentiment: 'class="bar"', ner: '<mark', qa: '<mark'};
let bad = 0;
for (const t of Object.keys(want)) {
  el('task').value = t;
  mode();
  await run();
  if (el('err').textContent || !el('out').innerHTML.includes(want[t])) {
    console.log('FAIL: page, ' + t + ': ' + el('err').textContent + ' ' + el('out').innerHTML);
    bad++;
  }
}
process.exit(bad ? 1 : 0);

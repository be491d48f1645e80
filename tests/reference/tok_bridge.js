// Tokenizer bridge for the reference scripts (outside the product): reads JSON strings, one per
// line, on stdin and writes the token ids of each (no special tokens added) as a JSON array per
// line. Uses the Hugging Face `tokenizers` Rust core through its Node binding (npm `tokenizers`
// 0.23.2) on the GPT-NeoX-20B tokenizer file given as argv[2] — the same core and file as
// transformers' GPTNeoXTokenizerFast. Run by tokenizer_bridge.py; NODE_PATH must reach the package.
const { Tokenizer } = require('tokenizers');
const readline = require('readline');
const tok = Tokenizer.fromFile(process.argv[2]);
const rl = readline.createInterface({ input: process.stdin, terminal: false });
const queue = [];
let busy = false;
async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const s = queue.shift();
    const enc = await tok.encode(JSON.parse(s), null, { addSpecialTokens: false });
    process.stdout.write(JSON.stringify(enc.getIds()) + '\n');
  }
  busy = false;
}
rl.on('line', (line) => { queue.push(line); drain(); });

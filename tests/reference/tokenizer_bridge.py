"""Reference tokenizer (outside the product): GPT-NeoX-20B BPE through the HF `tokenizers` Rust core.

Python's `tokenizers` package is not installable here (no PyPI; Debian has no package), so the
encoding runs in a Node subprocess (tok_bridge.js, npm `tokenizers` 0.23.2) on
shared/data/tokenizer/20B_tokenizer.json. No special tokens are added, as with transformers 4.40.2's
GPTNeoXTokenizerFast.encode for Pythia. Results are cached per string.
"""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


class NeoxTokenizer:
    def __init__(self, tokenizer_json, node_path):
        env = dict(os.environ, NODE_PATH=node_path)
        self._proc = subprocess.Popen(
            ["node", os.path.join(HERE, "tok_bridge.js"), tokenizer_json],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, encoding="utf-8")
        self._cache = {}

    def encode(self, s):
        if s not in self._cache:
            self._proc.stdin.write(json.dumps(s) + "\n")
            self._proc.stdin.flush()
            self._cache[s] = json.loads(self._proc.stdout.readline())
        return list(self._cache[s])

    def close(self):
        self._proc.stdin.close()
        self._proc.wait()

#!/usr/bin/env python3
"""Checks that `pythia-harness score` on tests/fixtures/demo-pythia/step36 gives the log-probs of
the torch model of train_demo_pythia.py with the same (fp16) weights. Usage, from the repo root:
  /usr/bin/python3 tests/reference/check_demo_pythia.py IN.jsonl OUT.jsonl
(IN: one {"ids": [...]} line; OUT: what `pythia-harness score --input IN --output OUT` wrote)."""
import sys, json, struct, numpy as np, torch
sys.path.insert(0, 'tests/reference')
import train_demo_pythia as T
m = T.NeoX()
f = open('tests/fixtures/demo-pythia/step36/model.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
with torch.no_grad():
    for k, v in h.items():
        if k == '__metadata__': continue
        a, b = v['data_offsets']
        m.w(k).copy_(torch.from_numpy(np.frombuffer(data[a:b], np.float16).reshape(v['shape']).astype(np.float32)))
ids = json.loads(open(sys.argv[1]).read())['ids']
with torch.no_grad():
    lp = m(torch.tensor([ids])).log_softmax(-1)[0]
ours = json.loads(open(sys.argv[2]).readline())
key = [k for k in ours if 'logprob' in k][0]
t = [lp[i, ids[i + 1]].item() for i in range(len(ids) - 1)]
print('max abs diff', max(abs(a - b) for a, b in zip(t, ours[key])), 'n', len(t))

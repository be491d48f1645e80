"""The model side of the reference (outside the product): an lm-eval `TemplateLM` whose
`tok_encode` is the GPT-NeoX-20B tokenizer (tokenizer_bridge.py) and whose
`_loglikelihood_tokens` / `loglikelihood_rolling` restate HFLM's (lm_eval/models/huggingface.py at
4e7e0d4) on gptneox_torch.GPTNeoX, one request at a time (batch 1, so no padding):
inp = (context_enc + continuation_enc)[-(max_length+1):][:-1]; log_softmax over all output logits
(float32) at the last len(continuation_enc) positions; logprob = float32 sum of the selected
entries; is_greedy = every argmax equals the token. Rolling: lm_eval.utils.get_rolling_token_windows
+ make_disjoint_window with prefix token 0, max_length 2048, context_len 1; document value =
Python sum of the window values. HFLM itself cannot be constructed without transformers.
`TemplateLM.loglikelihood` / `_encode_pair` (lm-eval's own) build the token ids.
Every scored request is recorded in `self.records` (what the golden files hold). With
`model=None` logprobs are 0.0 and is_greedy False (requests-only runs).
"""
import torch

from lm_eval import utils
from lm_eval.api.model import TemplateLM


class ReferenceLM(TemplateLM):
    def __init__(self, tokenizer, model=None, max_length=2048):
        super().__init__()
        self.tok = tokenizer
        self.model = model
        self.max_length = max_length
        self.records = []
        self._rolling = None

    @property
    def eot_token_id(self):
        return 0

    @property
    def prefix_token_id(self):
        return 0

    def tok_encode(self, string, add_special_tokens=None, **kwargs):
        return self.tok.encode(string)

    def _score(self, context_enc, continuation_enc):
        whole = (context_enc + continuation_enc)[-(self.max_length + 1):]
        truncated = len(context_enc) + len(continuation_enc) - len(whole)
        inp = whole[:-1]
        n = len(continuation_enc)
        if self.model is None:
            return 0.0, False, truncated
        logits = self.model.logits(inp)[-n:]
        logsm = torch.log_softmax(logits, dim=-1)
        cont = torch.tensor(continuation_enc, dtype=torch.long)
        greedy = bool((logits.argmax(dim=-1) == cont).all())
        lp = float(logsm.gather(1, cont[:, None]).squeeze(1).sum())
        return lp, greedy, truncated

    def _loglikelihood_tokens(self, requests, disable_tqdm=False, **kwargs):
        out = []
        for key, context_enc, continuation_enc in requests:
            lp, greedy, truncated = self._score(context_enc, continuation_enc)
            rec = {"context_ids": context_enc[truncated:],
                   "continuation_ids": continuation_enc, "truncated_left": truncated,
                   "logprob": lp, "is_greedy": greedy}
            if self._rolling is not None:
                self._rolling.append(rec)
            else:
                rec["context"], rec["continuation"] = key
                self.records.append(rec)
            out.append((lp, greedy))
        return out

    def loglikelihood(self, requests, disable_tqdm=False):
        start = len(self.records)
        out = super().loglikelihood(requests, disable_tqdm=disable_tqdm)
        self._tag(requests, start)
        return out

    def _tag(self, requests, start):
        assert len(self.records) - start == len(requests)
        for req, rec in zip(requests, self.records[start:]):
            rec.update(task=req.task_name, doc_id=req.doc_id, idx=req.idx)

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        out = []
        start = len(self.records)
        for (string,) in [req.args for req in requests]:
            tokens = self.tok_encode(string)
            windows = list(map(utils.make_disjoint_window, utils.get_rolling_token_windows(
                token_list=tokens, prefix_token=self.prefix_token_id,
                max_seq_len=self.max_length, context_len=1)))
            self._rolling = []
            nll = self._loglikelihood_tokens([(None,) + w for w in windows])
            total = sum(x[0] for x in nll)
            self.records.append({"text": string, "token_ids": tokens, "n_tokens": len(tokens),
                                 "windows": self._rolling, "logprob": total})
            self._rolling = None
            out.append(total)
        self._tag(requests, start)
        return out

    def generate_until(self, requests, disable_tqdm=False):
        raise NotImplementedError("no generation task is reproduced")

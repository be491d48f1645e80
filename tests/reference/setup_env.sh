#!/bin/bash
# Prepares the reference environment in a scratch directory OUTSIDE the repository (nothing here
# is part of the product or committed): lm-eval at the pinned commit, its package metadata, the
# Node tokenizer binding and the plain tokenizer file. Usage: setup_env.sh LM_EVAL_GIT_DIR [SCRATCH]
#   LM_EVAL_GIT_DIR: a git directory of EleutherAI/lm-evaluation-harness holding commit 4e7e0d4
#   (from the search tool's `fetch github:EleutherAI/lm-evaluation-harness`).
set -euo pipefail
GIT_DIR=$1
SCRATCH=${2:-/work/scratch-fewshot}
COMMIT=4e7e0d47f33bc71070c1d38394bafbb52b117163
REPO=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$SCRATCH"
if [ ! -d "$SCRATCH/lm-eval/lm_eval" ]; then
  git --git-dir="$GIT_DIR" archive "$COMMIT" --prefix=lm-eval/ | tar x -C "$SCRATCH"
fi
# importlib.metadata.version("lm_eval") is read at import; pyproject.toml says 0.4.13.dev0
META="$SCRATCH/lm-eval/lm_eval-0.4.13.dev0.dist-info"
mkdir -p "$META"
printf 'Metadata-Version: 2.1\nName: lm_eval\nVersion: 0.4.13.dev0\n' > "$META/METADATA"
# typing_extensions 4.15.0 (tag 4.15.0 = 9d1637e264b5c1a6b7acee3e907015f89b20c2c9, from
# `fetch github:python/typing_extensions`; TYPING_EXT_GIT_DIR): Debian's 4.4 lacks TypedDict
# extra_items, which lm_eval/result_schema.py uses. Put in a site folder ahead of Debian's.
TE_GIT=${TYPING_EXT_GIT_DIR:-/work/.mirror/python+typing_extensions/repo}
mkdir -p "$SCRATCH/site"
git --git-dir="$TE_GIT" show 9d1637e264b5c1a6b7acee3e907015f89b20c2c9:src/typing_extensions.py > "$SCRATCH/site/typing_extensions.py"
# apt packages (Debian bookworm): torch, numpy, yaml, jinja2, pandas, tqdm, sqlitedict, dill, ...
apt-get install -y python3-torch python3-numpy python3-yaml python3-jinja2 python3-pandas \
  python3-tqdm python3-sqlitedict python3-dill python3-more-itertools python3-filelock \
  python3-packaging python3-regex python3-requests >/dev/null
# Node binding of the HF tokenizers core (npm registry)
[ -d "$SCRATCH/node_modules/tokenizers" ] || (cd "$SCRATCH" && npm install tokenizers@0.23.2 >/dev/null)
zcat "$REPO/tests/fixtures/tokenizer/20B_tokenizer.json.gz" > "$SCRATCH/20B_tokenizer.json"
echo "LM_EVAL_DIR=$SCRATCH/lm-eval REF_SITE=$SCRATCH/site NODE_PATH=$SCRATCH/node_modules TOKENIZER=$SCRATCH/20B_tokenizer.json"

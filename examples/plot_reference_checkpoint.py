"""
Loading a `gliclass` checkpoint
===============================

Checkpoints of the public `gliclass` package (`knowledgator/gliclass-*` on the
Hugging Face hub) load with their own scores: pass the hub id or a local folder as
`model=`. This example builds a tiny random checkpoint with `gliclass` itself, so it
runs offline; with a network, replace the folder with e.g.
`"knowledgator/gliclass-modern-base-v3.0"`.
"""

# %%
import tempfile

import gliclass
import numpy as np
import torch
from transformers import AutoTokenizer, BertConfig

from skgliclass import GLiClassZeroShot, load_pretrained, save_pretrained
from skgliclass.datasets import load_bbc_news
from skgliclass.estimators._base import default_model_path
from skgliclass.modeling.encoder import SPECIAL_TOKENS

tokenizer = AutoTokenizer.from_pretrained(default_model_path())
n = len(tokenizer)
config = gliclass.GLiClassModelConfig(
    encoder_config=BertConfig(
        vocab_size=n, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128
    ),
    encoder_model="tiny-bert",
    class_token_index=n,
    text_token_index=n + 1,
    example_token_index=n + 2,
    pooling_strategy="avg",
    scorer_type="mlp",
    prompt_first=True,
)
torch.manual_seed(0)
reference = gliclass.GLiClassModel(config, from_pretrained=False)
tokenizer.add_tokens(list(SPECIAL_TOKENS), special_tokens=True)
reference.resize_token_embeddings(len(tokenizer))
folder = tempfile.mkdtemp()
reference.save_pretrained(folder)
tokenizer.save_pretrained(folder)

# %%
# The same scores as the reference pipeline, as a scikit-learn estimator.

# %%
texts, _ = load_bbc_news(n_per_class=2, max_chars=300)
labels = ["business", "entertainment", "politics", "sports", "tech"]
clf = GLiClassZeroShot(model=folder, labels=labels, multi_label=True).fit()
ours = clf.predict_proba(texts)

pipe = gliclass.ZeroShotClassificationPipeline(reference.eval(), tokenizer, device="cpu", progress_bar=False)
theirs = np.array([[s for s in pipe([t], labels, threshold=0.0, return_hierarchical=True)[0].values()] for t in texts])
difference = np.abs(ours - theirs).max()
print("largest difference:", difference)
assert difference < 2e-5

# %%
# `save_pretrained` writes the reference format back, which `gliclass` loads.

# %%
model, tok = load_pretrained(folder)
out = save_pretrained(model, tok, tempfile.mkdtemp())
print(sorted(p.name for p in out.iterdir()))

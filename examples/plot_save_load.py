"""
Saving and loading: skops, joblib and reference checkpoints
===========================================================

A fitted estimator keeps its weights as safetensors bytes when pickled, so every
scikit-learn way of saving works. `skops.io` is the safe one: it refuses to load types you
have not trusted, and `skgliclass.TRUSTED_TYPES` names the two it needs. `save_pretrained`
writes a checkpoint folder in the `gliclass` format instead.
"""

# %%
import tempfile
from pathlib import Path

import joblib
import numpy as np
import skops.io as sio

import skgliclass
from skgliclass import GLiClassZeroShot

texts = ["The striker scored twice in the final.", "Parliament passed the budget.", "A faster laptop chip."]
clf = GLiClassZeroShot(labels=["sport", "politics", "technology"]).fit()
expected = clf.predict_proba(texts)
folder = Path(tempfile.mkdtemp())

# %%
# `skops.io`: look at what a file needs before trusting it.

# %%
sio.dump(clf, folder / "clf.skops")
print("types to trust:", sio.get_untrusted_types(file=folder / "clf.skops"))
loaded = sio.load(folder / "clf.skops", trusted=skgliclass.TRUSTED_TYPES)
print("same probabilities:", np.array_equal(loaded.predict_proba(texts), expected))

# %%
# joblib (and pickle) round-trip the same way; only load such files from people you trust.

# %%
joblib.dump(clf, folder / "clf.joblib")
print("joblib, same probabilities:", np.array_equal(joblib.load(folder / "clf.joblib").predict_proba(texts), expected))

# %%
# A checkpoint folder holds the model, not the estimator: give the labels again when loading.
# The same folder loads in the `gliclass` package.

# %%
checkpoint = clf.save_pretrained(folder / "checkpoint")
print(sorted(p.name for p in checkpoint.iterdir()))
again = GLiClassZeroShot(model=str(checkpoint), labels=list(clf.classes_)).fit()
difference = float(np.abs(again.predict_proba(texts) - expected).max())
print("largest difference:", difference)
assert difference < 1e-6

"""
Deploy without torch: export to ONNX and predict with ONNX Runtime
==================================================================

A fitted estimator exports to a folder that predicts with ONNX Runtime and tokenizers alone.
Here the zero-shot default is exported twice, as it is and with int8 weights, and the three
are compared on the same BBC articles: probabilities, agreement and speed.
"""

# %%
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skgliclass import GLiClassZeroShot, TruncationWarning
from skgliclass.datasets import load_bbc_news
from skgliclass.onnx import ONNXClassifier, export

warnings.simplefilter("ignore", TruncationWarning)
texts, topics = load_bbc_news(n_per_class=8, random_state=1, max_chars=1500)
clf = GLiClassZeroShot(labels=sorted(set(topics)), precision="fp32").fit()

work = Path(tempfile.mkdtemp())
plain = export(clf, work / "zero-shot")
small = export(clf, work / "zero-shot-int8", quantize=True)
print(sorted(p.name for p in plain.iterdir()))
print(
    f"model.onnx: {(plain / 'model.onnx').stat().st_size / 2**20:.0f} MB, int8: "
    f"{(small / 'model.onnx').stat().st_size / 2**20:.0f} MB"
)

# %%
# The exported folder predicts what the estimator predicts. Its model card says what the model
# is for and how it was made.

# %%
runs = {"torch fp32": clf, "ONNX": ONNXClassifier(plain), "ONNX int8": ONNXClassifier(small)}
proba, seconds = {}, {}
for name, model in runs.items():
    model.predict_proba(texts[:2])  # the first call sets things up
    start = time.perf_counter()
    proba[name] = model.predict_proba(texts)
    seconds[name] = time.perf_counter() - start
reference = proba["torch fp32"]
for name, p in proba.items():
    change = np.abs(p - reference).max()
    agree = (p.argmax(1) == reference.argmax(1)).mean()
    speed = len(texts) / seconds[name]
    print(f"{name:10s} {speed:5.1f} texts/s  largest change {change:.1e}  same top label {agree:.0%}")
assert np.abs(proba["ONNX"] - reference).max() < 1e-4
print((plain / "README.md").read_text().split("## Intended use")[0])

# %%
# The int8 graph is smaller and faster, and moves the probabilities a little.

# %%
fig, ax = plt.subplots(figsize=(5, 4))
for name in ("ONNX", "ONNX int8"):
    ax.scatter(reference.ravel(), proba[name].ravel(), s=8, label=name, alpha=0.7)
ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
ax.set(xlabel="torch fp32 probability", ylabel="exported probability", title="The same articles, three runtimes")
ax.legend()
plt.tight_layout()

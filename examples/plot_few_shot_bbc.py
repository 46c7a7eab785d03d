"""
Few-shot fine-tuning on BBC News
================================

Eight labelled articles per topic are enough for `GLiClassifier` to beat a logistic
regression on frozen sentence embeddings. With no arguments it fine-tunes the embedded
all-MiniLM-L6-v2 (about a minute on two CPU cores).
"""

# %%
import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, classification_report

from skgliclass import GLiClassifier
from skgliclass.datasets import load_bbc_news

texts, topics = load_bbc_news(max_chars=1500, random_state=0)
texts, topics = np.array(texts, dtype=object), np.array(topics)
rng = np.random.default_rng(0)
train = np.concatenate([rng.choice(np.flatnonzero(topics == t), 8, replace=False) for t in np.unique(topics)])
test = rng.choice(np.setdiff1d(np.arange(len(texts)), train), 300, replace=False)

# %%
clf = GLiClassifier(random_state=0).fit(texts[train], topics[train])  # verbose=1: a progress bar with the loss
print("loss per epoch:", np.round(clf.history_["epoch_loss"], 3))
predicted = clf.predict(texts[test])
print(classification_report(topics[test], predicted))
assert accuracy_score(topics[test], predicted) > 0.85

# %%
# The confusion matrix shows which topics still get mixed up.

# %%
try:
    import matplotlib.pyplot as plt

    ConfusionMatrixDisplay.from_predictions(topics[test], predicted, xticks_rotation=45)
    plt.tight_layout()
    plt.show()
except ImportError:
    print("install matplotlib for the plot")

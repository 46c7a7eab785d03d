"""
Which words made the label: zero-shot and few-shot side by side
===============================================================

`explain` gives every word of a text its share of a label's score (integrated gradients over
the text's token embeddings, summed over each word's pieces). Here the same BBC articles are
explained by the zero-shot default, which knows the topics only by their names, and by a
model fine-tuned on eight articles per topic, which learnt its own idea of each topic.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

texts, topics = load_bbc_news(n_per_class=20, random_state=0, max_chars=600)
texts, topics = np.array(texts, dtype=object), np.array(topics)
labels = sorted(set(topics))
train = np.concatenate([np.flatnonzero(topics == t)[:8] for t in labels])
shown = [int(np.setdiff1d(np.flatnonzero(topics == t), train)[0]) for t in ("business", "tech")]

zero_shot = GLiClassZeroShot(labels=labels).fit()
few_shot = GLiClassifier(random_state=0).fit(texts[train], topics[train])

# %%
# Each explanation names the predicted label, its probability and the words that raised its
# score most. The attributions of a label add up to its score's change from a text with its
# words taken out; `delta` is what is left over.

# %%
explained = {name: clf.explain(texts[shown]) for name, clf in [("zero-shot", zero_shot), ("few-shot", few_shot)]}
for name, explanations in explained.items():
    for e in explanations:
        words = ", ".join(w for w, _ in e.top(k=6))
        print(f"{name:9s} {e.labels[0]:8s} p={e.probabilities[0]:.2f} delta={e.delta[0]:+.3f}  {words}")
        assert abs(e.delta[0]) < 0.05 * abs(e.attributions[:, 0].sum() - e.delta[0]) + 0.02

# %%
# The top words, per model, for the two articles.

# %%
fig, axes = plt.subplots(2, 2, figsize=(9, 6))
for row, (name, explanations) in enumerate(explained.items()):
    for col, e in enumerate(explanations):
        e.plot(k=8, ax=axes[row, col])
        axes[row, col].set_title(f"{name}: {e.labels[0]}", fontsize=9)
fig.tight_layout()

# %%
# In a notebook, an explanation shows itself as the text with each word shaded (green
# raises the label's score, red lowers it); `to_html()` gives the same markup.

# %%
html = explained["few-shot"][1].to_html()
print(html[:300], "...")
assert html.startswith('<div class="skgliclass-explanation">')

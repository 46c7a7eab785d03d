"""
Learning from a reviewer's verdicts
===================================

A person reviewing a classifier's output rarely writes labels; they say "right" or "wrong" to
the label they are shown. `propose` chooses what to show (one label per text, with the
chance it had of being shown), the reviewer fills in the verdicts whenever they can, and
`GLiClassifier.fit(feedback=log)` learns from the log. Here a function plays the reviewer,
answering from BBC's true topics. About a minute on two CPU cores.
"""

# %%
import numpy as np
from sklearn.metrics import f1_score

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import BBC_LABELS, load_bbc_news

texts, topics = load_bbc_news(random_state=0)
texts = [" ".join(text.split()[:60]) for text in texts]  # the opening of each article
TOPICS = list(BBC_LABELS)
pool, truth = texts[:120], dict(zip(texts[:120], topics[:120], strict=True))
test, test_topics = texts[-300:], topics[-300:]


def macro_f1(model) -> float:
    return f1_score(test_topics, model.predict(test), average="macro")


# %%
# The zero-shot model proposes a topic for 120 articles; the reviewer judges each one.

# %%
start = GLiClassZeroShot(labels=TOPICS).fit()
log = start.propose(pool, random_state=0)
log["verdict"] = [int(truth[text] == label) for text, label in zip(log["text"], log["label"], strict=True)]
print(f"{len(log['verdict'])} verdicts, {np.mean(log['verdict']):.0%} of the proposals right")
for text, label, score, verdict in list(zip(log["text"], log["label"], log["score"], log["verdict"], strict=True))[:3]:
    print(f"  {label:13s} p={score:.2f} {'right' if verdict else 'wrong'}  {text[:60]}...")

# %%
# A right verdict settles the article's topic; a wrong one rules a topic out and leaves the
# others where the zero-shot model had them. A share of the log is held out: the fit keeps
# the epoch that predicts those verdicts best, the start included.

# %%
clf = GLiClassifier(labels=TOPICS, random_state=0).fit(None, feedback=log)
before, after = macro_f1(start), macro_f1(clf)
print(f"macro-F1 on {len(test)} other articles: zero-shot {before:.3f} -> after the verdicts {after:.3f}")
print("epoch kept:", int(clf.history_["best_epoch"][0]))
assert after > before

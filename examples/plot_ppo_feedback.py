"""
Learning from a rater's feedback with PPO (no labels)
=====================================================

Sometimes nobody labels texts, but someone (or some program) can judge predictions:
"yes, this article is about sport", "no, it is not about tech". `GLiClassifier(method="ppo")`
learns from such judgements. Here a function plays the rater: it approves each yes/no decision
that agrees with a keyword rule and rejects the others; it skips every fourth article (NaN:
no feedback), as a busy human would. About a minute and a half on two CPU cores.
"""

# %%
import zlib

import numpy as np
from sklearn.metrics import f1_score

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.datasets import load_bbc_news

texts, topics = load_bbc_news(max_chars=800, random_state=0)
TOPICS = ["business", "entertainment", "politics", "sports", "tech"]
RULES = {
    "business": ["shares", "profit", "market", "economy", "firm", "bank"],
    "entertainment": ["film", "music", "star", "award", "album", "show"],
    "politics": ["election", "minister", "party", "labour", "government", "tory"],
    "sports": ["match", "cup", "coach", "player", "champion", "game"],
    "tech": ["software", "computer", "mobile", "internet", "digital", "technology"],
}


def rule(batch: list[str]) -> np.ndarray:
    """The rater's idea of the right answer: every topic whose keywords appear (multi-label)."""
    lowered = [text.lower() for text in batch]
    return np.array([[any(word in text for word in RULES[topic]) for topic in TOPICS] for text in lowered])


def rater(batch: list[str], actions: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Approve (1) or reject (0) each decision; no opinion (NaN) on the articles it skips."""
    verdict = (actions == rule(batch)).astype(float)
    skipped = np.array([zlib.crc32(text.encode()) % 4 == 0 for text in batch])
    verdict[skipped] = np.nan
    return verdict


train, test = texts[:64], texts[64:364]

# %%
# The starting point is the zero-shot model: the same embedded MiniLM, no training.

# %%
start = GLiClassZeroShot(labels=TOPICS, multi_label=True).fit()
before = f1_score(rule(test), start.predict(test), average="micro")

# %%
clf = GLiClassifier(
    labels=TOPICS,
    method="ppo",
    reward=rater,
    multi_label=True,  # without y a reward judges one label per text unless told otherwise
    epochs=4,
    max_length=128,
    random_state=0,  # verbose=1: a progress bar with the loss, KL and reward
).fit(train)  # no y: the rater's verdicts are the only signal
after = f1_score(rule(test), clf.predict(test), average="micro")
print(f"agreement with the rater (micro-F1) on {len(test)} new articles: {before:.3f} -> {after:.3f}")
assert after - before > 0.05
print("rater approval per epoch:", np.round(clf.history_["epoch_reward"], 3))
# A quarter of the articles were held out: the rater judged the model's decisions on them before training and after
# each epoch, and the fit kept the best epoch (0 would have meant the start).
print("held-out approval:", clf.history_["start_validation_score"], "->", np.round(clf.history_["validation_score"], 3))
print("epoch kept:", int(clf.history_["best_epoch"][0]))

# %%
# The rater's rule is not the topic: an article about a football club's profits is both
# sport and business to the rule. Still, the top-scoring label should remain the topic.

# %%
top = np.array(TOPICS)[clf.predict_proba(test).argmax(1)]
print("top-1 agreement with the true topics:", round(float(np.mean(top == np.array(topics[64:364]))), 3))

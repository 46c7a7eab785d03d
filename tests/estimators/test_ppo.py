"""GLiClassifier(method="ppo"): learning from labels, partial labels and reward functions."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from skgliclass import GLiClassifier
from skgliclass.training.guard import FEEDBACK_KEEP, clear_gain, guard_loss
from skgliclass.training.policies import BernoulliPolicy, CategoricalPolicy
from skgliclass.training.ppo import RATER_Z, PPOTrainer
from skgliclass.training.ppo_validation import HeldOutJudge
from skgliclass.training.rewards import make_reward
from skgliclass.training.settings import Validation

# ----------------------------------------------------------------- a multi-label rule to learn
KEYWORDS = {
    "animal": ["cat", "dog", "horse", "cow"],
    "food": ["bread", "apple", "cheese", "rice"],
    "vehicle": ["car", "bus", "train", "boat"],
}
LABELS = list(KEYWORDS)
FILLER = (
    "the a of in on with today yesterday near big small old new very quite green blue house road city river".split()
)


def make_texts(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Filler sentences; each label is on (with one of its keywords inserted) with probability 0.4."""
    rng = np.random.default_rng(seed)
    texts, rows = [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, rng.integers(4, 8)))
        row = rng.random(len(LABELS)) < 0.4
        for on, label in zip(row, LABELS, strict=True):
            if on:
                words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(KEYWORDS[label])))
        texts.append(" ".join(words))
        rows.append(row)
    return texts, np.array(rows, dtype=np.int64)


def keyword_truth(texts: list[str]) -> np.ndarray:
    """``(n, C)`` booleans: which labels' keywords each text holds."""
    return np.array([[any(k in text.split() for k in KEYWORDS[label]) for label in LABELS] for text in texts])


def keyword_rater(texts: list[str], actions: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Plays a human rater: approves (1) each decision that matches the keyword rule, else 0."""
    return (actions == keyword_truth(texts)).astype(float)


X_TRAIN, Y_TRAIN = make_texts(48, 0)
X_TEST, Y_TEST = make_texts(200, 1)


def micro_f1(clf: GLiClassifier) -> float:
    return f1_score(Y_TEST, clf.predict(X_TEST), average="micro")


# --------------------------------------------------- the real MiniLM: does PPO learn the rule?
def _minilm(**kwargs) -> GLiClassifier:
    params = dict(labels=LABELS, method="ppo", epochs=8, batch_size=16, random_state=0)
    return GLiClassifier(**{**params, **kwargs})


@pytest.fixture(scope="module")
def untrained_f1() -> float:
    frozen = _minilm(method="focal", epochs=1, learning_rate=1e-12, encoder_learning_rate=1e-12)
    return micro_f1(frozen.fit(X_TRAIN, Y_TRAIN))


@pytest.mark.slow
def test_ppo_from_labels_learns_the_rule(untrained_f1):
    clf = _minilm().fit(X_TRAIN, Y_TRAIN)
    assert clf.multilabel_ and micro_f1(clf) >= 0.9 and untrained_f1 < 0.7
    history = clf.history_
    for key in ("loss", "policy_loss", "value_loss", "kl", "entropy", "advantage", "reward", "reward_f1"):
        assert len(history[key]) == 8 * 3 and np.isfinite(history[key]).all(), key
    assert history["epoch_reward"][-1] > history["epoch_reward"][0] + 0.2


@pytest.mark.slow
def test_ppo_from_a_reward_function_alone_learns_the_rule():
    clf = _minilm(reward=keyword_rater, multi_label=True).fit(X_TRAIN)  # no y: the rater's approvals alone
    assert clf.multilabel_ and list(clf.classes_) == LABELS
    assert micro_f1(clf) >= 0.9
    assert clf.history_["reward_keyword_rater"][-1] > clf.history_["reward_keyword_rater"][0]
    assert clf.history_["value_loss"][-1] < clf.history_["value_loss"][0]  # the value head learned V(s)


@pytest.mark.slow
def test_ppo_with_half_the_labels_unknown_beats_the_untrained_model(untrained_f1):
    partial = Y_TRAIN.copy()
    partial[np.random.default_rng(0).random(partial.shape) < 0.5] = -1
    clf = _minilm().fit(X_TRAIN, partial)
    assert list(clf.classes_) == [0, 1, 2] and clf.label_names_ == LABELS
    assert micro_f1(clf) > untrained_f1 + 0.15


def make_single_label(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Filler sentences with exactly one keyword: its label is the text's one class."""
    rng = np.random.default_rng(seed)
    texts, labels = [], rng.integers(0, len(LABELS), n)
    for label in labels:
        words = list(rng.choice(FILLER, rng.integers(4, 8)))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(KEYWORDS[LABELS[label]])))
        texts.append(" ".join(words))
    return texts, np.array(LABELS)[labels]


@pytest.mark.slow
def test_single_label_ppo_from_a_rater_alone_improves_on_the_start():
    texts, _ = make_single_label(48, 0)
    test_texts, test_y = make_single_label(200, 1)
    seen = []

    def rater(batch, actions, probs):  # a reviewer who says right (1) or wrong (0) to the one proposed label
        seen.append(actions.copy())
        return (actions * keyword_truth(batch)).sum(1).astype(float)

    start = _minilm(method="focal", multi_label=False, epochs=1, learning_rate=1e-12, encoder_learning_rate=1e-12)
    start_accuracy = start.fit(texts[:3], ["animal", "food", "vehicle"]).score(test_texts, test_y)
    clf = _minilm(reward=rater, multi_label=False).fit(texts)
    assert not clf.multilabel_ and all((a.sum(1) == 1).all() for a in seen)  # one proposal per text
    accuracy = clf.score(test_texts, test_y)
    assert accuracy >= 0.9 and 1 - accuracy <= (1 - start_accuracy) / 2  # at least half the start's errors gone


# --------------------------------------------- a tiny random encoder: mechanics, options, errors
@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    return str(tiny_encoder_dir("bert"))


def _tiny(encoder: str, **kwargs) -> GLiClassifier:
    # The mlp scorer starts near p = 0.5 on a random encoder; a cosine head starts saturated.
    params = dict(
        model=encoder,
        method="ppo",
        labels=LABELS,
        scorer="mlp",
        epochs=2,
        batch_size=8,
        learning_rate=3e-3,
        encoder_learning_rate=3e-4,
        random_state=0,
        early_stopping=False,  # these tests check what one fit learns; the held-out guard has its own
    )
    return GLiClassifier(**{**params, **kwargs})


def test_same_seed_same_fit_and_global_rng_untouched(encoder):
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    a = _tiny(encoder).fit(X_TRAIN, Y_TRAIN).predict_proba(X_TEST)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = _tiny(encoder).fit(X_TRAIN, Y_TRAIN).predict_proba(X_TEST)
    c = _tiny(encoder, random_state=1).fit(X_TRAIN, Y_TRAIN).predict_proba(X_TEST)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_larger_kl_coef_stays_closer_to_the_starting_model(encoder):
    start = _tiny(encoder, method="focal", epochs=1, learning_rate=1e-12, encoder_learning_rate=1e-12)
    p0 = start.fit(X_TRAIN, Y_TRAIN).predict_proba(X_TEST)
    drift = {}
    for kl in (0.0, 0.5, 5.0):
        clf = _tiny(encoder, ppo_kl_coef=kl, epochs=3).fit(X_TRAIN, Y_TRAIN)
        drift[kl] = np.abs(clf.predict_proba(X_TEST) - p0).mean()
        assert (np.asarray(clf.history_["kl"]) > 0).any() == (kl > 0)
    assert drift[5.0] < drift[0.5] < drift[0.0]
    assert drift[5.0] < 0.5 * drift[0.0]


def test_reward_function_sees_columns_in_class_order(encoder):
    def wants_first_label(texts, actions, probs):
        return np.where(np.arange(actions.shape[1]) == 0, actions, 1 - actions)  # choose column 0 only

    clf = _tiny(encoder, reward=wants_first_label, multi_label=True, epochs=4).fit(X_TRAIN)
    proba = clf.predict_proba(X_TEST).mean(0)
    assert proba[0] > 0.8 and (proba[1:] < 0.2).all(), proba


# ------------------------------------------------- the held-out guard of learning from feedback
def test_feedback_holds_texts_out_and_records_the_guard(encoder):
    # per-label decisions, and a reward about every label chosen or not: each epoch's decisions are judged
    params = dict(reward=keyword_rater, multi_label=True, early_stopping="auto", epochs=3, n_iter_no_change=5)
    history = _tiny(encoder, **params).fit(X_TRAIN).history_
    assert len(history["start_validation_score"]) == 1 and len(history["validation_score"]) == 3
    verdicts = history["validation_verdicts"]
    assert len(verdicts) == 4 and verdicts[0] > 0 and np.all(np.diff(verdicts) >= 0)  # a proposal is asked once
    assert history["best_epoch"][0] in range(4)
    best = max([history["start_validation_score"][0], *history["validation_score"]])
    kept = history["validation_score"][int(history["best_epoch"][0]) - 1] if history["best_epoch"][0] else None
    assert kept is None or kept == best
    # Steps trained on the texts left after holding out ten (the batch size is 8).
    assert len(history["loss"]) == 3 * math.ceil((len(X_TRAIN) - 10) / 8)
    labelled = _tiny(encoder, epochs=1).fit(X_TRAIN, Y_TRAIN).history_  # "auto": no hold-out when y judges
    assert "validation_score" not in labelled and len(labelled["loss"]) == math.ceil(len(X_TRAIN) / 8)


def test_guard_keeps_the_start_when_no_epoch_beats_it(encoder, monkeypatch):
    scores = iter([0.9, 0.5, 0.9, 0.2, 0.1])  # the start, then epochs 1-4: a tie is not enough to move
    seen = []

    def loss(self, model, *args):
        seen.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return -next(scores), None, None

    monkeypatch.setattr(HeldOutJudge, "loss", loss)
    clf = _tiny(encoder, reward=keyword_rater, early_stopping=True, epochs=4, n_iter_no_change=10).fit(X_TRAIN)
    assert clf.history_["best_epoch"] == [2.0] and clf.history_["validation_score"] == [0.5, 0.9, 0.2, 0.1]
    final = clf.model_.state_dict()
    assert all(torch.equal(final[k].cpu(), seen[2][k].cpu()) for k in final)  # epoch 2's weights, not the last
    scores = iter([0.9, 0.5, 0.4, 0.3, 0.2])
    clf = _tiny(encoder, reward=keyword_rater, early_stopping=True, epochs=4, n_iter_no_change=2).fit(X_TRAIN)
    assert clf.history_["best_epoch"] == [0.0] and len(clf.history_["validation_score"]) == 2  # stopped early
    final = clf.model_.state_dict()
    assert all(torch.equal(final[k].cpu(), seen[5][k].cpu()) for k in final)  # the start put back


def test_judge_asks_the_reviewer_once_per_proposal():
    calls = []

    def reviewer(texts, actions, probs):
        calls.append(list(texts))
        return np.where(actions == 1, 1.0, np.nan)

    judge = HeldOutJudge(Validation(["a", "b", "c"], None), make_reward(reviewer), BernoulliPolicy())
    rows, texts = np.arange(3), ["a", "b", "c"]
    first = np.eye(3, dtype=np.int64)
    probs = np.full((3, 3), 0.5)
    np.testing.assert_array_equal(np.nansum(judge.judge(rows, texts, first, probs), 1), [1, 1, 1])
    again = first.copy()
    again[2] = [1, 0, 0]  # only text "c" gets a new proposal
    judge.judge(rows, texts, again, probs)
    assert calls == [["a", "b", "c"], ["c"]] and judge.asked == 4


def _reviewer(texts: list[str], actions: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """A person shown the chosen labels: 1 right, 0 wrong, nothing about the labels not shown."""
    return np.where(actions == 1, keyword_truth(texts).astype(float), np.nan)


def test_reviewer_verdicts_on_the_start_judge_every_epoch_without_asking_again(encoder, monkeypatch):
    losses = []
    original = HeldOutJudge.loss

    def spy(self, *args):
        out = original(self, *args)
        losses.append(out)
        return out

    monkeypatch.setattr(HeldOutJudge, "loss", spy)
    clf = _tiny(encoder, reward=_reviewer, early_stopping=True, epochs=3, n_iter_no_change=5).fit(X_TRAIN)
    history = clf.history_
    assert "validation_score" not in history and len(history["validation_loss"]) == 3
    assert history["start_validation_loss"] == [losses[0][0]] and history["validation_loss"] == [
        loss for loss, *_ in losses[1:]
    ]
    verdicts = history["validation_verdicts"]
    assert verdicts[0] >= 10 and len(set(verdicts)) == 1  # all asked before training, none after
    _, start_rows, start_right = losses[0]
    cleared = [
        e
        for e, (_, rows, right) in enumerate(losses[1:], 1)
        if clear_gain(start_rows, rows, RATER_Z) and right >= FEEDBACK_KEEP * start_right
    ]
    best = history["best_epoch"][0]
    assert best == 0 or best in cleared  # a clear gain, nine in ten kept right


def test_a_reviewers_held_out_verdicts_need_a_clear_gain_that_keeps_texts_right(encoder, monkeypatch):
    noise = np.random.default_rng(0).normal(0.0, 1.0, 20)
    noise -= noise.mean()
    start, error = noise + 2.0, noise.std(ddof=1) / np.sqrt(20)
    epochs = iter(
        [
            (start, 10.0),
            (start - noise - 0.5 * error, 10.0),  # a gain of half a standard error: not clear
            (start - noise - 3.0 * error, 4.0),  # clear, but fewer than nine in ten of the texts right still right
            (start - noise - 1.5 * error, 9.5),  # clear, and right where the start was
        ]
    )

    def loss(self, *args):
        self.verdicts = np.zeros((20, len(LABELS)))  # as a reviewer's answers would have set them
        rows, right = next(epochs)
        return float(rows.mean()), rows, right

    monkeypatch.setattr(HeldOutJudge, "loss", loss)
    clf = _tiny(encoder, reward=_reviewer, early_stopping=True, epochs=3, n_iter_no_change=10).fit(X_TRAIN)
    assert clf.history_["best_epoch"] == [3.0]  # without the keep rule epoch 2; at two standard errors the start


def test_a_reviewers_fit_holds_out_a_quarter_of_its_texts_up_to_fifty(encoder):
    texts, _ = make_texts(200, 2)
    history = _tiny(encoder, reward=_reviewer, early_stopping=True, epochs=1).fit(texts).history_
    assert history["validation_verdicts"][0] == 50  # one verdict per held-out text, proposed by the start
    assert len(history["loss"]) == math.ceil(150 / 8)  # one epoch on the other 150


def test_a_reviewers_verdicts_are_remembered_and_relearnt(encoder, monkeypatch):
    trainers = []
    original = PPOTrainer.remember

    def spy(self, rows, sample):
        trainers.append(self)
        return original(self, rows, sample)

    monkeypatch.setattr(PPOTrainer, "remember", spy)
    clf = _tiny(encoder, reward=_reviewer, multi_label=True, epochs=2).fit(X_TRAIN)
    memory = trainers[0].verdicts
    judged = memory >= 0
    assert judged.sum() > len(X_TRAIN)  # two epochs of draws, each verdict kept
    np.testing.assert_array_equal(memory[judged], keyword_truth(X_TRAIN)[judged])  # what the reviewer said
    assert len(clf.history_["replay"]) == len(clf.history_["loss"]) and np.isfinite(clf.history_["replay"]).all()
    trainers.clear()
    graded = _tiny(encoder, reward=keyword_rater, multi_label=True, epochs=1).fit(X_TRAIN)  # answers every label
    assert trainers[0].verdicts is None and "replay" not in graded.history_  # a reward, not verdicts


def test_only_a_reviewers_answers_become_verdicts():
    actions = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    judge = HeldOutJudge(Validation(["a", "b", "c"], None), make_reward(_reviewer), CategoricalPolicy())
    verdicts = judge._as_verdicts(np.where(actions == 1, np.array([[1.0], [0.0], [1.0]]), np.nan), actions)
    np.testing.assert_array_equal(verdicts, [[1, -1, -1], [-1, 0, -1], [-1, -1, 1]])
    per_text = np.repeat([[1.0], [0.0], [1.0]], 3, axis=1)  # one answer per text: about the label shown
    np.testing.assert_array_equal(judge._as_verdicts(per_text, actions), verdicts)
    assert judge._as_verdicts(np.where(actions == 1, 0.7, np.nan), actions) is None  # a graded reward
    bernoulli = HeldOutJudge(Validation(["a", "b", "c"], None), make_reward(_reviewer), BernoulliPolicy())
    assert bernoulli._as_verdicts(per_text, actions) is None  # answers about labels not chosen: a reward
    np.testing.assert_array_equal(bernoulli._as_verdicts(np.where(actions == 1, 1.0, np.nan), actions), 2 * actions - 1)
    with_labels = HeldOutJudge(
        Validation(["a", "b", "c"], None), make_reward({_reviewer: 1.0, "f1": 1.0}), judge.policy
    )
    assert with_labels._as_verdicts(np.where(actions == 1, 1.0, np.nan), actions) is None
    # the loss the guard uses is the same as logged feedback's
    logits = np.log(np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]]))
    assert guard_loss(logits, verdicts, multilabel=False)[0] > 0


@pytest.mark.parametrize(
    "options",
    [
        {"ppo_value_model": "encoder", "reward": keyword_rater},
        {"ppo_value_model": None, "reward": {keyword_rater: 1.0, "f1": 0.5}},
        {"ppo_credit": "text", "ppo_sampling": "deterministic"},
        {"ppo_entropy_coef": 0.1, "focal_gamma": 2.0, "focal_alpha": 0.75, "label_smoothing": 0.1},
        {"lora_r": 4, "ppo_kl_coef": 0.1, "ppo_value_model": "encoder", "reward": keyword_rater},
        {"architecture": "bi-encoder-fused", "contrastive_coef": 0.1, "ppo_iterations": 1},
    ],
)
def test_options_train(encoder, options):
    clf = _tiny(encoder, **options).fit(X_TRAIN, Y_TRAIN)
    history = clf.history_
    assert len(history["loss"]) == 2 * 6 and np.isfinite(history["loss"]).all()
    assert np.isfinite(history["reward"]).all() and 0 <= min(history["reward"])
    assert not any("lora" in name for name, _ in clf.model_.named_modules())
    assert clf.predict_proba(X_TEST).shape == (200, 3)


def test_value_encoder_is_separate_from_the_policy(encoder):
    clf = _tiny(encoder, ppo_value_model="encoder", reward=keyword_rater, epochs=1).fit(X_TRAIN)
    names = {name for name, _ in clf.model_.named_parameters()}
    assert not any(name.startswith("backbone.") or "value" in name.split(".")[0] for name in names)
    assert clf.history_["value_loss"][0] > 0


def test_focal_then_ppo_with_warm_start_and_pickling(encoder):
    clf = _tiny(encoder, method="focal", warm_start=True).fit(X_TRAIN, Y_TRAIN)
    model = clf.model_
    clf.set_params(method="ppo", reward=keyword_rater).fit(X_TRAIN, Y_TRAIN)
    assert clf.model_ is model and "reward_keyword_rater" in clf.history_
    again = pickle.loads(pickle.dumps(clf))  # a module-level reward function pickles by reference
    np.testing.assert_array_equal(again.predict_proba(X_TEST), clf.predict_proba(X_TEST))
    assert again.reward is keyword_rater


def test_single_label_targets(encoder):
    y = np.array(LABELS)[Y_TRAIN.argmax(1)]
    clf = _tiny(encoder).fit(X_TRAIN, y)
    assert not clf.multilabel_ and clf.predict(X_TEST).shape == (200,)
    np.testing.assert_allclose(clf.predict_proba(X_TEST).sum(1), 1)


def test_single_label_ppo_draws_one_label_per_text(encoder):
    seen = []

    def rater(texts, actions, probs):
        seen.append((actions.copy(), probs.copy()))
        return np.where(actions[:, 0] == 1, 1.0, 0.0)  # approves only "animal"

    clf = _tiny(encoder, reward=rater, multi_label=False, epochs=3).fit(X_TRAIN)
    assert not clf.multilabel_ and len(seen) == 3 * 6
    for actions, probs in seen:
        assert (actions.sum(1) == 1).all()  # one label per text, drawn from the softmax
        np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    share = [actions[:, 0].mean() for actions, _ in seen]
    assert np.mean(share[-6:]) > np.mean(share[:6]) + 0.2  # the approved label is proposed more
    y = np.array(LABELS)[Y_TRAIN.argmax(1)]
    seen.clear()
    both = _tiny(encoder, reward={"accuracy": 1.0, rater: 0.5}).fit(X_TRAIN, y)  # labels and a reviewer
    assert not both.multilabel_ and all((actions.sum(1) == 1).all() for actions, _ in seen)
    assert np.isfinite(both.history_["advantage"]).all() and np.isfinite(both.history_["reward_accuracy"]).all()


def test_focal_ignores_unknown_entries(encoder):
    unknown = Y_TRAIN.copy()
    unknown[:, 2] = -1  # nothing known about the last label
    a = _tiny(encoder, method="focal").fit(X_TRAIN, unknown).predict_proba(X_TEST)
    flipped = unknown.copy()
    flipped[:, 0] = 1 - flipped[:, 0]
    b = _tiny(encoder, method="focal").fit(X_TRAIN, flipped).predict_proba(X_TEST)
    assert not np.allclose(a, b)  # known entries matter ...
    c = _tiny(encoder, method="focal").fit(X_TRAIN, np.where(unknown == -1, -1, unknown)).predict_proba(X_TEST)
    np.testing.assert_array_equal(a, c)


def test_progress_bar_shows_the_terms(encoder, capsys):
    _tiny(encoder, epochs=1, verbose=1).fit(X_TRAIN, Y_TRAIN)
    err = capsys.readouterr().err
    assert "fit (ppo)" in err and "reward=" in err and "advantage=" in err


@pytest.mark.parametrize(
    "kwargs, y, match",
    [
        ({"method": "focal"}, None, "needs targets y.*only method='ppo'"),
        ({}, None, "reward='f1' compares predictions with y"),
        ({"reward": keyword_rater, "labels": None}, None, "needs labels"),
        ({"reward": "f2"}, Y_TRAIN, "reward='f2'"),
        ({"ppo_clip": 0.0}, Y_TRAIN, "ppo_clip"),
        ({"ppo_iterations": 0}, Y_TRAIN, "ppo_iterations"),
        ({"ppo_sampling": "greedy"}, Y_TRAIN, "ppo_sampling='greedy'"),
        ({"ppo_credit": "row"}, Y_TRAIN, "ppo_credit='row'"),
        ({"ppo_value_model": "big"}, Y_TRAIN, "ppo_value_model='big'"),
        ({"ppo_kl_coef": -1.0}, Y_TRAIN, "ppo_kl_coef"),
        ({"multi_label": False}, np.where(Y_TRAIN == 1, -1, 0), "unknown entries"),
        ({"reward": lambda texts, actions, probs: np.ones(2)}, Y_TRAIN, r"returned shape \(2,\)"),
    ],
)
def test_errors_name_the_problem(encoder, kwargs, y, match):
    with pytest.raises(ValueError, match=match):
        _tiny(encoder, **kwargs).fit(X_TRAIN, y)

"""Explanations: per-word attributions that add up, on every architecture, both estimators and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _tiny_texts import X, Y, tiny_classifier
from scipy.special import softmax

from _reference import ARCHITECTURE_CASES
from skgliclass import GLiClassZeroShot
from skgliclass.batching import chunk_inputs
from skgliclass.cli import main
from skgliclass.explain import Explanation

pytest.importorskip("captum")

LABELS = ["sport", "politics", "technology", "business"]
TEXTS = ["the team won the cup, again!", "prices rose in the third quarter says the central bank", "x"]


def _baseline_scores(clf, text: str, output: str = "score") -> np.ndarray:
    """``decision_function`` of ``text`` with every token of the text itself turned into padding, computed
    from the builder's rows directly (the integrated-gradients baseline)."""
    builder, model = clf._builder, clf.model_
    encoded = builder.build([text], clf._label_texts(), prompt=clf.prompt, windows=clf.long_text == "chunk")
    offsets = builder.text_offsets([text], clf.prompt)[0]
    vectors = None
    if encoded.label_ids is not None:
        from skgliclass.batching import label_vectors

        vectors = label_vectors(model, encoded.label_ids, builder.pad_id, clf.device_, 8)
    out = np.full(len(clf.classes_), -np.inf)
    for chunk in encoded.chunks:
        rows = []
        for ids, (at, first, n) in zip(chunk.rows, chunk.spans, strict=True):
            ids = list(ids)
            for k in range(first, first + n):
                if offsets[k] is not None:  # the text's own tokens; a prompt glued to it stays
                    ids[at + k - first] = builder.pad_id
            rows.append(ids)
        chunk.rows = rows
        with torch.no_grad():
            logits = model(**chunk_inputs(chunk, range(len(rows)), builder.pad_id, clf.device_, vectors)).logits
        out[chunk.start : chunk.stop] = np.maximum(out[chunk.start : chunk.stop], logits.numpy().max(0))
    scoring = clf._scoring()
    scoring.output = output
    return scoring(torch.as_tensor(out[None]), None)[0].numpy()


def _adds_up(e: Explanation, change: np.ndarray) -> None:
    """The attributions sum to the scores' change from the baseline (computed apart), up to the reported
    ``delta``, which is small (max pooling, a kink, integrates slowest)."""
    np.testing.assert_allclose(e.attributions.sum(0) - e.delta, change, atol=1e-4)
    assert np.abs(e.delta).max() <= 2e-3 + 0.03 * np.abs(change).max()


@pytest.mark.parametrize("case", ARCHITECTURE_CASES, ids=lambda c: "-".join(map(str, c.values())))
def test_integrated_gradients_add_up_on_every_architecture(case, reference_checkpoint):
    clf = GLiClassZeroShot(model=str(reference_checkpoint(**case)), labels=LABELS, max_length=64).fit()
    explained = clf.explain(TEXTS, labels="all", n_steps=64, output="score")
    decision = clf.decision_function(TEXTS)
    for text, e, row in zip(TEXTS, explained, decision, strict=True):
        assert e.words == text.split() and not e.truncated and e.output == "score"
        assert e.attributions.shape == (len(e.words), len(LABELS))
        np.testing.assert_allclose(e.scores, row, atol=1e-4)
        _adds_up(e, e.scores - _baseline_scores(clf, text))
        assert np.abs(e.attributions).max() > 0  # the words do move the scores


@pytest.mark.parametrize("multi_label", [False, True])
def test_zero_shot_explains_the_log_probability_and_log_odds_on_request(multi_label, reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder"))
    clf = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=multi_label, max_length=64).fit()
    proba = clf.predict_proba(TEXTS[:2])[:, [0, 3]]
    expected = {"log-proba": np.log(proba), "log-odds": np.log(proba / (1 - proba))}
    for output, values in expected.items():
        kwargs = {} if output == "log-proba" else {"output": output}  # zero-shot: the log-probability by default
        explained = clf.explain(TEXTS[:2], labels=["sport", "business"], n_steps=64, **kwargs)
        for text, e, value in zip(TEXTS[:2], explained, values, strict=True):
            assert e.output == output
            np.testing.assert_allclose(e.scores, value, atol=1e-4)
            _adds_up(e, e.scores - _baseline_scores(clf, text, output)[[0, 3]])
    if multi_label:  # a sigmoid's log-odds are the decision_function scores
        np.testing.assert_allclose(expected["log-odds"], clf.decision_function(TEXTS[:2])[:, [0, 3]], atol=1e-5)


def test_occlusion_is_the_score_drop_of_each_word(reference_checkpoint):
    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="uni-encoder")), labels=LABELS).fit()
    (e,) = clf.explain(TEXTS[:1], labels=["politics", "sport"], method="occlusion", output="score")
    assert e.labels == ["politics", "sport"] and np.isnan(e.delta).all()
    # one word turned into padding by hand: its attribution is the score it took away
    builder = clf._builder
    encoded = builder.build(TEXTS[:1], clf._label_texts())
    offsets = builder.text_offsets(TEXTS[:1])[0]
    chunk = encoded.chunks[0]
    ids, (at, first, n) = list(chunk.rows[0]), chunk.spans[0]
    starts = [i for i, w in enumerate(TEXTS[0]) if w != " " and (i == 0 or TEXTS[0][i - 1] == " ")]
    word = 2  # "won"
    for k in range(first, first + n):
        if offsets[k] is not None and starts[word] <= offsets[k][0] < starts[word + 1]:
            ids[at + k - first] = builder.pad_id
    chunk.rows = [ids]
    with torch.no_grad():
        logits = clf.model_(**chunk_inputs(chunk, [0], builder.pad_id, clf.device_, None)).logits[0].numpy()
    drop = e.scores - logits[[LABELS.index("politics"), LABELS.index("sport")]]
    np.testing.assert_allclose(e.attributions[word], drop, atol=1e-4)


def test_long_texts_are_explained_as_they_are_read(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="bi-encoder"))
    text = " ".join(f"word{i} and more" for i in range(40))
    cut = GLiClassZeroShot(model=folder, labels=LABELS, max_length=24).fit()
    with pytest.warns(UserWarning, match="cut at the end"):
        (e,) = cut.explain([text])
    assert e.truncated and 0 < len(e.words) < len(text.split()) and e.words == text.split()[: len(e.words)]
    windows = GLiClassZeroShot(model=folder, labels=LABELS, max_length=24, long_text="chunk").fit()
    (e,) = windows.explain([text], labels="all", n_steps=48, output="score")
    assert not e.truncated and e.words == text.split()
    _adds_up(e, e.scores - _baseline_scores(windows, text))


def test_labels_in_several_passes(reference_checkpoint):
    clf = GLiClassZeroShot(
        model=str(reference_checkpoint(architecture="uni-encoder")),
        labels=[f"label number {i} about topic {i * 7}" for i in range(12)],
        max_length=64,
    ).fit()
    assert len(clf._builder.build(TEXTS[:1], clf._label_texts()).chunks) > 1
    (e,) = clf.explain(TEXTS[1:2], labels="all", n_steps=48, output="score")
    _adds_up(e, e.scores - _baseline_scores(clf, TEXTS[1]))


def test_classifier_with_head_and_calibration(tiny_encoder_dir):
    clf = tiny_classifier(str(tiny_encoder_dir()), embedding_head=0.5, calibration="temperature").fit(X, Y)
    assert clf.linear_head_ is not None and clf.calibration_ is not None
    explained = clf.explain(X[:3], n_steps=48)
    decision, proba = clf.decision_function(X[:3]), clf.predict_proba(X[:3])
    for e, row, p, predicted in zip(explained, decision, proba, clf.predict(X[:3]), strict=True):
        assert e.labels == [predicted] and e.output == "log-odds"  # a fine-tuned model: the log-odds by default
        j = list(clf.classes_).index(predicted)
        np.testing.assert_allclose(e.scores, np.log(p[j] / (1 - p[j])), atol=1e-4)
        np.testing.assert_allclose(e.probabilities, p[j], atol=1e-6)
        assert abs(e.delta[0]) <= 0.05 * max(abs(e.attributions.sum() - e.delta[0]), 1e-2)
        (as_score,) = clf.explain([e.text], labels=e.labels, n_steps=48, output="score")
        np.testing.assert_allclose(as_score.scores, row[j], atol=1e-4)
    np.testing.assert_allclose(softmax(decision, axis=1), proba, atol=1e-9)


def test_multi_label_defaults_to_the_chosen_labels(reference_checkpoint):
    clf = GLiClassZeroShot(
        model=str(reference_checkpoint(architecture="bi-encoder")), labels=LABELS, multi_label=True, threshold=0.0
    ).fit()
    (everything,) = clf.explain(TEXTS[:1])
    assert everything.labels == LABELS  # every label is over a threshold of 0
    clf.set_params(threshold=1.0)
    (best,) = clf.explain(TEXTS[:1])
    assert best.labels == [LABELS[int(clf.predict_proba(TEXTS[:1]).argmax())]]  # none chosen: the likeliest


def test_result_type_top_html_and_plot(reference_checkpoint):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="bi-encoder")), labels=LABELS).fit()
    (e,) = clf.explain(["<script>alert(1)</script> the match ended"], labels=["sport", "business"])
    assert isinstance(e, Explanation)
    column = e.attributions[:, 0]
    top = e.top("sport", 2)
    assert [v for _, v in top] == sorted(column, reverse=True)[:2]
    assert [v for _, v in e.top("sport", 1, sign="negative")] == [column.min()]
    html = e._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and html.count("<p>") == 2
    assert e.to_html("business").count("<p>") == 1
    ax = e.plot("business", k=3)
    assert len(ax.patches) == 3
    with pytest.raises(KeyError, match="was not explained"):
        e.top("politics")
    assert "Explanation(4 words" in repr(e)


def test_bad_requests_fail_clearly(reference_checkpoint):
    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="bi-encoder")), labels=LABELS).fit()
    with pytest.raises(ValueError, match="labels must be"):
        clf.explain(TEXTS[:1], labels=["weather"])
    with pytest.raises(ValueError, match="output must be"):
        clf.explain(TEXTS[:1], output="logit")
    with pytest.raises(ValueError, match="method must be"):
        clf.explain(TEXTS[:1], method="shap")
    with pytest.raises(ValueError, match="n_steps"):
        clf.explain(TEXTS[:1], n_steps=1)
    with pytest.raises(TypeError):
        clf.explain("a single string")
    with pytest.raises(ValueError, match="empty"):
        clf.explain([])


def test_classify_explain_adds_top_words(tmp_path, reference_checkpoint, capsys, monkeypatch):
    import io
    import sys

    texts = ["the team won the cup", "the senate passed the bill"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(texts) + "\n"))
    folder = str(reference_checkpoint(architecture="bi-encoder"))
    assert main(["classify", "--model", folder, "--labels", "sport,politics", "--explain", "2", "--quiet"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    clf = GLiClassZeroShot(model=folder, labels=["sport", "politics"]).fit()
    for row, e in zip(rows, clf.explain(texts), strict=True):
        assert list(row["explanation"]) == row["labels"] == [str(e.labels[0])]
        assert [w for w, _ in row["explanation"][row["labels"][0]]] == [w for w, _ in e.top(k=2)]
    assert main(["classify", "--model", folder, "--labels", "a,b", "--explain", "2", "--format", "csv"]) == 2


@pytest.mark.slow
def test_real_minilm_points_at_the_topic_words():
    clf = GLiClassZeroShot(labels=["sport", "politics", "technology"]).fit()
    text = "Yesterday the striker scored twice and the team won the cup final"
    (e,) = clf.explain([text])
    assert e.labels == ["sport"]
    assert {w for w, _ in e.top("sport", 4)} & {"striker", "scored", "team", "cup", "final"}
    assert abs(e.delta[0]) <= 0.05 * abs(e.attributions.sum() - e.delta[0])

"""Parity with the reference ``gliclass``: its checkpoints load here with its scores, and ours load there."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax

from _reference import reference_logits
from skgliclass import GLiClassZeroShot, load_pretrained, new_model, save_pretrained

TEXTS = [
    "the match ended two one after a late goal",
    "parliament passed the new budget law today after a long debate in the chamber",
    "a new phone with a faster chip",
    "shares fell",
    "the band played their new songs to a sold out crowd at the stadium last night",
]
LABELS = ["sport", "politics", "technology", "business", "music"]
ATOL = 2e-5

# One row per (variant, backbone, option) combination the reference can write.
CASES = [
    dict(architecture="uni-encoder", backbone="bert"),
    dict(architecture="uni-encoder", backbone="bert", prompt_first=True),
    dict(architecture="uni-encoder", backbone="deberta"),
    dict(architecture="uni-encoder", backbone="deberta", prompt_first=True, pooling_strategy="avg"),
    dict(architecture="uni-encoder", backbone="modernbert"),
    dict(architecture="uni-encoder", backbone="modernbert", pooling_strategy="max", prompt_first=True),
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="last"),
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="sum"),
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="rms"),
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="abs_max"),
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="abs_avg"),
    dict(architecture="uni-encoder", backbone="bert", normalize_features=True),
    dict(architecture="uni-encoder", backbone="bert", scorer_type="weighted-dot"),
    dict(architecture="uni-encoder", backbone="bert", scorer_type="mlp", normalize_features=True),
    dict(architecture="uni-encoder", backbone="bert", scorer_type="hopfield", pooling_strategy="avg"),
    dict(
        architecture="uni-encoder",
        backbone="bert",
        scorer_type="cross-attn",
        pooling_strategy="pass",
        scorer_num_heads=4,
    ),
    dict(architecture="uni-encoder", backbone="bert", class_token_pooling="average"),
    dict(
        architecture="uni-encoder",
        backbone="bert",
        class_token_pooling="average",
        prompt_first=True,
        extract_text_features=True,
    ),
    dict(architecture="uni-encoder", backbone="bert", embed_class_token=False),
    dict(architecture="uni-encoder", backbone="bert", embed_class_token=False, class_token_pooling="average"),
    dict(architecture="uni-encoder", backbone="bert", extract_text_features=True, pooling_strategy="avg"),
    dict(
        architecture="uni-encoder",
        backbone="bert",
        extract_text_features=True,
        prompt_first=True,
        scorer_type="cross-attn",
        pooling_strategy="pass",
        scorer_num_heads=4,
    ),
    dict(architecture="uni-encoder", backbone="bert", hidden_size=32),
    dict(architecture="bi-encoder", backbone="bert"),
    dict(architecture="bi-encoder", backbone="bert", normalize_features=True, scorer_type="mlp"),
    dict(architecture="bi-encoder-fused", backbone="bert"),
    dict(architecture="bi-encoder-fused", backbone="bert", prompt_first=True, pooling_strategy="avg"),
    dict(architecture="encoder-decoder", backbone="t5"),
    dict(architecture="encoder-decoder", backbone="t5", pooling_strategy="avg", class_token_pooling="average"),
]


def _case_id(case: dict) -> str:
    return "-".join(f"{v}" if k in ("architecture", "backbone") else f"{k}={v}" for k, v in case.items())


def _label_tokenizer_here(folder) -> str:
    """The reference bi-encoder pipeline loads its label tokenizer by ``label_model_name``; we write a
    portable name (never a machine path), so point it at the checkpoint folder for the offline test."""
    import json

    cfg = json.loads((folder / "config.json").read_text())
    name = cfg["label_model_name"]
    cfg["label_model_name"] = str(folder)
    (folder / "config.json").write_text(json.dumps(cfg))
    return name


def _reference(folder, texts=TEXTS, labels=LABELS, **kwargs) -> np.ndarray:
    t5 = (folder / "config.json").read_text().count('"t5"') > 0
    return reference_logits(folder, texts, labels, batch_size=1, tie_decoder_embeddings=t5, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_reference_checkpoint_gives_reference_probabilities(case, reference_checkpoint):
    folder = reference_checkpoint(**case)
    expected = expit(_reference(folder))
    clf = GLiClassZeroShot(model=str(folder), labels=LABELS, multi_label=True, batch_size=4, device="cpu").fit()
    proba = clf.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(proba, expected, atol=ATOL, rtol=0)
    # The logits themselves agree too (relative to their size), not only the saturated probabilities.
    logits = clf.decision_function(TEXTS)
    np.testing.assert_allclose(logits, np.log(expected) - np.log1p(-expected), atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize(
    "case",
    [CASES[0], CASES[1], CASES[5], CASES[25], CASES[26], CASES[27]],
    ids=_case_id,
)
def test_prompt_and_examples_match_reference(case, reference_checkpoint):
    folder = reference_checkpoint(**case)
    prompt = "Classify the topic of this news text:"
    examples = [{"text": "the goalkeeper saved a penalty", "labels": ["sport"]}]
    expected = expit(_reference(folder, prompt=prompt, examples=examples))
    if case["architecture"] == "bi-encoder":  # reads each text alone: the estimator refuses examples there
        with pytest.raises(ValueError, match="bi-encoder .* reads each text alone"):
            GLiClassZeroShot(model=str(folder), labels=LABELS, examples=examples).fit()
        examples = None
        expected = expit(_reference(folder, prompt=prompt))
    clf = GLiClassZeroShot(
        model=str(folder), labels=LABELS, prompt=prompt, examples=examples, multi_label=True, batch_size=3
    ).fit()
    np.testing.assert_allclose(clf.predict_proba(TEXTS), expected, atol=ATOL, rtol=0)
    if examples is not None:  # the examples change what the model reads
        plain = GLiClassZeroShot(model=str(folder), labels=LABELS, prompt=prompt, multi_label=True).fit()
        assert np.abs(plain.predict_proba(TEXTS) - expected).max() > 1e-4


def test_examples_are_checked(reference_checkpoint):
    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    for bad, message in [
        ({"text": "a goal", "labels": ["sport"]}, "must be None or a list"),
        ([{"text": "a goal", "labels": "sport"}], "each example must be"),
        ([{"text": "", "labels": ["sport"]}], "each example must be"),
        ([{"text": "a goal", "labels": ["football"]}], r"\['football'\] are not among the label names"),
    ]:
        with pytest.raises(ValueError, match=message):
            GLiClassZeroShot(model=folder, labels=LABELS, examples=bad).fit()


def test_single_label_is_softmax_over_reference_logits(reference_checkpoint):
    folder = reference_checkpoint(architecture="uni-encoder", backbone="bert")
    # Classes taken from y are sorted, and the model reads them in that order.
    expected = softmax(_reference(folder, labels=sorted(LABELS)), axis=1)
    y = [LABELS[i % len(LABELS)] for i in range(len(TEXTS))]
    clf = GLiClassZeroShot(model=str(folder), multi_label=False, device="cpu", calibration=None).fit(TEXTS, y)
    np.testing.assert_allclose(clf.predict_proba(TEXTS), expected, atol=ATOL)
    assert list(clf.predict(TEXTS)) == list(np.asarray(sorted(LABELS))[expected.argmax(1)])


@pytest.mark.parametrize(
    "case", [CASES[0], CASES[2], CASES[4], CASES[13], CASES[15], CASES[23], CASES[25], CASES[27]], ids=_case_id
)
def test_checkpoint_we_save_loads_in_reference(case, reference_checkpoint, tmp_path):
    folder = reference_checkpoint(**case)
    original = _reference(folder)
    model, tokenizer = load_pretrained(folder)
    saved = save_pretrained(model, tokenizer, tmp_path / "ours")
    text = (saved / "config.json").read_text()
    assert str(tmp_path) not in text and "/tmp/" not in text and "site-packages" not in text
    if case["architecture"].startswith("bi-encoder"):
        assert "/" not in _label_tokenizer_here(saved)
    np.testing.assert_allclose(_reference(saved), original, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize(
    "backbone, architecture, head",
    [
        ("bert", "uni-encoder", {}),
        ("deberta", "uni-encoder", {"pooler": "mean", "scorer": "mlp"}),
        ("modernbert", "uni-encoder", {"prompt_first": True}),
        ("bert", "bi-encoder", {"pooler": "mean", "normalize_features": True}),
        ("bert", "bi-encoder-fused", {"scorer": "weighted-dot"}),
        ("t5", "encoder-decoder", {"pooler": "mean"}),
    ],
)
def test_new_model_saved_by_us_loads_in_reference(backbone, architecture, head, tiny_encoder_dir, tmp_path):
    model, tokenizer = new_model(str(tiny_encoder_dir(backbone)), architecture=architecture, **head)
    folder = save_pretrained(model, tokenizer, tmp_path / "new")
    if architecture.startswith("bi-encoder"):
        assert _label_tokenizer_here(folder) == tiny_encoder_dir(backbone).name
    ours = GLiClassZeroShot(model=str(folder), labels=LABELS, multi_label=True, device="cpu").fit()
    np.testing.assert_allclose(ours.predict_proba(TEXTS), expit(_reference(folder)), atol=ATOL, rtol=0)

"""The batched engine: padding invariance, order, long label sets, truncation, devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skgliclass import GLiClassZeroShot, TruncationWarning, load_pretrained, new_model
from skgliclass.batching import pad_batch
from skgliclass.data.prompts import InputBuilder
from skgliclass.inference import predict_logits, resolve_device

TEXTS = [
    "short",
    "a somewhat longer text about the election results and the new government",
    "the team won the cup",
    "prices rose sharply in the third quarter according to the central bank report released on monday",
    "new chip",
    "",
]
LABELS = ["sport", "politics", "technology", "business"]

VARIANTS = [
    dict(architecture="uni-encoder", backbone="bert", pooling_strategy="avg"),
    dict(architecture="uni-encoder", backbone="modernbert", pooling_strategy="rms", prompt_first=True),
    dict(architecture="uni-encoder", backbone="deberta", pooling_strategy="max", class_token_pooling="average"),
    dict(
        architecture="uni-encoder",
        backbone="bert",
        scorer_type="cross-attn",
        pooling_strategy="pass",
        scorer_num_heads=4,
    ),
    dict(architecture="bi-encoder", backbone="bert", pooling_strategy="avg"),
    dict(architecture="bi-encoder-fused", backbone="bert", pooling_strategy="sum"),
    dict(architecture="encoder-decoder", backbone="t5", pooling_strategy="avg"),
]


def _logits(model, tokenizer, texts, labels, max_length=512, batch_size=8):
    builder = InputBuilder(tokenizer, model.config, max_length)
    return predict_logits(model, builder, texts, labels, batch_size=batch_size, device=torch.device("cpu"))


@pytest.mark.parametrize("case", VARIANTS, ids=lambda c: "-".join(map(str, c.values())))
def test_padded_batch_equals_each_row_alone(case, reference_checkpoint):
    model, tokenizer = load_pretrained(reference_checkpoint(**case))
    batched, _ = _logits(model, tokenizer, TEXTS, LABELS, batch_size=len(TEXTS))
    alone = np.concatenate([_logits(model, tokenizer, [t], LABELS)[0] for t in TEXTS])
    np.testing.assert_allclose(batched, alone, atol=1e-5, rtol=1e-5)


def test_order_is_restored_whatever_the_batching(reference_checkpoint):
    model, tokenizer = load_pretrained(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    full, _ = _logits(model, tokenizer, TEXTS, LABELS, batch_size=2)
    permutation = np.array([4, 0, 5, 2, 1, 3])
    shuffled, _ = _logits(model, tokenizer, [TEXTS[i] for i in permutation], LABELS, batch_size=3)
    np.testing.assert_allclose(shuffled, full[permutation], atol=1e-5)


@pytest.mark.parametrize(
    "case", [VARIANTS[0], VARIANTS[1], VARIANTS[5], VARIANTS[6]], ids=lambda c: "-".join(map(str, c.values()))
)
def test_label_set_three_times_longer_than_max_length_scores_every_label(case, reference_checkpoint):
    model, tokenizer = load_pretrained(reference_checkpoint(**case))
    max_length = 64
    # The prompt is ~3x max_length: ~10 tokens per label, or one marker per label when fused.
    count = 3 * max_length if case["architecture"] == "bi-encoder-fused" else 20
    labels = [f"label number {i} about topic {i * 7}" for i in range(count)]
    builder = InputBuilder(tokenizer, model.config, max_length)
    encoded = builder.build(TEXTS, labels)
    assert len(encoded.chunks) > 1
    covered = [i for chunk in encoded.chunks for i in range(chunk.start, chunk.stop)]
    assert covered == list(range(len(labels)))  # every label in exactly one pass, in order
    assert all(len(row) <= max_length for chunk in encoded.chunks for row in chunk.rows)
    logits, _ = predict_logits(model, builder, TEXTS, labels, batch_size=4, device=torch.device("cpu"))
    assert logits.shape == (len(TEXTS), len(labels))
    assert np.isfinite(logits).all()
    assert np.unique(logits.round(5), axis=1).shape[1] > len(labels) // 2  # real, distinct scores


def test_long_text_is_cut_so_labels_survive_with_a_warning(reference_checkpoint):
    folder = reference_checkpoint(architecture="uni-encoder", backbone="bert")
    clf = GLiClassZeroShot(model=str(folder), labels=LABELS, max_length=32, device="cpu").fit()
    long_text = " ".join(["word"] * 200)
    with pytest.warns(TruncationWarning, match="1 of 2 texts") as caught:
        proba = clf.predict_proba([long_text, "short"])
    assert [(w.message.count, w.message.total) for w in caught] == [(1, 2)]
    assert np.isfinite(proba).all()
    encoded = clf._builder.build([long_text], LABELS)
    row = encoded.chunks[0].rows[0]
    assert len(row) == 32
    assert row.count(clf.config_.class_token_index) == len(LABELS)


def test_device_resolution():
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_pad_batch_right_pads_with_mask():
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, device=torch.device("cpu"))
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert ids.dtype == mask.dtype == torch.long
    ids, mask = pad_batch([[3], [4]], pad_id=99, device=torch.device("cpu"))
    assert ids.tolist() == [[3], [4]] and mask.tolist() == [[1], [1]]
    ids, _ = pad_batch([[1], [2, 3]], pad_id=99, device=torch.device("cpu"))
    assert ids.tolist() == [[1, 99], [2, 3]]


def test_bi_encoder_label_vectors_are_cached(tiny_encoder_dir):
    model, tokenizer = new_model(str(tiny_encoder_dir("bert")), architecture="bi-encoder", pooler="mean")
    builder = InputBuilder(tokenizer, model.config, 128)
    cache: dict = {}
    calls = []
    original = model.model.encode_labels
    model.model.encode_labels = lambda *a: calls.append(1) or original(*a)
    first, _ = predict_logits(model, builder, TEXTS, LABELS, label_cache=cache, device=torch.device("cpu"))
    second, _ = predict_logits(model, builder, TEXTS[:2], LABELS, label_cache=cache, device=torch.device("cpu"))
    assert len(calls) == 1
    np.testing.assert_allclose(second, first[:2], atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(reference_checkpoint):
    model, tokenizer = load_pretrained(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    cpu, _ = _logits(model, tokenizer, TEXTS, LABELS)
    builder = InputBuilder(tokenizer, model.config, 512)
    cuda, _ = predict_logits(model.cuda(), builder, TEXTS, LABELS, device=torch.device("cuda"))
    np.testing.assert_allclose(cuda, cpu, atol=1e-4)


@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder", "encoder-decoder"])
def test_windows_cover_long_texts_and_keep_the_best_score_per_label(reference_checkpoint, architecture):
    backbone = "t5" if architecture == "encoder-decoder" else "bert"
    model, tokenizer = load_pretrained(reference_checkpoint(architecture=architecture, backbone=backbone))
    builder = InputBuilder(tokenizer, model.config, 40)
    long_text = " ".join(f"word{i} the match and the vote" for i in range(30))
    texts = ["a short one", long_text, "another short text"]
    encoded = builder.build(texts, LABELS, windows=True)
    chunk = encoded.chunks[0]
    assert len(encoded.chunks) == 1 and encoded.truncated == 1
    assert chunk.owners is not None and chunk.owners.count(1) >= 3 and chunk.owners.count(0) == 1
    # The windows hold every token of the long text, in order.
    whole = builder._text_ids(texts)[1]
    inner = [r for r, owner in zip(chunk.rows, chunk.owners, strict=True) if owner == 1]
    assert [i for row in inner for i in row if i in set(whole)] == [i for i in whole]
    got, _ = predict_logits(model, builder, texts, LABELS, batch_size=2, windows=True)
    vectors = None
    if encoded.label_ids is not None:
        from skgliclass.batching import label_vectors

        vectors = label_vectors(model, encoded.label_ids, builder.pad_id, torch.device("cpu"), 8)
    from skgliclass.batching import chunk_inputs

    with torch.inference_mode():
        per_row = [
            model(**chunk_inputs(chunk, [j], builder.pad_id, torch.device("cpu"), vectors)).logits[0].numpy()
            for j in range(len(chunk.rows))
        ]
    owners = np.asarray(chunk.owners)
    expected = np.stack([np.max(np.asarray(per_row)[owners == t], 0) for t in range(3)])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    cut, _ = predict_logits(model, builder, texts, LABELS, batch_size=2)
    np.testing.assert_allclose(got[[0, 2]], cut[[0, 2]], atol=1e-5)  # texts that fit are read the same way


def test_long_text_chunk_reads_long_texts_without_a_warning(reference_checkpoint):
    import warnings

    folder = str(reference_checkpoint(architecture="uni-encoder", backbone="bert"))
    texts = ["short", " ".join(["the match and the vote"] * 40)]
    cut = GLiClassZeroShot(model=folder, labels=LABELS, max_length=32, multi_label=True).fit()
    with pytest.warns(TruncationWarning, match="1 of 2 texts were longer.*long_text='chunk'"):
        cut.predict_proba(texts)
    whole = GLiClassZeroShot(model=folder, labels=LABELS, max_length=32, multi_label=True, long_text="chunk").fit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = whole.predict_proba(texts)
    assert proba.shape == (2, 4) and np.isfinite(proba).all()
    with pytest.raises(ValueError, match="long_text='windows' is not valid"):
        GLiClassZeroShot(labels=LABELS, long_text="windows").fit()

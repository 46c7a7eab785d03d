"""Input building: spliced ids equal the reference's whole-string tokenisation."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from _reference import minilm_tokenizer
from skgliclass import GLiClassConfig
from skgliclass.data.prompts import InputBuilder, format_examples
from skgliclass.modeling.encoder import SPECIAL_TOKENS, add_special_tokens

TEXTS = ["The match ended 2-1.", "Parliament passed the budget", "  spaces  around  ", "", "émoji 🚀 text"]
LABELS = ["sport", "politics", "science fiction", "Business & Finance"]
EXAMPLES = [{"text": "a goal was scored", "labels": ["sport"]}, {"text": "vote", "labels": ["politics", "law"]}]


def _reference_string(text, labels, prompt, examples, prompt_first, fused):
    """The string the reference pipeline tokenises (gliclass/pipeline.py prepare_input)."""
    if fused:
        parts = (f"{prompt} " if prompt else "") + "<<LABEL>>" * len(labels) + "<<SEP>>"
    else:
        parts = "".join(f"<<LABEL>>{label}" for label in labels) + "<<SEP>>" + (prompt or "")
    tail = format_examples(examples)
    return parts + text + tail if prompt_first else text + parts + tail


def _metaspace_tokenizer() -> PreTrainedTokenizerFast:
    """A SentencePiece-like tokenizer: words carry a start mark only where the piece opens the string."""
    words = set()
    for text in TEXTS + LABELS + ["Classify this", "a goal was scored", "vote", "Labels:", "sport,", "law"]:
        for word in text.replace("\n", " ").split():
            words.update({word, "\u2581" + word})
    vocab = {tok: i for i, tok in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *sorted(words)])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    core.decoder = decoders.Metaspace()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )


@pytest.mark.parametrize("make_tokenizer", [minilm_tokenizer, _metaspace_tokenizer], ids=["wordpiece", "metaspace"])
@pytest.mark.parametrize("fused", [False, True], ids=["uni", "fused"])
@pytest.mark.parametrize("prompt_first", [False, True], ids=["text-first", "labels-first"])
@pytest.mark.parametrize("prompt, examples", [(None, None), ("Classify this", EXAMPLES)], ids=["bare", "prompted"])
def test_spliced_ids_equal_whole_string_ids(make_tokenizer, fused, prompt_first, prompt, examples):
    tokenizer = make_tokenizer()
    ids = add_special_tokens(tokenizer)
    config = GLiClassConfig(
        architecture="bi-encoder-fused" if fused else "uni-encoder",
        encoder_config={"model_type": "bert", "hidden_size": 8, "vocab_size": len(tokenizer)},
        label_model_config={"model_type": "bert", "hidden_size": 8} if fused else None,
        prompt_first=prompt_first,
        **ids,
    )
    encoded = InputBuilder(tokenizer, config, 512).build(TEXTS, LABELS, prompt=prompt, examples=examples)
    assert len(encoded.chunks) == 1 and encoded.truncated == 0
    for text, row in zip(TEXTS, encoded.chunks[0].rows, strict=True):
        whole = _reference_string(text, LABELS, prompt, examples, prompt_first, fused)
        assert row == tokenizer(whole)["input_ids"], whole


def test_marker_tokens_are_added_once_and_ids_follow_the_vocabulary():
    tokenizer = minilm_tokenizer()
    n = len(tokenizer)
    ids = add_special_tokens(tokenizer)
    assert ids == {"class_token_index": n, "text_token_index": n + 1, "example_token_index": n + 2}
    assert add_special_tokens(tokenizer) == ids and len(tokenizer) == n + 3
    assert tokenizer.convert_ids_to_tokens([n, n + 1, n + 2]) == list(SPECIAL_TOKENS)


def test_examples_format_matches_reference():
    from gliclass.pipeline import format_examples_prompt

    assert format_examples(EXAMPLES) == format_examples_prompt(EXAMPLES)
    assert format_examples(None) == ""


def test_empty_labels_and_tiny_max_length_are_rejected():
    tokenizer = minilm_tokenizer()
    config = GLiClassConfig(encoder_config={"model_type": "bert", "hidden_size": 8, "vocab_size": len(tokenizer)})
    with pytest.raises(ValueError, match="labels must not be empty"):
        InputBuilder(tokenizer, config, 64).build(TEXTS, [])
    with pytest.raises(ValueError, match="too small"):
        InputBuilder(tokenizer, config, 4)


@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder", "encoder-decoder"])
@pytest.mark.parametrize("prompt_first", [True, False])
def test_special_token_strings_inside_texts_stay_plain_text(architecture, prompt_first):
    tokenizer = minilm_tokenizer()
    ids = add_special_tokens(tokenizer)
    config = GLiClassConfig(
        architecture=architecture,
        encoder_config={"model_type": "bert", "hidden_size": 8, "vocab_size": len(tokenizer)},
        label_model_config={"model_type": "bert", "hidden_size": 8} if architecture == "bi-encoder" else None,
        prompt_first=prompt_first,
        **ids,
    )
    builder = InputBuilder(tokenizer, config, 512)
    texts = ["see <<LABEL>> and <<SEP>> then [SEP] or [CLS]", "a plain text"]
    row, plain_row = builder.build(texts, LABELS).chunks[0].rows
    markers = {tokenizer.convert_tokens_to_ids(t) for t in ("<<LABEL>>", "<<SEP>>", "[SEP]", "[CLS]")}
    # The odd text holds exactly the special ids the plain text holds: the ones the builder puts there.
    assert sorted(i for i in row if i in markers) == sorted(i for i in plain_row if i in markers)
    split = tokenizer(texts[0], add_special_tokens=False, split_special_tokens=True)["input_ids"]
    assert any(row[i : i + len(split)] == split for i in range(len(row)))

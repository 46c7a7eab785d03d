"""Tests for ``skgliclass.config.GLiClassConfig`` and its reading and writing of reference ``config.json``."""

from __future__ import annotations

import json

import pytest

import skgliclass
from skgliclass import GLiClassConfig
from skgliclass.choices import ARCHITECTURES, POOLER_NAMES, SCORER_NAMES

ENCODER_CONFIG = {"model_type": "bert", "hidden_size": 64, "vocab_size": 100, "num_hidden_layers": 2}
LABEL_CONFIG = {"model_type": "bert", "hidden_size": 48, "vocab_size": 90, "num_hidden_layers": 1}


def _config(**changes) -> GLiClassConfig:
    changes.setdefault("encoder_config", dict(ENCODER_CONFIG))
    return GLiClassConfig(**changes)


def _strings(value):
    """Every string (keys included) anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_exported_from_package():
    assert skgliclass.GLiClassConfig is GLiClassConfig
    # The torch-free names and the model's registries agree, in the same order.
    from skgliclass.modeling.architectures import ARCHITECTURE_CLASSES
    from skgliclass.modeling.poolers import POOLERS
    from skgliclass.modeling.scorers import SCORERS

    assert list(POOLER_NAMES) == list(POOLERS)
    assert list(SCORER_NAMES) == list(SCORERS)
    assert list(ARCHITECTURES) == list(ARCHITECTURE_CLASSES)


def test_defaults():
    config = _config()
    assert config.architecture == "uni-encoder"
    assert config.pooler == "first"
    assert config.scorer == "dot"
    assert config.class_token_pooling == "first"
    assert config.hidden_size is None
    assert config.projector_size == 64
    assert config.encoder_hidden_size == 64
    assert config.num_hidden_layers == 2
    assert config.vocab_size == 100
    assert (config.class_token_index, config.text_token_index, config.example_token_index) == (100, 101, 102)
    assert config.dropout == 0.1
    assert config.logit_scale_init_value == pytest.approx(2.6592)
    assert config.extra == {}


def test_explicit_token_indices_and_vocab_size_win():
    config = _config(vocab_size=120, class_token_index=7)
    assert config.class_token_index == 7
    assert config.text_token_index == 121
    assert config.example_token_index == 122


def test_hidden_size_sets_projector_size():
    assert _config(hidden_size=32).projector_size == 32


# ------------------------------------------------------------- reference names


@pytest.mark.parametrize(
    ("given", "expected"),
    [("simple", "dot"), ("weighted_dot", "weighted-dot"), ("MLP", "mlp"), ("hopfield", "hopfield")],
)
def test_reference_scorer_names_are_accepted(given, expected):
    assert _config(scorer=given).scorer == expected
    data = {"encoder_config": ENCODER_CONFIG, "scorer_type": given}
    assert GLiClassConfig.from_reference_dict(data).scorer == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("avg", "mean"), ("abs_avg", "abs-mean"), ("abs_max", "abs-max"), ("first", "first"), ("rms", "rms")],
)
def test_reference_pooler_names_are_accepted(given, expected):
    assert _config(pooler=given).pooler == expected
    data = {"encoder_config": ENCODER_CONFIG, "pooling_strategy": given}
    assert GLiClassConfig.from_reference_dict(data).pooler == expected


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [("mean", "avg"), ("abs-mean", "abs_avg"), ("abs-max", "abs_max"), ("first", "first"), ("max", "max")],
)
def test_to_reference_dict_writes_reference_pooler_names(ours, theirs):
    assert _config(pooler=ours).to_reference_dict()["pooling_strategy"] == theirs


@pytest.mark.parametrize(
    ("ours", "theirs"), [("dot", "simple"), ("mlp", "mlp"), ("weighted-dot", "weighted-dot"), ("hopfield", "hopfield")]
)
def test_to_reference_dict_writes_reference_scorer_names(ours, theirs):
    assert _config(scorer=ours).to_reference_dict()["scorer_type"] == theirs


def test_to_reference_dict_cross_attn():
    data = _config(scorer="cross-attn", pooler="pass", scorer_num_heads=4).to_reference_dict()
    assert data["scorer_type"] == "cross-attn"
    assert data["pooling_strategy"] == "pass"
    assert data["scorer_num_heads"] == 4


# --------------------------------------------------------------- from_reference


def test_minimal_reference_dict_gets_reference_defaults():
    data = {"encoder_config": dict(ENCODER_CONFIG), "architecture_type": "uni-encoder"}
    config = GLiClassConfig.from_reference_dict(data)
    assert config.architecture == "uni-encoder"
    assert config.pooler == "first"
    assert config.scorer == "dot"
    assert config.prompt_first is False
    assert config.class_token_pooling == "first"
    assert config.dropout == pytest.approx(0.1)
    assert config.logit_scale_init_value == pytest.approx(2.6592)
    assert config.normalize_features is False
    assert config.extract_text_features is False
    assert config.embed_class_token is True
    assert config.layer_reweighting is False
    assert config.encoder_layer_id is None
    assert config.scorer_num_heads == 16
    assert config.scorer_mlp_hidden_size == 1024
    assert config.scorer_attn_dropout == pytest.approx(0.1)
    assert config.max_num_classes == 25
    assert config.focal_loss_alpha == pytest.approx(0.5)
    assert config.focal_loss_gamma == pytest.approx(2.0)
    assert config.contrastive_loss_coef == 0
    assert config.initializer_range == pytest.approx(0.03)
    assert config.projector_hidden_act == "gelu"
    assert config.extra == {}


def test_reference_token_indices_minus_one_mean_after_vocab():
    data = {
        "encoder_config": ENCODER_CONFIG,
        "class_token_index": -1,
        "text_token_index": -1,
        "example_token_index": -1,
    }
    config = GLiClassConfig.from_reference_dict(data)
    assert (config.class_token_index, config.text_token_index, config.example_token_index) == (100, 101, 102)
    data["vocab_size"] = 130
    config = GLiClassConfig.from_reference_dict(data)
    assert (config.class_token_index, config.text_token_index, config.example_token_index) == (130, 131, 132)
    data.update(class_token_index=5, text_token_index=6, example_token_index=9)
    config = GLiClassConfig.from_reference_dict(data)
    assert (config.class_token_index, config.text_token_index, config.example_token_index) == (5, 6, 9)


def test_reference_layer_options_are_translated():
    data = {"encoder_config": ENCODER_CONFIG, "squeeze_layers": True, "encoder_layer_id": 1}
    config = GLiClassConfig.from_reference_dict(data)
    assert config.layer_reweighting is True
    assert config.encoder_layer_id == 1
    out = config.to_reference_dict()
    assert out["squeeze_layers"] is True
    assert out["encoder_layer_id"] == 1
    assert _config().to_reference_dict()["encoder_layer_id"] == -1


def test_reference_dict_is_not_mutated():
    data = {"encoder_config": dict(ENCODER_CONFIG), "scorer_type": "simple", "my_key": [1, 2]}
    snapshot = json.loads(json.dumps(data))
    GLiClassConfig.from_reference_dict(data)
    assert data == snapshot


def test_unknown_keys_are_kept_and_written_back():
    data = {
        "encoder_config": ENCODER_CONFIG,
        "my_custom_key": {"a": 1},
        "ignore_index": -100,
        "max_labels_alloc": "dynamic",
        "transformers_version": "9.9.9",  # derived: dropped
    }
    config = GLiClassConfig.from_reference_dict(data)
    assert config.extra == {"my_custom_key": {"a": 1}, "ignore_index": -100, "max_labels_alloc": "dynamic"}
    out = config.to_reference_dict()
    assert out["my_custom_key"] == {"a": 1}
    assert out["ignore_index"] == -100
    assert out["max_labels_alloc"] == "dynamic"
    assert json.loads(config.to_json_string())["my_custom_key"] == {"a": 1}


def test_extra_cannot_override_known_fields():
    config = _config(extra={"scorer_type": "mlp", "model_type": "bert"})
    out = config.to_reference_dict()
    assert out["scorer_type"] == "simple"
    assert out["model_type"] == "GLiClass"


@pytest.mark.parametrize("flag", ["use_lstm", "use_segment_embeddings", "use_calibrator"])
def test_unsupported_reference_flags_raise(flag):
    with pytest.raises(ValueError, match=flag):
        GLiClassConfig.from_reference_dict({"encoder_config": ENCODER_CONFIG, flag: True})


@pytest.mark.parametrize("flag", ["use_lstm", "use_segment_embeddings", "use_calibrator"])
def test_unsupported_reference_flags_off_are_fine(flag):
    config = GLiClassConfig.from_reference_dict({"encoder_config": ENCODER_CONFIG, flag: False})
    assert config.scorer == "dot"


def test_unknown_architecture_type_raises():
    with pytest.raises(ValueError, match="architecture_type"):
        GLiClassConfig.from_reference_dict({"encoder_config": ENCODER_CONFIG, "architecture_type": "decoder-kv"})


# ---------------------------------------------------------------- to_reference


def test_to_reference_dict_header():
    data = _config().to_reference_dict()
    assert data["model_type"] == "GLiClass"
    assert data["architecture_type"] == "uni-encoder"
    assert data["hidden_size"] is None  # left unset: the reference derives the backbone width, as we do
    assert data["vocab_size"] == 100
    assert data["class_token_index"] == 100
    assert data["encoder_config"] == ENCODER_CONFIG
    assert isinstance(data["encoder_model_name"], str) and data["encoder_model_name"]


def test_to_reference_dict_does_not_alias_encoder_config():
    config = _config(encoder_config={**ENCODER_CONFIG, "_name_or_path": "/tmp/x/y"})
    data = config.to_reference_dict()
    data["encoder_config"]["hidden_size"] = 1
    assert config.encoder_config["hidden_size"] == 64
    assert config.encoder_config["_name_or_path"] == "/tmp/x/y"


def test_json_string_is_sorted_json():
    text = _config(scorer="mlp").to_json_string()
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["scorer_type"] == "mlp"
    assert text.endswith("\n")


def test_no_machine_path_in_json():
    config = GLiClassConfig(
        encoder_config={**ENCODER_CONFIG, "_name_or_path": "/tmp/x/y"},
        encoder_model_name="/home/user/models/my-bert",
    )
    text = config.to_json_string()
    for value in _strings(json.loads(text)):
        assert "/home/" not in value and "/tmp/" not in value, value
    assert "/home/" not in text and "/tmp/" not in text
    data = json.loads(text)
    assert data["encoder_model_name"] == "my-bert"
    assert data["encoder_config"]["_name_or_path"] == "y"


def test_no_machine_path_in_json_for_bi_encoder():
    config = GLiClassConfig(
        architecture="bi-encoder",
        encoder_config={**ENCODER_CONFIG, "_name_or_path": "/tmp/enc"},
        encoder_model_name="/home/user/enc",
        label_model_config={**LABEL_CONFIG, "_name_or_path": "/home/user/labels/m"},
        label_model_name="/tmp/label-model",
    )
    text = config.to_json_string()
    assert "/home/" not in text and "/tmp/" not in text
    data = json.loads(text)
    assert data["label_model_name"] == "label-model"
    assert data["label_model_config"]["_name_or_path"] == "m"
    assert config.label_model_config["_name_or_path"] == "/home/user/labels/m"  # the config itself is untouched


def test_no_machine_path_from_a_reference_dict():
    data = {
        "encoder_config": {**ENCODER_CONFIG, "_name_or_path": "/home/me/ckpt/backbone"},
        "encoder_model_name": "/home/me/ckpt/backbone",
        "_name_or_path": "/tmp/ckpt",
    }
    text = GLiClassConfig.from_reference_dict(data).to_json_string()
    assert "/home/" not in text and "/tmp/" not in text


def test_no_machine_path_from_encoder_model_key():
    data = {
        "encoder_config": ENCODER_CONFIG,
        "encoder_model_name": "microsoft/deberta-v3-small",
        "encoder_model": "/home/me/models/deberta",
    }
    text = GLiClassConfig.from_reference_dict(data).to_json_string()
    assert "/home/" not in text


def test_encoder_model_key_is_read_when_name_missing():
    data = {"encoder_config": ENCODER_CONFIG, "encoder_model": "/home/me/models/deberta"}
    config = GLiClassConfig.from_reference_dict(data)
    assert config.encoder_model_name == "deberta"
    assert "/home/" not in config.to_json_string()


@pytest.mark.parametrize("hub_id", ["microsoft/deberta-v3-small", "bert-base-uncased"])
def test_hub_id_is_kept(hub_id):
    config = _config(encoder_model_name=hub_id, encoder_config={**ENCODER_CONFIG, "_name_or_path": hub_id})
    assert config.encoder_model_name == hub_id
    data = json.loads(config.to_json_string())
    assert data["encoder_model_name"] == hub_id
    assert data["encoder_config"]["_name_or_path"] == hub_id


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("scorer", "mpl", "mlp"),
        ("pooler", "meen", "mean"),
        ("architecture", "bi-encodr", "bi-encoder"),
        ("class_token_pooling", "averag", "average"),
    ],
)
def test_invalid_choice_names_field_and_suggests(field, value, hint):
    with pytest.raises(ValueError) as info:
        _config(**{field: value})
    message = str(info.value)
    assert field in message
    assert value in message
    assert f"Did you mean {hint!r}" in message


def test_invalid_choice_without_near_miss_has_no_hint():
    with pytest.raises(ValueError) as info:
        _config(scorer="zzzzzz")
    assert "scorer" in str(info.value)
    assert "Did you mean" not in str(info.value)


def test_cross_attn_requires_pass_pooler():
    with pytest.raises(ValueError, match="pass"):
        _config(scorer="cross-attn", pooler="first")
    config = _config(scorer="cross-attn", pooler="pass")
    assert (config.scorer, config.pooler) == ("cross-attn", "pass")


def test_pass_pooler_requires_cross_attn():
    with pytest.raises(ValueError, match="cross-attn"):
        _config(scorer="dot", pooler="pass")


def test_cross_attn_needs_uni_encoder():
    with pytest.raises(ValueError, match="uni-encoder"):
        GLiClassConfig(
            architecture="bi-encoder",
            encoder_config=ENCODER_CONFIG,
            label_model_config=LABEL_CONFIG,
            scorer="cross-attn",
            pooler="pass",
        )


def test_bi_encoder_needs_label_model_config():
    with pytest.raises(ValueError, match="label_model_config"):
        GLiClassConfig(architecture="bi-encoder", encoder_config=ENCODER_CONFIG)
    config = GLiClassConfig(architecture="bi_encoder", encoder_config=ENCODER_CONFIG, label_model_config=LABEL_CONFIG)
    assert config.architecture == "bi-encoder"
    assert config.label_hidden_size == 48


@pytest.mark.parametrize(
    ("field", "value"),
    [("dropout", 1.0), ("dropout", -0.1), ("hidden_size", 0), ("scorer_num_heads", 0), ("max_num_classes", 2.5)],
)
def test_invalid_numbers_raise_naming_field(field, value):
    with pytest.raises(ValueError, match=field):
        _config(**{field: value})


def test_replace_validates():
    config = _config()
    assert config.replace(scorer="mlp").scorer == "mlp"
    with pytest.raises(ValueError, match="scorer"):
        config.replace(scorer="mpl")


# ------------------------------------------------------------------ round trips


ROUND_TRIP_CONFIGS = [
    {"hidden_size": 64, "encoder_model_name": "bert-base-uncased"},
    {"hidden_size": 32, "encoder_model_name": "org/model", "scorer": "mlp", "pooler": "mean", "prompt_first": True},
    {
        "hidden_size": 64,
        "encoder_model_name": "org/model",
        "scorer": "cross-attn",
        "pooler": "pass",
        "scorer_num_heads": 4,
        "layer_reweighting": True,
        "encoder_layer_id": 1,
        "extra": {"my_key": [1, 2, 3]},
    },
    {
        "hidden_size": 64,
        "encoder_model_name": "org/model",
        "scorer": "hopfield",
        "pooler": "abs-max",
        "class_token_pooling": "average",
        "normalize_features": True,
        "class_token_index": 3,
        "dropout": 0.0,
    },
    {
        "architecture": "bi-encoder",
        "hidden_size": 48,
        "encoder_model_name": "org/model",
        "label_model_config": dict(LABEL_CONFIG),
        "label_model_name": "org/labels",
        "scorer": "weighted-dot",
        "pooler": "abs-mean",
    },
]


@pytest.mark.parametrize("changes", ROUND_TRIP_CONFIGS)
def test_round_trip_through_reference_dict(changes):
    config = _config(**changes)
    assert GLiClassConfig.from_reference_dict(config.to_reference_dict()) == config


@pytest.mark.parametrize("changes", ROUND_TRIP_CONFIGS)
def test_round_trip_through_json_file(tmp_path, changes):
    config = _config(**changes)
    path = tmp_path / "config.json"
    path.write_text(config.to_json_string(), encoding="utf-8")
    assert GLiClassConfig.from_json_file(path) == config
    assert GLiClassConfig.from_json_file(str(path)) == config


def test_round_trip_is_stable_after_one_step():
    first = GLiClassConfig.from_reference_dict(_config().to_reference_dict())
    assert first.projector_size == 64
    assert GLiClassConfig.from_reference_dict(first.to_reference_dict()) == first


def test_round_trip_of_default_config():
    config = _config()
    assert GLiClassConfig.from_reference_dict(config.to_reference_dict()) == config


# ------------------------------------------------------ the real reference package


def _reference_config_dict(**kwargs) -> dict:
    gliclass = pytest.importorskip("gliclass")
    transformers = pytest.importorskip("transformers")
    encoder = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    return gliclass.GLiClassModelConfig(encoder_config=encoder, encoder_model="x", **kwargs).to_dict()


def test_reads_a_config_written_by_the_reference():
    data = _reference_config_dict(scorer_type="mlp", pooling_strategy="avg")
    config = GLiClassConfig.from_reference_dict(json.loads(json.dumps(data)))
    assert config.scorer == "mlp"
    assert config.pooler == "mean"
    assert config.architecture == "uni-encoder"
    assert config.hidden_size == 32
    assert config.projector_size == 32
    assert config.encoder_hidden_size == 32
    assert config.num_hidden_layers == 2
    assert config.vocab_size == 100
    assert config.encoder_config["model_type"] == "bert"
    assert config.encoder_model_name == "x"
    assert (config.class_token_index, config.text_token_index, config.example_token_index) == (100, 101, 102)
    assert config.problem_type == data["problem_type"]
    assert config.pad_token_id == 0
    # reference-only keys survive as extras, derived keys do not
    assert config.extra["ignore_index"] == -100
    assert "transformers_version" not in config.extra
    assert "model_type" not in config.extra


def test_reads_a_reference_json_file(tmp_path):
    data = _reference_config_dict(scorer_type="simple", pooling_strategy="abs_max", squeeze_layers=True)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    config = GLiClassConfig.from_json_file(path)
    assert (config.scorer, config.pooler, config.layer_reweighting) == ("dot", "abs-max", True)


@pytest.mark.parametrize(
    "changes",
    [
        {"scorer": "mlp", "pooler": "mean"},
        {"scorer": "dot", "pooler": "first", "hidden_size": 32},
        {"scorer": "cross-attn", "pooler": "pass", "scorer_num_heads": 4},
        {"scorer": "hopfield", "pooler": "abs-max", "class_token_index": 7},
        {"scorer": "weighted-dot", "pooler": "abs-mean", "encoder_model_name": "/home/u/m"},
    ],
)
def test_reference_reads_our_config(changes):
    gliclass = pytest.importorskip("gliclass")
    config = _config(**changes)
    ours = json.loads(config.to_json_string())
    reference = gliclass.GLiClassModelConfig(**ours)
    assert reference.scorer_type == ours["scorer_type"]
    assert reference.pooling_strategy == ours["pooling_strategy"]
    assert reference.hidden_size == config.projector_size
    assert reference.architecture_type == config.architecture
    assert reference.class_token_index == config.class_token_index
    assert reference.text_token_index == config.text_token_index
    assert reference.encoder_config.hidden_size == 64
    assert reference.encoder_config.model_type == "bert"


def test_reference_round_trip_through_both_packages():
    gliclass = pytest.importorskip("gliclass")
    data = json.loads(json.dumps(_reference_config_dict(scorer_type="weighted-dot", pooling_strategy="rms")))
    config = GLiClassConfig.from_reference_dict(data)
    again = gliclass.GLiClassModelConfig(**json.loads(config.to_json_string()))
    assert again.scorer_type == "weighted-dot"
    assert again.pooling_strategy == "rms"
    assert again.hidden_size == 32
    assert again.class_token_index == 100
    assert GLiClassConfig.from_reference_dict(json.loads(json.dumps(again.to_dict()))) == config

"""Every variant with every option: forward shapes, training gradients, our own save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skgliclass import load_pretrained, new_model, save_pretrained
from skgliclass.batching import pad_batch
from skgliclass.data.prompts import InputBuilder
from skgliclass.inference import predict_logits
from skgliclass.losses import contrastive_loss, focal_loss

TEXTS = ["a short text", "a much longer text about football, elections and computer chips", "x"]
LABELS = ["sport", "politics", "technology"]

# architecture, backbone, head options (our own features included: attention pooler, layer re-weighting)
TABLE = [
    ("uni-encoder", "bert", {"pooler": "attention", "layer_reweighting": True}),
    ("uni-encoder", "deberta", {"pooler": "mean", "scorer": "hopfield", "encoder_layer_id": 1}),
    ("uni-encoder", "modernbert", {"pooler": "first", "scorer": "mlp", "prompt_first": True}),
    ("uni-encoder", "bert", {"pooler": "pass", "scorer": "cross-attn", "scorer_num_heads": 4}),
    ("bi-encoder", "bert", {"pooler": "mean", "normalize_features": True, "layer_reweighting": True}),
    ("bi-encoder-fused", "bert", {"pooler": "attention", "scorer": "weighted-dot"}),
    ("encoder-decoder", "t5", {"pooler": "mean", "layer_reweighting": True}),
]


def _inputs(model, tokenizer):
    builder = InputBuilder(tokenizer, model.config, 128)
    encoded = builder.build(TEXTS, LABELS)
    chunk = encoded.chunks[0]
    ids, mask = pad_batch(chunk.rows, tokenizer.pad_token_id, torch.device("cpu"))
    inputs = {"input_ids": ids, "attention_mask": mask}
    if encoded.label_ids is not None:
        label_ids, label_mask = pad_batch(encoded.label_ids, tokenizer.pad_token_id, torch.device("cpu"))
        inputs["label_vectors"] = model.model.encode_labels(label_ids, label_mask)
    else:
        inputs["num_labels"] = len(LABELS)
    if chunk.decoder_ids is not None:
        dec = torch.tensor([chunk.decoder_ids] * len(TEXTS))
        inputs.update(decoder_input_ids=dec, decoder_attention_mask=torch.ones_like(dec))
    return inputs


@pytest.mark.parametrize("architecture, backbone, head", TABLE, ids=lambda v: str(v))
def test_training_step_reaches_backbone_and_head(architecture, backbone, head, tiny_encoder_dir):
    model, tokenizer = new_model(str(tiny_encoder_dir(backbone)), architecture=architecture, **head)
    model.train()
    out = model(**_inputs(model, tokenizer))
    assert out.logits.shape == (len(TEXTS), len(LABELS)) and out.class_mask.shape == out.logits.shape
    targets = torch.eye(3)
    targets[2, 2] = -100  # an unknown entry
    loss = focal_loss(out.logits, targets, mask=out.class_mask) + 0.5 * contrastive_loss(
        out.class_embeddings, out.class_mask
    )
    loss.backward()
    assert torch.isfinite(loss)
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    backbone_grads = [g for n, g in grads.items() if ".encoder" in n and g is not None]
    assert backbone_grads and any(g.abs().sum() > 0 for g in backbone_grads)
    if head.get("layer_reweighting"):
        assert grads["model.layer_wise_attention.W1.weight"].abs().sum() > 0
    if head.get("pooler") == "attention":
        assert grads["model.pooler.score.weight"] is not None


@pytest.mark.parametrize("architecture, backbone, head", TABLE, ids=lambda v: str(v))
def test_our_checkpoint_round_trip_is_exact(architecture, backbone, head, tiny_encoder_dir, tmp_path):
    model, tokenizer = new_model(str(tiny_encoder_dir(backbone)), architecture=architecture, **head)
    with torch.no_grad():  # move the head away from its initial values so the test sees the weights
        for _, p in model.head_parameters():
            p.add_(0.05 * torch.randn_like(p))
    builder = InputBuilder(tokenizer, model.config, 128)
    before, _ = predict_logits(model, builder, TEXTS, LABELS, device=torch.device("cpu"))
    loaded, loaded_tokenizer = load_pretrained(save_pretrained(model, tokenizer, tmp_path / "ckpt"))
    after, _ = predict_logits(loaded, InputBuilder(loaded_tokenizer, loaded.config, 128), TEXTS, LABELS)
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert loaded.config.to_json_string() == model.config.to_json_string()


def test_layer_reweighting_mixes_every_hidden_state(tiny_encoder_dir):
    model, _ = new_model(str(tiny_encoder_dir("bert")), layer_reweighting=True)
    mixer = model.model.layer_wise_attention
    assert mixer.num_states == model.config.num_hidden_layers + 1  # embeddings + every layer


def test_weights_for_another_config_are_named(tiny_encoder_dir, tmp_path):
    import json

    model, tokenizer = new_model(str(tiny_encoder_dir("bert")), scorer="mlp", pooler="mean")
    folder = save_pretrained(model, tokenizer, tmp_path / "ckpt")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["scorer_type"] = "hopfield"
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"missing keys \[.*scorer\.q_proj"):
        load_pretrained(folder)
    cfg["scorer_type"], cfg["squeeze_layers"] = "mlp", True
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="layer_wise_attention"):
        load_pretrained(folder)

"""Shared fixtures: offline mode, fixed seeds, tiny random checkpoints built once per session."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from _reference import make_reference_checkpoint, minilm_path


@pytest.fixture(autouse=True)
def _seeded() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def reference_checkpoint(tmp_path_factory: pytest.TempPathFactory):
    """Factory: a tiny random checkpoint written by the reference ``gliclass``, cached per spec."""
    made: dict[tuple, Path] = {}

    def make(**spec: object) -> Path:
        key = tuple(sorted(spec.items()))
        if key not in made:
            spec.setdefault("head_std", 0.1)
            made[key] = make_reference_checkpoint(tmp_path_factory.mktemp("ref"), **spec)
        return made[key]

    return make


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory):
    """Factory: a folder holding a tiny random plain encoder (bert/deberta/modernbert/t5) and the MiniLM tokenizer."""
    from transformers import AutoModel, AutoTokenizer, T5Model

    from _reference import _tiny_encoder_config

    made: dict[str, Path] = {}

    def make(backbone: str = "bert") -> Path:
        if backbone not in made:
            folder = tmp_path_factory.mktemp(f"tiny-{backbone}")
            tokenizer = AutoTokenizer.from_pretrained(str(minilm_path()))
            config = _tiny_encoder_config(backbone, tokenizer)
            torch.manual_seed(1)
            model = T5Model(config) if backbone == "t5" else AutoModel.from_config(config)
            model.save_pretrained(folder)
            tokenizer.save_pretrained(folder)
            made[backbone] = folder
        return made[backbone]

    return make

"""Few-shot fine-tuning with the ``gliclass`` package's own training path, as a reference.

A fresh GLiClass uni-encoder is built on the local all-MiniLM-L6-v2 folder exactly as the
package's ``train.py`` builds a new model, trained with ``gliclass.training.Trainer`` on
``gliclass.data_processing.GLiClassDataset`` items, and scored with
``gliclass.ZeroShotClassificationPipeline``.

Settings
--------
Model (``train.py`` defaults for a new model):

- ``architecture_type="uni-encoder"``, ``pooling_strategy="avg"``, ``scorer_type="simple"``,
  ``prompt_first=True`` (labels before the text, so truncation only cuts the text),
  ``focal_loss_alpha=-1``, ``focal_loss_gamma=-1`` (plain binary cross-entropy),
  ``focal_loss_reduction="none"``;
- ``<<LABEL>>`` and ``<<SEP>>`` are added to the tokenizer as special tokens and the embeddings
  resized, with ``class_token_index=len(tokenizer)`` and ``text_token_index=len(tokenizer) + 1``
  taken before the tokens are added (the ids the two new tokens receive);
- ``problem_type="multi_label_classification"`` for both tasks, as ``train.py`` and the
  package's fine-tuning notebook do (the uni-encoder's ``single_label_classification`` loss
  reshapes logits by ``num_labels = -1`` and fails).

Training (the fine-tuning notebook's few-shot recipe, with ``train.py``'s learning-rate split
between the pretrained encoder and the new head):

- 8 epochs, batch size 8, ``learning_rate=1e-5`` (encoder), ``others_lr=3e-5`` (projectors),
  weight decay 0.01 for both, linear schedule, no warmup;
- ``max_length=512`` (MiniLM's position limit; the package uses 1024 with DeBERTa);
- ``AugmentationConfig(enabled=False)`` (the notebook's recipe has no augmentation) and the label
  order shuffled per item (the dataset's default);
- CPU only, no evaluation, no checkpoints, no progress bars, ``seed=seed``.

Prediction: ``ZeroShotClassificationPipeline`` with ``threshold=0`` and
``classification_type="multi-label"`` (sigmoid score per label) or ``"single-label"``
(softmax; the pipeline returns only the best label, so the other columns of its row are 0).

Works with transformers 5, where two keywords ``train.py`` passes no longer exist: the tokenizer
goes to ``Trainer(processing_class=...)`` instead of ``tokenizer=``, and the warmup is given as
``warmup_steps`` (a float below 1 is a ratio) instead of ``warmup_ratio``.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from gliclass import GLiClassModel, GLiClassModelConfig, ZeroShotClassificationPipeline
from gliclass.data_processing import AugmentationConfig, DataCollatorWithPadding, GLiClassDataset
from gliclass.training import Trainer, TrainingArguments
from transformers import AutoConfig, AutoTokenizer, PrinterCallback, set_seed
from transformers.utils import logging as hf_logging

from skgliclass.estimators._base import default_model_path

__all__ = ["fit_predict_reference"]

MAX_LENGTH = 512
EPOCHS = 8
BATCH_SIZE = 8
ENCODER_LR = 1e-5
OTHERS_LR = 3e-5
WEIGHT_DECAY = 0.01
PROBLEM_TYPE = "multi_label_classification"


def fit_predict_reference(
    x_train: list[str],
    y_train: list[list[str]],
    x_test: list[str],
    labels: list[str],
    seed: int,
    multi_label: bool,
) -> np.ndarray:
    """Fine-tune a fresh gliclass uni-encoder on the MiniLM folder and score the test texts.

    Parameters
    ----------
    x_train : list of str
        Training texts.
    y_train : list of list of str
        True labels of each training text (one name per text for a single-label task).
    x_test : list of str
        Texts to score.
    labels : list of str
        Candidate labels; every training item sees all of them.
    seed : int
        Seed of the head initialisation, data order and label shuffling.
    multi_label : bool
        Score with independent sigmoids (True) or a softmax over the labels (False).

    Returns
    -------
    numpy.ndarray of shape (len(x_test), len(labels))
        Scores in the order of ``labels``; a label the pipeline leaves out of a row scores 0.

    Raises
    ------
    RuntimeError
        If no training step produced a loss.
    """
    path = default_model_path()
    # The head's random initialisation happens before the Trainer seeds anything.
    set_seed(seed)

    tokenizer = AutoTokenizer.from_pretrained(path)
    config = GLiClassModelConfig(
        encoder_config=AutoConfig.from_pretrained(path),
        encoder_model=path,
        class_token_index=len(tokenizer),
        text_token_index=len(tokenizer) + 1,
        pooling_strategy="avg",
        scorer_type="simple",
        focal_loss_alpha=-1,
        focal_loss_gamma=-1,
        focal_loss_reduction="none",
        architecture_type="uni-encoder",
        prompt_first=True,
    )
    config.problem_type = PROBLEM_TYPE
    # Loading the encoder draws a weight-loading bar; the caller's setting is restored after.
    bars_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = GLiClassModel(config, from_pretrained=True)
    finally:
        if bars_on:
            hf_logging.enable_progress_bar()
    tokenizer.add_tokens(["<<LABEL>>", "<<SEP>>"], special_tokens=True)
    model.resize_token_embeddings(len(tokenizer))

    # Each item gets its own label list: the dataset shuffles it in place.
    items = [
        {"text": text, "all_labels": list(labels), "true_labels": list(true)}
        for text, true in zip(x_train, y_train, strict=True)
    ]
    # The dataset prints its label count.
    with contextlib.redirect_stdout(io.StringIO()):
        dataset = GLiClassDataset(
            items,
            tokenizer,
            AugmentationConfig(enabled=False),
            max_length=MAX_LENGTH,
            problem_type=PROBLEM_TYPE,
            architecture_type="uni-encoder",
            prompt_first=True,
        )

    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(
            output_dir=output_dir,
            learning_rate=ENCODER_LR,
            weight_decay=WEIGHT_DECAY,
            others_lr=OTHERS_LR,
            others_weight_decay=WEIGHT_DECAY,
            lr_scheduler_type="linear",
            # transformers 5 folds the former warmup_ratio into a float warmup_steps.
            warmup_steps=0.0,
            per_device_train_batch_size=BATCH_SIZE,
            num_train_epochs=EPOCHS,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            dataloader_num_workers=0,
            use_cpu=True,
            report_to="none",
            disable_tqdm=True,
            seed=seed,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(device="cpu", config=model.config),
        )
        # With progress bars off, the Trainer would print its final metrics instead.
        trainer.remove_callback(PrinterCallback)
        result = trainer.train()
    # Trainer.training_step turns a failing step into a zero loss and carries on.
    if not np.isfinite(result.training_loss) or result.training_loss == 0.0:
        raise RuntimeError(f"gliclass training produced no loss (training_loss={result.training_loss})")

    pipeline = ZeroShotClassificationPipeline(
        model,
        tokenizer,
        max_length=MAX_LENGTH,
        classification_type="multi-label" if multi_label else "single-label",
        device="cpu",
        progress_bar=False,
    )
    outputs = pipeline(list(x_test), list(labels), threshold=0.0, batch_size=BATCH_SIZE)

    column = {label: j for j, label in enumerate(labels)}
    proba = np.zeros((len(x_test), len(labels)))
    for row, predictions in enumerate(outputs):
        for prediction in predictions:
            proba[row, column[prediction["label"]]] = prediction["score"]
    return proba

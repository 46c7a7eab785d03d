"""One fitted estimator shared by many threads: same answers as serial calls, logging left as found."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from transformers.utils import logging as hf_logging

from skgliclass import GLiClassZeroShot
from skgliclass._logging import quiet_transformers

TEXTS = [f"text number {i} about the match, the vote and the new chip" * (1 + i % 4) for i in range(24)]
LABELS = ["sport", "politics", "tech", "weather"]


@pytest.mark.parametrize(("architecture", "precision"), [("uni-encoder", "fp32"), ("bi-encoder", "int8")])
def test_predict_proba_from_eight_threads_equals_serial(reference_checkpoint, architecture, precision):
    folder = str(reference_checkpoint(architecture=architecture, backbone="bert"))
    clf = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True, batch_size=4, precision=precision).fit()
    chunks = [TEXTS[i::3] for i in range(3)]
    serial = [clf.predict_proba(chunk) for chunk in chunks]
    fresh = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True, batch_size=4, precision=precision).fit()
    # A fresh estimator: the threads race to build its label vectors and its int8 copy too.
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: (i % 3, fresh.predict_proba(chunks[i % 3])), range(24)))
    for index, proba in results:
        np.testing.assert_allclose(proba, serial[index], rtol=0, atol=1e-6)


def test_overlapping_quiet_blocks_restore_the_users_verbosity():
    hf_logging.set_verbosity_info()
    try:
        first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
        seen = {}

        def first() -> None:
            with quiet_transformers():
                first_in.set()
                second_in.wait(5)
            first_out.set()

        def second() -> None:
            first_in.wait(5)
            with quiet_transformers():
                second_in.set()
                first_out.wait(5)
                seen["inside after the first left"] = hf_logging.get_verbosity()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert seen["inside after the first left"] == hf_logging.ERROR
        assert hf_logging.get_verbosity() == hf_logging.INFO
    finally:
        hf_logging.set_verbosity_warning()

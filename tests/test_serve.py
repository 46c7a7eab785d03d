"""The HTTP server: responses, label choice, limits and errors, micro-batching, a real model end to end, the CLI."""

from __future__ import annotations

import asyncio
import doctest
import json
import subprocess
import sys
import threading
import time
import zlib

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from skgliclass.cli import main
from skgliclass.serve import create_app, load_predictor

LABELS = ["sport", "politics", "tech"]


def _row(text: str, n: int, multi_label: bool) -> np.ndarray:
    """Probabilities that depend on the text alone: a row handed to the wrong request shows."""
    logits = np.random.default_rng(zlib.crc32(text.encode())).normal(scale=2.0, size=n)
    if multi_label:
        return 1 / (1 + np.exp(-logits))
    return np.exp(logits) / np.exp(logits).sum()


class FakePredictor:
    """numpy only: probabilities from `_row`, the `predict` rule of the estimators, a record of its calls."""

    def __init__(self, multi_label: bool = False, threshold: float = 0.5, failures: int = 0, delay: float = 0.0):
        self.classes_ = np.array(LABELS)
        self.multilabel_ = multi_label
        self.threshold = threshold
        self.failures = failures  # the next `failures` calls raise
        self.delay = delay
        self.calls: list[list[str]] = []
        self.active = self.most_active = 0
        self._lock = threading.Lock()

    def proba(self, texts: list[str]) -> np.ndarray:
        return np.array([_row(text, len(LABELS), self.multilabel_) for text in texts])

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(self.delay)
            self.calls.append(list(texts))
            if self.failures:
                self.failures -= 1
                raise RuntimeError("the model ran out of memory")
            if "boom" in texts:
                raise ValueError("cannot read 'boom'")
            return self.proba(texts)
        finally:
            with self._lock:
                self.active -= 1

    def _decide(self, proba: np.ndarray) -> np.ndarray:
        if self.multilabel_:
            return (proba >= self.threshold).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]


TEXTS = ["the striker scored twice", "the senate passed the bill", "a new phone chip", "rain again"]


def _post(client: TestClient, **body: object) -> httpx.Response:
    return client.post("/predict", json=body)


def _sorted(row: np.ndarray) -> list[str]:
    return [LABELS[j] for j in np.argsort(-row, kind="stable")]


def test_single_label_returns_the_pick_and_every_probability_most_probable_first():
    fake = FakePredictor()
    with TestClient(create_app(fake)) as client:
        response = _post(client, texts=TEXTS)
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    for prediction, row in zip(predictions, fake.proba(TEXTS), strict=True):
        assert prediction["labels"] == [LABELS[row.argmax()]]
        assert list(prediction["probabilities"]) == _sorted(row)  # the order of the JSON object
        assert [prediction["probabilities"][c] for c in LABELS] == pytest.approx(row, abs=1e-12)


def test_single_label_top_k_returns_the_k_most_probable():
    fake = FakePredictor()
    with TestClient(create_app(fake)) as client:
        predictions = _post(client, texts=TEXTS, top_k=2).json()["predictions"]
    for prediction, row in zip(predictions, fake.proba(TEXTS), strict=True):
        assert prediction["labels"] == _sorted(row)[:2] == list(prediction["probabilities"])
        assert prediction["probabilities"][_sorted(row)[1]] == pytest.approx(np.sort(row)[-2])


def test_multi_label_follows_the_predictor_rule_or_the_threshold_given():
    fake = FakePredictor(multi_label=True, threshold=0.7)
    rows = fake.proba(TEXTS)
    assert ((rows >= 0.3) != (rows >= 0.7)).any()  # the two rules differ on these texts
    with TestClient(create_app(fake)) as client:
        own = _post(client, texts=TEXTS).json()["predictions"]
        low = _post(client, texts=TEXTS, threshold=0.3).json()["predictions"]
        top = _post(client, texts=TEXTS, threshold=0.3, top_k=1).json()["predictions"]
    for row, a, b, c in zip(rows, own, low, top, strict=True):
        assert a["labels"] == [label for label in _sorted(row) if row[LABELS.index(label)] >= 0.7]
        assert b["labels"] == [label for label in _sorted(row) if row[LABELS.index(label)] >= 0.3]
        assert list(c["probabilities"]) == _sorted(row)[:1]
        assert c["labels"] == b["labels"][:1]  # the chosen labels among the top k
        assert [a["probabilities"][label] for label in LABELS] == pytest.approx(row, abs=1e-12)


def test_labels_health_and_openapi():
    with TestClient(create_app(FakePredictor(multi_label=True), title="topics")) as client:
        assert client.get("/labels").json() == {"labels": LABELS, "multi_label": True}
        _post(client, texts=TEXTS)
        health = client.get("/health").json()
        schema = client.get("/openapi.json").json()
        assert client.get("/docs").status_code == 200
    assert health["status"] == "ok" and health["texts"] == len(TEXTS) and health["batches"] == 1
    assert schema["info"]["title"] == "topics"
    request = schema["components"]["schemas"]["PredictRequest"]
    assert request["examples"] and request["properties"]["threshold"]["description"]
    assert {"400", "413", "422", "500"} <= set(schema["paths"]["/predict"]["post"]["responses"])


def test_limits_answer_413_with_a_detail():
    fake = FakePredictor()
    with TestClient(create_app(fake, max_texts=3, max_chars=10)) as client:
        assert _post(client, texts=["a", "b", "c"]).status_code == 200
        assert _post(client, texts=["x" * 10]).status_code == 200
        many = _post(client, texts=["a", "b", "c", "d"])
        long = _post(client, texts=["short", "x" * 11])
    assert many.status_code == 413 and "4 texts" in many.json()["detail"]
    assert long.status_code == 413 and "text 1 has 11 characters" in long.json()["detail"]
    assert len(fake.calls) == 2  # refused requests never reach the model


@pytest.mark.parametrize(
    "body",
    [
        {"texts": []},
        {"texts": ["a", 3]},
        {"texts": [None]},
        {"texts": "a single string"},
        {},
        {"texts": ["a"], "threshold": 1.5},
        {"texts": ["a"], "threshold": -0.1},
        {"texts": ["a"], "top_k": 0},
        {"texts": ["a"], "top_k": 1.5},
    ],
)
def test_schema_failures_answer_422(body):
    with TestClient(create_app(FakePredictor(multi_label=True))) as client:
        response = client.post("/predict", json=body)
    assert response.status_code == 422 and response.json()["detail"]


def test_values_this_model_cannot_honour_answer_400():
    fake = FakePredictor()
    with TestClient(create_app(fake)) as client:
        threshold = _post(client, texts=["a"], threshold=0.5)
        top_k = _post(client, texts=["a"], top_k=4)
        assert _post(client, texts=["a"], top_k=3).status_code == 200
    assert threshold.status_code == 400 and "multi-label" in threshold.json()["detail"]
    assert top_k.status_code == 400 and "3 labels" in top_k.json()["detail"]


def test_a_predictor_error_answers_500_and_the_server_keeps_serving():
    fake = FakePredictor(failures=1)
    with TestClient(create_app(fake)) as client:
        failed = _post(client, texts=TEXTS)
        served = _post(client, texts=TEXTS)
        health = client.get("/health").json()
    assert failed.status_code == 500
    assert failed.json()["detail"] == "prediction failed: RuntimeError: the model ran out of memory"
    assert served.status_code == 200 and len(served.json()["predictions"]) == len(TEXTS)
    assert health["status"] == "ok" and health["batches"] == 1


def test_a_wrong_shape_from_the_predictor_answers_500():
    fake = FakePredictor()
    fake.predict_proba = lambda texts: np.zeros((len(texts), 2))
    with TestClient(create_app(fake)) as client:
        response = _post(client, texts=TEXTS)
    assert response.status_code == 500 and "shape (4, 2)" in response.json()["detail"]


def test_without_its_lifespan_the_app_answers_503():
    client = TestClient(create_app(FakePredictor()))  # not entered: the worker never starts
    assert _post(client, texts=["a"]).status_code == 503
    assert client.get("/health").status_code == 503


async def _concurrently(app, bodies: list[dict]) -> list[httpx.Response]:
    """Post every body at once (one asyncio task each) while the app's lifespan runs."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
            return await asyncio.gather(*(client.post("/predict", json=body) for body in bodies))


def test_concurrent_requests_are_batched_and_each_gets_its_own_rows():
    fake = FakePredictor(delay=0.01)
    bodies = [{"texts": [f"request {i} text {j}" for j in range(1 + i % 3)]} for i in range(20)]
    app = create_app(fake, batch_size=8, max_batch_wait_ms=100)
    responses = asyncio.run(_concurrently(app, bodies))
    assert len(fake.calls) < len(bodies)
    assert all(len(call) <= 8 for call in fake.calls) and fake.most_active == 1  # one call at a time
    assert sorted(t for call in fake.calls for t in call) == sorted(t for b in bodies for t in b["texts"])
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200
        got = [[p["probabilities"][c] for c in LABELS] for p in response.json()["predictions"]]
        np.testing.assert_allclose(got, fake.proba(body["texts"]), atol=1e-12)


def test_a_request_larger_than_the_batch_is_predicted_whole_and_alone():
    fake = FakePredictor()
    big = {"texts": [f"long request text {j}" for j in range(20)]}
    small = [{"texts": [f"small {i}"]} for i in range(4)]
    app = create_app(fake, batch_size=4, max_batch_wait_ms=50)
    responses = asyncio.run(_concurrently(app, [small[0], big, *small[1:]]))
    assert big["texts"] in fake.calls
    assert all(len(call) <= 4 for call in fake.calls if call != big["texts"])
    assert [len(r.json()["predictions"]) for r in responses] == [1, 20, 1, 1, 1]


def test_a_failing_request_fails_alone_in_its_batch():
    fake = FakePredictor()
    bodies = [{"texts": [f"fine {i}"]} for i in range(5)]
    bodies.insert(2, {"texts": ["boom"]})
    app = create_app(fake, batch_size=16, max_batch_wait_ms=100)
    responses = asyncio.run(_concurrently(app, bodies))
    assert any("boom" in call and len(call) > 1 for call in fake.calls)  # it was batched with the others
    assert [r.status_code for r in responses] == [200, 200, 500, 200, 200, 200]
    assert responses[2].json()["detail"] == "prediction failed: ValueError: cannot read 'boom'"
    fine = responses[3].json()["predictions"][0]["probabilities"]
    assert [fine[c] for c in LABELS] == pytest.approx(fake.proba(["fine 2"])[0], abs=1e-12)


async def _stopped_mid_batch(fake: FakePredictor) -> httpx.Response:
    """Post one request, then end the app's lifespan while the model is still on it."""
    app = create_app(fake)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as client:
        async with app.router.lifespan_context(app):
            pending = asyncio.create_task(client.post("/predict", json={"texts": ["late"]}))
            for _ in range(1000):
                if fake.active:  # the model has the request
                    break
                await asyncio.sleep(0.005)
        return await asyncio.wait_for(pending, timeout=5)


def test_requests_in_flight_at_shutdown_answer_503():
    response = asyncio.run(_stopped_mid_batch(FakePredictor(delay=0.3)))
    assert response.status_code == 503 and response.json()["detail"] == "the server is shutting down."


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="batch_size must be a number >= 1"):
        create_app(FakePredictor(), batch_size=0)
    with pytest.raises(ValueError, match="max_batch_wait_ms"):
        create_app(FakePredictor(), max_batch_wait_ms=-1)
    with pytest.raises(TypeError, match="needs a fitted predictor; object has no classes_"):
        create_app(object())


@pytest.fixture(scope="module")
def tiny_checkpoint(reference_checkpoint):
    return str(reference_checkpoint())


def test_a_real_estimator_serves_its_own_probabilities(tiny_checkpoint):
    from skgliclass import GLiClassZeroShot

    clf = GLiClassZeroShot(model=tiny_checkpoint, labels=LABELS).fit()
    expected = clf.predict_proba(TEXTS)
    with TestClient(create_app(clf, batch_size=2)) as client:
        predictions = _post(client, texts=TEXTS).json()["predictions"]
    got = [[p["probabilities"][c] for c in LABELS] for p in predictions]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert [p["labels"] for p in predictions] == [[label] for label in clf.predict(TEXTS)]


def test_load_predictor_loads_as_the_cli_does(tiny_checkpoint):
    from skgliclass import GLiClassZeroShot
    from skgliclass.cli._common import UsageError

    clf = load_predictor(tiny_checkpoint, labels=LABELS, batch_size=2, device="cpu")
    assert isinstance(clf, GLiClassZeroShot) and clf.classes_.tolist() == LABELS and clf.batch_size == 2
    same = GLiClassZeroShot(model=tiny_checkpoint, labels=LABELS).fit()
    np.testing.assert_allclose(clf.predict_proba(TEXTS), same.predict_proba(TEXTS), atol=1e-6)
    with pytest.raises(UsageError, match="--labels is required"):
        load_predictor(tiny_checkpoint)
    with pytest.raises(ValueError, match="none holding a comma"):
        load_predictor(tiny_checkpoint, labels=["a,b", "c"])


def test_importing_the_server_loads_neither_torch_nor_the_onnx_runtime():
    code = "import sys, skgliclass.serve; print(sorted({'torch', 'skgliclass.onnx', 'onnxruntime'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_cli_serve_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    assert exit_.value.code == 0
    assert "--model" in capsys.readouterr().out


def test_cli_serve_runs_uvicorn_with_the_app_host_and_port(monkeypatch):
    import uvicorn

    import skgliclass.serve

    loaded, served = {}, {}
    fake = FakePredictor(multi_label=True)

    def load(folder, labels, batch_size, device):
        loaded.update(folder=folder, labels=labels, batch_size=batch_size, device=device)
        return fake

    monkeypatch.setattr(skgliclass.serve, "load_predictor", load)
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port: served.update(app=app, host=host, port=port))
    argv = ["serve", "--model", "my-model", "--labels", "sport, politics,tech", "--host", "0.0.0.0", "--port", "9001"]
    assert main([*argv, "--batch-size", "4", "--max-texts", "2"]) == 0
    assert loaded == {"folder": "my-model", "labels": LABELS, "batch_size": 4, "device": "auto"}
    assert served["host"] == "0.0.0.0" and served["port"] == 9001
    with TestClient(served["app"]) as client:
        assert client.get("/labels").json() == {"labels": LABELS, "multi_label": True}
        assert _post(client, texts=["a", "b", "c"]).status_code == 413  # --max-texts reached the app


@pytest.mark.parametrize("flag", [["--batch-size", "0"], ["--max-texts", "0"], ["--port", "70000"]])
def test_cli_serve_refuses_bad_flags_before_loading(flag, capsys):
    assert main(["serve", "--model", "no-such-folder", *flag]) == 2
    assert "skgliclass serve: error:" in capsys.readouterr().err


@pytest.mark.parametrize("obj", [create_app, load_predictor], ids=lambda o: o.__name__)
def test_docstring_examples(obj):
    tests = doctest.DocTestFinder().find(obj, obj.__name__, module=False, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0

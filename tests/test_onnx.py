"""ONNX export and the torch-free runtime: same probabilities on every architecture, fitted state carried,
long texts and label chunks, int8 and optimised graphs, errors, the CLI, and an import without torch."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from _tiny_texts import X, Y, tiny_classifier

from _reference import ARCHITECTURE_CASES
from skgliclass import GLiClassZeroShot
from skgliclass.exceptions import TruncationWarning

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from skgliclass.onnx import ONNXClassifier, export

LABELS = ["sport", "politics", "technology", "business"]
TEXTS = ["the team won the cup, again!", "prices rose in the third quarter says the central bank", "x", ""]


def _same(clf, runtime, texts, atol=1e-5) -> None:
    """The runtime predicts what the estimator predicts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        np.testing.assert_allclose(runtime.predict_proba(texts), clf.predict_proba(texts), atol=atol)
        np.testing.assert_allclose(runtime.decision_function(texts), clf.decision_function(texts), atol=atol * 10)
        np.testing.assert_array_equal(runtime.predict(texts), clf.predict(texts))
    np.testing.assert_array_equal(runtime.classes_, clf.classes_)
    assert runtime.multilabel_ == clf.multilabel_


@pytest.mark.parametrize("case", ARCHITECTURE_CASES, ids=lambda c: "-".join(map(str, c.values())))
def test_every_architecture_predicts_alike(case, reference_checkpoint, tmp_path):
    clf = GLiClassZeroShot(model=str(reference_checkpoint(**case)), labels=LABELS, max_length=64).fit()
    runtime = ONNXClassifier(export(clf, tmp_path / "m"))
    _same(clf, runtime, TEXTS)
    # Other batch sizes and lengths than the graph was traced with.
    many = [" ".join(["word"] * n) + f" {i}" for i, n in enumerate([1, 5, 30, 2, 17, 9, 3])]
    _same(clf, ONNXClassifier(tmp_path / "m", batch_size=3), many)


def test_long_texts_and_label_chunks(reference_checkpoint, tmp_path):
    folder = str(reference_checkpoint(architecture="uni-encoder"))
    labels = [f"label {i}" + " of many words" * (i % 4) for i in range(14)]  # too many for one pass of 48 tokens
    long = " ".join(["the market fell"] * 40)
    for long_text in ("truncate", "chunk"):
        clf = GLiClassZeroShot(model=folder, labels=labels, max_length=48, long_text=long_text).fit()
        chunks = clf._builder.build(["x"], labels).chunks
        assert len({c.stop - c.start for c in chunks}) > 1  # passes of several sizes: the label axis is dynamic
        runtime = ONNXClassifier(export(clf, tmp_path / long_text))
        _same(clf, runtime, [long, "short one"])
    with pytest.warns(TruncationWarning, match="1 of 2 texts"):
        ONNXClassifier(tmp_path / "truncate").predict_proba([long, "short one"])


@pytest.mark.parametrize("architecture", ["uni-encoder", "bi-encoder"])
def test_the_dynamo_exporter_too(architecture, reference_checkpoint, tmp_path):
    """The fallback exporter makes the same predictions (label passes of several sizes included)."""
    labels = [f"label {i}" + " of many words" * (i % 4) for i in range(14)]
    model = str(reference_checkpoint(architecture=architecture))
    clf = GLiClassZeroShot(model=model, labels=labels, max_length=48).fit()
    folder = export(clf, tmp_path / "m", exporter="dynamo")
    assert json.loads((folder / "skgliclass-onnx.json").read_text())["exporter"] == "dynamo"
    _same(clf, ONNXClassifier(folder), TEXTS)


def test_classifier_state_is_carried(tiny_encoder_dir, tmp_path):
    """Embedding head (its frozen encoder is a second graph), calibration map, fitted label vectors."""
    clf = tiny_classifier(str(tiny_encoder_dir()), embedding_head=0.5, calibration="temperature").fit(X, Y)
    assert clf.linear_head_ is not None and clf.calibration_ is not None
    folder = export(clf, tmp_path / "m")
    manifest = json.loads((folder / "skgliclass-onnx.json").read_text())
    assert manifest["embedding_head"]["weights"] == list(clf.head_weights_)
    assert (folder / "frozen.onnx").is_file() and (folder / "README.md").is_file()
    _same(clf, ONNXClassifier(folder), X + TEXTS)


def test_multi_label_thresholds_and_offsets(reference_checkpoint, tmp_path):
    folder = str(reference_checkpoint(architecture="bi-encoder"))
    clf = GLiClassZeroShot(model=folder, labels=LABELS, multi_label=True, threshold=[0.2, 0.5, 0.8, 0.5]).fit()
    clf.label_offsets_ = np.array([0.3, -0.2, 0.0, 1.0])  # as adapting leaves them
    runtime = ONNXClassifier(export(clf, tmp_path / "m"))
    _same(clf, runtime, TEXTS)
    assert runtime.predict(TEXTS).shape == (len(TEXTS), len(LABELS))


def test_int8_and_optimised_graphs_stay_close(reference_checkpoint, tmp_path):
    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="bi-encoder")), labels=LABELS).fit()
    plain = export(clf, tmp_path / "plain")
    small = export(clf, tmp_path / "small", optimize=True, quantize=True)
    assert (small / "model.onnx").stat().st_size < 0.6 * (plain / "model.onnx").stat().st_size
    assert json.loads((small / "skgliclass-onnx.json").read_text())["quantized"] is True
    np.testing.assert_allclose(ONNXClassifier(small).predict_proba(TEXTS), clf.predict_proba(TEXTS), atol=0.05)


def test_bad_use_fails_clearly(reference_checkpoint, tmp_path):
    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="bi-encoder")), labels=LABELS)
    with pytest.raises(Exception, match="not fitted"):
        export(clf, tmp_path / "m")
    folder = export(clf.fit(), tmp_path / "m")
    with pytest.raises(ValueError, match="exporter must be"):
        export(clf, tmp_path / "other", exporter="jit")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export(clf, folder)
    export(clf, folder, overwrite=True)
    with pytest.raises(FileNotFoundError, match="not an exported model"):
        ONNXClassifier(tmp_path)
    runtime = ONNXClassifier(folder)
    with pytest.raises(TypeError, match="not a single str"):
        runtime.predict("one text")
    with pytest.raises(TypeError, match=r"X\[1\] is int"):
        runtime.predict(["ok", 3])
    with pytest.raises(ValueError, match="empty"):
        runtime.predict([])
    assert [p.shape for p in runtime.predict_proba_iter(iter(TEXTS), chunk_size=3)] == [(3, 4), (1, 4)]


def test_cli_exports_a_fit_folder(tmp_path, reference_checkpoint):
    from skgliclass.cli import main

    out = tmp_path / "exported"
    model = str(reference_checkpoint(architecture="bi-encoder"))
    assert main(["export", "--onnx", model, str(out), "--labels", "sport,politics", "--quantize"]) == 0
    runtime = ONNXClassifier(out)
    assert runtime.classes_.tolist() == ["sport", "politics"] and runtime.manifest_["quantized"]
    assert main(["export", "--onnx", model, str(out), "--labels", "sport,politics"]) == 1  # not empty


def test_runtime_imports_without_torch(reference_checkpoint, tmp_path):
    """In a process where torch, transformers, scikit-learn and SciPy cannot be imported, the export still predicts
    (and the command line and the server load it)."""
    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="uni-encoder")), labels=LABELS).fit()
    folder = export(clf, tmp_path / "m")
    expected = clf.predict_proba(TEXTS)
    script = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "sklearn", "scipy"):
            raise ImportError(f"{{name}} is blocked here")
sys.meta_path.insert(0, Block())
import json
import skgliclass.cli  # the command line too: `skgliclass serve --model EXPORT` needs no torch
from skgliclass.onnx import ONNXClassifier
from skgliclass.serve import load_predictor
assert isinstance(load_predictor({str(folder)!r}), ONNXClassifier)
proba = ONNXClassifier({str(folder)!r}).predict_proba({TEXTS!r})
assert not any(m.split(".")[0] in ("torch", "transformers") for m in sys.modules)
print(json.dumps(proba.tolist()))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.array(json.loads(done.stdout)), expected, atol=1e-5)


def test_the_server_serves_an_export(reference_checkpoint, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from skgliclass.serve import create_app, load_predictor

    clf = GLiClassZeroShot(model=str(reference_checkpoint(architecture="bi-encoder")), labels=LABELS).fit()
    predictor = load_predictor(str(export(clf, tmp_path / "m")))
    assert isinstance(predictor, ONNXClassifier)
    with TestClient(create_app(predictor)) as client:
        answer = client.post("/predict", json={"texts": TEXTS[:2]}).json()["predictions"]
    proba = clf.predict_proba(TEXTS[:2])
    for row, expected in zip(answer, proba, strict=True):
        assert row["labels"] == [LABELS[int(expected.argmax())]]
        np.testing.assert_allclose([row["probabilities"][c] for c in LABELS], expected, atol=1e-5)

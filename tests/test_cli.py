"""The command line: demo, classify (jsonl/csv, files or stdin), fit then classify, exit codes."""

from __future__ import annotations

import csv
import io
import json
import sys

import numpy as np
import pytest

from skgliclass import GLiClassifier
from skgliclass.cli import main
from skgliclass.datasets import load_bbc_news

TRAIN = [
    ("the team won the cup", "sport"),
    ("a late goal in the match", "sport"),
    ("the senate passed the bill", "politics"),
    ("the minister resigned", "politics"),
    ("a new phone chip", "tech"),
    ("the app crashed again", "tech"),
]


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_demo_prints_a_table_and_accuracy(capsys):
    assert main(["demo", "--per-class", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.endswith(("  ", " x"))]
    assert len(rows) == 5
    accuracy = int(out.split("zero-shot accuracy on these 5 articles: ")[1].split("%")[0])
    assert 0 <= accuracy <= 100


@pytest.mark.slow
def test_classify_bbc_lines_with_the_embedded_default(tmp_path, capsys):
    texts, topics = load_bbc_news(n_per_class=20, random_state=1)
    path = tmp_path / "news.txt"
    path.write_text("\n".join(" ".join(t.split()) for t in texts) + "\n", encoding="utf-8")
    labels = "business,entertainment,politics,sport,tech"
    assert main(["classify", "--labels", labels, "--quiet", str(path)]) == 0
    rows = _jsonl(capsys.readouterr().out)
    assert len(rows) == 100 and set(rows[0]) == {"text", "labels", "scores"}
    right = sum(row["labels"] == [topic.replace("sports", "sport")] for row, topic in zip(rows, topics, strict=True))
    assert right >= 85  # zero-shot with bare topic names: 0.86-0.89 on BBC
    assert all(abs(sum(row["scores"].values()) - 1) < 1e-4 for row in rows)


def test_classify_streams_chunks_in_order_and_counts_cut_texts(tmp_path, capsys, monkeypatch):
    from skgliclass.cli import classify

    monkeypatch.setattr(classify, "CHUNK", 3)  # three chunks of input, the last one short
    long = " ".join(["the striker scored a late goal in the cup final"] * 8)
    texts = [f"{i}: {long if i % 2 else 'the senate passed the bill'}" for i in range(7)]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    assert main(["classify", "--labels", "sport,politics", "--max-length", "32", str(path)]) == 0
    captured = capsys.readouterr()
    assert [row["text"] for row in _jsonl(captured.out)] == texts
    assert "note: 3 texts were longer than 32 tokens and were cut." in captured.err


@pytest.mark.slow
def test_classify_twenty_lines_adapted_to_unlabeled_articles(tmp_path, capsys):
    texts, topics = load_bbc_news(random_state=2)
    lines, other = texts[:20], texts[20:420]  # 20 lines to classify; 400 other articles, unlabeled
    (tmp_path / "news.txt").write_text("\n".join(" ".join(t.split()) for t in lines) + "\n", encoding="utf-8")
    (tmp_path / "more.txt").write_text("\n".join(" ".join(t.split()) for t in other) + "\n", encoding="utf-8")
    labels = "business,entertainment,politics,sport,tech"
    adapt = ["--adapt-on", str(tmp_path / "more.txt")]
    assert main(["classify", "--labels", labels, "--quiet", *adapt, str(tmp_path / "news.txt")]) == 0
    rows = _jsonl(capsys.readouterr().out)
    truth = [topic.replace("sports", "sport") for topic in topics[:20]]
    right = sum(row["labels"] == [topic] for row, topic in zip(rows, truth, strict=True))
    assert len(rows) == 20 and right >= 18


def test_classify_adapt_on_needs_a_cosine_bi_encoder(tmp_path, reference_checkpoint, capsys):
    (tmp_path / "more.txt").write_text("a goal\nthe senate voted\n", encoding="utf-8")
    (tmp_path / "in.txt").write_text("a match\n", encoding="utf-8")
    model = str(reference_checkpoint())
    argv = ["classify", "--labels", "sport,politics", "--model", model, "--adapt-on", str(tmp_path / "more.txt")]
    assert main([*argv, "--quiet", str(tmp_path / "in.txt")]) == 1
    assert "adapt=True needs a bi-encoder" in capsys.readouterr().err


def _fit_argv(tmp_path, encoder):
    """`skgliclass fit` arguments for TRAIN (written as a CSV) on a tiny encoder, and the output folder."""
    train = tmp_path / "train.csv"
    with train.open("w", newline="") as stream:
        csv.writer(stream).writerows([("text", "label"), *TRAIN])
    out = tmp_path / "model"
    return ["fit", "--train", str(train), "--model", encoder, "--epochs", "2", "--out", str(out), "--quiet"], out


@pytest.fixture()
def fitted(tmp_path, tiny_encoder_dir, capsys):
    """A tiny model trained by `skgliclass fit`, and the same fit done in Python."""
    encoder = str(tiny_encoder_dir("bert"))
    argv, out = _fit_argv(tmp_path, encoder)
    assert main(argv) == 0
    assert "saved to" in capsys.readouterr().out
    same = GLiClassifier(model=encoder, epochs=2, multi_label=False, random_state=0)
    return out, same.fit([t for t, _ in TRAIN], [y for _, y in TRAIN])


def test_fit_then_classify_round_trips(fitted, tmp_path, capsys, monkeypatch):
    out, clf = fitted
    assert json.loads((out / "skgliclass.json").read_text())["method"] == clf.method_ == "focal+softmax"
    assert f"- training texts: {len(TRAIN)}" in (out / "README.md").read_text()  # the model card
    texts = ["a goal for the team", "the senate voted", "", "new chip software ☃"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(texts) + "\n"))
    assert main(["classify", "--model", str(out), "--quiet"]) == 0  # labels come from the fit folder
    rows = _jsonl(capsys.readouterr().out)
    assert [row["text"] for row in rows] == texts
    proba = np.array([[row["scores"][c] for c in clf.classes_] for row in rows])
    np.testing.assert_allclose(proba, clf.predict_proba(texts), atol=2e-6)
    assert [row["labels"] for row in rows] == [[c] for c in clf.predict(texts)]


def test_classify_csv_multi_label_with_threshold(fitted, tmp_path, capsys):
    out, _ = fitted
    path = tmp_path / "in.txt"
    path.write_text('the team won, "again"\nthe minister resigned\n', encoding="utf-8")
    argv = ["classify", "--model", str(out), "--multi-label", "--threshold", "0.3", "--format", "csv", str(path)]
    assert main([*argv, "--quiet"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["text", "labels", "politics", "sport", "tech"]
    assert rows[1][0] == 'the team won, "again"' and len(rows) == 3
    for row in rows[1:]:
        scores = np.array(row[2:], dtype=float)
        assert row[1].split("|") == [c for c, s in zip(rows[0][2:], scores, strict=True) if s >= 0.3] or (
            row[1] == "" and (scores < 0.3).all()
        )


def test_fit_multi_label_csv(tmp_path, tiny_encoder_dir, capsys):
    train = tmp_path / "multi.csv"
    rows = [("doc", "tags"), ("goal and vote", "sport|politics"), ("a chip", "tech"), ("nothing here", "")]
    with train.open("w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    out = tmp_path / "m"
    argv = ["fit", "--train", str(train), "--text-column", "doc", "--label-column", "tags", "--label-sep", "|"]
    assert main([*argv, "--model", str(tiny_encoder_dir("bert")), "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    meta = json.loads((out / "skgliclass.json").read_text())
    assert meta["labels"] == ["politics", "sport", "tech"] and meta["multi_label"] is True
    assert meta["method"] == "focal"  # "auto" resolved for multi-label targets


def test_fit_keeps_the_calibration_and_learnt_thresholds_for_classify(tmp_path, tiny_encoder_dir, capsys):
    train = tmp_path / "multi.csv"
    rows = [("text", "label"), *[(t, y + ("|tech" if i % 3 == 0 else "")) for i, (t, y) in enumerate(TRAIN)]]
    with train.open("w", newline="") as stream:
        csv.writer(stream).writerows(rows)
    out = tmp_path / "m"
    argv = ["fit", "--train", str(train), "--label-sep", "|", "--auto-threshold", "--epochs", "1", "--quiet"]
    assert main([*argv, "--model", str(tiny_encoder_dir("bert")), "--out", str(out)]) == 0
    assert json.loads((out / "skgliclass.json").read_text())["threshold"] == "auto"
    import skops.io as sio

    import skgliclass

    clf = sio.load(out / "estimator.skops", trusted=skgliclass.TRUSTED_TYPES)
    assert clf.calibration_ is not None and clf.thresholds_.shape == (len(clf.classes_),)
    texts = ["a goal for the team", "the senate voted", "new chip software"]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["classify", "--model", str(out), "--quiet", str(tmp_path / "in.txt")]) == 0
    chosen = [row["labels"] for row in _jsonl(capsys.readouterr().out)]
    decided = clf.predict(texts)
    assert chosen == [[c for c, d in zip(clf.classes_, row, strict=True) if d] for row in decided]


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["classify", "--labels", "a,b", "missing.txt"], 2, "no such file: missing.txt"),
        (["classify", "in.txt"], 2, "--labels is required"),
        (["classify", "--labels", "a,,b", "in.txt"], 2, "--labels must name labels"),
        (["classify", "--labels", "a,b", "--threshold", "2", "in.txt"], 2, "--threshold must be between"),
        (["classify", "--labels", "a,b", "--model", "no/such/model", "in.txt"], 1, "failed"),
        (["fit", "--train", "missing.csv", "--out", "o"], 2, "no such file"),
        (
            ["fit", "--train", "bad.csv", "--out", "o"],
            2,
            "no column 'label' \\(columns: text, topic\\).*--label-column",
        ),
        (["fit", "--train", "empty.csv", "--out", "o", "--label-column", "topic"], 2, "line 3: the label is empty"),
        (["fit", "--train", "bad.csv", "--out", "o", "--epochs", "0"], 2, "--epochs must be a positive int"),
    ],
)
def test_errors_and_exit_codes(tmp_path, monkeypatch, capsys, argv, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("some text\n")
    (tmp_path / "bad.csv").write_text("text,topic\nhello,sport\n")
    (tmp_path / "empty.csv").write_text("text,topic\nhello,sport\nbye,\n")
    assert main([*argv, "--quiet"]) == code
    assert __import__("re").search(message, capsys.readouterr().err)


def test_help_needs_no_torch():
    import subprocess

    # sys.modules[name] = None makes `import name` fail: --help must not need these.
    code = (
        "import sys\n"
        "for name in ('torch', 'transformers', 'sklearn'):\n"
        "    sys.modules[name] = None\n"
        "from skgliclass.cli import main\n"
        "for command in ('fit', 'classify', 'demo'):\n"
        "    try:\n"
        "        main([command, '--help'])\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, command\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--embedding-head" in result.stdout and "--labels" in result.stdout


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as error:
        main(["nope"])
    assert error.value.code == 2


def test_fit_with_an_embedding_head_keeps_it_for_classify(tmp_path, tiny_encoder_dir, capsys):
    encoder = str(tiny_encoder_dir("bert"))
    argv, out = _fit_argv(tmp_path, encoder)
    assert main([*argv, "--embedding-head", "0.5"]) == 0
    capsys.readouterr()
    assert (out / "estimator.skops").is_file()
    assert json.loads((out / "skgliclass.json").read_text())["head_weights"] == [0.5, 0.5]
    same = GLiClassifier(model=encoder, epochs=2, multi_label=False, random_state=0, embedding_head=0.5)
    same.fit([t for t, _ in TRAIN], [y for _, y in TRAIN])
    texts = ["a goal for the team", "the senate voted"]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    assert main(["classify", "--model", str(out), "--quiet", str(tmp_path / "in.txt")]) == 0
    rows = _jsonl(capsys.readouterr().out)
    proba = np.array([[row["scores"][c] for c in same.classes_] for row in rows])
    np.testing.assert_allclose(proba, same.predict_proba(texts), atol=2e-6)
    with pytest.raises(SystemExit):
        main([*argv, "--embedding-head", "2"])
    assert "expected a number in [0, 1] or auto" in capsys.readouterr().err

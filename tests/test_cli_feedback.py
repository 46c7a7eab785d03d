"""The command line's feedback loop: `review` (keys, undo, resumable log) and `fit --feedback`, then classify."""

from __future__ import annotations

import csv
import io
import json
import sys

import numpy as np
import pytest

from skgliclass import GLiClassifier, GLiClassZeroShot
from skgliclass.cli import main
from skgliclass.cli._log import append_verdict, read_log

TEXTS = [
    "the team won the cup",
    "a late goal in the match",
    "the senate passed the bill",
    "the minister resigned",
    "a new phone chip",
    "the app crashed again",
]
LABELS = "sport,politics,tech"


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture()
def texts_file(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join([*TEXTS, "", TEXTS[0]]) + "\n", encoding="utf-8")  # a blank line and a repeat
    return path


def _review(encoder, texts_file, log, keys, monkeypatch, *extra):
    monkeypatch.setattr(sys, "stdin", io.StringIO(keys))
    argv = ["review", str(texts_file), "--log", str(log), "--model", encoder, "--labels", LABELS, *extra]
    return main(argv)


def test_review_logs_verdicts_with_undo_and_resumes(tmp_path, tiny_encoder_dir, texts_file, monkeypatch, capsys):
    encoder, log = str(tiny_encoder_dir("bert")), tmp_path / "feedback.csv"
    # right, wrong, undo (back to the second), wrong again, skip the third, an unknown key, quit
    assert _review(encoder, texts_file, log, "y\nn\nu\nn\ns\nx\nq\n", monkeypatch) == 0
    out = capsys.readouterr().out
    assert "[1/6]" in out and "unknown key 'x'" in out and "2 verdicts logged" in out and "(1 right, 1 wrong)" in out
    rows = _rows(log)
    proposals = GLiClassZeroShot(model=encoder, labels=LABELS.split(",")).fit().propose(TEXTS, random_state=0)
    assert [(r["text"], r["label"], r["verdict"]) for r in rows] == [
        (proposals["text"][0], proposals["label"][0], "1"),
        (proposals["text"][1], proposals["label"][1], "0"),
    ]
    assert float(rows[0]["score"]) == pytest.approx(proposals["score"][0], abs=1e-6)
    assert [r["pick"] for r in rows] == ["random", "random"]  # what fit needs to hold out drawn texts only
    # A second sitting skips the judged texts (the skipped one comes back); the input ends after one verdict.
    assert _review(encoder, texts_file, log, "y\n", monkeypatch) == 0
    assert "[1/4]" in capsys.readouterr().out
    rows = _rows(log)
    assert len(rows) == 3 and rows[2]["text"] not in {rows[0]["text"], rows[1]["text"]}
    # Undo with nothing to undo, then judge everything left: nothing remains for a third sitting.
    assert _review(encoder, texts_file, log, "u\ny\nn\ny\n", monkeypatch) == 0
    assert "nothing to undo" in capsys.readouterr().out
    assert {r["text"] for r in _rows(log)} == set(TEXTS)
    assert _review(encoder, texts_file, log, "", monkeypatch) == 0
    assert "nothing to review" in capsys.readouterr().out


def test_fit_feedback_learns_the_log_like_python_and_classify_reads_it(tmp_path, tiny_encoder_dir, capsys, monkeypatch):
    encoder = str(tiny_encoder_dir("bert"))
    log = tmp_path / "feedback.csv"
    rows = [
        ("text", "label", "verdict"),
        (TEXTS[0], "sport", "1"),
        (TEXTS[2], "sport", "0"),
        (TEXTS[2], "politics", "yes"),
        (TEXTS[4], "tech", "1"),
        (TEXTS[5], "politics", ""),  # proposed, not reviewed yet: left out
        (TEXTS[1], "sport", "true"),
        (TEXTS[3], "tech", "wrong"),
    ]
    with log.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    out = tmp_path / "model"
    argv = ["fit", "--feedback", str(log), "--labels", LABELS, "--model", encoder, "--epochs", "2", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    assert "saved to" in capsys.readouterr().out
    meta = json.loads((out / "skgliclass.json").read_text())
    assert meta["labels"] == LABELS.split(",") and meta["feedback_verdicts"] == 6 and meta["train_texts"] == 5

    judged = [r for r in rows[1:] if r[2]]
    verdicts = {"1": 1, "yes": 1, "true": 1, "0": 0, "wrong": 0}
    same = GLiClassifier(model=encoder, labels=LABELS.split(","), epochs=2, random_state=0).fit(
        [r[0] for r in judged], feedback={"label": [r[1] for r in judged], "verdict": [verdicts[r[2]] for r in judged]}
    )
    assert "best_epoch" in same.history_  # the held-out guard is on for feedback, in Python as in the CLI
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(TEXTS) + "\n"))
    assert main(["classify", "--model", str(out), "--quiet"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    proba = np.array([[line["scores"][c] for c in same.classes_] for line in lines])
    np.testing.assert_allclose(proba, same.predict_proba(TEXTS), atol=2e-6)

    # Continuing from the folder: its classes are the default, and the log's texts start from its predictions.
    again = tmp_path / "again"
    argv = ["fit", "--feedback", str(log), "--model", str(out), "--epochs", "1", "--out", str(again), "--quiet"]
    assert main(argv) == 0
    assert json.loads((again / "skgliclass.json").read_text())["labels"] == LABELS.split(",")


def test_a_log_begun_without_picks_keeps_its_columns(tmp_path):
    log = tmp_path / "old.csv"
    log.write_text("text,label,verdict\na,sport,1\n", encoding="utf-8")
    row = {"text": "b", "label": "tech", "score": 0.4, "propensity": 1.0, "pick": "closest", "verdict": 0}
    append_verdict(log, row)
    old = [{"text": "a", "label": "sport", "verdict": "1"}, {"text": "b", "label": "tech", "verdict": "0"}]
    assert _rows(log) == old
    assert read_log(log) == {"text": ["a", "b"], "label": ["sport", "tech"], "verdict": [1, 0]}
    new = tmp_path / "new.csv"
    append_verdict(new, row)
    assert read_log(new)["pick"] == ["closest"]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("text,label\na,sport\n", [], "no column 'verdict'"),
        ("text,label,verdict\na,sport,maybe\n", [], "line 2: a verdict is 1 (right) or 0 (wrong)"),
        ("text,label,verdict\na,sport,\n", [], "holds no verdicts yet"),
        ("text,label,verdict\na,,1\n", [], "line 2: the label is empty"),
        ("text,label,verdict\na,sport,1\n", ["--label-sep", "|"], "--label-sep reads a labelled CSV"),
    ],
)
def test_fit_feedback_usage_errors(tmp_path, capsys, content, extra, message):
    log = tmp_path / "log.csv"
    log.write_text(content, encoding="utf-8")
    assert main(["fit", "--feedback", str(log), "--out", str(tmp_path / "o"), "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err


def test_review_usage_errors(tmp_path, texts_file, capsys):
    bad_log = tmp_path / "bad.csv"
    bad_log.write_text("text,label\na,sport\n", encoding="utf-8")
    assert main(["review", str(texts_file), "--log", str(bad_log), "--labels", LABELS]) == 2
    assert "no column 'verdict'" in capsys.readouterr().err
    assert main(["review", str(texts_file), "--log", str(tmp_path / "l.csv"), "--limit", "0"]) == 2
    assert "--limit must be a positive int" in capsys.readouterr().err
    assert main(["review", str(tmp_path / "missing.txt"), "--log", str(tmp_path / "l.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["fit", "--feedback", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err

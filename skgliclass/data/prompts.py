"""Input building: token ids of the label prompt built once per call and spliced around each text.

A reference input is one string (``text + "<<LABEL>>l1<<LABEL>>l2<<SEP>>" + prompt + examples`` or
labels first). Fast tokenizers split strings at added tokens and tokenise each piece on its own, so
the ids of the shared parts are computed once per call and only the text piece is tokenised per row:
the spliced ids equal the ids of the whole string. The one context that matters is whether a piece
opens the string (SentencePiece adds its word-start mark there), which :func:`_piece_ids` reproduces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from skgliclass._logging import quiet_transformers
from skgliclass.choices import EXAMPLE, LABEL, SEP
from skgliclass.config import GLiClassConfig

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["Chunk", "EncodedInputs", "InputBuilder", "format_examples"]


def format_examples(examples: Sequence[dict] | None) -> str:
    """In-context examples as the reference writes them: ``<<EXAMPLE>>text \\nLabels:\\n a, b`` ... ``<<SEP>>``."""
    if not examples:
        return ""
    parts = []
    for example in examples:
        labels = example.get("labels", example.get("true_labels", []))
        labels = ", ".join(labels) if isinstance(labels, (list, tuple)) else str(labels)
        parts.append(f"{EXAMPLE}{example.get('text', '')} \nLabels:\n {labels}")
    return "".join(parts) + SEP


@dataclass
class Chunk:
    """The inputs of one pass over a slice of the labels.

    Attributes
    ----------
    start, stop : int
        The labels scored in this pass: ``labels[start:stop]``.
    rows : list of list of int
        One full id sequence per text (special tokens included), or per window of a text.
    decoder_ids : list of int or None
        The label prompt for the decoder (encoder-decoder only).
    owners : list of int or None
        The text each row belongs to; None means row ``i`` is text ``i``.
    spans : list of tuple of int or None
        Per row, where its text piece sits: ``(first position in the row, first id of the piece, ids)``.
    """

    start: int
    stop: int
    rows: list[list[int]]
    decoder_ids: list[int] | None = None
    owners: list[int] | None = None  # the text of each row when long texts are read in windows
    spans: list[tuple[int, int, int]] | None = None


@dataclass
class EncodedInputs:
    """Everything a call needs: the chunks, the tokenised labels (bi-encoders) and truncation counts."""

    chunks: list[Chunk]
    label_ids: list[list[int]] | None = None
    truncated: int = 0


class InputBuilder:
    """Builds model inputs for one tokenizer and config.

    Parameters
    ----------
    tokenizer : PreTrainedTokenizerBase
        The checkpoint's tokenizer (with the added marker tokens where the variant needs them).
    config : GLiClassConfig
    max_length : int
        Longest sequence fed to the encoder, special tokens included.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, config: GLiClassConfig, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.config = config
        self.max_length = int(max_length)
        with_special = tokenizer("a")["input_ids"]
        plain = tokenizer("a", add_special_tokens=False)["input_ids"]
        start = _find(with_special, plain)
        self.prefix, self.suffix = with_special[:start], with_special[start + len(plain) :]
        if self.max_length < len(self.prefix) + len(self.suffix) + 8:
            raise ValueError(f"max_length={max_length} is too small to hold any text.")
        added = getattr(tokenizer, "added_tokens_decoder", {}).values()
        specials = set(tokenizer.all_special_tokens) | {t.content for t in added if t.special} | {LABEL, SEP, EXAMPLE}
        self._specials = tuple(sorted(s for s in specials if s))

    @property
    def pad_id(self) -> int:
        """The id that pads rows (0 when the tokenizer has no pad token)."""
        pad = self.tokenizer.pad_token_id
        return 0 if pad is None else int(pad)

    # --------------------------------------------------------------- tokenising
    def _ids(self, strings: list[str]) -> list[list[int]]:
        if not strings:
            return []
        with quiet_transformers():  # its "longer than the maximum" notice: we cut texts ourselves
            return self.tokenizer(strings, add_special_tokens=False)["input_ids"]

    def _text_ids(self, strings: list[str], opens: bool = True) -> list[list[int]]:
        """Ids of texts; a special token's string inside a text (``[SEP]``, ``<<LABEL>>``) stays plain text.

        Only such texts take the split path, so every other text keeps the reference's ids.
        """
        ids = self._piece_ids(strings, opens)
        odd = [i for i, text in enumerate(strings) if any(special in text for special in self._specials)]
        if odd:
            with quiet_transformers():
                plain = self.tokenizer([strings[i] for i in odd], add_special_tokens=False, split_special_tokens=True)[
                    "input_ids"
                ]
            for i, row in zip(odd, plain, strict=True):
                ids[i] = row
        return ids

    def _piece_ids(self, strings: list[str], opens: bool) -> list[list[int]]:
        """Ids of pieces as they tokenise inside a longer string: at its start, or right after a marker."""
        if opens:
            return self._ids(strings)
        return [ids[1:] for ids in self._ids([SEP + s for s in strings])]

    def _pieces(self, texts: Sequence[str], prompt: str | None) -> tuple[list[str], int, bool]:
        """The strings tokenised per text (a text with the prompt or its lead glued on, where the layout puts
        them in the text's piece), where the text starts in each, and whether the piece opens the input (else
        it follows a marker)."""
        arch, first = self.config.architecture, self.config.prompt_first
        opens = arch in ("bi-encoder", "encoder-decoder") or not first
        if arch == "bi-encoder" and prompt:
            return [f"{prompt} {t}" for t in texts], len(prompt) + 1, opens
        if arch == "uni-encoder" and first and prompt:
            return [prompt + t for t in texts], len(prompt), opens
        if arch == "bi-encoder-fused" and not first and prompt:
            return [f"{t}{prompt} " for t in texts], 0, opens
        return list(texts), 0, opens

    def text_offsets(self, texts: Sequence[str], prompt: str | None = None) -> list[list[tuple[int, int] | None]]:
        """Per text, the characters of the text each id of its piece covers (None: an id of the prompt).

        The ids are those :meth:`build` reads for the text (before any cut), so ``Chunk.spans`` index them.
        """
        pieces, shift, opens = self._pieces(texts, prompt)
        out = []
        for text, piece in zip(texts, pieces, strict=True):
            odd = any(special in piece for special in self._specials)
            cut = 0 if (opens or odd) else len(SEP)
            with quiet_transformers():
                found = self.tokenizer(
                    piece if cut == 0 else SEP + piece,
                    add_special_tokens=False,
                    return_offsets_mapping=True,
                    split_special_tokens=odd,
                )["offset_mapping"]
            found = found[1:] if cut else found
            spans = []
            for a, b in found:
                a, b = a - cut - shift, b - cut - shift
                spans.append((a, min(b, len(text))) if 0 <= a < len(text) else None)
            out.append(spans)
        return out

    # ----------------------------------------------------------------- building
    def build(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        prompt: str | None = None,
        examples: Sequence[dict] | None = None,
        windows: bool = False,
    ) -> EncodedInputs:
        """Token ids for scoring every text against every label (see the module doc for the layout).

        A text longer than its room is cut at the end, or with ``windows`` split into consecutive
        windows, one row each (``Chunk.owners`` maps rows to texts).
        """
        if not labels:
            raise ValueError("labels must not be empty.")
        arch = self.config.architecture
        if arch == "bi-encoder":
            return self._build_bi_encoder(texts, labels, prompt, windows)
        examples_text = format_examples(examples)
        if arch == "encoder-decoder":
            return self._build_encoder_decoder(texts, labels, prompt, examples_text, windows)
        if arch == "bi-encoder-fused":
            encoded = self._build_joint(texts, labels, prompt or "", examples_text, True, windows)
            encoded.label_ids = self._label_ids(labels)
            return encoded
        return self._build_joint(texts, labels, prompt or "", examples_text, False, windows)

    def _fit_rows(
        self, text_ids: list[list[int]], room: int, before: list[int], after: list[int], windows: bool
    ) -> tuple[Chunk, list[int]]:
        """Rows ``before + piece + after`` for texts with ``room`` ids each: cut, or split into windows (labels
        and decoder ids left for the caller to set); and the long texts' indices."""
        rows, owners, spans, long = [], [], [], []
        room = max(room, 1)
        for i, ids in enumerate(text_ids):
            if len(ids) > room:
                long.append(i)
            starts = range(0, len(ids), room) if windows and len(ids) > room else [0]
            for s in starts:
                piece = ids[s : s + room]
                rows.append(before + piece + after)
                spans.append((len(before), s, len(piece)))
            owners.extend([i] * len(starts))
        return Chunk(0, 0, rows, owners=owners if len(rows) != len(text_ids) else None, spans=spans), long

    def _label_ids(self, labels: Sequence[str]) -> list[list[int]]:
        """Each label alone, with special tokens, for a label encoder."""
        room = self.max_length - len(self.prefix) - len(self.suffix)
        return [self.prefix + ids[:room] + self.suffix for ids in self._ids(list(labels))]

    def _label_prompt(self, labels: Sequence[str], fused: bool) -> str:
        if fused:
            return LABEL * len(labels) + SEP
        return "".join(LABEL + label for label in labels) + SEP

    def _build_joint(
        self, texts: Sequence[str], labels: Sequence[str], prompt: str, examples: str, fused: bool, windows: bool
    ) -> EncodedInputs:
        """Uni-encoder and fused bi-encoder: labels and text in one sequence.

        uni, text first:    text | P prompt EX          uni, labels first:    P | prompt+text | EX
        fused, text first:  text+lead | M EX            fused, labels first:  lead M | text | EX
        (P: ``<<LABEL>>l1...<<SEP>>``; M: one ``<<LABEL>>`` per label + ``<<SEP>>``; lead: ``prompt + " "``.)
        """
        first = self.config.prompt_first
        lead = f"{prompt} " if (fused and prompt) else ""
        pieces, _, opens = self._pieces(texts, prompt)
        if fused:
            cost = [1] * len(labels)
        else:
            cost = [len(ids) for ids in self._piece_ids([LABEL + lab for lab in labels], opens=False)]
        text_ids = self._text_ids(pieces, opens=opens)
        example_ids = self._ids([examples])[0] if examples else []
        around = (lead if fused else prompt) if prompt else ""
        around_ids = self._ids([around])[0] if around else []
        fixed = len(self.prefix) + len(self.suffix) + len(example_ids) + 1 + len(around_ids)
        chunks, truncated = [], set()
        for start, stop in self._label_chunks(cost, fixed):
            label_prompt = self._label_prompt(labels[start:stop], fused)
            if first:
                head, tail = self._ids([lead + label_prompt])[0], example_ids
            else:
                head, tail = [], self._ids([label_prompt + ("" if fused else prompt) + examples])[0]
            budget = self.max_length - len(self.prefix) - len(self.suffix) - len(head) - len(tail)
            chunk, long = self._fit_rows(text_ids, budget, self.prefix + head, tail + self.suffix, windows)
            truncated.update(long)
            chunks.append(replace(chunk, start=start, stop=stop))
        return EncodedInputs(chunks, truncated=len(truncated))

    def _build_bi_encoder(
        self, texts: Sequence[str], labels: Sequence[str], prompt: str | None, windows: bool
    ) -> EncodedInputs:
        """Bi-encoder: each text alone (``prompt + " " + text``); labels tokenised separately."""
        pieces, _, _ = self._pieces(texts, prompt)
        room = self.max_length - len(self.prefix) - len(self.suffix)
        chunk, truncated = self._fit_rows(self._text_ids(pieces), room, self.prefix, self.suffix, windows)
        return EncodedInputs([replace(chunk, stop=len(labels))], self._label_ids(labels), len(truncated))

    def _build_encoder_decoder(
        self, texts: Sequence[str], labels: Sequence[str], prompt: str | None, examples: str, windows: bool
    ) -> EncodedInputs:
        """Encoder-decoder: ``text + examples`` to the encoder, the label prompt to the decoder."""
        example_ids = self._ids([examples])[0] if examples else []
        room = self.max_length - len(self.prefix) - len(self.suffix) - len(example_ids)
        text_chunk, truncated = self._fit_rows(
            self._text_ids(list(texts)), room, self.prefix, example_ids + self.suffix, windows
        )
        cost = [len(ids) for ids in self._piece_ids([LABEL + lab for lab in labels], opens=False)]
        prompt_cost = len(self.prefix) + len(self.suffix) + 1 + (len(self._ids([prompt])[0]) if prompt else 0)
        chunks = []
        for start, stop in self._label_chunks(cost, prompt_cost, beside_text=False):
            decoder = self.tokenizer(self._label_prompt(labels[start:stop], False) + (prompt or ""))["input_ids"]
            chunks.append(replace(text_chunk, start=start, stop=stop, decoder_ids=decoder))
        return EncodedInputs(chunks, truncated=len(truncated))

    # ----------------------------------------------------------------- chunking
    def _label_chunks(self, cost: list[int], fixed: int, beside_text: bool = True) -> list[tuple[int, int]]:
        """Split labels (token ``cost`` each) into contiguous chunks that fit, scored in separate passes.

        Beside a text, all labels go in one pass when their prompt leaves a quarter of ``max_length``
        for the text; otherwise chunks of balanced cost take at most half of ``max_length`` each.
        Alone (a decoder prompt), a chunk may fill ``max_length``. No label is ever dropped.
        """
        one_pass = self.max_length - self.max_length // 4 if beside_text else self.max_length
        total = sum(cost)
        if fixed + total <= one_pass:
            return [(0, len(cost))]
        limit = max((self.max_length // 2 if beside_text else self.max_length) - fixed, 1)
        target = -(-total // -(-total // limit))  # balanced: total split into the fewest chunks
        chunks, start, used = [], 0, 0
        for i, c in enumerate(cost):
            if i > start and (used + c > limit or used >= target):
                chunks.append((start, i))
                start, used = i, 0
            used += c
        chunks.append((start, len(cost)))
        return chunks


def _find(haystack: list[int], needle: list[int]) -> int:
    for i in range(len(haystack) - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i
    raise ValueError("could not locate the text between the tokenizer's special tokens.")

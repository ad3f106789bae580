"""Entity F1 and token accuracy of tag sequences (NER in IOB2, UPOS), one list of tags per sentence."""

from __future__ import annotations

from collections.abc import Sequence


def _paired_sentences(
    pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]
) -> list[tuple[Sequence[str], Sequence[str]]]:
    if len(pred_tags) != len(gold_tags):
        raise ValueError(f"{len(pred_tags)} predicted sentences but {len(gold_tags)} gold sentences")
    if not gold_tags:
        raise ValueError("cannot score empty input")
    pairs = list(zip(pred_tags, gold_tags, strict=True))
    for i, (pred, gold) in enumerate(pairs):
        if isinstance(pred, str) or isinstance(gold, str):
            raise ValueError("tags must be given as one list of tags per sentence, not as strings")
        if len(pred) != len(gold):
            raise ValueError(f"sentence {i}: {len(pred)} predicted tags but {len(gold)} gold tags")
    return pairs


def iob2_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Entity spans (type, start, end exclusive) of one IOB2 tag sequence, with conlleval semantics.

    As conlleval and seqeval's default mode do, an I- tag that does not continue an entity of its own type
    (after O, or after a different type) starts a new entity instead of being dropped. Tags other than
    "O", "B-<type>" and "I-<type>" raise ValueError.
    """
    spans: set[tuple[str, int, int]] = set()
    open_type: str | None = None
    open_start = 0
    for i, tag in enumerate(tags):
        if tag == "O":
            prefix, entity_type = "O", None
        elif tag[:2] in ("B-", "I-") and len(tag) > 2:
            prefix, entity_type = tag[0], tag[2:]
        else:
            raise ValueError(f"not an IOB2 tag: {tag!r}")
        if prefix == "I" and entity_type == open_type:
            continue  # the open entity goes on
        if open_type is not None:
            spans.add((open_type, open_start, i))
        open_type, open_start = entity_type, i
    if open_type is not None:
        spans.add((open_type, open_start, len(tags)))
    return spans


def entity_f1(pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro precision / recall / F1 over entity spans of IOB2-tagged sentences (MasakhaNER, CoNLL).

    Same numbers as seqeval's default (conlleval) mode: spans come from `iob2_spans`, and a predicted span
    is correct only if start, end and type all match a gold span of the same sentence. As in seqeval, a
    ratio with a zero denominator (no predicted / no gold entities) is 0. Sentences must pair up with
    equal lengths; no sentences at all raises ValueError.
    """
    n_pred = n_gold = n_correct = 0
    for pred, gold in _paired_sentences(pred_tags, gold_tags):
        pred_spans, gold_spans = iob2_spans(pred), iob2_spans(gold)
        n_pred += len(pred_spans)
        n_gold += len(gold_spans)
        n_correct += len(pred_spans & gold_spans)
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def token_accuracy(pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]) -> float:
    """Fraction of correct tags over all tokens of all sentences pooled (UPOS), not a mean per sentence.

    Each predicted sentence must have as many tags as its gold sentence (else ValueError), since a length
    mismatch means the tokenisation was not preserved; no tokens at all raises ValueError.
    """
    correct = total = 0
    for pred, gold in _paired_sentences(pred_tags, gold_tags):
        correct += sum(p == g for p, g in zip(pred, gold, strict=True))
        total += len(gold)
    if total == 0:
        raise ValueError("cannot score empty input: no tokens")
    return correct / total

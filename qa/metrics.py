"""Answer matching as SQuAD scores it: normalised text and token F1.

The reader's training labels sentences with it (`python -m qa.training.train_reader`) and the
measuring tools score answers with it (`qa.measuring.metrics`), so it belongs to the answering
core.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """SQuAD's answer normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation) | {"“", "”", "’"})
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    pred, true = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(pred) & Counter(true)).values())
    if not pred or not true or not common:
        return float(pred == true)
    precision, recall = common / len(pred), common / len(true)
    return 2 * precision * recall / (precision + recall)

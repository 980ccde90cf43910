"""The reference test, worked by hand: three toy articles, one question, one cited passage.

The question asks when the Portland Head Light was first lit. Only the lighthouse article says so,
in its second sentence. The article text stored is the file's text ("# Lighthouses of Maine",
a blank line, then the body), so that sentence starts after 22 + 2 = 24 characters and is
58 characters long: it must come back as citation [1] with start 24 and end 82.
"""

from __future__ import annotations

from pathlib import Path

from index.add import add_paths
from index.embed import MODEL_NAME
from index.store import open_store
from qa.service import Service
from tests.conftest import write

LIGHTHOUSE = ("# Lighthouses of Maine\n\n"
              "The Portland Head Light was first lit on January 10, 1791. "
              "It stands on a headland in Cape Elizabeth. "
              "Its keepers lived in a house beside the tower until the light was automated in 1989.")
BEES = ("# Honeybees\n\n"
        "A honeybee colony has a single queen. Worker bees live about six weeks in summer. "
        "Drones do not sting.")
ETNA = ("# Mount Etna\n\n"
        "Mount Etna stands on the east coast of Sicily. It is one of the most active volcanoes in "
        "the world. Its eruptions have been recorded since 1500 BC.")
QUOTE = "The Portland Head Light was first lit on January 10, 1791."


def test_reference_question_cites_the_lighthouse_sentence(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    for name, text in {"lighthouse": LIGHTHOUSE, "bees": BEES, "etna": ETNA}.items():
        write(tmp_path / "articles" / f"{name}.md", text)
    store = open_store(str(tmp_path / "store"), None, MODEL_NAME)
    assert add_paths([str(tmp_path / "articles")], store, embedder).new == 3

    result = Service(store, embedder, k=3).ask("When was the Portland Head Light first lit?")

    assert result.answerable
    assert len(QUOTE) == 58 and LIGHTHOUSE[24:82] == QUOTE
    first = result.citations[0]
    assert (first.n, first.quote, first.start, first.end) == (1, QUOTE, 24, 82)
    assert first.title == "Lighthouses of Maine"
    assert result.answer.startswith(QUOTE + " [1]")
    assert all(c.doc_id == first.doc_id for c in result.citations)

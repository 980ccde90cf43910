"""Hybrid retrieval: score fusion, BM25, filters, through a real Chroma store."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.documents import Document

from index.add import add_paths
from index.store import open_store
from qa.lexical import BM25, analyze
from qa.measuring.article_bm25 import article_search
from qa.retrieve import (
    Articles,
    Corpus,
    FilterError,
    Filters,
    by_article,
    fuse,
    hybrid_retriever,
    load_corpus,
    to_passage,
)
from tests.conftest import write


def doc(chunk_id: str, score: float = 0.0) -> Document:
    meta = {"doc_id": chunk_id[0], "start": 0, "end": 1, "title": "", "source": "", "date": "",
            "score": score}
    return Document(page_content=chunk_id, metadata=meta, id=chunk_id)


def test_fusion_weighs_scores_divided_by_each_lists_best() -> None:
    # worked by hand, weights 0.25 dense / 0.75 lexical:
    #   dense  a1 .8/.8=1  b1 .6/.8=.75  c1 .4/.8=.5      lexical  b1 10/10=1  d1 .5  a1 .2
    #   a1 = .25*1   + .75*.2 = .40      b1 = .25*.75 + .75*1 = .9375
    #   c1 = .25*.5  + .75*.2 = .275     d1 = .25*.5  + .75*.5 = .50   (floors: .5 dense, .2 lexical)
    fused = fuse({"dense": [doc("a1", .8), doc("b1", .6), doc("c1", .4)],
                  "lexical": [doc("b1", 10.0), doc("d1", 5.0), doc("a1", 2.0)]}, k=3)
    assert [p.chunk_id for p in fused] == ["b1", "d1", "a1"]
    assert [p.score for p in fused] == pytest.approx([.9375, .5, .4])


def test_fusion_ignores_a_list_with_nothing_above_zero() -> None:
    fused = fuse({"dense": [doc("a1", .5), doc("b1", .7)], "lexical": []}, k=2)
    assert [p.chunk_id for p in fused] == ["b1", "a1"]
    assert fuse({"dense": [], "lexical": []}, k=2) == []


def test_by_article_adds_the_article_score_and_puts_each_articles_best_first() -> None:
    passages = [to_passage(doc(c), c, s) for c, s in (("a1", .9), ("a2", .8), ("b1", .7),
                                                       ("c1", .75))]
    ranked = by_article(passages, {"a": 0.0, "b": 1.0, "c": 0.0}, weight=0.5)
    # b1 .7 + .5 = 1.2 first; then a1 .9 and c1 .75 (each its article's best), then a2 .8
    assert [p.chunk_id for p in ranked] == ["b1", "a1", "c1", "a2"]
    assert ranked[0].score == pytest.approx(1.2)
    assert [p.chunk_id for p in by_article(passages, {}, 0.5)] == ["a1", "c1", "b1", "a2"]
    # one place for distinct articles: then by score
    assert [p.chunk_id for p in by_article(passages, {}, 0.5, spread=1)] == ["a1", "a2", "c1", "b1"]


def article_corpus() -> Corpus:
    texts = {"x1": "The comet was seen over Oslo.", "x2": "Astronomers named it Vega-9.",
             "y1": "Oslo hosts a comet festival every comet season, with comet cakes.",
             "z1": "Bread prices rose in Oslo."}
    documents = [Document(page_content=t, id=c, metadata={"doc_id": c[0], "start": i * 40,
                 "end": i * 40 + len(t), "title": "", "source": "", "date": ""})
                 for i, (c, t) in enumerate(texts.items())]
    return Corpus(documents, BM25(list(texts.values())), Articles.of(documents))


def test_articles_are_scored_whole_and_the_baseline_passes_on_each_ones_best_chunk() -> None:
    corpus = article_corpus()
    relative = corpus.articles.relative("comet Vega-9")
    assert relative["x"] == 1.0 and 0 < relative["y"] < 1 and "z" not in relative or \
        relative["z"] == 0.0
    found = article_search("comet Vega-9", corpus, k=2)
    assert [p.doc_id for p in found] == ["x", "y"] and found[0].chunk_id == "x2"


def test_analyzer_stems_and_drops_stop_words() -> None:
    assert analyze("The agents were killed in ambushes") == ["agent", "kill", "ambush"]


def test_bm25_ranks_the_rarer_match_first() -> None:
    bm25 = BM25(["the cat sat", "the dog sat", "a cat and a dog and a cat"])
    assert [i for i, _ in bm25.top("cat", 3)] == [2, 0]
    assert bm25.idf("sat") < bm25.idf("and") or bm25.idf("sat") == bm25.idf("cat")
    assert bm25.top("zebra", 3) == []


@pytest.mark.parametrize("filters, where", [
    (Filters(), None),
    (Filters(date_from="2010"), {"date_num": {"$gte": 20100000}}),
    (Filters(date_from="2010-02", date_to="2011"),
     {"$and": [{"date_num": {"$gte": 20100200}}, {"date_num": {"$lte": 20111299}}]}),
])
def test_filters_become_chroma_where_clauses(filters: Filters, where: object) -> None:
    assert filters.where() == where


def test_bad_dates_are_named() -> None:
    with pytest.raises(FilterError, match="date_to must look like YYYY"):
        Filters(date_to="yesterday").where()


@pytest.fixture
def dated_store(tmp_path: Path, fake_embedder):  # type: ignore[no-untyped-def]
    for name, date in [("storm", "2010-05-01"), ("flood", "2012-07-15"), ("drought", "")]:
        front = f"---\ntitle: {name}\ndate: {date}\n---\n" if date else ""
        write(tmp_path / "a" / f"{name}.md",
              f"{front}The {name} hit the valley town. Farmers lost crops to the {name}.")
    store = open_store(str(tmp_path / "store"), None, "fake")
    add_paths([str(tmp_path / "a")], store, fake_embedder)
    return store


def test_hybrid_retrieval_honours_source_and_date_filters(dated_store, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = load_corpus(dated_store)

    def titles(filters: Filters) -> set[str]:
        retriever = hybrid_retriever(dated_store, corpus, fake_embedder, k=5, filters=filters)
        return {p.title for p in retriever.invoke("Which town did the storm hit?")}

    assert titles(Filters()) == {"storm", "flood", "drought"}
    assert titles(Filters(date_from="2011")) == {"flood"}
    assert titles(Filters(date_to="2011-12-31")) == {"storm"}
    storm_id = next(a.doc_id for a in dated_store.list_articles() if a.title == "storm")
    assert titles(Filters(sources=(storm_id,))) == {"storm"}


def test_the_service_sees_an_article_rewritten_to_the_same_number_of_chunks(
    tmp_path: Path, fake_embedder
) -> None:  # type: ignore[no-untyped-def]
    from qa.service import Service

    path = write(tmp_path / "a" / "note.md", "# Note\n\nThe meeting is on Monday in Oslo.")
    store = open_store(str(tmp_path / "store"), None, "fake")
    add_paths([str(path)], store, fake_embedder)
    service = Service(store, fake_embedder)
    assert "Monday" in service.corpus().documents[0].page_content
    write(path, "# Note\n\nThe meeting is on Friday in Bergen.")
    add_paths([str(path)], store, fake_embedder)
    assert "Friday" in service.corpus().documents[0].page_content


def test_k_and_filters_are_per_call_and_the_articles_are_listed_only_when_nothing_matched(
    dated_store, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from qa.service import Service

    service = Service(dated_store, fake_embedder)
    question = "Which town did the storm hit?"
    assert len(service.retrieve(question, 1)) == 1 and len(service.retrieve(question, 3)) == 3
    assert {p.title for p in service.retrieve(question, 5, Filters(date_from="2011"))} == {"flood"}
    listed: list[int] = []
    real = Service.documents
    monkeypatch.setattr(Service, "documents", lambda self: listed.append(1) or real(self))
    service.ask(question, filters=Filters(date_from="2011"))
    assert listed == []  # passages were found: no need to list every article
    with pytest.raises(FilterError, match="No stored article matches"):
        service.stream(question, filters=Filters(date_from="2030"))
    assert listed == [1]

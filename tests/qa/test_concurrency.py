"""The API answers in worker threads sharing one service and one embedder: questions asked at
once get the answers they get one at a time. (The transformers tokenizer under the embedder is
not thread-safe: unguarded, concurrent calls were seen to pad each other's batches and fail with
a ValueError; the race is rare, so this test does not always catch it.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from qa.service import Service

QUESTIONS = ["Who was killed at the fake roadblock?", "What did U.S. officials complain about?",
             "Who was wounded?", "What did the cables say about the Mexican army?"]


def test_questions_asked_at_once_get_the_answers_asked_alone(sample_service: Service) -> None:
    alone = [Service(sample_service.store, sample_service.embedder).ask(q) for q in QUESTIONS]
    for _ in range(3):
        cold = Service(sample_service.store, sample_service.embedder)  # nothing cached yet
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(cold.ask, QUESTIONS * 2))
        assert together == alone * 2

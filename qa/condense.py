"""Turn a follow-up question into a standalone search query, using the earlier questions.

    standalone("and who was wounded?", ["Who was killed at the fake roadblock?"])
    -> "who was wounded? (killed fake roadblock)"

Without an LLM this is a rule. A question leans on the conversation when it opens with "and",
"what about", ...; or refers back with a pronoun ("he", "it", "their", "these") and has no subject
of its own; or is elliptical (at most two content words of its own, none of them a name or a
number, in five words or fewer). Its own subject: a name (a capitalised word after the first) or
a number; or, for a pronoun that opens a clause ("when they", "because it"), a content word
before it, its antecedent ("What do bees do when they swarm?"); or at least `SUBJECT_WORDS`
content words in all: a question that long searches well on its own words; or, for "its" and
"their", the thing a "Which X"/"What X" question asks about ("Which team lost its coach?"). "This
week", "this past year's", "these days" are time phrases, not references. So "Which new character
did M&M's add to the lineup this week?" and "What do cartels do when they kidnap children?" stand
alone, while "Why did they do it?", "Who ordered their deaths?" and "When did that happen?" are
follow-ups. (Left to a model: "Which song was on their album?" is taken for a standalone question,
and so is "What did Biden say about it?", it has a name.)

A follow-up borrows the content words of the turn it refers to, the previous question as it was
searched, that it doesn't already have: at most `MAX_BORROWED` of them. Only the last two questions
are read (the previous one, and the one before it if the previous was itself a follow-up), so a
long conversation never makes a long query: borrowings are never borrowed again. Any other
question stands alone, as typed: "What is the capital of France?" after a question about Mexico is
searched as it is. The query is shown to the asker ("searched for: ...").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

OPENERS = ("and", "but", "also", "so", "then", "what about", "how about", "and what about")
PRONOUNS = frozenset("he she they it him her them his hers their theirs its this that these those "
                     "there then one ones".split())
# Words that refer back to the conversation ("there", "then", "one" and "that" are left out: "Is
# there a cure?", "the man that shot him" stand alone).
REFERRING = frozenset("he she they it him her them his hers their theirs its this these those "
                      "himself herself itself themselves".split())
ELLIPSIS_WORDS = 5
# A pronoun right after one of these, with a content word before it, refers within the question:
# "What do bees do when they swarm?", "Which item should be replaced because it collects dust?".
CLAUSE_WORDS = frozenset("when if because after before while until once whether although "
                         "since though".split())
POSSESSIVES = frozenset("its their".split())
SUBJECT_WORDS = 5  # content words that make a question its own subject, whatever its pronouns
# "this week", "these days", "this past year's": a time, not a reference to the conversation.
TIME_WORDS = frozenset(
    "week weekend weekends month year season morning afternoon evening night summer winter "
    "spring fall autumn days decade century quarter semester monday tuesday wednesday thursday "
    "friday saturday sunday january february march april may june july august september october "
    "november december".split())
TIME_LEADS = frozenset("this these".split())
TIME_QUALIFIERS = frozenset("past coming".split())
MAX_BORROWED = 8  # content words a follow-up borrows from the turn it refers to, at most
MAX_WORD_CHARS = 40  # a longer "word" ("-.'-.'...a") is never borrowed
# Words that never carry a follow-up's topic, so it never borrows them: function and question
# words, pronouns and chat phrasing ("please tell", "say"). Not the BM25 stop list
# (`qa.lexical.STOPWORDS`, an English function-word list that keeps "tell", "yes", "please").
NON_TOPIC_WORDS = frozenset(
    "a an the of in on at to for from by with about into over after before and or but so then "
    "also is are was were be been being do does did has have had will would can could should may "
    "might must shall what who whom whose which when where why how whats who's it's that's "
    "i you we me us my your our not no yes please tell say said many much".split()) | PRONOUNS
# A word: word characters joined by "$€£%.'’-" ("U.S", "$5", "don't", "3.5"). The separators and
# \w are disjoint and a match starts only where a run starts (the look-behind), so the pattern is
# linear: the old `[\w$€£%.'’-]*\w` was retried from every character of a run of "-", "." or "'"
# (quadratic: 15 s for a 20 KB history turn).
_SEP = "$€£%.'’-"
_WORD = re.compile(rf"(?<![\w{_SEP}])[{_SEP}]*+\w+(?:[{_SEP}]+\w+)*+", re.UNICODE)


def user_turns(history: Sequence[Any]) -> list[str]:
    """The user's earlier questions from a history of strings, {role, content} messages or pairs."""
    turns: list[str] = []
    for item in history:
        if isinstance(item, str):
            turns.append(item)
        elif isinstance(item, dict) and item.get("role") == "user":
            turns.append(_text(item.get("content")))
        elif isinstance(item, list | tuple) and item:
            turns.append(_text(item[0]))
    return [t for t in turns if t.strip()]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal messages: [{"type": "text", "text": ...}, ...]
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def standalone(question: str, history: Sequence[Any] = ()) -> str:
    """The question as a search query that stands on its own, given the conversation so far:
    only the last two questions are read, whatever the conversation's length."""
    turns = user_turns(history)[-2:]
    previous = " ".join(turns[-1].split()) if turns else ""
    if len(turns) == 2:  # the previous question as it was searched: one level, never deeper
        previous = condense(previous, turns[0])
    return condense(question, previous)


def condense(question: str, previous: str) -> str:
    """`question`, with up to `MAX_BORROWED` of the previous query's missing content words if it
    is a follow-up (the previous query's own words first, then those it had borrowed)."""
    question = " ".join(question.split())
    if not previous or not is_follow_up(question):
        return question
    own = {w.lower() for w in content_words(question)}
    borrowed: dict[str, str] = {}
    for word in content_words(_strip_context(previous)):
        if len(word) <= MAX_WORD_CHARS and word.lower() not in own | borrowed.keys():
            borrowed[word.lower()] = word
            if len(borrowed) == MAX_BORROWED:
                break
    core = _strip_opener(question)
    return f"{core} ({' '.join(borrowed.values())})" if borrowed else core


def is_follow_up(question: str) -> bool:
    lowered = question.lower()
    if any(re.match(rf"{re.escape(o)}\b", lowered) for o in OPENERS):
        return True
    typed = _WORD.findall(question)
    words = [w.lower() for w in typed]
    references = _references(words)
    if references and not _own_subject(typed, references[0]):
        return True
    return _elliptical(question, words)


def _references(words: list[str]) -> list[int]:
    """Where the (lowercased) words refer back: the referring words, less those that open a time
    phrase ("this week", "these days", "this past year's")."""
    return [i for i, word in enumerate(words)
            if word in REFERRING and not (word in TIME_LEADS and _time_phrase(words[i + 1:i + 3]))]


def _time_phrase(after: list[str]) -> bool:
    if after and after[0] in TIME_QUALIFIERS:
        after = after[1:]
    return bool(after) and re.sub(r"['’]s$", "", after[0]) in TIME_WORDS


def _own_subject(typed: list[str], reference: int) -> bool:
    """Whether the question, its words as typed, has a subject of its own for the referring word
    at `reference`: a name or a number, an antecedent before it, or enough content words."""
    own = [(i, w) for i, w in enumerate(typed) if w.lower() not in NON_TOPIC_WORDS and len(w) > 1]
    if any((i > 0 and w[:1].isupper()) or any(ch.isdigit() for ch in w) for i, w in own):
        return True
    clause = reference > 0 and typed[reference - 1].lower() in CLAUSE_WORDS
    before = any(i < reference for i, _ in own)
    asked = [w.lower() for w in typed[:2]]  # "Which country ... its name": the one asked about
    whose = (typed[reference].lower() in POSSESSIVES and len(asked) == 2
             and asked[0] in ("which", "what") and asked[1] not in NON_TOPIC_WORDS)
    return (clause and before) or whose or len(own) >= SUBJECT_WORDS


def _elliptical(question: str, words: list[str]) -> bool:
    """Short and without a subject of its own: "why?", "when did it start", "how many died?"."""
    own = content_words(question)
    named = any(w[:1].isupper() or any(ch.isdigit() for ch in w) for w in own)
    return len(own) <= 2 and not named and len(words) <= ELLIPSIS_WORDS


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in NON_TOPIC_WORDS and len(w) > 1]


def _strip_opener(question: str) -> str:
    for opener in sorted(OPENERS, key=len, reverse=True):
        if re.match(rf"{re.escape(opener)}\b", question, re.IGNORECASE):
            return question[len(opener):].lstrip(" ,").strip() or question
    return question


def _strip_context(query: str) -> str:
    """A condensed query's own words and borrowed ones alike: the parentheses are dropped."""
    return query.replace("(", " ").replace(")", " ")

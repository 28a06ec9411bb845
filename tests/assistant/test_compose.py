"""The extractive composer on hand-made passages (no model needed): split lists are answered whole."""

from assistant.postprocessing.rerank import TermWeights
from assistant.retrieval.retrieve import Candidate
from assistant.synthesis.compose import ExtractiveComposer, split_parts
from ingest.storage.store import StoredChunk

LEAD = "Partners will be invited to take up the following roles in the network:"


def _part(n: int, item: str) -> StoredChunk:
    text = f"{LEAD}\n{item}" if n == 1 else f"{LEAD} … {item}"
    return StoredChunk(f"p{n}", text, {"doc_id": "d", "locator": "¶9", "kind": "paragraph", "parts": 3, "part": n})


PARTS = [_part(1, "(a) hosting the forum;"), _part(2, "(b) chairing working groups;"),
         _part(3, "(c) sharing data on progress.")]


def _select(question: str, best: StoredChunk, max_words: int = 110) -> str:
    composer = ExtractiveComposer(TermWeights.of(PARTS), max_words=max_words, parts=split_parts(PARTS))
    snippets = composer.select(question, [Candidate(best, score=1.0, dense=0.5)])
    return "\n".join(s.quote + (" …" if s.cut else "") for s in snippets)


def test_a_question_about_the_lead_in_gets_every_part_s_items() -> None:
    text = _select("which roles will partners take up?", PARTS[1])
    assert text == f"{LEAD}\n(a) hosting the forum;\n(b) chairing working groups;\n(c) sharing data on progress."


def test_items_are_cut_to_their_first_clause_when_the_whole_list_does_not_fit() -> None:
    long = [_part(1, "(a) hosting the forum, including its workshops, panels and exhibitions and the annual dinner;"),
            _part(2, "(b) chairing working groups, including those on data, reporting and the yearly review cycle;"),
            _part(3, "(c) sharing data on progress.")]
    composer = ExtractiveComposer(TermWeights.of(long), max_words=30, parts=split_parts(long))
    snippets = composer.select("which roles will partners take up?", [Candidate(long[0], score=1.0)])
    quotes = [s.quote for s in snippets]
    assert quotes == [f"{LEAD}\n(a) hosting the forum", "(b) chairing working groups", "(c) sharing data on progress."]
    assert [s.cut for s in snippets] == [True, True, False]


def test_a_passage_that_was_not_split_is_left_alone() -> None:
    alone = StoredChunk("x", f"{LEAD}\n(a) hosting the forum;", {"doc_id": "d", "locator": "¶8", "kind": "paragraph"})
    composer = ExtractiveComposer(TermWeights.of([alone]), parts=split_parts(PARTS + [alone]))
    assert [s.candidate.chunk.id for s in composer.select("roles?", [Candidate(alone, score=1.0)])] == ["x"]


def test_a_long_next_sentence_gives_its_first_clause() -> None:
    first = "Partners who join will gain visibility for their work on social justice."
    second = ("In addition, by working together partners may increase the scale and impact of their actions: "
              + " ".join(["for example"] * 60) + ".")
    chunk = StoredChunk("y", f"{first} {second} A third sentence.", {"doc_id": "d", "locator": "¶9", "kind": "paragraph"})
    composer = ExtractiveComposer(TermWeights.of([chunk]))
    (snip,) = composer.select("What do partners gain from joining?", [Candidate(chunk, score=1.0, dense=0.5)])
    assert snip.quote == f"{first} In addition, by working together partners may increase the scale and impact of their actions"
    assert snip.cut and snip.quote in chunk.text


def test_a_passage_of_up_to_a_hundred_words_is_quoted_whole() -> None:
    sentences = ["Members of the group will serve for a two-year period, except for its chair.",
                 "Membership may be renewed once, if proposed by the nominating groups.",
                 "As partners, members will also take part in the activities of the network and contribute to its "
                 "objectives, its events, its reports and its work on data, on finance and on the review of progress "
                 "that the network carries out every year with its partners and its secretariat."]
    chunk = StoredChunk("z", " ".join(sentences), {"doc_id": "d", "locator": "¶12", "kind": "paragraph"})
    assert 60 < len(chunk.text.split()) <= 100
    composer = ExtractiveComposer(TermWeights.of([chunk]))
    (snip,) = composer.select("Will members take part in the activities?", [Candidate(chunk, score=1.0, dense=0.5)])
    assert snip.quote == chunk.text  # the term served and its renewal come with the sentence that matched


def test_the_quote_is_chosen_by_what_it_holds_not_by_its_first_sentence_alone() -> None:
    """The sentence that names the body comes after the one that gives the date: the best lone sentence
    ('…Forum of the Coalition…') would be quoted from there on and drop the date; the quote that starts one
    sentence earlier holds both."""
    filler = " ".join(f"Other work on topic {n} will go on through the biennium as the Office plans it." for n in range(7))
    text = f"It opens on 12 June 2024. The Forum of the Coalition will meet in the city of Geneva. {filler}"
    chunk = StoredChunk("f", text, {"doc_id": "d", "locator": "¶40", "kind": "paragraph"})
    composer = ExtractiveComposer(TermWeights.of([chunk]))
    (snip,) = composer.select("When will the Forum of the Coalition meet in the city of Geneva?",
                              [Candidate(chunk, score=1.0, dense=0.5)])
    assert snip.quote.startswith("It opens on 12 June 2024. The Forum of the Coalition will meet in the city of Geneva.")


def test_a_cut_list_keeps_whole_the_item_the_question_names() -> None:
    """Who said it ends the item: cut to its first clause, every item would lose the name asked for."""
    said = [_part(1, "(a) progress is needed across the pillars, with social dialogue and support - Mr. Ken Ito, Japan;"),
            _part(2, "(b) child labour must end, with partnerships and cooperation - Ms. Maria Westman-Clement, EU (Sweden);"),
            _part(3, "(c) training centres should grow, with more courses and exchanges - Mr. Rui Costa, Brazil.")]
    composer = ExtractiveComposer(TermWeights.of(said), max_words=40, parts=split_parts(said))
    snippets = composer.select("Which roles did the EU speaker from Sweden take up?", [Candidate(said[0], score=1.0)])
    quotes = [s.quote for s in snippets]
    assert quotes[1] == "(b) child labour must end, with partnerships and cooperation - Ms. Maria Westman-Clement, EU (Sweden);"
    assert quotes[0] == f"{LEAD}\n(a) progress is needed across the pillars" and snippets[0].cut


def test_the_runner_up_is_cited_when_its_log_odds_are_within_the_margin() -> None:
    first = StoredChunk("a", "The Forum meets once a year in Geneva.", {"doc_id": "d", "locator": "¶3", "kind": "paragraph"})
    second = StoredChunk("b", "The Coordinating Group meets every quarter.",
                         {"doc_id": "d", "locator": "¶4", "kind": "paragraph"})
    weights = TermWeights.of([first, second])

    def cited(margin: float, p_second: float) -> list[str]:
        ranked = [Candidate(first, score=0.999, dense=0.5), Candidate(second, score=p_second, dense=0.5)]
        composer = ExtractiveComposer(weights, margin=margin)
        return [s.candidate.chunk.id for s in composer.select("How often does it meet?", ranked)]

    # 0.999 and 0.99 differ by 0.9 % as probabilities, by 2.3 in log-odds: a share of the best score would
    # call them equal; the margin does not
    assert cited(2.0, 0.99) == ["a"]
    assert cited(2.5, 0.99) == ["a", "b"]
    assert cited(2.0, 0.995) == ["a", "b"]
    assert cited(0.0, 0.995) == ["a"]


def test_each_of_the_next_runners_within_the_margin_is_cited_and_no_more() -> None:
    texts = ["The Forum meets once a year in Geneva.", "The Coordinating Group meets every quarter.",
             "The Secretariat meets every month.", "The Portal lists every partner."]
    chunks = [StoredChunk(c, t, {"doc_id": "d", "locator": f"¶{i}", "kind": "paragraph"})
              for i, (c, t) in enumerate(zip("abcd", texts, strict=True))]
    weights = TermWeights.of(chunks)
    ranked = [Candidate(chunk, score=p, dense=0.5) for chunk, p in zip(chunks, (0.999, 0.995, 0.99, 0.5), strict=True)]

    def cited(runners: int, margin: float) -> list[str]:
        composer = ExtractiveComposer(weights, margin=margin, runners=runners)
        return [s.candidate.chunk.id for s in composer.select("How often does it meet?", ranked)]

    assert cited(1, 2.5) == ["a", "b"]
    assert cited(2, 2.5) == ["a", "b", "c"]
    assert cited(3, 2.5) == ["a", "b", "c"]  # the fourth is far outside the margin
    assert cited(2, 2.0) == ["a", "b"]  # the third's log-odds are 2.3 under the best's

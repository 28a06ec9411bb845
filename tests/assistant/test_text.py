"""Question analysis that needs no model: answer-type pseudo-terms."""

from assistant.text import DATE, NUMBER, answer_type_terms, question_terms, text_terms


def test_when_and_how_many_questions_ask_for_a_date_or_a_number() -> None:
    assert answer_type_terms("When was the Coalition launched?") == [DATE]
    assert answer_type_terms("how many partners are there") == [NUMBER]
    assert answer_type_terms("Who may join the Coalition?") == []
    assert DATE in question_terms("when does the forum meet")


def test_passages_cover_the_answer_type_they_hold() -> None:
    assert DATE in text_terms("The Coalition was launched in June 2023 at the Conference.")
    assert NUMBER in text_terms("It has over 300 partners.")
    assert NUMBER in text_terms("The group has twelve members.")
    plain = text_terms("Partners may join by writing to the secretariat.")
    assert DATE not in plain and NUMBER not in plain

"""The fit's end-to-end choice of the runners-up cited beside the best passage, on the real assistant and a
few dev questions."""

from assistant.pipeline import Assistant
from evals.fit import MARGIN_TOLERANCE, MARGINS, RUNNERS, collect, runners_up
from evals.gold import dev_questions


def test_the_runners_up_are_chosen_end_to_end_and_leave_the_composer_as_it_was(assistant: Assistant) -> None:
    questions = [q for q in dev_questions() if not q.should_abstain and q.language == "en"][:12]
    samples = collect(assistant, questions)
    for s in samples:
        s.ranked = s.candidates  # ranked by the shipped ranker, its probabilities as scores
    before = assistant.composer.runners, assistant.composer.margin
    runners, margin, report = runners_up(assistant, samples)
    assert (assistant.composer.runners, assistant.composer.margin) == before
    assert set(report) == {f"{n}:{m:g}" for n in RUNNERS for m in MARGINS if n == 1 or m > 0}
    for row in report.values():
        assert 0.0 <= row["evidence_cited"] <= 1.0 and 0.0 <= row["key_facts"] <= 1.0 and row["median_words"] > 0
    value = {key: (r["evidence_cited"] + r["key_facts"]) / 2 for key, r in report.items()}
    chosen = f"{runners}:{margin:g}"
    assert value[chosen] >= max(value.values()) - MARGIN_TOLERANCE
    # of the settings as good as the best, the one whose citations most often hold the evidence
    near = [key for key in value if value[key] >= max(value.values()) - MARGIN_TOLERANCE]
    assert report[chosen]["citation_precision"] == max(report[key]["citation_precision"] for key in near)

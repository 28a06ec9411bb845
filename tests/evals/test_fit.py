"""The fit's end-to-end choice of the runner-up margin, on the real assistant and a few dev questions."""

from assistant.pipeline import Assistant
from evals.fit import MARGIN_TOLERANCE, MARGINS, collect, runner_up_margin
from evals.gold import dev_questions


def test_the_runner_up_margin_is_chosen_end_to_end_and_leaves_the_composer_as_it_was(assistant: Assistant) -> None:
    questions = [q for q in dev_questions() if not q.should_abstain and q.language == "en"][:12]
    samples = collect(assistant, questions)
    for s in samples:
        s.ranked = s.candidates  # ranked by the shipped ranker, its probabilities as scores
    before = assistant.composer.margin
    chosen, report = runner_up_margin(assistant, samples)
    assert assistant.composer.margin == before
    assert set(report) == {f"{m:g}" for m in MARGINS}
    for row in report.values():
        assert 0.0 <= row["evidence_cited"] <= 1.0 and 0.0 <= row["key_facts"] <= 1.0 and row["median_words"] > 0
    value = {float(m): (r["evidence_cited"] + r["key_facts"]) / 2 for m, r in report.items()}
    assert value[chosen] >= max(value.values()) - MARGIN_TOLERANCE
    assert all(value[m] < max(value.values()) - MARGIN_TOLERANCE for m in value if m < chosen)

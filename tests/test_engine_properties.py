"""Random event sequences never break the engine's invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalogue import load_catalogue
from dialogues import effects as fx
from dialogues import events as ev
from dialogues.engine import Dialogue
from dialogues.model import Answer

DIALOGUE = Dialogue(load_catalogue(), max_text=50)
positions = st.sampled_from(DIALOGUE.positions)
maybe_at = st.one_of(st.none(), positions)
values = st.sampled_from(["full", "mostly", "partly", "not", "unknown", "yes", "no", "none", "x"])
texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["1", "5", "ja", "nein", "keine geplant", "Überwiegend erfüllt", "  "]),
)
requirement_ids = st.sampled_from([r.id for r in DIALOGUE.catalogue.requirements] + ["ZZ9"])

events = st.one_of(
    st.builds(ev.Choose, values, maybe_at),
    st.builds(ev.Type, texts, maybe_at),
    st.builds(ev.Keep, maybe_at),
    st.builds(ev.Jump, requirement_ids),
    st.builds(ev.Back, maybe_at),
    st.builds(ev.Skip, maybe_at),
    st.builds(ev.Hint, maybe_at),
    st.sampled_from(
        [
            ev.Resume(),
            ev.Show(),
            ev.Pause(),
            ev.Overview(),
            ev.Review(),
            ev.Submit(),
            ev.Confirm(),
            ev.Cancel(),
            ev.Reopen(),
        ]
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=120), st.booleans())
def test_random_sequences_keep_invariants(sequence: list[ev.Event], prefilled: bool) -> None:
    state = DIALOGUE.initial(
        {(p.requirement_id, p.question_key): Answer("unknown") for p in DIALOGUE.positions[:3]}
        if prefilled
        else None
    )
    for event in sequence:
        step = DIALOGUE.advance(state, event)
        new = step.state
        assert new.position in DIALOGUE.positions
        if step.rejected is not None:
            assert new == state, "a rejected event changed the state"
        if new.submitted and not state.submitted:
            assert DIALOGUE.open_questions(new) == (), "submitted while incomplete"
        changed = {k: v for k, v in new.answers.items() if state.answers.get(k) != v}
        recorded = {
            (r.position.requirement_id, r.position.question_key): r.answer for r in step.records
        }
        assert changed == recorded, "answers changed without a Record effect"
        if changed:
            assert isinstance(event, (ev.Choose, ev.Type)), "only answers change answers"
        assert not (new.submitted and changed)
        for effect in step.effects:
            if isinstance(effect, fx.Ask):
                assert effect.position == new.position
        state = new

"""The catalogue file: the shipped default loads and is complete; broken files are refused with
a message that names the file, the place inside it and the problem; per-requirement question
overrides change only the wording."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.catalogue import load_catalogue
from dialogues.catalogue import (
    DEFAULT_CATALOGUE,
    QUESTION_KEYS,
    AnswerKind,
    Catalogue,
    CatalogueError,
)

DATA = Path(__file__).with_name("data")
K1_TEXT = (
    "Form und Sprache von Informationen und Formularen gewährleisten, "
    "dass alle Bürger*innen deren Inhalt gut erfassen können."
)
AREAS = [
    ("Z", "Zielgruppen und Bedarfe"),
    ("ZU", "Zugang zu Angeboten"),
    ("K", "Kommunikation"),
    ("P", "Personal und Kompetenzen"),
    ("B", "Beteiligung und Vernetzung"),
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def default_text() -> str:
    return DEFAULT_CATALOGUE.read_text(encoding="utf-8")


# --- the default catalogue ------------------------------------------------------------------


def test_default_catalogue_header(catalogue: Catalogue) -> None:
    assert catalogue.id == "cclu"
    assert catalogue.version == "2026.2-entwurf"
    assert catalogue.title.de == "ChancenCheckLU"


def test_default_file_says_it_is_a_draft(default_text: str) -> None:
    first_line = default_text.splitlines()[0]
    assert "ENTWURF" in first_line and "DRAFT" in first_line


def test_areas_in_order_with_three_requirements_each(catalogue: Catalogue) -> None:
    assert [(a.id, a.title.de) for a in catalogue.areas] == AREAS
    for area in catalogue.areas:
        assert area.title.en and area.title.en != area.title.de
        assert [r.id for r in area.requirements] == [f"{area.id}{n}" for n in (1, 2, 3)]
    ids = [r.id for r in catalogue.requirements]
    assert len(ids) == 15
    assert len(set(ids)) == 15


def test_k1_is_the_citys_published_requirement(catalogue: Catalogue) -> None:
    assert catalogue.requirement("K1").text.de == K1_TEXT
    assert catalogue.area_of("K1").title.de == "Kommunikation"


def test_every_requirement_is_complete_in_both_languages(catalogue: Catalogue) -> None:
    for req in catalogue.requirements:
        for field in ("title", "text", "hint"):
            text = getattr(req, field)
            assert text.de.strip() and text.en.strip(), (req.id, field)
            assert text.de != text.en, (req.id, field, "not translated")
        assert 2 <= len(req.title.de.split()) <= 6, req.id
        assert "Beispiel: " in req.hint.de, req.id
        assert "Example: " in req.hint.en, req.id
        assert req.questions == {}, f"{req.id}: the default file overrides no question"


def test_requirement_texts_are_short_plain_sentences(catalogue: Catalogue) -> None:
    for req in catalogue.requirements:
        for text in (req.text.de, req.text.en):
            assert text.endswith(".") and text.count(".") == 1, (req.id, text)
            assert "\n" not in text and len(text) <= 200, req.id
        assert len(req.hint.de) <= 300 and len(req.hint.en) <= 300, req.id


def test_texts_are_gender_inclusive_and_safe_for_telegram(catalogue: Catalogue) -> None:
    masculine = re.compile(
        r"\b(Bürger|Mitarbeiter|Kunden|Nutzer|Migranten|Dolmetscher|Partner|Teilnehmer)n?(?![*\w])"
    )
    for req in catalogue.requirements:
        for text in (req.title, req.text, req.hint):
            assert not masculine.search(text.de), (req.id, masculine.search(text.de))
            for value in (text.de, text.en):
                assert not set(value) & set("<>&_`\\"), (req.id, value)
    assert "Bürger*innen" in catalogue.requirement("K1").text.de


def test_three_questions_in_order(catalogue: Catalogue) -> None:
    assert [q.key for q in catalogue.questions] == list(QUESTION_KEYS)
    assert QUESTION_KEYS == ("fulfilment", "potential", "measures")
    assert [q.kind for q in catalogue.questions] == [
        AnswerKind.RATING,
        AnswerKind.YES_NO,
        AnswerKind.MEASURES,
    ]
    fulfilment, potential, measures = catalogue.questions
    assert fulfilment.text.de == "Inwieweit wird die Qualitätsanforderung derzeit erfüllt?"
    assert potential.text.de == "Gibt es Verbesserungspotenzial?"
    assert (potential.yes.de, potential.no.de) == ("Ja", "Nein")  # type: ignore[union-attr]
    assert measures.text.de == "Gibt es Maßnahmen, die zukünftig potenziell umgesetzt werden?"
    assert measures.none.de == "Keine Maßnahmen geplant"  # type: ignore[union-attr]


def test_scale_has_four_scored_steps_and_an_unscored_escape(catalogue: Catalogue) -> None:
    assert [(s.key, s.score, s.colour) for s in catalogue.scale] == [
        ("full", 3, "green"),
        ("mostly", 2, "yellow"),
        ("partly", 1, "orange"),
        ("not", 0, "red"),
        ("unknown", None, "grey"),
    ]
    assert catalogue.step("partly").label.de == "teilweise erfüllt"  # type: ignore[union-attr]
    unknown = catalogue.step("unknown")
    assert unknown is not None and unknown.label.de == "nicht beurteilbar / trifft nicht zu"
    assert catalogue.step("nonsense") is None


def test_without_override_every_requirement_gets_the_catalogue_question(
    catalogue: Catalogue,
) -> None:
    for req in catalogue.requirements:
        for base in catalogue.questions:
            assert catalogue.question(req.id, base.key) == base


def test_load_accepts_a_string_path() -> None:
    assert load_catalogue(str(DEFAULT_CATALOGUE)).id == "cclu"


# --- overrides ------------------------------------------------------------------------------


def test_question_override_changes_only_the_wording() -> None:
    mini = load_catalogue(DATA / "minimal_catalogue.toml")
    base = next(q for q in mini.questions if q.key == "potential")

    asked = mini.question("T1", "potential")
    assert asked.text.de == "Sehen Sie hier Verbesserungspotenzial?"
    assert asked.text.en == "Do you see room for improvement here?"
    assert asked.kind is AnswerKind.YES_NO
    assert asked.yes == base.yes and asked.no == base.no
    assert asked.follow_up == base.follow_up  # not overridden, so the catalogue's

    measures = mini.question("T1", "measures")
    assert measures.follow_up.de == "Welche Maßnahmen planen Sie?"  # type: ignore[union-attr]
    assert measures.text.de == "Maßnahmen?"
    assert measures.kind is AnswerKind.MEASURES

    assert mini.question("T2", "potential") == base
    assert mini.question("T1", "fulfilment").text.de == "Erfüllt?"


def test_question_override_in_the_default_file_format(tmp_path: Path, default_text: str) -> None:
    # A city editor adds an override to K2 of the default file, as the header comment describes.
    text = _replace(
        default_text,
        _requirement_block(default_text, "K2"),
        _requirement_block(default_text, "K2")
        + "\n\n[areas.requirements.questions.potential]\n"
        + 'text = { de = "Gibt es Bedarf an Dolmetschen?", en = "Is interpreting needed?" }',
    )
    path = tmp_path / "override.toml"
    path.write_text(text, encoding="utf-8")
    cat = load_catalogue(path)
    asked = cat.question("K2", "potential")
    assert asked.text.de == "Gibt es Bedarf an Dolmetschen?"
    assert asked.kind is AnswerKind.YES_NO
    assert asked.yes.de == "Ja" and asked.no.de == "Nein"  # type: ignore[union-attr]
    assert cat.question("K3", "potential").text.de == "Gibt es Verbesserungspotenzial?"


# --- broken files ---------------------------------------------------------------------------


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected exactly one {old!r} in the catalogue text"
    return text.replace(old, new)


def _requirement_block(text: str, requirement_id: str) -> str:
    """The lines of one requirement, from its [[areas.requirements]] header to its last key."""
    match = re.search(
        rf'\[\[areas\.requirements\]\]\nid = "{requirement_id}"\n(?:[^\n]+\n)*[^\n]+',
        text,
    )
    assert match, requirement_id
    return match.group(0)


def _drop_title_en(text: str) -> str:
    block = _requirement_block(text, "K2")
    broken = re.sub(r'(title = \{ de = "[^"]*"), en = "[^"]*" \}', r"\1 }", block)
    assert broken != block
    return _replace(text, block, broken)


def _unknown_override(text: str) -> str:
    block = _requirement_block(text, "K2")
    return _replace(
        text,
        block,
        block + '\n\n[areas.requirements.questions.potenzial]\ntext = { de = "x", en = "y" }',
    )


def _drop_questions(text: str) -> str:
    start = text.index("[[questions]]")
    end = text.index("\n# ---", start)
    return text[:start] + text[end:]


BROKEN: dict[str, tuple[Callable[[str], str], list[str]]] = {
    "duplicate requirement id": (
        lambda t: _replace(t, 'id = "P2"\n', 'id = "K2"\n'),
        ["requirement id 'K2' is used twice"],
    ),
    "missing English title": (
        _drop_title_en,
        ["areas[K].requirements[K2].title.en: is missing; add this key"],
    ),
    "unknown question override": (
        _unknown_override,
        ["K2", "unknown question", "potenzial"],
    ),
    "missing questions": (
        _drop_questions,
        ["questions: is missing; add this key"],
    ),
    "yes_no question without yes": (
        lambda t: _replace(t, 'yes = { de = "Ja", en = "Yes" }\n', ""),
        ["questions[potential]", "a yes_no question needs yes"],
    ),
    "unknown answer kind": (
        lambda t: _replace(t, 'kind = "yes_no"', 'kind = "yesno"'),
        ["questions[potential].kind", "'rating', 'yes_no' or 'measures'"],
    ),
    "misspelt requirement key": (
        lambda t: _replace(t, 'id = "B3"\n', 'id = "B3"\nhnit = "x"\n'),
        ["areas[B].requirements[B3].hnit: is not a key the catalogue knows here"],
    ),
    "a question left out": (
        lambda t: _drop_question(t, "potential"),
        ["question 'potential' is missing; the questions must be fulfilment, potential, measures"],
    ),
    "duplicate area id": (
        lambda t: _replace(t, 'id = "P"\n', 'id = "K"\n'),
        ["area id 'K' is used twice: areas number 3 and number 4"],
    ),
    "duplicate scale key": (
        lambda t: _replace(t, 'key = "mostly"', 'key = "full"'),
        ["scale key 'full' is used twice: scale number 1 and number 2"],
    ),
    "rating steps with equal scores": (
        lambda t: _replace(t, "score = 2", "score = 3"),
        ["rating steps 'full' and 'mostly' both have score 3"],
    ),
}


def _drop_question(text: str, key: str) -> str:
    """Remove one [[questions]] table, found by its key."""
    start = text.index(f'[[questions]]\nkey = "{key}"')
    end = text.index("[[questions]]", start + 1)
    return text[:start] + text[end:]


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_catalogue_is_refused_with_a_precise_message(
    case: str, tmp_path: Path, default_text: str
) -> None:
    mutate, expected = BROKEN[case]
    path = tmp_path / "catalogue.toml"
    path.write_text(mutate(default_text), encoding="utf-8")

    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)

    message = str(caught.value)
    assert caught.value.path == path
    assert message.startswith(f"catalogue {path} is invalid:")
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert len(caught.value.problems) == 1, caught.value.problems


def test_invalid_toml_names_file_and_line(tmp_path: Path, default_text: str) -> None:
    line = default_text.splitlines().index('id = "cclu"') + 1
    path = tmp_path / "syntax.toml"
    path.write_text(_replace(default_text, 'id = "cclu"', 'id = cclu"'), encoding="utf-8")

    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)

    message = str(caught.value)
    assert str(path) in message
    assert "not valid TOML" in message
    assert f"line {line}," in message


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "catalogue.toml"
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    assert "cannot read the file: No such file or directory" in str(caught.value)


def test_several_problems_are_all_reported(tmp_path: Path, default_text: str) -> None:
    text = _drop_title_en(default_text)
    text = _replace(text, 'kind = "yes_no"', 'kind = "yesno"')
    path = tmp_path / "two.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    problems = caught.value.problems
    assert any(p.startswith("questions[potential].kind:") for p in problems), problems
    assert any(p.startswith("areas[K].requirements[K2].title.en:") for p in problems), problems


# --- messages that name the place of a problem, and unusual encodings ---------------------


def test_duplicate_id_names_both_places(tmp_path: Path, default_text: str) -> None:
    path = tmp_path / "dup.toml"
    path.write_text(_replace(default_text, 'id = "P2"\n', 'id = "K2"\n'), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    message = str(caught.value)
    assert "areas[K].requirements[K2]" in message and "areas[P].requirements[K2]" in message
    assert "(top level)" not in message


def test_unknown_override_names_area_and_requirement(tmp_path: Path, default_text: str) -> None:
    path = tmp_path / "unknown.toml"
    path.write_text(_unknown_override(default_text), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    message = str(caught.value)
    assert "areas[K].requirements[K2].questions" in message and "potenzial" in message
    assert "(top level)" not in message


def test_file_not_in_utf8_is_refused_as_catalogue_error(tmp_path: Path, default_text: str) -> None:
    path = tmp_path / "cp1252.toml"
    path.write_bytes(default_text.encode("cp1252", errors="replace"))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert "UTF-8" in str(caught.value)


def test_file_with_byte_order_mark_loads(tmp_path: Path, default_text: str) -> None:
    path = tmp_path / "bom.toml"
    path.write_text("\ufeff" + default_text, encoding="utf-8")
    assert load_catalogue(path).id == "cclu"


def test_the_parser_needs_no_file() -> None:
    """Protects the pure core: the catalogue is parsed from text, so dialogues/ does no I/O."""
    from dialogues.catalogue import parse_catalogue

    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    assert parse_catalogue(text) == load_catalogue()
    with pytest.raises(CatalogueError, match="not valid TOML"):
        parse_catalogue("areas = [", "typed.toml")

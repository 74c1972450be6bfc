"""Words, not codes: every code a report's cell may hold has Chinese and English words,
and no page or export shows a code where a word belongs (the JSON keeps the codes)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator

import attrs
import pytest
from safecomm_demo import scenario_commands
from safecomm_reports import FORMATS, render
from safecomm_reports.labels import CODE_WORDS, LANGS, code_label, section_rows

from safecomm_core import Safecomm, monthly_report, open_store
from safecomm_core.domain.campaign import CampaignTheme
from safecomm_core.domain.dispute import DisputeKind
from safecomm_core.domain.grid_alert import AlertCategory, AlertPriority
from safecomm_core.domain.phase import PhaseStatus, ReviewKind
from safecomm_core.indicators import Unit
from safecomm_core.reports import codes
from safecomm_core.reports.assessment import GAP_KINDS
from safecomm_core.reports.model import Report
from safecomm_core.reports.watch import LISTS
from tests.assessing import FULL_AS_OF, full_history, self_assessment_of, watchlist_of
from tests.test_assessment_outputs import readable_text

#: Every vocabulary and all its codes: the closed ones, and those the reports define.
VOCABULARIES = {
    **codes.CODE_SETS,
    codes.WATCH_LIST: tuple(LISTS),
    codes.GAP: tuple(GAP_KINDS),
}

#: The enums whose values reach a report's cells, and the vocabulary they are read in.
ENUMS: dict[type[enum.StrEnum], str] = {
    DisputeKind: codes.DISPUTE_KIND,
    AlertCategory: codes.ALERT_CATEGORY,
    AlertPriority: codes.ALERT_PRIORITY,
    PhaseStatus: codes.PHASE_STATUS,
    ReviewKind: codes.REVIEW_KIND,
    Unit: codes.UNIT,
    CampaignTheme: codes.CAMPAIGN_THEME,
}


@pytest.mark.parametrize("cls", list(ENUMS), ids=lambda c: c.__name__)
def test_every_value_of_an_enum_that_reaches_an_output_has_words(
    cls: type[enum.StrEnum],
) -> None:
    words = CODE_WORDS[ENUMS[cls]]
    missing = [m.value for m in cls if m.value not in words]
    assert missing == [], f"{cls.__name__}: no words for {missing}"


@pytest.mark.parametrize("vocabulary", sorted(VOCABULARIES))
def test_every_code_has_words_in_both_languages(vocabulary: str) -> None:
    words = CODE_WORDS[vocabulary]
    missing = [c for c in VOCABULARIES[vocabulary] if c not in words]
    assert missing == [], f"{vocabulary}: no words for {missing}"
    for code in VOCABULARIES[vocabulary]:
        zh, en = words[code]
        assert re.search(r"[\u4e00-\u9fff]", zh), (vocabulary, code, zh)
        assert en.strip(), (vocabulary, code)
        assert "_" not in en, (vocabulary, code, en)


def test_a_code_without_words_shows_as_it_is() -> None:
    # The police station's categories are its own: an unknown one keeps its code.
    assert code_label(codes.POLICE_CATEGORY, "arson_attempt", "en") == "arson_attempt"
    assert code_label(codes.POLICE_CATEGORY, "theft", "zh") == "盗窃"


@pytest.fixture(scope="module")
def reports() -> Iterator[list[Report]]:
    service: Safecomm = open_store("memory://")
    full_history(service)
    found = [
        watchlist_of(service, FULL_AS_OF),
        self_assessment_of(service, FULL_AS_OF),
    ]
    service.close()
    service = open_store("memory://")
    for command in scenario_commands(2014, 0.1):
        service.handle(command)
    found += [monthly_report(service, period) for period in ("2014-03", "2014-12")]
    yield found
    service.close()


def coded_cells(report: Report) -> Iterator[tuple[str, str, str]]:
    """Every (section, vocabulary, cell) of a column of codes."""
    for section in report.sections:
        for i, column in enumerate(section.columns):
            if column.codes is None:
                continue
            for row in section.rows:
                if isinstance(row[i], str):
                    yield section.id, column.codes, str(row[i])


def test_every_column_of_codes_names_a_vocabulary_with_words(reports: list[Report]) -> None:
    seen = set()
    for report in reports:
        for section_id, vocabulary, cell in coded_cells(report):
            assert vocabulary in CODE_WORDS, (report.kind, section_id, vocabulary)
            seen.add(vocabulary)
            if vocabulary in codes.OPEN_SETS:
                continue
            for code, _ in codes.split_codes(cell):
                assert code in CODE_WORDS[vocabulary], (report.kind, section_id, code)
    # The histories reach the vocabularies that matter most to a reader.
    assert {codes.AGREEMENT, codes.DISPUTE_KIND, codes.ELEMENT_STATUS, codes.GAP} <= seen


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_no_page_or_export_shows_a_code_where_a_word_belongs(
    reports: list[Report], fmt: str
) -> None:
    for report in reports:
        cells = {(v, c) for _, v, c in coded_cells(report) if v not in codes.OPEN_SETS}
        # The self-assessment's legend of gap codes (for readers of its JSON) is the one
        # table that shows them, in a column saying so.
        legend = [s for s in report.sections if s.id != "gap_kinds"]
        report = attrs.evolve(report, sections=tuple(legend))
        for lang in LANGS:
            shown = readable_text(render(report, fmt, lang), fmt)
            for vocabulary, cell in cells:
                for code, _ in codes.split_codes(cell):
                    words = CODE_WORDS[vocabulary][code][lang == "en"]
                    assert words in shown, (report.kind, fmt, lang, code)
                    if words != code and "_" in code and vocabulary != codes.INDICATOR:
                        # The code itself is nowhere to be read (an indicator's id is, on
                        # purpose: the figures' "ID" column beside its name).
                        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", shown), (
                            report.kind,
                            fmt,
                            lang,
                            code,
                        )


def test_the_watchlist_shows_the_agreement_in_words(reports: list[Report]) -> None:
    watch = reports[0]
    (section,) = [s for s in watch.sections if s.id == "judicial_window_closing"]
    assert section.rows  # the history has a window closing
    column = [c.key for c in section.columns].index("agreement")
    assert section.rows[0][column] in ("agreement_written", "agreement_oral")  # the JSON
    shown = section_rows(section, "zh")[0][column]
    assert shown in ("书面调解协议", "口头协议")
    html = render(watch, "html", "en").decode()
    assert "agreement_written" not in html
    assert "agreement_oral" not in html


def test_json_keeps_the_codes(reports: list[Report]) -> None:
    # A JSON export is for programs: its codes stay as they are, stable for scripts.
    data = render(reports[0], "json", "en").decode()
    assert re.search(r'"agreement_(written|oral)"', data)


#: Enums whose values are names in their own right, never shown as words: the plan's phase
#: ids (P1-P7) and the access policy's kinds of reading.
NAMES_NOT_CODES = ("PhaseId", "Read")


def _public_enums() -> list[type[enum.Enum]]:
    import safecomm_core

    found = [getattr(safecomm_core, name) for name in safecomm_core.__all__]
    return [
        e
        for e in found
        if isinstance(e, type) and issubclass(e, enum.Enum) and e.__name__ not in NAMES_NOT_CODES
    ]


@pytest.mark.parametrize("kind", _public_enums(), ids=lambda e: e.__name__)
def test_every_value_a_record_holds_has_words_for_the_pages(kind: type[enum.Enum]) -> None:
    # A page shows any value of a record (a form's choices, a timeline's fields) through
    # value_label: none may fall back to its code, in either language.
    from safecomm_reports.labels import value_label

    for member in kind:
        code = str(member.value)
        zh, en = value_label(code, "zh"), value_label(code, "en")
        assert zh != code, f"{kind.__name__}.{member.name}: no Chinese words"
        assert en, f"{kind.__name__}.{member.name}: no English words"


@pytest.mark.parametrize(
    "vocabulary", sorted(set(CODE_WORDS) - {codes.RULE, codes.GAP, codes.RULE_VERSION})
)
def test_a_page_and_an_export_name_a_code_the_same_way(vocabulary: str) -> None:
    from safecomm_reports.labels import value_label

    for code in CODE_WORDS[vocabulary]:
        for lang in LANGS:
            assert value_label(code, lang) == code_label(vocabulary, code, lang), (vocabulary, code)

"""The pages' sentences carry the numbers of the tables they describe, and change when the data do."""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import DEMO_DIR, SCHEME_FILE

from perflab import narrative
from perflab.differentiated import evaluate
from perflab.effective import effective_weights
from perflab.io import load_dataset
from perflab.scheme import load_scheme
from perflab.scoring import score_units


@pytest.fixture(scope="module")
def demo():
    s = load_scheme(SCHEME_FILE)
    ds = load_dataset(DEMO_DIR, s)
    return s, ds, score_units(ds, s), evaluate(ds, s)


def test_the_written_report_caveat_counts_and_places_the_units(demo):
    s, ds, scores, _ = demo
    text = narrative.written_report_caveat(scores, s)
    written = scores[~scores["presented"]]
    assert f"**{len(written)} units only submitted a written report**" in text
    ranks = written["rank"].astype(int)
    assert f"rank {ranks.min()}–{ranks.max()}" in text
    assert "not neutral" in text and "neither helps nor hurts" not in text
    # fewer written-report units: the sentence follows the table, it is not fixed text
    fewer = scores.copy()
    fewer.loc[written.index[:5], "presented"] = True
    assert f"**{len(written) - 5} units only" in narrative.written_report_caveat(fewer, s)
    assert "no on-site score is imputed" in narrative.written_report_caveat(scores.assign(presented=True), s)


def test_the_effective_weights_sentence_quotes_the_table(demo):
    s, ds, _, _ = demo
    ew = effective_weights(ds, s)
    text = narrative.effective_weights_summary(ew, ds, s)
    r = ew.set_index(["rank_group", "level", "item"]).loc[("department", "component", "routine")]
    assert f"{100 * r['variance_share']:.1f} % of the variance" in text
    assert "sit at the cap" in text


def test_what_moves_departments_is_the_routine_spread_not_a_zone_weight(demo):
    s, _, _, ev = demo
    sp = ev.spread().set_index(["kind", "component"])
    dept = sp.loc[("department", "routine")]
    assert dept["differentiated_sd"] > 2.5 * dept["uniform_sd"]  # capped attainment replaced by T-scores
    text = narrative.differentiated_moves(ev, s)
    assert "No zone of this kind overrides a weight" in text
    assert f"{dept['uniform_sd']:.2f} points under the uniform evaluation" in text


def test_the_vetting_sentence_follows_the_rule(demo):
    s, ds, _, ev = demo
    text = narrative.vetting_summary(ev, s)
    v = ev.objective[ev.objective["vetted"] != ""]
    assert text.startswith(f"{len(v)} of the") and "`vetting: reject`" in text
    flagged = dataclasses.replace(s, differentiated=dataclasses.replace(s.differentiated, vetting="flag"))
    assert "scored as they stand" in narrative.vetting_summary(evaluate(ds, flagged), flagged)


def test_the_small_zones_note_names_the_zones_below_the_minimum(demo):
    s, ds, _, ev = demo
    text = narrative.small_zones_note(ev, s, ds.units)
    assert "Capital core (2 districts) and Urban function extension (4 districts)." in text
    assert not re.search(r"Ecological conservation \(\d", text)
    none = dataclasses.replace(s, differentiated=dataclasses.replace(s.differentiated, min_zone_size=2))
    assert "every zone uses its own spread" in narrative.small_zones_note(evaluate(ds, none), none, ds.units)


def test_the_effective_weights_view_reads_as_a_document(demo):
    from perflab.narrative import effective_weights_view

    s, ds, _, _ = demo
    html = effective_weights_view(effective_weights(ds, s), "component", "en").to_html()
    assert "Share of the variance" in html and "variance_share" not in html  # headers in words
    assert "row_heading" not in html  # no row numbers
    assert "e-0" not in html and "e+0" not in html and "%" in html


def test_the_satisfaction_sentence_quotes_the_survey_and_names_the_districts_below_the_average(demo):
    from perflab.survey import satisfaction_summary, satisfaction_units

    s, ds, _, _ = demo
    summ, units = satisfaction_summary(ds, s), satisfaction_units(ds, s)
    names = ds.units.set_index("unit")["name_en"]
    text = narrative.satisfaction_sentence(summ, units, names, {z.id: z.name_en for z in s.zones})
    d = summ[(summ["level"] == "kind") & (summ["kind"] == "district")].iloc[0]
    assert f"averages {d['mean']:.2f} over 16 districts ({int(d['respondents']):,} respondents" in text
    assert "against the published 79.73" in text and "the seven districts below the average are" in text
    assert "Fengtai District" in text and "30 departments lie below the average" in text
    fewer = units.assign(below_mean=units["below_mean"] & (units["unit"] != "D05"))  # Fengtai no longer below
    assert "the six districts below" in narrative.satisfaction_sentence(summ, fewer, names)


def test_item_ids_become_words():
    assert narrative.items_in_words("pm25 -1.00; pm25_x +2", {"pm25": "PM2.5"}) == "PM2.5 -1.00; pm25_x +2"


def test_every_table_on_pages_10_and_20_reads_as_a_document():
    """Shown tables go through plots.tables.table (or the effective-weights view) with a caption; no print."""
    import nbformat
    from conftest import ROOT

    for page in ("10_scores", "20_differentiated"):
        code = "\n".join(
            c.source for c in nbformat.read(ROOT / "notebooks" / f"{page}.ipynb", 4).cells if c.cell_type == "code"
        )
        shown = re.findall(r"display\(\s*(\w+(?:\.\w+)*)\(", code)  # sentences go through page.say
        assert shown and set(shown) <= {"table", "Markdown", "effective_weights_view"}, (page, set(shown))
        assert "print(" not in code
        assert len(re.findall(r"\btable\(", code)) == code.count("caption=")  # every table captioned
        assert code.count("key=True") == 1 and code.count("plots.keep(") >= 3

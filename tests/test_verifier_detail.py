"""What the verifier reads, rendered without Qt: one registration as HTML, differences marked
against another version, a pending correction beside the version in force, the quota line."""

from __future__ import annotations

import subprocess
import sys

from storage.regions import load_regions
from ui.labels import t, term
from ui.verifier_detail import (
    Names,
    correction_html,
    detail_html,
    fields,
    flags,
    others_html,
    quota_text,
    saved_text,
)

DATA = {"full_name": "Siti Aminah", "nik": "1571014101900001", "birth_place": "Jambi",
        "birth_date": "1990-01-01", "sex": "P", "street": "Jl. Kapten Pattimura", "rt": "03",
        "rw": "01", "kelurahan_code": "", "kecamatan_code": "", "phone": "081234567890",
        "occupation_code": "OJK", "cohort": "pekerja_rentan", "monthly_income": 1500000,
        "heirs": [{"name": "Rina", "relationship": "anak", "phone": "0812"}],
        "consent_given": True, "consent_version": "v2", "event_id": "ev1",
        "notes": "<b>bukan tag</b>"}
REG = {"id": "r1", "status": "verified", "member_number": "", "data": DATA, "version": 2,
       "received_at": "2026-03-02T09:15:00+07:00", "full_name": "Siti Aminah"}
NAMES = Names(load_regions(), {"OJK": "Ojek"}, {"ev1": "Posyandu Mawar"})


def test_rendering_the_detail_needs_no_qt():
    code = "import sys, ui.verifier_detail; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_detail_shows_every_field_by_name_with_the_full_nik_escaped():
    shown = dict(fields(REG, NAMES))
    assert shown["nik"] == "1571014101900001"  # the verifier compares it with the documents
    assert shown["occupation"] == "Ojek" and shown["event"] == "Posyandu Mawar"
    assert shown["income"] == "Rp1.500.000"
    assert shown["heirs"] == f"Rina ({term('relationship', 'anak')}, 0812)"
    assert shown["consent"] == t("ver.consent_given", version="v2")
    page = detail_html(REG, NAMES)
    assert "&lt;b&gt;bukan tag&lt;/b&gt;" in page and "<b>bukan tag</b>" not in page
    assert "✎" not in page  # nothing to compare with: nothing marked
    assert t("ver.history") not in page


def test_differences_are_marked_but_never_the_version_or_the_time_received():
    other = {**REG, "version": 3, "received_at": "2026-03-05T10:00:00+07:00",
             "data": {**DATA, "phone": "089999"}}
    page = detail_html(other, NAMES, compare=REG, title="Lain")
    assert page.count("✎") == 1 and "✎ 089999" in page
    assert page.startswith("<h3>Lain</h3>")


def test_the_history_lists_each_event_with_its_reason():
    events = [{"event": "verified", "at": "2026-03-03T08:00:00+07:00", "by": "sari"},
              {"event": "rejected", "at": "", "by": "sari", "reason": "<KK>"}]
    page = detail_html(REG, NAMES, events=events)
    assert t("ver.history") in page and page.count("<li>") == 2
    assert " — &lt;KK&gt;" in page


def test_a_correction_stands_beside_the_version_in_force_with_its_changes_named():
    correction = {"version": 3, "data": {**DATA, "phone": "089999"}, "changed": ["phone"]}
    left, right = correction_html(REG, correction, [], NAMES)
    assert t("ver.in_force", version=2) in left and "✎ 081234567890" in left
    assert t("ver.pending", version=3) in right and "✎ 089999" in right
    assert t("ver.changed") in right


def test_without_duplicates_the_other_side_says_so():
    assert t("ver.no_duplicates") in others_html(REG, [], [], NAMES)
    conflict = {"version": 5, "data": DATA, "received_at": ""}
    page = others_html(REG, [], [conflict], NAMES)
    assert t("ver.conflicting", version=5) in page


def test_the_quota_line_per_cohort_and_shared():
    cohorts = [{"cohort": "pekerja_rentan", "left": 1200, "places": 5000, "funded": 3800},
               {"cohort": "petugas_keagamaan", "left": 10, "places": 100, "funded": 90}]
    per_cohort = quota_text({"programme_year": 2026, "cohorts": cohorts})
    assert "1.200" in per_cohort and "5.000" in per_cohort and "2026" in per_cohort
    shared = quota_text({"programme_year": 2026,
                         "cohorts": [{**c, "shared": True, "left": 7, "places": 9}
                                     for c in cohorts]})
    assert shared.count("9") >= 1 and "3.800" in shared


def test_flags_and_the_saved_message():
    assert flags({"conflict": True}) == t("ver.flag.conflict")
    assert flags({}) == ""
    funded = {"full_name": "Siti", "status": "funded", "member_number": "JMB-1"}
    assert t("ver.saved_member", number="JMB-1") in saved_text(funded)
    assert "JMB-1" not in saved_text({**funded, "status": "verified"})

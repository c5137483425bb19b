"""The *Klaim & PDP* tab's texts from the server's answers, without Qt."""

from __future__ import annotations

from ui.claims_text import claim_text, heir_label, kpj_report, result_line, summary_html
from ui.labels import t, term

REG = {"full_name": "Siti", "nik_masked": "157101******0001", "status": "died",
       "status_reason": "", "member_number": "JMB-26-000001",
       "data": {"heirs": [{"name": "Rina", "relationship": "anak"}, {"name": "Ali"}]}}
CLAIM = {"stage": "paid", "died_on": "2026-02-01", "claimant_name": "Rina",
         "amount": 42_000_000, "checklist": [{"code": "a", "checked": True},
                                             {"code": "b", "checked": False}]}


def test_the_summary_names_the_heirs_and_never_a_full_nik():
    page = summary_html(REG)
    assert "157101******0001" in page and "JMB-26-000001" in page
    assert f"Rina ({term('relationship', 'anak')})" in page and "Ali ()" in page
    assert heir_label({"name": "Ali"}) == "Ali ()"
    assert t("claims.member_number", number="—") in summary_html({})


def test_the_summary_says_the_status_once_when_the_reason_repeats_it():
    died = term("status", "died")
    page = summary_html({**REG, "status_reason": f"{died} dunia 01-12-2026"})
    assert f"· {died} dunia 01-12-2026" in page and f"{died} {died}" not in page
    page = summary_html({**REG, "status": "inactive", "status_reason": "Pindah domisili"})
    assert f"{term('status', 'inactive')} Pindah domisili" in page


def test_the_claim_line_counts_documents_and_shows_the_amount():
    line = claim_text(CLAIM)
    assert "Rp42.000.000" in line and t("claims.claim_claimant", name="Rina") in line
    assert t("claims.stage.paid") in line
    assert claim_text(None) == t("claims.no_death")
    assert "Rp" not in claim_text({**CLAIM, "amount": 0, "claimant_name": ""})


def test_a_result_line_and_the_kpj_report():
    assert result_line({"full_name": "Siti", "nik_masked": "1571******01", "status": "funded",
                        "member_number": ""}) == f"Siti · 1571******01 · {term('status', 'funded')}"
    report = kpj_report({"rows": 2, "taken": 1, "unchanged": 0, "refused": [
        {"line": 2, "nik_masked": "", "member_number": "", "kpj": "", "message": "tidak ada"}]})
    lines = report.splitlines()
    assert len(lines) == 2 and "tidak ada" in lines[1] and "-" in lines[1]

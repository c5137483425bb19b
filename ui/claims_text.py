"""What the *Klaim & PDP* tab writes, from the server's answers: the registration's summary,
the claim's line (stage, day of death, documents, claimant, amount paid) and the report of a KPJ
answer. Pure functions of data and the labels, no Qt."""

from __future__ import annotations

from ui.labels import TEXT, t, term
from ui.timefmt import format_date


def rupiah(amount: int | None) -> str:
    return f"Rp{amount or 0:,}".replace(",", ".")


def heir_label(heir: dict) -> str:
    """ "Rina (anak)": how an heir is named in the summary and among the claimants."""
    code = heir.get("relationship") or ""
    return f"{heir['name']} ({term('relationship', code) if code else ''})"


def stage(claim: dict) -> str:
    """The claim's stage in the window's language (the server's label for one unknown here)."""
    key = f"claims.stage.{claim.get('stage', '')}"
    return t(key) if key in TEXT else claim.get("stage_label", "")


def summary_html(reg: dict) -> str:
    """The registration chosen: name, masked NIK, status, member number and heirs."""
    heirs = (reg.get("data") or {}).get("heirs") or []
    status = term("status", reg.get("status", ""))
    named = ", ".join(heir_label(h) for h in heirs) or "—"
    reason = reg.get("status_reason") or ""
    # The server's reason for a death already begins with the status ("Meninggal dunia …"):
    # said once, not "Meninggal Meninggal dunia …".
    said = reason if status and reason.lower().startswith(status.lower()) else \
        f"{status} {reason}".strip()
    return "".join([f"<h3>{reg.get('full_name', '')}</h3>",
                    f"NIK {reg.get('nik_masked', '')} · {said}",
                    f"<br>{t('claims.member_number', number=reg.get('member_number') or '—')}",
                    f"<br>{t('claims.heirs', heirs=named)}"])


def claim_text(claim: dict | None) -> str:
    """Where the claim stands, or that no death is recorded."""
    if claim is None:
        return t("claims.no_death")
    done = sum(1 for d in claim["checklist"] if d["checked"])
    text = t("claims.claim_line", stage=stage(claim), day=format_date(claim["died_on"]),
             done=done, total=len(claim["checklist"]))
    if claim["claimant_name"]:
        text += t("claims.claim_claimant", name=claim["claimant_name"])
    if claim["amount"]:
        text += t("claims.claim_paid", amount=rupiah(claim["amount"]))
    return text


def result_line(item: dict) -> str:
    """One registration in the search's results (masked NIK only)."""
    status = term("status", item["status"])
    member = f" · {item['member_number']}" if item["member_number"] else ""
    return f"{item['full_name']} · {item['nik_masked']} · {status}{member}"


def kpj_report(done: dict) -> str:
    """BPJS's answer taken in: counts, then each refused row with why (never guessed)."""
    lines = [t("claims.kpj_done", rows=done["rows"], taken=done["taken"],
               unchanged=done["unchanged"], refused=len(done["refused"]))]
    for item in done["refused"]:
        who = item["nik_masked"] or item["member_number"] or "-"
        lines.append(t("claims.kpj_refused", line=item["line"], who=who,
                       kpj=item["kpj"] or "-", message=item["message"]))
    return "\n".join(lines)

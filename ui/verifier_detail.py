"""What the verifier reads, rendered from the server's answers: one registration as an HTML
table (values that differ from another version marked), the places left per cohort, a
registration's status and flags. Pure functions of data and the labels: no widget, no Qt, so
each is tested on its own; the panel (ui/verifier_panel.py) only puts the text on screen.

The detail shows the full NIK: the verifier must compare it with the documents; lists never
show it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from storage.models import Status
from ui.labels import TEXT, t, term
from ui.timefmt import format_date, format_time

UNMARKED = frozenset({"version", "received"})  # bookkeeping, never a change to mark
MARK = "<b style='color:#b00020'>✎ {}</b>"  # red and ✎: the mark never rests on colour alone


@dataclass
class Names:
    """What codes become names with: regions (storage.regions), occupations and kegiatan."""

    regions: Any
    occupations: dict[str, str] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)

    def kelurahan(self, code: str) -> str:
        kel = self.regions.kelurahan(code or "")
        return kel.name if kel else code or ""

    def kecamatan(self, code: str) -> str:
        kec = self.regions.kecamatan(code or "")
        return kec.name if kec else code or ""

    def occupation(self, code: str) -> str:
        return self.occupations.get(code or "", "") or code or ""

    def event(self, event_id: str, named: str = "") -> str:
        return named or self.events.get(event_id or "", event_id or "")


def detail_html(reg: dict, names: Names, *, compare: dict | None = None,
                events: list[dict] | None = None, title: str = "") -> str:
    """One registration as a table; values that differ from `compare` are marked. The server's
    bookkeeping (version, time received) is never marked: it always differs."""
    other = dict(fields(compare, names)) if compare else {}
    out = [f"<h3>{title or t('ver.this')}</h3><table cellspacing='2'>"]
    for name, value in fields(reg, names):
        differs = compare is not None and name not in UNMARKED and other.get(name) != value
        shown = html.escape(value) or "—"
        label = html.escape(t(f"ver.d.{name}"))
        out.append(f"<tr><td><i>{label}</i></td>"
                   f"<td>{MARK.format(shown) if differs else shown}</td></tr>")
    out.append("</table>")
    out.append(history_html(events or []))
    return "".join(out)


def history_html(events: list[dict]) -> str:
    """The registration's history, oldest first, as the server keeps it."""
    if not events:
        return ""
    out = [f"<p><b>{t('ver.history')}</b></p><ul>"]
    for e in events:
        why = f" — {html.escape(e['reason'])}" if e.get("reason") else ""
        event = e.get("event", "")
        what = t(f"ver.event.{event}") if f"ver.event.{event}" in TEXT else event
        line = t("ver.history_line", when=format_time(e.get("at")), what=what,
                 who=e.get("by", ""))
        out.append(f"<li>{html.escape(line)}{why}</li>")
    out.append("</ul>")
    return "".join(out)


def fields(reg: dict, names: Names) -> list[tuple[str, str]]:
    """The registration as (field, value) pairs, each field titled by "ver.d.<field>"."""
    data = reg.get("data") or {}
    return [
        ("status", status_text(reg)),
        ("member", reg.get("member_number") or ""),
        ("name", data.get("full_name", "")),
        ("nik", data.get("nik", "")),
        ("born", f"{data.get('birth_place', '')}, {format_date(data.get('birth_date'))}"),
        ("sex", t(f"sex.{data['sex']}") if data.get("sex") in ("L", "P") else ""),
        ("address", f"{data.get('street', '')} RT {data.get('rt', '')}/RW {data.get('rw', '')}"),
        ("kelurahan", names.kelurahan(data.get("kelurahan_code", ""))),
        ("kecamatan", names.kecamatan(data.get("kecamatan_code", ""))),
        ("phone", data.get("phone", "")),
        ("occupation", names.occupation(data.get("occupation_code", ""))),
        ("cohort", term("cohort", data.get("cohort", ""))),
        ("income", rupiah(data.get("monthly_income"))),
        ("heirs", "; ".join(heir_text(h) for h in data.get("heirs") or [])),
        ("consent", t("ver.consent_given", version=data.get("consent_version", ""))
         if data.get("consent_given") else t("ver.consent_missing")),
        ("event", names.event(data.get("event_id") or "", reg.get("event_name") or "")),
        ("notes", data.get("notes", "")),
        ("received", format_time(reg.get("received_at"))),
        ("version", str(reg.get("version", ""))),
    ]


def others_html(detail: dict, duplicates: list[dict], conflicts: list[dict],
                names: Names) -> str:
    """Beside the registration: each possible duplicate and conflicting version, marked
    against it (or a line saying there is none)."""
    others = [detail_html(d, names, compare=detail, title=t("ver.possible_duplicate"))
              for d in duplicates]
    others += [detail_html(conflict_as_detail(c), names, compare=detail,
                           title=t("ver.conflicting", version=c["version"]))
               for c in conflicts]
    return "".join(others) or f"<p><i>{t('ver.no_duplicates')}</i></p>"


def correction_html(current: dict, correction: dict, events: list[dict],
                    names: Names) -> tuple[str, str]:
    """The version in force (left) and the pending correction (right), changed fields marked
    on both sides."""
    pending = pending_as_detail(current, correction)
    changed = changed_labels(list(correction.get("changed") or []))
    heading = f"<p><b>{t('ver.changed')}</b> {html.escape(', '.join(changed) or '—')}</p>"
    left = detail_html(current, names, compare=pending, events=events,
                       title=t("ver.in_force", version=current.get("version", "")))
    right = detail_html(pending, names, compare=current,
                        title=t("ver.pending", version=correction.get("version", "")))
    return left, heading + right


def changed_labels(changed: list[str]) -> list[str]:
    """The changed fields as the verifier reads them, each once, in the order given."""
    out: list[str] = []
    for name in changed:
        key = f"corr.field.{name}"  # Registration.to_dict() keys → what the verifier reads
        label = t(key) if key in TEXT else name
        if label not in out:
            out.append(label)
    return out


def pending_as_detail(current: dict, correction: dict) -> dict:
    """The pending version in the shape `fields` reads (the status and member number are the
    registration's: a correction never changes them)."""
    return {**current, "data": correction.get("data") or {},
            "version": correction.get("version", ""),
            "received_at": correction.get("received_at", "")}


def conflict_as_detail(conflict: dict) -> dict:
    """A conflicting version in the shape `fields` reads."""
    return {"data": conflict.get("data") or {}, "version": conflict.get("version", ""),
            "received_at": conflict.get("received_at", ""), "status": "",
            "member_number": ""}


def heir_text(heir: dict) -> str:
    """ "Rina (istri, 0812…, NIK …)": every part of an heir, so a changed phone or NIK shows."""
    parts = [term("relationship", heir.get("relationship") or "")]
    parts += [heir[k] for k in ("phone", "nik") if heir.get(k)]
    return f"{heir.get('name', '')} ({', '.join(p for p in parts if p)})"


def rupiah(amount: int | None) -> str:
    return f"Rp{amount:,}".replace(",", ".") if amount else ""


def number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Indonesian thousands separator


def quota_text(answer: dict) -> str:
    """Places left per cohort; a quota shared by every cohort is shown once."""
    cohorts = answer.get("cohorts", [])
    year = answer.get("programme_year", "")
    if cohorts and all(c.get("shared") for c in cohorts):
        first = cohorts[0]
        funded = " · ".join(f"{cohort_of(c)} {number(c['funded'])}" for c in cohorts)
        return t("ver.quota_shared", year=year, left=number(first["left"]),
                 places=number(first["places"]), funded=funded)
    parts = [t("ver.quota_cohort", cohort=cohort_of(c), left=number(c["left"]),
               places=number(c["places"])) for c in cohorts]
    return t("ver.quota", year=year, parts=" · ".join(parts))


def cohort_of(quota: dict) -> str:
    """A quota's cohort in the window's language (the server's label for one it names alone)."""
    return term("cohort", quota["cohort"], quota.get("label") or quota["cohort"])


def status_text(item: dict, *, lower: bool = False) -> str:
    """The status in the window's language; a rejection with the server's reason."""
    status = item.get("status", "")
    text = term("status", status)
    text = text.lower() if lower else text
    if status == Status.REJECTED.value and item.get("status_reason"):
        text += f": {item['status_reason']}"
    return text


def flags(item: dict) -> str:
    """What the list marks on a summary: possible duplicate, conflict, correction waiting."""
    names = (("possible_duplicate", "ver.flag.duplicate"), ("conflict", "ver.flag.conflict"),
             ("correction_pending", "ver.flag.correction"))
    return ", ".join(t(label) for key, label in names if item.get(key))


def saved_text(reg: dict) -> str:
    """What the panel says after a decision (only the status word is lower-cased; the
    verifier's note stays as typed)."""
    text = t("ver.saved", name=reg["full_name"], status=status_text(reg, lower=True))
    if reg.get("member_number") and reg["status"] == Status.FUNDED.value:
        text += t("ver.saved_member", number=reg["member_number"])
    return text

"""The verifier's confirmations: a decision is asked once more, in the window's language, with the safe
answer (*Batal*) as the default, so Enter or Esc never funds, rejects or resolves by accident.

The texts name the registration (name and masked NIK, never the full NIK) and repeat what the
verifier chose exactly as typed: a note is never lower-cased or shortened.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from storage.models import mask_nik
from ui.labels import t


def ask(parent: QWidget | None, title: str, text: str, yes_label: str) -> bool:
    """A question with two buttons, `yes_label` and *Batal*; *Batal* is the default and the
    escape button. True only when the verifier clicked `yes_label`."""
    box = make_box(parent, title, text, yes_label)
    box.exec()
    return box.clickedButton() is box.yes_button


def make_box(parent: QWidget | None, title: str, text: str, yes_label: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton,
                      parent)
    box.setObjectName("verifier_confirm")
    yes = box.addButton(yes_label, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(t("confirm.cancel"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.yes_button = yes  # what ask() compares the click with
    return box


def who(reg: dict) -> str:
    """ "Siti Aminah (NIK 157101******0001)" from a Detail or Summary of the server."""
    data = reg.get("data") or {}
    name = reg.get("full_name") or data.get("full_name") or "?"
    masked = reg.get("nik_masked") or (mask_nik(data["nik"]) if data.get("nik") else "")
    return f"{name} (NIK {masked})" if masked else name


def fund_text(reg: dict) -> str:
    return t("confirm.fund", who=who(reg))


def reject_text(reg: dict, reason_label: str, note: str) -> str:
    lines = [t("confirm.reject", who=who(reg)), "", t("confirm.reason", reason=reason_label)]
    lines.append(t("confirm.note", note=note) if note else t("confirm.no_note"))
    lines += ["", t("confirm.enumerator_sees")]
    return "\n".join(lines)


def duplicate_text(kept: dict, others: list[dict]) -> str:
    lines = [t("confirm.keep", who=who(kept)), ""]
    if others:
        lines.append(t("confirm.rejected_as_duplicates"))
        lines += [f"• {who(other)}" for other in others]
    return "\n".join(lines)


def conflict_text(reg: dict, kept_label: str) -> str:
    return t("confirm.conflict", who=who(reg), kept=kept_label)


def correction_text(reg: dict, approve: bool, changed: list[str], reason: str = "") -> str:
    fields = ", ".join(changed) or "—"
    if approve:
        return t("confirm.approve_correction", who=who(reg), fields=fields)
    return t("confirm.reject_correction", who=who(reg), fields=fields, reason=reason)

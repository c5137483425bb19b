"""The registration form's consent and kegiatan, mixed into the form.

The consent statement in force comes from the programme configuration and can be read from the
form. The kegiatan list follows every write (a sync's pull, the demo, another window) and keeps
the chosen kegiatan; choosing one, or making a new one, moves the device's current kegiatan,
which the next new registration starts with.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtWidgets import QInputDialog, QMessageBox

from ui.combos import choices, refill
from ui.form_fields import format_date
from ui.labels import t


def consent_info(config: Any) -> tuple[str, str]:
    """(version, text) of the consent statement currently in force, from the programme config."""
    consent = getattr(config, "consent", None) or getattr(config, "current_consent", None)
    if callable(consent):
        consent = consent()
    if consent is None:
        return "", ""
    return getattr(consent, "version", ""), getattr(consent, "text", "")


def _add_event(registry: Any, name: str, kelurahan: str) -> Any:
    event = registry.add_event(name, date.today(), kelurahan)
    registry.set_setting("current_event_id", event.id)
    return event


class EventAndConsent:
    """The kegiatan list and the consent text (the form's `event`, `_reader`, `_worker`)."""

    def _load_events(self, select: str | None = None) -> None:
        current = select if select is not None else (
            self._editing.event_id if self._editing else self._setting("current_event_id"))
        items = [(t("event.none"), "")] + [
            (ev.name + (f" ({format_date(ev.held_on)})" if ev.held_on else ""), ev.id)
            for ev in self._reader.events()]
        if items != choices(self.event):  # rebuilt only when it changed: an open list stays
            refill(self.event, items)
        self.event.setCurrentIndex(max(self.event.findData(current or ""), 0))

    def reload_events(self) -> None:
        """Kegiatan made elsewhere (pull, the demo, another window) join the list; the chosen
        one stays chosen (none chosen yet: the device's current kegiatan, if one is set)."""
        chosen = self.event.currentData() or ""
        self._load_events(select=chosen or None if self._editing is None else chosen)

    def _event_chosen(self, _index: int) -> None:
        self._user_changed("event")
        if self._editing is None:  # only new registrations move the current event
            event_id = self.event.currentData() or ""
            self._worker.call(lambda r, v: r.set_setting("current_event_id", v), event_id)

    def _new_event(self) -> None:
        name, ok = QInputDialog.getText(self, t("event.new.title"), t("event.new.prompt"))
        name = " ".join(name.split())
        if not ok or not name:
            return
        kelurahan = self.kelurahan.currentData() or ""
        self._worker.call(_add_event, name, kelurahan, on_result=self._event_created,
                          on_error=self._show_error)

    def _event_created(self, event: Any) -> None:
        self._load_events(select=event.id)
        self._user_changed("event")
        self.event.setFocus()

    def _show_consent_text(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(t("consent.title"))
        box.setText(t("consent.version", version=self._consent_version or "—"))
        box.setInformativeText(self._consent_text or t("consent.missing"))
        box.exec()

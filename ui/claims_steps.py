"""What the *Klaim & PDP* tab's buttons do: the claim's steps (death, claimant, documents,
submission, payment, hand-over), the PDP requests (copy, withdrawal, erasure) and the BPJS file
(export, KPJ answer). Each names the operator logged in to the window, read here on the main
thread; the request itself runs on the panel's pool. Death, withdrawal and erasure are asked
once more with *Batal* as the default (ui/verifier_confirm.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from storage.vocabulary import show_date
from sync import claims as office
from ui import verifier_confirm
from ui.claims_sections import day
from ui.claims_text import kpj_report, stage
from ui.labels import t
from ui.timefmt import format_date


class ClaimSteps:
    """The steps on the registration shown (and the BPJS file, on none), mixed into
    ClaimsPanel: each reads the panel's inputs, asks, and sends through its requests."""

    def _ask(self, what: str, yes: str) -> bool:
        """The step's question, naming the registration by name and masked NIK."""
        text = t(f"claims.confirm.{what}", who=verifier_confirm.who(self.detail),
                 day=show_date(day(self.died_on)))
        return self.confirm(t(f"claims.ask.{what}"), text, t(f"claims.yes.{yes}"))

    # --- the claim ---------------------------------------------------------------------------

    def _claim_step(self, fn: Callable, *args: Any, **kw: Any) -> None:
        """Send one claim step; the answer is the claim, shown at once."""
        panel = self
        panel.say(t("claims.sending"))
        operator, record_id = panel.operator(), panel.detail["id"]

        def call(client):
            return fn(client, record_id, *args, operator=operator, **kw)

        panel.run("step", call, on_done=self._stepped)

    def _stepped(self, claim: dict) -> None:
        self.say(t("claims.saved", stage=stage(claim)))
        self.open(self.detail["id"])

    def record_death(self) -> None:
        panel = self
        if not panel.guard():
            return
        fields = (panel.death_place.text().strip(), panel.certificate_no.text().strip(),
                  panel.reported_by.text().strip())
        if not all(fields):
            panel.say(t("claims.fill_death"), error=True)
            return
        if self._ask("death", "record"):
            self._claim_step(office.record_death, panel.detail["revision"],
                             died_on=day(panel.died_on), place=fields[0],
                             certificate_no=fields[1], reported_by=fields[2])

    def choose_claimant(self) -> None:
        panel = self
        if not panel.guard():
            return
        position = panel.claimant_combo.currentData()
        if position is not None:
            self._claim_step(office.choose_claimant, heir_position=int(position))
            return
        self._claim_step(office.choose_claimant, name=panel.other_name.text(),
                         relationship=panel.other_relationship.currentData(),
                         reason=panel.other_reason.toPlainText())

    def save_documents(self) -> None:
        boxes = self.document_boxes
        if self.guard():
            self._claim_step(office.check_documents,
                             {code: box.isChecked() for code, box in boxes.items()})

    def submit(self) -> None:
        if self.guard():
            self._claim_step(office.submit_claim, submitted_on=day(self.submitted_on),
                             reference=self.reference.text().strip())

    def paid(self) -> None:
        if self.guard():
            self._claim_step(office.claim_paid, paid_on=day(self.paid_on),
                             amount=self.amount.value())

    def handed_over(self) -> None:
        if self.guard():
            self._claim_step(office.claim_handed_over, handed_over_on=day(self.handed_on),
                             received_by=self.received_by.text().strip())

    # --- PDP ---------------------------------------------------------------------------------

    def make_copy(self) -> None:
        panel = self
        if not panel.guard():
            return
        path = panel.ask_save_path(t("claims.copy_title"), t("claims.copy_name"))
        if not path:
            return
        operator, record_id = panel.operator(), panel.detail["id"]

        def call(client):
            Path(path).write_bytes(office.pdp_copy(client, record_id, operator=operator))
            return path

        panel.run("copy", call, on_done=lambda p: panel.say(t("claims.copy_saved", path=p)))

    def withdraw(self) -> None:
        panel = self
        if not panel.guard() or not self._ask("withdraw", "record"):
            return
        received_on = day(panel.withdraw_on)
        operator, record_id = panel.operator(), panel.detail["id"]
        revision = panel.detail["revision"]
        panel.run("withdraw", lambda client: office.withdraw_consent(
            client, record_id, revision, received_on=received_on, operator=operator),
            on_done=lambda r: (panel.say(t("claims.withdrawn", day=format_date(r["ends_on"]))),
                               panel.open(record_id)))

    def erase(self) -> None:
        panel = self
        if not panel.guard() or not self._ask("erase", "erase"):
            return
        operator, record_id = panel.operator(), panel.detail["id"]
        panel.run("erase", lambda client: office.erase(client, record_id, operator=operator),
                  on_done=lambda _r: (panel.say(t("claims.erased")), panel.open(record_id)))

    # --- the BPJS file -----------------------------------------------------------------------

    def _may_or_say(self) -> bool:
        if self.may_act():
            return True
        self.say(t("claims.not_allowed"), error=True)
        return False

    def export(self, since_last: bool) -> None:
        panel = self
        if not self._may_or_say():
            return
        name = t("claims.export_name_delta" if since_last else "claims.export_name_full",
                 day=f"{date.today():%Y-%m-%d}")
        path = panel.ask_save_path(t("claims.export_title"), name)
        if not path:
            return
        operator = panel.operator()

        def call(client):
            done = office.bpjs_export(client, operator=operator, since_last=since_last)
            Path(path).write_bytes(done.content)
            return done.headers.get("x-export-rows", "0"), done.sha256

        panel.run("export", call, on_done=lambda r: panel.bpjs_report.setPlainText(
            t("claims.exported", path=path, rows=r[0], sha=r[1])))

    def import_kpj(self) -> None:
        panel = self
        if not self._may_or_say():
            return
        path = panel.ask_open_path(t("claims.kpj_title"))
        if not path:
            return
        operator = panel.operator()
        panel.run("kpj", lambda client: office.kpj_import(client, path, operator=operator),
                  on_done=lambda done: panel.bpjs_report.setPlainText(kpj_report(done)))

"""What an online tab (the verifier's, *Klaim & PDP*) needs of the server: this device's client
once it is enrolled, requests on the tab's own pool (ui/tasks.py: only the latest request of a
kind is answered), and the tab's message line, where answers and failures are said."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from sync.client import SyncClient, SyncError
from ui.labels import t
from ui.session import Session, session_of
from ui.tasks import Tasks


class ServerLink:
    """`ServerLink(tab, message, texts)`; `texts` names the tab's labels ("ver", "claims") for
    "<texts>.not_enrolled" and "<texts>.failed"."""

    def __init__(self, tab: QWidget, message: QLabel, texts: str):
        self.message = message
        self.texts = texts
        self.client: SyncClient | None = None
        self.calls = Tasks(tab, on_error=self.show_error)  # latest request of a kind wins

    def use(self, client: SyncClient | None) -> bool:
        """Ask through `client` from now on (the one before is closed); False, and said, when
        this device is not enrolled."""
        if self.client is not None:
            self.client.close()
        self.client = client
        if client is None:
            self.say(t(f"{self.texts}.not_enrolled"), error=True)
        return client is not None

    def run(self, kind: str, fn: Callable, *args: Any, on_done: Callable,
            on_error: Callable | None = None) -> None:
        """`fn(client, *args)` on the pool; only the latest request of a kind is answered."""
        if self.client is None:
            self.say(t(f"{self.texts}.not_enrolled"), error=True)
            return
        self.calls.run(fn, self.client, *args, kind=kind, on_result=on_done,
                       on_error=on_error)

    def show_error(self, exc: BaseException) -> None:
        if isinstance(exc, SyncError):
            self.say(exc.message, error=True)
        else:
            self.say(t(f"{self.texts}.failed", kind=type(exc).__name__), error=True)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)

    def busy(self) -> bool:
        return self.calls.busy()

    def shutdown(self) -> None:
        self.calls.wait()
        if self.client is not None:
            self.client.close()


class OnlineTab:
    """Mixed into an online tab that keeps its ServerLink as `link`: the tab's own names for
    the link's client, requests and message line (its steps and the tests use them)."""

    link: ServerLink
    who_label: QLabel
    _session: Session | None  # given to the tab, else the window's (found through the parents)

    def session(self) -> Session | None:
        return self._session or session_of(self)

    def show_who(self) -> None:
        """Who acts in this tab: the operator logged in to the window, shown, never typed."""
        session, texts = self.session(), self.link.texts
        if session is None or session.operator is None:
            self.who_label.setText(t(f"{texts}.not_logged_in"))
        else:
            self.who_label.setText(t(f"{texts}.who", name=session.display_name,
                                     username=session.username))

    @property
    def client(self) -> SyncClient | None:
        return self.link.client

    def run(self, kind: str, fn: Callable, *args: Any, on_done: Callable,
            on_error: Callable | None = None) -> None:
        self.link.run(kind, fn, *args, on_done=on_done, on_error=on_error)

    def show_error(self, exc: BaseException) -> None:
        self.link.show_error(exc)

    def say(self, text: str, *, error: bool = False) -> None:
        self.link.say(text, error=error)

    def busy(self) -> bool:
        return self.link.busy()

    def shutdown(self) -> None:
        self.link.shutdown()

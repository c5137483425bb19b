"""ui/tasks.py: network work on a pool (the latest request of a kind wins), long work with
progress and cancel, answers on the main thread, and jobs that take values, never widgets."""

import threading

import pytest
from PySide6.QtWidgets import QLabel

from ui.db_worker import DbWorker
from ui.tasks import LongRun, Tasks, check_job, to_main


class FakeRegistry:
    def close(self):
        pass


@pytest.fixture
def worker(qtbot):
    w = DbWorker(FakeRegistry)
    w.start()
    yield w
    w.shutdown()


def test_a_job_runs_off_the_main_thread_and_answers_on_it(qtbot):
    tasks = Tasks()
    main = threading.get_ident()
    seen = {}

    def job(value):
        seen["job"] = threading.get_ident()
        return value + 1

    def answered(result):
        seen["result"], seen["answer"] = result, threading.get_ident()

    tasks.run(job, 41, on_result=answered)
    qtbot.waitUntil(lambda: "result" in seen, timeout=3000)
    assert seen == {"job": seen["job"], "result": 42, "answer": main}
    assert seen["job"] != main
    assert not tasks.busy()


def test_only_the_latest_request_of_a_kind_is_answered(qtbot):
    tasks = Tasks(threads=2)
    gate = threading.Event()
    answers = []

    def slow(value):
        gate.wait(3)
        return value

    tasks.run(slow, "old page", kind="page", on_result=answers.append)
    tasks.run(lambda v: v, "new page", kind="page", on_result=answers.append)
    tasks.run(lambda v: v, "detail", kind="detail", on_result=answers.append)
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=3000)
    gate.set()
    qtbot.waitUntil(lambda: not tasks.busy(), timeout=3000)
    assert sorted(answers) == ["detail", "new page"]  # the older page's answer was dropped


def test_errors_go_to_on_error_or_the_pools_handler(qtbot):
    shown = []
    tasks = Tasks(on_error=lambda exc: shown.append(("pool", str(exc))))

    def boom(text):
        raise ValueError(text)

    tasks.run(boom, "a", on_error=lambda exc: shown.append(("own", str(exc))))
    tasks.run(boom, "b")
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=3000)
    assert sorted(shown) == [("own", "a"), ("pool", "b")]


def test_jobs_never_take_widgets(qtbot):
    label = QLabel("NIK")
    qtbot.addWidget(label)
    tasks = Tasks()
    with pytest.raises(TypeError):
        tasks.run(lambda w: w.text(), label)
    with pytest.raises(TypeError):
        tasks.run(label.text)
    with pytest.raises(TypeError):
        check_job(lambda: label.text())  # a widget caught in a closure
    text = label.text()  # read on the main thread: the value goes
    check_job(lambda: text.upper())


def test_the_database_worker_refuses_widgets_too(qtbot, worker):
    label = QLabel("x")
    qtbot.addWidget(label)
    with pytest.raises(TypeError):
        worker.call(lambda registry: label.setText("y"))


def test_to_main_runs_later_on_the_main_thread(qtbot):
    main = threading.get_ident()
    seen = []
    thread = threading.Thread(target=lambda: to_main(lambda v: seen.append(
        (v, threading.get_ident())), "hi"))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    assert seen == [("hi", main)]


def test_a_long_run_reports_progress_and_its_result(qtbot):
    def job(n, progress):
        for i in range(n):
            progress(i + 1, n)
        return "done"

    steps = []
    run = LongRun(job, 5, start=False)
    run.progress.connect(lambda done, total, phase: steps.append((done, total)))
    with qtbot.waitSignal(run.finished, timeout=3000) as blocker:
        run.start()
    assert blocker.args == ["done"]
    assert steps == [(i, 5) for i in range(1, 6)]


def test_a_long_run_without_a_cancel_flag_stops_at_its_next_step(qtbot):
    started, go_on, reached = threading.Event(), threading.Event(), []

    def job(progress):
        started.set()
        go_on.wait(3)
        reached.append("after cancel")
        progress(1, 2)  # raises: the run was cancelled
        reached.append("never")

    run = LongRun(job)
    assert started.wait(3)
    with qtbot.waitSignal(run.finished, timeout=3000) as blocker:
        run.cancel()
        go_on.set()
    assert blocker.args == [None] and run.cancelled
    assert reached == ["after cancel"]
    assert run.wait(1)


def test_a_long_run_with_a_cancel_flag_ends_its_own_way(qtbot):
    def job(progress, cancel):
        cancel.wait(3)
        progress(1, 2, "push")  # does not raise: the job checks its flag itself
        return "stopped cleanly" if cancel.is_set() else "ran out"

    phases = []
    run = LongRun(job)
    run.progress.connect(lambda done, total, phase: phases.append(phase))
    with qtbot.waitSignal(run.finished, timeout=3000) as blocker:
        run.cancel()
    assert blocker.args == ["stopped cleanly"]
    assert phases == ["push"]  # queued before the end, so reported before it


def test_a_long_run_given_the_worker_is_database_work_on_the_writer(qtbot, worker):
    threads = {}

    def job(registry, progress):
        threads["job"] = threading.current_thread().name
        progress(1, 1)
        return type(registry).__name__

    with qtbot.waitSignal(worker.changed, timeout=3000):
        run = LongRun(job, worker=worker)
    assert run.done
    threads["main"] = threading.current_thread().name
    assert threads["job"] != threads["main"]


def test_a_long_run_hands_its_failure_to_the_main_thread(qtbot):
    def job(progress):
        raise OSError("disk full")

    run = LongRun(job, start=False)
    with qtbot.waitSignal(run.failed, timeout=3000) as blocker:
        run.start()
    assert str(blocker.args[0]) == "disk full"


def test_via_network_keeps_the_writer_free_while_the_request_waits(qtbot, worker):
    gate, threads, kept = threading.Event(), {}, []

    def plan(registry, code):
        threads["plan"] = threading.get_ident()
        return code.upper()

    def ask(planned):
        threads["ask"] = threading.get_ident()
        gate.wait(3)  # the server is slow
        return planned + "!"

    def keep(registry, planned, answer):
        threads["keep"] = threading.get_ident()
        return (planned, answer)

    tasks = Tasks()
    tasks.via_network(worker, plan, ask, keep, "abc", on_result=kept.append)
    qtbot.waitUntil(lambda: "ask" in threads, timeout=3000)
    other = []
    worker.call(lambda registry: "saved", on_result=other.append)  # a save meanwhile
    qtbot.waitUntil(lambda: other == ["saved"], timeout=3000)  # not behind the network
    gate.set()
    qtbot.waitUntil(lambda: kept == [("ABC", "ABC!")], timeout=3000)
    assert threads["plan"] == threads["keep"]  # the writer
    assert threads["ask"] not in (threads["plan"], threading.get_ident())


def test_via_network_stops_at_the_first_failure(qtbot, worker):
    def ask(planned):
        raise ConnectionError("offline")

    failures, kept = [], []
    Tasks().via_network(worker, lambda registry: 1, ask, lambda r, p, a: kept.append(a),
                        on_error=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=3000)
    assert isinstance(failures[0], ConnectionError) and kept == []


def test_no_other_way_to_start_a_thread_in_the_window():
    """ui/tasks.py and the writer (ui/db_worker.py) are the only places in ui/ that make
    threads; every tab runs its background work through them."""
    import re
    from pathlib import Path

    ui = Path(__file__).resolve().parent.parent / "ui"
    pattern = re.compile(r"\b(QThread|QThreadPool|QRunnable|threading\.Thread|"
                         r"ThreadPoolExecutor|QtConcurrent|moveToThread)\b")
    found = {path.name for path in ui.rglob("*.py")
             if pattern.search(path.read_text(encoding="utf-8"))}
    assert found == {"tasks.py", "db_worker.py"}, found

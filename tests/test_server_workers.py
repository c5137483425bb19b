"""Several server processes on one database (`main.py server --workers 3`, PostgreSQL): the
quota, a batch's idempotency, the NIK race and the pull cursor hold wherever the requests land.

The same tests run against one process on SQLite (`[sqlite]`), where one writer makes them hold
by construction; on PostgreSQL they test the named locks (server/store.py `lock`) and the pull
horizon. Requests that must race are started together by a barrier, each on a connection of its
own, so the kernel hands them to different workers (checked by `connections_per_worker`).
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from server_util import outcomes, record, workers
from workers_util import ServerProcesses, connections_per_worker, self_signed

from server.decisions import set_quota
from server.push import canonical
from server.registrations import insert_new
from server.rules import server_today
from server.store import Store
from storage.ids import new_id
from storage.models import Cohort
from storage.vocabulary import utc_now_iso

WORKERS = {"sqlite": 1, "postgresql": 3}
OPERATOR = {"username": "rina", "display_name": "Rina"}


@pytest.fixture(scope="module")
def served(tmp_path_factory, server_engine):
    """The server in WORKERS[engine] processes, and this process's own Store on its database
    (enrolment codes, the quota, counting rows)."""
    folder = tmp_path_factory.mktemp("workers")
    store = Store(folder / "server")
    server = ServerProcesses(folder / "server", WORKERS[server_engine], folder).start()
    try:
        yield server, store
    finally:
        server.stop()
        store.close()


def at_once(calls: list) -> list:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def post(session: requests.Session, url: str, token: str, body: dict) -> requests.Response:
    return session.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                        timeout=120)


def assert_spread(server: ServerProcesses) -> None:
    """The connections still open after a race are held by more than one worker."""
    held = connections_per_worker(server)
    if server.workers_count > 1:
        assert sum(1 for n in held.values() if n) >= 2, held


def test_fifty_funds_for_ten_places_fund_exactly_ten(served):
    server, store = served
    enumerator = server.enrol(store)
    regs = workers(50, seed=71)
    for reg in regs:
        reg.cohort, reg.occupation_code = Cohort.PEKERJA_RENTAN.value, "ojek_online"
    pushed = enumerator.push([record(r, enumerator.device_id) for r in regs])
    assert outcomes(pushed) == ["accepted"] * 50
    verifier = server.enrol(store, "verifier")
    revisions = {}
    for reg in regs:
        body = {"revision": verifier.registration(reg.id)["revision"], "operator": OPERATOR}
        answer = verifier.post(f"/registrations/{reg.id}/verify", body)
        assert answer.status_code == 200, answer.text
        revisions[reg.id] = answer.json()["registration"]["revision"]
    year = server_today().year
    set_quota(store, year, Cohort.PEKERJA_RENTAN.value, 10)
    token = verifier.enrolment["token"]
    sessions = [requests.Session() for _ in regs]
    try:
        answers = at_once([
            lambda s=s, reg=reg: post(s, f"{server.api}/registrations/{reg.id}/fund", token,
                                      {"revision": revisions[reg.id], "operator": OPERATOR})
            for s, reg in zip(sessions, regs, strict=True)])
        assert_spread(server)
    finally:
        for s in sessions:
            s.close()
    assert sorted(a.status_code for a in answers) == [200] * 10 + [409] * 40, \
        [a.text for a in answers if a.status_code not in (200, 409)]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"quota.full"}
    numbers = sorted(a.json()["registration"]["member_number"] for a in answers
                     if a.status_code == 200)
    assert numbers == [f"JMB-{year}-PR-{n:06d}" for n in range(1, 11)]
    db = store.reader()
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT member_number) FROM registrations "
                      "WHERE member_number != ''").fetchone() == (10, 10)
    row = next(c for c in verifier.get("/quota").json()["cohorts"]
               if c["cohort"] == Cohort.PEKERJA_RENTAN.value)
    assert (row["places"], row["funded"], row["left"]) == (10, 10, 0)


def _rows_per_version(store: Store, ids: list[str]) -> Counter:
    marks = ",".join("?" * len(ids))
    return Counter({(rid, version): n for rid, version, n in store.reader().execute(
        f"SELECT record_id, version, COUNT(*) FROM versions WHERE record_id IN ({marks}) "
        "GROUP BY record_id, version", ids)})


def test_one_batch_sent_twice_at_once_is_stored_once_and_replayed(served):
    server, store = served
    device = server.enrol(store)
    token, url = device.enrolment["token"], f"{server.api}/sync/push"
    regs = workers(200, seed=72)
    batch_ids, ids = [], []
    for rnd in range(10):
        chunk = regs[rnd * 20:(rnd + 1) * 20]
        body = {"batch_id": new_id(), "device_id": device.device_id,
                "records": [record(r, device.device_id) for r in chunk]}
        with requests.Session() as one, requests.Session() as two:
            answers = at_once([lambda s=s, b=body: post(s, url, token, b) for s in (one, two)])
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        first, second = sorted((a.json() for a in answers), key=lambda a: a["replayed"])
        assert (first["replayed"], second["replayed"]) == (False, True)
        assert first["results"] == second["results"]
        assert {r["outcome"] for r in first["results"]} == {"accepted"}
        batch_ids.append(body["batch_id"])
        ids += [r.id for r in chunk]
    # Later, from any worker: the stored answer again; the same id with other content: 409.
    again = device.push(body["records"], batch_id=body["batch_id"])
    assert again.json()["replayed"] is True and again.json()["results"] == first["results"]
    other = device.push(body["records"][:5], batch_id=body["batch_id"])
    assert other.status_code == 409 and other.json()["error"]["code"] == "batch.id_reused"
    rows = _rows_per_version(store, ids)
    assert len(rows) == 200 and set(rows.values()) == {1}
    marks = ",".join("?" * len(batch_ids))
    stored = store.reader().execute(
        f"SELECT COUNT(*), COUNT(DISTINCT batch_id) FROM batches WHERE batch_id IN ({marks})",
        batch_ids).fetchone()
    assert tuple(stored) == (10, 10)


def test_one_batch_id_with_two_contents_at_once_stores_one_and_refuses_the_other(served):
    server, store = served
    device = server.enrol(store)
    token, url = device.enrolment["token"], f"{server.api}/sync/push"
    regs = workers(100, seed=73)
    for rnd in range(10):
        batch_id = new_id()
        halves = (regs[rnd * 10:rnd * 10 + 5], regs[rnd * 10 + 5:rnd * 10 + 10])
        bodies = [{"batch_id": batch_id, "device_id": device.device_id,
                   "records": [record(r, device.device_id) for r in half]} for half in halves]
        answers = at_once([lambda b=b: post(requests, url, token, b) for b in bodies])
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 409)
        assert refused.json()["error"]["code"] == "batch.id_reused"
        kept = bodies[[a.status_code for a in answers].index(200)]
        lost = bodies[[a.status_code for a in answers].index(409)]
        assert len(_rows_per_version(store, [r["record_id"] for r in kept["records"]])) == 5
        assert not _rows_per_version(store, [r["record_id"] for r in lost["records"]])


def test_two_devices_pushing_one_nik_at_once_give_one_accepted_one_duplicate(served):
    server, store = served
    first, second = server.enrol(store), server.enrol(store)
    for rnd, reg in enumerate(workers(20, seed=74)):
        twin = copy.deepcopy(reg)
        twin.id = new_id()
        pair = [(first, reg), (second, twin)]
        if rnd % 2:
            pair.reverse()  # neither device is always the first to be released
        answers = at_once([
            lambda d=d, r=r: post(requests, f"{server.api}/sync/push", d.enrolment["token"],
                                  {"batch_id": new_id(), "device_id": d.device_id,
                                   "records": [record(r, d.device_id)]})
            for d, r in pair])
        results = [outcomes(a)[0] for a in answers]
        assert sorted(results) == ["accepted", "duplicate"], (rnd, results)
        accepted = answers[results.index("accepted")].json()["results"][0]
        duplicate = answers[results.index("duplicate")].json()["results"][0]
        assert duplicate["duplicate_of"] == accepted["record_id"]


def test_a_device_pulling_during_pushes_of_five_devices_gets_every_registration_once(served):
    server, store = served
    pushers = [server.enrol(store, name=f"Pengirim {n}") for n in range(5)]
    puller = server.enrol(store, "verifier", "Penarik")
    regs = workers(5 * 60, seed=75)  # one generator: every NIK different
    per_device = [regs[n::5] for n in range(5)]
    done = threading.Event()

    def push_all(device, mine):
        with requests.Session() as session:
            for start in range(0, len(mine), 3):  # many small batches, many commits
                body = {"batch_id": new_id(), "device_id": device.device_id,
                        "records": [record(r, device.device_id) for r in mine[start:start + 3]]}
                assert set(outcomes(post(session, f"{server.api}/sync/push",
                                         device.enrolment["token"], body))) == {"accepted"}

    seen: list[tuple[int, str]] = []
    pages = {"beside": 0}

    def pull_page(cursor: int) -> tuple[int, bool]:
        page = puller.get("/sync/pull", params={"cursor": cursor, "limit": 50})
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["cursor"] == cursor and body["next_cursor"] >= cursor
        for change in body["changes"]:
            assert change["seq"] > cursor  # never a change at or before the cursor
            if change["kind"] == "registration":
                seen.append((change["seq"], change["id"]))
        return body["next_cursor"], body["has_more"]

    # Up to date first (the module's other tests' changes), so that the pulls below run at
    # the edge of the feed, where the pushes commit.
    _, start = puller.pull_all()
    before = {r[0] for r in store.reader().execute("SELECT id FROM registrations")}

    def pull_while_pushing() -> int:
        cursor = start
        while not done.is_set():
            cursor, _ = pull_page(cursor)
            pages["beside"] += 1
        return cursor

    with ThreadPoolExecutor(max_workers=6) as pool:
        puller_done = pool.submit(pull_while_pushing)
        pushes = [pool.submit(push_all, d, mine) for d, mine in zip(pushers, per_device,
                                                                   strict=True)]
        for p in pushes:
            p.result()
        done.set()
        cursor = puller_done.result()
    more = True
    while more:
        cursor, more = pull_page(cursor)
    assert pages["beside"] >= 5  # the pulls really ran beside the pushes
    counted = Counter(rid for _, rid in seen)
    # Every registration stored since the start, each exactly once.
    everyone = {r[0] for r in store.reader().execute("SELECT id FROM registrations")}
    assert set(counted) == everyone - before == {r.id for r in regs}
    assert set(counted.values()) == {1}
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_a_change_that_commits_late_is_pulled_not_skipped(served, server_engine):
    """The horizon itself, step by step: a transaction takes a sequence number first and
    commits last, while a push after it commits at once. A pull in between may not move the
    cursor past the late one's number; after its commit both are pulled, in sequence order."""
    server, store = served
    device, puller = server.enrol(store), server.enrol(store, "verifier")
    _, cursor = puller.pull_all()
    late, early = workers(2, seed=76)
    late.device_id = device.device_id
    with ThreadPoolExecutor(max_workers=1) as pool:
        with store.write() as db:
            insert_new(db, store, late, canonical(late.to_dict()), device.device_id,
                       utc_now_iso(precise=True))
            pushed = pool.submit(device.push, [record(early, device.device_id)])
            if server_engine == "postgresql":  # parallel writers: it commits meanwhile
                assert outcomes(pushed.result(timeout=60)) == ["accepted"]
            page = puller.get("/sync/pull", params={"cursor": cursor}).json()
            assert [c for c in page["changes"] if c["kind"] == "registration"] == []
            assert page["next_cursor"] == cursor
            assert page["has_more"] is (server_engine == "postgresql")
        assert outcomes(pushed.result(timeout=60)) == ["accepted"]
    changes, _ = puller.pull_all(cursor)
    pulled = [c["id"] for c in changes if c["kind"] == "registration"]
    assert pulled == [late.id, early.id]


def test_several_workers_serve_https(tmp_path, server_engine):
    """TLS reaches every worker: concurrent HTTPS requests land on several of them."""
    store = Store(tmp_path / "server")
    server = ServerProcesses(tmp_path / "server", WORKERS[server_engine], tmp_path,
                             tls=self_signed(tmp_path)).start()
    try:
        device = server.enrol(store)
        assert device.api.startswith("https://")
        sessions = [requests.Session() for _ in range(12)]
        try:
            answers = at_once([lambda s=s: s.get(f"{server.api}/devices/me", timeout=60,
                                                 verify=server.verify, headers={
                                                     "Authorization": "Bearer "
                                                     + device.enrolment["token"]})
                               for s in sessions])
            assert_spread(server)
        finally:
            for s in sessions:
                s.close()
        assert {a.status_code for a in answers} == {200}
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(server.api.replace("https", "http") + "/health", timeout=10)
    finally:
        server.stop()
        store.close()

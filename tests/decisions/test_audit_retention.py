"""Audit retention (等保 2.0 安全审计; 《网络安全法》第二十一条): events are kept, exported to verified archives,
purged only after export, and the chain still verifies across what was purged; syslog shipping of every event.
The clock is the test's; the syslog collectors are real sockets in threads."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from decisions import audit, audit_retention, audit_syslog, crypto
from decisions.audit_retention import AuditRetentionRefused
from decisions.models import AuditAnchor, AuditArchive, AuditEvent, Role
from tests.clock import Clock

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def append(action, *, decision=None, payload=None):
    with transaction.atomic():
        return audit.append(
            actor=None,
            role="",
            action=action,
            object_type="auth.User",
            object_id="7",
            decision=decision,
            payload=payload,
        )


@pytest.fixture
def year_of_events(db, clock):
    """Events of a year ago: logins (purgeable security events) between a decision's and a catalogue's events."""
    made = [
        append("security:login", payload={"address": "10.0.0.1", "result": "success"}),
        append("security:login_failed", payload={"address": "10.0.0.2", "result": "failure", "username": "li_si"}),
        append("transition:T3", decision=41, payload={"from": "DRAFT", "to": "LISTED", "note": "列入目录"}),
        append("security:login", payload={"address": "10.0.0.1", "result": "success"}),
        append("security:logout", payload={"address": "10.0.0.1", "result": "success"}),
        append("catalog:publish", payload={"version": 2}),
        append("security:login", payload={"address": "10.0.0.3", "result": "success"}),
    ]
    clock.advance(days=1)
    return made


def seqs(events):
    return [event.seq for event in events]


def storage_path(name):
    return Path(settings.MEDIA_ROOT) / name


def raw_update(table, column, value, seq_column, seq):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {seq_column} = %s", [value, seq])


def raw_delete(table, seq_column, seq):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {seq_column} = %s", [seq])


# -- the retention setting -------------------------------------------------------------------------------------


def start_with(**environment):
    """Import the settings in a fresh interpreter, as the application does at start-up."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    code = "from config import settings as s; print(s.JUECE_AUDIT_RETENTION_DAYS)"
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("value", "starts", "days"),
    [("", True, "365"), ("180", True, "180"), ("730", True, "730"), ("179", False, None), ("30", False, None)],
)
def test_retention_defaults_to_365_days_and_below_180_refuses_to_start(value, starts, days):
    started = start_with(JUECE_AUDIT_RETENTION_DAYS=value)
    if starts:
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == days
    else:
        assert started.returncode != 0
        assert "ImproperlyConfigured" in started.stderr and "JUECE_AUDIT_RETENTION_DAYS" in started.stderr


@pytest.mark.parametrize("value", ["syslog://10.0.0.5:514", "udp://10.0.0.5", "tcp://:601"])
def test_a_syslog_collector_that_is_not_udp_or_tcp_host_and_port_refuses_to_start(value):
    started = start_with(JUECE_AUDIT_SYSLOG=value)
    assert started.returncode != 0 and "JUECE_AUDIT_SYSLOG" in started.stderr


def test_a_retention_lowered_below_180_days_at_run_time_refuses_to_purge(year_of_events, settings):
    settings.JUECE_AUDIT_RETENTION_DAYS = 90
    with pytest.raises(Exception, match="at least 180"):
        audit_retention.purge(None)


# -- purge refused ---------------------------------------------------------------------------------------------


def refused(code, call, *args, **kwargs):
    before = AuditEvent.objects.count()
    with pytest.raises(AuditRetentionRefused) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value
    assert AuditEvent.objects.count() == before and not AuditAnchor.objects.exists()
    return excinfo.value


def test_purge_is_refused_while_nothing_is_archived(year_of_events, clock):
    clock.advance(days=366)
    refusal = refused("AUDIT_PURGE_NOT_ARCHIVED", audit_retention.purge, None)
    assert "audit_archive" in refusal.message_zh


def test_purge_is_refused_before_the_retention_period_is_reached(year_of_events, clock):
    audit_retention.export_archive(None)
    clock.advance(days=364)
    refused("AUDIT_PURGE_RETENTION_NOT_REACHED", audit_retention.purge, None)
    # Nor may a caller pick a point inside the retention period.
    clock.advance(days=2)
    refused("AUDIT_PURGE_TOO_RECENT", audit_retention.purge, None, before=clock.at - timedelta(days=200))


def test_purge_is_refused_when_the_archive_file_was_altered(year_of_events, clock):
    archive = audit_retention.export_archive(None)
    path = storage_path(archive.file.name)
    path.write_bytes(path.read_bytes().replace(b"10.0.0.2", b"10.0.0.9"))
    clock.advance(days=366)
    refusal = refused("AUDIT_ARCHIVE_ALTERED", audit_retention.purge, None)
    assert f"#{archive.pk}" in refusal.message_zh


def test_purge_is_refused_when_the_archive_file_is_gone(year_of_events, clock):
    archive = audit_retention.export_archive(None)
    storage_path(archive.file.name).unlink()
    clock.advance(days=366)
    refused("AUDIT_ARCHIVE_MISSING", audit_retention.purge, None)


def test_an_archive_rewritten_with_its_recorded_digests_changed_too_is_refused(year_of_events, clock):
    archive = audit_retention.export_archive(None)
    path = storage_path(archive.file.name)
    forged = path.read_bytes().replace(b"10.0.0.2", b"10.0.0.9")
    path.write_bytes(forged)
    # Whoever can write rows and files still lacks the audit key: the line's MAC no longer matches.
    raw_update("decisions_auditarchive", "sha256", hashlib.sha256(forged).hexdigest(), "id", archive.pk)
    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(forged)
    raw_update("decisions_auditarchive", "sm3", sm3.finalize().hex(), "id", archive.pk)
    clock.advance(days=366)
    refusal = refused("AUDIT_ARCHIVE_INVALID", audit_retention.purge, None)
    assert "MAC" in refusal.message_en


def test_purge_is_refused_while_the_chain_does_not_verify(year_of_events, clock):
    audit_retention.export_archive(None)
    raw_update("decisions_auditevent", "action", "transition:T4", "seq", year_of_events[2].seq)
    clock.advance(days=366)
    refusal = refused("AUDIT_CHAIN_BROKEN", audit_retention.purge, None)
    assert f"seq {year_of_events[2].seq}" in refusal.message_zh


def test_an_archive_is_refused_for_a_chain_that_does_not_verify_and_leaves_no_file(year_of_events):
    raw_update("decisions_auditevent", "action", "security:logon", "seq", year_of_events[3].seq)
    refused("AUDIT_CHAIN_BROKEN", audit_retention.export_archive, None)
    assert not AuditArchive.objects.exists()
    folder = storage_path(audit_retention.ARCHIVE_DIR)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_nothing_left_to_archive_is_refused(year_of_events):
    audit_retention.export_archive(None, until=year_of_events[-1].at)
    refused("AUDIT_NOTHING_TO_ARCHIVE", audit_retention.export_archive, None, until=year_of_events[-1].at)


# -- archive, then purge ---------------------------------------------------------------------------------------


def test_archive_then_purge_removes_old_security_events_and_the_chain_still_verifies(year_of_events, clock):
    archive = audit_retention.export_archive(None)
    clock.advance(days=366)
    recent = append("security:login", payload={"address": "10.0.0.4", "result": "success"})

    result = audit_retention.purge(None)

    purged = [e for e in year_of_events if e.action.startswith("security:")]
    kept = [e for e in year_of_events if not e.action.startswith("security:")]
    assert result.count == len(purged) == 5
    assert not AuditEvent.objects.filter(seq__in=seqs(purged)).exists()
    # A decision's record, the catalogue's events, the archive event and anything recent stay.
    assert set(seqs(kept)) | {recent.seq} <= set(AuditEvent.objects.values_list("seq", flat=True))
    assert AuditEvent.objects.filter(action="security:audit_archive").exists()
    anchors = list(AuditAnchor.objects.order_by("first_seq"))
    assert [(a.first_seq, a.seq) for a in anchors] == [(1, 2), (4, 5), (7, 7)]
    assert all(a.archive == archive for a in anchors)
    assert anchors[0].mac == year_of_events[1].mac

    verified = audit.verify()
    assert verified.ok, verified.problem
    assert verified.purged == 5 and verified.purged_archives == [archive.pk]
    assert verified.purged_ranges == [(1, 2), (4, 5), (7, 7)]
    event = AuditEvent.objects.get(action="security:audit_purge")
    assert event.actor_label == "system"
    assert event.payload | {"before": None} == {
        "count": 5,
        "first_seq": 1,
        "last_seq": 7,
        "runs": 3,
        "archives": [archive.pk],
        "before": None,
        "retention_days": 365,
    }


def test_verify_audit_reports_what_was_purged(year_of_events, clock, capsys):
    audit_retention.export_archive(None)
    clock.advance(days=366)
    call_command("audit_purge")
    assert "已清理 5 个" in capsys.readouterr().out

    call_command("verify_audit")

    out = capsys.readouterr().out
    assert "Audit chain intact" in out
    assert "Purged after export: 5 events in 3 run(s) within seq 1–7" in out


def test_a_second_archive_continues_the_first_and_a_later_purge_crosses_both(year_of_events, clock):
    first = audit_retention.export_archive(None)
    clock.advance(days=30)
    later = [append("security:login", payload={"result": "success"}) for _ in range(3)]
    second = audit_retention.export_archive(None)
    assert second.first_seq == first.last_seq + 1 and second.prev_mac == first.last_mac

    clock.advance(days=366)
    result = audit_retention.purge(None)

    assert result.archives == [first, second]
    assert not AuditEvent.objects.filter(seq__in=seqs(later)).exists()
    verified = audit.verify()
    assert verified.ok, verified.problem
    assert verified.purged == 8 and verified.purged_archives == [first.pk, second.pk]


def test_a_purge_removes_only_what_is_past_retention_and_a_later_purge_the_rest(year_of_events, clock):
    audit_retention.export_archive(None)
    clock.advance(days=200)
    newer = append("security:login", payload={"result": "success"})
    audit_retention.export_archive(None)
    clock.advance(days=166)

    audit_retention.purge(None)
    assert AuditEvent.objects.filter(seq=newer.seq).exists()
    assert audit.verify().ok

    clock.advance(days=200)
    audit_retention.purge(None)
    assert not AuditEvent.objects.filter(seq=newer.seq).exists()
    verified = audit.verify()
    assert verified.ok, verified.problem
    assert verified.purged == 6


@pytest.fixture
def purged(year_of_events, clock):
    """A chain whose old security events were archived and purged, with events after the purge."""
    audit_retention.export_archive(None)
    clock.advance(days=366)
    audit_retention.purge(None)
    append("transition:T4", decision=41, payload={"from": "LISTED", "to": "DRAFTING"})
    append("security:login", payload={"result": "success"})
    assert audit.verify().ok
    return year_of_events


def tamper_remaining_event(events):
    raw_update("decisions_auditevent", "action", "transition:T9", "seq", events[2].seq)
    return events[2].seq, "AUDIT_MAC_MISMATCH"


def relink_event_after_a_gap(events):
    # The event after the purged run 4–5 claims another predecessor.
    raw_update("decisions_auditevent", "prev_mac", events[2].mac, "seq", events[5].seq)
    return events[5].seq, "AUDIT_LINK_BROKEN"


def delete_an_anchor(events):
    raw_delete("decisions_auditanchor", "first_seq", 4)
    return 4, "AUDIT_EVENT_MISSING"


def move_an_anchor(events):
    # Stretching an anchor over an event that was not purged, to hide that event's deletion.
    raw_update("decisions_auditanchor", "seq", 6, "first_seq", 4)
    raw_delete("decisions_auditevent", "seq", 6)
    return 4, "AUDIT_ANCHOR_MAC_MISMATCH"


def delete_a_remaining_event(events):
    raw_delete("decisions_auditevent", "seq", events[5].seq)
    return events[5].seq, "AUDIT_EVENT_MISSING"


def truncate_the_tail(events):
    last = AuditEvent.objects.order_by("-seq").first()
    raw_delete("decisions_auditevent", "seq", last.seq)
    return last.seq, "AUDIT_TAIL_MISSING"


@pytest.mark.parametrize(
    "tamper",
    [
        tamper_remaining_event,
        relink_event_after_a_gap,
        delete_an_anchor,
        move_an_anchor,
        delete_a_remaining_event,
        truncate_the_tail,
    ],
)
def test_tampering_after_a_purge_is_still_detected(purged, tamper):
    seq, code = tamper(purged)

    result = audit.verify()

    assert not result.ok
    assert (result.first_bad_seq, result.code) == (seq, code)
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    assert f"seq={seq}" in str(excinfo.value)


def test_the_archive_file_verifies_against_its_digests_and_the_key(year_of_events):
    archive = audit_retention.export_archive(None)
    data = storage_path(archive.file.name).read_bytes()
    manifest = json.loads(storage_path(archive.manifest.name).read_text())

    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(data)
    digests = {"SHA-256": hashlib.sha256(data).hexdigest(), "SM3": sm3.finalize().hex()}
    assert manifest["digests"] == digests == {"SHA-256": archive.sha256, "SM3": archive.sm3}
    assert manifest["file"] == Path(archive.file.name).name
    assert (manifest["first_seq"], manifest["last_seq"], manifest["count"]) == (1, 7, 7)
    recorded = AuditEvent.objects.get(action="security:audit_archive").payload
    assert (recorded["sha256"], recorded["sm3"]) == (archive.sha256, archive.sm3)

    # Every line is one event whose MAC the audit key recomputes, each linked to the one before.
    key, prev_mac = crypto.key_for("audit"), audit.GENESIS
    lines = data.decode().splitlines()
    assert len(lines) == 7
    for line, event in zip(lines, year_of_events, strict=True):
        record = json.loads(line)
        assert {"seq", "at", "actor_label", "role", "action", "payload", "algorithm", "prev_mac", "mac"} <= set(record)
        content = {k: v for k, v in record.items() if k not in ("prev_mac", "mac")}
        message = (
            f"{record['prev_mac']}|{json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(',', ':'))}"
        )
        assert record["algorithm"] == "HMAC-SHA256"
        assert hmac.new(key, message.encode(), hashlib.sha256).hexdigest() == record["mac"] == event.mac
        assert record["prev_mac"] == prev_mac and record["seq"] == event.seq
        prev_mac = record["mac"]
    assert "列入目录" in data.decode()
    # No staging file is left beside the archive.
    assert sorted(p.name for p in storage_path(audit_retention.ARCHIVE_DIR).iterdir()) == [
        "audit-000000000001-000000000007.jsonl",
        "audit-000000000001-000000000007.manifest.json",
    ]


def test_audit_archive_command_archives_up_to_the_end_of_a_date_as_system(year_of_events, clock, capsys):
    day = timezone.localdate(year_of_events[-1].at)
    clock.advance(days=3)
    append("security:login", payload={"result": "success"})

    call_command("audit_archive", "--until", day.isoformat())

    archive = AuditArchive.objects.get()
    assert (archive.first_seq, archive.last_seq) == (1, 7)
    assert "seq 1–7" in capsys.readouterr().out
    assert AuditEvent.objects.get(action="security:audit_archive").actor_label == "system"
    call_command("audit_purge")  # within retention: a normal day for cron, exit status 0
    assert "没有超过保存期限" in capsys.readouterr().out


def test_audit_purge_command_fails_when_the_archive_was_altered(year_of_events, clock):
    archive = audit_retention.export_archive(None)
    storage_path(archive.file.name).write_text("")
    clock.advance(days=366)
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_purge")
    assert excinfo.value.returncode == 1 and "AUDIT_ARCHIVE_ALTERED" in str(excinfo.value)


def test_archived_and_purged_events_can_no_longer_be_deleted_through_the_model(year_of_events):
    archive = audit_retention.export_archive(None)
    with pytest.raises(PermissionError):
        archive.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.get(seq=1).delete()


# -- syslog shipping -----------------------------------------------------------------------------------------


class UdpCollector:
    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.url = f"udp://127.0.0.1:{self.socket.getsockname()[1]}"
        self.messages, self.running = [], True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                self.messages.append(self.socket.recv(65535))
            except TimeoutError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close()


class TcpCollector:
    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.url = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.buffer, self.running, self.dropped, self.lock = b"", True, False, threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def messages(self):
        return self.buffer.split(b"\n")[:-1]

    def run(self):
        while self.running:
            try:
                peer, _address = self.server.accept()
            except TimeoutError:
                continue
            self.dropped = False
            threading.Thread(target=self.read, args=(peer,), daemon=True).start()

    def drop_connections(self):
        """Close every accepted connection, as a collector that restarts does."""
        with self.lock:
            self.dropped = True

    def read(self, peer):
        peer.settimeout(0.2)
        with peer:
            while self.running and not self.dropped:
                try:
                    data = peer.recv(65535)
                except TimeoutError:
                    continue
                if not data:
                    break
                with self.lock:
                    self.buffer += data

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(params=[UdpCollector, TcpCollector], ids=["udp", "tcp"])
def collector(request, settings):
    server = request.param()
    settings.JUECE_AUDIT_SYSLOG = server.url
    yield server
    server.close()


def received(collector, count, timeout=5.0):
    assert audit_syslog.flush(timeout)
    deadline = time.monotonic() + timeout
    while len(collector.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # anything more would have arrived by now
    return list(collector.messages)


def parse(message: bytes):
    """Split an RFC 5424 message into its header fields and the JSON of its MSG."""
    pri_version, timestamp, hostname, app, procid, msgid, structured, msg = message.decode("ascii").split(" ", 7)
    priority = int(pri_version[1 : pri_version.index(">")])
    assert pri_version.endswith(">1") and (app, msgid, structured) == ("juece", "audit", "-")
    assert hostname and procid.isdigit()
    return priority, timestamp, json.loads(msg)


@pytest.mark.django_db(transaction=True)
def test_every_committed_event_is_shipped_once_as_a_json_line_and_a_rolled_back_one_never(collector):
    first = append("security:login", payload={"address": "10.0.0.1", "result": "success"})
    with pytest.raises(RuntimeError), transaction.atomic():
        append("security:login", payload={"result": "success"})
        raise RuntimeError("the change fails: its event goes with it")
    second = append("transition:T3", decision=41, payload={"note": "列入目录", "result": "failure"})

    messages = received(collector, 2)

    assert len(messages) == 2
    (priority1, timestamp1, record1), (priority2, _ts, record2) = map(parse, messages)
    stored = [AuditEvent.objects.get(seq=first.seq), AuditEvent.objects.get(seq=second.seq)]
    assert [record1, record2] == [audit.event_record(event) for event in stored]
    assert record2["payload"]["note"] == "列入目录"
    # local0 (16): informational (6) for an event, warning (4) for a failed act.
    assert (priority1, priority2) == (16 * 8 + 6, 16 * 8 + 4)
    assert timestamp1 == record1["at"]


@pytest.mark.django_db(transaction=True)
def test_the_facility_is_a_setting(collector, settings):
    settings.JUECE_AUDIT_SYSLOG_FACILITY = "authpriv"
    append("security:login", payload={"result": "success"})
    priority, _timestamp, _record = parse(received(collector, 1)[0])
    assert priority == 10 * 8 + 6


@pytest.mark.django_db(transaction=True)
def test_audit_ship_sends_a_range_again(collector, capsys):
    events = [append("security:login", payload={"n": n}) for n in range(4)]
    received(collector, 4)
    before = len(collector.messages)

    call_command("audit_ship", "--since", str(events[2].seq))

    messages = received(collector, before + 2)[before:]
    assert [parse(m)[2]["seq"] for m in messages] == seqs(events[2:])
    assert "已发送 2 个" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_events_still_arrive_after_the_tcp_collector_restarts(settings):
    server = TcpCollector()
    settings.JUECE_AUDIT_SYSLOG = server.url
    try:
        first = append("security:login", payload={"result": "success"})
        assert len(received(server, 1)) == 1
        server.drop_connections()
        time.sleep(0.5)  # the collector has closed its end
        second = append("security:logout", payload={"result": "success"})

        messages = received(server, 2)

        assert [parse(m)[2]["seq"] for m in messages] == [first.seq, second.seq]
    finally:
        server.close()


def closed_port():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_a_login_succeeds_while_the_collector_is_down_and_the_failure_is_counted(client, settings, caplog):
    settings.JUECE_AUDIT_SYSLOG = f"tcp://127.0.0.1:{closed_port()}"
    get_user_model().objects.create_user("zhang_san", password="Zhengfu-2026!")
    failures = audit_syslog.failure_count()

    response = client.post(reverse("login"), {"username": "zhang_san", "password": "wrong"})

    assert response.status_code == 200  # the form again, with its message
    event = AuditEvent.objects.get(action="security:login_failed")
    assert audit_syslog.flush(10)
    assert audit_syslog.failure_count() == failures + 1
    warning = [r for r in caplog.records if r.name == "juece.audit.syslog"][-1]
    assert f"audit_ship --since {event.seq}" in warning.getMessage()
    assert "wrong" not in warning.getMessage()


@pytest.mark.django_db(transaction=True)
def test_a_collector_that_does_not_answer_never_holds_up_the_request(client, settings):
    # A listener whose backlog is full drops new connection attempts: connecting hangs until the timeout.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    with suppress(TimeoutError):
        for _ in range(3):
            fillers.append(socket.create_connection(server.getsockname(), timeout=0.5))
    settings.JUECE_AUDIT_SYSLOG = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    settings.JUECE_AUDIT_SYSLOG_TIMEOUT = 8
    get_user_model().objects.create_user("zhang_san", password="Zhengfu-2026!")
    failures = audit_syslog.failure_count()
    try:
        started = time.monotonic()
        response = client.post(reverse("login"), {"username": "zhang_san", "password": "wrong"})
        took = time.monotonic() - started

        assert response.status_code == 200
        assert took < 4, f"the request waited {took:.1f} s for the collector"
        assert audit_syslog.flush(20)
        assert audit_syslog.failure_count() == failures + 1
    finally:
        for filler in fillers:
            filler.close()
        server.close()


# -- bundles after a purge -------------------------------------------------------------------------------------


def test_a_decisions_bundle_still_verifies_after_a_purge(open_cast, clock, tmp_path):
    from reports.bundle import export_decision_bundle
    from reports.verify import verify_bundle
    from tests.reports.test_bundle import full_record

    append("security:login", payload={"result": "success"})
    decision = full_record(open_cast)
    append("security:logout", payload={"result": "success"})
    events_of_decision = AuditEvent.objects.filter(decision_id_ref=decision.pk).count()
    audit_retention.export_archive(None)
    clock.advance(days=366)
    result = audit_retention.purge(None)
    assert result.count == 2  # the login and the logout around the walk
    # A decision's events are its record: none is ever purged.
    assert AuditEvent.objects.filter(decision_id_ref=decision.pk).count() == events_of_decision

    path = tmp_path / "bundle.zip"
    export_decision_bundle(open_cast[Role.SUPERVISOR], decision, path)

    report = verify_bundle(path, audit_key=settings.AUDIT_KEY)
    assert report.ok, [problem.en for problem in report.problems]
    assert audit.verify().ok

"""Shipping the audit chain to a central log-audit appliance (日志审计, 等保 2.0 安全审计) over syslog.

settings.JUECE_AUDIT_SYSLOG names the collector: ``udp://host:514`` (one datagram per event) or
``tcp://host:601`` (RFC 6587 non-transparent framing: one line per event); empty switches shipping off.
Each event becomes one RFC 5424 message (facility settings.JUECE_AUDIT_SYSLOG_FACILITY) whose MSG is the
event as one JSON line, exactly the fields the chain holds, with its MACs, so that the appliance can check
the chain with the key. Events hold no personal data, so neither does what is shipped.

An event is handed over only once its transaction commits (one rolled back is never shipped), and is sent by
one background thread per process: a collector that is down or slow never delays or fails a request. A
failure is logged as a warning naming the seq and counted (`failure_count()`); `manage.py audit_ship --since
SEQ` sends a range again once the collector is back.
"""

import atexit
import json
import logging
import os
import queue
import select
import socket
import threading
import time
from logging.handlers import SysLogHandler
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("juece.audit.syslog")

SEVERITY_WARNING = 4
SEVERITY_INFORMATIONAL = 6
APP_NAME = "juece"
MSG_ID = "audit"


def message(record: dict, *, facility: str | None = None) -> bytes:
    """Return the RFC 5424 message of one audit event `record` (audit.event_record): header, then the JSON line."""
    facility = facility or settings.JUECE_AUDIT_SYSLOG_FACILITY
    # A refused or failed act (a wrong password, a lockout) is a warning for the appliance; anything else information.
    failed = (record.get("payload") or {}).get("result") == "failure"
    priority = SysLogHandler.facility_names[facility] * 8 + (SEVERITY_WARNING if failed else SEVERITY_INFORMATIONAL)
    hostname = (socket.gethostname().split() or ["-"])[0][:255]
    # ASCII JSON (Chinese as \\u escapes): the MSG needs no BOM (RFC 5424 §6.4) and holds no line break.
    line = json.dumps(record, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return f"<{priority}>1 {record['at']} {hostname} {APP_NAME} {os.getpid()} {MSG_ID} - {line}".encode("ascii")


class Collector:
    """One syslog collector reached over UDP or TCP; connects on first use and again after a failure."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.transport = parts.scheme
        self.address = (parts.hostname, parts.port)
        self.timeout = timeout
        self._socket = None

    def send(self, data: bytes):
        """Send one message; raise OSError if the collector cannot be reached."""
        kept = self._socket is not None
        try:
            self._send(data)
        except OSError:
            self.close()
            if not (kept and self.transport == "tcp"):
                raise
            # A kept TCP connection the collector dropped (a restart) fails only at the next write: try once afresh.
            self._send(data)

    def _send(self, data):
        if self._socket is not None and self.transport == "tcp" and self._closed_by_peer():
            self.close()
        if self._socket is None:
            self._socket = self._connect()
        if self.transport == "tcp":
            self._socket.sendall(data + b"\n")
        else:
            self._socket.send(data)

    def _closed_by_peer(self) -> bool:
        # A collector never writes to us: readable end-of-file means it closed the connection (a restart), and
        # a message written now would be lost without an error.
        readable, _writable, _failed = select.select([self._socket], [], [], 0)
        return bool(readable) and self._socket.recv(1, socket.MSG_PEEK) == b""

    def _connect(self):
        if self.transport == "tcp":
            return socket.create_connection(self.address, timeout=self.timeout)
        family, kind, proto, _name, address = socket.getaddrinfo(*self.address, type=socket.SOCK_DGRAM)[0]
        udp = socket.socket(family, kind, proto)
        udp.settimeout(self.timeout)
        udp.connect(address)  # so that a collector's "port unreachable" surfaces as an error
        return udp

    def close(self):
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None


def collector() -> Collector:
    return Collector(settings.JUECE_AUDIT_SYSLOG, settings.JUECE_AUDIT_SYSLOG_TIMEOUT)


def enabled() -> bool:
    return bool(settings.JUECE_AUDIT_SYSLOG)


def ship_on_commit(record: dict):
    """Queue the event `record` for the collector once the current transaction commits (nothing if shipping is off)."""
    if enabled():
        transaction.on_commit(lambda: _shipper().put(record))


def failure_count() -> int:
    """Return how many events this process could not ship since it started."""
    return _shipper().failures


def flush(timeout: float) -> bool:
    """Wait up to `timeout` seconds until every queued event was sent or given up; tell whether the queue is empty."""
    return _shipper().wait_until_idle(timeout)


def send_now(records) -> tuple[int, list[int]]:
    """Send `records` one by one in this thread (manage.py audit_ship); return (sent, seqs not sent)."""
    target, sent, failed = collector(), 0, []
    try:
        for record in records:
            try:
                target.send(message(record))
                sent += 1
            except OSError as exc:
                failed.append(record["seq"])
                _warn(record["seq"], exc)
    finally:
        target.close()
    return sent, failed


def _warn(seq, exc):
    logger.warning(
        "审计事件 seq %s 未能发送到 syslog 收集器 %s（%s）；收集器恢复后运行 manage.py audit_ship --since %s 重新发送。"
        " Audit event seq %s not shipped to the syslog collector.",
        seq,
        settings.JUECE_AUDIT_SYSLOG,
        exc,
        seq,
        seq,
    )


class _Shipper:
    """The sending thread of one process and its bounded queue."""

    def __init__(self):
        self.queue = queue.Queue(maxsize=settings.JUECE_AUDIT_SYSLOG_QUEUE)
        self.failures = 0
        self.pending = 0
        self.idle = threading.Condition()
        self.collectors = {}
        threading.Thread(target=self.run, name="juece-audit-syslog", daemon=True).start()

    def put(self, record):
        with self.idle:
            self.pending += 1
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.done(failed=True)
            _warn(record["seq"], "queue full")

    def run(self):
        while True:
            record = self.queue.get()
            failed = False
            try:
                self.deliver(record)
            except Exception as exc:  # the thread must outlive any one event
                failed = True
                _warn(record.get("seq"), exc)
            finally:
                self.done(failed=failed)

    def deliver(self, record):
        # The collector is read per event, so a changed setting (tests, a reload) takes effect at once.
        key = (settings.JUECE_AUDIT_SYSLOG, settings.JUECE_AUDIT_SYSLOG_TIMEOUT)
        if not key[0]:
            return
        if key not in self.collectors:
            self.collectors[key] = collector()
        self.collectors[key].send(message(record))

    def done(self, *, failed):
        with self.idle:
            self.pending -= 1
            self.failures += failed
            self.idle.notify_all()

    def wait_until_idle(self, timeout):
        deadline = time.monotonic() + timeout
        with self.idle:
            while self.pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.idle.wait(remaining)
        return True


_state = {"pid": None, "shipper": None}
_state_lock = threading.Lock()


def _shipper() -> _Shipper:
    # One per process: a forked worker (gunicorn) does not inherit its parent's thread, so it starts its own.
    with _state_lock:
        if _state["pid"] != os.getpid():
            _state["shipper"] = _Shipper()
            _state["pid"] = os.getpid()
        return _state["shipper"]


@atexit.register
def _drain_at_exit():
    # A command (audit_archive, audit_purge from cron) exits right after committing: send what it queued first.
    if _state["pid"] == os.getpid():
        flush(settings.JUECE_AUDIT_SYSLOG_TIMEOUT * 2)

"""Province benchmark: seed a province on PostgreSQL, then measure its pages over HTTP (bench/run-province).

`seed` builds 100 governments (10 cities, each with 9 counties) with a user per role, runs ONE government's
year of 40 decisions through the real services (seed_demo's path: catalogue, stage records, documents,
sign-offs, audit events, viewflow tasks), then copies that year into every government × 8 years with
COPY: every id moved into its own range, foreign keys to the copied rows moved with them, organisations
and users swapped for the target government's, dates moved back by whole weeks (weekdays stay weekdays),
each audit event appended to the chain with its MAC computed by decisions/audit.py in sequence and each
sealed row resealed by decisions/seals.py, so `verify_audit` still holds. It is resumable: a
(government, year) whose catalogue exists is skipped, so `--governments 10` then `--governments 100` grows it.

`measure` logs in the users the pages are for, counts each page's SQL queries in-process
(CaptureQueriesContext) and drives gunicorn with keep-alive HTTP clients in threads; figures go to
bench/results-province.md. Not a test: nothing here asserts a time.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from catalog import walkthrough as catalogue_walk  # noqa: E402
from catalog.models import AnnualCatalogue  # noqa: E402
from decisions import audit, seals  # noqa: E402
from decisions.accounts.policy import mark_as_changed  # noqa: E402
from decisions.management.commands.seed_demo import Command as SeedDemo  # noqa: E402
from decisions.models import AuditEvent, ChainHead, Organisation  # noqa: E402
from decisions.walkthrough import build_cast  # noqa: E402
from decisions.walkthrough import initiation as walk  # noqa: E402

YEARS = 8
COUNTIES_PER_CITY = 9
TEMPLATE_GOVERNMENT = 1  # the first county of the first city
# Copies get ids from here on, each its own range: the application's own sequences stay far below.
COPY_ID_BASE = 10_000_000
STATE_FILE = "province-template.json"

# The template year's 40 decisions: seed_demo's stages (its `_advance`), each with the answers that make it real.
STAGES = [
    ("implementing", {}),
    ("public_participation", {"direct_vital_interest": True}),
    ("expert_review", {"highly_technical": True}),
    ("risk_assessment", {"stability_or_safety_impact": True}),
    ("legality_review", {"public_concern": True}),
    ("collective_decision", {"affects_specific_group": True}),
    ("rejected", {}),
    ("withdrawn", {}),
    ("waived", {"confidential_by_law": True}),
    ("listed", {}),
    ("drafting", {}),
    ("decided", {"market_affecting": True}),
    ("initiated", {}),
]
TOPICS = ["住房保障", "交通运输", "生态环境", "养老服务", "教育资源", "城市更新", "公共数据", "产业扶持"]

# What is copied: every row of these tables made by the template year (its decisions, catalogue and tasks).
# Not copied: organisations, users and roles (each government has its own), rule profiles, the calendar, the
# chain head, queued render jobs (copies' dossiers stay requested), form tokens.
COPIED_APPS = ("decisions", "catalog", "workflows", "reports", "viewflow")
NOT_COPIED = {
    "decisions.Organisation",
    "decisions.RoleAssignment",
    "decisions.RuleProfile",
    "decisions.WorkingCalendarYear",
    "decisions.CalendarDay",
    "decisions.ChainHead",
    "decisions.AuditArchive",
    "decisions.AuditAnchor",
    "decisions.FormSubmission",
    "decisions.SigningKey",
    "catalog.CatalogueImport",
    "workflows.UnitHead",
    "reports.BundleExport",
}


def government_code(index):
    city, county = divmod(index, COUNTIES_PER_CITY + 1)
    return f"p{city:02d}" if county == 0 else f"p{city:02d}-x{county}"


def government_name(index):
    city, county = divmod(index, COUNTIES_PER_CITY + 1)
    return f"试点{city + 1:02d}市人民政府" if county == 0 else f"试点{city + 1:02d}市第{county}县人民政府"


def build_government(index):
    """The organ, its office, justice bureau, units and one user per role (build_cast), its city above it."""
    city_index = index - index % (COUNTIES_PER_CITY + 1)
    parent = None if index == city_index else Organisation.objects.get(code=government_code(city_index))
    level = Organisation.Level.CITY if parent is None else Organisation.Level.COUNTY
    return build_cast(code=government_code(index), name=government_name(index), level=level, parent=parent, members=5)


def copied_models():
    models = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in COPIED_APPS and not model._meta.proxy:
            label = model._meta.label
            owner = model._meta.auto_created  # an M2M table goes with the model that declares it
            if label not in NOT_COPIED and (not owner or owner._meta.label not in NOT_COPIED):
                models.append(model)
    return models


def state_path():
    return Path(settings.VAR_DIR) / f"{connection.settings_dict['NAME']}-{STATE_FILE}"


# ---------------------------------------------------------------------------------------------------- seeding


def seed_template(year):
    """One government's year through the services (seed_demo's `_advance`); return the template's id spans."""
    if AuditEvent.objects.exists() and not state_path().exists():
        sys.exit("the database already holds a record but no province template: seed into a fresh database")
    cast = build_government(TEMPLATE_GOVERNMENT)
    first_seq = (ChainHead.objects.filter(id=1).values_list("last_seq", flat=True).first() or 0) + 1
    advance = SeedDemo()._advance
    with transaction.atomic():
        items = [
            (
                f"{cast.organ.name.replace('人民政府', '')}{TOPICS[i % len(TOPICS)]}重大行政决策事项第{i + 1}号",
                *STAGES[i % len(STAGES)],
            )
            for i in range(40)
        ]
        decisions = [walk.propose(cast, title=title) for title, _stage, _answers in items]
        published = catalogue_walk.publish_catalogue(
            cast, year, entries=[{"decision": d, "name": d.title, "planned": "9月份"} for d in decisions]
        )
        for decision, (_title, stage, answers) in zip(decisions, items, strict=True):
            advance(cast, published, decision, stage, answers)
    last_seq = ChainHead.objects.get(id=1).last_seq
    spans = {}
    for model in copied_models():
        if model is AuditEvent:
            continue
        spans[model._meta.label] = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = AuditEvent.objects.filter(seq__gte=first_seq, seq__lte=last_seq).values_list("pk", flat=True)
    spans["decisions.AuditEvent"] = max(ids)
    state = {
        "year": year,
        "government": TEMPLATE_GOVERNMENT,
        "spans": spans,
        "first_seq": first_seq,
        "last_seq": last_seq,
    }
    state_path().write_text(json.dumps(state, indent=1))
    return state


class Copier:
    """Copy the template year into (government, year): rows moved to the copy's id range and remapped."""

    def __init__(self, state):
        self.state = state
        self.models = copied_models()
        self.spans = state["spans"]
        self.template = Organisation.objects.get(code=government_code(state["government"]))
        self.template_orgs = {o.pk: o.code for o in Organisation.objects.filter(pk=self.template.pk)} | {
            o.pk: o.code for o in Organisation.objects.filter(parent=self.template)
        }
        prefix = f"{self.template.code}_"
        self.template_users = dict(
            get_user_model().objects.filter(username__startswith=prefix).values_list("pk", "username")
        )
        self.model_of_content_type = {ct.pk: ct.model_class() for ct in ContentType.objects.all()}
        self.rows = {}  # label → (columns, rows) of the template, read once
        for model in self.models:
            columns = [f.column for f in model._meta.local_concrete_fields]
            with connection.cursor() as cursor:
                where = ""
                if model is AuditEvent:
                    where = f" WHERE seq BETWEEN {state['first_seq']} AND {state['last_seq']} ORDER BY seq"
                else:
                    where = f" WHERE {model._meta.pk.column} <= {self.spans[model._meta.label]}"
                cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table}{where}")
                self.rows[model._meta.label] = (columns, cursor.fetchall())

    def delta(self, label, copy_index):
        return COPY_ID_BASE + copy_index * (self.spans[label] + 1)

    def copy(self, government, year, copy_index):
        organ = Organisation.objects.get(code=government_code(government))
        code = organ.code
        org_map = {
            pk: Organisation.objects.get(code=code + c[len(self.template.code) :]).pk
            for pk, c in self.template_orgs.items()
        }
        org_map[self.template.parent_id] = organ.parent_id
        users = dict(get_user_model().objects.filter(username__startswith=f"{code}_").values_list("username", "pk"))
        user_map = {
            pk: users[f"{code}_{name[len(self.template.code) + 1 :]}"] for pk, name in self.template_users.items()
        }
        user_labels = {self.template.code + "_": code + "_"}
        weeks = timedelta(weeks=52 * (self.state["year"] - year))
        old_short, new_short = self.template.name.replace("人民政府", ""), organ.name.replace("人民政府", "")
        old_ref, new_ref = f"{self.template.code}-{self.state['year']}-", f"{code}-{year}-"

        def moved(value):
            if isinstance(value, str):
                return value.replace(old_short, new_short).replace(str(self.state["year"]), str(year))
            return value

        with transaction.atomic():
            head = ChainHead.objects.select_for_update().get(id=1)
            for model in self.models:
                label = model._meta.label
                columns, rows = self.rows[label]
                fields = list(model._meta.local_concrete_fields)
                json_columns = {f.column for f in fields if f.get_internal_type() == "JSONField"}
                converters = [self.converter(f, copy_index, org_map, user_map, weeks, moved) for f in fields]
                out = []
                for row in rows:
                    values = [convert(value) for convert, value in zip(converters, row, strict=True)]
                    record = dict(zip(columns, values, strict=True))
                    if label == "decisions.Decision":
                        record["reference"] = row[columns.index("reference")].replace(old_ref, new_ref)
                    elif label == "catalog.AnnualCatalogue":
                        record["year"] = year
                    elif label == "catalog.CatalogueEntry":
                        record["key"] = uuid.uuid5(record["key"], f"{government}-{year}")
                    elif label == "viewflow.Task" and record["owner_permission"]:
                        role, anchor = record["owner_permission"].rsplit("_", 1)
                        record["owner_permission"] = f"{role}_{org_map.get(int(anchor), int(anchor))}"
                    for column in ("seed_object_id", "artifact_object_id"):
                        target = self.model_of_content_type.get(
                            record.get(column.replace("object_id", "content_type_id"))
                        )
                        if record.get(column) is not None and target is not None and target._meta.label in self.spans:
                            record[column] += self.delta(target._meta.label, copy_index)
                    if label == "decisions.AuditEvent":
                        self.rechain(record, head, copy_index, user_labels)
                    elif label in seals.SEALED and record.get("record_mac"):
                        instance = model(**{f.attname: record[f.column] for f in fields})
                        seals.seal(instance)
                        record["record_mac"], record["record_mac_algorithm"] = (
                            instance.record_mac,
                            instance.record_mac_algorithm,
                        )
                    out.append(
                        [Jsonb(v) if column in json_columns and v is not None else v for column, v in record.items()]
                    )
                with connection.cursor() as cursor:
                    raw = cursor.cursor  # psycopg's own cursor: COPY
                    with raw.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for values in out:
                            copy.write_row(values)
            head.head_mac = audit._head_mac(head.last_seq, head.last_mac, head.head_algorithm)
            head.save(update_fields=["last_seq", "last_mac", "head_mac"])

    def converter(self, field, copy_index, org_map, user_map, weeks, moved):
        if field.primary_key and not field.is_relation:
            delta = self.delta(field.model._meta.label, copy_index)
            return lambda v: v + delta
        if field.is_relation:
            target = field.related_model._meta.concrete_model._meta.label
            if target in self.spans:
                delta = self.delta(target, copy_index)
                return lambda v: None if v is None else v + delta
            if target == "decisions.Organisation":
                return lambda v: org_map.get(v, v)
            if target == settings.AUTH_USER_MODEL:
                return lambda v: user_map.get(v, v)
            return lambda v: v
        if field.get_internal_type() == "JSONField":  # read raw as text: parsed, so MACs see what the ORM sees
            return lambda v: None if v is None else json.loads(v)
        if field.get_internal_type() in ("DateTimeField", "DateField"):
            return lambda v: None if v is None else v - weeks
        if field.get_internal_type() in ("CharField", "TextField") and field.name in ("title", "name", "subject"):
            return moved
        return lambda v: v

    def rechain(self, record, head, copy_index, user_labels):
        """Append the copied event to the chain: next seq, ids of the copy, MAC over it and the previous MAC."""
        record["seq"] = head.last_seq + 1
        if record["decision_id_ref"] is not None:
            record["decision_id_ref"] += self.delta("decisions.Decision", copy_index)
        if record["object_type"] in self.spans and record["object_id"].isdigit():
            record["object_id"] = str(int(record["object_id"]) + self.delta(record["object_type"], copy_index))
        for old, new in user_labels.items():
            record["actor_label"] = record["actor_label"].replace(old, new)
        event = AuditEvent(**{f.attname: record[f.column] for f in AuditEvent._meta.local_concrete_fields})
        event.prev_mac = head.last_mac or audit.GENESIS
        record["prev_mac"] = event.prev_mac
        record["mac"] = audit.compute_mac(event, event.prev_mac)
        head.last_seq, head.last_mac = record["seq"], record["mac"]


def seed(governments):
    if connection.vendor != "postgresql":
        sys.exit("the province is seeded on PostgreSQL (COPY)")
    started = time.perf_counter()
    year = timezone.localdate().year
    state = json.loads(state_path().read_text()) if state_path().exists() else None
    for index in range(governments):
        if index != TEMPLATE_GOVERNMENT:  # the template government is built with its year, below
            build_government(index)
    built = time.perf_counter()
    if state is None:
        state = seed_template(year)
    templated = time.perf_counter()
    copier = Copier(state)
    copies = 0
    for index in range(governments):
        organ = Organisation.objects.get(code=government_code(index))
        for offset in range(YEARS):
            target_year = state["year"] - offset
            if (index, target_year) == (state["government"], state["year"]):
                continue
            if AnnualCatalogue.objects.filter(organ=organ, year=target_year).exists():
                continue
            copier.copy(index, target_year, index * YEARS + offset)
            copies += 1
        print(f"  {organ.name}: {YEARS} years", flush=True)
    finished = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures = {
        "governments": governments,
        "decisions": apps.get_model("decisions.Decision").objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "stage_records": apps.get_model("decisions.StageRecord").objects.count(),
        "tasks": apps.get_model("viewflow.Task").objects.count(),
        "users": get_user_model().objects.count(),
        "copies": copies,
        "seconds_users": built - started,
        "seconds_template": templated - built,
        "seconds_copies": finished - templated,
    }
    print(json.dumps(figures, indent=1))
    return figures


# ---------------------------------------------------------------------------------------------------- measuring


def login(username):
    """A session cookie for `username` (force_login: the login page itself is not what is measured)."""
    from django.test import Client

    user = get_user_model().objects.get(username=username)
    mark_as_changed(user)  # bench users are past their first-login password change
    client = Client()
    client.force_login(user)
    return client, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def pages(year):
    """(name, user, path) of each measured page; user None: anonymous, "token:<name>": the API with a token."""
    from rest_framework.authtoken.models import Token

    county, city = government_code(TEMPLATE_GOVERNMENT), government_code(0)
    lead = get_user_model().objects.get(username=f"{county}_undertaking_lead")
    Token.objects.get_or_create(user=lead)
    decision = apps.get_model("decisions.Decision").objects.get(reference=f"{county}-{year - 1}-0001")
    catalogue = AnnualCatalogue.objects.get(organ__code=county, year=year - 1, version__gte=1)
    search = f"state=IMPLEMENTING&q={county}-{year - 1}"
    superuser, _ = get_user_model().objects.get_or_create(
        username="bench_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return [
        ("inbox (县承办单位)", f"{county}_undertaking_lead", "/workflows/inbox/"),
        ("decision list, state + year + search (县政府办)", f"{county}_gov_office", f"/decisions/?{search}"),
        ("decision page (县承办单位)", f"{county}_undertaking_lead", f"/decisions/{decision.reference}/"),
        ("county dashboard (县政府办)", f"{county}_gov_office", f"/catalog/dashboards/{county}/{year - 1}/"),
        ("city dashboard, rolled up (市政府办)", f"{city}_gov_office", f"/catalog/dashboards/{city}/{year - 1}/"),
        ("API decision list, same filter (token)", f"token:{lead.username}", f"/api/v1/decisions/?{search}"),
        ("public catalogue page (anonymous)", None, f"/public/catalogues/{catalogue.pk}/"),
        (
            "admin changelist, same filter (baseline)",
            superuser.username,
            f"/admin/decisions/decision/?state__exact=IMPLEMENTING&q={county}-{year - 1}",
        ),
    ]


def count_queries(client, path, headers):
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def hammer(host, port, path, headers, requests, concurrency):
    """`requests` GETs over `concurrency` keep-alive connections; return each latency (s) and the wall time."""
    latencies, lock, left = [], threading.Lock(), [requests]

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
            with lock:
                latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(url, requests, concurrency, runs, label, out):
    from urllib.parse import urlsplit

    from rest_framework.authtoken.models import Token

    target = urlsplit(url)
    year = json.loads(state_path().read_text())["year"]
    governments = Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT).count()
    decisions = apps.get_model("decisions.Decision").objects.count()
    events = AuditEvent.objects.count()
    results = []
    for name, username, path in pages(year):
        headers, client = {}, None
        if username is None:
            from django.test import Client

            client = Client()
        elif username.startswith("token:"):
            from django.test import Client

            client = Client()
            token = Token.objects.get(user__username=username[len("token:") :]).key
            headers["Authorization"] = f"Token {token}"
        else:
            client, cookie = login(username)
            headers["Cookie"] = cookie
        queries = count_queries(client, path, {k: v for k, v in headers.items() if k != "Cookie"})
        hammer(target.hostname, target.port, path, headers, 20, concurrency)  # warm up both workers
        p50s, p95s, maxes, rates = [], [], [], []
        for _ in range(runs):
            latencies, wall = hammer(target.hostname, target.port, path, headers, requests, concurrency)
            p50s.append(percentile(latencies, 0.5) * 1000)
            p95s.append(percentile(latencies, 0.95) * 1000)
            maxes.append(max(latencies) * 1000)
            rates.append(len(latencies) / wall)
        row = {
            "page": name,
            "path": path,
            "queries": queries,
            "p50": statistics.median(p50s),
            "p95": statistics.median(p95s),
            "max": statistics.median(maxes),
            "rps": statistics.median(rates),
            "p95_runs": p95s,
        }
        results.append(row)
        print(
            f"{name}: {row['queries']} queries, p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms, {row['rps']:.1f} req/s",
            flush=True,
        )
    admin = results[-1]
    lines = [
        f"\n## {label} (PostgreSQL, {time.strftime('%Y-%m-%d %H:%M')} Asia/Shanghai, {os.cpu_count()} cores)\n",
        f"Command: `bench/run-province --governments {governments} --requests {requests} --runs {runs} "
        f"--concurrency {concurrency}`; {governments} governments, {decisions:,} decisions, "
        f"{events:,} audit events; gunicorn 2 workers (config.wsgi, JUECE_DEBUG=false), {requests} requests × {runs} runs "
        f"per page at concurrency {concurrency}, medians of the runs.\n\n",
        "| page | SQL queries | p50 ms | p95 ms (runs) | max ms | req/s | p50 ÷ admin |\n",
        "|---|---:|---:|---:|---:|---:|---:|\n",
    ]
    for row in results:
        runs_text = ", ".join(f"{v:.0f}" for v in row["p95_runs"])
        lines.append(
            f"| {row['page']} `{row['path']}` | {row['queries']} | {row['p50']:.0f} | **{row['p95']:.0f}** ({runs_text}) | "
            f"{row['max']:.0f} | {row['rps']:.1f} | {row['p50'] / admin['p50']:.2f}× |\n"
        )
    with open(out, "a", encoding="utf-8") as fh:
        fh.writelines(lines)
    sys.stdout.writelines(lines)
    return results


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    seeding = sub.add_parser("seed")
    seeding.add_argument("--governments", type=int, default=100)
    measuring = sub.add_parser("measure")
    measuring.add_argument("--url", default="http://127.0.0.1:8311")
    measuring.add_argument("--requests", type=int, default=200)
    measuring.add_argument("--concurrency", type=int, default=2)
    measuring.add_argument("--runs", type=int, default=3)
    measuring.add_argument("--label", default="province")
    measuring.add_argument("--out", default=str(Path(__file__).with_name("results-province.md")))
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.governments)
    else:
        measure(args.url, args.requests, args.concurrency, args.runs, args.label, args.out)


if __name__ == "__main__":
    main()

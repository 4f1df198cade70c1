"""The annual catalogue and its adjustments, as services (第三条第三款; procedure.md B9, P19–P21, P24–P25).

Each service is one transaction: lock the catalogue (or adjustment) row, gate the
actor's role at the organ, check the B9 rules, change the records, append the audit
events. A refusal raises before anything is written, and the transaction rolls back
whatever was. State, version and entry validity move only in catalog/lifecycle.py.
"""

import hashlib
import uuid
from contextlib import contextmanager
from pathlib import PurePath

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from catalog import entries as entry_fields
from catalog import lifecycle, signals
from catalog import rules as catalogue_rules
from catalog.models import (
    AnnualCatalogue,
    CatalogueAdjustment,
    CatalogueDocument,
    CatalogueEntry,
    CatalogueState,
)
from decisions import audit, profiles, seals
from decisions import lifecycle as decision_lifecycle
from decisions.models import (
    Decision,
    DecisionState,
    Document,
    DocumentType,
    HandoverTask,
    Organisation,
    Role,
    RoleAssignment,
    Stage,
    StageStatus,
)
from decisions.permissions import not_permitted, require_organ_role
from decisions.rules import Context, ProcedureRefused, refuse
from decisions.rules.facts import catalogue_entry, filled
from decisions.services import consultation, implementation, initiation
from decisions.services.common import action, check_upload, record_event, save_file

Kind = CatalogueAdjustment.Kind
Disposition = CatalogueEntry.YearEndDisposition
DocKind = CatalogueDocument.Kind
CONSULTATION_STAGES = (Stage.PP, Stage.HEARING, Stage.EX, Stage.RA)


# -- plumbing --------------------------------------------------------------------------------------


def _lock_catalogue(catalogue):
    pk = catalogue.pk if isinstance(catalogue, AnnualCatalogue) else catalogue
    return AnnualCatalogue.objects.select_for_update(of=("self",)).select_related("organ", "profile").get(pk=pk)


def _lock_adjustment(adjustment):
    pk = adjustment.pk if isinstance(adjustment, CatalogueAdjustment) else adjustment
    catalogue_id = CatalogueAdjustment.objects.values_list("catalogue_id", flat=True).get(pk=pk)
    catalogue = _lock_catalogue(catalogue_id)  # the catalogue first: its version is what publication bumps
    locked = CatalogueAdjustment.objects.select_for_update(of=("self",)).select_related("decision").get(pk=pk)
    locked.catalogue = catalogue
    return locked


def _gate(actor, organ, roles):
    if tuple(roles) == (lifecycle.SYSTEM,):
        return lifecycle.SYSTEM
    return require_organ_role(actor, organ, [r for r in roles if r != lifecycle.SYSTEM])


def _context(actor, role, target, now=None, **params):
    return Context(
        actor=actor if getattr(actor, "pk", None) else None,
        role=role,
        params=params,
        target=target,
        now=now or timezone.now(),
    )


@contextmanager
def _on_catalogue(actor, catalogue, key=None, roles=None, **params):
    """Open a transaction, lock the catalogue, gate the actor and yield the rule context."""
    with transaction.atomic():
        locked = _lock_catalogue(catalogue)
        role = _gate(actor, locked.organ, roles or lifecycle.STEPS[key].roles)
        yield _context(actor, role, locked, **params)


@contextmanager
def _on_adjustment(actor, adjustment, key, roles=None, **params):
    with transaction.atomic():
        locked = _lock_adjustment(adjustment)
        role = _gate(actor, locked.catalogue.organ, roles or lifecycle.STEPS[key].roles)
        yield _context(actor, role, locked, **params)


def _require(rules, ctx):
    failures = lifecycle.evaluate(rules, ctx)
    if failures:
        raise ProcedureRefused(failures)
    return lifecycle.warnings(rules, ctx)


def _event(ctx, action_name, obj, payload=None):
    """Append an audit event about the catalogue (no decision), in the current transaction."""
    return audit.append(actor=ctx.actor, role=ctx.role, action=action_name, obj=obj, payload=payload or {})


def _take(ctx, obj, key, *args, payload=None):
    """Perform B9 step `key` on a locked catalogue or adjustment and audit it."""
    source, target = lifecycle.perform(obj, key, ctx, *args)
    _event(ctx, key.replace(".", ":"), obj, {"step": key, "from": source, "to": target, **(payload or {})})
    return obj


def _store(ctx, catalogue, upload, kind, *, adjustment=None, entry_key=None, issued_by="", issued_on=None):
    """Store one record of the catalogue's procedure (B8 item 1) with its SHA-256, and audit it."""
    check_upload(upload.name, upload.content)
    digest = hashlib.sha256(upload.content).hexdigest()
    document = Document(
        doc_type=upload.doc_type if upload.doc_type in DocumentType.values else DocumentType.OTHER,
        title=upload.title or str(DocKind(kind).label),
        original_name=PurePath(upload.name).name,
        size=len(upload.content),
        sha256=digest,
        signed=upload.signed,
        sealed=upload.sealed,
        uploaded_by=ctx.actor,
        uploaded_role=ctx.role,
        uploaded_at=ctx.now,
    )
    save_file(document.file, PurePath(upload.name).name, upload.content)
    seals.seal_document(document, upload.content)
    document.save()
    record = CatalogueDocument.objects.create(
        catalogue=catalogue,
        adjustment=adjustment,
        entry_key=entry_key,
        kind=kind,
        document=document,
        issued_by=issued_by or "",
        issued_on=issued_on,
    )
    _event(
        ctx,
        "catalogue:document",
        record,
        {
            "kind": kind,
            "name": document.original_name,
            "sha256": digest,
            "size": document.size,
            "catalogue": catalogue.pk,
            "adjustment": getattr(adjustment, "pk", None),
            "issued_by": issued_by,
            "issued_on": issued_on,
        },
    )
    return record


def _holds_at(user, role, organisation_ids):
    return RoleAssignment.objects.filter(user=user, role=role, organisation_id__in=organisation_ids).exists()


def _refuse_state(target, allowed, what):
    refuse(
        "STATE_PREREQUISITE_MISSING",
        "P7; B9",
        f"目录处于“{target.get_state_display()}”，不能{what}(须处于：{'、'.join(str(CatalogueState(s).label) for s in allowed)})",
        f"Cannot {what} while the catalogue is {target.state}",
    )


# -- opening and collecting ------------------------------------------------------------------------


def open_catalogue(actor, organ, year, *, call_for_proposals, title=""):
    """– → COLLECTING: open the organ's catalogue for `year` with its call for proposals (征集通知), pinned to the profile."""
    if not isinstance(year, int) or not 1900 < year < 3000:
        refuse("CATALOGUE_YEAR_INVALID", "B9", "目录年度不正确", f"Invalid catalogue year {year!r}")
    with transaction.atomic():
        organ = Organisation.objects.select_for_update().get(pk=organ.pk)  # one open catalogue per organ and year
        role = _gate(actor, organ, [Role.GOV_OFFICE])
        ctx = _context(actor, role, None, organ=organ, year=year, call_for_proposals=call_for_proposals)
        _require(catalogue_rules.OPEN, ctx)
        # P2: the catalogue is pinned to the profile version in force when it is opened.
        profile = profiles.current(organ.profile_code)
        catalogue = AnnualCatalogue.objects.create(
            organ=organ,
            year=year,
            title=title or f"{organ.name}{year}年度重大行政决策事项目录",
            profile=profile,
            created_at=ctx.now,
        )
        ctx.target = catalogue
        _event(
            ctx,
            "catalogue:open",
            catalogue,
            {"to": catalogue.state, "organ": organ.code, "year": year, "profile": str(profile)},
        )
        _store(ctx, catalogue, call_for_proposals, DocKind.CALL_FOR_PROPOSALS)
        return catalogue


def _link_refusal(decision, catalogue, exclude_entry=None):
    """Refuse linking `decision` to an entry now rather than at compilation (B9; scenario 8)."""
    if catalogue_rules.not_applicable(decision):
        refuse(
            "MATTER_NOT_APPLICABLE",
            "第三条第二款",
            "不适用本条例或决定不予启动的事项，不能列入决策事项目录",
            "A matter outside the Decree, or one the organ declined, cannot be listed in the catalogue",
            decision.reference,
        )
    problem = catalogue_rules.link_problem(decision, catalogue)
    twice = catalogue.draft_entries().filter(decision=decision)
    if exclude_entry is not None:
        twice = twice.exclude(pk=exclude_entry.pk)
    if twice.exists():
        problem = f"{decision.reference} 已列入本目录"
    if problem:
        refuse(
            "CATALOGUE_ENTRY_INVALID",
            "B9",
            f"目录事项不能关联该决策：{problem}",
            "That decision cannot be linked to an entry",
            decision.reference,
        )


def _set_entry_fields(entry, values):
    co_units = values.pop("co_units", None)
    for name, value in values.items():
        setattr(entry, name, value)
    entry.save()
    if co_units is not None:
        entry.co_units.set([u for u in co_units if u is not None])


def add_entry(actor, catalogue, *, decision=None, proposal_form=None, **fields):
    """Add an entry to a catalogue being collected, linked to a PROPOSED (or carried-over) decision if given."""
    with _on_catalogue(actor, catalogue, roles=[Role.GOV_OFFICE]) as ctx:
        catalogue = ctx.target
        fields = entry_fields.with_planned_dates(fields, catalogue.year)
        values = entry_fields.to_model_values(fields)
        if catalogue.state != CatalogueState.COLLECTING:
            _refuse_state(catalogue, [CatalogueState.COLLECTING], "增加目录事项")
        if decision is not None:
            decision = Decision.objects.get(pk=decision.pk)
            _link_refusal(decision, catalogue)
        seq_no = (catalogue.entries.aggregate(n=Max("seq_no"))["n"] or 0) + 1
        entry = CatalogueEntry(catalogue=catalogue, key=uuid.uuid4(), valid_from=1, seq_no=seq_no, decision=decision)
        _set_entry_fields(entry, values)
        _event(
            ctx,
            "catalogue:entry_add",
            entry,
            {
                "catalogue": catalogue.pk,
                "key": str(entry.key),
                "seq_no": seq_no,
                "decision": getattr(decision, "pk", None),
                **entry_fields.to_json(fields),
            },
        )
        if proposal_form is not None:
            _store(ctx, catalogue, proposal_form, DocKind.PROPOSAL_FORM, entry_key=entry.key)
        return entry


_UNSET = object()


def update_entry(actor, entry, *, decision=_UNSET, **fields):
    """Change an entry while its catalogue is being collected."""
    with _on_catalogue(actor, entry.catalogue_id, roles=[Role.GOV_OFFICE]) as ctx:
        catalogue = ctx.target
        fields = entry_fields.with_planned_dates(fields, catalogue.year)
        values = entry_fields.to_model_values(fields)
        if catalogue.state != CatalogueState.COLLECTING:
            _refuse_state(catalogue, [CatalogueState.COLLECTING], "修改目录事项")
        entry = CatalogueEntry.objects.get(pk=entry.pk)
        if decision is not _UNSET:
            if decision is not None:
                decision = Decision.objects.get(pk=decision.pk)
                _link_refusal(decision, catalogue, exclude_entry=entry)
            values["decision"] = decision
        _set_entry_fields(entry, values)
        payload = entry_fields.to_json(fields)
        if decision is not _UNSET:
            payload["decision"] = getattr(decision, "pk", None)
        _event(ctx, "catalogue:entry_update", entry, {"catalogue": catalogue.pk, "key": str(entry.key), **payload})
        return entry


def remove_entry(actor, entry):
    """Take an entry out of a catalogue being collected (it was never published)."""
    with _on_catalogue(actor, entry.catalogue_id, roles=[Role.GOV_OFFICE]) as ctx:
        catalogue = ctx.target
        if catalogue.state != CatalogueState.COLLECTING:
            _refuse_state(catalogue, [CatalogueState.COLLECTING], "删除目录事项")
        entry = CatalogueEntry.objects.get(pk=entry.pk)
        _event(
            ctx,
            "catalogue:entry_remove",
            entry,
            {"catalogue": catalogue.pk, "key": str(entry.key), "name": entry.name, "decision": entry.decision_id},
        )
        entry.co_units.clear()
        entry.delete()
        return catalogue


# -- compilation to publication --------------------------------------------------------------------


def _create_decision_for(ctx, entry):
    """P25: the compilation creates the entry's decision in PROPOSED, recording who put it forward."""
    proposal = {k: v for k, v in (entry.proposal_fields or {}).items() if k in entry_fields.PROPOSAL_FIELDS}
    decision = initiation.register_proposal(
        ctx.actor,
        ctx.target.organ if isinstance(ctx.target, AnnualCatalogue) else ctx.target.catalogue.organ,
        title=entry.name,
        source_type=Decision.SourceType.CATALOGUE_COMPILATION,
        proposer_type=entry.proposer_type,
        proposer_name=entry.lead_unit.name if entry.lead_unit_id else "",
        category=entry.category,
        **proposal,
    )
    return decision


def compile(actor, catalogue, *, compiled_list):
    """COLLECTING → COMPILED: check every entry and create the decisions entries still lack (B9, P25)."""
    with _on_catalogue(actor, catalogue, "catalogue.compile", compiled_list=compiled_list) as ctx:
        catalogue = ctx.target
        warnings = lifecycle.warnings(lifecycle.STEPS["catalogue.compile"].rule_list(), ctx)
        _take(
            ctx,
            catalogue,
            "catalogue.compile",
            payload={
                "entries": catalogue.draft_entries().count(),
                "warnings": [{"code": w.code, "detail": w.detail} for w in warnings],
            },
        )
        for entry in catalogue.draft_entries().filter(decision__isnull=True).order_by("seq_no"):
            entry.decision = _create_decision_for(ctx, entry)
            entry.save(update_fields=["decision"])
            _event(
                ctx,
                "catalogue:entry_link",
                entry,
                {"key": str(entry.key), "decision": entry.decision.pk, "created": True},
            )
        _store(ctx, catalogue, compiled_list, DocKind.COMPILED_LIST)
        catalogue.warnings = warnings
        return catalogue


def vet(actor, catalogue, *, opinion):
    """COMPILED → VETTED: the legality review department's vetting opinion on the compiled catalogue."""
    with _on_catalogue(actor, catalogue, "catalogue.vet", opinion=opinion) as ctx:
        _take(ctx, ctx.target, "catalogue.vet")
        _store(ctx, ctx.target, opinion, DocKind.VETTING_OPINION)
        return ctx.target


def approve_by_government(actor, catalogue, *, approval):
    """COMPILED/VETTED → GOV_APPROVED: record the executive meeting's minutes or the government's approval."""
    with _on_catalogue(actor, catalogue, "catalogue.approve", approval=approval) as ctx:
        _take(ctx, ctx.target, "catalogue.approve")
        _store(ctx, ctx.target, approval, DocKind.GOV_APPROVAL)
        return ctx.target


def return_to_collecting(actor, catalogue, *, reason):
    """COMPILED/VETTED → COLLECTING: vetting or the government sends the catalogue back, with a reason."""
    with _on_catalogue(actor, catalogue, "catalogue.return", reason=reason) as ctx:
        _take(ctx, ctx.target, "catalogue.return", reason, payload={"reason": reason})
        return ctx.target


def record_party_consent(actor, catalogue, *, consent, issued_on, issued_by):
    """GOV_APPROVED → PARTY_CONSENTED: record the party committee's consent (第三条第三款)."""
    with _on_catalogue(
        actor, catalogue, "catalogue.consent", consent=consent, issued_on=issued_on, issued_by=issued_by
    ) as ctx:
        _take(ctx, ctx.target, "catalogue.consent", payload={"issued_on": issued_on, "issued_by": issued_by})
        _store(ctx, ctx.target, consent, DocKind.PARTY_CONSENT, issued_by=issued_by, issued_on=issued_on)
        return ctx.target


def record_party_non_consent(actor, catalogue, *, reason, document=None, issued_on=None, issued_by=""):
    """GOV_APPROVED → COMPILED: the party committee does not agree or asks for changes; approval is needed again."""
    with _on_catalogue(actor, catalogue, "catalogue.non_consent", reason=reason) as ctx:
        _take(ctx, ctx.target, "catalogue.non_consent", reason, payload={"reason": reason})
        if document is not None:
            _store(ctx, ctx.target, document, DocKind.PARTY_NON_CONSENT, issued_by=issued_by, issued_on=issued_on)
        return ctx.target


def publish(actor, catalogue, *, notice_number, notice_date, notice_url, notice):
    """PARTY_CONSENTED → PUBLISHED: publish version 1 and list each linked decision still PROPOSED (T3)."""
    with _on_catalogue(
        actor,
        catalogue,
        "catalogue.publish",
        notice_number=notice_number,
        notice_date=notice_date,
        notice_url=notice_url,
        notice=notice,
    ) as ctx:
        catalogue = ctx.target
        _take(
            ctx,
            catalogue,
            "catalogue.publish",
            ctx.now,
            notice_number,
            notice_date,
            notice_url,
            payload={
                "version": 1,
                "notice_number": notice_number,
                "notice_date": notice_date,
                "notice_url": notice_url,
            },
        )
        _store(ctx, catalogue, notice, DocKind.PUBLICATION_NOTICE)
        for entry in catalogue.entries_at(1).select_related("decision").order_by("seq_no"):
            # T3 runs for each linked decision in PROPOSED; a carry-over keeps its state (P21).
            if entry.decision is not None and entry.decision.state == DecisionState.PROPOSED:
                initiation.list_in_catalogue(entry.decision, listing=catalogue)
        signals.catalogue_published.send(AnnualCatalogue, catalogue=catalogue, version=1, adjustment=None)
        return catalogue


# -- year end --------------------------------------------------------------------------------------


def _disposition_refusal(detail):
    refuse(
        "CATALOGUE_ENTRY_INVALID",
        "P21",
        "年终处理方式只能是结转下一年度或拟撤出，且只适用于办理中的事项",
        "A year-end disposition is CARRY_OVER or REMOVE_PENDING, for an entry still in progress",
        detail,
    )


def _apply_disposition(ctx, catalogue, key, disposition):
    if disposition not in Disposition.values:
        _disposition_refusal(str(disposition))
    entry = catalogue.entries_at().filter(key=key).select_related("decision").first()
    if entry is None:
        refuse(
            "CATALOGUE_ENTRY_INVALID",
            "P21",
            "目录现行版本中没有该事项",
            "No such entry in the current version",
            str(key),
        )
    if catalogue_rules.year_end_status(entry.decision) != CatalogueEntry.YearEndStatus.IN_PROGRESS:
        _disposition_refusal(entry.name)
    entry.set_year_end_disposition(disposition)
    entry.save(update_fields=["year_end_disposition"])
    _event(ctx, "catalogue:entry_disposition", entry, {"key": str(entry.key), "disposition": disposition})
    return entry


def _entry_key(entry_or_key):
    return entry_or_key.key if isinstance(entry_or_key, CatalogueEntry) else uuid.UUID(str(entry_or_key))


def set_year_end_disposition(actor, catalogue, entry, disposition):
    """Mark an in-progress entry CARRY_OVER or REMOVE_PENDING before the year-end report (P21)."""
    with _on_catalogue(actor, catalogue, roles=[Role.GOV_OFFICE]) as ctx:
        if ctx.target.state != CatalogueState.PUBLISHED:
            _refuse_state(ctx.target, [CatalogueState.PUBLISHED], "确定年终处理方式")
        return _apply_disposition(ctx, ctx.target, _entry_key(entry), disposition)


def _withdraw_at_year_end(entry, catalogue):
    """T29 for a REMOVE_PENDING entry if its guard holds; otherwise the entry is carried over (P21)."""
    failures = implementation.withdrawal_failures(Decision.objects.get(pk=entry.decision_id), source=catalogue)
    if failures:
        return False, [f.code for f in failures]
    implementation.withdraw(entry.decision, source=catalogue)
    return True, []


def report_year_end(actor, catalogue, *, report, published_on, dispositions=None):
    """PUBLISHED → YEAR_END_REPORTED: the completion report; REMOVE_PENDING decisions are withdrawn (T29) or carried over."""
    with _on_catalogue(actor, catalogue, "catalogue.year_end", report=report, published_on=published_on) as ctx:
        catalogue = ctx.target
        if catalogue.state == CatalogueState.PUBLISHED:
            for key, disposition in (dispositions or {}).items():
                _apply_disposition(ctx, catalogue, _entry_key(key), disposition)
        _take(
            ctx,
            catalogue,
            "catalogue.year_end",
            ctx.now,
            payload={"published_on": published_on, "version": catalogue.version},
        )
        _store(ctx, catalogue, report, DocKind.YEAR_END_REPORT, issued_on=published_on)
        for entry in catalogue.entries_at().select_related("decision").order_by("seq_no"):
            status = catalogue_rules.year_end_status(entry.decision)
            disposition = entry.year_end_disposition if status == CatalogueEntry.YearEndStatus.IN_PROGRESS else ""
            detail = {}
            if disposition == Disposition.REMOVE_PENDING:
                withdrawn, codes = _withdraw_at_year_end(entry, catalogue)
                if withdrawn:
                    status = CatalogueEntry.YearEndStatus.WITHDRAWN
                else:
                    disposition, detail = Disposition.CARRY_OVER, {"withdrawal_refused": codes}
            entry.record_year_end(status, disposition)
            entry.save(update_fields=["year_end_status", "year_end_disposition"])
            _event(
                ctx,
                "catalogue:entry_year_end",
                entry,
                {
                    "key": str(entry.key),
                    "decision": entry.decision_id,
                    "status": status,
                    "disposition": disposition,
                    **detail,
                },
            )
        return catalogue


def _lapse(catalogue, now):
    """At 24:00 on 31 December every open adjustment lapses to REJECTED (system, reason "year end")."""
    lapsed = []
    for adjustment in catalogue.adjustments.filter(state__in=lifecycle.OPEN_ADJUSTMENT).order_by("id"):
        with _on_adjustment(None, adjustment, "adjustment.reject", roles=[lifecycle.SYSTEM], reason="year end") as ctx:
            ctx.now = now
            _take(ctx, ctx.target, "adjustment.reject", "year end", payload={"reason": "year end", "lapsed": True})
            lapsed.append(ctx.target)
    return lapsed


def close_if_due(now=None, catalogue=None):
    """System: lapse open adjustments after 31 December, and close each reported catalogue whose year is over (P21)."""
    now = now or timezone.now()
    closed = []
    candidates = AnnualCatalogue.objects.filter(state__in=[CatalogueState.PUBLISHED, CatalogueState.YEAR_END_REPORTED])
    if catalogue is not None:
        candidates = candidates.filter(pk=catalogue.pk)
    for item in candidates.order_by("year", "id"):
        if now < catalogue_rules.year_end(item.year):
            continue
        _lapse(item, now)
        with _on_catalogue(None, item, "catalogue.close") as ctx:
            ctx.now = now
            locked = ctx.target
            # Closed at year end or when the report is published, whichever is later.
            if locked.state == CatalogueState.YEAR_END_REPORTED and now >= max(
                catalogue_rules.year_end(locked.year), locked.year_end_reported_at
            ):
                _take(ctx, locked, "catalogue.close", now, payload={"at": now})
                closed.append(locked)
    return closed


# -- adjustments -----------------------------------------------------------------------------------


def _may_adjust(actor, role, kind, entry, values):
    """An undertaking unit proposes adjustments only for entries it leads (湖州/兰溪 practice)."""
    if role != Role.UNDERTAKING_LEAD:
        return
    units = set()
    if entry is not None:
        units.add(entry.lead_unit_id)
        if entry.decision_id and entry.decision.lead_unit_id:
            units.add(entry.decision.lead_unit_id)
    if kind == Kind.ADD:
        if values.get("lead_unit") is None:
            return  # the entry lacks its lead unit: refused by the rules as CATALOGUE_ENTRY_INVALID
        units.add(values["lead_unit"].pk)
    units.discard(None)
    if not units or not _holds_at(actor, Role.UNDERTAKING_LEAD, units):
        raise not_permitted([Role.GOV_OFFICE, Role.UNDERTAKING_LEAD], "只能对本单位承办的目录事项提出调整")


def propose_adjustment(actor, catalogue, *, kind, reason, entry=None, decision=None, data=None, documents=()):
    """– → PROPOSED: propose to ADD, REMOVE or MODIFY one entry of a published catalogue (P20)."""
    data = dict(data or {})
    if kind == Kind.REMOVE:
        data = {}
    entry_fields.check_names(data)
    with _on_catalogue(actor, catalogue, roles=[Role.UNDERTAKING_LEAD, Role.GOV_OFFICE]) as ctx:
        catalogue = ctx.target
        data = entry_fields.with_planned_dates(data, catalogue.year)
        current = None
        if entry is not None and kind in (Kind.REMOVE, Kind.MODIFY):
            current = catalogue.entries_at().filter(key=_entry_key(entry)).select_related("decision").first()
        if kind in (Kind.REMOVE, Kind.MODIFY):
            decision = current.decision if current is not None else None
        elif decision is not None:
            decision = Decision.objects.get(pk=decision.pk)
        values = entry_fields.to_model_values(data)
        _may_adjust(actor, ctx.role, kind, current, values)
        ctx.params.update(kind=kind, reason=reason, entry=current, decision=decision, data=data)
        _require(catalogue_rules.PROPOSE, ctx)
        adjustment = CatalogueAdjustment.objects.create(
            catalogue=catalogue,
            kind=kind,
            entry_key=current.key if current is not None else uuid.uuid4(),
            decision=decision,
            new_entry_data=entry_fields.to_json(data),
            reason=reason,
            proposed_by=actor,
            proposed_at=ctx.now,
        )
        _event(
            ctx,
            "adjustment:propose",
            adjustment,
            {
                "catalogue": catalogue.pk,
                "kind": kind,
                "entry_key": str(adjustment.entry_key),
                "decision": getattr(decision, "pk", None),
                "reason": reason,
                "data": adjustment.new_entry_data,
            },
        )
        for upload in documents or ():
            _store(
                ctx,
                catalogue,
                upload,
                DocKind.ADJUSTMENT_PROPOSAL,
                adjustment=adjustment,
                entry_key=adjustment.entry_key,
            )
        return adjustment


def review_adjustment(actor, adjustment, *, review):
    """PROPOSED → REVIEWED: the government office's review record."""
    with _on_adjustment(actor, adjustment, "adjustment.review", review=review) as ctx:
        _take(ctx, ctx.target, "adjustment.review")
        _store(ctx, ctx.target.catalogue, review, DocKind.ADJUSTMENT_REVIEW, adjustment=ctx.target)
        return ctx.target


def approve_adjustment(actor, adjustment, *, approval):
    """REVIEWED → GOV_APPROVED: the government's approval of the adjustment."""
    with _on_adjustment(actor, adjustment, "adjustment.approve", approval=approval) as ctx:
        _take(ctx, ctx.target, "adjustment.approve")
        _store(ctx, ctx.target.catalogue, approval, DocKind.GOV_APPROVAL, adjustment=ctx.target)
        return ctx.target


def record_adjustment_consent(actor, adjustment, *, consent, issued_on, issued_by):
    """GOV_APPROVED → PARTY_CONSENTED: the party committee's consent to the adjustment (P3)."""
    with _on_adjustment(
        actor, adjustment, "adjustment.consent", consent=consent, issued_on=issued_on, issued_by=issued_by
    ) as ctx:
        _take(ctx, ctx.target, "adjustment.consent", payload={"issued_on": issued_on, "issued_by": issued_by})
        _store(
            ctx,
            ctx.target.catalogue,
            consent,
            DocKind.PARTY_CONSENT,
            adjustment=ctx.target,
            issued_by=issued_by,
            issued_on=issued_on,
        )
        return ctx.target


def reject_adjustment(actor, adjustment, *, reason, document=None):
    """Open → REJECTED: the office rejects, or the party liaison records the committee's non-consent; no new version."""
    with _on_adjustment(
        actor, adjustment, "adjustment.reject", roles=[Role.GOV_OFFICE, Role.PARTY_LIAISON], reason=reason
    ) as ctx:
        if ctx.role == Role.PARTY_LIAISON and ctx.target.state != lifecycle.GOV_APPROVED:
            # The party liaison records non-consent, which comes only after government approval.
            raise not_permitted([Role.GOV_OFFICE], "党委请示报告经办只能记录党委不同意")
        _take(ctx, ctx.target, "adjustment.reject", reason, payload={"reason": reason})
        if document is not None:
            kind = DocKind.PARTY_NON_CONSENT if ctx.role == Role.PARTY_LIAISON else DocKind.ADJUSTMENT_REVIEW
            _store(ctx, ctx.target.catalogue, document, kind, adjustment=ctx.target)
        return ctx.target


def _next_seq_no(catalogue):
    return (catalogue.entries.aggregate(n=Max("seq_no"))["n"] or 0) + 1


def _new_row(catalogue, version, key, seq_no, values, decision):
    row = CatalogueEntry(catalogue=catalogue, key=key, valid_from=version, seq_no=seq_no, decision=decision)
    _set_entry_fields(row, dict(values))
    return row


def publish_adjustment(actor, adjustment, *, notice_number, notice_date, notice_url, notice):
    """→ PUBLISHED: publish the adjustment as catalogue version n+1 and apply its effect on the decision (P20)."""
    with _on_adjustment(
        actor,
        adjustment,
        "adjustment.publish",
        notice_number=notice_number,
        notice_date=notice_date,
        notice_url=notice_url,
        notice=notice,
    ) as ctx:
        adjustment = ctx.target
        catalogue = adjustment.catalogue
        version = catalogue.version + 1
        _take(
            ctx,
            adjustment,
            "adjustment.publish",
            ctx.now,
            version,
            notice_number,
            notice_date,
            notice_url,
            payload={
                "version": version,
                "kind": adjustment.kind,
                "notice_number": notice_number,
                "notice_date": notice_date,
                "notice_url": notice_url,
            },
        )
        catalogue.bump_version()
        catalogue.save(update_fields=["version"])
        _store(ctx, catalogue, notice, DocKind.PUBLICATION_NOTICE, adjustment=adjustment)
        old = catalogue.entries_at(version - 1).filter(key=adjustment.entry_key).select_related("decision").first()
        changes = entry_fields.to_model_values(adjustment.new_entry_data)
        if old is not None:
            old.retire(version)
            old.save(update_fields=["valid_to"])
        if adjustment.kind == Kind.ADD:
            decision = adjustment.decision
            row = _new_row(catalogue, version, adjustment.entry_key, _next_seq_no(catalogue), changes, decision)
            if decision is None:
                row.decision = decision = _create_decision_for(ctx, row)
                row.save(update_fields=["decision"])
                adjustment.decision = decision
                adjustment.save(update_fields=["decision"])
        elif adjustment.kind == Kind.MODIFY:
            values = {**entry_fields.of_entry(old), **changes}
            row = _new_row(catalogue, version, old.key, old.seq_no, values, old.decision)
        else:
            row = None
        _event(
            ctx,
            "catalogue:version",
            catalogue,
            {
                "version": version,
                "adjustment": adjustment.pk,
                "kind": adjustment.kind,
                "retired": getattr(old, "pk", None),
                "added": getattr(row, "pk", None),
            },
        )
        _apply_effect(ctx, adjustment, old, row)
        signals.catalogue_published.send(AnnualCatalogue, catalogue=catalogue, version=version, adjustment=adjustment)
        return adjustment


def _apply_effect(ctx, adjustment, old, row):
    """What a published adjustment does to the decision (B9, P20)."""
    if adjustment.kind == Kind.ADD:
        decision = Decision.objects.get(pk=row.decision_id)
        if decision.state == DecisionState.PROPOSED:
            initiation.list_in_catalogue(decision, listing=adjustment)  # T3
    elif adjustment.kind == Kind.REMOVE:
        if adjustment.decision is not None:
            implementation.withdraw(Decision.objects.get(pk=adjustment.decision_id), source=adjustment)  # T29
    elif old.decision_id is not None:
        decision = Decision.objects.get(pk=old.decision_id)
        if decision.state in decision_lifecycle.CLOSED_STATES:
            return
        if row.lead_unit_id != old.lead_unit_id and decision.lead_unit_id and decision.lead_unit_id != row.lead_unit_id:
            reassign_lead_unit(
                ctx.actor, decision, lead_unit=row.lead_unit, reason=adjustment.reason, listing=adjustment
            )
        gained = set(row.required_procedures or []) - set(old.required_procedures or [])
        _reopen_required_stages(ctx, Decision.objects.get(pk=decision.pk), gained, adjustment)


def _reopen_required_stages(ctx, decision, gained, adjustment):
    """A MODIFY that makes a NOT_TRIGGERED stage required reopens it while in CONSULTATION (T6c, P20)."""
    stages = [s for s in CONSULTATION_STAGES if s in gained]
    closed = []
    for stage in stages:
        record = decision.current_record(stage)
        if record is not None and record.status == StageStatus.NOT_TRIGGERED:
            closed.append(stage)
    if Stage.PP in closed and Stage.HEARING in closed:
        closed.remove(Stage.HEARING)  # reopening PP reopens its HEARING child (T6c)
    if not closed:
        return
    reason = f"目录调整将“{'、'.join(str(Stage(s).label) for s in closed)}”列为必经程序：{adjustment.reason}"
    if decision.state == DecisionState.CONSULTATION:
        # T6c by the system: the consultation service reopens what the new entry version requires.
        consultation.reopen_required_by_catalogue(decision, reason=reason)
        return
    # Later than CONSULTATION, GOV_OFFICE decides whether the stage is re-run (T11/T13a then T16a, or T20b then T16a).
    with action(None, decision, roles=[decision_lifecycle.SYSTEM]) as dctx:
        record_event(
            dctx,
            "catalogue:required_stage_added",
            dctx.decision,
            {"stages": closed, "adjustment": adjustment.pk, "state": dctx.decision.state, "reason": reason},
        )


def reassign_lead_unit(actor, decision, *, lead_unit, reason, listing=None):
    """Name a new lead unit after a catalogue MODIFY: tasks move to it, the old unit gets a hand-over task (B9, B10)."""
    with action(actor, decision, roles=[Role.GOV_OFFICE]) as ctx:
        if not filled(reason):
            refuse(
                "REASON_REQUIRED",
                "第十一条; P18",
                "更换牵头承办单位须说明理由",
                "A reason for the new lead unit is required",
            )
        if lead_unit is None:
            refuse("LEAD_UNIT_MISSING", "第十一条", "须确定新的牵头承办单位", "The new lead unit must be named")
        d = ctx.decision
        old = d.lead_unit
        if old is not None and old.pk == lead_unit.pk:
            return d
        entry = catalogue_entry(d)
        d.lead_unit = lead_unit
        # P18: a lead unit other than the entry's needs a recorded reason; one that matches it needs none.
        d.lead_unit_change_reason = "" if entry is not None and entry.lead_unit_id == lead_unit.pk else reason
        d.save(update_fields=["lead_unit", "lead_unit_change_reason"])
        record_event(
            ctx,
            "decision:lead_unit",
            d,
            {
                "from": getattr(old, "pk", None),
                "to": lead_unit.pk,
                "reason": reason,
                "listing": str(listing) if listing is not None else "",
                "listing_type": listing._meta.label if listing is not None else "",
            },
        )
        if old is not None:
            record = (
                d.stage_records.filter(superseded_by__isnull=True)
                .exclude(status=StageStatus.PENDING)
                .order_by("-id")
                .first()
                or d.stage_records.order_by("-id").first()
            )
            if record is not None:
                task, created = HandoverTask.objects.get_or_create(decision=d, unit=old, stage_record=record)
                if created:
                    record_event(
                        ctx,
                        "handover:create",
                        task,
                        {"unit": old.pk, "stage_record": record.pk, "reason": "lead unit replaced"},
                    )
        return d


__all__ = [
    "open_catalogue",
    "add_entry",
    "update_entry",
    "remove_entry",
    "compile",
    "vet",
    "approve_by_government",
    "return_to_collecting",
    "record_party_consent",
    "record_party_non_consent",
    "publish",
    "set_year_end_disposition",
    "report_year_end",
    "close_if_due",
    "propose_adjustment",
    "review_adjustment",
    "approve_adjustment",
    "record_adjustment_consent",
    "reject_adjustment",
    "publish_adjustment",
    "reassign_lead_unit",
]

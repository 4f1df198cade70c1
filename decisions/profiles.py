"""The shipped rule profiles (procedure.md B2, section P), as versioned data.

A profile version is never edited once decisions are pinned to it: a change is a
new version (`load_rule_profiles` adds it). `national` is the Decree plus the
product rules; `zhejiang` adds the provincial rule (省政府令第337号); `huzhou`
inherits zhejiang and is what the demo uses.
"""

from django.utils.translation import gettext_noop

NATIONAL = {
    "consultation_order": "sequential",
    "comment_period_min_days": 30,
    "comment_period_shortening_requires_reason_in_notice": True,
    "hearing_material_lead_days": 7,
    "hearing_notice_lead_days": 0,
    "hearing_mandatory_rule": "law_only",
    "legality_review_min_working_days": 7,
    "legality_review_allow_override_with_reason": True,
    "allowed_decision_meeting_types": {"government": ["EXECUTIVE", "PLENARY"]},
    "meeting_quorum": "more_than_half",
    "catalogue_required": True,
    "catalogue_requires_party_consent": True,
    "catalogue_vetting_required": False,
    "catalogue_adjustment_requires_party_consent": True,
    "catalogue_publication_deadline": None,
    "risk_medium_requires_mitigation_plan": True,
    "zj_art7_urgent_exception_enabled": False,
    "party_reply_required": True,
    "publication_channels": {"government": ["GAZETTE", "GOV_WEBSITE", "LOCAL_NEWSPAPER"]},
    "publication_warn_working_days": 20,
    "post_eval_exclude_pre_decision_assessors": True,
    "archive_transfer_years": None,
    "calendar_provisional_policy": "weekday_warn_recheck",
}

ZHEJIANG = {
    # P11: a hearing is required when major disagreement or a major readjustment of interests is ticked.
    "hearing_mandatory_rule": "zj_flags",
    # P2: 337号 art. 7 urgent exception, for PP/EX/RA only, approved by a LEGAL_ADVISER.
    "zj_art7_urgent_exception_enabled": True,
    "publication_channels": {"government": ["GAZETTE", "GOV_WEBSITE", "LOCAL_NEWSPAPER", "ZJ_SERVICE_PORTAL"]},
}

HUZHOU = {}

SOURCES = {
    "national": "《重大行政决策程序暂行条例》(国务院令第713号)；juece procedure.md 第P节",
    "zhejiang": "《浙江省重大行政决策程序规定》(浙江省人民政府令第337号)",
    "huzhou": "《湖州市人民政府重大行政决策程序规定》(湖政发〔2016〕14号)",
}

# code -> (name, parent code, own parameters)
PROFILES = {
    "national": ("全国(国务院令第713号)", None, NATIONAL),
    "zhejiang": ("浙江省", "national", ZHEJIANG),
    "huzhou": ("湖州市", "zhejiang", HUZHOU),
}

# Kept in Chinese (rule messages, records); pages translate them when shown.
PUBLICATION_CHANNEL_LABELS = {
    "GAZETTE": gettext_noop("本级人民政府公报"),
    "GOV_WEBSITE": gettext_noop("政府网站"),
    "LOCAL_NEWSPAPER": gettext_noop("本行政区域内发行的报纸"),
    "ZJ_SERVICE_PORTAL": gettext_noop("浙江政务服务网"),
    "GOV_NEW_MEDIA": gettext_noop("政务新媒体"),
    "OTHER": gettext_noop("其他"),
}


def resolved_params(code):
    """Return a profile's parameters merged over its parents'."""
    name, parent, own = PROFILES[code]
    params = dict(resolved_params(parent)) if parent else {}
    params.update(own)
    return params


def load(apps_or_none=None):
    """Create version 1 of each shipped profile if it is missing (used by the data migration)."""
    if apps_or_none is None:
        from decisions.models import RuleProfile
    else:
        RuleProfile = apps_or_none.get_model("decisions", "RuleProfile")
    created = {}
    for code, (name, parent, _own) in PROFILES.items():
        profile, _ = RuleProfile.objects.get_or_create(
            code=code,
            version=1,
            defaults={
                "name": name,
                "parent": created.get(parent),
                "params": resolved_params(code),
                "sources": {"basis": SOURCES[code]},
            },
        )
        created[code] = profile
    return created


def current(code):
    """Return the newest version of profile `code`."""
    from decisions.models import RuleProfile

    return RuleProfile.objects.filter(code=code).order_by("-version").first()

"""Create a Huzhou-like demo: a city and two counties, a user for every role, and 2026 catalogues whose
decisions stand at different stages of the procedure. Everything goes through the service layer, so
every demo decision is valid by construction. Running it again changes nothing and prints the logins.
"""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from catalog import walkthrough as catalogue
from catalog.models import AnnualCatalogue
from decisions.accounts import admin_roles
from decisions.accounts.policy import mark_as_changed
from decisions.models import Organisation, Position, Role, RoleAssignment, Stage
from decisions.services import consultation, initiation
from decisions.services import legality as legality_service
from decisions.walkthrough import build_cast, implementation, legality, meeting
from decisions.walkthrough import consultation as consult
from decisions.walkthrough import initiation as walk

DEMO_PASSWORD = "Juece-Demo-2026"
# 三员分立: one demo login for each administrator (decisions/accounts/admin_roles.py)
DEMO_ADMINISTRATORS = (
    ("sysadmin", admin_roles.SYSTEM_ADMIN),
    ("secadmin", admin_roles.SECURITY_ADMIN),
    ("auditadmin", admin_roles.AUDIT_ADMIN),
)

CITY_UNITS = [
    ("zjj", "湖州市住房和城乡建设局"),
    ("jtj", "湖州市交通运输局"),
    ("fgw", "湖州市发展和改革委员会"),
    ("mzj", "湖州市民政局"),
    ("sthj", "湖州市生态环境局"),
]

# (title, how far it goes, options): the city's 2026 catalogue, one decision at each kind of stage.
CITY_DECISIONS = [
    ("湖州市区公共租赁住房保障管理办法(修订)", "implementing", {}),
    ("湖州市新能源汽车推广应用地方补助实施办法", "public_participation", {}),
    ("湖州市“十五五”综合交通运输发展规划", "expert_review", {"highly_technical": True}),
    ("湖州市中心城区生活垃圾焚烧发电项目(二期)建设方案", "risk_assessment", {"stability_or_safety_impact": True}),
    ("湖州市城市公共停车收费管理办法", "legality_review", {"public_concern": True}),
    ("湖州市养老服务补贴制度改革实施方案", "collective_decision", {"affects_specific_group": True}),
    ("湖州市太湖溇港世界灌溉工程遗产保护利用规划", "rejected", {}),
    ("湖州市南太湖新区长田漾片区旧城改造实施方案", "withdrawn", {}),
    ("湖州市人民防空工程布局专项规划", "waived", {"confidential_by_law": True}),
    ("湖州市公共数据开放管理办法", "listed", {}),
    ("湖州市农村集体经营性建设用地入市实施办法", "drafting", {}),
    ("湖州市促进民营经济高质量发展若干政策措施", "decided", {"market_affecting": True}),
]

# What each demo decision's catalogue entry says: 主要内容 and the planned submission time, as offices write them.
ENTRY_FIELDS = {
    "湖州市区公共租赁住房保障管理办法(修订)": ("调整公共租赁住房保障对象准入条件、租金标准和退出机制。", "6月份"),
    "湖州市新能源汽车推广应用地方补助实施办法": (
        "明确新能源汽车购置和充电设施建设的地方补助对象、标准和程序。",
        "12月份",
    ),
    "湖州市“十五五”综合交通运输发展规划": ("提出2026—2030年全市综合交通运输发展目标、重点任务和重大项目。", "三季度"),
    "湖州市中心城区生活垃圾焚烧发电项目(二期)建设方案": (
        "新增日处理能力750吨的焚烧发电线，明确选址、规模、环保措施和建设时序。",
        "11月至12月",
    ),
    "湖州市城市公共停车收费管理办法": ("按区域、时段实行差别化停车收费，规范收费公示和监督。", "12月份"),
    "湖州市养老服务补贴制度改革实施方案": ("整合居家养老服务补贴，建立按照能力评估分级发放的补贴制度。", "12月上旬"),
    "湖州市太湖溇港世界灌溉工程遗产保护利用规划": ("划定遗产保护范围，提出保护、展示和利用措施。", "8月份"),
    "湖州市南太湖新区长田漾片区旧城改造实施方案": ("确定改造范围、安置补偿方式和实施计划。", "10月份"),
    "湖州市人民防空工程布局专项规划": ("优化人民防空工程布局和配套建设要求。", "9月份"),
    "湖州市公共数据开放管理办法": ("规范公共数据开放目录、开放方式和安全管理。", "年底前"),
    "湖州市农村集体经营性建设用地入市实施办法": ("明确入市主体、范围、程序和收益分配。", "下半年"),
    "湖州市促进民营经济高质量发展若干政策措施": ("从融资、用地、人才和营商环境等方面提出支持措施。", "5月份"),
    "吴兴区城区中小学学区划分调整方案": ("根据新建学校和生源变化调整城区中小学学区。", "12月份"),
    "吴兴区农村生活污水治理设施运维管理办法": ("明确农村生活污水治理设施运维责任、标准和考核。", "年底前"),
    "德清县城乡公交一体化运营补贴办法": ("建立城乡公交运营成本规制和财政补贴机制。", "3月份"),
    "德清县莫干山国际旅游度假区旅游发展规划": ("提出度假区旅游发展定位、空间布局和重点项目。", "11月份"),
}

COUNTIES = [
    (
        "hz-wx",
        "湖州市吴兴区人民政府",
        [("zjj", "吴兴区住房和城乡建设局"), ("jyj", "吴兴区教育局"), ("nyj", "吴兴区农业农村局")],
        [
            ("吴兴区城区中小学学区划分调整方案", "public_participation", {"direct_vital_interest": True}),
            ("吴兴区农村生活污水治理设施运维管理办法", "initiated", {}),
        ],
    ),
    (
        "hz-dq",
        "德清县人民政府",
        [("jtj", "德清县交通运输局"), ("wlj", "德清县文化和广电旅游体育局"), ("zjj", "德清县住房和城乡建设局")],
        [
            ("德清县城乡公交一体化运营补贴办法", "implementing", {}),
            ("德清县莫干山国际旅游度假区旅游发展规划", "listed", {}),
        ],
    ),
]


def _required_procedures(answers):
    """The procedures the catalogue requires (履行程序): the stages the demo decision's answers trigger."""
    procedures = ["PP"]
    if answers.get("highly_technical"):
        procedures.append("EX")
    if answers.get("stability_or_safety_impact") or answers.get("affects_specific_group"):
        procedures.append("RA")
    return [*procedures, "LR", "CD"]


class Command(BaseCommand):
    help = "Create the demo organs, users and 2026 catalogues (idempotent; prints the demo logins)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="password for every demo user")

    def handle(self, *args, password, **options):
        try:
            password_validation.validate_password(password)  # demo logins follow the same policy (身份鉴别)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if AnnualCatalogue.objects.filter(organ__code="hz", year=2026).exists():
            self.stdout.write("演示数据已存在，未作改动。Demo data already present: nothing changed.")
        else:
            with transaction.atomic():
                self._seed(password)
            self.stdout.write(self.style.SUCCESS("演示数据已创建。Demo data created."))
        self._print_logins(password)

    def _seed(self, password):
        city = build_cast(
            code="hz", name="湖州市人民政府", profile="huzhou", password=password, members=7, unit_names=CITY_UNITS
        )
        self._catalogue(city, CITY_DECISIONS)
        for code, name, units, items in COUNTIES:
            county = build_cast(
                code=code,
                name=name,
                level=Organisation.Level.COUNTY,
                parent=city.organ,
                profile="huzhou",
                password=password,
                members=5,
                unit_names=units,
            )
            self._catalogue(county, items)
        self._administrators(password)

    def _catalogue(self, cast, items):
        year = timezone.localdate().year
        decisions = [walk.propose(cast, title=title) for title, _stage, _answers in items]
        entries = []
        for decision, (title, _stage, answers) in zip(decisions, items, strict=True):
            main_content, planned = ENTRY_FIELDS[title]
            entries.append(
                {
                    "decision": decision,
                    "name": title,
                    "main_content": main_content,
                    "planned": planned,
                    "legal_policy_basis": "《重大行政决策程序暂行条例》(国务院令第713号)、"
                    "《浙江省重大行政决策程序规定》(省政府令第337号)",
                    "required_procedures": _required_procedures(answers),
                }
            )
        published = catalogue.publish_catalogue(cast, year, entries=entries)
        for decision, (title, stage, answers) in zip(decisions, items, strict=True):
            self.stdout.write(f"  {cast.organ.name} · {title} → {stage}")
            self._advance(cast, published, decision, stage, answers)
        return published

    def _advance(self, cast, published, decision, stage, answers):
        """Take one listed decision as far as `stage`, every step through the services."""
        if stage == "listed":
            return
        decision = walk.initiate(cast, decision)
        if stage == "initiated":
            return
        if stage == "drafting":
            initiation.start_drafting(cast[Role.UNDERTAKING_LEAD], decision)
            return
        decision = walk.draft(cast, decision, answers=answers)
        if stage == "withdrawn":
            catalogue.remove_from_catalogue(cast, published, decision)
            return
        if stage == "public_participation":
            consult.comment(cast, decision, days=30, ended_days_ago=-20)  # comments open for 20 more days
            return
        if stage == "waived":
            consult.waive_participation(cast, decision)
            consult.skip_all(cast, decision)
        else:
            consult.participate(cast, decision)
        if stage == "expert_review":
            consultation.open_substage(cast[Role.UNDERTAKING_LEAD], decision, Stage.EX)
            return
        if stage != "waived" and answers.get("highly_technical"):
            consult.expert_review(cast, decision)
        elif stage != "waived":
            consult.skip_expert_review(cast, decision)
        if stage == "risk_assessment":
            consultation.open_substage(cast[Role.RISK_ASSESSOR], decision, Stage.RA)
            return
        if stage != "waived":
            if answers.get("stability_or_safety_impact") or answers.get("affects_specific_group"):
                consult.assess_risk(cast, decision, level="LOW")
            else:
                consult.skip_risk_assessment(cast, decision)
        if stage == "legality_review":
            legality.submit(cast, decision)
            legality_service.accept_submission(cast[Role.LEGAL_REVIEWER], decision)
            return
        decision = legality.review(cast, decision)
        decision = legality.to_ready_for_meeting(cast, decision)
        if stage == "waived":
            return
        if stage == "collective_decision":
            meeting.schedule(cast, decision)
            return
        outcome = Position.REJECT if stage == "rejected" else Position.APPROVE
        decision = meeting.decide(cast, decision, outcome, dissent=1)
        if stage in ("rejected",):
            return
        meeting.report_to_party(cast, decision)
        if stage == "decided":
            return
        decision = meeting.publish(cast, decision)
        implementation.implement(cast, decision)

    def _administrators(self, password):
        """The superuser `admin` (a system administrator) and one login for each of the three (三员分立).

        Business users stay out of the admin: they read the record through the pages.
        """
        User = get_user_model()
        admin, created = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        if created:
            admin.set_password(password)
            admin.save()
            mark_as_changed(admin)  # the demo's logins work at once, without the first-login change
        for username, role in DEMO_ADMINISTRATORS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
                mark_as_changed(user)
                admin_roles.account_created(None, user, interface="command")
                admin_roles.grant_admin_role(None, user, role, interface="command")

    def _print_logins(self, password):
        self.stdout.write(f"\n演示账号 Demo logins (password / 密码: {password})")
        self.stdout.write("  admin  系统管理员 superuser")
        for username, role in DEMO_ADMINISTRATORS:
            self.stdout.write(f"  {username:<10} {admin_roles.LABELS[role]} {role}")
        rows = (
            RoleAssignment.objects.filter(user__username__regex=r"^hz(-wx|-dq)?_")
            .select_related("user", "organisation")
            .order_by("user__username", "role")
        )
        for row in rows:
            self.stdout.write(f"  {row.user.username:<30} {row.get_role_display()} · {row.organisation.name}")

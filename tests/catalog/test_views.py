"""The catalogue office's pages and the public pages, through Django's test client.

The pages call the same services as everything else; these tests check what a clerk, a city
supervisor and the public see and can do, and that a refusal comes back with its article."""

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from catalog import imports, walkthrough
from catalog.models import AnnualCatalogue, CatalogueAdjustment, CatalogueEntry, CatalogueImport, CatalogueState
from decisions.models import Decision, DecisionState, Organisation, Role
from decisions.walkthrough import pdf_bytes
from tests.catalog.conftest import Kit
from tests.records import record_events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    """The public form's rate limit counts in the cache; each test starts from none."""
    cache.clear()


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf")


@pytest.fixture
def province(cast_factory):
    city = cast_factory(code="city", name="甲市人民政府", level=Organisation.Level.CITY)
    east = cast_factory(code="east", name="甲市东县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    west = cast_factory(code="west", name="甲市西县人民政府", level=Organisation.Level.COUNTY, parent=city.organ)
    return city, east, west


def login(client, user):
    client.force_login(user)
    return client


def post_entry(client, catalogue, unit, name="市区公交线网优化调整方案", **extra):
    data = {
        "name": name,
        "category": Decision.Category.PUBLIC_POLICY,
        "lead_unit": unit.pk,
        "required_procedures": ["PP", "LR", "CD"],
        "planned_submission_text": "8月份",
        "proposer_type": Decision.SourceType.DEPARTMENT,
        **extra,
    }
    return client.post(reverse("catalog:entry_add", args=[catalogue.pk]), data)


# -- who may see what ------------------------------------------------------------------------------


def test_staff_pages_send_the_anonymous_public_to_the_login_page(client, province):
    catalogue = Kit(province[1]).open()
    for url in (reverse("catalog:index"), reverse("catalog:detail", args=[catalogue.pk]), reverse("catalog:proposals")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_county_office_lists_only_its_own_catalogue_and_the_city_office_lists_all(client, province):
    city, east, west = province
    catalogues = {cast.organ.code: Kit(cast).open() for cast in province}
    page = login(client, east[Role.GOV_OFFICE]).get(reverse("catalog:index")).content.decode()
    assert catalogues["east"].title in page
    assert catalogues["west"].title not in page and catalogues["city"].title not in page
    page = login(client, city[Role.GOV_OFFICE]).get(reverse("catalog:index")).content.decode()
    assert all(c.title in page for c in catalogues.values())


def test_another_countys_office_is_refused_the_catalogue_page(client, province):
    _city, east, west = province
    catalogue = Kit(west).open()
    login(client, east[Role.GOV_OFFICE])
    assert client.get(reverse("catalog:detail", args=[catalogue.pk])).status_code == 403
    assert client.get(reverse("catalog:dashboard", args=[catalogue.pk])).status_code == 403
    assert client.get(reverse("catalog:export", args=[catalogue.pk])).status_code == 403


def test_the_city_office_reads_a_county_catalogue_but_cannot_change_it(client, province):
    city, east, _west = province
    catalogue = Kit(east).open()
    Kit(east).add(catalogue)
    login(client, city[Role.GOV_OFFICE])
    page = client.get(reverse("catalog:detail", args=[catalogue.pk])).content.decode()
    assert "市本级新能源汽车推广应用地方补助实施办法" in page
    assert reverse("catalog:act", args=[catalogue.pk, "compile"]) not in page  # no action offered
    events = record_events().count()
    response = client.post(reverse("catalog:act", args=[catalogue.pk, "compile"]), {"document": pdf()})
    assert "ROLE_NOT_PERMITTED" in response.content.decode()
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.COLLECTING
    assert record_events().count() == events
    response = post_entry(client, catalogue, east.lead_unit)
    assert CatalogueEntry.objects.filter(catalogue=catalogue).count() == 1


# -- the lifecycle through the pages ---------------------------------------------------------------


def test_an_office_compiles_gets_consent_and_publishes_a_catalogue_through_the_pages(client, province):
    _city, east, _west = province
    office = login(client, east[Role.GOV_OFFICE])
    response = office.post(
        reverse("catalog:open"),
        {"organ": east.organ.pk, "year": 2027, "title": "", "call_for_proposals": pdf("征集通知.pdf")},
    )
    catalogue = AnnualCatalogue.objects.get(organ=east.organ, year=2027)
    assert response.status_code == 302 and response["Location"] == reverse("catalog:detail", args=[catalogue.pk])
    assert post_entry(office, catalogue, east.lead_unit).status_code == 302
    assert office.post(reverse("catalog:act", args=[catalogue.pk, "compile"]), {"document": pdf()}).status_code == 302
    assert office.post(reverse("catalog:act", args=[catalogue.pk, "approve"]), {"document": pdf()}).status_code == 302

    # Publishing before the party committee's consent is refused with its article (第三条第三款).
    publication = {
        "notice_number": "东政办发〔2027〕1号",
        "notice_date": str(timezone.localdate()),
        "notice_url": "https://www.example.gov.cn/east/2027",
    }
    response = office.post(reverse("catalog:act", args=[catalogue.pk, "publish"]), {**publication, "document": pdf()})
    text = response.content.decode()
    assert response.status_code == 200 and "CATALOGUE_PARTY_CONSENT_MISSING" in text and "第三条第三款" in text
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.GOV_APPROVED

    liaison = login(client, east[Role.PARTY_LIAISON])
    response = liaison.post(
        reverse("catalog:act", args=[catalogue.pk, "consent"]),
        {"document": pdf("党委同意.pdf"), "issued_on": str(timezone.localdate()), "issued_by": "中共东县县委"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    office = login(client, east[Role.GOV_OFFICE])
    response = office.post(reverse("catalog:act", args=[catalogue.pk, "publish"]), {**publication, "document": pdf()})
    assert response.status_code == 302
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.PUBLISHED and catalogue.version == 1
    entry = catalogue.entries_at().get()
    assert entry.decision.state == DecisionState.LISTED


def test_a_step_offered_to_another_role_is_not_shown_and_a_bad_upload_is_refused_before_the_service(client, province):
    _city, east, _west = province
    catalogue = Kit(east).open()
    Kit(east).add(catalogue)
    login(client, east[Role.GOV_OFFICE])
    page = client.get(reverse("catalog:detail", args=[catalogue.pk])).content.decode()
    assert reverse("catalog:act", args=[catalogue.pk, "compile"]) in page
    assert reverse("catalog:act", args=[catalogue.pk, "consent"]) not in page
    events = record_events().count()
    bad = SimpleUploadedFile("清单.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(reverse("catalog:act", args=[catalogue.pk, "compile"]), {"document": bad})
    assert "不接受 .exe 文件" in response.content.decode()
    assert record_events().count() == events
    catalogue.refresh_from_db()
    assert catalogue.state == CatalogueState.COLLECTING


def test_an_entry_with_dates_in_the_wrong_order_is_refused_with_a_field_message(client, province):
    _city, east, _west = province
    catalogue = Kit(east).open()
    login(client, east[Role.GOV_OFFICE])
    response = post_entry(
        client, catalogue, east.lead_unit, planned_submission_from="2026-09-01", planned_submission_to="2026-08-01"
    )
    assert "止日不能早于起日" in response.content.decode()
    assert not CatalogueEntry.objects.filter(catalogue=catalogue).exists()


def test_a_published_removal_through_the_pages_withdraws_the_decision_and_the_public_sees_version_2(client, province):
    _city, east, _west = province
    catalogue = walkthrough.publish_catalogue(
        east, entries=[{"name": "县城污水管网改造工程"}, {"name": "县域养老服务设施布局规划"}]
    )
    entry = catalogue.entries_at().get(name="县域养老服务设施布局规划")
    office = login(client, east[Role.GOV_OFFICE])
    response = office.post(
        reverse("catalog:adjustment_propose", args=[catalogue.pk]),
        {"kind": CatalogueAdjustment.Kind.REMOVE, "entry": str(entry.key), "reason": "上级规划调整，本年度不再决策"},
    )
    adjustment = CatalogueAdjustment.objects.get(catalogue=catalogue)
    assert response.status_code == 302
    for name in ("review", "approve"):
        assert (
            office.post(reverse("catalog:adjustment_act", args=[adjustment.pk, name]), {"document": pdf()}).status_code
            == 302
        )
    liaison = login(client, east[Role.PARTY_LIAISON])
    response = liaison.post(
        reverse("catalog:adjustment_act", args=[adjustment.pk, "consent"]),
        {"document": pdf(), "issued_on": str(timezone.localdate()), "issued_by": "中共东县县委"},
    )
    assert response.status_code == 302
    office = login(client, east[Role.GOV_OFFICE])
    response = office.post(
        reverse("catalog:adjustment_act", args=[adjustment.pk, "publish"]),
        {
            "notice_number": "东政办发〔2026〕9号",
            "notice_date": str(timezone.localdate()),
            "notice_url": "https://www.example.gov.cn/east/adj",
            "document": pdf(),
        },
    )
    assert response.status_code == 302
    entry.decision.refresh_from_db()
    assert entry.decision.state == DecisionState.WITHDRAWN

    client.logout()
    page = client.get(reverse("public:catalogue", args=[catalogue.pk])).content.decode()
    assert "第 2 版" in page and "上级规划调整，本年度不再决策" in page
    assert "县城污水管网改造工程" in page
    first = client.get(reverse("public:catalogue_version", args=[catalogue.pk, 1])).content.decode()
    assert "县域养老服务设施布局规划" in first


# -- the public pages ------------------------------------------------------------------------------


def test_the_public_sees_published_catalogues_only(client, province):
    city, east, _west = province
    published = walkthrough.publish_catalogue(city, entries=[{"name": "市区停车收费标准调整"}])
    draft = Kit(east).open()
    Kit(east).add(draft, name="尚未公布的草案事项")
    index = client.get(reverse("public:catalogues")).content.decode()
    assert published.title in index and draft.title not in index
    assert client.get(reverse("public:catalogue", args=[draft.pk])).status_code == 404
    page = client.get(reverse("public:catalogue", args=[published.pk])).content.decode()
    assert "市区停车收费标准调整" in page and "列入目录" in page
    assert "尚未公布的草案事项" not in page
    assert client.get(reverse("public:catalogue_version", args=[published.pk, 2])).status_code == 404


def test_a_citizen_submits_a_written_proposal_and_gets_a_receipt_with_its_number(client, province):
    city, _east, _west = province
    data = {
        "title": "建议在老城区增设公共停车场",
        "proposer_name": "张某",
        "problem": "老城区停车难",
        "reasons_and_basis": "居民反映强烈",
        "category": "",
    }
    response = client.post(reverse("public:proposal", args=[city.organ.code]), data)
    decision = Decision.objects.get(title="建议在老城区增设公共停车场")
    assert decision.state == DecisionState.PROPOSED and decision.source_type == Decision.SourceType.CITIZEN
    assert decision.reference in response.content.decode()

    # A submission without the reasons is refused field by field, and nothing is registered.
    response = client.post(reverse("public:proposal", args=[city.organ.code]), {**data, "reasons_and_basis": ""})
    assert "errorlist" in response.content.decode()
    assert Decision.objects.filter(title=data["title"]).count() == 1

    # The office then sees it among the proposals to handle.
    page = login(client, city[Role.GOV_OFFICE]).get(reverse("catalog:proposals")).content.decode()
    assert decision.reference in page


def test_public_proposals_are_rate_limited_per_address(client, province):
    city, _east, _west = province
    url = reverse("public:proposal", args=[city.organ.code])
    for n in range(6):
        data = {"title": f"建议{n}", "proposer_name": "李某", "problem": "问题", "reasons_and_basis": "理由"}
        response = client.post(url, data)
    assert "提交过于频繁" in response.content.decode()
    assert Decision.objects.filter(title__startswith="建议").count() == 5


# -- proposals handled by the office ---------------------------------------------------------------


def test_the_office_declares_an_emergency_proposal_not_applicable_and_lists_another(client, province):
    city, _east, _west = province
    kit = Kit(city)
    emergency = kit.proposal("台风应急处置临时交通管制")
    ordinary = kit.proposal("市区公共自行车系统建设")
    catalogue = kit.open()
    login(client, city[Role.GOV_OFFICE])
    response = client.post(
        reverse("catalog:proposal_not_applicable", args=[emergency.reference]),
        {"reason": Decision.ApplicabilityReason.EMERGENCY_RESPONSE, "explanation": "属于突发事件应急处置"},
    )
    assert response.status_code == 302
    emergency.refresh_from_db()
    assert emergency.state == DecisionState.NOT_APPLICABLE

    response = client.post(
        reverse("catalog:proposal_to_catalogue", args=[ordinary.reference]),
        {
            "catalogue": catalogue.pk,
            "name": ordinary.title,
            "category": Decision.Category.PUBLIC_PROJECT,
            "lead_unit": city.lead_unit.pk,
            "required_procedures": ["PP", "RA", "LR", "CD"],
            "planned_submission_text": "10月份",
        },
    )
    assert response.status_code == 302
    assert catalogue.draft_entries().get().decision == ordinary

    # A not-applicable matter cannot be listed (第三条第二款; scenario 8).
    response = client.post(
        reverse("catalog:proposal_to_catalogue", args=[emergency.reference]),
        {
            "catalogue": catalogue.pk,
            "name": emergency.title,
            "category": Decision.Category.OTHER,
            "lead_unit": city.lead_unit.pk,
            "required_procedures": ["LR", "CD"],
            "planned_submission_text": "10月份",
        },
    )
    assert "MATTER_NOT_APPLICABLE" in response.content.decode()
    assert catalogue.draft_entries().count() == 1


# -- Excel through the pages -----------------------------------------------------------------------


def workbook_bytes(rows, unit_name):
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "序号",
            "决策事项名称",
            "主要内容",
            "事项类别",
            "承办单位",
            "履行程序",
            "是否听证",
            "拟提交审议时间",
            "提出主体类别",
        ]
    )
    for row in rows:
        sheet.append(row(unit_name))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_import_is_previewed_with_every_bad_cell_then_committed_whole(client, province):
    city, _east, _west = province
    catalogue = Kit(city).open()
    unit = city.lead_unit.name
    category = str(Decision.Category.PUBLIC_POLICY.label)
    source = str(Decision.SourceType.DEPARTMENT.label)
    good = [
        lambda u: [
            1,
            "市区公交线网优化调整方案",
            "优化线网",
            category,
            u,
            "公众参与、合法性审查、集体讨论决定",
            "否",
            "2026年8月",
            source,
        ],
        lambda u: [
            2,
            "城市更新三年行动计划",
            "",
            category,
            u,
            "公众参与、专家论证、合法性审查、集体讨论决定",
            "是",
            "三季度",
            source,
        ],
    ]
    bad = [*good, lambda u: [2, "重复序号的事项", "", category, "不存在的局", "合法性审查", "否", "", source]]
    login(client, city[Role.GOV_OFFICE])

    upload = SimpleUploadedFile("目录.xlsx", workbook_bytes(bad, unit))
    response = client.post(reverse("catalog:import_upload", args=[catalogue.pk]), {"workbook": upload})
    job = CatalogueImport.objects.get(catalogue=catalogue)
    assert response.status_code == 302
    page = client.get(reverse("catalog:import", args=[catalogue.pk, job.pk])).content.decode()
    assert "不存在的局" in page and "序号" in page
    client.post(reverse("catalog:import", args=[catalogue.pk, job.pk]))  # confirming a file with errors does nothing
    assert not catalogue.draft_entries().exists()

    upload = SimpleUploadedFile("目录.xlsx", workbook_bytes(good, unit))
    client.post(reverse("catalog:import_upload", args=[catalogue.pk]), {"workbook": upload})
    job = CatalogueImport.objects.filter(catalogue=catalogue).latest("pk")
    assert not job.errors
    client.post(reverse("catalog:import", args=[catalogue.pk, job.pk]))
    imports.run(job.pk)  # what the worker does
    progress = client.get(reverse("catalog:import_progress", args=[catalogue.pk, job.pk])).json()
    assert progress["status"] == "DONE" and progress["done"] == progress["total"] == 2
    assert [e.name for e in catalogue.draft_entries().order_by("seq_no")] == [
        "市区公交线网优化调整方案",
        "城市更新三年行动计划",
    ]


def test_a_file_that_is_not_a_workbook_is_refused_before_parsing(client, province):
    city, _east, _west = province
    catalogue = Kit(city).open()
    login(client, city[Role.GOV_OFFICE])
    upload = SimpleUploadedFile("目录.xlsx", b"\xd0\xcf\x11\xe0 an old .xls file")
    client.post(reverse("catalog:import_upload", args=[catalogue.pk]), {"workbook": upload})
    job = CatalogueImport.objects.filter(catalogue=catalogue).first()
    if job is not None:
        assert job.errors and not catalogue.draft_entries().exists()


def test_the_export_is_an_xlsx_download_and_the_template_is_offered(client, province):
    city, _east, _west = province
    catalogue = walkthrough.publish_catalogue(city, entries=[{"name": "市区停车收费标准调整"}])
    login(client, city[Role.SUPERVISOR])
    response = client.get(reverse("catalog:export", args=[catalogue.pk]))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(reverse("catalog:template")).content[:2] == b"PK"


# -- dashboards and documents ----------------------------------------------------------------------


def test_dashboards_show_to_readers_and_the_city_rolls_up_its_counties(client, province):
    city, east, west = province
    walkthrough.publish_catalogue(city, entries=[{"name": "市区停车收费标准调整"}])
    walkthrough.publish_catalogue(east, entries=[{"name": "县城污水管网改造工程"}])
    year = AnnualCatalogue.objects.get(organ=city.organ).year
    login(client, city[Role.GOV_OFFICE])
    page = client.get(reverse("catalog:government_dashboard", args=[city.organ.code, year])).content.decode()
    assert east.organ.name in page and west.organ.name in page and "<svg" in page
    login(client, west[Role.GOV_OFFICE])
    assert client.get(reverse("catalog:government_dashboard", args=[east.organ.code, year])).status_code == 403
    assert client.get(reverse("catalog:government_dashboard", args=[city.organ.code, year])).status_code == 403
    assert client.get(reverse("catalog:dashboards")).status_code == 200


def test_the_office_downloads_the_year_end_report_generated_from_the_dashboard(client, province):
    city, _east, _west = province
    catalogue = walkthrough.publish_catalogue(city, entries=[{"name": "市区停车收费标准调整"}])
    login(client, city[Role.GOV_OFFICE])
    response = client.get(reverse("reports:year_end_report", args=[catalogue.pk]))
    assert response.status_code == 200 and response.content[:5] == b"%PDF-"
    assert client.get(reverse("catalog:dashboard", args=[catalogue.pk])).status_code == 200


def test_the_office_sets_a_year_end_disposition_only_on_entries_still_in_progress(client, province):
    _city, east, _west = province
    kit = Kit(east)
    catalogue = walkthrough.publish_catalogue(
        east, entries=[{"name": "县城污水管网改造工程"}, {"name": "县域养老服务设施布局规划"}]
    )
    decided = catalogue.entries_at().get(name="县城污水管网改造工程")
    kit.advance(decided.decision, "DECIDED")
    open_entry = catalogue.entries_at().get(name="县域养老服务设施布局规划")
    office = login(client, east[Role.GOV_OFFICE])
    page = office.get(reverse("catalog:detail", args=[catalogue.pk])).content.decode()
    assert reverse("catalog:entry_disposition", args=[catalogue.pk, open_entry.pk]) in page
    assert reverse("catalog:entry_disposition", args=[catalogue.pk, decided.pk]) not in page

    response = office.post(
        reverse("catalog:entry_disposition", args=[catalogue.pk, open_entry.pk]), {"disposition": "CARRY_OVER"}
    )
    assert response.status_code == 302
    assert catalogue.entries_at().get(pk=open_entry.pk).year_end_disposition == "CARRY_OVER"
    # The county's supervisor reads the catalogue but is offered no year-end handling.
    supervisor = login(client, east[Role.SUPERVISOR])
    page = supervisor.get(reverse("catalog:detail", args=[catalogue.pk])).content.decode()
    assert reverse("catalog:entry_disposition", args=[catalogue.pk, open_entry.pk]) not in page

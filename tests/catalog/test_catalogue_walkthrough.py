"""The catalogue walkthrough that seed_demo and other areas' tests use to get LISTED decisions."""

from catalog import walkthrough
from decisions.walkthrough import initiation as walk


def test_publish_catalogue_lists_given_decisions_and_creates_the_others(cast):
    proposal = walk.propose(cast)
    catalogue = walkthrough.publish_catalogue(
        cast,
        entries=[
            {
                "name": "城区停车收费标准调整",
                "category": "3-1",
                "required_procedures": ["PP", "HEARING", "LR", "CD"],
                "planned": "10月份",
            }
        ],
        decisions=[proposal],
    )
    assert catalogue.state == "PUBLISHED" and catalogue.version == 1
    entries = list(catalogue.entries_at())
    assert [e.name for e in entries] == ["城区停车收费标准调整", proposal.title]
    assert {e.decision.state for e in entries} == {"LISTED"}
    assert entries[0].requires("HEARING") and entries[0].planned_submission_text == "10月份"
    created = entries[0].decision
    assert walk.initiate(cast, created).state == "INITIATED"  # the 第十条(二) fields came with the entry (P25)


def test_a_second_call_for_the_same_year_adds_by_adjustment(cast):
    first = walk.propose(cast, title="第一项")
    catalogue = walkthrough.publish_catalogue(cast, decisions=[first])
    second = walk.propose(cast, title="第二项")
    same = walkthrough.publish_catalogue(cast, decisions=[second])
    assert same.pk == catalogue.pk and same.version == 2
    second.refresh_from_db()
    assert second.state == "LISTED"


def test_the_walkthrough_vets_where_the_profile_requires_it(cast_factory, profile_variant):
    cast = cast_factory(profile=profile_variant("huzhou", catalogue_vetting_required=True).code)
    catalogue = walkthrough.publish_catalogue(cast, decisions=[walk.propose(cast)])
    assert catalogue.documents_of("VETTING_OPINION").exists()


def test_remove_and_report_through_the_walkthrough(cast):
    staying, leaving = walk.propose(cast, title="保留"), walk.propose(cast, title="撤出")
    catalogue = walkthrough.publish_catalogue(cast, decisions=[staying, leaving])
    walkthrough.remove_from_catalogue(cast, catalogue, leaving)
    leaving.refresh_from_db()
    assert leaving.state == "WITHDRAWN"
    catalogue.refresh_from_db()
    keys = {e.key: "CARRY_OVER" for e in catalogue.entries_at()}
    assert walkthrough.report_year_end(cast, catalogue, keys).state == "YEAR_END_REPORTED"

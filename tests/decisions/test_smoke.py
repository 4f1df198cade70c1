from decisions.models import RuleProfile


def test_shipped_profiles_are_loaded_by_migration(db):
    assert set(RuleProfile.objects.values_list("code", flat=True)) == {"national", "zhejiang", "huzhou"}
    huzhou = RuleProfile.objects.get(code="huzhou")
    assert huzhou.params["hearing_mandatory_rule"] == "zj_flags"
    assert huzhou.params["comment_period_min_days"] == 30

"""Finding the catalogue and the user that the catalogue commands name (not a command: the name starts with _)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from catalog.models import AnnualCatalogue, CatalogueState
from decisions.models import Organisation


def catalogue(organ_code, year, *, collecting=False):
    """Return the organ's catalogue for `year`: the one not closed (or, with `collecting`, the one collecting)."""
    if not str(year).isdigit():
        raise CommandError(f"年度应为数字：{year} / the year must be a number: {year}")
    organ = Organisation.objects.filter(code=organ_code).first()
    if organ is None:
        raise CommandError(f"没有代码为 {organ_code} 的决策机关 / no organisation with code {organ_code}")
    found = AnnualCatalogue.objects.filter(organ=organ, year=int(year)).select_related("organ", "profile")
    if not found.exists():
        raise CommandError(f"{organ.name}没有 {year} 年度目录 / {organ_code} has no catalogue for {year}")
    if collecting:
        chosen = found.filter(state=CatalogueState.COLLECTING).first()
        if chosen is None:
            states = "、".join(str(c.get_state_display()) for c in found)
            raise CommandError(
                f"{organ.name} {year} 年度目录不在征集中(现为：{states})，不能导入 / "
                f"the {year} catalogue of {organ_code} is not COLLECTING"
            )
        return chosen
    # One catalogue per organ and year is open at a time (B9); closed ones before it are history.
    return found.exclude(state=CatalogueState.CLOSED).first() or found.order_by("-id").first()


def user(username):
    User = get_user_model()
    found = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if found is None:
        raise CommandError(f"没有用户 {username} / no such user: {username}")
    if not found.is_active:
        raise CommandError(f"用户 {username} 已停用 / user {username} is inactive")
    return found

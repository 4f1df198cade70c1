"""What the password policy remembers about each account: when its password was set, by whom, and earlier ones."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PasswordState(models.Model):
    """One row per account with a usable password (口令状态)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_state", verbose_name=_("用户")
    )
    changed_at = models.DateTimeField(_("口令设置时间"))
    # True when the holder chose the current password on the change page; an initial password or an
    # administrator's reset is someone else's, so the next password login must replace it.
    set_by_owner = models.BooleanField(_("由本人设置"), default=False)
    must_change = models.BooleanField(_("须修改口令"), default=False)

    class Meta:
        verbose_name = _("口令状态")
        verbose_name_plural = _("口令状态")

    def __str__(self):
        return f"{self.user} · {self.changed_at:%Y-%m-%d}"


class PasswordHistory(models.Model):
    """The hashes of an account's recent passwords (历史口令), so that none is used again too soon."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("用户")
    )
    password = models.CharField(_("口令摘要"), max_length=256)
    set_at = models.DateTimeField(_("设置时间"))

    class Meta:
        ordering = ["-set_at", "-id"]
        verbose_name = _("历史口令")
        verbose_name_plural = _("历史口令")

    def __str__(self):
        return f"{self.user} · {self.set_at:%Y-%m-%d}"


class ExternalIdentity(models.Model):
    """外部身份: an account of a trusted platform (统一身份认证 by OpenID Connect, 浙政钉) mapped to a juece user.

    An administrator makes the link (admin, `manage.py link_external_identity`): a government system assigns
    accounts, so an identity nobody linked is refused rather than given a new account.
    """

    provider = models.CharField(_("身份提供方"), max_length=32)
    subject = models.CharField(_("外部账号标识"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="external_identities",
        verbose_name=_("用户"),
    )
    created_at = models.DateTimeField(_("关联时间"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("最近登录时间"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="juece_external_identity_unique"),
        ]
        ordering = ["provider", "subject"]
        verbose_name = _("外部身份")
        verbose_name_plural = _("外部身份")

    def __str__(self):
        return f"{self.provider}:{self.subject} → {self.user}"

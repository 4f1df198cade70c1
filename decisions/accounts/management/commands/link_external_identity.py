"""Link an account of an external login (统一身份认证, 浙政钉) to a juece user, as the admin does; the link is audited."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from decisions.accounts import external


class Command(BaseCommand):
    help = (
        "将外部身份（统一身份认证 oidc、浙政钉 zzd）关联到本系统用户；已关联到他人的改为关联此用户。"
        " Link an external identity (oidc, zzd) to a juece user; one linked to someone else moves to this user."
    )

    def add_arguments(self, parser):
        parser.add_argument("provider", help="身份提供方 / provider: " + ", ".join(external.provider_names()))
        parser.add_argument("subject", help="外部账号标识（OIDC 的 sub、浙政钉的 accountId）/ the provider's subject")
        parser.add_argument("username", help="本系统用户名 / the juece username")

    def handle(self, *args, provider, subject, username, **options):
        if provider not in external.provider_names():
            raise CommandError(f"未知的身份提供方 / unknown provider {provider!r}")
        if not subject.strip():
            raise CommandError("外部账号标识不能为空 / the subject is empty")
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"没有用户 / no user {username!r}")
        external.link(provider, subject.strip(), user, actor="manage.py link_external_identity", method="command")
        self.stdout.write(
            self.style.SUCCESS(
                f"已将 {provider}:{subject} 关联到 {username}。 Linked {provider}:{subject} to {username}."
            )
        )

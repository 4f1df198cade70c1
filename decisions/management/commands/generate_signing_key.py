"""Development and demonstration: make a signer's key pair with the local signing service and register it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from decisions import crypto, signing


class Command(BaseCommand):
    help = (
        "（开发、演示用）为用户生成签名密钥：私钥以数据密钥加密存放在 JUECE_SIGNING_KEY_DIR，公钥登记在库。"
        " Development/demo: generate a user's signing key with the local signing service (private key encrypted"
        " under the data key in JUECE_SIGNING_KEY_DIR, never the database) and register its public key."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--algorithm",
            choices=crypto.SIGNATURES,
            help="签名算法，默认为当前密码配置的算法 / default: the current crypto profile's (SM2-SM3 under gm)",
        )

    def handle(self, *args, username, algorithm=None, **options):
        algorithm = algorithm or crypto.profile().signature_algorithm
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户 / no user {username!r}")
        try:
            key = signing.generate_key(user, algorithm)
        except crypto.KeyUnavailable:
            raise CommandError(
                "签名服务不生成密钥：密钥须在 UKey 或签名服务器中生成，再用 register_signing_key 登记公钥。"
                " The signing service makes no keys: generate the key in the UKey or signing server and"
                " register its public key with register_signing_key."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"已为 {username} 生成并登记 {algorithm} 签名密钥，指纹 {key.fingerprint}。"
                f" Generated and registered {username}'s {algorithm} key, fingerprint {key.fingerprint}."
            )
        )

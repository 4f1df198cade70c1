"""Register a signer's public key (不可否认性): the private key stays in the signer's UKey or the signing server."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from decisions import crypto, signing


class Command(BaseCommand):
    help = (
        "登记签署人的签名公钥（私钥留在 UKey 或签名验签服务器中）；同一算法原有的公钥随即吊销。"
        " Register a signer's public key (raw, hex, base64, PEM or DER); the user's older key of that algorithm is"
        " revoked."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("public_key_file")
        parser.add_argument(
            "--algorithm",
            choices=crypto.SIGNATURES,
            help="签名算法，默认为当前密码配置的算法 / default: the current crypto profile's (SM2-SM3 under gm)",
        )

    def handle(self, *args, username, public_key_file, algorithm=None, **options):
        algorithm = algorithm or crypto.profile().signature_algorithm
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户 / no user {username!r}")
        try:
            public_key = signing.read_public_key(algorithm, Path(public_key_file).read_bytes())
            key = signing.register_key(user, algorithm, public_key)
        except FileNotFoundError:
            raise CommandError(f"找不到文件 / no such file: {public_key_file}") from None
        except signing.InvalidPublicKey as exc:
            raise CommandError(f"公钥无效，未登记 / not registered: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"已登记 {username} 的 {algorithm} 公钥，指纹 {key.fingerprint}。"
                f" Registered {username}'s {algorithm} key, fingerprint {key.fingerprint}."
            )
        )

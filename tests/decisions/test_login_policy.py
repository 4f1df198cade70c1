"""身份鉴别: lockout after failed logins, password complexity and history, expiry, the first-login change,
the idle timeout, and every one of these security events in the audit chain. The clock is the test's."""

import axes.attempts
import axes.handlers.proxy
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from decisions import audit
from decisions.accounts.policy import mark_as_changed
from decisions.models import AuditEvent
from tests.clock import Clock

GOOD = "Zhengfu-2026!"
INBOX = reverse("workflows:inbox")
CHANGE = reverse("password_change")


@pytest.fixture
def clock(monkeypatch):
    """One clock for Django, the sessions, the audit chain and django-axes (which imports `now` by name)."""
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    monkeypatch.setattr(axes.attempts, "now", clock)
    monkeypatch.setattr(axes.handlers.proxy, "now", clock)
    return clock


@pytest.fixture
def account(db):
    def make(username="zhang_san", password=GOOD, *, own_password=True):
        user = get_user_model().objects.create_user(username, password=password)
        if own_password:
            mark_as_changed(user)
        return user

    return make


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def change_password(client, old, new, address="10.0.0.1"):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new}, REMOTE_ADDR=address)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# -- lockout (账号锁定) ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_thirty_minutes_from_every_address(client, clock, account):
    account()
    for _ in range(4):
        assert log_in(client, "zhang_san", "wrong").status_code == 200
    locked = log_in(client, "zhang_san", "wrong")
    assert locked.status_code == 429 and "账号已锁定" in locked.content.decode()

    # The right password, from another address, a little before the 30 minutes are over: still locked.
    clock.advance(minutes=29)
    assert log_in(client, "zhang_san", GOOD, address="10.9.9.9").status_code == 429
    assert not signed_in_as(client)

    clock.advance(minutes=1, seconds=1)
    assert log_in(client, "zhang_san", GOOD, address="10.9.9.9").status_code == 302
    assert signed_in_as(client)


def test_an_address_with_five_failures_is_locked_whatever_username_it_tries(client, clock, account):
    account("li_si")
    for name in ("wang_wu", "zhao_liu", "sun_qi", "zhou_ba", "wu_jiu"):
        log_in(client, name, "guess", address="10.0.0.66")
    assert log_in(client, "li_si", GOOD, address="10.0.0.66").status_code == 429
    # The account itself did nothing wrong: from its own address it signs in.
    assert log_in(client, "li_si", GOOD, address="10.0.0.7").status_code == 302


def test_behind_the_tls_proxy_failures_lock_the_client_address_the_proxy_reports_not_the_proxy(
    client, clock, account, settings
):
    """Every request arrives from the proxy's address: counting that one would lock everybody out."""
    settings.JUECE_BEHIND_PROXY = True
    account("li_si")

    def via_proxy(name, password, client_address, claimed=""):
        forwarded = f"{claimed}, {client_address}" if claimed else client_address
        return client.post(
            reverse("login"),
            {"username": name, "password": password},
            REMOTE_ADDR="10.0.0.1",  # the proxy
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    # The guesser claims other addresses in the header; the proxy appended the real one last.
    for name in ("wang_wu", "zhao_liu", "sun_qi", "zhou_ba", "wu_jiu"):
        via_proxy(name, "guess", "203.0.113.9", claimed=f"198.51.100.{len(name)}")
    assert via_proxy("li_si", GOOD, "203.0.113.9").status_code == 429
    assert via_proxy("li_si", GOOD, "203.0.113.10").status_code == 302
    failed = events("security:login_failed")
    assert failed and {event.payload.get("address") for event in failed} == {"203.0.113.9"}


def test_without_the_proxy_setting_a_forwarded_address_is_ignored(client, clock, account):
    account("li_si")
    for name in ("wang_wu", "zhao_liu", "sun_qi", "zhou_ba", "wu_jiu"):
        client.post(
            reverse("login"),
            {"username": name, "password": "guess"},
            REMOTE_ADDR="10.0.0.66",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{len(name)}",  # a client's own claim: not believed
        )
    assert log_in(client, "li_si", GOOD, address="10.0.0.66").status_code == 429


def test_the_admin_login_is_the_same_guarded_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# -- complexity and history (口令复杂度, 历史口令) --------------------------------------------------------


def test_a_weak_password_is_refused_naming_what_it_lacks(client, account):
    account()
    log_in(client, "zhang_san", GOOD)
    page = change_password(client, GOOD, "abcdefg").content.decode()
    assert "口令至少需要 8 个字符" in page
    assert "口令还缺少：大写字母、数字、特殊符号" in page
    page = change_password(client, GOOD, "ABCDEFGH1234").content.decode()
    assert "口令还缺少：小写字母、特殊符号" in page
    assert client.post(reverse("login"), {}).status_code == 200  # still the old password: nothing changed
    assert get_user_model().objects.get(username="zhang_san").check_password(GOOD)


def test_one_of_the_last_five_passwords_cannot_be_used_again(client, account, settings):
    account()
    log_in(client, "zhang_san", GOOD)
    older = [GOOD, "Shenpi-2026#", "Jueyi-2027$", "Gongshi-2028%", "Tingzheng-29&"]
    for old, new in zip(older, older[1:], strict=False):
        assert change_password(client, old, new).status_code == 302
    # GOOD is the fifth password back (the current one counts): refused.
    page = change_password(client, older[-1], GOOD).content.decode()
    assert "不能使用最近 5 次用过的口令" in page
    assert change_password(client, older[-1], "Fabu-2030*ok").status_code == 302
    # Now GOOD is six passwords back and may come round again.
    assert change_password(client, "Fabu-2030*ok", GOOD).status_code == 302


# -- expiry and the first-login change (口令定期更换, 首次登录修改) ----------------------------------------


def test_an_expired_password_allows_nothing_but_changing_it(client, clock, account):
    account()
    clock.advance(days=90)
    assert log_in(client, "zhang_san", GOOD).status_code == 302
    response = client.get(INBOX)
    assert response.status_code == 302 and response.url == CHANGE
    assert "已超过 90 天未修改" in client.get(CHANGE).content.decode()
    assert client.get("/admin/").url == CHANGE
    api = client.get("/api/v1/decisions/")
    assert api.status_code == 403 and api.json()["code"] == "PASSWORD_CHANGE_REQUIRED"
    assert client.get("/public/decisions/").status_code == 200  # the public's pages stay open

    assert change_password(client, GOOD, "Shenpi-2026#").status_code == 302
    assert client.get(INBOX).status_code == 200
    clock.advance(days=89)
    assert client.get(INBOX).status_code in (200, 302) and client.get(INBOX).get("Location") != CHANGE


def test_a_new_account_changes_the_password_it_was_given_at_first_login(client, account):
    account("new_clerk", "Chushi-2026!", own_password=False)
    assert log_in(client, "new_clerk", "Chushi-2026!").status_code == 302
    assert client.get(INBOX).url == CHANGE
    assert "首次登录" in client.get(CHANGE).content.decode()
    assert change_password(client, "Chushi-2026!", "Ziji-Xuan-26!").status_code == 302
    assert client.get(INBOX).status_code == 200
    # The next login with the password the clerk chose goes straight in.
    client.post(reverse("logout"))
    log_in(client, "new_clerk", "Ziji-Xuan-26!")
    assert client.get(INBOX).status_code == 200


# -- idle timeout (会话超时) -------------------------------------------------------------------------------


def test_thirty_idle_minutes_sign_the_session_out_at_the_next_request(client, clock, account):
    account()
    log_in(client, "zhang_san", GOOD)
    clock.advance(minutes=29)
    assert client.get(INBOX).status_code == 200  # active again: the 30 minutes start over
    clock.advance(minutes=29)
    assert client.get(INBOX).status_code == 200
    clock.advance(minutes=30)
    response = client.get(INBOX, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "已超过 30 分钟未操作" in response.content.decode()
    assert not signed_in_as(client)
    assert events("security:logout")[-1].payload["reason"] == "idle"


# -- security events in the audit chain (安全审计) ---------------------------------------------------------


def test_every_security_event_is_in_the_audit_chain_with_address_and_result(client, clock, account):
    user = account()
    log_in(client, "zhang_san", "wrong", address="10.1.1.1")
    log_in(client, "zhang_san", GOOD, address="10.1.1.2")
    change_password(client, GOOD, "short", address="10.1.1.2")
    change_password(client, GOOD, "Shenpi-2026#", address="10.1.1.2")
    client.post(reverse("logout"), REMOTE_ADDR="10.1.1.2")
    for _ in range(5):
        log_in(client, "zhang_san", "wrong", address="10.1.1.3")

    failed = events("security:login_failed")
    assert failed[0].payload == {"address": "10.1.1.1", "result": "failure", "username": "zhang_san"}
    assert failed[0].object_id == str(user.pk) and failed[0].actor is None
    login = events("security:login")[-1]
    assert login.actor == user and login.payload == {"address": "10.1.1.2", "result": "success"}
    bad_change, change = events("security:password_change")
    assert bad_change.payload["result"] == "failure" and "password_too_short" in bad_change.payload["reasons"]
    assert change.payload == {"address": "10.1.1.2", "result": "success"} and change.actor == user
    assert events("security:logout")[-1].payload == {"address": "10.1.1.2", "result": "success"}
    lockout = events("security:lockout")
    assert len(lockout) == 1 and lockout[0].payload["address"] == "10.1.1.3"
    assert lockout[0].payload["username"] == "zhang_san" and lockout[0].object_id == str(user.pk)
    # Times are the events' own, and no password ever reaches a payload.
    assert all(event.at == clock.at for event in AuditEvent.objects.filter(action__startswith="security:"))
    recorded = str(list(AuditEvent.objects.values_list("payload", flat=True)))
    assert "wrong" not in recorded and GOOD not in recorded and "Shenpi" not in recorded
    assert audit.verify().ok

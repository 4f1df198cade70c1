"""Commenters' personal information (个人信息保护法): checked once when given, masked for whoever does not need it.

Only the undertaking unit answering the comments needs to reach a commenter; every other reader of
the ledger sees the phone number, e-mail address and ID number masked, and audit events record only
which of them were given (decisions.services.comments).
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MASK = "****"
# Who needs to reach a commenter: the unit answering the comments (个人信息保护法, minimum necessary).
FULL_VIEW_ROLES = frozenset({"UNDERTAKING_LEAD"})
# GB 11643-1999: weights of the 17 digits and the check character for each remainder mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PHONE_CHARACTERS = re.compile(r"^\+?[\d\s\-()]+(转\d+)?$")


def _digits(text):
    return re.sub(r"\D", "", str(text or ""))


def mask_phone(phone):
    """Return a phone number with all but its first three and last four digits hidden: 138****5678."""
    digits = _digits(phone)
    if not digits:
        return ""
    if len(digits) < 8:
        return MASK + digits[-2:]
    return digits[:3] + MASK + digits[-4:]


def mask_email(email):
    """Return an e-mail address with its local part hidden after the first character: a***@example.cn."""
    email = str(email or "").strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_id_number(number):
    """Return an ID number with all but its first four and last four characters hidden: 3301**********1234."""
    number = str(number or "").strip()
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def normalise_id_number(number):
    """Return the ID number as stored: no spaces, a final x written X."""
    return re.sub(r"\s", "", str(number or "")).upper()


def id_number_problem(number):
    """Return why `number` is not a resident ID number (18 characters with a valid check, or the old 15 digits), or ""."""
    number = normalise_id_number(number)
    if not number:
        return ""
    if len(number) == 15 and number.isdigit():
        return ""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return "身份证号须为18位(最后一位可为X)或旧版15位数字"
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != number[17]:
        return "身份证号校验位不正确，请核对"
    return ""


def normalise_phone(phone):
    """Return the phone number as stored: trimmed, inner spaces kept as written."""
    return str(phone or "").strip()


def phone_problem(phone):
    """Return why `phone` is not a phone number (7 to 20 digits, with + - ( ) spaces or 转 extension), or ""."""
    phone = normalise_phone(phone)
    if not phone:
        return ""
    if not PHONE_CHARACTERS.match(phone) or not 7 <= len(_digits(phone)) <= 20:
        return "联系电话须为7至20位数字(可含区号连字符、括号或“转”分机号)"
    return ""


def email_problem(email):
    """Return why `email` is not an e-mail address, or ""."""
    email = str(email or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return "电子邮箱格式不正确"
    return ""


def sees_in_full(roles):
    """Return True if someone holding `roles` for a decision reads commenters' contact details unmasked."""
    return bool(set(roles) & FULL_VIEW_ROLES)


def contact_details(comment, full):
    """Return a comment's phone, e-mail and ID number as a reader sees them: in full, or masked."""
    return {
        "phone": comment.phone if full else mask_phone(comment.phone),
        "email": comment.email if full else mask_email(comment.email),
        "id_number": comment.id_number if full else mask_id_number(comment.id_number),
    }

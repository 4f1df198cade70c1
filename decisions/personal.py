"""Personal information of commenters and hearing participants (个人信息保护法): checked once when given, encrypted
at rest, masked for every reader, revealed one record at a time and erased on request, each time audited.

Phone number, e-mail address and ID number are stored encrypted (decisions.fields.EncryptedTextField) and shown
masked on every page, in the API and in every file made from the ledger, to every role. A reader who needs to reach
the person (the lead unit answering the comments; for a hearing participant also the hearing organiser) reveals
one record's contact details with `reveal()`, which appends `security:personal_data_view` (who, which record,
which fields, never the values). `erase()` overwrites a person's fields in place when they ask for deletion
(第四十七条): the comment's text and answer stay, as part of the decision's record. Audit events of the procedure
record only which personal fields were given (decisions.services.comments).

`PersonalDataExceptionFilter` keeps these fields out of error reports (the 500 page, the e-mail to ADMINS).
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.views.debug import SafeExceptionReporterFilter

MASK = "****"
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


CONTACT_LABELS = {"phone": "联系电话", "email": "电子邮箱", "id_number": "身份证号"}


def normalised_contact(phone="", email="", id_number=""):
    """Return contact details as stored: trimmed, the ID number without spaces and with a capital X."""
    return {
        "phone": normalise_phone(phone),
        "email": str(email or "").strip(),
        "id_number": normalise_id_number(id_number),
    }


def contact_problems(values):
    """Return (field, message) for each of normalised contact details that is not what it says it is."""
    checks = {"phone": phone_problem, "email": email_problem, "id_number": id_number_problem}
    return [(name, checks[name](values.get(name))) for name in checks if checks[name](values.get(name))]


# -- masked by default, revealed one record at a time ------------------------------------------------------------

CONTACT_FIELDS = ("phone", "email", "id_number")
MASKS = {"phone": mask_phone, "email": mask_email, "id_number": mask_id_number}
VIEW_EVENT = "security:personal_data_view"
ERASE_EVENT = "security:personal_data_erased"
# Written in place of an erased name (the comment itself stays in the ledger).
ERASED_NAME = "已删除"
ERASE_ARTICLE = "《个人信息保护法》第四十七条"


def _model_name(obj):
    return obj._meta.label


# Who needs to reach the person (minimum necessary): the unit answering the comments; for a hearing participant
# also the hearing organiser who delivers the materials (第十六条).
REVEAL_ROLES = {
    "decisions.Comment": ("UNDERTAKING_LEAD",),
    "decisions.HearingParticipant": ("UNDERTAKING_LEAD", "HEARING_ORG"),
}


def reveal_roles(obj):
    """Return the roles that may reveal and erase `obj`'s personal information."""
    return REVEAL_ROLES[_model_name(obj)]


def may_reveal(roles, obj):
    """Return True if someone holding `roles` for the decision may reveal `obj`'s contact details."""
    return bool(set(roles) & set(reveal_roles(obj)))


def contact_details(obj):
    """Return a record's phone, e-mail and ID number as every page, API answer and file shows them: masked."""
    return {name: MASKS[name](getattr(obj, name)) for name in CONTACT_FIELDS}


def decision_of(obj):
    """Return the decision a comment or a hearing participant belongs to."""
    if _model_name(obj) == "decisions.HearingParticipant":
        return obj.hearing.stage_record.decision
    return obj.stage_record.decision


def _given(obj, names):
    return [name for name in names if getattr(obj, name)]


def _acting_role(user, decision, obj):
    from decisions.permissions import roles_for

    held = roles_for(user, decision)
    return next((role for role in reveal_roles(obj) if role in held), None)


def _record(action, user, role, obj, decision, request, result, **details):
    """Append one security event about a person's data: who, which record, which fields; never their values."""
    from decisions import audit
    from decisions.accounts.policy import client_address

    payload = {"address": client_address(request), "result": result, **details}
    with transaction.atomic():
        return audit.append(actor=user, role=role or "", action=action, obj=obj, decision=decision, payload=payload)


def _refuse_role(obj):
    from decisions.permissions import not_permitted

    return not_permitted(reveal_roles(obj), "个人信息默认脱敏显示，仅经办需要的角色可查看完整信息")


def reveal(user, obj, request=None):
    """Return a comment's or hearing participant's phone, e-mail and ID number in full, and audit the unmasking.

    Allowed to the roles of reveal_roles(); anyone else is refused (NotPermitted) and the attempt is audited too.
    """
    decision = decision_of(obj)
    role = _acting_role(user, decision, obj)
    fields = _given(obj, CONTACT_FIELDS)
    if role is None:
        _record(VIEW_EVENT, user, "", obj, decision, request, "failure", fields=fields)
        raise _refuse_role(obj)
    _record(VIEW_EVENT, user, role, obj, decision, request, "success", fields=fields)
    return {name: getattr(obj, name) for name in CONTACT_FIELDS}


def _erased_values(obj):
    """The fields erase() overwrites and what it writes into them."""
    values = dict.fromkeys(CONTACT_FIELDS, "")
    if _model_name(obj) == "decisions.HearingParticipant":
        return {"name": ERASED_NAME, **values}
    return {"commenter_name": ERASED_NAME, "commenter_organisation": "", **values, "name_public": False}


def erase(user, obj, reason, request=None):
    """Overwrite a person's name and contact details in place (删除个人信息, 第四十七条) and audit it; return the record.

    The comment (or participant) stays, with its text and answer: they are part of the decision's record and
    no signed manifest holds the personal fields. Allowed to the roles of reveal_roles(), with a reason.
    """
    from decisions.rules import refuse
    from decisions.services.common import lock

    decision = decision_of(obj)
    role = _acting_role(user, decision, obj)
    if role is None:
        _record(ERASE_EVENT, user, "", obj, decision, request, "failure", fields=[])
        raise _refuse_role(obj)
    reason = str(reason or "").strip()
    if not reason:
        refuse(
            "ERASURE_REASON_REQUIRED",
            ERASE_ARTICLE,
            "删除个人信息须说明理由(如：本人申请删除)",
            "Erasing personal information needs a reason",
        )
    with transaction.atomic():
        lock(decision)
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        values = _erased_values(obj)
        erased = [name for name, value in values.items() if name != "name_public" and getattr(obj, name) != value]
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save(update_fields=list(values))
        _record(ERASE_EVENT, user, role, obj, decision, request, "success", fields=erased, reason=reason)
    return obj


def is_erased(obj):
    """Tell whether a person's data was erased from `obj`."""
    name = obj.name if _model_name(obj) == "decisions.HearingParticipant" else obj.commenter_name
    return name == ERASED_NAME and not _given(obj, CONTACT_FIELDS)


# -- error reports ---------------------------------------------------------------------------------------------


class PersonalDataExceptionFilter(SafeExceptionReporterFilter):
    """Django's error reports without personal information, whether DEBUG is on or off.

    Settings DEFAULT_EXCEPTION_REPORTER_FILTER names it. Django's own filter hides keys and passwords only
    where a view is marked; this one also hides, everywhere, every POST parameter, frame variable and
    dictionary key that names a person's contact details or name, and plaintext handed to the cipher.
    """

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern
        + "|PHONE|E_?MAIL|ID_NUMBER|COMMENTER|PARTICIPANT|PLAINTEXT|CLEANED_DATA",
        flags=re.IGNORECASE,
    )

    def is_active(self, request):
        return True  # the DEBUG page is sent to a browser: no personal data there either

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        cleansed = parameters.copy()
        for name in list(cleansed):
            if self.hidden_settings.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        # A frame handling an encrypted field (the field itself, Django's insert compiler, the converters reading a
        # row) may hold plain values under any name, in any list: it shows none of its variables.
        if any(_handles_encrypted_field(value) for _name, value in variables):
            return [(name, self.cleansed_substitute) for name, _value in variables]
        return [(name, self.cleanse_setting(name, value)) for name, value in variables]


def _handles_encrypted_field(value):
    from django.db.models.expressions import Col

    from decisions.fields import EncryptedTextField

    if isinstance(value, list | tuple):
        return any(_handles_encrypted_field(item) for item in value[:100])
    return isinstance(value, EncryptedTextField) or (
        isinstance(value, Col) and isinstance(value.target, EncryptedTextField)
    )

"""Scopes, the claims each releases, assurance levels as ``acr``, and what the consent page says."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: The admin API (/api/admin/v1) in the name of the signed-in staff member, and the
#: citizen's own data-use APIs (/api/v1/me): only for clients registered with them.
GOVERNANCE_SCOPE = "governance"
MY_DATA_SCOPE = "my_data"

#: Scopes that concern a signed-in person (not allowed for client_credentials).
USER_SCOPES = (
    "openid",
    "profile",
    "pid",
    "email",
    "phone",
    "organization",
    "offline_access",
    GOVERNANCE_SCOPE,
    MY_DATA_SCOPE,
)
DATASET_SCOPE = re.compile(r"^dataset:[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

#: Claims released by each scope (OIDC Core §5.4, plus ``pid`` and ``org``).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "birthdate", "gender"),
    "pid": ("pid",),
    "email": ("email",),
    "phone": ("phone_number",),
    "organization": ("org",),
}

ACR_PREFIX = "urn:lgsp:loa:"
ACR_VALUES = {1: ACR_PREFIX + "1", 2: ACR_PREFIX + "2"}

CLAIMS_SUPPORTED = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "at_hash",
    "name",
    "birthdate",
    "gender",
    "pid",
    "email",
    "phone_number",
    "org",
]


def is_known(scope: str) -> bool:
    """True for a scope this hub understands."""
    return scope in USER_SCOPES or bool(DATASET_SCOPE.match(scope))


def split(scope: str | None) -> list[str]:
    """A scope string as a list, order kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for item in (scope or "").split():
        seen.setdefault(item, None)
    return list(seen)


def join(scopes: Iterable[str]) -> str:
    """A list of scopes as a scope string."""
    return " ".join(scopes)


def acr_of(level: int) -> str:
    """The ``acr`` value of an assurance level."""
    return ACR_VALUES.get(level, ACR_VALUES[1])


def level_of(acr: object) -> int | None:
    """The assurance level of an ``acr`` value, or None when unknown."""
    for level, value in ACR_VALUES.items():
        if acr == value:
            return level
    return None


def required_level(acr_values: str | None) -> int:
    """The lowest level among the requested ``acr_values`` we know (OIDC Core §3.1.2.1).

    ``acr_values`` lists acceptable values; any of them satisfies the client, so the
    least demanding known one is required. Unknown values are ignored.
    """
    levels = [lv for lv in (level_of(v) for v in (acr_values or "").split()) if lv is not None]
    return min(levels) if levels else 1


def user_claims(
    account: Any, scopes: Iterable[str], *, sub: str, org: dict[str, Any] | None
) -> dict[str, Any]:
    """The claims about ``account`` that ``scopes`` release (never the PIN unless ``pid``)."""
    granted = set(scopes)
    claims: dict[str, Any] = {"sub": sub}
    if "profile" in granted:
        claims["name"] = account.full_name
        if account.birth_date is not None:
            claims["birthdate"] = account.birth_date.isoformat()
        if account.sex:
            claims["gender"] = account.sex
    if "pid" in granted:
        claims["pid"] = account.pin
    if "email" in granted and account.email:
        claims["email"] = account.email
    if "phone" in granted and account.phone:
        claims["phone_number"] = account.phone
    if "organization" in granted and org:
        claims["org"] = org
    return claims


# Texts of the consent and organization pages (Vietnamese first, English on request).
MESSAGES: dict[str, dict[str, str]] = {
    "oauth_consent_title": {"vi": "Cho phép chia sẻ thông tin", "en": "Allow sharing"},
    "oauth_consent_intro": {
        "vi": "Ứng dụng «{client}» muốn đăng nhập bằng tài khoản của bạn và được biết:",
        "en": "The application “{client}” wants to sign you in and to know:",
    },
    "oauth_consent_note": {
        "vi": "Bạn có thể rút lại sự cho phép này bất cứ lúc nào trong trang Tài khoản của tôi.",
        "en": "You can withdraw this permission at any time on the My account page.",
    },
    "oauth_allow": {"vi": "Đồng ý", "en": "Allow"},
    "oauth_deny": {"vi": "Không đồng ý", "en": "Deny"},
    "oauth_scope_openid": {
        "vi": "Bạn là ai: một mã định danh riêng cho ứng dụng này (không phải số định danh).",
        "en": "Who you are: an identifier private to this application (not your ID number).",
    },
    "oauth_scope_profile": {
        "vi": "Họ và tên, ngày sinh, giới tính.",
        "en": "Your full name, date of birth and sex.",
    },
    "oauth_scope_pid": {
        "vi": "Số định danh cá nhân (12 chữ số trên thẻ căn cước).",
        "en": "Your personal identification number (12 digits on your identity card).",
    },
    "oauth_scope_email": {"vi": "Địa chỉ thư điện tử.", "en": "Your e-mail address."},
    "oauth_scope_phone": {"vi": "Số điện thoại.", "en": "Your phone number."},
    "oauth_scope_organization": {
        "vi": "Tổ chức mà bạn thay mặt (mã số thuế, tên, vai trò của bạn).",
        "en": "The organization you act for (tax code, name, your role).",
    },
    "oauth_scope_offline_access": {
        "vi": "Tiếp tục truy cập khi bạn đã đăng xuất khỏi cổng (cho đến khi bạn rút lại).",
        "en": "Keep access after you sign out of the hub (until you withdraw it).",
    },
    "oauth_scope_governance": {
        "vi": "Thay mặt bạn quản trị chia sẻ dữ liệu (quyền, yêu cầu, nhật ký) theo vai trò "
        "của bạn.",
        "en": "Administer data sharing (grants, requests, the audit log) in your name, as your "
        "roles allow.",
    },
    "oauth_scope_my_data": {
        "vi": "Xem ai đã dùng dữ liệu của bạn, và quản lý (rút lại) sự đồng ý chia sẻ dữ liệu.",
        "en": "See who used your data, and manage (withdraw) your data-sharing consents.",
    },
    "oauth_scope_dataset": {
        "vi": "Dữ liệu «{dataset}» về bạn, theo quyền đã được cấp.",
        "en": "Data “{dataset}” about you, as granted.",
    },
    "oauth_org_title": {"vi": "Chọn tổ chức", "en": "Choose an organization"},
    "oauth_org_intro": {
        "vi": "Bạn muốn thay mặt tổ chức nào khi dùng «{client}»?",
        "en": "Which organization do you act for in “{client}”?",
    },
    "oauth_org_self": {
        "vi": "Không thay mặt tổ chức nào (cá nhân)",
        "en": "No organization (myself)",
    },
    "oauth_role_representative": {
        "vi": "người đại diện theo pháp luật",
        "en": "legal representative",
    },
    "oauth_role_staff": {"vi": "nhân viên được ủy quyền", "en": "authorised staff"},
    "oauth_error_title": {"vi": "Không thể tiếp tục", "en": "Cannot continue"},
    "oauth_error_intro": {
        "vi": "Yêu cầu đăng nhập từ ứng dụng không hợp lệ, nên bạn không được chuyển trở lại.",
        "en": "The application's sign-in request is not valid, so you were not sent back.",
    },
    "oauth_logout_title": {"vi": "Đăng xuất", "en": "Sign out"},
    "oauth_logout_confirm": {
        "vi": "Bạn có muốn đăng xuất khỏi cổng định danh không?",
        "en": "Do you want to sign out of the identity hub?",
    },
    "oauth_logout_done": {"vi": "Bạn đã đăng xuất.", "en": "You have signed out."},
    "oauth_logout_unregistered": {
        "vi": "Địa chỉ quay lại mà ứng dụng đưa ra chưa được đăng ký, nên bạn không được "
        "chuyển tiếp.",
        "en": "The return address given by the application is not registered, so you were not "
        "redirected.",
    },
    "oauth_apps_title": {"vi": "Ứng dụng bạn đã cho phép", "en": "Apps you allowed"},
    "oauth_apps_none": {
        "vi": "Bạn chưa cho phép ứng dụng nào.",
        "en": "You have not allowed any application.",
    },
    "oauth_apps_since": {"vi": "Từ {date}", "en": "Since {date}"},
    "oauth_apps_revoke": {"vi": "Rút lại", "en": "Withdraw"},
}


def describe(scope: str, translate: Any) -> str:
    """The consent-page sentence for one scope."""
    if scope.startswith("dataset:"):
        return str(translate("oauth_scope_dataset", dataset=scope.split(":", 1)[1]))
    return str(translate(f"oauth_scope_{scope}"))

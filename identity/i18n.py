"""Page texts in Vietnamese (default) and English; ``?lang=en`` switches, cookie ``lgsp_lang``.

Other packages add their own texts with ``add_messages`` at import time.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request

from hub.config import Settings

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE_NAME = "lgsp_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "hub_name": {"vi": "Cổng định danh tỉnh (LGSP)", "en": "Provincial identity hub (LGSP)"},
    "skip_to_content": {"vi": "Chuyển đến nội dung chính", "en": "Skip to main content"},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
    "footer": {
        "vi": "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh",
        "en": "Provincial data-sharing and integration platform",
    },
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "pin": {"vi": "Số định danh cá nhân", "en": "Personal identification number"},
    "pin_hint": {"vi": "12 chữ số trên thẻ căn cước", "en": "12 digits on your identity card"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "login_failed": {
        "vi": "Số định danh hoặc mật khẩu không đúng.",
        "en": "The identification number or password is not correct.",
    },
    "too_many_attempts": {
        "vi": "Quá nhiều lần thử không thành công. Vui lòng thử lại sau {seconds} giây.",
        "en": "Too many failed attempts. Please try again in {seconds} seconds.",
    },
    "otp_title": {"vi": "Xác thực hai bước", "en": "Two-step verification"},
    "otp_code": {"vi": "Mã xác thực (6 chữ số)", "en": "Verification code (6 digits)"},
    "otp_hint": {
        "vi": "Nhập mã trong ứng dụng xác thực, hoặc một mã khôi phục.",
        "en": "Enter the code from your authenticator app, or a recovery code.",
    },
    "otp_failed": {"vi": "Mã xác thực không đúng.", "en": "The verification code is not correct."},
    "otp_expired": {
        "vi": "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
        "en": "The sign-in has expired. Please sign in again.",
    },
    "stepup_intro": {
        "vi": "Dịch vụ này yêu cầu tài khoản mức độ 2. Nhập mã xác thực để tiếp tục.",
        "en": "This service needs a level 2 account. Enter your verification code to continue.",
    },
    "continue": {"vi": "Tiếp tục", "en": "Continue"},
    "level1_title": {"vi": "Cần tài khoản mức độ 2", "en": "A level 2 account is needed"},
    "level1_body": {
        "vi": "Dịch vụ này yêu cầu tài khoản định danh điện tử mức độ 2. Tài khoản của bạn là "
        "mức độ 1, nên không thể dùng cho dịch vụ này. Hãy đến cơ quan công an để nâng cấp "
        "tài khoản lên mức độ 2.",
        "en": "This service needs a level 2 electronic identity account. Yours is level 1, so it "
        "cannot be used for this service. Visit the police office to upgrade to level 2.",
    },
    "mfa_needed_title": {
        "vi": "Cần bật xác thực hai bước",
        "en": "Two-step verification is needed",
    },
    "mfa_needed_body": {
        "vi": "Dịch vụ này yêu cầu mức độ 2: mật khẩu và mã xác thực. Hãy bật xác thực hai bước "
        "trong trang tài khoản, rồi quay lại.",
        "en": "This service needs level 2: password and a verification code. Turn on two-step "
        "verification on your account page, then come back.",
    },
    "retry_service": {"vi": "Quay lại dịch vụ", "en": "Back to the service"},
    "account": {"vi": "Tài khoản của tôi", "en": "My account"},
    "profile": {"vi": "Thông tin cá nhân", "en": "Profile"},
    "full_name": {"vi": "Họ và tên", "en": "Full name"},
    "birth_date": {"vi": "Ngày sinh", "en": "Date of birth"},
    "sex": {"vi": "Giới tính", "en": "Sex"},
    "male": {"vi": "Nam", "en": "Male"},
    "female": {"vi": "Nữ", "en": "Female"},
    "email": {"vi": "Thư điện tử", "en": "E-mail"},
    "phone": {"vi": "Số điện thoại", "en": "Phone"},
    "level": {"vi": "Mức độ tài khoản", "en": "Account level"},
    "level_n": {"vi": "Mức độ {n}", "en": "Level {n}"},
    "not_given": {"vi": "Chưa có", "en": "Not given"},
    "change_password": {"vi": "Đổi mật khẩu", "en": "Change password"},
    "current_password": {"vi": "Mật khẩu hiện tại", "en": "Current password"},
    "new_password": {
        "vi": "Mật khẩu mới (ít nhất 10 ký tự)",
        "en": "New password (10+ characters)",
    },
    "confirm_password": {"vi": "Nhập lại mật khẩu mới", "en": "New password again"},
    "acc_current_password_wrong": {
        "vi": "Mật khẩu hiện tại không đúng.",
        "en": "The current password is not correct.",
    },
    "acc_password_length": {
        "vi": "Mật khẩu mới phải có từ {min} đến {max} ký tự.",
        "en": "The new password must have {min} to {max} characters.",
    },
    "acc_password_unchanged": {
        "vi": "Mật khẩu mới phải khác mật khẩu hiện tại.",
        "en": "The new password must differ from the current one.",
    },
    "passwords_differ": {
        "vi": "Hai mật khẩu mới không khớp.",
        "en": "The two new passwords do not match.",
    },
    "password_changed": {
        "vi": "Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất.",
        "en": "Password changed. Your other sign-ins were signed out.",
    },
    "mfa": {"vi": "Xác thực hai bước", "en": "Two-step verification"},
    "mfa_on": {"vi": "Đang bật", "en": "On"},
    "mfa_off": {"vi": "Đang tắt", "en": "Off"},
    "mfa_setup": {"vi": "Bật xác thực hai bước", "en": "Turn on two-step verification"},
    "mfa_scan": {
        "vi": "Quét mã QR bằng ứng dụng xác thực (ví dụ Google Authenticator), hoặc nhập khóa "
        "bí mật bên dưới, rồi nhập mã 6 chữ số mà ứng dụng hiển thị.",
        "en": "Scan the QR code with an authenticator app (e.g. Google Authenticator), or type "
        "the secret key below, then enter the 6-digit code the app shows.",
    },
    "mfa_secret": {"vi": "Khóa bí mật", "en": "Secret key"},
    "mfa_qr_label": {"vi": "Mã QR để cài đặt ứng dụng xác thực", "en": "QR code for the app"},
    "mfa_enabled": {"vi": "Đã bật xác thực hai bước.", "en": "Two-step verification is on."},
    "recovery_codes": {"vi": "Mã khôi phục", "en": "Recovery codes"},
    "recovery_codes_note": {
        "vi": "Hãy lưu các mã này ở nơi an toàn. Mỗi mã chỉ dùng được một lần, và sẽ không "
        "được hiển thị lại.",
        "en": "Keep these codes somewhere safe. Each works once, and they will not be shown again.",
    },
    "mfa_disable": {"vi": "Tắt xác thực hai bước", "en": "Turn off two-step verification"},
    "mfa_disabled": {"vi": "Đã tắt xác thực hai bước.", "en": "Two-step verification is off."},
    "sessions": {"vi": "Các phiên đăng nhập", "en": "Active sign-ins"},
    "this_device": {"vi": "Thiết bị này", "en": "This device"},
    "signed_in_at": {"vi": "Đăng nhập lúc", "en": "Signed in at"},
    "last_seen": {"vi": "Hoạt động gần nhất", "en": "Last active"},
    "address": {"vi": "Địa chỉ IP", "en": "IP address"},
    "browser": {"vi": "Trình duyệt", "en": "Browser"},
    "end_session": {"vi": "Đăng xuất phiên này", "en": "Sign out this one"},
    "end_all_sessions": {"vi": "Đăng xuất tất cả", "en": "Sign out everywhere"},
    "session_ended": {"vi": "Đã đăng xuất phiên.", "en": "The sign-in was ended."},
    "organizations": {"vi": "Tổ chức tôi đại diện", "en": "Organizations I act for"},
    "role_representative": {"vi": "Người đại diện theo pháp luật", "en": "Legal representative"},
    "role_staff": {"vi": "Nhân viên được ủy quyền", "en": "Authorised staff"},
    "until": {"vi": "đến", "en": "until"},
    "org_manage_staff": {"vi": "Quản lý nhân viên được ủy quyền", "en": "Manage authorised staff"},
    "org_members": {"vi": "Thành viên của tổ chức", "en": "Members of the organization"},
    "org_member": {"vi": "Thành viên", "en": "Member"},
    "org_role": {"vi": "Vai trò", "en": "Role"},
    "org_valid_until": {"vi": "Hiệu lực đến hết ngày", "en": "Valid through"},
    "org_ended": {"vi": "đã chấm dứt", "en": "ended"},
    "org_end": {"vi": "Chấm dứt ủy quyền", "en": "End the authorisation"},
    "org_authorise_staff": {"vi": "Ủy quyền cho nhân viên", "en": "Authorise a staff member"},
    "org_staff_pin": {
        "vi": "Số định danh cá nhân của nhân viên",
        "en": "The staff member's personal identification number",
    },
    "org_staff_until": {"vi": "Ủy quyền đến hết ngày", "en": "Authorised through"},
    "org_staff_hint": {
        "vi": "Nhân viên phải đã có tài khoản. Ủy quyền tối đa 5 năm; ủy quyền lại cho cùng "
        "người sẽ gia hạn. Khi ủy quyền chấm dứt, các ứng dụng không còn nhận người đó thay mặt "
        "tổ chức.",
        "en": "The staff member needs an account already. At most 5 years; authorising the "
        "same person again renews it. Once it ends, apps no longer see that person acting for "
        "the organization.",
    },
    "org_authorise": {"vi": "Ủy quyền", "en": "Authorise"},
    "org_staff_authorised": {
        "vi": "Đã ủy quyền cho nhân viên.",
        "en": "The staff member is authorised.",
    },
    "org_staff_ended": {"vi": "Đã chấm dứt ủy quyền.", "en": "The authorisation has ended."},
    "org_no_such_person": {
        "vi": "Không có tài khoản nào với số định danh này.",
        "en": "No account has this personal identification number.",
    },
    "org_bad_pin": {
        "vi": "Số định danh cá nhân không hợp lệ (12 chữ số, mã tỉnh có thật).",
        "en": "Not a valid personal identification number (12 digits, a real province code).",
    },
    "org_bad_expiry": {
        "vi": "Ngày hết hạn phải sau hôm nay và trong vòng 5 năm.",
        "en": "The last day must be after today and within 5 years.",
    },
    "org_is_representative": {
        "vi": "Người này là người đại diện của tổ chức.",
        "en": "This person is a representative of the organization.",
    },
    "save": {"vi": "Lưu", "en": "Save"},
    "back_to_account": {"vi": "Về trang tài khoản", "en": "Back to my account"},
    "error_title": {"vi": "Có lỗi xảy ra", "en": "Something went wrong"},
    "csrf_failed": {
        "vi": "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Hãy tải lại trang và thử lại.",
        "en": "The form has expired or did not come from this site. Reload the page and try again.",
    },
    "signed_out": {"vi": "Bạn đã đăng xuất.", "en": "You are signed out."},
    "field_error": {"vi": "Lỗi", "en": "Error"},
}


def add_messages(messages: dict[str, dict[str, str]]) -> None:
    """Register more texts (``{"key": {"vi": …, "en": …}}``)."""
    MESSAGES.update(messages)


def current_language() -> str:
    """``vi`` or ``en`` for this request: ``?lang=``, else the cookie, else Vietnamese."""
    if "lgsp_lang" in g:
        lang: str = g.lgsp_lang
        return lang
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.lgsp_set_lang = asked
        lang = asked
    else:
        cookie = request.cookies.get(COOKIE_NAME)
        lang = cookie if cookie in LANGUAGES else DEFAULT
    g.lgsp_lang = lang
    return lang


def t(key: str, **values: object) -> str:
    """The text for ``key`` in the request's language (the key itself when unknown)."""
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    text = texts.get(current_language()) or texts.get(DEFAULT) or key
    return text.format(**values) if values else text


def lang_url(code: str) -> str:
    """The current page in another language (other query parameters kept)."""
    args = request.args.to_dict()
    args["lang"] = code
    return request.path + "?" + urlencode(args)


def _remember_language(response: Response) -> Response:
    lang = g.get("lgsp_set_lang")
    if lang:
        settings: Settings = current_app.extensions["lgsp.settings"]
        response.set_cookie(
            COOKIE_NAME,
            lang,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=settings.secure_cookies,
        )
    return response


def init_app(app: Flask) -> None:
    """Make ``_()`` and ``lang()`` available to templates and remember ``?lang=``."""
    app.jinja_env.globals.update(_=t, lang=current_language, lang_url=lang_url, languages=LANGUAGES)
    app.after_request(_remember_language)

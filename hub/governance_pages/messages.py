"""Texts of the governance pages (console, developer portal, citizen's data pages)."""

from __future__ import annotations

from identity import i18n

MESSAGES: dict[str, dict[str, str]] = {
    # Shared
    "gov_app": {"vi": "Ứng dụng", "en": "App"},
    "gov_dataset": {"vi": "Bộ dữ liệu", "en": "Dataset"},
    "gov_purpose": {"vi": "Mục đích", "en": "Purpose"},
    "gov_fields": {"vi": "Thông tin (trường dữ liệu)", "en": "Data (fields)"},
    "gov_when": {"vi": "Thời điểm", "en": "When"},
    "gov_outcome": {"vi": "Kết quả", "en": "Outcome"},
    "gov_outcome_found": {"vi": "Đã cung cấp dữ liệu", "en": "Data provided"},
    "gov_sensitive": {"vi": "Dữ liệu nhạy cảm", "en": "Sensitive data"},
    "gov_sensitive_mark": {"vi": "(dữ liệu nhạy cảm)", "en": "(sensitive data)"},
    "gov_official": {"vi": "Cán bộ", "en": "Official"},
    "gov_on_your_behalf": {"vi": "theo yêu cầu của bạn", "en": "on your behalf"},
    "gov_procedure_code": {"vi": "mã thủ tục", "en": "procedure code"},
    # "Who used my data"
    "gov_data_access_title": {"vi": "Ai đã sử dụng dữ liệu của tôi", "en": "Who used my data"},
    "gov_data_access_intro": {
        "vi": "Mỗi lần một ứng dụng của cơ quan nhà nước nhận dữ liệu về bạn qua nền tảng, việc "
        "đó được ghi lại: thời điểm (giờ Việt Nam), ứng dụng, bộ dữ liệu, mục đích (thủ tục hành "
        "chính) và các thông tin đã được cung cấp.",
        "en": "Every time an agency app received data about you through the hub it was recorded: "
        "when (Vietnam time), which app, which dataset, for which purpose (administrative "
        "procedure) and which data.",
    },
    "gov_data_access_none": {
        "vi": "Chưa có ứng dụng nào nhận dữ liệu của bạn.",
        "en": "No app has received your data yet.",
    },
    "gov_org_data_access_title": {
        "vi": "Ai đã sử dụng dữ liệu của tổ chức «{name}» (mã số thuế {tax_code})",
        "en": "Who used the data of “{name}” (tax code {tax_code})",
    },
    "gov_org_data_access_none": {
        "vi": "Chưa có ứng dụng nào nhận dữ liệu của tổ chức này.",
        "en": "No app has received this organization's data yet.",
    },
    "gov_data_access_page": {
        "vi": "Xem trên trang riêng",
        "en": "Open on a page of its own",
    },
    "gov_consents_title": {
        "vi": "Các ứng dụng tôi đã đồng ý chia sẻ dữ liệu",
        "en": "Apps I agreed to share my data with",
    },
    "gov_consents_none": {
        "vi": "Bạn chưa đồng ý chia sẻ dữ liệu với ứng dụng nào.",
        "en": "You have not agreed to share data with any app.",
    },
    "gov_consented_at": {"vi": "Đồng ý lúc {at}", "en": "Agreed on {at}"},
    "gov_withdrawn_at": {"vi": "đã rút lại lúc {at}", "en": "withdrawn on {at}"},
    "gov_consent_text_shown": {"vi": "Nội dung bạn đã đồng ý", "en": "The text you agreed to"},
    "gov_withdraw": {"vi": "Rút lại sự đồng ý", "en": "Withdraw consent"},
    "gov_consent_withdrawn": {
        "vi": "Đã rút lại sự đồng ý. Ứng dụng sẽ không nhận được dữ liệu này nữa.",
        "en": "Consent withdrawn. The app will no longer receive this data.",
    },
    # The data-consent screen
    "gov_consent_title": {"vi": "Đồng ý chia sẻ dữ liệu", "en": "Consent to share your data"},
    "gov_consent_lead": {
        "vi": "Ứng dụng «{app}» đề nghị nhận một số thông tin của bạn từ cơ sở dữ liệu của cơ quan "
        "nhà nước. Chỉ khi bạn đồng ý, ứng dụng mới nhận được các thông tin dưới đây.",
        "en": "The app “{app}” asks to receive some of your data from a government database. "
        "It receives the data below only if you agree.",
    },
    "gov_consent_who": {"vi": "Ai đề nghị", "en": "Who asks"},
    "gov_consent_source": {"vi": "Lấy từ", "en": "From"},
    "gov_consent_purpose": {"vi": "Để làm gì", "en": "What for"},
    "gov_consent_basis": {"vi": "Căn cứ pháp lý", "en": "Legal basis"},
    "gov_consent_basis_law": {
        "vi": "Sự đồng ý của bạn (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15, Nghị định "
        "356/2025/NĐ-CP)",
        "en": "Your consent (Personal Data Protection Law 91/2025/QH15, Decree 356/2025/ND-CP)",
    },
    "gov_consent_basis_grant": {
        "vi": "Căn cứ của ứng dụng khi được cấp quyền",
        "en": "The app's basis for its permission",
    },
    "gov_consent_fields": {"vi": "Thông tin sẽ được chia sẻ", "en": "Data to be shared"},
    "gov_consent_statement": {"vi": "Nội dung đồng ý", "en": "What you agree to"},
    "gov_consent_text": {
        "vi": "Tôi đồng ý để ứng dụng «{app}» nhận các thông tin sau của tôi từ «{dataset}» "
        "({owner}): {fields}; chỉ để giải quyết thủ tục «{procedure}» (mã {code}).",
        "en": "I agree that the app “{app}” receives the following data about me from "
        "“{dataset}” ({owner}): {fields}; only to handle the procedure “{procedure}” "
        "(code {code}).",
    },
    "gov_consent_text_basis": {
        "vi": "Căn cứ của ứng dụng: {basis}.",
        "en": "The app's legal basis: {basis}.",
    },
    "gov_consent_text_withdraw": {
        "vi": "Tôi có thể rút lại sự đồng ý này bất cứ lúc nào tại trang Tài khoản của tôi; sau "
        "khi rút lại, ứng dụng không nhận được dữ liệu này nữa.",
        "en": "I can withdraw this consent at any time on my account page; after that the app "
        "no longer receives this data.",
    },
    "gov_consent_allow": {"vi": "Đồng ý", "en": "Agree"},
    "gov_consent_deny": {"vi": "Không đồng ý", "en": "Do not agree"},
    "gov_consent_note": {
        "vi": "Nếu bạn không đồng ý, không có thông tin nào được chia sẻ; bạn vẫn có thể làm thủ "
        "tục theo cách khác.",
        "en": "If you do not agree, nothing is shared; you can still use the service another way.",
    },
    "gov_consent_unknown_app": {
        "vi": "Ứng dụng đề nghị chia sẻ dữ liệu không được đăng ký với nền tảng.",
        "en": "The app asking for your data is not registered with the hub.",
    },
    "gov_consent_bad_return": {
        "vi": "Địa chỉ quay lại không phải là địa chỉ đã đăng ký của ứng dụng.",
        "en": "The return address is not one the app registered.",
    },
    "gov_consent_incomplete": {
        "vi": "Đề nghị phải nêu bộ dữ liệu, mục đích và các trường dữ liệu.",
        "en": "The request must name the dataset, the purpose and the fields.",
    },
    "gov_consent_not_personal": {
        "vi": "Bộ dữ liệu này không thể chia sẻ theo sự đồng ý của công dân.",
        "en": "This dataset cannot be shared on a citizen's behalf.",
    },
    "gov_consent_unknown_purpose": {
        "vi": "Mục đích phải là mã một thủ tục hành chính đã biết.",
        "en": "The purpose must be the code of a known administrative procedure.",
    },
    # Console
    "con_title": {"vi": "Trang quản trị", "en": "Admin console"},
    "con_roles": {"vi": "Vai trò", "en": "Roles"},
    "con_role_admin": {"vi": "Quản trị nền tảng", "en": "Platform administrator"},
    "con_role_data_owner": {"vi": "Chủ quản dữ liệu", "en": "Data owner"},
    "con_role_auditor": {"vi": "Kiểm toán", "en": "Auditor"},
    "con_role_developer": {"vi": "Nhà phát triển", "en": "Developer"},
    "con_nav_requests": {"vi": "Yêu cầu truy cập", "en": "Access requests"},
    "con_nav_grants": {"vi": "Quyền truy cập", "en": "Grants"},
    "con_nav_datasets": {"vi": "Bộ dữ liệu", "en": "Datasets"},
    "con_nav_audit": {"vi": "Nhật ký", "en": "Audit"},
    "con_nav_clients": {"vi": "Ứng dụng", "en": "Apps"},
    "con_nav_organizations": {"vi": "Tổ chức", "en": "Organizations"},
    "con_nav_accounts": {"vi": "Tài khoản", "en": "Accounts"},
    "con_nav_holidays": {"vi": "Ngày nghỉ lễ", "en": "Public holidays"},
    "con_holidays_intro": {
        "vi": "Các ngày không tính vào hạn trả lời yêu cầu truy cập (2 ngày làm việc), ngoài "
        "thứ Bảy và Chủ nhật. Ngày lễ cố định do luật quy định; Tết Nguyên đán, Giỗ Tổ và các "
        "ngày nghỉ theo thông báo hằng năm được khai báo tại đây. Ngày lễ trùng cuối tuần được "
        "nghỉ bù vào ngày làm việc kế tiếp.",
        "en": "Days that do not count towards the 2 working days for answering access "
        "requests, besides Saturdays and Sundays. Fixed holidays are the law's; Tết, the Hung "
        "Kings day and the days of each year's announcement are declared here. A holiday on "
        "a weekend is taken on the next working day.",
    },
    "con_day": {"vi": "Ngày", "en": "Day"},
    "con_year": {"vi": "Năm", "en": "Year"},
    "con_source": {"vi": "Loại", "en": "Kind"},
    "con_source_fixed": {"vi": "Cố định (luật)", "en": "Fixed (law)"},
    "con_source_declared": {"vi": "Đã khai báo", "en": "Declared"},
    "con_source_moved": {"vi": "Nghỉ bù", "en": "In lieu"},
    "con_name_vi": {"vi": "Tên tiếng Việt", "en": "Vietnamese name"},
    "con_name_en": {"vi": "Tên tiếng Anh", "en": "English name"},
    "con_holiday_declare": {"vi": "Khai báo ngày nghỉ", "en": "Declare a holiday"},
    "con_holiday_declared": {"vi": "Đã khai báo ngày nghỉ.", "en": "Holiday declared."},
    "con_holiday_removed": {"vi": "Đã bỏ ngày nghỉ.", "en": "Holiday withdrawn."},
    "con_remove": {"vi": "Bỏ", "en": "Remove"},
    "con_show": {"vi": "Xem", "en": "Show"},
    "con_status": {"vi": "Trạng thái", "en": "Status"},
    "con_status_pending": {"vi": "Chờ xử lý", "en": "Pending"},
    "con_status_approved": {"vi": "Đã chấp thuận", "en": "Approved"},
    "con_status_refused": {"vi": "Đã từ chối", "en": "Refused"},
    "con_status_withdrawn": {"vi": "Đã rút", "en": "Withdrawn"},
    "con_overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "con_all": {"vi": "Tất cả", "en": "All"},
    "con_filter": {"vi": "Lọc", "en": "Filter"},
    "con_search": {"vi": "Tìm kiếm", "en": "Search"},
    "con_submitted": {"vi": "Ngày gửi", "en": "Submitted"},
    "con_due": {"vi": "Hạn trả lời", "en": "Due"},
    "con_decided": {"vi": "Quyết định lúc", "en": "Decided"},
    "con_any_purpose": {"vi": "Mọi mục đích", "en": "Any purpose"},
    "con_no_requests": {"vi": "Không có yêu cầu nào.", "en": "No requests."},
    "con_request": {"vi": "Yêu cầu truy cập", "en": "Access request"},
    "con_back_inbox": {"vi": "Về danh sách yêu cầu", "en": "Back to the inbox"},
    "con_legal_basis": {"vi": "Căn cứ pháp lý", "en": "Legal basis"},
    "con_justification": {"vi": "Lý do cần dữ liệu", "en": "Justification"},
    "con_contact": {"vi": "Thư điện tử liên hệ", "en": "Contact e-mail"},
    "con_requested_by": {"vi": "Người gửi", "en": "Requested by"},
    "con_grant": {"vi": "Quyền đã cấp", "en": "Grant"},
    "con_reasons": {"vi": "Lý do từ chối", "en": "Reasons for refusal"},
    "con_required": {"vi": "bắt buộc", "en": "required"},
    "con_approve_title": {"vi": "Chấp thuận", "en": "Approve"},
    "con_approve_hint": {
        "vi": "Có thể cấp hẹp hơn yêu cầu: bỏ chọn các trường hoặc mục đích không cấp.",
        "en": "You may grant less than asked: untick the fields or purposes you do not grant.",
    },
    "con_approve": {"vi": "Chấp thuận và cấp quyền", "en": "Approve and grant"},
    "con_refuse_title": {"vi": "Từ chối bằng văn bản", "en": "Refuse in writing"},
    "con_refuse": {"vi": "Từ chối", "en": "Refuse"},
    "con_reasons_required": {
        "vi": "Từ chối phải nêu rõ lý do bằng văn bản.",
        "en": "A refusal must give its reasons in writing.",
    },
    "con_pick_fields": {"vi": "Chọn ít nhất một trường dữ liệu.", "en": "Pick at least one field."},
    "con_pick_purposes": {"vi": "Chọn ít nhất một mục đích.", "en": "Pick at least one purpose."},
    "con_valid_from": {"vi": "Hiệu lực từ ngày", "en": "Valid from (start of day)"},
    "con_valid_from_hint": {"vi": "Để trống: ngay bây giờ.", "en": "Empty: right now."},
    "con_valid_until": {"vi": "Hiệu lực đến hết ngày", "en": "Valid until (end of day)"},
    "con_daily_quota": {"vi": "Hạn mức lượt gọi mỗi ngày", "en": "Daily call quota"},
    "con_note": {"vi": "Ghi chú", "en": "Note"},
    "con_bad_date": {"vi": "{what}: ngày không hợp lệ.", "en": "{what}: not a valid date."},
    "con_bad_quota": {
        "vi": "Hạn mức phải là số nguyên từ 1 trở lên.",
        "en": "The quota must be a whole number of at least 1.",
    },
    "con_history": {"vi": "Lịch sử xử lý", "en": "History"},
    "con_approved": {
        "vi": "Đã chấp thuận và cấp quyền; người yêu cầu sẽ được thông báo.",
        "en": "Approved and granted; the requester will be notified.",
    },
    "con_refused": {
        "vi": "Đã từ chối; người yêu cầu sẽ được thông báo kèm lý do.",
        "en": "Refused; the requester will be notified with the reasons.",
    },
    "con_grant_new": {"vi": "Cấp quyền mới", "en": "New grant"},
    "con_grant_create": {"vi": "Cấp quyền", "en": "Create grant"},
    "con_grant_created": {"vi": "Đã cấp quyền.", "en": "Grant created."},
    "con_grant_revoked": {
        "vi": "Đã thu hồi quyền; lượt gọi tiếp theo của ứng dụng sẽ bị từ chối.",
        "en": "Grant revoked; the app's next call is refused.",
    },
    "con_grant_fields_hint": {
        "vi": "Chọn bộ dữ liệu và các trường của nó. Không chọn trường nào: mọi trường không "
        "nhạy cảm.",
        "en": "Choose the dataset and its fields. No field ticked: every non-sensitive field.",
    },
    "con_grant_purposes_hint": {
        "vi": "Không chọn mục đích nào: mọi mục đích, dựa trên căn cứ pháp lý đã nêu.",
        "en": "No purpose ticked: any purpose, resting on the stated legal basis.",
    },
    "con_client_id": {"vi": "Mã ứng dụng (client_id)", "en": "App (client_id)"},
    "con_dataset_id": {"vi": "Mã bộ dữ liệu", "en": "Dataset id"},
    "con_include_revoked": {"vi": "Gồm cả quyền đã thu hồi", "en": "Include revoked grants"},
    "con_validity": {"vi": "Hiệu lực", "en": "Validity"},
    "con_actions": {"vi": "Thao tác", "en": "Actions"},
    "con_state_active": {"vi": "Đang hiệu lực", "en": "Active"},
    "con_state_pending": {"vi": "Chưa hiệu lực", "en": "Not yet valid"},
    "con_state_expired": {"vi": "Hết hạn", "en": "Expired"},
    "con_state_revoked": {"vi": "Đã thu hồi", "en": "Revoked"},
    "con_revoke_reason": {"vi": "Lý do thu hồi", "en": "Reason"},
    "con_revoke": {"vi": "Thu hồi", "en": "Revoke"},
    "con_no_grants": {"vi": "Không có quyền nào.", "en": "No grants."},
    "con_purpose_code": {"vi": "Mã thủ tục", "en": "Procedure code"},
    "con_kind": {"vi": "Loại bản ghi", "en": "Kind"},
    "con_subject": {"vi": "Số định danh của chủ thể dữ liệu", "en": "Data subject's PIN"},
    "con_subject_hint": {
        "vi": "Được băm trước khi tìm; nhật ký không lưu số định danh.",
        "en": "Hashed before the search; the log never holds the number.",
    },
    "con_since": {"vi": "Từ (giờ Việt Nam)", "en": "From (Vietnam time)"},
    "con_until": {"vi": "Đến (giờ Việt Nam)", "en": "Until (Vietnam time)"},
    "con_outcome_found": {"vi": "Có dữ liệu", "en": "Found"},
    "con_outcome_not_found": {"vi": "Không có dữ liệu", "en": "Not found"},
    "con_outcome_refused": {"vi": "Bị từ chối", "en": "Refused"},
    "con_outcome_failed": {"vi": "Lỗi", "en": "Failed"},
    "con_outcome_ok": {"vi": "Thao tác quản trị", "en": "Admin action"},
    "con_audit_total": {"vi": "{n} bản ghi phù hợp", "en": "{n} matching records"},
    "con_csv": {"vi": "Tải về CSV", "en": "Download CSV"},
    "con_actor": {"vi": "Người thực hiện", "en": "Actor"},
    "con_subject_hash": {"vi": "Chủ thể (băm)", "en": "Subject (hash)"},
    "con_no_records": {"vi": "Không có bản ghi nào.", "en": "No records."},
    "con_pages": {"vi": "Trang", "en": "Pages"},
    "con_prev": {"vi": "Trang trước", "en": "Previous"},
    "con_next": {"vi": "Trang sau", "en": "Next"},
    "con_clients_hint": {
        "vi": "Đăng ký ứng dụng mới bằng lệnh: lgsp clients create.",
        "en": "Register a new app with: lgsp clients create.",
    },
    "con_name": {"vi": "Tên", "en": "Name"},
    "con_grant_types": {"vi": "Kiểu cấp phép", "en": "Grant types"},
    "con_scopes": {"vi": "Phạm vi", "en": "Scopes"},
    "con_redirect_uris": {"vi": "Địa chỉ chuyển hướng", "en": "Redirect URIs"},
    "con_developers": {"vi": "Nhà phát triển", "en": "Developers"},
    "con_owner": {"vi": "Cơ quan chủ quản", "en": "Owner agency"},
    "con_version": {"vi": "Phiên bản", "en": "Version"},
    "con_versions": {"vi": "Các phiên bản", "en": "Versions"},
    "con_current": {"vi": "hiện hành", "en": "current"},
    "con_loaded_at": {"vi": "Nạp lúc", "en": "Loaded at"},
    "con_loaded_by": {"vi": "Người nạp", "en": "Loaded by"},
    "con_definition": {"vi": "Định nghĩa", "en": "Definition"},
    "con_enabled": {"vi": "Đang bật", "en": "Enabled"},
    "con_disabled": {"vi": "Đang tắt", "en": "Disabled"},
    "con_enable": {"vi": "Bật bộ dữ liệu", "en": "Enable dataset"},
    "con_disable": {"vi": "Tắt bộ dữ liệu", "en": "Disable dataset"},
    "con_dataset_enabled": {"vi": "Đã bật bộ dữ liệu.", "en": "Dataset enabled."},
    "con_dataset_disabled": {
        "vi": "Đã tắt bộ dữ liệu: mọi truy vấn sẽ bị từ chối.",
        "en": "Dataset disabled: every query is refused.",
    },
    "con_no_datasets": {"vi": "Không có bộ dữ liệu nào.", "en": "No datasets."},
    "con_not_your_dataset": {
        "vi": "Bộ dữ liệu này không thuộc cơ quan của bạn.",
        "en": "This dataset does not belong to your agency.",
    },
    "con_tax_code": {"vi": "Mã số thuế", "en": "Tax code"},
    "con_address": {"vi": "Địa chỉ", "en": "Address"},
    "con_none": {"vi": "Chưa có.", "en": "None yet."},
    # Developer portal
    "dev_title": {"vi": "Cổng nhà phát triển", "en": "Developer portal"},
    "dev_catalogue": {"vi": "Danh mục dữ liệu", "en": "Data catalogue"},
    "dev_my_requests": {"vi": "Yêu cầu của tôi", "en": "My requests"},
    "dev_api_docs": {"vi": "Tài liệu API", "en": "API docs"},
    "dev_intro": {
        "vi": "Các bộ dữ liệu dùng chung mà ứng dụng của cơ quan có thể khai thác qua nền tảng, "
        "sau khi được chủ quản dữ liệu cấp quyền cho một mục đích cụ thể.",
        "en": "Shared datasets agency apps can use through the hub once the data owner grants "
        "them for a stated purpose.",
    },
    "dev_has_personal": {"vi": "Có dữ liệu cá nhân", "en": "Holds personal data"},
    "dev_personal": {"vi": "Dữ liệu cá nhân", "en": "Personal data"},
    "dev_definition_version": {"vi": "định nghĩa", "en": "definition"},
    "dev_scope": {"vi": "Phạm vi (scope)", "en": "Scope"},
    "dev_endpoint": {"vi": "Địa chỉ truy vấn", "en": "Query endpoint"},
    "dev_timeout": {"vi": "Thời gian chờ tối đa", "en": "Timeout"},
    "dev_request_access": {"vi": "Đề nghị cấp quyền truy cập", "en": "Request access"},
    "dev_fields_hint": {
        "vi": "Mặc định chỉ các trường không nhạy cảm được cấp; trường nhạy cảm (dân tộc, tôn "
        "giáo…) chỉ được cấp khi nêu rõ.",
        "en": "By default only non-sensitive fields are granted; sensitive ones (ethnicity, "
        "religion…) only when named.",
    },
    "dev_type": {"vi": "Kiểu", "en": "Type"},
    "dev_description": {"vi": "Mô tả", "en": "Description"},
    "dev_protection": {"vi": "Bảo vệ", "en": "Protection"},
    "dev_params": {"vi": "Tham số đầu vào", "en": "Input parameters"},
    "dev_required": {"vi": "Bắt buộc", "en": "Required"},
    "dev_example": {"vi": "Ví dụ", "en": "Example"},
    "dev_yes": {"vi": "Có", "en": "Yes"},
    "dev_no": {"vi": "Không", "en": "No"},
    "dev_example_request": {"vi": "Ví dụ yêu cầu", "en": "Example request"},
    "dev_example_response": {"vi": "Ví dụ kết quả", "en": "Example answer"},
    "dev_withheld_hint": {
        "vi": "Chỉ các trường được cấp được trả về; các trường khác được liệt kê trong "
        "meta.fields_withheld.",
        "en": "Only the granted fields are returned; the others are listed in "
        "meta.fields_withheld.",
    },
    "dev_need_role": {
        "vi": "Chỉ nhà phát triển của ứng dụng cơ quan mới gửi được đề nghị cấp quyền.",
        "en": "Only developers of agency apps can request access.",
    },
    "dev_no_apps": {
        "vi": "Bạn chưa quản lý ứng dụng nào; hãy đề nghị quản trị nền tảng gán ứng dụng cho bạn.",
        "en": "You do not manage any app yet; ask a platform administrator to assign one to you.",
    },
    "dev_your_app": {"vi": "Ứng dụng của bạn", "en": "Your app"},
    "dev_my_apps": {"vi": "Ứng dụng của tôi", "en": "My apps"},
    "dev_app_auth": {"vi": "Xác thực", "en": "Authentication"},
    "dev_app_redirects": {"vi": "Địa chỉ chuyển hướng", "en": "Redirect URIs"},
    "dev_rotate_secret": {"vi": "Cấp khóa bí mật mới", "en": "New client secret"},
    "dev_secret_rotated": {
        "vi": "Khóa bí mật mới (chỉ hiển thị một lần; khóa cũ hết hiệu lực ngay) của ứng dụng",
        "en": "The new secret (shown only once; the old one stops working now) of the app",
    },
    "dev_rotate_hint": {
        "vi": "Khóa bí mật được lưu dưới dạng băm: nền tảng không xem lại được; nếu mất, "
        "hãy cấp khóa mới.",
        "en": "Secrets are stored hashed: the hub cannot show them again; if one is lost, "
        "issue a new one.",
    },
    "dev_fields_pick_hint": {
        "vi": "Chỉ chọn những trường thực sự cần cho thủ tục.",
        "en": "Pick only the fields the procedure really needs.",
    },
    "dev_send_request": {"vi": "Gửi đề nghị", "en": "Send the request"},
    "dev_request_sent": {
        "vi": "Đã gửi đề nghị; chủ quản dữ liệu trả lời trong 2 ngày làm việc.",
        "en": "Request sent; the data owner answers within 2 working days.",
    },
}


def install() -> None:
    """Add the texts to the hub's catalogue."""
    i18n.add_messages(MESSAGES)

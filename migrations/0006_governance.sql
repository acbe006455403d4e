-- Data-access governance: purpose-bound grants with daily quotas, data owners and the
-- developers of agency apps, access requests with their history and an outbox for
-- notices, citizens' data consents, the identifying parameters of each dataset's data
-- subject, and the administrative procedures that callers name as their purpose.

-- Administrative procedures (Decision 362/QĐ-VPCP codes); X-Purpose names one of them.
CREATE TABLE procedures (
    code text PRIMARY KEY,
    name_vi text NOT NULL,
    name_en text,
    CONSTRAINT procedures_code_check CHECK (code ~ '^[A-Za-z0-9._:/-]{1,64}$')
);

INSERT INTO procedures (code, name_vi, name_en) VALUES
    ('1.001234', 'Đăng ký thường trú', 'Permanent residence registration'),
    ('1.004194', 'Đăng ký tạm trú', 'Temporary residence registration'),
    ('1.001193', 'Đăng ký khai sinh', 'Birth registration'),
    ('1.000894', 'Đăng ký kết hôn', 'Marriage registration'),
    ('2.000046', 'Cấp giấy phép xây dựng nhà ở riêng lẻ', 'Building permit for a private house'),
    ('2.001610', 'Cấp giấy phép kinh doanh bán lẻ rượu', 'Licence to retail alcohol'),
    ('1.001612', 'Đăng ký thành lập doanh nghiệp', 'Registration of a new enterprise'),
    ('1.002804', 'Giải quyết hưởng trợ cấp thất nghiệp', 'Unemployment benefit claim');

-- Each dataset's owner agency code and Vietnamese title, from its current definition.
CREATE VIEW dataset_owners AS
SELECT d.id, v.definition->'owner'->>'code' AS owner_code,
       v.definition->'title'->>'vi' AS title_vi, d.enabled, d.current_version
FROM datasets d
JOIN dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version;

-- Which agency an account acts for in a governance role: a data owner decides on the
-- datasets whose owner code is agency_code; a developer belongs to an agency.
CREATE TABLE account_agencies (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role text NOT NULL,
    agency_code text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_agencies_pkey PRIMARY KEY (account_id, role, agency_code),
    CONSTRAINT account_agencies_role_check CHECK (role IN ('data_owner', 'developer')),
    CONSTRAINT account_agencies_code_check CHECK (agency_code ~ '^[A-Za-z0-9._-]{1,64}$')
);

-- The developers who manage an agency app (an OAuth client).
CREATE TABLE client_developers (
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT client_developers_pkey PRIMARY KEY (client_id, account_id)
);
CREATE INDEX client_developers_account_idx ON client_developers (account_id);

-- A grant lets one client query one dataset: only the listed top-level fields, only for
-- the listed procedure codes (or any purpose, resting on legal_basis), within its validity
-- and daily quota. At most one live (unrevoked) grant per client and dataset: a new one
-- supersedes the old.
CREATE TABLE grants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    fields text[] NOT NULL,
    purposes text[] NOT NULL DEFAULT '{}',
    any_purpose boolean NOT NULL DEFAULT false,
    legal_basis text NOT NULL,
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz,
    daily_quota integer,
    access_request_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoke_reason text,
    CONSTRAINT grants_fields_check CHECK (cardinality(fields) >= 1),
    CONSTRAINT grants_purposes_check CHECK (any_purpose OR cardinality(purposes) >= 1),
    CONSTRAINT grants_legal_basis_check CHECK (char_length(legal_basis) BETWEEN 1 AND 2000),
    CONSTRAINT grants_validity_check CHECK (valid_until IS NULL OR valid_until > valid_from),
    CONSTRAINT grants_quota_check CHECK (daily_quota IS NULL OR daily_quota >= 1)
);
CREATE UNIQUE INDEX grants_live_key ON grants (client_id, dataset_id) WHERE revoked_at IS NULL;
CREATE INDEX grants_dataset_idx ON grants (dataset_id);

-- Calls counted per grant and local (Asia/Ho_Chi_Minh) day; incremented by an atomic
-- upsert so that every worker process shares one counter.
CREATE TABLE grant_usage (
    grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    day date NOT NULL,
    calls integer NOT NULL DEFAULT 0,
    CONSTRAINT grant_usage_pkey PRIMARY KEY (grant_id, day)
);

-- For queries on behalf of a person or an organization: which query parameter carries
-- which attribute of the signed-in account (pin, full_name, birth_date) or of the
-- organization in the token (tax_code). Seeded for the demo datasets.
CREATE TABLE dataset_subjects (
    dataset_id text PRIMARY KEY,
    kind text NOT NULL,
    params jsonb NOT NULL,
    CONSTRAINT dataset_subjects_kind_check CHECK (kind IN ('person', 'organization'))
);

INSERT INTO dataset_subjects (dataset_id, kind, params) VALUES
    ('dan-cu', 'person',
     '{"so_dinh_danh": "pin", "ho_va_ten": "full_name", "ngay_sinh": "birth_date"}'),
    ('doanh-nghiep', 'organization', '{"ma_so_thue": "tax_code"}');

-- A citizen's explicit, purpose-specific consent for an app to receive fields of his own
-- record; text_shown is exactly what the consent screen said. Withdrawn, never deleted.
CREATE TABLE data_consents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    dataset_id text NOT NULL,
    purpose text NOT NULL,
    fields text[] NOT NULL,
    text_shown text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    CONSTRAINT data_consents_fields_check CHECK (cardinality(fields) >= 1),
    CONSTRAINT data_consents_text_check CHECK (char_length(text_shown) BETWEEN 1 AND 20000)
);
CREATE UNIQUE INDEX data_consents_live_key
    ON data_consents (account_id, client_id, dataset_id, purpose) WHERE withdrawn_at IS NULL;

-- An agency developer's request for access to a dataset, answered by the data owner.
CREATE TABLE access_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    fields text[] NOT NULL,
    purposes text[] NOT NULL DEFAULT '{}',
    any_purpose boolean NOT NULL DEFAULT false,
    legal_basis text NOT NULL,
    justification text NOT NULL,
    contact text NOT NULL,
    requested_by text NOT NULL,
    requester_account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'pending',
    submitted_at timestamptz NOT NULL DEFAULT now(),
    due_at timestamptz NOT NULL,
    decided_at timestamptz,
    decided_by text,
    decision_reason text,
    grant_id uuid REFERENCES grants (id) ON DELETE SET NULL,
    CONSTRAINT access_requests_status_check
        CHECK (status IN ('pending', 'approved', 'refused', 'withdrawn')),
    CONSTRAINT access_requests_purposes_check CHECK (any_purpose OR cardinality(purposes) >= 1),
    CONSTRAINT access_requests_legal_basis_check
        CHECK (char_length(legal_basis) BETWEEN 1 AND 2000),
    CONSTRAINT access_requests_justification_check
        CHECK (char_length(justification) BETWEEN 1 AND 5000),
    CONSTRAINT access_requests_contact_check CHECK (char_length(contact) BETWEEN 3 AND 254),
    CONSTRAINT access_requests_refusal_check
        CHECK (status <> 'refused' OR char_length(btrim(decision_reason)) >= 1)
);
CREATE INDEX access_requests_dataset_idx ON access_requests (dataset_id, status);
CREATE INDEX access_requests_client_idx ON access_requests (client_id);

-- Every step of a request, in order.
CREATE TABLE access_request_events (
    id bigserial PRIMARY KEY,
    access_request_id uuid NOT NULL REFERENCES access_requests (id) ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    actor text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX access_request_events_request_idx ON access_request_events (access_request_id, id);

-- Notices waiting to be sent (written in the same transaction as what they announce).
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    recipient text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

-- Identity: citizen accounts, organizations and their members, sign-in sessions,
-- sign-in throttling and the security-event log.

CREATE TABLE accounts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pin char(12) NOT NULL,
    full_name text NOT NULL,
    birth_date date,
    sex text,
    email text,
    phone text,
    password_hash text,
    level smallint NOT NULL DEFAULT 1,
    totp_secret text,
    totp_enabled_at timestamptz,
    -- The last TOTP time step accepted, so that a code cannot be replayed.
    totp_last_step bigint,
    roles text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_pin_key UNIQUE (pin),
    CONSTRAINT accounts_pin_check CHECK (pin ~ '^[0-9]{12}$'),
    CONSTRAINT accounts_full_name_check CHECK (char_length(full_name) BETWEEN 1 AND 200),
    CONSTRAINT accounts_sex_check CHECK (sex IN ('male', 'female')),
    CONSTRAINT accounts_email_check CHECK (char_length(email) <= 254),
    CONSTRAINT accounts_phone_check CHECK (char_length(phone) <= 20),
    CONSTRAINT accounts_level_check CHECK (level IN (1, 2)),
    CONSTRAINT accounts_roles_check
        CHECK (roles <@ ARRAY['admin', 'data_owner', 'auditor', 'developer']::text[])
);

-- One-time MFA recovery codes, stored as SHA-256 hex digests of the code.
CREATE TABLE recovery_codes (
    id bigserial PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    CONSTRAINT recovery_codes_code_key UNIQUE (account_id, code_hash)
);

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tax_code text NOT NULL,
    name_vi text NOT NULL,
    name_en text,
    address text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_tax_code_key UNIQUE (tax_code),
    CONSTRAINT organizations_tax_code_check CHECK (tax_code ~ '^[0-9]{10}(-[0-9]{3})?$'),
    CONSTRAINT organizations_name_vi_check CHECK (char_length(name_vi) BETWEEN 1 AND 300),
    CONSTRAINT organizations_name_en_check CHECK (char_length(name_en) <= 300),
    CONSTRAINT organizations_address_check CHECK (char_length(address) <= 500)
);

CREATE TABLE organization_members (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role text NOT NULL,
    authorised_by uuid REFERENCES accounts (id) ON DELETE SET NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organization_members_key UNIQUE (organization_id, account_id),
    CONSTRAINT organization_members_role_check CHECK (role IN ('representative', 'staff'))
);

CREATE INDEX organization_members_account_idx ON organization_members (account_id);

-- The hub's browser sign-in sessions; id is the SHA-256 hex digest of the cookie token.
CREATE TABLE login_sessions (
    id text PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    auth_time timestamptz NOT NULL,
    acr smallint NOT NULL,
    amr text[] NOT NULL DEFAULT '{}',
    ip text,
    user_agent text,
    ended_at timestamptz,
    CONSTRAINT login_sessions_acr_check CHECK (acr IN (1, 2))
);

CREATE INDEX login_sessions_account_idx ON login_sessions (account_id) WHERE ended_at IS NULL;

-- Progressive delays after failed sign-ins, per account and per client address.
CREATE TABLE login_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    next_allowed_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    account_id uuid,
    client_id text,
    session_id text,
    ip text,
    detail jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX auth_events_account_idx ON auth_events (account_id, at);
CREATE INDEX auth_events_kind_idx ON auth_events (kind, at);

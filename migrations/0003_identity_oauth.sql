-- Identity: the OAuth 2.0 / OpenID Connect provider — signing keys, registered clients,
-- authorization codes, refresh-token families, consents, pairwise subjects, the
-- access-token denylist and the private_key_jwt replay cache.

-- Token signing keys. The private JWK is encrypted (Fernet, key derived from the hub's
-- secret key); a key signs while retired_at is NULL and stays published in the JWKS
-- until expires_at, after every token it signed has expired.
CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    alg text NOT NULL,
    public_jwk jsonb NOT NULL,
    private_jwk_enc text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    expires_at timestamptz,
    CONSTRAINT signing_keys_alg_check CHECK (alg IN ('ES256', 'RS256'))
);

CREATE INDEX signing_keys_active_idx ON signing_keys (alg, created_at DESC)
    WHERE retired_at IS NULL;

CREATE TABLE oauth_clients (
    id text PRIMARY KEY,
    name text NOT NULL,
    secret_hash text,
    auth_method text NOT NULL,
    grant_types text[] NOT NULL,
    scopes text[] NOT NULL DEFAULT '{}',
    redirect_uris text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    jwks jsonb,
    sector text NOT NULL,
    id_token_signed_response_alg text NOT NULL DEFAULT 'ES256',
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    CONSTRAINT oauth_clients_id_check CHECK (id ~ '^[A-Za-z0-9._~-]{3,100}$'),
    CONSTRAINT oauth_clients_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT oauth_clients_auth_method_check CHECK (
        auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')
    ),
    CONSTRAINT oauth_clients_secret_check CHECK (
        (auth_method IN ('client_secret_basic', 'client_secret_post')) = (secret_hash IS NOT NULL)
    ),
    CONSTRAINT oauth_clients_jwks_check CHECK ((auth_method = 'private_key_jwt') = (jwks IS NOT NULL)),
    CONSTRAINT oauth_clients_grant_types_check CHECK (
        grant_types <@ ARRAY['authorization_code', 'refresh_token', 'client_credentials']::text[]
        AND cardinality(grant_types) > 0
    ),
    CONSTRAINT oauth_clients_alg_check CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'))
);

-- Codes are stored as the SHA-256 of their value. family_id and access_jti tie the code to
-- the tokens issued from it, so that a replayed code can revoke them (RFC 6749 §4.1.2).
CREATE TABLE oauth_authorization_codes (
    id bigserial PRIMARY KEY,
    code_hash text NOT NULL,
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id text,
    redirect_uri text NOT NULL,
    scope text NOT NULL,
    nonce text,
    code_challenge text NOT NULL,
    code_challenge_method text NOT NULL,
    auth_time timestamptz NOT NULL,
    acr smallint NOT NULL,
    amr text[] NOT NULL DEFAULT '{}',
    org jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    family_id uuid,
    access_jti text,
    access_exp timestamptz,
    CONSTRAINT oauth_authorization_codes_hash_key UNIQUE (code_hash)
);

CREATE INDEX oauth_authorization_codes_expiry_idx ON oauth_authorization_codes (expires_at);

-- Opaque refresh tokens, stored as SHA-256; each use rotates to a child in the same family.
CREATE TABLE oauth_refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash text NOT NULL,
    family_id uuid NOT NULL,
    parent_id uuid REFERENCES oauth_refresh_tokens (id) ON DELETE SET NULL,
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id text,
    scope text NOT NULL,
    auth_time timestamptz NOT NULL,
    acr smallint NOT NULL,
    amr text[] NOT NULL DEFAULT '{}',
    org jsonb,
    access_jti text,
    access_exp timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT oauth_refresh_tokens_hash_key UNIQUE (token_hash)
);

CREATE INDEX oauth_refresh_tokens_family_idx ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_account_idx ON oauth_refresh_tokens (account_id, client_id)
    WHERE revoked_at IS NULL;

-- Revoked JWT access tokens, kept until they would have expired anyway.
CREATE TABLE oauth_revoked_jtis (
    jti text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX oauth_revoked_jtis_expiry_idx ON oauth_revoked_jtis (expires_at);

-- What an account allowed a client to know (the scope set), until withdrawn.
CREATE TABLE oauth_consents (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id text NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes text[] NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth_consents_key PRIMARY KEY (account_id, client_id)
);

-- Pairwise subject → account, so that a resource server can resolve a token's subject.
CREATE TABLE oauth_subjects (
    sub text PRIMARY KEY,
    sector text NOT NULL,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- private_key_jwt assertion ids already seen (RFC 7523 §3 item 7), until they expire.
CREATE TABLE oauth_assertion_jtis (
    client_id text NOT NULL,
    jti text NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT oauth_assertion_jtis_key PRIMARY KEY (client_id, jti)
);

CREATE INDEX oauth_assertion_jtis_expiry_idx ON oauth_assertion_jtis (expires_at);

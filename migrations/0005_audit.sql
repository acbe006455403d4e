-- The audit log: append-only and hash-chained.
--
-- Each record's hash = HMAC-SHA256(audit key, previous hash || '|' || canonical content),
-- computed by the hub (hub/audit/chain.py) while it holds the lock on the single
-- chain-head row, so that the chain stays linear under many concurrent writers. Being
-- keyed, the chain cannot be recomputed by someone who only has SQL access. UPDATE,
-- DELETE and TRUNCATE are refused by triggers; whoever bypasses them (a superuser) is
-- caught by `lgsp audit verify`, which recomputes every hash and link and checks the head.

CREATE TABLE audit_log (
    seq bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    request_id text,
    client_id text,
    actor text,
    official_id text,
    organization text,
    subject_hash text,
    dataset_id text,
    dataset_version integer,
    purpose text,
    fields text[] NOT NULL DEFAULT '{}',
    outcome text NOT NULL,
    error_code text,
    upstream_ms integer,
    cache_hit boolean,
    detail jsonb NOT NULL DEFAULT '{}',
    prev_hash text NOT NULL,
    hash text NOT NULL,
    CONSTRAINT audit_log_hash_check CHECK (hash ~ '^[0-9a-f]{64}$')
);

CREATE INDEX audit_log_subject_idx ON audit_log (subject_hash, at) WHERE subject_hash IS NOT NULL;
CREATE INDEX audit_log_client_idx ON audit_log (client_id, at);
CREATE INDEX audit_log_dataset_idx ON audit_log (dataset_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE audit_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

-- The canonical content a record's hash covers. Times as integer microseconds so that the
-- text does not depend on the session's time zone; jsonb prints keys in a fixed order.
CREATE FUNCTION audit_content(r audit_log) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'seq', r.seq,
        'at_us', (extract(epoch FROM r.at) * 1000000)::bigint,
        'kind', r.kind,
        'request_id', r.request_id,
        'client_id', r.client_id,
        'actor', r.actor,
        'official_id', r.official_id,
        'organization', r.organization,
        'subject_hash', r.subject_hash,
        'dataset_id', r.dataset_id,
        'dataset_version', r.dataset_version,
        'purpose', r.purpose,
        'fields', to_jsonb(r.fields),
        'outcome', r.outcome,
        'error_code', r.error_code,
        'upstream_ms', r.upstream_ms,
        'cache_hit', r.cache_hit,
        'detail', r.detail
    )::text
$$;

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

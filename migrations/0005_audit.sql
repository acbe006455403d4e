-- The audit log: append-only and hash-chained.
--
-- Each record is its canonical content (compact JSON with sorted keys, written once by the
-- hub) and a hash: HMAC-SHA256(audit key, previous hash || '|' || content). The hub computes
-- it (hub/audit/service.py) while it holds the lock on the single chain-head row, so the
-- chain stays linear under many concurrent writers. Being keyed, the chain cannot be
-- recomputed by someone who only has SQL access. The columns searched on are generated from
-- the content, so they cannot say something else than what the hash covers (each costs a
-- JSON parse per insert: the rest of a record is read from its content). UPDATE, DELETE
-- and TRUNCATE are refused by triggers; whoever bypasses them (a superuser) is caught by
-- `lgsp audit verify`, which recomputes every hash and link and checks the chain head.

CREATE TABLE audit_log (
    seq bigint PRIMARY KEY,
    content text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    at timestamptz GENERATED ALWAYS AS
        (to_timestamp(((content::jsonb ->> 'at_us')::bigint)::double precision / 1000000)) STORED,
    kind text GENERATED ALWAYS AS (content::jsonb ->> 'kind') STORED,
    outcome text GENERATED ALWAYS AS (content::jsonb ->> 'outcome') STORED,
    request_id text GENERATED ALWAYS AS (content::jsonb ->> 'request_id') STORED,
    client_id text GENERATED ALWAYS AS (content::jsonb ->> 'client_id') STORED,
    subject_hash text GENERATED ALWAYS AS (content::jsonb ->> 'subject_hash') STORED,
    dataset_id text GENERATED ALWAYS AS (content::jsonb ->> 'dataset_id') STORED,
    purpose text GENERATED ALWAYS AS (content::jsonb ->> 'purpose') STORED,
    error_code text GENERATED ALWAYS AS (content::jsonb ->> 'error_code') STORED,
    CONSTRAINT audit_log_hash_check CHECK (hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT audit_log_kind_check CHECK (kind IS NOT NULL AND outcome IS NOT NULL)
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

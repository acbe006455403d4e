-- Foundation: settings the hub keeps in the database itself.

CREATE TABLE hub_meta (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO hub_meta (key, value) VALUES ('installed_at', to_jsonb(now()));

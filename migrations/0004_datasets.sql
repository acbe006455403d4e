-- Datasets: ministry services wrapped by connectors, stored as immutable, numbered versions
-- of their validated definition. A dataset points at the version callers are served.

CREATE TABLE datasets (
    id text PRIMARY KEY,
    enabled boolean NOT NULL DEFAULT true,
    current_version integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT datasets_id_check CHECK (
        id ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' AND char_length(id) <= 64
    )
);

-- definition is the connector layer's to_dict() of the parsed YAML (placeholders such as
-- ${VAR} kept). It is json, not jsonb, on purpose: jsonb reorders keys, and the order of
-- params and fields is part of the dataset's contract (documentation, answers). checksum is the SHA-256 of its canonical JSON, so that loading unchanged
-- content is recognised and makes no new version.
CREATE TABLE dataset_versions (
    dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    version integer NOT NULL,
    definition json NOT NULL,
    source_yaml text NOT NULL,
    checksum text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by text NOT NULL,
    CONSTRAINT dataset_versions_pkey PRIMARY KEY (dataset_id, version),
    CONSTRAINT dataset_versions_version_check CHECK (version >= 1),
    CONSTRAINT dataset_versions_checksum_check CHECK (checksum ~ '^[0-9a-f]{64}$')
);

-- The current version must exist; deferred so that a dataset and its first version are
-- inserted in one transaction.
ALTER TABLE datasets
    ADD CONSTRAINT datasets_current_version_fkey
    FOREIGN KEY (id, current_version) REFERENCES dataset_versions (dataset_id, version)
    DEFERRABLE INITIALLY DEFERRED;

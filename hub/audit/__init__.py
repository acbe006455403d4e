"""The tamper-evident audit log: every data call and every governance action, hash-chained."""

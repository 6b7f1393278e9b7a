"""An expense ledger kept in ledger.db (SQLite) in the current directory."""

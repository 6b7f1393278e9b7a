"""Expenses in SQLite."""

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS expenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    category TEXT NOT NULL,
    cents INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT ''
)
"""


class Store:
    def __init__(self, path="ledger.db"):
        self.connection = sqlite3.connect(path)
        self.connection.execute(SCHEMA)

    def add(self, date, category, cents, note):
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO expenses (date, category, cents, note) VALUES (?, ?, ?, ?)",
                (date, category, cents, note),
            )
        return cursor.lastrowid

    def expenses(self):
        query = "SELECT id, date, category, cents, note FROM expenses ORDER BY date, id"
        return self.connection.execute(query).fetchall()

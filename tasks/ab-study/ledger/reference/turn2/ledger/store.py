"""Expenses in SQLite. Ids come from AUTOINCREMENT, so a deleted id is never reused."""

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

    def delete(self, expense_id):
        with self.connection:
            cursor = self.connection.execute("DELETE FROM expenses WHERE id = ?", (expense_id,))
        return cursor.rowcount == 1

    def expenses(self, month=None):
        query = "SELECT id, date, category, cents, note FROM expenses"
        arguments = ()
        if month:
            query += " WHERE substr(date, 1, 7) = ?"
            arguments = (month,)
        query += " ORDER BY date, id"
        return self.connection.execute(query, arguments).fetchall()

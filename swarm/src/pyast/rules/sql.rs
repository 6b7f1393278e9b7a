//! `sql_schema_mismatch` — SQL in the code that names a table or column the frozen
//! `schema.sql` does not declare. The SQL is a string literal passed to `execute`,
//! `executemany` or `executescript` (sqlite3's connection and cursor methods); both it and
//! the schema are parsed with `sqlparser` (SQLite dialect), never matched by patterns.
//!
//! Why it matters: CONTRACT freezes the schema so that every module writes the same tables;
//! a module that queries `item` while the schema says `items` fails only when that query
//! first runs.
//!
//! Example: `schema.sql` has `CREATE TABLE items (id INTEGER, name TEXT)` and `store.py`
//! runs `conn.execute("SELECT nme FROM items")`.
//!
//! Checked: every table a statement reads or writes (a CTE's own name excepted); the columns
//! of `INSERT INTO t (cols)` and `UPDATE t SET col = ...`; and the bare column names of a
//! statement that uses one table. Left alone (inconclusive): SQL built at run time (f-strings,
//! `%`/`format`, concatenation with names), statements `sqlparser` cannot parse, views and
//! tables created from a query (their columns are not written out), and projects without a
//! parseable `schema.sql`.

use crate::pyast::{string_literal, text, Finding, Module};
use crate::verify::FindingKind;
use sqlparser::ast::{
    AssignmentTarget, Expr, ObjectName, SelectItem, SetExpr, Statement, TableFactor, TableObject,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;

/// Tables of the schema: name → its columns (`None` when they are not written out).
type Schema = BTreeMap<String, Option<BTreeSet<String>>>;

/// Names SQLite itself provides.
const BUILT_IN_TABLES: [&str; 4] = [
    "sqlite_master",
    "sqlite_schema",
    "sqlite_sequence",
    "sqlite_temp_master",
];
const IMPLICIT_COLUMNS: [&str; 3] = ["rowid", "oid", "_rowid_"];

/// The schema of the project's `schema.sql` (the first one found, shallowest first), if one
/// parses.
pub(super) fn schema_of(dir: &Path) -> Option<(String, Schema)> {
    let mut candidates: Vec<String> = crate::fsutil::project_files(dir)
        .into_iter()
        .filter(|f| f.rsplit('/').next() == Some("schema.sql"))
        .collect();
    candidates.sort_by_key(|f| (f.matches('/').count(), f.clone()));
    let file = candidates.into_iter().next()?;
    let text = std::fs::read_to_string(dir.join(&file)).ok()?;
    let statements = Parser::parse_sql(&SQLiteDialect {}, &text).ok()?;
    let mut schema = Schema::new();
    for statement in statements {
        match statement {
            Statement::CreateTable(table) => {
                let columns = (table.query.is_none()).then(|| {
                    table
                        .columns
                        .iter()
                        .map(|c| c.name.value.to_lowercase())
                        .collect()
                });
                schema.insert(last(&table.name), columns);
            }
            Statement::CreateView { name, .. } => {
                schema.insert(last(&name), None);
            }
            _ => {}
        }
    }
    Some((file, schema))
}

fn last(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| ident.value.to_lowercase())
        .unwrap_or_default()
}

/// One finding per table or column of the code's SQL that `schema` does not have.
pub(super) fn check(modules: &[Module], schema: Option<&(String, Schema)>) -> Vec<Finding> {
    let Some((schema_file, schema)) = schema else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for module in modules {
        let Some(tree) = &module.tree else { continue };
        let root = tree.root_node();
        let mut cursor = root.walk();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            stack.extend(node.children(&mut cursor));
            let Some(sql) = executed_sql(node, &module.source) else {
                continue;
            };
            let Ok(statements) = Parser::parse_sql(&SQLiteDialect {}, &sql) else {
                continue;
            };
            for problem in statements.iter().flat_map(|s| problems(s, schema)) {
                findings.push(Finding {
                    kind: FindingKind::SqlSchemaMismatch,
                    file: module.file.clone(),
                    line: node.start_position().row + 1,
                    message: format!("{problem}, which {schema_file} does not declare"),
                    warning: false,
                });
            }
        }
    }
    findings
}

/// The SQL a call `x.execute("...")` (or `executemany`, `executescript`) runs, when it is a
/// literal.
fn executed_sql(call: tree_sitter::Node<'_>, source: &str) -> Option<String> {
    if call.kind() != "call" {
        return None;
    }
    let function = call.child_by_field_name("function")?;
    if function.kind() != "attribute" {
        return None;
    }
    let method = text(function.child_by_field_name("attribute")?, source);
    if !matches!(method, "execute" | "executemany" | "executescript") {
        return None;
    }
    let first = call.child_by_field_name("arguments")?.named_child(0)?;
    match first.kind() {
        "string" => string_literal(first, source),
        // Adjacent literals: "SELECT a " "FROM t".
        "concatenated_string" => {
            let mut cursor = first.walk();
            let parts: Option<Vec<String>> = first
                .named_children(&mut cursor)
                .map(|part| string_literal(part, source))
                .collect();
            parts.map(|p| p.concat())
        }
        _ => None,
    }
}

/// What one statement names that the schema lacks.
fn problems(statement: &Statement, schema: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let mut ctes: BTreeSet<String> = BTreeSet::new();
    let _ = sqlparser::ast::visit_statements(statement, |s| {
        if let Statement::Query(query) = s {
            if let Some(with) = &query.with {
                ctes.extend(
                    with.cte_tables
                        .iter()
                        .map(|c| c.alias.name.value.to_lowercase()),
                );
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let mut tables: Vec<String> = Vec::new();
    let _ = sqlparser::ast::visit_relations(statement, |name| {
        tables.push(last(name));
        ControlFlow::<()>::Continue(())
    });
    for table in &tables {
        let known = schema.contains_key(table)
            || ctes.contains(table)
            || BUILT_IN_TABLES.contains(&table.as_str())
            || table.starts_with("pragma_");
        if !known
            && !found
                .iter()
                .any(|f: &String| f.contains(&format!("`{table}`")))
        {
            found.push(format!("the table `{table}`"));
        }
    }
    let distinct: BTreeSet<&String> = tables.iter().collect();
    let single = match distinct.into_iter().collect::<Vec<_>>().as_slice() {
        [only] if ctes.is_empty() => schema
            .get(*only)
            .and_then(|c| c.as_ref())
            .map(|c| (*only, c)),
        _ => None,
    };
    let mut named: Vec<String> = Vec::new();
    match statement {
        Statement::Insert(insert) => {
            if let TableObject::TableName(name) = &insert.table {
                if let Some(Some(columns)) = schema.get(&last(name)) {
                    for column in &insert.columns {
                        let column = column.value.to_lowercase();
                        if !columns.contains(&column) {
                            found.push(format!("the column `{}.{column}`", last(name)));
                        }
                    }
                }
            }
        }
        Statement::Update { assignments, .. } => {
            for assignment in assignments {
                match &assignment.target {
                    AssignmentTarget::ColumnName(name) => named.push(last(name)),
                    AssignmentTarget::Tuple(names) => named.extend(names.iter().map(last)),
                }
            }
        }
        _ => {}
    }
    if let Some((table, columns)) = single {
        let (aliases, table_aliases) = projection_aliases(statement);
        let _ = sqlparser::ast::visit_expressions(statement, |expr| {
            match expr {
                Expr::Identifier(ident) if ident.quote_style != Some('\'') => {
                    named.push(ident.value.to_lowercase())
                }
                Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    let owner = parts[0].value.to_lowercase();
                    if owner == *table || table_aliases.contains(&owner) {
                        named.push(parts[1].value.to_lowercase());
                    }
                }
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        named.sort();
        named.dedup();
        for column in named {
            let known = columns.contains(&column)
                || aliases.contains(&column)
                || IMPLICIT_COLUMNS.contains(&column.as_str());
            if !known {
                found.push(format!("the column `{table}.{column}`"));
            }
        }
    }
    found
}

/// The `AS` names of a query's select list (an `ORDER BY` may use them), and of its tables.
fn projection_aliases(statement: &Statement) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut aliases = BTreeSet::new();
    let mut tables = BTreeSet::new();
    if let Statement::Query(query) = statement {
        if let SetExpr::Select(select) = query.body.as_ref() {
            for item in &select.projection {
                if let SelectItem::ExprWithAlias { alias, .. } = item {
                    aliases.insert(alias.value.to_lowercase());
                }
            }
            for table in &select.from {
                if let TableFactor::Table {
                    alias: Some(alias), ..
                } = &table.relation
                {
                    tables.insert(alias.name.value.to_lowercase());
                }
            }
        }
    }
    (aliases, tables)
}

#[cfg(test)]
mod tests {
    use super::super::review;

    const SCHEMA: &str = "CREATE TABLE items (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  qty INTEGER DEFAULT 0\n);\nCREATE VIEW stock AS SELECT name, qty FROM items;\n";

    fn sql_findings(code: &str) -> Vec<usize> {
        review(&[("schema.sql", SCHEMA), ("store.py", code)], &["store.py"])
            .into_iter()
            .filter(|f| f.0 == "sql_schema_mismatch")
            .map(|f| f.2)
            .collect()
    }

    #[test]
    fn names_the_schema_declares_pass_and_others_are_found() {
        let good = "import sqlite3\nconn = sqlite3.connect('x.db')\nconn.execute('INSERT INTO items (name, qty) VALUES (?, ?)', ('a', 1))\nconn.execute('SELECT id, name AS n FROM items WHERE qty > ? ORDER BY n', (0,))\nconn.execute('UPDATE items SET qty = qty + 1 WHERE id = ?', (1,))\nconn.execute('SELECT * FROM stock')\nconn.execute('SELECT count(*) FROM sqlite_master')\nconn.execute('WITH low AS (SELECT id FROM items WHERE qty < 2) SELECT id FROM low')\nconn.execute(f'SELECT {col} FROM items')\n";
        assert_eq!(sql_findings(good), Vec::<usize>::new());
        let bad = "import sqlite3\nconn = sqlite3.connect('x.db')\nconn.execute('SELECT nme FROM items')\nconn.execute('INSERT INTO item (name) VALUES (?)', ('a',))\nconn.execute('INSERT INTO items (name, price) VALUES (?, ?)', ('a', 1))\nconn.execute('UPDATE items SET amount = 1 WHERE id = 2')\nconn.execute('SELECT i.nme FROM items i')\n";
        assert_eq!(sql_findings(bad), vec![3, 4, 5, 6, 7]);
    }

    #[test]
    fn without_a_schema_nothing_is_checked() {
        let code = "import sqlite3\nsqlite3.connect('x').execute('SELECT nme FROM items')\n";
        let found = review(&[("store.py", code)], &["store.py"]);
        assert!(
            found.iter().all(|f| f.0 != "sql_schema_mismatch"),
            "{found:?}"
        );
    }
}

//! `unwired_module` — a module nothing imports and that is not an entry point.
//!
//! Why it matters: a weak model's typical failure is building a module and never wiring it
//! in; the feature it holds is unreachable however good its code is.
//!
//! Example: `report.py` defines `summary()`, but `cli.py` (the entry point) never imports
//! `report`. Entry points are files the commands run, files with an
//! `if __name__ == "__main__"` guard, `__main__.py`, `conftest.py`, `setup.py`, tests and
//! `__init__.py`; a project of one application module has nothing to wire.
//!
//! A module only tests import is unwired too: the tests pass, the app never runs it.
//!
//! In a distribution (a project with packaging metadata: pyproject.toml's `[project]`,
//! setup.py, setup.cfg, an installed `*.dist-info`), every public module of a package
//! (`pkg/testing.py`, not `pkg/_impl.py`) is its interface: users import it.
//!
//! Wired without an import statement: a module loaded by `importlib.import_module`,
//! `import_module` or `__import__` with a literal name (relative names resolved against the
//! package); any module named by a string literal of a module that loads modules by a computed
//! name (a plugin table); and a module that pyproject.toml, setup.cfg or setup.py declares as
//! an entry point (scripts, plugins).

use crate::pyast::project::import_name;
use crate::pyast::{imports, is_entry_file, is_test_file, Finding, Module};
use crate::verify::FindingKind;
use std::collections::BTreeSet;

/// One finding per module that is neither imported nor an entry point.
pub(super) fn check(modules: &[Module], entry_points: &BTreeSet<String>) -> Vec<Finding> {
    // Imports by tests do not wire a module into the app.
    let imported: BTreeSet<String> = modules
        .iter()
        .filter(|m| !is_test_file(&m.file))
        .flat_map(imports)
        .collect();
    let tested: BTreeSet<String> = modules
        .iter()
        .filter(|m| is_test_file(&m.file))
        .flat_map(imports)
        .collect();
    let reaches = |set: &BTreeSet<String>, name: &str| {
        set.iter()
            .any(|i| i == name || i.starts_with(&format!("{name}.")))
    };
    let application_modules = modules
        .iter()
        .filter(|m| !is_entry_file(&m.file, "", &BTreeSet::new()) || entry_points.contains(&m.file))
        .count();
    modules
        .iter()
        .filter(|module| module.tree.is_some())
        .filter_map(|module| {
            let name = import_name(&module.file);
            // A test module (anywhere, `pkg/tests/utils.py` too) serves the tests.
            let wired = reaches(&imported, &name)
                || is_test_file(&module.file)
                || is_entry_file(&module.file, &module.source, entry_points)
                || module.file.ends_with("__init__.py")
                || application_modules <= 1;
            (!wired).then(|| Finding {
                kind: FindingKind::UnwiredModule,
                file: module.file.clone(),
                line: 1,
                message: if reaches(&tested, &name) {
                    format!("`{name}` is imported only by tests: the app never uses it")
                } else {
                    format!(
                        "`{name}` is never imported and is not an entry point: built but not wired in"
                    )
                },
                warning: false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::review;

    #[test]
    fn a_module_the_entry_point_never_imports_is_found_and_an_imported_one_is_not() {
        let cli = ("cli.py", "import store\nprint(store.load())\n");
        let store = ("store.py", "def load():\n    return []\n");
        let report = ("report.py", "def summary(rows):\n    return len(rows)\n");
        let found = review(&[cli, store, report], &["cli.py"]);
        let unwired: Vec<&String> = found
            .iter()
            .filter(|f| f.0 == "unwired_module")
            .map(|f| &f.1)
            .collect();
        assert_eq!(unwired, vec!["report.py"], "{found:?}");
    }

    #[test]
    fn modules_loaded_by_name_or_declared_as_entry_points_are_wired() {
        let app = ("app.py", "import importlib\nimport plugins\nfmt = importlib.import_module('fmt')\nprint(fmt, plugins.load('csv'))\n");
        let fmt = ("fmt.py", "def show(x):\n    return str(x)\n");
        // A plugin table: the loader imports by a computed name.
        let plugins = ("plugins.py", "import importlib\nKNOWN = {'csv': 'exporters.csvout', 'json': 'exporters.jsonout'}\n\n\ndef load(name):\n    return importlib.import_module(KNOWN[name])\n");
        let csv = (
            "exporters/csvout.py",
            "def export(rows):\n    return ','.join(rows)\n",
        );
        let json = (
            "exporters/jsonout.py",
            "def export(rows):\n    return str(rows)\n",
        );
        let init = ("exporters/__init__.py", "");
        // A console script declared in pyproject.toml.
        let tool = ("tools/report.py", "def main():\n    print('report')\n");
        let pyproject = (
            "pyproject.toml",
            "[project]\nname = 'x'\n[project.scripts]\nx-report = 'tools.report:main'\n",
        );
        let found = review(
            &[app, fmt, plugins, csv, json, init, tool, pyproject],
            &["app.py"],
        );
        let unwired: Vec<&String> = found
            .iter()
            .filter(|f| f.0 == "unwired_module")
            .map(|f| &f.1)
            .collect();
        assert!(unwired.is_empty(), "{found:?}");
        // Without the declaration and the table, the same modules are unwired.
        let plain = ("plugins.py", "def load(name):\n    return name\n");
        let found = review(&[app, fmt, plain, csv, json, init, tool], &["app.py"]);
        let unwired: Vec<&String> = found
            .iter()
            .filter(|f| f.0 == "unwired_module")
            .map(|f| &f.1)
            .collect();
        assert_eq!(
            unwired,
            vec![
                "exporters/csvout.py",
                "exporters/jsonout.py",
                "tools/report.py"
            ],
            "{found:?}"
        );
    }

    #[test]
    fn a_librarys_public_modules_are_its_interface_and_a_private_one_must_be_imported() {
        let init = ("pkg/__init__.py", "from .core import run\n");
        let core = ("pkg/core.py", "def run():\n    return 1\n");
        let testing = ("pkg/testing.py", "def fake():\n    return 2\n");
        let private = ("pkg/_speedups.py", "def fast():\n    return 3\n");
        let metadata = ("pkg-1.0.dist-info/METADATA", "Name: pkg\n");
        // A compatibility alias and a test helper inside the package.
        let alias = (
            "pkg/_old_core.py",
            "from .core import *  # noqa\nimport warnings\nwarnings.warn('use pkg.core')\n",
        );
        let helper = (
            "pkg/tests/utils.py",
            "def fixture_rows():\n    return [1]\n",
        );
        let unwired = |files: &[(&str, &str)]| -> Vec<String> {
            review(files, &[])
                .into_iter()
                .filter(|f| f.0 == "unwired_module")
                .map(|f| f.1)
                .collect()
        };
        // Installed-package metadata: users import pkg.testing; nothing imports _speedups.
        assert_eq!(
            unwired(&[init, core, testing, private, metadata, alias, helper]),
            vec!["pkg/_speedups.py".to_string()]
        );
        // Without packaging metadata it is an app: both are unwired.
        assert_eq!(
            unwired(&[init, core, testing, private]),
            vec!["pkg/_speedups.py".to_string(), "pkg/testing.py".to_string()]
        );
    }

    #[test]
    fn a_module_only_tests_import_is_unwired() {
        let cli = ("cli.py", "import store\nprint(store.load())\n");
        let store = ("store.py", "def load():\n    return []\n");
        let report = ("report.py", "def summary(rows):\n    return len(rows)\n");
        let test = (
            "tests/test_report.py",
            "from report import summary\n\n\ndef test_summary():\n    assert summary([1]) == 1\n",
        );
        let found = review(&[cli, store, report, test], &["cli.py"]);
        let unwired: Vec<&String> = found
            .iter()
            .filter(|f| f.0 == "unwired_module")
            .map(|f| &f.1)
            .collect();
        assert_eq!(unwired, vec!["report.py"], "{found:?}");
    }
}

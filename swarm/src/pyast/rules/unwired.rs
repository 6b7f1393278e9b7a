//! `unwired_module` — a module nothing imports and that is not an entry point.
//!
//! Why it matters: a weak model's typical failure is building a module and never wiring it
//! in; the feature it holds is unreachable however good its code is.
//!
//! Example: `report.py` defines `summary()`, but `cli.py` (the entry point) never imports
//! `report`. Entry points are files the commands run, files with an
//! `if __name__ == "__main__"` guard, `__main__.py`, `conftest.py`, `setup.py`, tests and
//! `__init__.py`; a project of one application module has nothing to wire.

use crate::pyast::{imports, is_entry_file, module_name, Finding, Module};
use crate::verify::FindingKind;
use std::collections::BTreeSet;

/// One finding per module that is neither imported nor an entry point.
pub(super) fn check(modules: &[Module], entry_points: &BTreeSet<String>) -> Vec<Finding> {
    let imported: BTreeSet<String> = modules.iter().flat_map(imports).collect();
    let application_modules = modules
        .iter()
        .filter(|m| !is_entry_file(&m.file, "", &BTreeSet::new()) || entry_points.contains(&m.file))
        .count();
    modules
        .iter()
        .filter(|module| module.tree.is_some())
        .filter_map(|module| {
            let name = module_name(&module.file);
            let wired = imported
                .iter()
                .any(|i| i == &name || i.starts_with(&format!("{name}.")))
                || is_entry_file(&module.file, &module.source, entry_points)
                || module.file.ends_with("__init__.py")
                || application_modules <= 1;
            (!wired).then(|| Finding {
                kind: FindingKind::UnwiredModule,
                file: module.file.clone(),
                line: 1,
                message: format!(
                    "`{name}` is never imported and is not an entry point: built but not wired in"
                ),
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
}

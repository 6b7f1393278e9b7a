//! The module tree of a Rust crate, as the review reads it: the crate roots cargo compiles,
//! the files each `mod` declaration may be (`x.rs`, `x/mod.rs`, `#[path]`), the files
//! reached leniently (`mod x;` inside macros, any `path = "..."`) and those `include!` pastes
//! in, and the attributes in front of an item.

use super::{descendants, line, text, Source};
use std::collections::BTreeSet;
use std::path::Path;

/// The crate's `.rs` files (relative, sorted), outside `target/` and hidden directories.
pub(super) fn rust_files(dir: &Path) -> Vec<String> {
    let skip = |name: &str| name == "target" || name.starts_with('.');
    let mut files: Vec<String> = crate::fsutil::walk_files(dir, &skip, super::FILE_LIMIT)
        .into_iter()
        .filter(|(file, kind)| kind.is_file() && file.ends_with(".rs"))
        .map(|(file, _)| file)
        .collect();
    files.sort();
    files
}

/// The files cargo compiles as crate roots: the conventional places and any `path =` of
/// Cargo.toml's targets.
pub(super) fn crate_roots(files: &BTreeSet<&str>, dir: &Path) -> BTreeSet<String> {
    let mut roots: BTreeSet<String> = files
        .iter()
        .filter(|file| {
            let parts: Vec<&str> = file.split('/').collect();
            matches!(
                parts.as_slice(),
                ["src", "main.rs" | "lib.rs"]
                    | ["build.rs"]
                    | ["src", "bin", _]
                    | ["tests" | "examples" | "benches", _]
                    | ["src", "bin", _, "main.rs"]
                    | ["examples" | "benches" | "tests", _, "main.rs"]
            )
        })
        .map(|file| file.to_string())
        .collect();
    if let Some(manifest) = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    {
        let mut targets: Vec<&toml::Value> = Vec::new();
        for key in ["lib", "bin", "test", "example", "bench"] {
            match manifest.get(key) {
                Some(toml::Value::Array(items)) => targets.extend(items.iter()),
                Some(table @ toml::Value::Table(_)) => targets.push(table),
                _ => {}
            }
        }
        if let Some(build) = manifest
            .get("package")
            .and_then(|p| p.get("build"))
            .and_then(toml::Value::as_str)
        {
            roots.insert(build.trim_start_matches("./").to_string());
        }
        roots.extend(
            targets
                .iter()
                .filter_map(|t| t.get("path")?.as_str())
                .map(|path| path.trim_start_matches("./").to_string()),
        );
    }
    roots
}

/// The attributes written just before `node` (`#[cfg(test)]`, `#[path = "x.rs"]`).
pub(super) fn attributes<'s>(node: tree_sitter::Node<'_>, source: &'s str) -> Vec<&'s str> {
    let mut found = Vec::new();
    let mut previous = node.prev_sibling();
    while let Some(sibling) = previous {
        match sibling.kind() {
            "attribute_item" => found.push(text(sibling, source)),
            "line_comment" | "block_comment" => {}
            _ => break,
        }
        previous = sibling.prev_sibling();
    }
    found
}

/// Whether `node` lies in test-only code: an item under `#[cfg(test)]` or `#[test]`.
pub(super) fn in_test_code(node: tree_sitter::Node<'_>, source: &str) -> bool {
    let mut current = Some(node);
    while let Some(item) = current {
        if attributes(item, source)
            .iter()
            .any(|a| a.contains("cfg(test)") || a.contains("#[test]"))
        {
            return true;
        }
        current = item.parent();
    }
    false
}

/// A `mod name;` declared in a file: the module's name, the files it may be, its line and
/// its attributes.
pub(super) struct Declaration<'s> {
    pub(super) name: &'s str,
    pub(super) candidates: Vec<String>,
    pub(super) line: usize,
    pub(super) attributes: Vec<&'s str>,
    pub(super) public: bool,
}

/// The `mod` declarations (without a body) in `source`, with the files each may live in.
pub(super) fn declarations<'s>(source: &'s Source, is_root: bool) -> Vec<Declaration<'s>> {
    let file = source.file.as_str();
    let folder = file.rsplit_once('/').map_or("", |(folder, _)| folder);
    let stem = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs");
    // Modules of `main.rs`, `lib.rs`, `mod.rs` and crate roots live beside them; those of
    // `foo.rs` live in `foo/`.
    let base = if is_root || stem == "mod" {
        folder.to_string()
    } else if folder.is_empty() {
        stem.to_string()
    } else {
        format!("{folder}/{stem}")
    };
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    let mut found = Vec::new();
    for node in descendants(source.tree.root_node()) {
        if node.kind() != "mod_item" || node.child_by_field_name("body").is_some() {
            continue;
        }
        let Some(name) = node.child_by_field_name("name") else {
            continue;
        };
        let name = text(name, &source.text);
        // Inline modules around the declaration nest its directory.
        let mut nesting: Vec<&str> = Vec::new();
        let mut parent = node.parent();
        while let Some(p) = parent {
            if p.kind() == "mod_item" {
                if let Some(n) = p.child_by_field_name("name") {
                    nesting.push(text(n, &source.text));
                }
            }
            parent = p.parent();
        }
        nesting.reverse();
        let dir = nesting.iter().fold(base.clone(), |acc, n| join(&acc, n));
        let attributes = attributes(node, &source.text);
        let path_attributes: Vec<String> = attributes
            .iter()
            .filter_map(|a| {
                let rest = a.split_once("path")?.1;
                let quoted = rest.split('"').nth(1)?;
                Some(join(folder, quoted))
            })
            .collect();
        // `#[cfg_attr(x, path = "other.rs")]` keeps the default file for the other case.
        let mut candidates = vec![
            join(&dir, &format!("{name}.rs")),
            join(&dir, &format!("{name}/mod.rs")),
        ];
        candidates.extend(path_attributes.iter().map(|path| normalise(path)));
        let public = node
            .child(0)
            .is_some_and(|c| c.kind() == "visibility_modifier");
        found.push(Declaration {
            name,
            candidates,
            line: line(node),
            attributes,
            public,
        });
    }
    found
}

/// Files a source may bring in that its tree does not show as `mod` items: `mod x;` written
/// inside a macro (`cfg_if! { ... }`, or a macro that declares the crate's modules), and any
/// `path = "..."` (in `#[path]` or `#[cfg_attr]`). A macro hides the inline modules around a
/// declaration and where it expands, so these are matched leniently: any file named `x.rs` or
/// `x/mod.rs` below the source's folder, any file whose path ends with the `path` given.
/// Comments are left out, so `// mod old;` brings in nothing.
pub(super) fn loosely_reached<'f>(source: &Source, files: &BTreeSet<&'f str>) -> Vec<&'f str> {
    let code: String = source
        .text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let folder = source
        .file
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder);
    let below = |file: &str| folder.is_empty() || file.starts_with(&format!("{folder}/"));
    let (Some(declared), Ok(path)) = (mod_line(), regex::Regex::new(r#"\bpath\s*=\s*"([^"]+)""#))
    else {
        return Vec::new();
    };
    let mut endings: Vec<String> = Vec::new();
    for found in declared.captures_iter(&code) {
        endings.push(format!("/{}.rs", &found[1]));
        endings.push(format!("/{}/mod.rs", &found[1]));
    }
    let paths: Vec<String> = path
        .captures_iter(&code)
        .map(|found| normalise(&found[1]))
        .collect();
    files
        .iter()
        .copied()
        .filter(|file| {
            (below(file)
                && endings
                    .iter()
                    .any(|e| format!("/{file}").ends_with(e.as_str())))
                || paths
                    .iter()
                    .any(|p| *file == p || file.ends_with(&format!("/{p}")))
        })
        .collect()
}

/// `mod name;` in text (its name captured).
pub(super) fn mod_line() -> Option<regex::Regex> {
    regex::Regex::new(r"\bmod\s+(?:r#)?([A-Za-z_][A-Za-z0-9_]*)\s*;").ok()
}

/// `a/./b/../c` as `a/c`.
pub(super) fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The files `source` pastes in with `include!`, `include_str!` or `include_bytes!`
/// (relative to its folder).
pub(super) fn included(source: &Source) -> Vec<String> {
    let folder = source.file.rsplit_once('/').map_or("", |(f, _)| f);
    descendants(source.tree.root_node())
        .into_iter()
        .filter(|n| n.kind() == "macro_invocation")
        .filter(|n| {
            n.child_by_field_name("macro").is_some_and(|m| {
                matches!(
                    text(m, &source.text),
                    "include" | "include_str" | "include_bytes"
                )
            })
        })
        .filter_map(|n| {
            let quoted = text(n, &source.text).split('"').nth(1)?;
            Some(normalise(&format!("{folder}/{quoted}")))
        })
        .collect()
}

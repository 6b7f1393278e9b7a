//! The `call_arity` rule: a call whose arguments cannot bind to the callee's parameters
//! (too many or too few positional arguments, an unknown or missing keyword) is a crash
//! waiting for its first run — the interface drift a weak model leaves between two modules.
//! Resolved through `from m import f`, `import m` + `m.f(...)`, and same-module calls;
//! anything it cannot resolve is left alone (no finding).
//!
//! Example: `store.py` defines `def add(name, qty)`, and `cli.py` calls
//! `store.add(name, qty, price)`: three arguments for two parameters.

use crate::pyast::*;

/// The parameters of a function, as far as binding arguments needs them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Params {
    /// Names that can be passed by position, in order (after `self`/`cls` for methods).
    positional: Vec<String>,
    /// How many of `positional` have no default.
    required_positional: usize,
    /// Keyword-only names, and whether each is required.
    keyword_only: Vec<(String, bool)>,
    /// `*args` present.
    var_positional: bool,
    /// `**kwargs` present.
    var_keyword: bool,
}

fn parameter_name(node: tree_sitter::Node<'_>, source: &str) -> String {
    match node.kind() {
        "identifier" => text(node, source).to_string(),
        _ => node
            .child_by_field_name("name")
            .or_else(|| node.named_child(0))
            .map(|n| text(n, source).to_string())
            .unwrap_or_default(),
    }
}

pub(super) fn params_of(
    parameters: tree_sitter::Node<'_>,
    source: &str,
    drop_first: bool,
) -> Params {
    let mut params = Params::default();
    let mut keyword_only = false;
    let mut first = drop_first;
    for index in 0..parameters.named_child_count() {
        let Some(node) = parameters.named_child(index as u32) else {
            continue;
        };
        let kind = node.kind();
        // `*args: T` parses as a typed_parameter around a list_splat_pattern.
        let inner = node.named_child(0).map(|n| n.kind()).unwrap_or("");
        if kind == "list_splat_pattern"
            || (kind == "typed_parameter" && inner == "list_splat_pattern")
        {
            params.var_positional = true;
            keyword_only = true;
            continue;
        }
        if kind == "dictionary_splat_pattern"
            || (kind == "typed_parameter" && inner == "dictionary_splat_pattern")
        {
            params.var_keyword = true;
            continue;
        }
        if kind == "keyword_separator" {
            keyword_only = true;
            continue;
        }
        if kind == "positional_separator" || kind == "comment" {
            continue;
        }
        if first {
            first = false;
            continue;
        }
        let has_default = matches!(kind, "default_parameter" | "typed_default_parameter");
        let name = parameter_name(node, source);
        if keyword_only {
            params.keyword_only.push((name, !has_default));
        } else {
            if !has_default {
                params.required_positional = params.positional.len() + 1;
            }
            params.positional.push(name);
        }
    }
    params
}

/// What a name in a module refers to: a function or class of another project module.
fn callable_params(module: &Module) -> BTreeMap<String, (Params, usize)> {
    let mut found = BTreeMap::new();
    let Some(tree) = &module.tree else {
        return found;
    };
    for definition in definitions(tree.root_node()) {
        let Some(name) = definition.child_by_field_name("name") else {
            continue;
        };
        let name = text(name, &module.source).to_string();
        let line = definition.start_position().row + 1;
        if definition.kind() == "function_definition" {
            if let Some(parameters) = definition.child_by_field_name("parameters") {
                found.insert(name, (params_of(parameters, &module.source, false), line));
            }
        } else if let Some(body) = definition.child_by_field_name("body") {
            // A class is called through its __init__ (without self); no __init__: no check.
            for method in definitions(body) {
                let is_init = method
                    .child_by_field_name("name")
                    .is_some_and(|n| text(n, &module.source) == "__init__");
                if let (true, Some(parameters)) =
                    (is_init, method.child_by_field_name("parameters"))
                {
                    found.insert(
                        name.clone(),
                        (params_of(parameters, &module.source, true), line),
                    );
                }
            }
        }
    }
    found
}

/// Whether `name` is bound by a function enclosing `node` (a parameter, or a local: an
/// assignment, a loop or `with` target, a walrus, a nested `def`/`class`, an import).
fn shadowed(node: tree_sitter::Node<'_>, name: &str, source: &str) -> bool {
    let mut current = node.parent();
    while let Some(scope) = current {
        if matches!(scope.kind(), "function_definition" | "lambda") {
            let params = scope.child_by_field_name("parameters");
            if params.is_some_and(|p| parameter_names(p, source).iter().any(|n| n == name)) {
                return true;
            }
            let body = scope.child_by_field_name("body");
            if body.is_some_and(|b| local_names(b, source).iter().any(|n| n == name)) {
                return true;
            }
        }
        current = scope.parent();
    }
    false
}

/// The names a parameter list binds (defaults and annotations left out).
fn parameter_names(parameters: tree_sitter::Node<'_>, source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor = parameters.walk();
    for parameter in parameters.named_children(&mut cursor) {
        let name = match parameter.kind() {
            "identifier" => Some(parameter),
            "default_parameter" | "typed_default_parameter" => {
                parameter.child_by_field_name("name")
            }
            // `typed_parameter`, `list_splat_pattern`, `dictionary_splat_pattern`: the first
            // identifier is the name.
            _ => first_identifier(parameter),
        };
        if let Some(name) = name {
            names.push(text(name, source).to_string());
        }
    }
    names
}

fn first_identifier(node: tree_sitter::Node<'_>) -> Option<tree_sitter::Node<'_>> {
    if node.kind() == "identifier" {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<tree_sitter::Node<'_>> = node.named_children(&mut cursor).collect();
    children.into_iter().find_map(first_identifier)
}

/// The names a function body binds locally (nested function bodies left out).
fn local_names(body: tree_sitter::Node<'_>, source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor = body.walk();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let target = match node.kind() {
            "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" => {
                node.child_by_field_name("left")
            }
            "named_expression" | "function_definition" | "class_definition" => {
                node.child_by_field_name("name")
            }
            "as_pattern_target" | "dotted_name" if in_import_or_with(node) => Some(node),
            _ => None,
        };
        if let Some(target) = target {
            collect_identifiers(target, source, &mut names);
        }
        if matches!(
            node.kind(),
            "function_definition" | "class_definition" | "lambda"
        ) && node.id() != body.id()
        {
            continue;
        }
        for child in node.children(&mut cursor) {
            stack.push(child);
        }
    }
    names
}

/// Whether a name node binds through `import x` / `from m import x` / `with ... as x`.
fn in_import_or_with(node: tree_sitter::Node<'_>) -> bool {
    node.kind() == "as_pattern_target"
        || node
            .parent()
            .is_some_and(|p| matches!(p.kind(), "import_statement" | "import_from_statement"))
}

fn collect_identifiers(node: tree_sitter::Node<'_>, source: &str, names: &mut Vec<String>) {
    if node.kind() == "identifier" {
        names.push(text(node, source).to_string());
        return;
    }
    // `a.b = ...` and `a[i] = ...` bind nothing.
    if matches!(node.kind(), "attribute" | "subscript") {
        return;
    }
    let mut cursor = node.walk();
    let children: Vec<tree_sitter::Node<'_>> = node.named_children(&mut cursor).collect();
    for child in children {
        collect_identifiers(child, source, names);
    }
}

/// Why a call's arguments cannot bind, or `None` when they can.
fn binding_problem(params: &Params, positional: usize, keywords: &[String]) -> Option<String> {
    if positional > params.positional.len() && !params.var_positional {
        return Some(format!(
            "passes {positional} positional argument(s) where at most {} are accepted",
            params.positional.len()
        ));
    }
    for keyword in keywords {
        let known = params
            .positional
            .iter()
            .skip(positional)
            .any(|p| p == keyword)
            || params.keyword_only.iter().any(|(p, _)| p == keyword);
        if !known && !params.var_keyword {
            return Some(format!(
                "passes the keyword `{keyword}`, which no parameter takes"
            ));
        }
    }
    let missing: Vec<&String> = params
        .positional
        .iter()
        .take(params.required_positional)
        .skip(positional)
        .filter(|p| !keywords.contains(p))
        .chain(
            params
                .keyword_only
                .iter()
                .filter(|(p, required)| *required && !keywords.contains(p))
                .map(|(p, _)| p),
        )
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        return Some(format!("leaves {} without a value", names.join(", ")));
    }
    None
}

/// Calls across project modules whose arguments cannot bind to the callee's parameters.
pub(super) fn call_arity(modules: &[Module]) -> Vec<Finding> {
    let by_name: BTreeMap<String, &Module> =
        modules.iter().map(|m| (module_name(&m.file), m)).collect();
    let callables: BTreeMap<String, BTreeMap<String, (Params, usize)>> = modules
        .iter()
        .map(|m| (module_name(&m.file), callable_params(m)))
        .collect();
    let mut findings = Vec::new();
    for module in modules {
        let Some(tree) = &module.tree else { continue };
        let source = &module.source;
        let own = module_name(&module.file);
        // name in this module → (module it comes from, name there)
        let mut bound: BTreeMap<String, (String, String)> = BTreeMap::new();
        // alias in this module → project module
        let mut aliases: BTreeMap<String, String> = BTreeMap::new();
        if let Some(own_defs) = callables.get(&own) {
            for name in own_defs.keys() {
                bound.insert(name.clone(), (own.clone(), name.clone()));
            }
        }
        let root = tree.root_node();
        for index in 0..root.named_child_count() {
            let Some(node) = root.named_child(index as u32) else {
                continue;
            };
            match node.kind() {
                "import_statement" => {
                    for i in 0..node.named_child_count() {
                        let Some(child) = node.named_child(i as u32) else {
                            continue;
                        };
                        let (target, alias) = if child.kind() == "aliased_import" {
                            let name = child.child_by_field_name("name").map(|n| text(n, source));
                            let alias = child.child_by_field_name("alias").map(|n| text(n, source));
                            (name.unwrap_or(""), alias.unwrap_or(""))
                        } else {
                            (text(child, source), text(child, source))
                        };
                        if by_name.contains_key(target) {
                            aliases.insert(alias.to_string(), target.to_string());
                        }
                    }
                }
                "import_from_statement" => {
                    let Some(from) = node.child_by_field_name("module_name") else {
                        continue;
                    };
                    let base = text(from, source).trim_start_matches('.').to_string();
                    if !by_name.contains_key(&base) {
                        continue;
                    }
                    for i in 0..node.named_child_count() {
                        let Some(child) = node.named_child(i as u32) else {
                            continue;
                        };
                        if child.id() == from.id() {
                            continue;
                        }
                        let (name, alias) = if child.kind() == "aliased_import" {
                            (
                                child
                                    .child_by_field_name("name")
                                    .map(|n| text(n, source))
                                    .unwrap_or(""),
                                child
                                    .child_by_field_name("alias")
                                    .map(|n| text(n, source))
                                    .unwrap_or(""),
                            )
                        } else {
                            (text(child, source), text(child, source))
                        };
                        bound.insert(alias.to_string(), (base.clone(), name.to_string()));
                    }
                }
                _ => {}
            }
        }
        let mut cursor = root.walk();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for child in node.children(&mut cursor) {
                stack.push(child);
            }
            if node.kind() != "call" {
                continue;
            }
            let (Some(function), Some(arguments)) = (
                node.child_by_field_name("function"),
                node.child_by_field_name("arguments"),
            ) else {
                continue;
            };
            let target = match function.kind() {
                // A parameter or local of an enclosing function with the callee's name (a pytest
                // fixture, a callback) is not the module-level function.
                "identifier" if shadowed(node, text(function, source), source) => None,
                "identifier" => bound.get(text(function, source)).cloned(),
                "attribute" => {
                    let object = function
                        .child_by_field_name("object")
                        .map(|n| text(n, source));
                    let attribute = function
                        .child_by_field_name("attribute")
                        .map(|n| text(n, source));
                    match (object.and_then(|o| aliases.get(o)), attribute) {
                        (Some(module_name), Some(attribute)) => {
                            Some((module_name.clone(), attribute.to_string()))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some((callee_module, callee)) = target else {
                continue;
            };
            let Some((params, def_line)) =
                callables.get(&callee_module).and_then(|c| c.get(&callee))
            else {
                continue;
            };
            let mut positional = 0;
            let mut keywords = Vec::new();
            let mut unpacked = false;
            for i in 0..arguments.named_child_count() {
                let Some(argument) = arguments.named_child(i as u32) else {
                    continue;
                };
                match argument.kind() {
                    "keyword_argument" => keywords.push(
                        argument
                            .child_by_field_name("name")
                            .map(|n| text(n, source).to_string())
                            .unwrap_or_default(),
                    ),
                    "list_splat" | "dictionary_splat" => unpacked = true,
                    "comment" => {}
                    _ => positional += 1,
                }
            }
            if unpacked {
                continue;
            }
            if let Some(problem) = binding_problem(params, positional, &keywords) {
                let callee_file = by_name
                    .get(&callee_module)
                    .map(|m| m.file.clone())
                    .unwrap_or_default();
                findings.push(Finding {
                    kind: FindingKind::CallArity,
                    file: module.file.clone(),
                    line: node.start_position().row + 1,
                    message: format!(
                        "`{}` {problem}; it is defined at {callee_file}:{def_line}",
                        text(function, source)
                    ),
                });
            }
        }
    }
    findings
}

#[cfg(test)]
mod fixture {
    use super::super::review;

    #[test]
    fn an_extra_argument_across_modules_is_found_and_a_matching_call_is_not() {
        let store = ("store.py", "def add(name, qty):\n    return (name, qty)\n");
        let drifted = ("cli.py", "import store\nstore.add('tea', 2, 1.5)\n");
        let found = review(&[store, drifted], &["cli.py"]);
        assert!(
            found.contains(&("call_arity".into(), "cli.py".into(), 2)),
            "{found:?}"
        );
        let matching = ("cli.py", "import store\nstore.add('tea', 2)\n");
        let clean = review(&[store, matching], &["cli.py"]);
        assert!(clean.iter().all(|f| f.0 != "call_arity"), "{clean:?}");
    }

    #[test]
    fn a_parameter_or_local_with_a_functions_name_is_not_that_function() {
        let store = (
            "store.py",
            "def make_store(path):\n    return path\n\n\ndef total(rows):\n    return sum(rows)\n",
        );
        // A pytest fixture argument and a callback parameter shadow the module's functions.
        let tests = ("test_store.py", "from store import make_store, total\n\n\ndef test_add(make_store):\n    assert make_store() is not None\n\n\ndef apply(rows, total):\n    return total(rows, 2)\n\n\ndef local(rows):\n    total = len\n    return total(rows, 1)\n");
        let found = review(&[store, tests], &["test_store.py"]);
        assert!(found.iter().all(|f| f.0 != "call_arity"), "{found:?}");
        // The module's own function, unshadowed, is still checked.
        let drift = (
            "test_store.py",
            "from store import total\n\n\ndef test_total():\n    assert total([1], 2) == 1\n",
        );
        let found = review(&[store, drift], &["test_store.py"]);
        assert!(
            found.contains(&("call_arity".into(), "test_store.py".into(), 5)),
            "{found:?}"
        );
    }
}

//! The `call_arity` rule: a call whose arguments cannot bind to the callee's parameters
//! (too many or too few positional arguments, an unknown or missing keyword) is a crash
//! waiting for its first run — the interface drift a weak model leaves between two modules.
//! Callees are resolved by [`crate::pyast::project`]: every import form (relative, submodule
//! attributes, re-exports through `__init__`, aliases), methods through `self`, `cls`, a class
//! or an object whose class is known (a constructor call, a classmethod factory, an
//! annotation), constructors against `__init__` or dataclass fields, staticmethods and
//! classmethods. A call through `self` (or an annotated object) may reach a subclass's
//! override, so it is a finding only when it binds to none of them. Anything it cannot
//! resolve (a decorator that may change the signature, `*args` at the call) is left alone.
//!
//! Example: `store.py` defines `def add(name, qty)`, and `cli.py` calls
//! `store.add(name, qty, price)`: three arguments for two parameters.

use crate::pyast::project::{import_name, Binding, Project, Value};
use crate::pyast::*;

/// The parameters of a function, as far as binding arguments needs them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(in crate::pyast) struct Params {
    /// Names that can be passed by position, in order (after `self`/`cls` for methods).
    pub positional: Vec<String>,
    /// How many of `positional` have no default.
    required_positional: usize,
    /// Keyword-only names, and whether each is required.
    keyword_only: Vec<(String, bool)>,
    /// `*args` present.
    pub var_positional: bool,
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

impl Params {
    /// Takes `*args` and `**kwargs` and nothing else (a pass-through wrapper).
    pub(in crate::pyast) fn passes_everything(&self) -> bool {
        self.var_positional && self.var_keyword && self.positional.is_empty()
    }

    /// Without the first positional parameter (`self`, `cls`).
    pub(in crate::pyast) fn without_first(&self) -> Params {
        let mut params = self.clone();
        if !params.positional.is_empty() {
            params.positional.remove(0);
            params.required_positional = params.required_positional.saturating_sub(1);
        }
        params
    }

    /// Positional-or-keyword parameters (name, has a default), in order: a dataclass's
    /// `__init__`.
    pub(in crate::pyast) fn positional(fields: &[(String, bool)]) -> Params {
        let required = fields
            .iter()
            .rposition(|(_, default)| !default)
            .map_or(0, |i| i + 1);
        Params {
            positional: fields.iter().map(|(name, _)| name.clone()).collect(),
            required_positional: required,
            ..Params::default()
        }
    }
}

pub(in crate::pyast) fn params_of(
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

/// How a name is bound in the scope that binds it.
enum Local<'t> {
    /// The `index`-th parameter (0-based, `self` included) of `function`.
    Parameter {
        function: tree_sitter::Node<'t>,
        index: usize,
        annotation: Option<tree_sitter::Node<'t>>,
    },
    /// Bound exactly once, by `name = value`.
    Assigned(tree_sitter::Node<'t>),
    /// Bound some other way, or more than once.
    Other,
}

/// The binding of `name` in the innermost function (or lambda) enclosing `node` that binds
/// it; `None` when no enclosing function does (the name is the module's).
fn local_binding<'t>(node: tree_sitter::Node<'t>, name: &str, source: &str) -> Option<Local<'t>> {
    let mut current = node.parent();
    while let Some(scope) = current {
        if matches!(scope.kind(), "function_definition" | "lambda") {
            if let Some(params) = scope.child_by_field_name("parameters") {
                let found = parameter_nodes(params, source)
                    .into_iter()
                    .enumerate()
                    .find(|(_, (n, _))| n == name);
                if let Some((index, (_, parameter))) = found {
                    return Some(Local::Parameter {
                        function: scope,
                        index,
                        annotation: parameter.child_by_field_name("type"),
                    });
                }
            }
            if let Some(body) = scope.child_by_field_name("body") {
                if let Some(local) = scope_binding(body, name, source) {
                    return Some(local);
                }
            }
        }
        current = scope.parent();
    }
    None
}

/// How `scope` (a function body or the module) binds `name` itself, if it does.
fn scope_binding<'t>(scope: tree_sitter::Node<'t>, name: &str, source: &str) -> Option<Local<'t>> {
    let bindings: Vec<Option<tree_sitter::Node<'t>>> = local_names(scope, source)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, value)| value)
        .collect();
    match bindings.as_slice() {
        [] => None,
        [Some(value)] => Some(Local::Assigned(*value)),
        _ => Some(Local::Other),
    }
}

/// The parameters of a list, by name (defaults and annotations left out), with their node.
fn parameter_nodes<'t>(
    parameters: tree_sitter::Node<'t>,
    source: &str,
) -> Vec<(String, tree_sitter::Node<'t>)> {
    let mut names = Vec::new();
    let mut cursor = parameters.walk();
    for parameter in parameters.named_children(&mut cursor) {
        let name = match parameter.kind() {
            "identifier" => Some(parameter),
            "default_parameter" | "typed_default_parameter" => {
                parameter.child_by_field_name("name")
            }
            "keyword_separator" | "positional_separator" | "comment" => None,
            // `typed_parameter`, `list_splat_pattern`, `dictionary_splat_pattern`: the first
            // identifier is the name.
            _ => first_identifier(parameter),
        };
        if let Some(name) = name {
            names.push((text(name, source).to_string(), parameter));
        }
    }
    names
}

fn first_identifier(node: tree_sitter::Node<'_>) -> Option<tree_sitter::Node<'_>> {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.kind() == "identifier" {
            return Some(node);
        }
        let mut cursor = node.walk();
        let children: Vec<tree_sitter::Node<'_>> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    None
}

/// The names a scope binds itself (nested function and class bodies left out), each with
/// the value of a plain `name = value` assignment.
fn local_names<'t>(
    body: tree_sitter::Node<'t>,
    source: &str,
) -> Vec<(String, Option<tree_sitter::Node<'t>>)> {
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
            "as_pattern_target" | "dotted_name" | "aliased_import" if in_import_or_with(node) => {
                Some(node.child_by_field_name("alias").unwrap_or(node))
            }
            "global_statement" | "nonlocal_statement" => Some(node),
            _ => None,
        };
        if let Some(target) = target {
            let plain = node.kind() == "assignment"
                && target.kind() == "identifier"
                && node.child_by_field_name("type").is_none();
            let value = node.child_by_field_name("right").filter(|_| plain);
            let mut found = Vec::new();
            collect_identifiers(target, source, &mut found);
            if node.kind() == "dotted_name" {
                found.truncate(1);
            }
            names.extend(found.into_iter().map(|n| (n, value)));
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
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "identifier" => names.push(text(node, source).to_string()),
            // `a.b = ...` and `a[i] = ...` bind nothing.
            "attribute" | "subscript" => {}
            _ => {
                let mut cursor = node.walk();
                let children: Vec<tree_sitter::Node<'_>> =
                    node.named_children(&mut cursor).collect();
                stack.extend(children.into_iter().rev());
            }
        }
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

/// A callable value at a call site, as the rule needs it.
struct Site<'p, 't> {
    project: &'p Project<'p>,
    /// The calling module (dotted) and its source.
    module: &'p str,
    source: &'p str,
    root: tree_sitter::Node<'t>,
}

/// What calling a value can bind to: every definition it may reach, with the parameters
/// the call's arguments meet.
struct Candidates {
    params: Vec<(Params, String, usize)>,
}

impl<'p, 't> Site<'p, 't> {
    /// What `node` (an expression) refers to.
    fn value(&self, node: tree_sitter::Node<'t>, depth: usize) -> Value {
        if depth > 8 {
            return Value::Unknown;
        }
        match node.kind() {
            "identifier" => self.name(node, text(node, self.source), depth),
            "attribute" => {
                let (Some(object), Some(attribute)) = (
                    node.child_by_field_name("object"),
                    node.child_by_field_name("attribute"),
                ) else {
                    return Value::Unknown;
                };
                let attribute = text(attribute, self.source);
                match self.value(object, depth + 1) {
                    Value::Module(module) => self.project.lookup(&module, attribute),
                    Value::Class { class, exact } => Value::Method {
                        class,
                        name: attribute.to_string(),
                        on_instance: false,
                        exact,
                    },
                    Value::Instance { class, exact } => {
                        match self.built_attribute(class, attribute) {
                            Some(value) => value,
                            None => Value::Method {
                                class,
                                name: attribute.to_string(),
                                on_instance: true,
                                exact,
                            },
                        }
                    }
                    _ => Value::Unknown,
                }
            }
            "call" => {
                let Some(function) = node.child_by_field_name("function") else {
                    return Value::Unknown;
                };
                match self.value(function, depth + 1) {
                    Value::Class { class, exact } => Value::Instance { class, exact },
                    Value::Method {
                        class,
                        name,
                        on_instance: false,
                        ..
                    } => {
                        // A classmethod factory returning its own class.
                        let own = &self.project.classes[class].name;
                        match self.project.method(class, &name) {
                            Ok(Some(m))
                                if m.binding == Binding::Class
                                    && (m.returns_cls
                                        || &m.returns == own
                                        || m.returns == "Self") =>
                            {
                                Value::Instance {
                                    class,
                                    exact: false,
                                }
                            }
                            _ => Value::Unknown,
                        }
                    }
                    _ => Value::Unknown,
                }
            }
            "parenthesized_expression" => node
                .named_child(0)
                .map_or(Value::Unknown, |inner| self.value(inner, depth + 1)),
            _ => Value::Unknown,
        }
    }

    /// The object in an instance attribute the class's methods build once
    /// (`self.store = Store(path)`): an instance of that class, or a subclass's.
    fn built_attribute(&self, class: usize, attribute: &str) -> Option<Value> {
        let info = &self.project.classes[class];
        if info.methods.contains_key(attribute) || info.unsure.contains(attribute) {
            return None;
        }
        let callee = info.built_attributes.get(attribute)?.as_ref()?;
        // `self` may be a subclass's instance: one that assigns the attribute otherwise
        // leaves it unknown.
        let agreed = self.project.subclasses(class).into_iter().all(|sub| {
            let theirs = &self.project.classes[sub];
            match theirs.built_attributes.get(attribute) {
                None => true,
                Some(their_callee) => {
                    theirs.module == info.module && their_callee.as_ref() == Some(callee)
                }
            }
        });
        if !agreed {
            return None;
        }
        match self.project.resolve_dotted(&info.module, callee) {
            Value::Class { class, exact: true } => Some(Value::Instance {
                class,
                exact: false,
            }),
            _ => None,
        }
    }

    /// What an identifier refers to where `node` uses it.
    fn name(&self, node: tree_sitter::Node<'t>, name: &str, depth: usize) -> Value {
        let local = match local_binding(node, name, self.source) {
            Some(local) => local,
            None => {
                let value = self.project.lookup(self.module, name);
                if value != Value::Unknown {
                    return value;
                }
                // A module-level object: `store = Store(path)` bound once at the top.
                match scope_binding(self.root, name, self.source) {
                    Some(local) => local,
                    None => return Value::Unknown,
                }
            }
        };
        match local {
            Local::Assigned(value) => match self.value(value, depth + 1) {
                instance @ Value::Instance { .. } => instance,
                _ => Value::Unknown,
            },
            Local::Parameter {
                function,
                index,
                annotation,
            } => {
                if index == 0 {
                    if let Some((class, binding)) = self.method_of(function) {
                        return match binding {
                            Binding::Plain => Value::Instance {
                                class,
                                exact: false,
                            },
                            Binding::Class => Value::Class {
                                class,
                                exact: false,
                            },
                            Binding::Static => Value::Unknown,
                        };
                    }
                }
                let Some(annotation) = annotation else {
                    return Value::Unknown;
                };
                let written = text(annotation, self.source).trim_matches(['"', '\'']);
                match self.project.resolve_dotted(self.module, written) {
                    Value::Class { class, .. } => Value::Instance {
                        class,
                        exact: false,
                    },
                    _ => Value::Unknown,
                }
            }
            Local::Other => Value::Unknown,
        }
    }

    /// The class (top level of this module) a function is a method of, and how it binds.
    fn method_of(&self, function: tree_sitter::Node<'t>) -> Option<(usize, Binding)> {
        let mut outer = function.parent()?;
        if outer.kind() == "decorated_definition" {
            outer = outer.parent()?;
        }
        let class = outer.parent().filter(|c| c.kind() == "class_definition")?;
        let class_name = text(class.child_by_field_name("name")?, self.source);
        let method_name = text(function.child_by_field_name("name")?, self.source);
        let Value::Class { class: id, .. } = self.project.lookup(self.module, class_name) else {
            return None;
        };
        let info = &self.project.classes[id];
        (info.line == class.start_position().row + 1).then_some(())?;
        let binding = info.methods.get(method_name)?.binding;
        Some((id, binding))
    }

    /// What a call of `value` may bind to; `None` when it cannot be known.
    fn candidates(&self, value: Value) -> Option<Candidates> {
        let project = self.project;
        let params = match value {
            Value::Function(module, name) => {
                let callable = project.function(&module, &name)?;
                vec![(
                    callable.params.clone()?,
                    callable.file.clone(),
                    callable.line,
                )]
            }
            Value::Class { class, exact } => {
                // `cls(...)` may build a subclass.
                let mut classes = vec![class];
                if !exact {
                    classes.extend(project.subclasses(class));
                }
                let built: Option<Vec<_>> = classes
                    .into_iter()
                    .map(|c| project.constructor(c))
                    .collect();
                built?
            }
            Value::Method {
                class,
                name,
                on_instance,
                exact,
            } => {
                let mut classes = vec![class];
                if !exact {
                    classes.extend(project.subclasses(class));
                }
                let mut params = Vec::new();
                for class in classes {
                    let callable = project.method(class, &name).ok()??;
                    let all = callable.params.as_ref()?;
                    let bound = match (callable.binding, on_instance) {
                        (Binding::Static, _) | (Binding::Plain, false) => all.clone(),
                        (Binding::Class, _) | (Binding::Plain, true) => all.without_first(),
                    };
                    params.push((bound, callable.file.clone(), callable.line));
                }
                params
            }
            _ => return None,
        };
        Some(Candidates { params })
    }
}

/// A call the index resolved to project definitions.
#[derive(Debug, Clone)]
pub(in crate::pyast) struct ResolvedCall {
    /// The calling file and the call's line.
    pub file: String,
    pub line: usize,
    /// The call's text up to its arguments (`store.add`).
    pub callee_text: String,
    /// Byte range of the argument list, parentheses included.
    pub arguments: std::ops::Range<usize>,
    /// Positional arguments and keyword names passed.
    pub positional: usize,
    pub keywords: Vec<String>,
    /// Every definition it may reach: (parameters it binds to, file, line of the `def`).
    pub candidates: Vec<(Params, String, usize)>,
    /// A call of a module-level function (not a method or a constructor).
    pub plain_function: bool,
}

impl ResolvedCall {
    /// Why the call binds to none of its candidates, or `None` when it binds to one.
    pub fn problem(&self) -> Option<(String, &str, usize)> {
        let problems: Option<Vec<(String, &str, usize)>> = self
            .candidates
            .iter()
            .map(|(params, file, line)| {
                binding_problem(params, self.positional, &self.keywords)
                    .map(|p| (p, file.as_str(), *line))
            })
            .collect();
        problems?.into_iter().next()
    }
}

/// Every call in the project the index resolves (unpacking calls and calls it cannot be
/// sure of left out).
pub(in crate::pyast) fn resolved_calls(modules: &[Module]) -> Vec<ResolvedCall> {
    let project = Project::new(modules);
    let mut calls = Vec::new();
    for module in modules {
        let Some(tree) = &module.tree else { continue };
        let own = import_name(&module.file);
        let site = Site {
            project: &project,
            module: &own,
            source: &module.source,
            root: tree.root_node(),
        };
        let root = tree.root_node();
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
            let Some((positional, keywords)) = arguments_of(arguments, &module.source) else {
                continue;
            };
            let value = site.value(function, 0);
            let plain_function = matches!(value, Value::Function(..));
            let Some(candidates) = site.candidates(value) else {
                continue;
            };
            calls.push(ResolvedCall {
                file: module.file.clone(),
                line: node.start_position().row + 1,
                callee_text: text(function, &module.source).to_string(),
                arguments: arguments.byte_range(),
                positional,
                keywords,
                candidates: candidates.params,
                plain_function,
            });
        }
    }
    calls
}

/// Calls whose arguments cannot bind to the parameters of the project definition they reach.
pub(super) fn call_arity(modules: &[Module]) -> Vec<Finding> {
    resolved_calls(modules)
        .iter()
        .filter_map(|call| {
            let (problem, callee_file, def_line) = call.problem()?;
            Some(Finding {
                kind: FindingKind::CallArity,
                file: call.file.clone(),
                line: call.line,
                message: format!(
                    "`{}` {problem}; it is defined at {callee_file}:{def_line}",
                    call.callee_text
                ),
                warning: false,
            })
        })
        .collect()
}

/// A call's positional count and keyword names; `None` when it unpacks (`*xs`, `**kw`).
fn arguments_of(arguments: tree_sitter::Node<'_>, source: &str) -> Option<(usize, Vec<String>)> {
    if arguments.kind() != "argument_list" {
        // `f(x for x in xs)`: one generator argument.
        return Some((1, Vec::new()));
    }
    let mut positional = 0;
    let mut keywords = Vec::new();
    let mut cursor = arguments.walk();
    for argument in arguments.named_children(&mut cursor) {
        match argument.kind() {
            "keyword_argument" => keywords.push(
                argument
                    .child_by_field_name("name")
                    .map(|n| text(n, source).to_string())
                    .unwrap_or_default(),
            ),
            "list_splat" | "dictionary_splat" => return None,
            "comment" => {}
            _ => positional += 1,
        }
    }
    Some((positional, keywords))
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

    fn arity_lines(files: &[(&str, &str)]) -> Vec<(String, usize)> {
        review(files, &["app.py"])
            .into_iter()
            .filter(|f| f.0 == "call_arity")
            .map(|f| (f.1, f.2))
            .collect()
    }

    #[test]
    fn calls_are_resolved_through_every_import_form() {
        let core = (
            "pkg/core.py",
            "def parse(text, strict=False):\n    return text\n",
        );
        let init = ("pkg/__init__.py", "from .core import parse as parse\n");
        let util = ("pkg/util.py", "from . import core\nfrom .core import parse as p\n\n\ndef run():\n    core.parse('a', True, 3)\n    p()\n    return core.parse('a')\n");
        let app = ("app.py", "import pkg\nfrom pkg import util, parse\nimport pkg.core as c\n\nparse('a', strict=True, mode=1)\npkg.parse('a', True)\nc.parse('a', 1, 2)\nutil.run()\n");
        assert_eq!(
            arity_lines(&[core, init, util, app]),
            vec![
                ("app.py".into(), 5),
                ("app.py".into(), 7),
                ("pkg/util.py".into(), 6),
                ("pkg/util.py".into(), 7),
            ]
        );
    }

    #[test]
    fn method_and_constructor_calls_are_checked() {
        let shapes = (
            "shapes.py",
            "from dataclasses import dataclass, field\n\n\n@dataclass\nclass Point:\n    x: int\n    y: int = 0\n    tags: list = field(default_factory=list)\n\n\nclass Store:\n    def __init__(self, path, *, mode='r'):\n        self.path = path\n\n    def add(self, name, qty=1):\n        return self.total(name)\n\n    def total(self):\n        return 0\n\n    @staticmethod\n    def blank(width):\n        return ' ' * width\n\n    @classmethod\n    def open(cls, path) -> 'Store':\n        return cls(path, 1)\n",
        );
        let app = (
            "app.py",
            "from shapes import Point, Store\n\n\ndef main(other: Store):\n    Point(1, 2, [], 4)\n    Point()\n    Point(1, tags=[])\n    store = Store('p', mode='w')\n    store.add('tea', 2, 3)\n    Store.blank(1, 2)\n    made = Store.open('p')\n    made.add()\n    other.total(5)\n    store.add('tea', qty=2)\n    Store.blank(3)\n\n\nmain(Store('x'))\n",
        );
        assert_eq!(
            arity_lines(&[shapes, app]),
            vec![
                ("app.py".into(), 5),
                ("app.py".into(), 6),
                ("app.py".into(), 9),
                ("app.py".into(), 10),
                ("app.py".into(), 12),
                ("app.py".into(), 13),
                // self.total(name) inside Store.add; cls(path, 1) against __init__(path).
                ("shapes.py".into(), 16),
                ("shapes.py".into(), 27),
            ]
        );
    }

    #[test]
    fn what_cannot_be_known_is_never_a_finding() {
        let lib = (
            "lib.py",
            "import functools\n\n\ndef curry(f):\n    return f\n\n\ndef logged(f):\n    @functools.wraps(f)\n    def inner(*args, **kwargs):\n        return f(*args, **kwargs)\n    return inner\n\n\n@curry\ndef add(a, b):\n    return a + b\n\n\n@logged\ndef mul(a, b):\n    return a * b\n\n\nclass Base:\n    def render(self, rows):\n        return self.cell(rows, 1)\n\n    def cell(self, rows):\n        raise NotImplementedError\n\n\nclass Wide(Base):\n    def cell(self, rows, width):\n        return rows\n\n\nclass Mapping(dict):\n    pass\n\n\ntry:\n    from fast import scale\nexcept ImportError:\n    def scale(x):\n        return x\n",
        );
        // A decorator that may change the signature (curry) is inconclusive; one that keeps
        // it (functools.wraps) is checked; a call through self may reach an override; a
        // class with an external base has an unknown constructor; a conditional definition
        // is ambiguous.
        let app = (
            "app.py",
            "from lib import add, mul, Base, Mapping, scale\n\nadd(1)\nmul(1)\nBase().render([])\nMapping(a=1, b=2)\nscale(1, 2)\n",
        );
        assert_eq!(arity_lines(&[lib, app]), vec![("app.py".into(), 4)]);
    }

    #[test]
    fn calls_through_an_attribute_the_class_builds_once_are_checked() {
        let store = ("store.py", "class Store:\n    def __init__(self, path):\n        self.path = path\n\n    def add(self, name, qty):\n        return (name, qty)\n");
        let app = ("app.py", "from store import Store\n\n\nclass App:\n    def __init__(self, path):\n        self.store = Store(path)\n\n    def run(self):\n        self.store.add('tea', 1, 2.5)\n        return self.store.add('tea', 1)\n\n\nApp('x').run()\n");
        assert_eq!(arity_lines(&[store, app]), vec![("app.py".into(), 9)]);
        // Assigned twice, or otherwise in a subclass: the attribute's class is not known.
        let twice = ("app.py", "from store import Store\n\n\nclass App:\n    def __init__(self, path):\n        self.store = Store(path)\n\n    def reset(self):\n        self.store = None\n\n    def run(self):\n        self.store.add('tea', 1, 2.5)\n\n\nApp('x').run()\n");
        assert_eq!(arity_lines(&[store, twice]), vec![]);
        let sub = ("app.py", "from store import Store\n\n\nclass Other:\n    def add(self, name, qty, price):\n        return name\n\n\nclass App:\n    def __init__(self, path):\n        self.store = Store(path)\n\n    def run(self):\n        self.store.add('tea', 1, 2.5)\n\n\nclass Priced(App):\n    def __init__(self, path):\n        self.store = Other()\n\n\nPriced('x').run()\n");
        assert_eq!(arity_lines(&[store, sub]), vec![]);
    }
}

//! The project's symbols, resolved the way Python resolves them: every module's top-level
//! names (functions, classes, imports through every form: absolute, relative,
//! `from . import mod`, submodule attributes, re-exports through `__init__`, aliases), every
//! class's methods, bases, constructor and dataclass fields, and what a name at a call site
//! refers to (a parameter or local shadows the module's name; `self`, `cls`, an object built
//! by a constructor or a classmethod factory, an annotated parameter).
//!
//! Anything it cannot be sure of resolves to `Unknown`, and the rules that use it then stay
//! silent: a decorator that may change a signature, a name bound twice or conditionally, a
//! class whose behaviour comes from outside the project (an external base, a metaclass,
//! `__new__`, `__getattr__`).

use super::rules::arity::{params_of, Params};
use super::{definitions, text, Module};
use std::collections::{BTreeMap, BTreeSet};

/// How a function is bound when called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Binding {
    /// A plain function or an instance method.
    Plain,
    /// `@staticmethod`.
    Static,
    /// `@classmethod`.
    Class,
}

/// A function or method of the project.
#[derive(Debug, Clone)]
pub(super) struct Callable {
    /// Its parameters (all of them, `self` included), or `None` when a decorator may change
    /// what it accepts.
    pub params: Option<Params>,
    /// Its module's relative path.
    pub file: String,
    /// 1-based line of the `def`.
    pub line: usize,
    /// How it binds.
    pub binding: Binding,
    /// Its return annotation, quotes left out (empty when none).
    pub returns: String,
    /// Its body has `return cls(...)`.
    pub returns_cls: bool,
}

/// A class of the project.
#[derive(Debug, Clone)]
pub(super) struct Class {
    /// Its module (dotted).
    pub module: String,
    /// Its name.
    pub name: String,
    /// Its relative path and line.
    pub file: String,
    pub line: usize,
    /// Base expressions as written (`Base`, `mod.Base`, `ABC`).
    pub bases: Vec<String>,
    /// Its methods; a name bound twice (overloads, a rebinding) is left out and listed in
    /// `unsure`.
    pub methods: BTreeMap<String, Callable>,
    /// Method names it cannot be sure of.
    pub unsure: BTreeSet<String>,
    /// Dataclass fields in order (name, has a default), when it is a plain `@dataclass`.
    pub fields: Option<Vec<(String, bool)>>,
    /// Its behaviour comes from outside what the index reads (a class decorator other than
    /// `dataclass`, a metaclass, `__new__`, `__getattr__`, a dataclass it cannot read).
    pub opaque: bool,
    /// Instance attributes its methods assign (`self.NAME = ...`): the called expression as
    /// written (`Store`) when the one assignment is `self.store = Store(path)`, else `None`.
    pub built_attributes: BTreeMap<String, Option<String>>,
}

/// What a top-level name of a module is bound to.
#[derive(Debug, Clone)]
enum Symbol {
    Function(Callable),
    Class(usize),
    Module(String),
    Imported { module: String, name: String },
}

/// One module's names.
#[derive(Debug, Default)]
struct Names {
    symbols: BTreeMap<String, Symbol>,
    /// Names bound more than one way, or conditionally: never resolved.
    ambiguous: BTreeSet<String>,
    /// `from x import *`, a module `__getattr__` or `globals()`: a missing name may still
    /// exist.
    open: bool,
    /// Every name bound at the top, however.
    bound: BTreeSet<String>,
}

/// What an expression refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Module(String),
    Function(String, String),
    /// A class (index into `classes`); not `exact` when it may be a subclass (`cls`).
    Class {
        class: usize,
        exact: bool,
    },
    /// A method reached through a class or an instance (`exact`: not a subclass's).
    Method {
        class: usize,
        name: String,
        on_instance: bool,
        exact: bool,
    },
    /// An instance of a class; `exact` when built by the class's own constructor.
    Instance {
        class: usize,
        exact: bool,
    },
    Unknown,
}

/// Decorators that leave a function's signature as it is.
const KEEPING: [&str; 12] = [
    "abstractmethod",
    "override",
    "cache",
    "lru_cache",
    "cached_method",
    "contextmanager",
    "asynccontextmanager",
    "total_ordering",
    "final",
    "no_type_check",
    "unique",
    "runtime_checkable",
];

/// The index of a whole project.
pub(super) struct Project<'m> {
    pub modules: BTreeMap<String, &'m Module>,
    names: BTreeMap<String, Names>,
    pub classes: Vec<Class>,
}

/// The dotted name a module is imported by (`src/` layouts import without `src.`).
pub(super) fn import_name(file: &str) -> String {
    super::module_name(file.strip_prefix("src/").unwrap_or(file))
}

/// The package a module's relative imports start from.
fn package_of(file: &str) -> Vec<String> {
    let own = import_name(file);
    let mut parts: Vec<String> = own.split('.').map(String::from).collect();
    if !file.ends_with("__init__.py") {
        parts.pop();
    }
    parts
}

/// `from ..x import y` in `file`: the absolute module `..x` names.
pub(super) fn absolute(file: &str, raw: &str) -> String {
    let dots = raw.chars().take_while(|c| *c == '.').count();
    let rest = raw.trim_start_matches('.');
    if dots == 0 {
        return rest.to_string();
    }
    let package = package_of(file);
    let keep = package.len().saturating_sub(dots - 1);
    let mut parts: Vec<String> = package[..keep].to_vec();
    if !rest.is_empty() {
        parts.push(rest.to_string());
    }
    parts.join(".")
}

fn last_segment(expression: &str) -> &str {
    let head = expression.split('(').next().unwrap_or(expression).trim();
    head.rsplit('.').next().unwrap_or(head)
}

fn decorator_names<'s>(definition: tree_sitter::Node<'_>, source: &'s str) -> Vec<&'s str> {
    let Some(parent) = definition
        .parent()
        .filter(|p| p.kind() == "decorated_definition")
    else {
        return Vec::new();
    };
    let mut cursor = parent.walk();
    let decorators: Vec<tree_sitter::Node<'_>> = parent
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "decorator")
        .collect();
    decorators
        .into_iter()
        .map(|d| text(d, source).trim_start_matches('@').trim())
        .collect()
}

impl<'m> Project<'m> {
    /// Indexes `modules`.
    pub fn new(modules: &'m [Module]) -> Project<'m> {
        let mut project = Project {
            modules: modules.iter().map(|m| (import_name(&m.file), m)).collect(),
            names: BTreeMap::new(),
            classes: Vec::new(),
        };
        let keeping = project.keeping_decorators();
        for module in modules {
            let names = project.index_module(module, &keeping);
            project.names.insert(import_name(&module.file), names);
        }
        project
    }

    /// Project functions that are decorators keeping the signature of what they wrap: they
    /// return an inner `def` decorated `@wraps(...)` / `@functools.wraps(...)` that takes
    /// `*args, **kwargs`.
    fn keeping_decorators(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for module in self.modules.values() {
            let Some(tree) = &module.tree else { continue };
            for definition in definitions(tree.root_node()) {
                if definition.kind() != "function_definition" {
                    continue;
                }
                let Some(body) = definition.child_by_field_name("body") else {
                    continue;
                };
                let wraps = definitions(body).into_iter().any(|inner| {
                    let decorated = decorator_names(inner, &module.source)
                        .iter()
                        .any(|d| last_segment(d) == "wraps");
                    let passes_all = inner
                        .child_by_field_name("parameters")
                        .map(|p| params_of(p, &module.source, false))
                        .is_some_and(|p| p.passes_everything());
                    decorated && passes_all
                });
                if wraps {
                    if let Some(name) = definition.child_by_field_name("name") {
                        found.insert(text(name, &module.source).to_string());
                    }
                }
            }
        }
        found
    }

    fn callable(
        definition: tree_sitter::Node<'_>,
        module: &Module,
        keeping: &BTreeSet<String>,
    ) -> Callable {
        let mut binding = Binding::Plain;
        let mut known = true;
        for decorator in decorator_names(definition, &module.source) {
            let name = last_segment(decorator);
            match name {
                "staticmethod" => binding = Binding::Static,
                "classmethod" => binding = Binding::Class,
                _ if KEEPING.contains(&name) || keeping.contains(name) => {}
                _ => known = false,
            }
        }
        let params = definition
            .child_by_field_name("parameters")
            .filter(|_| known)
            .map(|p| params_of(p, &module.source, false));
        let returns = definition
            .child_by_field_name("return_type")
            .map(|r| {
                text(r, &module.source)
                    .trim_matches(['"', '\''])
                    .to_string()
            })
            .unwrap_or_default();
        let returns_cls = definition
            .child_by_field_name("body")
            .is_some_and(|b| text(b, &module.source).contains("return cls("));
        Callable {
            params,
            file: module.file.clone(),
            line: definition.start_position().row + 1,
            binding,
            returns,
            returns_cls,
        }
    }

    fn index_module(&mut self, module: &Module, keeping: &BTreeSet<String>) -> Names {
        let mut names = Names::default();
        let Some(tree) = &module.tree else {
            return names;
        };
        let source = &module.source;
        let own = import_name(&module.file);
        let root = tree.root_node();
        let mut bound: BTreeMap<String, usize> = BTreeMap::new();
        let bind = |names: &mut Names,
                    bound: &mut BTreeMap<String, usize>,
                    name: String,
                    symbol: Symbol| {
            *bound.entry(name.clone()).or_default() += 1;
            names.symbols.insert(name, symbol);
        };
        let mut cursor = root.walk();
        let top: Vec<tree_sitter::Node<'_>> = root.named_children(&mut cursor).collect();
        for node in top {
            let definition = if node.kind() == "decorated_definition" {
                node.child_by_field_name("definition").unwrap_or(node)
            } else {
                node
            };
            match definition.kind() {
                "function_definition" => {
                    let Some(name) = definition.child_by_field_name("name") else {
                        continue;
                    };
                    let name = text(name, source).to_string();
                    if name == "__getattr__" {
                        names.open = true;
                    }
                    let callable = Self::callable(definition, module, keeping);
                    bind(&mut names, &mut bound, name, Symbol::Function(callable));
                }
                "class_definition" => {
                    let Some(name) = definition.child_by_field_name("name") else {
                        continue;
                    };
                    let class = self.index_class(definition, module, &own, keeping);
                    self.classes.push(class);
                    let id = self.classes.len() - 1;
                    bind(
                        &mut names,
                        &mut bound,
                        text(name, source).to_string(),
                        Symbol::Class(id),
                    );
                }
                "import_statement" => {
                    let mut cursor = definition.walk();
                    for child in definition.named_children(&mut cursor) {
                        if child.kind() == "comment" {
                            continue;
                        }
                        if child.kind() == "aliased_import" {
                            let target = child.child_by_field_name("name").map(|n| text(n, source));
                            let alias = child.child_by_field_name("alias").map(|n| text(n, source));
                            if let (Some(target), Some(alias)) = (target, alias) {
                                bind(
                                    &mut names,
                                    &mut bound,
                                    alias.into(),
                                    Symbol::Module(target.into()),
                                );
                            }
                        } else {
                            // `import a.b.c` binds `a`.
                            let dotted = text(child, source);
                            let head = dotted.split('.').next().unwrap_or(dotted);
                            bind(
                                &mut names,
                                &mut bound,
                                head.into(),
                                Symbol::Module(head.into()),
                            );
                        }
                    }
                }
                "import_from_statement" => {
                    let Some(from) = definition.child_by_field_name("module_name") else {
                        continue;
                    };
                    let base = absolute(&module.file, text(from, source));
                    let mut cursor = definition.walk();
                    for child in definition.named_children(&mut cursor) {
                        if child.id() == from.id() || child.kind() == "comment" {
                            continue;
                        }
                        if child.kind() == "wildcard_import" {
                            names.open = true;
                            continue;
                        }
                        let (name, alias) = if child.kind() == "aliased_import" {
                            let name = child.child_by_field_name("name").map(|n| text(n, source));
                            let alias = child.child_by_field_name("alias").map(|n| text(n, source));
                            (name.unwrap_or(""), alias.unwrap_or(""))
                        } else {
                            (text(child, source), text(child, source))
                        };
                        if name.is_empty() || alias.is_empty() {
                            continue;
                        }
                        bind(
                            &mut names,
                            &mut bound,
                            alias.into(),
                            Symbol::Imported {
                                module: base.clone(),
                                name: name.into(),
                            },
                        );
                    }
                }
                _ => {
                    // Any other binding at the top (an assignment, a def or import inside
                    // `if`/`try`/`with`) makes its names ambiguous.
                    let mut found = Vec::new();
                    top_level_bindings(definition, source, &mut found);
                    for name in found {
                        *bound.entry(name).or_default() += 2;
                    }
                }
            }
        }
        names.open |= source.contains("globals()");
        names.bound = bound.keys().cloned().collect();
        names.ambiguous = bound
            .into_iter()
            .filter(|(_, count)| *count > 1)
            .map(|(name, _)| name)
            .collect();
        names
    }

    fn index_class(
        &self,
        definition: tree_sitter::Node<'_>,
        module: &Module,
        own: &str,
        keeping: &BTreeSet<String>,
    ) -> Class {
        let source = &module.source;
        let name = definition
            .child_by_field_name("name")
            .map(|n| text(n, source).to_string())
            .unwrap_or_default();
        let mut bases = Vec::new();
        let mut opaque = false;
        if let Some(arguments) = definition.child_by_field_name("superclasses") {
            let mut cursor = arguments.walk();
            for argument in arguments.named_children(&mut cursor) {
                match argument.kind() {
                    "keyword_argument" | "list_splat" | "dictionary_splat" => opaque = true,
                    _ => bases.push(text(argument, source).to_string()),
                }
            }
        }
        let mut dataclass = false;
        for decorator in decorator_names(definition, source) {
            match last_segment(decorator) {
                "dataclass"
                    if !decorator.contains("init=False") && !decorator.contains("kw_only") =>
                {
                    dataclass = true
                }
                name if KEEPING.contains(&name) => {}
                _ => opaque = true,
            }
        }
        let mut methods = BTreeMap::new();
        let mut unsure = BTreeSet::new();
        let mut fields = Vec::new();
        let mut built_attributes = BTreeMap::new();
        if let Some(body) = definition.child_by_field_name("body") {
            let mut cursor = body.walk();
            let members: Vec<tree_sitter::Node<'_>> = body.named_children(&mut cursor).collect();
            for member in members {
                let inner = if member.kind() == "decorated_definition" {
                    member.child_by_field_name("definition").unwrap_or(member)
                } else {
                    member
                };
                match inner.kind() {
                    "function_definition" => {
                        let Some(method) = inner.child_by_field_name("name") else {
                            continue;
                        };
                        let method = text(method, source).to_string();
                        if matches!(
                            method.as_str(),
                            "__new__" | "__getattr__" | "__getattribute__"
                        ) {
                            opaque = true;
                        }
                        let decorators = decorator_names(inner, source);
                        if decorators.iter().any(|d| {
                            d.contains("property")
                                || d.contains(".setter")
                                || d.contains(".deleter")
                        }) {
                            unsure.insert(method);
                            continue;
                        }
                        let callable = Self::callable(inner, module, keeping);
                        if methods.insert(method.clone(), callable).is_some() {
                            unsure.insert(method);
                        }
                    }
                    "expression_statement" => {
                        if let Some(field) = dataclass_field(inner, source) {
                            match field {
                                Some(field) => fields.push(field),
                                None => opaque |= dataclass,
                            }
                        } else {
                            let mut found = Vec::new();
                            top_level_bindings(inner, source, &mut found);
                            unsure.extend(found);
                        }
                    }
                    _ => {
                        let mut found = Vec::new();
                        top_level_bindings(inner, source, &mut found);
                        unsure.extend(found);
                    }
                }
            }
            built_attributes = self_attributes(body, source);
            // `self.m = ...` anywhere in the class replaces the method on the instance.
            let body_text = text(body, source);
            for method in methods.keys() {
                if body_text.contains(&format!("self.{method} =")) {
                    unsure.insert(method.clone());
                }
            }
        }
        for method in &unsure {
            methods.remove(method);
        }
        Class {
            module: own.to_string(),
            name,
            file: module.file.clone(),
            line: definition.start_position().row + 1,
            bases,
            methods,
            unsure,
            fields: dataclass.then_some(fields),
            opaque,
            built_attributes,
        }
    }

    /// What `name` means at the top of `module` (re-exports followed).
    pub fn lookup(&self, module: &str, name: &str) -> Value {
        self.lookup_depth(module, name, 0)
    }

    fn lookup_depth(&self, module: &str, name: &str, depth: usize) -> Value {
        if depth > 16 {
            return Value::Unknown;
        }
        let Some(names) = self.names.get(module) else {
            return Value::Unknown;
        };
        if names.ambiguous.contains(name) {
            return Value::Unknown;
        }
        match names.symbols.get(name) {
            Some(Symbol::Function(_)) => Value::Function(module.into(), name.into()),
            Some(Symbol::Class(id)) => Value::Class {
                class: *id,
                exact: true,
            },
            Some(Symbol::Module(target)) => {
                if self.names.contains_key(target) {
                    Value::Module(target.clone())
                } else {
                    Value::Unknown
                }
            }
            Some(Symbol::Imported {
                module: from,
                name: imported,
            }) => {
                let submodule = format!("{from}.{imported}");
                if self.names.contains_key(&submodule) && !self.defines(from, imported) {
                    Value::Module(submodule)
                } else {
                    self.lookup_depth(from, imported, depth + 1)
                }
            }
            None => {
                let submodule = format!("{module}.{name}");
                if self.names.contains_key(&submodule) {
                    Value::Module(submodule)
                } else {
                    Value::Unknown
                }
            }
        }
    }

    fn defines(&self, module: &str, name: &str) -> bool {
        self.names
            .get(module)
            .is_some_and(|n| n.symbols.contains_key(name))
    }

    /// The modules (dotted) that import `name` of `module`, through any re-export.
    pub fn importers_of(&self, module: &str, name: &str) -> BTreeSet<String> {
        let target = self.lookup(module, name);
        let mut found = BTreeSet::new();
        if target == Value::Unknown {
            return found;
        }
        for (importer, names) in &self.names {
            let imports = names.symbols.iter().any(|(alias, symbol)| {
                matches!(symbol, Symbol::Imported { .. }) && self.lookup(importer, alias) == target
            });
            if imports && importer != module {
                found.insert(importer.clone());
            }
        }
        found
    }

    /// Whether `module` has `name` (a name it binds, or a submodule): `None` when `module` is
    /// not the project's or its names cannot all be known.
    pub fn has_name(&self, module: &str, name: &str) -> Option<bool> {
        let names = self.names.get(module)?;
        if names.open {
            return None;
        }
        // Every module has these attributes without binding them.
        const MODULE_ATTRIBUTES: [&str; 10] = [
            "__doc__",
            "__name__",
            "__file__",
            "__spec__",
            "__loader__",
            "__package__",
            "__path__",
            "__builtins__",
            "__dict__",
            "__cached__",
        ];
        Some(
            names.bound.contains(name)
                || MODULE_ATTRIBUTES.contains(&name)
                || self.names.contains_key(&format!("{module}.{name}")),
        )
    }

    /// A module-level function's callable.
    pub fn function(&self, module: &str, name: &str) -> Option<&Callable> {
        match self.names.get(module)?.symbols.get(name)? {
            Symbol::Function(callable) => Some(callable),
            _ => None,
        }
    }

    /// The class ids of a class's bases, in order; `None` when one is outside the project
    /// (other than `object`).
    fn bases_of(&self, class: usize) -> Option<Vec<usize>> {
        let info = &self.classes[class];
        let mut found = Vec::new();
        for base in &info.bases {
            if base == "object" {
                continue;
            }
            match self.resolve_dotted(&info.module, base) {
                Value::Class { class: id, .. } if id != class => found.push(id),
                _ => return None,
            }
        }
        Some(found)
    }

    /// A dotted expression (`Base`, `mod.Base`) at the top of `module`.
    pub fn resolve_dotted(&self, module: &str, dotted: &str) -> Value {
        let mut parts = dotted.split('.');
        let Some(first) = parts.next() else {
            return Value::Unknown;
        };
        let mut value = self.lookup(module, first.trim());
        for part in parts {
            value = match value {
                Value::Module(m) => self.lookup(&m, part.trim()),
                _ => return Value::Unknown,
            };
        }
        value
    }

    /// The method resolution order of a class, as far as the project defines it: `None` when
    /// a base lies outside the project.
    pub fn mro(&self, class: usize) -> Option<Vec<usize>> {
        let mut order = vec![class];
        let mut queue = vec![class];
        while let Some(current) = queue.pop() {
            if order.len() > 64 {
                return None;
            }
            for base in self.bases_of(current)?.into_iter().rev() {
                if !order.contains(&base) {
                    order.push(base);
                    queue.push(base);
                }
            }
        }
        Some(order)
    }

    /// The definition of `method` a class uses: `Err(())` when it cannot be known (an
    /// external base, an opaque class, a method bound some other way).
    pub fn method(&self, class: usize, method: &str) -> Result<Option<&Callable>, ()> {
        let order = self.mro(class).ok_or(())?;
        for id in order {
            let info = &self.classes[id];
            if info.opaque || info.unsure.contains(method) {
                return Err(());
            }
            if let Some(callable) = info.methods.get(method) {
                return Ok(Some(callable));
            }
        }
        Ok(None)
    }

    /// Every project class deriving from `class`, at any depth.
    pub fn subclasses(&self, class: usize) -> Vec<usize> {
        let mut found = Vec::new();
        for id in 0..self.classes.len() {
            if id != class && self.mro(id).is_some_and(|order| order.contains(&class)) {
                found.push(id);
            }
        }
        found
    }

    /// What calling the class accepts (`self` left out), or `None` when it cannot be known.
    pub fn constructor(&self, class: usize) -> Option<(Params, String, usize)> {
        let order = self.mro(class)?;
        for id in &order {
            let info = &self.classes[*id];
            if info.opaque || info.unsure.contains("__init__") {
                return None;
            }
            if let Some(init) = info.methods.get("__init__") {
                let params = init.params.as_ref()?.without_first();
                return Some((params, init.file.clone(), init.line));
            }
            if info.fields.is_some() {
                // A dataclass: the fields of its dataclass bases first.
                let mut all: Vec<(String, bool)> = Vec::new();
                for base in order.iter().rev() {
                    let fields = self.classes[*base].fields.as_ref()?;
                    for field in fields {
                        all.retain(|(name, _)| name != &field.0);
                        all.push(field.clone());
                    }
                }
                return Some((Params::positional(&all), info.file.clone(), info.line));
            }
        }
        let info = &self.classes[class];
        Some((Params::default(), info.file.clone(), info.line))
    }
}

/// The attributes a class's methods assign through `self`, each with the callee when its one
/// assignment is `self.NAME = CALLEE(...)`.
fn self_attributes(body: tree_sitter::Node<'_>, source: &str) -> BTreeMap<String, Option<String>> {
    let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut cursor = body.walk();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        stack.extend(node.children(&mut cursor));
        if !matches!(node.kind(), "assignment" | "augmented_assignment") {
            continue;
        }
        let Some(left) = node.child_by_field_name("left") else {
            continue;
        };
        let mut targets = vec![left];
        if matches!(left.kind(), "pattern_list" | "tuple_pattern") {
            let mut inner = left.walk();
            targets = left.named_children(&mut inner).collect();
        }
        for target in targets {
            let is_self = target.kind() == "attribute"
                && target
                    .child_by_field_name("object")
                    .is_some_and(|o| text(o, source) == "self");
            let Some(name) = target
                .child_by_field_name("attribute")
                .filter(|_| is_self)
                .map(|a| text(a, source).to_string())
            else {
                continue;
            };
            let callee = node
                .child_by_field_name("right")
                .filter(|r| {
                    r.kind() == "call" && node.kind() == "assignment" && target.id() == left.id()
                })
                .and_then(|r| r.child_by_field_name("function"))
                .map(|f| text(f, source).to_string());
            match seen.get(&name) {
                None => {
                    seen.insert(name, callee);
                }
                Some(_) => {
                    seen.insert(name, None);
                }
            }
        }
    }
    seen
}

/// A class body line `name: T` or `name: T = value` as a dataclass field: `None` when it is
/// no annotated assignment, `Some(None)` for one that cannot be read, `Some(Some(field))`.
fn dataclass_field(
    statement: tree_sitter::Node<'_>,
    source: &str,
) -> Option<Option<(String, bool)>> {
    let assignment = statement.named_child(0)?;
    if assignment.kind() != "assignment" {
        return None;
    }
    let annotation = assignment.child_by_field_name("type")?;
    let left = assignment.child_by_field_name("left")?;
    if left.kind() != "identifier" {
        return Some(None);
    }
    let annotation = text(annotation, source);
    if annotation.contains("ClassVar") {
        return None;
    }
    if annotation.contains("KW_ONLY") {
        return Some(None);
    }
    let name = text(left, source).to_string();
    let Some(right) = assignment.child_by_field_name("right") else {
        return Some(Some((name, false)));
    };
    let value = text(right, source);
    let is_field_call = right.kind() == "call"
        && right
            .child_by_field_name("function")
            .is_some_and(|f| last_segment(text(f, source)) == "field");
    if is_field_call {
        if value.contains("init=False") || value.contains("kw_only") {
            return Some(None);
        }
        let has_default = value.contains("default=") || value.contains("default_factory=");
        return Some(Some((name, has_default)));
    }
    Some(Some((name, true)))
}

/// The names a statement binds at its own level (nested function and class bodies left out).
fn top_level_bindings(node: tree_sitter::Node<'_>, source: &str, found: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "function_definition" | "class_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    found.push(text(name, source).to_string());
                }
                continue;
            }
            "assignment" | "augmented_assignment" | "for_statement" => {
                if let Some(left) = node.child_by_field_name("left") {
                    identifiers(left, source, found);
                }
            }
            "aliased_import" => {
                if let Some(alias) = node.child_by_field_name("alias") {
                    found.push(text(alias, source).to_string());
                }
                continue;
            }
            "dotted_name"
                if node.parent().is_some_and(|p| {
                    matches!(p.kind(), "import_statement" | "import_from_statement")
                }) =>
            {
                let dotted = text(node, source);
                found.push(dotted.split('.').next().unwrap_or(dotted).to_string());
                if let Some(last) = dotted.rsplit('.').next() {
                    found.push(last.to_string());
                }
                continue;
            }
            "as_pattern_target" | "named_expression" => {
                identifiers(node, source, found);
            }
            "lambda" => continue,
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
}

/// The identifiers a binding target names (`a`, `a, (b, c)`; not `x.y` nor `x[i]`).
fn identifiers(node: tree_sitter::Node<'_>, source: &str, found: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "identifier" => found.push(text(node, source).to_string()),
            "attribute" | "subscript" => {}
            _ => {
                let mut cursor = node.walk();
                stack.extend(node.named_children(&mut cursor));
            }
        }
    }
}

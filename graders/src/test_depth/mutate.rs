//! Mutants of a Python project's own code: one small change each, found on the syntax tree
//! (never by text search, so a `<` inside a string is never touched). The operators are the
//! classic ones: a constant changed, a comparison negated, an arithmetic or boolean operator
//! swapped, a returned value replaced by `None`, a call whose result is unused removed.
//!
//! [`sample`] picks a bounded, seeded sample: the same code and seed give the same mutants,
//! whatever the machine.

use std::collections::BTreeSet;

/// One mutant: a byte range of one file replaced.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mutant {
    /// The file, relative to the project.
    pub file: String,
    /// Byte offset where the change starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// What replaces the range.
    pub replacement: String,
    /// 1-based line of the change.
    pub line: usize,
    /// Which operator made it.
    pub operator: Operator,
    /// The original text of the range (for reports).
    pub original: String,
}

/// The mutation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// A number changed (n → n + 1; 0 → 1), `True` ↔ `False`.
    Constant,
    /// A comparison negated (`<` → `>=`, `==` → `!=`, `in` → `not in`, …).
    Comparison,
    /// An arithmetic operator swapped (`+` ↔ `-`, `*` ↔ `/`, …).
    Arithmetic,
    /// `and` ↔ `or`, `not x` → `x`.
    Boolean,
    /// `return VALUE` → `return None`.
    ReturnValue,
    /// A call statement whose result is unused → `pass`.
    RemovedCall,
}

impl Operator {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Constant => "constant",
            Operator::Comparison => "comparison",
            Operator::Arithmetic => "arithmetic",
            Operator::Boolean => "boolean",
            Operator::ReturnValue => "return value",
            Operator::RemovedCall => "removed call",
        }
    }
}

impl Mutant {
    /// The file's source with this mutant applied (`None` when the range does not fit).
    pub fn apply(&self, source: &str) -> Option<String> {
        let before = source.get(..self.start)?;
        let after = source.get(self.end..)?;
        Some(format!("{before}{}{after}", self.replacement))
    }

    /// `file:line operator: original → replacement`, one line.
    pub fn describe(&self) -> String {
        let shorten = |text: &str| {
            let line = text.lines().next().unwrap_or("");
            let short: String = line.chars().take(40).collect();
            if short.len() < text.len() {
                format!("{short}…")
            } else {
                short
            }
        };
        format!(
            "{}:{} {}: `{}` → `{}`",
            self.file,
            self.line,
            self.operator.name(),
            shorten(&self.original),
            shorten(&self.replacement)
        )
    }
}

/// Every mutant of one file (none when it does not parse).
pub fn mutants_of(file: &str, source: &str) -> Vec<Mutant> {
    let Some(mut parser) = swarm::pyast::parser() else {
        return Vec::new();
    };
    let Some(tree) = parser.parse(source, None) else {
        return Vec::new();
    };
    if tree.root_node().has_error() {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        mutate_node(file, source, node, &mut found);
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    found.sort();
    found.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.replacement == b.replacement);
    found
}

fn text<'s>(node: tree_sitter::Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

fn push(
    found: &mut Vec<Mutant>,
    file: &str,
    source: &str,
    node: tree_sitter::Node<'_>,
    operator: Operator,
    replacement: String,
) {
    found.push(Mutant {
        file: file.to_string(),
        start: node.start_byte(),
        end: node.end_byte(),
        replacement,
        line: node.start_position().row + 1,
        operator,
        original: text(node, source).to_string(),
    });
}

fn is_string(node: Option<tree_sitter::Node<'_>>) -> bool {
    node.is_some_and(|n| matches!(n.kind(), "string" | "concatenated_string"))
}

fn mutate_node(file: &str, source: &str, node: tree_sitter::Node<'_>, found: &mut Vec<Mutant>) {
    match node.kind() {
        "integer" => {
            let digits = text(node, source).replace('_', "");
            if let Ok(value) = digits.parse::<u64>() {
                let next = if value == 0 {
                    1
                } else {
                    value.saturating_add(1)
                };
                push(
                    found,
                    file,
                    source,
                    node,
                    Operator::Constant,
                    next.to_string(),
                );
            }
        }
        "float" => {
            let original = text(node, source);
            push(
                found,
                file,
                source,
                node,
                Operator::Constant,
                format!("({original} + 1.0)"),
            );
        }
        "true" => push(
            found,
            file,
            source,
            node,
            Operator::Constant,
            "False".into(),
        ),
        "false" => push(found, file, source, node, Operator::Constant, "True".into()),
        "comparison_operator" => {
            let mut cursor = node.walk();
            for child in node.children(&mut cursor) {
                let negated = match child.kind() {
                    "<" => ">=",
                    "<=" => ">",
                    ">" => "<=",
                    ">=" => "<",
                    "==" => "!=",
                    "!=" => "==",
                    "in" => "not in",
                    "not in" => "in",
                    "is" => "is not",
                    "is not" => "is",
                    _ => continue,
                };
                push(
                    found,
                    file,
                    source,
                    child,
                    Operator::Comparison,
                    negated.into(),
                );
            }
        }
        "binary_operator" => {
            let left = node.child_by_field_name("left");
            let right = node.child_by_field_name("right");
            // String building and %-formatting: swapping the operator only makes a TypeError.
            if is_string(left) || is_string(right) {
                return;
            }
            if let Some(operator) = node.child_by_field_name("operator") {
                let swapped = match operator.kind() {
                    "+" => "-",
                    "-" => "+",
                    "*" => "/",
                    "/" => "*",
                    "//" => "*",
                    "%" => "//",
                    "**" => "*",
                    _ => return,
                };
                push(
                    found,
                    file,
                    source,
                    operator,
                    Operator::Arithmetic,
                    swapped.into(),
                );
            }
        }
        "augmented_assignment" => {
            if let Some(operator) = node.child_by_field_name("operator") {
                let swapped = match operator.kind() {
                    "+=" => "-=",
                    "-=" => "+=",
                    "*=" => "/=",
                    "/=" => "*=",
                    _ => return,
                };
                if !is_string(node.child_by_field_name("right")) {
                    push(
                        found,
                        file,
                        source,
                        operator,
                        Operator::Arithmetic,
                        swapped.into(),
                    );
                }
            }
        }
        "boolean_operator" => {
            if let Some(operator) = node.child_by_field_name("operator") {
                let swapped = match operator.kind() {
                    "and" => "or",
                    "or" => "and",
                    _ => return,
                };
                push(
                    found,
                    file,
                    source,
                    operator,
                    Operator::Boolean,
                    swapped.into(),
                );
            }
        }
        "not_operator" => {
            if let Some(argument) = node.child_by_field_name("argument") {
                let kept = text(argument, source).to_string();
                push(found, file, source, node, Operator::Boolean, kept);
            }
        }
        "return_statement" => {
            let value = node.named_child(0);
            if value.is_some_and(|v| v.kind() != "none") {
                push(
                    found,
                    file,
                    source,
                    node,
                    Operator::ReturnValue,
                    "return None".into(),
                );
            }
        }
        "expression_statement" => {
            let only_call = node.named_child_count() == 1
                && node.named_child(0).is_some_and(|c| c.kind() == "call");
            if only_call {
                push(
                    found,
                    file,
                    source,
                    node,
                    Operator::RemovedCall,
                    "pass".into(),
                );
            }
        }
        _ => {}
    }
}

/// Shuffles `items` the same way for the same seed, on every machine (Fisher–Yates over
/// splitmix64: enough to pick reproducibly).
pub fn seeded_shuffle<T>(items: &mut [T], seed: u64) {
    swarm::rng::SplitMix64::new(seed).shuffle(items);
}

/// A bounded, seeded sample of `mutants` (at most `count`), spread over the operators: the
/// candidates are shuffled with the seed, then taken in turn from each operator's list, so a
/// file full of numbers cannot crowd out its comparisons.
pub fn sample(mutants: Vec<Mutant>, count: usize, seed: u64) -> Vec<Mutant> {
    let operators: BTreeSet<Operator> = mutants.iter().map(|m| m.operator).collect();
    let mut lists: Vec<Vec<Mutant>> = operators
        .iter()
        .map(|op| {
            mutants
                .iter()
                .filter(|m| m.operator == *op)
                .cloned()
                .collect()
        })
        .collect();
    for (index, list) in lists.iter_mut().enumerate() {
        seeded_shuffle(list, seed.wrapping_add(index as u64));
        list.reverse();
    }
    let mut chosen = Vec::new();
    while chosen.len() < count && lists.iter().any(|l| !l.is_empty()) {
        for list in &mut lists {
            if chosen.len() < count {
                chosen.extend(list.pop());
            }
        }
    }
    chosen.sort();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn applied(source: &str) -> Vec<String> {
        mutants_of("m.py", source)
            .iter()
            .filter_map(|m| m.apply(source))
            .collect()
    }

    #[test]
    fn each_operator_makes_its_change() {
        let source = "def f(a, b):\n    if a < 3 and not b:\n        log(a)\n        return a + 1.5\n    return None\n";
        let mut got = applied(source);
        got.sort();
        let mut expected = vec![
            source.replace("a < 3", "a >= 3"),
            source.replace("< 3", "< 4"),
            source.replace(" and ", " or "),
            source.replace("not b", "b"),
            source.replace("        log(a)\n", "        pass\n"),
            source.replace("return a + 1.5", "return None"),
            source.replace("a + 1.5", "a - 1.5"),
            source.replace("1.5", "(1.5 + 1.0)"),
        ];
        expected.sort();
        assert_eq!(got, expected);
    }

    #[test]
    fn strings_docstrings_and_formatting_are_left_alone() {
        let source = "\"\"\"Docs: a < b.\"\"\"\ndef f(name):\n    return 'x' + name\n";
        let got: Vec<Operator> = mutants_of("m.py", source)
            .iter()
            .map(|m| m.operator)
            .collect();
        assert_eq!(got, vec![Operator::ReturnValue]);
        assert_eq!(mutants_of("bad.py", "def f(:\n"), Vec::new());
    }

    #[test]
    fn the_sample_is_bounded_seeded_and_spread_over_operators() {
        let source = (0..30)
            .map(|i| format!("X{i} = {i}\n"))
            .chain(["def f(a):\n    return a == 1\n".to_string()])
            .collect::<String>();
        let all = mutants_of("m.py", &source);
        let first = sample(all.clone(), 5, 7);
        assert_eq!(first.len(), 5);
        assert_eq!(first, sample(all.clone(), 5, 7));
        assert_ne!(first, sample(all.clone(), 5, 8));
        let operators: BTreeSet<Operator> = first.iter().map(|m| m.operator).collect();
        assert!(operators.contains(&Operator::Comparison), "{first:?}");
        assert!(operators.contains(&Operator::ReturnValue), "{first:?}");
        assert_eq!(sample(all.clone(), 1000, 1).len(), all.len());
    }
}

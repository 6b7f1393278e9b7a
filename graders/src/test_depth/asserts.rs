//! Whether a project's tests assert concrete values: `assert total == 42`,
//! `self.assertEqual(parse("a|b"), ["a", "b"])`, `assert x == pytest.approx(0.85)` prove
//! behaviour; `assert run() == 0`, `assert out`, `assert "fern" in text` and
//! `assertTrue(path.exists())` only prove that something ran or contains something.

/// What the tests' assertions compare against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssertCount {
    /// Assertions of any kind (`assert` statements and `self.assert*` / `pytest.raises` calls).
    pub total: usize,
    /// Of them, equality with a concrete value.
    pub concrete: usize,
}

/// The unittest methods that compare two values for equality.
const EQUALITY_METHODS: [&str; 8] = [
    "assertEqual",
    "assertEquals",
    "assertAlmostEqual",
    "assertListEqual",
    "assertDictEqual",
    "assertTupleEqual",
    "assertSequenceEqual",
    "assertCountEqual",
];

/// Counts the assertions of one test file.
pub fn count_asserts(source: &str) -> AssertCount {
    let mut count = AssertCount::default();
    let Some(mut parser) = swarm::pyast::parser() else {
        return count;
    };
    let Some(tree) = parser.parse(source, None) else {
        return count;
    };
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "assert_statement" => {
                count.total += 1;
                if node
                    .named_child(0)
                    .is_some_and(|c| concrete_equality(c, source))
                {
                    count.concrete += 1;
                }
            }
            "call" => {
                if let Some(method) = assert_method(node, source) {
                    count.total += 1;
                    let arguments = node
                        .child_by_field_name("arguments")
                        .map(|a| {
                            let mut cursor = a.walk();
                            a.named_children(&mut cursor).collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    if EQUALITY_METHODS.contains(&method.as_str())
                        && arguments.iter().take(2).any(|a| is_concrete(*a, source))
                    {
                        count.concrete += 1;
                    }
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    count
}

/// `self.assertX(...)` or `pytest.raises(...)`: the method's name.
fn assert_method(call: tree_sitter::Node<'_>, source: &str) -> Option<String> {
    let function = call.child_by_field_name("function")?;
    if function.kind() != "attribute" {
        return None;
    }
    let name = function.child_by_field_name("attribute")?;
    let name = source.get(name.byte_range())?;
    (name.starts_with("assert") || name == "raises").then(|| name.to_string())
}

/// `A == B` where one side is a concrete value.
fn concrete_equality(node: tree_sitter::Node<'_>, source: &str) -> bool {
    if node.kind() != "comparison_operator" {
        return false;
    }
    let mut cursor = node.walk();
    let children: Vec<_> = node.children(&mut cursor).collect();
    let is_equality = children.iter().any(|c| c.kind() == "==");
    is_equality
        && children
            .iter()
            .filter(|c| c.is_named())
            .any(|c| is_concrete(*c, source))
}

/// A literal that pins behaviour down: a number other than 0 and 1, a non-empty string, a
/// non-empty collection, `pytest.approx(...)`, a negative number. Not `0`, `1`, `None`,
/// `True`, `False` or an empty value: those are what "it ran" looks like.
fn is_concrete(node: tree_sitter::Node<'_>, source: &str) -> bool {
    let text = source.get(node.byte_range()).unwrap_or("");
    match node.kind() {
        "integer" | "float" => !matches!(text.trim(), "0" | "1" | "0.0" | "1.0"),
        "unary_operator" => node
            .named_child(0)
            .is_some_and(|c| matches!(c.kind(), "integer" | "float")),
        "string" | "concatenated_string" => {
            let unprefixed = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            !unprefixed
                .trim_matches(|c: char| c == '"' || c == '\'')
                .is_empty()
        }
        "list" | "tuple" | "dictionary" | "set" => node.named_child_count() > 0,
        "call" => node
            .child_by_field_name("function")
            .and_then(|f| source.get(f.byte_range()))
            .is_some_and(|f| f.ends_with("approx")),
        "parenthesized_expression" => node.named_child(0).is_some_and(|c| is_concrete(c, source)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn concrete_values_are_told_from_ran_and_contains() {
        let source = r#"
import unittest, pytest

def test_total():
    assert total([1, 2]) == 3
    assert parse("a") == ["a"]
    assert run() == 0
    assert "fern" in output
    assert ok
    assert x == pytest.approx(0.85)

class T(unittest.TestCase):
    def test_it(self):
        self.assertEqual(count(), 104)
        self.assertEqual(status(), 0)
        self.assertTrue(done())
        with pytest.raises(ValueError):
            parse("")
"#;
        assert_eq!(
            count_asserts(source),
            AssertCount {
                total: 10,
                concrete: 4
            }
        );
        assert_eq!(count_asserts("def test(): pass\n"), AssertCount::default());
    }
}

//! Signature-only versions of real code (for contracts and the demo's scripted models):
//! every function body replaced by a placeholder, docstrings kept.

use super::*;

/// `source` with every function and method body replaced by `...` (a leading docstring is
/// kept): the contract a module's code implies. `None` when the grammar cannot be loaded.
pub fn stub_source(source: &str) -> Option<String> {
    let mut parser = parser()?;
    let tree = parser.parse(source, None)?;
    let mut bodies: Vec<(usize, usize)> = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "function_definition" {
            if let Some(body) = node.child_by_field_name("body") {
                let mut start = body.start_byte();
                // Keep a docstring: the stub starts after it.
                if let Some(first) = body.named_child(0) {
                    if first.kind() == "expression_statement"
                        && first.named_child(0).is_some_and(|c| c.kind() == "string")
                        && body.named_child_count() > 1
                    {
                        start = first.end_byte();
                    }
                }
                bodies.push((start, body.end_byte()));
            }
            continue;
        }
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            stack.push(child);
        }
    }
    bodies.sort_unstable();
    let mut out = String::new();
    let mut at = 0;
    for (start, end) in bodies {
        if start < at {
            continue;
        }
        out.push_str(source.get(at..start)?);
        // After a docstring the stub goes on its own line at the docstring's indentation.
        let line_start = source.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
        let indent: String = source
            .get(line_start..start)?
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        if source.get(line_start..start)?.trim().is_empty() {
            out.push_str("...");
        } else {
            out.push_str(&format!("\n{indent}..."));
        }
        at = end;
    }
    out.push_str(source.get(at..)?);
    Some(out)
}

#[cfg(test)]
mod stub_tests {
    use super::*;

    #[test]
    fn stubs_keep_signatures_and_docstrings_and_drop_bodies() {
        let source = "import sys\n\nclass Store:\n    def __init__(self, path):\n        \"\"\"Open.\"\"\"\n        self.path = path\n\n    def add(self, item):\n        def inner():\n            return 1\n        return inner()\n\n\ndef main(argv):\n    print(argv)\n\n\nif __name__ == '__main__':\n    main(sys.argv)\n";
        let stubbed = stub_source(source).unwrap();
        assert_eq!(
            stubbed,
            "import sys\n\nclass Store:\n    def __init__(self, path):\n        \"\"\"Open.\"\"\"\n        ...\n\n    def add(self, item):\n        ...\n\n\ndef main(argv):\n    ...\n\n\nif __name__ == '__main__':\n    main(sys.argv)\n"
        );
        let before: Vec<String> = signatures_of("s.py", source)
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect();
        let after = signatures_of("s.py", &stubbed).unwrap();
        assert_eq!(
            before,
            after.iter().map(|s| s.text.clone()).collect::<Vec<_>>()
        );
        assert!(after
            .iter()
            .filter(|s| s.text.starts_with("def"))
            .all(|s| s.stub));
    }
}

"""The reference's own tests: lexing, parsing errors, each stage, a whole pipeline."""
import unittest

from logfunnel import lexer, parser, stages

LINES = ["GET /a 200 12", "GET /b 404 3", "POST /a 200 7", "GET /a 200 30"]


def run(text, lines):
    for stage in parser.parse(text):
        lines = stage(lines)
    return lines


class Lexing(unittest.TestCase):
    def test_quotes_and_pipes(self):
        found = lexer.tokens('grep "a | b" | count')
        self.assertEqual(found[:2], ["grep", "a | b"])
        self.assertIs(found[2], lexer.PIPE)
        self.assertEqual(found[3], "count")

    def test_an_open_quote_is_an_error(self):
        with self.assertRaises(lexer.LexError):
            lexer.tokens('grep "oops')


class Parsing(unittest.TestCase):
    def test_bad_stages_name_their_number(self):
        with self.assertRaisesRegex(parser.ParseError, "stage 2"):
            parser.parse("count | head 0")
        with self.assertRaisesRegex(parser.ParseError, "unknown stage"):
            parser.parse("frobnicate")


class Stages(unittest.TestCase):
    def test_each_stage(self):
        self.assertEqual(stages.grep(LINES, "404"), ["GET /b 404 3"])
        self.assertEqual(len(stages.grep(LINES, "404", invert=True)), 3)
        self.assertEqual(stages.field(LINES, 2), ["/a", "/b", "/a", "/a"])
        self.assertEqual(stages.count(["x", "y", "x"]), ["x 2", "y 1"])
        self.assertEqual(stages.sort(["b 10", "a 9", "c"], numeric=True), ["a 9", "b 10", "c"])
        self.assertEqual(stages.head(LINES, 1), ["GET /a 200 12"])
        self.assertEqual(stages.format_(["a b"], "{2}-{1}"), ["b-a"])

    def test_a_whole_pipeline(self):
        self.assertEqual(
            run("grep GET | field 2 | count | sort -n -r", LINES),
            ["/a 2", "/b 1"],
        )


if __name__ == "__main__":
    unittest.main()

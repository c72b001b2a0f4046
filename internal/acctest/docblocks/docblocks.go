// Package docblocks reads the fenced blocks of a docs page with the
// guide-test directives that say how tests use them, and compares an
// expected output that a page shows with what a command printed. The
// directives are HTML comments on the lines before a fence, invisible on
// the rendered page:
//
//	<!-- guide-test: expect plan -->
//	```text
//	...
//
// TestGuidesApply (internal/provider) documents the directives it follows;
// other tests find the blocks marked `checked-by <their name>`.
package docblocks

import (
	"bufio"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Block is one fenced block of a page with the directives of the
// guide-test comments between it and the previous block.
type Block struct {
	Line       int // page line of the block's first line of content
	Lang       string
	Text       string
	Directives []Directive
}

// Directive is one guide-test directive: its keyword and the rest.
type Directive struct{ Word, Arg string }

// Directives are the keywords a guide-test comment may use.
var Directives = []string{"skip", "stand-in", "config", "hcl", "apply", "rename", "run", "sql", "expect", "checked-by"}

var (
	fence   = regexp.MustCompile("^\\s*```\\s*([A-Za-z0-9_-]*)")
	comment = regexp.MustCompile(`^\s*<!--\s*guide-test:\s*(.*?)\s*-->\s*$`)
)

// Read returns every fenced block of a Markdown page.
func Read(page string) ([]Block, error) {
	var blocks []Block
	var cur *Block
	var pending []Directive
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := fence.FindStringSubmatch(line)
		switch {
		case cur != nil && m != nil && m[1] == "":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.Text += line + "\n"
		case m != nil:
			cur = &Block{Line: n + 1, Lang: m[1], Directives: pending}
			pending = nil
		default:
			if c := comment.FindStringSubmatch(line); c != nil {
				ds, err := parse(c[1])
				if err != nil {
					return blocks, fmt.Errorf("line %d: %w", n, err)
				}
				pending = append(pending, ds...)
			}
		}
	}
	if cur != nil {
		return blocks, fmt.Errorf("the block of line %d is not closed", cur.Line)
	}
	if len(pending) > 0 {
		return blocks, fmt.Errorf("guide-test directives %v after the last block", pending)
	}
	return blocks, sc.Err()
}

// parse splits a comment's directives at ";", unless what follows a ";"
// does not start with a keyword (a reason may hold a ";").
func parse(text string) ([]Directive, error) {
	var out []Directive
	for _, part := range strings.Split(text, ";") {
		word, arg, _ := strings.Cut(strings.TrimSpace(part), " ")
		word = strings.TrimSuffix(word, ":")
		if !slices.Contains(Directives, word) {
			if len(out) == 0 {
				return nil, fmt.Errorf("unknown guide-test directive %q (known: %s)", word, strings.Join(Directives, ", "))
			}
			out[len(out)-1].Arg += ";" + part
			continue
		}
		out = append(out, Directive{Word: word, Arg: strings.TrimSpace(arg)})
	}
	return out, nil
}

// Has returns the argument of the block's directive word, and whether the
// block has it.
func (b Block) Has(word string) (string, bool) {
	for _, d := range b.Directives {
		if d.Word == word {
			return d.Arg, true
		}
	}
	return "", false
}

// IsHCL: a terraform, hcl or tf block, or a text block marked hcl.
func (b Block) IsHCL() bool {
	_, asHCL := b.Has("hcl")
	return b.Lang == "terraform" || b.Lang == "hcl" || b.Lang == "tf" || asHCL
}

// IsOutput: a block that shows what a command printed or wrote (text,
// console, or no language).
func (b Block) IsOutput() bool {
	return b.Lang == "" || b.Lang == "text" || b.Lang == "console"
}

// CheckedBy returns the blocks of a page that are marked `checked-by test`
// (the test's name, then whatever explains it).
func CheckedBy(page, test string) ([]Block, error) {
	blocks, err := Read(page)
	var out []Block
	for _, b := range blocks {
		if arg, ok := b.Has("checked-by"); ok && strings.TrimRight(strings.Fields(arg + " -")[0], ",.:") == test {
			out = append(out, b)
		}
	}
	return out, err
}

// Match checks that the lines of want appear in got, in order and next to
// each other, trailing spaces aside; a line "..." in want stands for any
// number of lines. The error shows the lines not found, where the closest
// run of lines differs, and the whole output.
func Match(want, got string) error {
	lines := func(s string) []string {
		ls := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		for i := range ls {
			ls[i] = strings.TrimRight(ls[i], " \t")
		}
		return ls
	}
	g := lines(got)
	pos := 0
	for _, seg := range segments(lines(strings.Trim(want, "\n"))) {
		at, best, bestAt := -1, 0, -1
		for i := pos; i+len(seg) <= len(g) && at < 0; i++ {
			n := 0
			for n < len(seg) && g[i+n] == seg[n] {
				n++
			}
			if n == len(seg) {
				at = i
			} else if n > best {
				best, bestAt = n, i
			}
		}
		if at < 0 {
			where := ""
			if bestAt >= 0 {
				where = fmt.Sprintf(" (the closest run of lines, from output line %d, differs at %q: the output has %q)", bestAt+1, seg[best], g[bestAt+best])
			}
			return fmt.Errorf("these lines are not in the output%s:\n%s\nThe output:\n%s", where, strings.Join(seg, "\n"), got)
		}
		pos = at + len(seg)
	}
	return nil
}

// segments splits lines at the lines "...", dropping empty runs.
func segments(lines []string) [][]string {
	var out [][]string
	var seg []string
	for _, l := range append(lines, "...") {
		if strings.TrimSpace(l) != "..." {
			seg = append(seg, l)
			continue
		}
		if len(seg) > 0 {
			out = append(out, seg)
		}
		seg = nil
	}
	return out
}

// MatchWords is Match for text that a program may wrap anew (Terraform
// wraps an error's detail to its width): each run of lines between "..."
// lines must appear in got, in order, with every run of white space,
// line breaks included, taken as one space.
func MatchWords(want, got string) error {
	flat := func(lines []string) string { return strings.Join(strings.Fields(strings.Join(lines, " ")), " ") }
	g := flat([]string{got})
	pos := 0
	for _, seg := range segments(strings.Split(strings.Trim(want, "\n"), "\n")) {
		w := flat(seg)
		at := strings.Index(g[pos:], w)
		if at < 0 {
			return fmt.Errorf("this text is not in the output (white space aside):\n%s\nThe output:\n%s", strings.Join(seg, "\n"), got)
		}
		pos += at + len(w)
	}
	return nil
}

package provider_test

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink matches the target of a Markdown link: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinks checks that every relative link between docs pages leads to
// a page that exists, written as the registry serves it: without ".md"
// (guides link to "troubleshooting-errors", resource pages to
// "../guides/...", the index to "guides/...").
func TestDocsLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	for _, rel := range docsPages(t, root) {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(src), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if strings.HasSuffix(target, ".md") {
				t.Errorf("%s: link %q ends in .md; the registry serves pages without it", rel, m[1])
				continue
			}
			page := path.Join(path.Dir(rel), target) + ".md"
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(page))); err != nil {
				t.Errorf("%s: link %q leads to %s, which does not exist", rel, m[1], page)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Errorf("only %d links checked: is the pattern still right?", checked)
	}
	t.Logf("%d links checked", checked)
}

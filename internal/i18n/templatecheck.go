package i18n

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template/parse"
)

// allowedText are the only words a template may print outside the catalog: punctuation
// and the names of the company and its products, which no language translates.
var allowedText = map[string]bool{
	"·": true, "—": true, "–": true, "/": true, ",": true, ".": true, ":": true, ";": true, "(": true, ")": true,
	"…": true, "|": true, "Meander": true, "Norse": true, "Digital": true, "Products": true,
}

var (
	tagRe  = regexp.MustCompile(`(?s)<!--.*?-->|<code>.*?</code>|<[^>]*>`)
	wordRe = regexp.MustCompile(`[^\s\x00]+`)
	// keyRe finds catalog lookups in Go source: T("key", …) and tr.T("key").
	keyRe = regexp.MustCompile(`\bT\("([a-z0-9_.]+)"`)
)

// TemplateProblems parses a template file (html/template and text/template share the
// parser) and reports every word it prints that is not from the catalog (markup, code
// samples and the allowed words aside), and every t or th call with a key the catalog
// lacks. It is for the catalog tests of the packages that own templates.
func (c *Catalog) TemplateProblems(name, text string) ([]string, error) {
	funcs := map[string]any{}
	for _, f := range []string{"t", "th", "asset", "mailto", "statusLabel", "sourceLabel", "reasonLabel", "kindLabel", "when", "whenPtr", "percent", "deref", "overdue", "hours",
		"and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "slice", "html", "js", "urlquery", "call"} {
		funcs[f] = true
	}
	trees, err := parse.Parse(name, text, "{{", "}}", funcs)
	if err != nil {
		return nil, err
	}
	var problems []string
	for tname, tree := range trees {
		if tree.Root == nil {
			continue
		}
		var out strings.Builder
		var walk func(n parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				if n == nil {
					return
				}
				for _, x := range n.Nodes {
					walk(x)
				}
			case *parse.TextNode:
				out.Write(n.Text)
			case *parse.ActionNode:
				out.WriteByte(0)
				c.checkCalls(n.Pipe, tname, &problems)
			case *parse.IfNode:
				out.WriteByte(0)
				c.checkCalls(n.Pipe, tname, &problems)
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				out.WriteByte(0)
				c.checkCalls(n.Pipe, tname, &problems)
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				out.WriteByte(0)
				c.checkCalls(n.Pipe, tname, &problems)
				walk(n.List)
				walk(n.ElseList)
			case *parse.TemplateNode:
				out.WriteByte(0)
			}
		}
		walk(tree.Root)
		for _, w := range wordRe.FindAllString(tagRe.ReplaceAllString(out.String(), "\x00"), -1) {
			if !allowedText[w] {
				problems = append(problems, fmt.Sprintf("%s: %s prints %q, which is not from the catalog", name, tname, w))
			}
		}
	}
	return problems, nil
}

// checkCalls reports t and th calls in p whose key is not in the catalog.
func (c *Catalog) checkCalls(p *parse.PipeNode, tname string, problems *[]string) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for i, a := range cmd.Args {
			switch a := a.(type) {
			case *parse.IdentifierNode:
				if (a.Ident == "t" || a.Ident == "th") && i+1 < len(cmd.Args) {
					if s, ok := cmd.Args[i+1].(*parse.StringNode); ok && !c.Has(s.Text) {
						*problems = append(*problems, fmt.Sprintf("%s: key %q is not in the catalog", tname, s.Text))
					} else if !ok {
						*problems = append(*problems, fmt.Sprintf("%s: %s takes a key that is not a literal", tname, a.Ident))
					}
				}
			case *parse.PipeNode:
				c.checkCalls(a, tname, problems)
			}
		}
	}
}

// SourceProblems reports every T("key") in the Go files of dir (tests aside) whose key
// the catalog lacks.
func (c *Catalog) SourceProblems(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if !c.Has(m[1]) {
				problems = append(problems, fmt.Sprintf("%s: key %q is not in the catalog", filepath.Base(f), m[1]))
			}
		}
	}
	return problems, nil
}

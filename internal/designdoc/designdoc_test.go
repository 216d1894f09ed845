package designdoc

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// complete are the packages whose every exported identifier (functions, types, methods, vars, consts) must be
// in DESIGN.md.
var complete = []string{"gradcam/explain", "gradcam/heatmap", "gradcam/render", "app"}

// api is one package's exported identifiers: "Name" for package-level ones, "Type.Method" for methods.
type api map[string]bool

func loadAPI(t *testing.T, root, pkg string) api {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join(root, pkg), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatalf("%s: %v", pkg, err)
	}
	out := api{}
	for _, p := range pkgs {
		d := doc.New(p, pkg, doc.AllDecls)
		addValues := func(vs []*doc.Value) {
			for _, v := range vs {
				for _, n := range v.Names {
					if ast.IsExported(n) {
						out[n] = true
					}
				}
			}
		}
		addValues(d.Consts)
		addValues(d.Vars)
		for _, f := range d.Funcs {
			out[f.Name] = ast.IsExported(f.Name)
		}
		for _, ty := range d.Types {
			out[ty.Name] = ast.IsExported(ty.Name)
			addValues(ty.Consts)
			addValues(ty.Vars)
			for _, f := range ty.Funcs {
				out[f.Name] = ast.IsExported(f.Name)
			}
			for _, m := range ty.Methods {
				out[ty.Name+"."+m.Name] = ast.IsExported(m.Name)
			}
		}
	}
	return out
}

var (
	section  = regexp.MustCompile("^## ([a-z/]+)")
	qualSect = regexp.MustCompile(`\band ([a-z/]+) \(`)
	funcRe   = regexp.MustCompile(`^func (?:\((?:\w+ )?\*?(\w+)\) )?(?:(\w+)\.)?(\w+)\(`)
	typeRe   = regexp.MustCompile(`^type (?:(\w+)\.)?(\w+)\b`)
	valueRe  = regexp.MustCompile(`^(?:var|const) (?:(\w+)\.)?((?:\w+, ?)*\w+)\b`)
	methods  = regexp.MustCompile(`^(\w+)\(`)
)

// declared returns, per package of DESIGN.md, the identifiers its code blocks declare.
func declared(t *testing.T, design string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var pkgs []string // the section's packages; the first is the default, others by qualifier
	inCode := false
	add := func(qual, name string) {
		pkg := pkgs[0]
		for _, p := range pkgs {
			if qual != "" && filepath.Base(p) == qual {
				pkg = p
			}
		}
		out[pkg] = append(out[pkg], name)
	}
	for _, line := range strings.Split(design, "\n") {
		if m := section.FindStringSubmatch(line); m != nil {
			pkgs = []string{m[1]}
			for _, q := range qualSect.FindAllStringSubmatch(line, -1) {
				pkgs = append(pkgs, q[1])
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if !inCode || len(pkgs) == 0 {
			continue
		}
		code, _, _ := strings.Cut(line, "//")
		for _, part := range strings.Split(code, "; ") {
			part = strings.TrimSpace(part)
			switch {
			case funcRe.MatchString(part):
				m := funcRe.FindStringSubmatch(part)
				recv := m[1]
				name := m[3]
				if recv != "" {
					name = recv + "." + name
				}
				add(m[2], name)
				if recv != "" { // "func (r *T) A(...); B(...)": B is a method of T too
					for _, more := range strings.Split(code, "; ")[1:] {
						if mm := methods.FindStringSubmatch(strings.TrimSpace(more)); mm != nil {
							add(m[2], recv+"."+mm[1])
						}
					}
				}
			case typeRe.MatchString(part):
				m := typeRe.FindStringSubmatch(part)
				add(m[1], m[2])
			case valueRe.MatchString(part):
				m := valueRe.FindStringSubmatch(part)
				for _, n := range strings.Split(m[2], ",") {
					add(m[1], strings.TrimSpace(n))
				}
			}
		}
	}
	return out
}

// TestDesignMatchesCode: DESIGN.md declares nothing that does not exist, and documents every exported identifier
// of the complete packages.
func TestDesignMatchesCode(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docs", "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	decl := declared(t, string(raw))
	for _, pkg := range complete {
		if len(decl[pkg]) == 0 {
			t.Errorf("DESIGN.md has no API section for %s", pkg)
		}
	}
	for pkg, names := range decl {
		if _, err := os.Stat(filepath.Join(root, pkg)); err != nil {
			continue // e.g. cmd/neucam: no code section
		}
		have := loadAPI(t, root, pkg)
		listed := map[string]bool{}
		for _, n := range names {
			listed[n] = true
			if !have[n] {
				t.Errorf("DESIGN.md, %s: %s does not exist (go doc %s)", pkg, n, pkg)
			}
		}
		if !contains(complete, pkg) {
			continue
		}
		var missing []string
		for n, exported := range have {
			if exported && !listed[n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("DESIGN.md, %s: not documented: %s", pkg, strings.Join(missing, ", "))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

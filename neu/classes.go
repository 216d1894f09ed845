package neu

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
)

// Classes are the six NEU-DET defect classes; a class index is a position in this slice. They are the default
// class list: a dataset whose annotations mostly name these classes (or that has no annotations) uses them.
var Classes = []string{"crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"}

// ClassIndex returns the index of a class name in Classes, or -1 when unknown.
// Case and surrounding spaces are ignored ("Crazing " -> 0) since hand-edited XMLs vary.
func ClassIndex(name string) int { return ClassIndexIn(Classes, name) }

// ClassIndexIn returns the index of name in classes (surrounding spaces ignored; an exact match first, then one
// ignoring case), or -1 when it is not there.
func ClassIndexIn(classes []string, name string) int {
	name = strings.TrimSpace(name)
	for i, c := range classes {
		if c == name {
			return i
		}
	}
	for i, c := range classes {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// LabelFromName returns the NEU class index encoded as a prefix of a file's base name (without extension),
// as in NEU-DET's "<class>_<n>" ("crazing_12", "rolled-in_scale_3"), or -1 when the name starts with no class.
// The class must be followed by the end of the name or a non-letter ("crazing-1", "crazing 1", "crazing1").
func LabelFromName(stem string) int { return LabelFromNameIn(Classes, stem) }

// LabelFromNameIn is LabelFromName for a given class list (case-insensitive; the longest matching class wins).
func LabelFromNameIn(classes []string, stem string) int {
	s := strings.ToLower(stem)
	best := -1
	for i, c := range classes {
		c = strings.ToLower(c)
		if c == "" || !strings.HasPrefix(s, c) || (best >= 0 && len(c) <= len(classes[best])) {
			continue
		}
		if len(s) == len(c) || s[len(c)] < 'a' || s[len(c)] > 'z' {
			best = i
		}
	}
	return best
}

// ClassesFileName is the optional file, at the top of a dataset folder, that fixes its class list and order:
// one class name a line; blank lines and lines starting with '#' are ignored.
const ClassesFileName = "classes.txt"

// ReadClassesFile reads a classes.txt (see ClassesFileName). It fails on an unreadable file, fewer than one
// class, or a name given twice (ignoring case).
func ReadClassesFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("neu: class list %s: %w", path, unwrapPathError(err))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var classes []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if ClassIndexIn(classes, line) >= 0 {
			return nil, fmt.Errorf("neu: class list %s: %q is listed twice", path, line)
		}
		classes = append(classes, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("neu: class list %s: %w", path, err)
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("neu: class list %s names no class", path)
	}
	return classes, nil
}

// vocNames returns the <object><name> values of a VOC annotation (nil when it does not parse).
func vocNames(data []byte) []string {
	var v vocXML
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	dec.CharsetReader = charsetReader
	if dec.Decode(&v) != nil {
		return nil
	}
	names := make([]string, 0, len(v.Objects))
	for _, o := range v.Objects {
		if n := strings.TrimSpace(o.Name); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// DiscoverClasses derives a class list from annotation <name> values (one entry per box): NEU's six classes
// when there are none or when most boxes name a NEU class (names outside them are then dropped, with a warning,
// as before); otherwise every distinct name, sorted (ignoring case; the first spelling met is kept).
func DiscoverClasses(names []string) []string {
	neuBoxes := 0
	for _, n := range names {
		if ClassIndex(n) >= 0 {
			neuBoxes++
		}
	}
	if len(names) == 0 || 2*neuBoxes > len(names) {
		return Classes
	}
	var classes []string
	for _, n := range names {
		if ClassIndexIn(classes, n) < 0 {
			classes = append(classes, n)
		}
	}
	sort.SliceStable(classes, func(i, j int) bool {
		a, b := strings.ToLower(classes[i]), strings.ToLower(classes[j])
		if a != b {
			return a < b
		}
		return classes[i] < classes[j]
	})
	return classes
}

// decideClasses sets b.classes when no list was given: the first classes.txt (all found must agree), else
// DiscoverClasses over the queued annotations' <name> values and class-folder names (one per image).
func (b *builder) decideClasses() error {
	if b.classes != nil {
		return checkClassList(b.classes)
	}
	if len(b.classFiles) > 0 {
		classes, err := ReadClassesFile(b.classFiles[0])
		if err != nil {
			return err
		}
		for _, f := range b.classFiles[1:] {
			other, err := ReadClassesFile(f)
			if err != nil {
				return err
			}
			if !slices.Equal(other, classes) {
				return fmt.Errorf("neu: %s and %s list different classes", b.classFiles[0], f)
			}
		}
		b.classes = classes
		return nil
	}
	var names []string
	for _, p := range b.pending {
		if p.folderClass != "" {
			names = append(names, p.folderClass)
		}
		if p.xml == "" {
			continue
		}
		if data, err := os.ReadFile(p.xml); err == nil { // unreadable files are reported by addImage
			names = append(names, vocNames(data)...)
		}
	}
	b.classes = slices.Clone(DiscoverClasses(names))
	return nil
}

// checkClassList rejects an empty list, blank names and names given twice (ignoring case).
func checkClassList(classes []string) error {
	if len(classes) == 0 {
		return errors.New("neu: empty class list")
	}
	for i, c := range classes {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("neu: class %d of %q is blank", i, classes)
		}
		if ClassIndexIn(classes[:i], c) >= 0 {
			return fmt.Errorf("neu: class %q is listed twice in %q", c, classes)
		}
	}
	return nil
}
